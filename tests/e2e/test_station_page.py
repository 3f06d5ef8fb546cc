"""The station page in a real headless browser (Debian's chromium and chromedriver).

The service runs in-process under waitress (the real WSGI server, over loopback HTTP) on a migrated
SQLite database; scans are recorded through the same service call the serial reader uses, and the
page must show them, and the mode they set, without a reload. The event stream is cut every couple
of seconds here, so the page's reconnect (Last-Event-ID / ?after=) is exercised too.

Needs `selenium` (dev dependency) and /usr/bin/chromium + /usr/bin/chromedriver
(scripts/install-browser.sh): skipped locally without them, a failure under CI=true.

The words are checked as staff read them (what happened – what to do, dates in words), and
screenshots are taken at 390×844 and 1280×900 (UPDATE_SCREENSHOTS=1: into docs/screenshots/ for the README).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Response
from sqlalchemy import update

from devices.barcodes import parse_scan
from devices.serial import ScannerConfig
from inventory_service.api import events, scanning
from inventory_service.app import create_app
from inventory_service.config import Settings
from inventory_service.db import migrate
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Scan
from inventory_service.db.uow import Database
from inventory_service.services import auth, catalog, scans, stations, stock
from inventory_service.services.context import Context
from tests.support.services import unavailable

pytestmark = pytest.mark.slow

STATION = "sr-1"
GLOVES_GTIN = "09501101530003"
UNKNOWN_GTIN = "04006381333931"
SCREENSHOT = Path(tempfile.gettempdir()) / "station.png"
# The README's screenshots are refreshed with UPDATE_SCREENSHOTS=1; other runs keep theirs in a temporary
# directory, so a test run leaves the working tree as it was.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
STREAM_SECONDS = 2.0  # the page must reconnect after each of these
EXPIRED = date(2020, 6, 30)  # lot G0, in stock but long past its expiry


def gs1(gtin: str, lot: str, expiry: str = "270131") -> str:
    """A GS1 DataMatrix as a scanner sends it: ]d2, (01) GTIN, (17) expiry, (10) lot."""
    return f"]d201{gtin}17{expiry}10{lot}"


@dataclass
class Service:
    base: str
    token: str
    db: Database
    streams: list[int | None]  # `after` of every events request, in order

    def ctx(self, actor: str = "station:" + STATION, source: str = "station") -> Context:
        return Context(actor=actor, source=source, now=datetime.now(UTC), tz=ZoneInfo("UTC"))

    def scan(self, text: str, *, rejected: str | None = None, warnings: tuple[str, ...] = ()) -> dict[str, Any]:
        """Record `text` as the reader would; `warnings` are added to the scan in the same transaction
        (for warnings the scan path does not give yet, such as expires_soon)."""
        c = self.ctx()
        with self.db.unit_of_work() as uow:
            row = scans.record(uow, c, STATION, parse_scan(text, today=c.today), rejected=rejected)
            if warnings:
                row.warnings = [*row.warnings, *warnings]
                uow.session.execute(update(Scan).where(Scan.id == row.id).values(warnings=row.warnings))
            uow.commit()
            return scans.scan_to_dict(row)

    def port(self, state: str, detail: str = "") -> None:
        with self.db.unit_of_work() as uow:
            stations.set_port_state(uow, self.ctx("reader", "station"), STATION, state, detail)
            uow.commit()


def _serve(app: Any) -> tuple[str, Callable[[], None]]:
    """Run `app` under waitress in a daemon thread; return its base URL and a stop function that
    closes every socket and waits for the worker threads."""
    from waitress import create_server, wasyncore

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        wasyncore.close_all(server._map)  # open streams see the disconnect on their next write

    thread = threading.Thread(target=loop, name="waitress", daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join(timeout=10)
        server.task_dispatcher.shutdown(timeout=10)

    return f"http://127.0.0.1:{server.effective_port}", close


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    migrate.upgrade(url)
    db = Database(make_engine(url))
    streams: list[int | None] = []

    def short_stream(scanner_id: str, after: int | None, timeout: float) -> Response:
        streams.append(after)
        return events.scan_events(scanner_id, after, min(timeout, STREAM_SECONDS))

    monkeypatch.setattr(scanning, "scan_events", short_stream)
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.5)  # a closed browser is noticed at the next write

    settings = Settings(data_dir=tmp_path, database_url=url, timezone="UTC", mqtt_url="mqtt://127.0.0.1:1")
    app = create_app(settings, db=db, mqtt_status=lambda: False)
    if "web" not in app.blueprints:  # until the app factory registers it
        from inventory_service.web import web
        app.register_blueprint(web)

    setup = Context(actor="setup", source="cli", now=datetime.now(UTC), tz=settings.tz)
    with db.unit_of_work() as uow:
        _, token = auth.create_token(uow, setup, name="station-screen", role="staff")
        room = catalog.create_location(uow, setup, code="SR", name="Stockroom", kind="stockroom")
        gloves = catalog.create_item(uow, setup, name="Nitrile gloves M", gtins=[GLOVES_GTIN])
        stock.receive(uow, setup, item_id=gloves.id, location_id=room.id, lot_number="G1",
                      expiry=date(2027, 1, 31), quantity=50)
        # Received while still good (an expired lot is refused at receipt), long past its expiry now.
        received_then = Context(actor="setup", source="cli", now=datetime(2020, 6, 1, 12, tzinfo=UTC), tz=settings.tz)
        stock.receive(uow, received_then, item_id=gloves.id, location_id=room.id, lot_number="G0",
                      expiry=EXPIRED, quantity=5)
        stations.register(uow, setup, ScannerConfig(id=STATION, url="loop://", location="SR", mode="receive"))
        stations.set_port_state(uow, setup, STATION, "open", "")
        uow.commit()

    base, close = _serve(app)
    try:
        yield Service(base, token, db, streams)
    finally:
        close()
        db.dispose()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service as DriverService
    except ImportError:
        unavailable("selenium", "pip install selenium (a dev dependency)")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(chromium).exists() and Path(driver_path).exists()):
        unavailable("Chromium", "no chromium/chromedriver (Debian packages chromium, chromium-driver: "
                                "scripts/install-browser.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations are logged there
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1920,1080", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def text(driver: Any, element_id: str) -> str:
    return str(driver.execute_script("return document.getElementById(arguments[0]).textContent", element_id))


def shown_scans(driver: Any) -> list[tuple[str, str]]:
    """(outcome class, visible text) of each row, top to bottom."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#scans li')].map(li => [li.className, li.innerText])")
    return [(next(c for c in cls.split() if c.startswith("outcome-")), txt) for cls, txt in rows]


