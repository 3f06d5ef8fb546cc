"""Real services for tests: a fresh PostgreSQL database per run and a private Mosquitto broker.

Nothing here depends on state left by an earlier run: the database name and the broker port are
new each time. In CI (`CI=true`) a missing service is an error, never a skip.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.wait import wait_for

PG_ADMIN_URL = os.environ.get("INVENTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, why: str) -> None:
    """Skip locally; fail in CI, where every service must be there."""
    message = f"{what} unavailable: {why}"
    if in_ci():
        pytest.fail(message + " (CI=true: a missing service is a failure)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    """True once something accepts connections on host:port, False if nothing does within `timeout` s."""
    def accepts() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            return False

    try:
        wait_for(accepts, timeout, f"{host}:{port} to accept connections")
    except AssertionError:
        return False
    return True


@contextmanager
def postgres_database(prefix: str = "inv_test") -> Iterator[str]:
    """Create an empty database named `<prefix>_<random>` and drop it afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", f"{make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}: {exc}")
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def mosquitto_broker() -> Iterator[str]:
    """Start a private Mosquitto on a free loopback port; yield its mqtt:// URL."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        unavailable("Mosquitto", "no mosquitto binary on PATH (Debian package 'mosquitto')")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mosquitto-test-"))
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        # `user`: run as whoever runs the tests (as root Mosquitto would otherwise switch to its own user
        # and could not write to our temporary directory).
        f"listener {port} 127.0.0.1\nuser {getpass.getuser()}\nallow_anonymous true\npersistence true\n"
        f"persistence_location {workdir}/\nmax_queued_messages 100000\nlog_dest file {workdir}/mosquitto.log\n"
    )
    proc = subprocess.Popen([str(binary), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_port("127.0.0.1", port):
            proc.kill()
            log = workdir / "mosquitto.log"
            unavailable("Mosquitto", f"did not start on port {port}: {log.read_text() if log.exists() else ''}")
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
