"""Recipients a routing rule may name, per channel, and the alert kinds it may route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inventory_service.domain.alert_kinds import ALERT_KINDS, DESCRIPTIONS
from inventory_service.domain.recipients import problem

SERVICES = Path(__file__).resolve().parents[3] / "inventory_service" / "services"


@pytest.mark.parametrize("address", ["manager@clinic.test", "first.last+alerts@praxis-mueller.de",
                                     "x@xn--mnchen-3ya.de"])
def test_a_bare_address_is_an_email_recipient(address: str):
    assert problem("email", address) is None


@pytest.mark.parametrize("value", ["not-an-address", "Manager <manager@clinic.test>", "<manager@clinic.test>",
                                   "a@clinic.test, b@clinic.test", "a@clinic.test b@clinic.test", "a@b@clinic.test",
                                   "manager@localhost", "manager@-clinic.test", "a..b@clinic.test", "x@münchen.de",
                                   "jörg@clinic.test", "a@clinic.test\r\nBcc: x@evil.test",
                                   '"a b"@clinic.test', "manager@", "@clinic.test", "x" * 250 + "@clinic.test"])
def test_anything_else_is_not(value: str):
    assert problem("email", value) is not None


@pytest.mark.parametrize("url", ["https://cmms.clinic.test/hooks/alerts", "http://127.0.0.1:8080/x",
                                 "https://[::1]:8443/a?b=c"])
def test_an_http_url_with_a_host_is_a_webhook(url: str):
    assert problem("webhook", url) is None


@pytest.mark.parametrize("url", ["ftp://clinic.test/x", "http://", "http:/x", "clinic.test/hook", "https://x:99999/",
                                 "http://[zz/", "https://clinic.test/a b", "mailto:a@clinic.test",
                                 "https://münchen.de/hook"])
def test_other_urls_are_not(url: str):
    assert problem("webhook", url) is not None


def test_mqtt_recipients_are_topic_names():
    assert problem("mqtt", "alerts") is None
    assert problem("mqtt", "clinic/alerts/fridges") is None
    for bad in ("", "alerts/#", "alerts/+/x", "$SYS/alerts", "a\x00b", "a" * 201, "a\ud800"):
        assert problem("mqtt", bad) is not None, bad


def test_an_internationalised_domain_is_asked_for_in_its_ascii_form():
    assert "'xn--mnchen-3ya.de'" in (problem("email", "x@münchen.de") or "")


def test_an_unknown_channel_has_no_recipients():
    assert problem("sms", "+15551234") is not None


def test_every_kind_the_services_raise_is_an_alert_kind():
    raised = set()
    for path in SERVICES.glob("*.py"):
        for call in re.findall(r"raise_alert\((.*?)\)", path.read_text(), flags=re.S):
            raised.update(re.findall(r"kind=\"(\w+)\"", call))
    assert raised == set(ALERT_KINDS)
    assert set(DESCRIPTIONS) == set(ALERT_KINDS)