def wait_for(driver: Any, what: str, check: Callable[[], Any], timeout: float = 8.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda _: check(), message=what)


def test_the_station_page_follows_scans_live(service: Service, browser: Any):
    page = f"{service.base}/stations/{STATION}"
    browser.get(f"{page}#token={service.token}")
    wait_for(browser, "first state", lambda: text(browser, "mode-name") == "RECEIVE")
    wait_for(browser, "live", lambda: text(browser, "connection") == "Live")
    assert service.token not in browser.current_url  # the fragment is gone from the address bar
    assert browser.execute_script("return sessionStorage.getItem('inventory.token')") == service.token
    assert (text(browser, "station-id"), text(browser, "location")) == (STATION, "SR")
    assert "mode-receive" in browser.find_element("id", "mode").get_attribute("class")
    assert not browser.find_element("id", "port").is_displayed()  # connected: no warning
    assert browser.find_element("id", "no-scans").is_displayed()

    service.scan("#MODE:CONSUME")
    wait_for(browser, "consume mode", lambda: text(browser, "mode-name") == "CONSUME")
    assert "mode-consume" in browser.find_element("id", "mode").get_attribute("class")
    assert "Done card: back to receive" in text(browser, "details")

    service.scan(gs1(GLOVES_GTIN, "G1"))
    service.scan("ZZ-NOT-A-LABEL")
    unknown = service.scan(gs1(UNKNOWN_GTIN, "X9"))
    assert unknown["outcome"] == "pending"
    wait_for(browser, "four scans", lambda: len(shown_scans(browser)) == 4)
    rows = shown_scans(browser)
    assert [outcome for outcome, _ in rows] == ["outcome-pending", "outcome-rejected", "outcome-applied",
                                                "outcome-command"]
    assert "Unknown product – set it aside for the manager" in rows[0][1] and f"GTIN {UNKNOWN_GTIN}" in rows[0][1]
    assert "Barcode not understood – scan the product label or a station card" in rows[1][1]
    assert "Took out 1 × Nitrile gloves M" in rows[2][1] and "Lot G1" in rows[2][1]
    assert "Exp 31 Jan 2027" in rows[2][1]  # a date in words
    assert "Consume mode" in rows[3][1]
    assert [word for word in browser.execute_script(
        "return [...document.querySelectorAll('#scans .outcome')].map(e => e.textContent)")] == [
        "Set aside", "Not done", "Done", "Card"]
    assert [icon for icon in browser.execute_script(
        "return [...document.querySelectorAll('#scans .icon')].map(e => e.textContent)")] == ["…", "✗", "✓", "➜"]
    assert not browser.find_element("id", "no-scans").is_displayed()
    wait_for(browser, "announcement", lambda: "Unknown product" in text(browser, "announcer"))
    assert browser.find_element("id", "announcer").get_attribute("aria-live") == "polite"

    # The stream ends every STREAM_SECONDS: the page comes back after the last scan it saw, and
    # what is scanned meanwhile still shows up, once.
    wait_for(browser, "a reconnect after the last scan", lambda: unknown["id"] in service.streams,
             timeout=STREAM_SECONDS + 8)
    assert service.streams[0] == 0  # the page loaded the (empty) history itself, then asked for newer scans
    service.scan("#QTY:5")
    service.scan("\x00\x00", rejected="noise")
    service.port("disconnected", "[Errno 2] could not open port /dev/ttyUSB0")
    wait_for(browser, "qty card", lambda: "Next scan counts 5" in text(browser, "details"))
    wait_for(browser, "six scans", lambda: len(shown_scans(browser)) == 6)
    wait_for(browser, "port warning", lambda: browser.find_element("id", "port").is_displayed())
    assert text(browser, "port").startswith("Scanner unplugged or busy – check the cable")
    assert "For the manager: [Errno 2] could not open port /dev/ttyUSB0" in text(browser, "port")
    assert "Nothing readable came in – scan again" in shown_scans(browser)[0][1]
    ids = browser.execute_script("return [...document.querySelectorAll('#scans li')].map(li => li.dataset.scanId)")
    assert len(ids) == len(set(ids))
    browser.save_screenshot(str(SCREENSHOT))

    # Forgetting the token stops the feed and asks for one; a wrong one is refused, a right one resumes.
    browser.find_element("id", "forget-token").click()
    assert browser.find_element("id", "token-form").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('inventory.token')") is None
    assert (shown_scans(browser), text(browser, "mode-name"), text(browser, "location")) == ([], "…", "–")
    browser.find_element("id", "token-input").send_keys("inv_wrong\n")
    wait_for(browser, "refusal",
             lambda: text(browser, "token-error") == "That token was refused – check it and try again.")
    browser.find_element("id", "token-input").send_keys(service.token + "\n")
    wait_for(browser, "live again", lambda: text(browser, "connection") == "Live")
    service.scan("#DONE")
    wait_for(browser, "back home", lambda: text(browser, "mode-name") == "RECEIVE")
    assert len(shown_scans(browser)) == 7


def visible_problems(driver: Any) -> list[str]:
    """Texts cut off or sticking out: a scan's facts or headline wider than its box, or the page wider
    than the screen (a sideways scroll)."""
    return list(driver.execute_script("""
        const cut = [...document.querySelectorAll('#scans .facts, #scans .headline, #port, #details li')]
          .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText);
        if (document.documentElement.scrollWidth > window.innerWidth + 1) cut.push('page scrolls sideways');
        return cut;
    """))


def csp_violations(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_page_speaks_to_staff_in_plain_words(service: Service, browser: Any, tmp_path: Path):
    browser.get(f"{service.base}/stations/{STATION}#token={service.token}")
    wait_for(browser, "live", lambda: text(browser, "connection") == "Live")

    service.scan("#MODE:CONSUME")
    expired = service.scan(gs1(GLOVES_GTIN, "G0", EXPIRED.strftime("%y%m%d")))
    assert expired["reason"] == "lot_expired"
    assert service.scan("+A123BJC5D6E71X")["reason"] == "bad_check_character"
    assert service.scan("#LOC:NOPE")["reason"] == "unknown_location"
    service.scan(gs1(UNKNOWN_GTIN, "X9"))
    service.scan("#MODE:RECEIVE")
    soon = service.scan(gs1(GLOVES_GTIN, "G7", "270131"), warnings=("expires_soon:2027-01-31",))
    assert soon["outcome"] == "applied"
    wait_for(browser, "seven scans", lambda: len(shown_scans(browser)) == 7)
    rows = [row for _, row in shown_scans(browser)]
    assert "Expires soon (31 Jan 2027) – use first" in rows[0] and "Exp 31 Jan 2027" in rows[0]
    assert "Receive mode" in rows[1]
    assert "Unknown product – set it aside for the manager" in rows[2]
    assert "No location NOPE – scan a location label from the list" in rows[3]
    assert "Label unclear – scan again slowly" in rows[4]
    assert "Expired – do not receive or use; set it aside for the manager" in rows[5]
    assert "Exp 30 Jun 2020" in rows[5] and "Lot G0" in rows[5]
    assert "Consume mode" in rows[6]
    assert not any("/api" in row or "POST" in row for row in rows)
    assert browser.execute_script(
        "return ['2026-11-30', '2026-01-01', '2026-13-01', null, '30.11.2026'].map(window.stationPage.dateInWords)"
    ) == ["30 Nov 2026", "1 Jan 2026", "2026-13-01", "", "30.11.2026"]

    with service.db.unit_of_work() as uow:  # what station_setup does for a definition it cannot use
        stations.misconfigure(stations.get_scanner(uow, STATION), service.ctx(), "no location with code 'NOPE'")
        uow.commit()
    wait_for(browser, "misconfigured", lambda: "set up wrongly" in text(browser, "port"))
    assert text(browser, "port") == ("Scanner set up wrongly – tell the manager"
                                     "For the manager: no location with code 'NOPE'")
    assert "port-misconfigured" in browser.find_element("id", "port").get_attribute("class")

    shots = DOCS_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, (width, height) in VIEWPORTS.items():
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        browser.execute_script("window.scrollTo(0, 0)")
        wait_for(browser, f"{name} layout", lambda w=width: browser.execute_script("return window.innerWidth") == w)
        browser.save_screenshot(str(shots / f"station-{name}.png"))
        assert visible_problems(browser) == [], name
    with service.db.unit_of_work() as uow:
        stations.set_port_state(uow, service.ctx(), STATION, "disconnected", "[Errno 16] Device or resource busy")
        uow.commit()
    wait_for(browser, "unplugged", lambda: "unplugged" in text(browser, "port"))
    browser.save_screenshot(str(shots / "station-unplugged-desktop.png"))
    assert csp_violations(browser) == []


def test_the_page_shows_nothing_without_a_token_and_parses_split_events(service: Service, browser: Any):
    browser.get(f"{service.base}/stations/{STATION}")
    assert browser.find_element("id", "token-form").is_displayed()
    assert text(browser, "mode-name") == "…" and text(browser, "scans") == ""
    assert service.streams == []

    # Events split anywhere across network chunks, CRLF split between two chunks, comments, retry.
    pieces = ["retry: 1500\r", "\n\r\nid: 7\nev", 'ent: scan\ndata: {"a":', "1}\n", "\n: keepalive\n\n",
              "data: x\r\ndata: y\r\n\r\n", "data: no end yet"]
    got = browser.execute_script("""
        const seen = [];
        const parser = new window.stationPage.SSEParser((e) => seen.push([e.type, e.data, e.id]));
        for (const piece of arguments[0]) parser.feed(piece);
        return [seen, parser.retry];
    """, pieces)
    assert got == [[["scan", '{"a":1}', "7"], ["message", "x\ny", "7"]], 1500]


def test_the_page_and_its_files_are_served_locally(service: Service):
    import urllib.request

    with urllib.request.urlopen(f"{service.base}/stations/{STATION}", timeout=10) as r:
        html = r.read().decode()
        csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "http" not in html.replace(service.base, "")  # nothing from another host
    for name in ("station.js", "station.css"):
        with urllib.request.urlopen(f"{service.base}/static/web/{name}", timeout=10) as r:
            assert r.status == 200 and r.read()
