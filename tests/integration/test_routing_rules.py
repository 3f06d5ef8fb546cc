"""Routing rules that could never fire are refused; an unrouted alert is visible and found later (issue point 6)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from inventory_service.config import Settings
from inventory_service.db.uow import Database
from inventory_service.domain.alert_kinds import ALERT_KINDS
from inventory_service.jobs import deliver_alerts
from inventory_service.services import alerts, delivery
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.test_alert_delivery import Inbox
from tests.integration.test_openapi import assert_matches_spec
from tests.support.services import free_port

RULES = "/api/v1/routing-rules"


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield f"smtp://127.0.0.1:{controller.port}?from=alerts@clinic.test", inbox
    controller.stop()


def raise_one(db: Database, ctx: Callable[..., Context], kind: str = "reorder", key: str = "reorder:1",
              resolve: bool = False) -> int:
    with db.unit_of_work() as uow:
        a = alerts.raise_alert(uow, ctx(), kind=kind, severity="warning", key=key,
                               subject=f"{kind}: something", message="It happened.")
        if resolve:
            alerts.resolve_alert(uow, ctx(), key)
        uow.commit()
        return a.id


def deliver(db: Database, ctx: Callable[..., Context], settings: Settings) -> int:
    return deliver_alerts(db, ctx("job:deliver_alerts", "job"), settings)


def deliveries(api: Api, alert_id: int) -> list[dict]:
    return api.get(f"/api/v1/alerts/{alert_id}/deliveries", expect=200).json["items"]


def spec(api: Api) -> dict:
    return api.client.get("/api/v1/openapi.json").get_json()


def test_the_rule_of_the_issue_is_refused_naming_the_kind_and_the_address(api: Api):
    r = api.post(RULES, {"kinds": ["excurion"], "channel": "email", "recipients": ["not-an-address"]},
                 role="manager", expect=422)
    error = r.json["error"]
    assert error["code"] == "validation_failed"
    assert "'excurion'" in error["details"]["json"]["kinds"]["0"][0]
    assert "'not-an-address'" in error["details"]["json"]["recipients"]["0"][0]
    assert_matches_spec(spec(api), RULES, "post", r)
    assert api.get(RULES, role="manager", expect=200).json["items"] == []


def test_a_rule_without_a_name_is_named_after_what_it_routes(api: Api):
    r = api.post(RULES, {"kinds": ["excursion"], "channel": "email", "recipients": ["manager@clinic.test"]},
                 role="manager", expect=201)
    assert r.json["name"] == "excursion by email"
    assert_matches_spec(spec(api), RULES, "post", r)


def test_the_kinds_are_an_enum_in_the_document_and_an_endpoint_any_token_reads(api: Api):
    document = spec(api)
    rule_in = document["components"]["schemas"]["RuleIn"]["properties"]["kinds"]
    assert rule_in["items"]["enum"] == list(ALERT_KINDS)
    r = api.get("/api/v1/alert-kinds", role="staff", expect=200)
    assert [k["kind"] for k in r.json["items"]] == list(ALERT_KINDS)
    assert all(k["description"] for k in r.json["items"])
    assert_matches_spec(document, "/api/v1/alert-kinds", "get", r)
    assert api.client.get("/api/v1/alert-kinds").status_code == 401


@pytest.mark.parametrize(("channel", "field", "value"), [
    ("email", "recipients", "Manager <manager@clinic.test>"),
    ("email", "recipients", "a@clinic.test, b@clinic.test"),
    ("email", "escalate_to", "doctor"),
    ("webhook", "recipients", "ftp://cmms.clinic.test/hook"),
    ("webhook", "recipients", "https://"),
    ("webhook", "escalate_to", "doctor@clinic.test"),
    ("mqtt", "recipients", "alerts/#"),
    ("mqtt", "recipients", "clinic/+/alerts"),
    ("mqtt", "recipients", "$SYS/alerts"),
    ("mqtt", "recipients", "alerts\u0000"),
    ("mqtt", "recipients", "a" * 201),
])
def test_recipients_must_fit_the_channel(api: Api, channel: str, field: str, value: str):
    good = {"email": "manager@clinic.test", "webhook": "https://cmms.clinic.test/hook", "mqtt": "alerts"}[channel]
    body: dict[str, Any] = {"channel": channel, "recipients": [good], field: [value]}
    error = api.post(RULES, body, role="manager", expect=422).json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"]["json"], error


def test_valid_recipients_of_each_channel_are_taken(api: Api):
    api.post(RULES, {"channel": "email", "recipients": ["nurse@clinic.test"], "escalate_after_min": 30,
                     "escalate_to": ["doctor@clinic.test"]}, role="manager", expect=201)
    api.post(RULES, {"channel": "webhook", "recipients": ["http://127.0.0.1:8080/alerts"]}, role="manager", expect=201)
    mqtt = api.post(RULES, {"channel": "mqtt"}, role="manager", expect=201).json
    assert mqtt["recipients"] == ["alerts"]
    api.post(RULES, {"channel": "email"}, role="manager", expect=422)  # nobody to send to


def test_a_rule_for_a_location_that_does_not_exist_is_refused(api: Api):
    error = api.post(RULES, {"channel": "mqtt", "location_id": 999}, role="manager", expect=422).json["error"]
    assert error["code"] == "unknown_location"
    api.post(RULES, {"channel": "mqtt", "location_id": 10**20}, role="manager", expect=422)
    api.post(RULES, {"channel": "mqtt", "recipients": ["alerts/\ud800"]}, role="manager", expect=422)
    api.post(RULES, {"channel": "webhook", "recipients": ["https://münchen.de/hook"]}, role="manager", expect=422)


def test_a_changed_rule_is_checked_as_a_whole(api: Api):
    rule = api.post(RULES, {"channel": "email", "recipients": ["nurse@clinic.test"]}, role="manager",
                    expect=201).json
    path = f"{RULES}/{rule['id']}"
    error = api.call("PATCH", path, json={"channel": "webhook"}, role="manager", expect=422).json["error"]
    assert error["code"] == "bad_recipient"
    assert error["details"]["problems"][0]["value"] == "nurse@clinic.test"
    error = api.call("PATCH", path, json={"kinds": ["fridge"]}, role="manager", expect=422).json["error"]
    assert "'fridge'" in error["details"]["json"]["kinds"]["0"][0]
    error = api.call("PATCH", path, json={"recipients": ["nurse"]}, role="manager", expect=422).json["error"]
    assert error["code"] == "bad_recipient" and "'nurse'" in error["message"]
    changed = api.call("PATCH", path, json={"channel": "webhook", "recipients": ["https://cmms.clinic.test/h"],
                                            "kinds": ["recall", "expiry"]}, role="manager", expect=200)
    assert (changed.json["channel"], changed.json["kinds"]) == ("webhook", ["recall", "expiry"])
    assert_matches_spec(spec(api), "/api/v1/routing-rules/{rule_id}", "patch", changed)
    got = api.get(path, role="manager", expect=200)
    assert got.json == changed.json
    assert_matches_spec(spec(api), "/api/v1/routing-rules/{rule_id}", "get", got)
    api.call("PATCH", f"{RULES}/999", json={"name": "x"}, role="manager", expect=404)
    api.get(f"{RULES}/999", role="manager", expect=404)


def test_rules_are_the_managers(api: Api):
    rule = api.post(RULES, {"channel": "mqtt"}, role="manager", expect=201).json
    for method, path in (("GET", f"{RULES}/{rule['id']}"), ("PATCH", f"{RULES}/{rule['id']}"),
                         ("DELETE", f"{RULES}/{rule['id']}"), ("GET", f"{RULES}/unrouted"),
                         ("GET", f"{RULES}/{rule['id']}/history"), ("POST", RULES)):
        r = api.call(method, path, json={}, role="staff")
        assert (r.status_code, r.get_json()["error"]["code"]) == (403, "forbidden"), (method, path)


def test_an_unrouted_alert_is_listed_and_gets_its_delivery_once_a_rule_matches(api: Api, db, ctx, settings,
                                                                                 smtp_server, clock):
    url, inbox = smtp_server
    s = replace(settings, smtp_url=url)
    alert_id = raise_one(db, ctx)
    deliver(db, ctx, s)
    [marker] = deliveries(api, alert_id)
    assert (marker["recipient"], marker["state"]) == ("unrouted", "failed")
    listed = api.get(f"{RULES}/unrouted", role="manager", expect=200)
    assert [(a["id"], a["kind"], a["subject"]) for a in listed.json["items"]] == [(alert_id, "reorder",
                                                                                    "reorder: something")]
    assert_matches_spec(spec(api), "/api/v1/routing-rules/unrouted", "get", listed)
    with db.unit_of_work(write=False) as uow:
        assert delivery.unrouted_alert_ids(uow, [alert_id, alert_id + 1]) == {alert_id}
    [flagged] = api.get("/api/v1/alerts?unrouted=true", expect=200).json["items"]
    assert (flagged["id"], flagged["unrouted"]) == (alert_id, True)
    assert api.get("/api/v1/alerts?unrouted=false", expect=200).json["items"] == []

    api.post(RULES, {"name": "fridge alarms", "kinds": ["excursion"], "channel": "email",
                     "recipients": ["nurse@clinic.test"]}, role="manager", expect=201)
    deliver(db, ctx, s)
    assert [d["state"] for d in deliveries(api, alert_id)] == ["failed"]  # that rule does not match
    clock.advance(minutes=5)
    rule = api.post(RULES, {"name": "stock to the manager", "kinds": ["reorder"], "channel": "email",
                            "recipients": ["manager@clinic.test"]}, role="manager", expect=201).json
    assert deliver(db, ctx, s) == 1
    [mail] = inbox.messages
    assert mail.rcpt_tos == ["manager@clinic.test"]
    marker, sent = deliveries(api, alert_id)
    assert (marker["id"], marker["state"]) == (1, "rerouted")
    assert f"rule {rule['id']} (stock to the manager)" in marker["last_error"]
    assert clock().isoformat() in marker["last_error"]
    assert marker["log"][-1]["result"] == marker["last_error"]
    assert (sent["rule_id"], sent["state"], sent["recipient"]) == (rule["id"], "sent", "manager@clinic.test")
    assert api.get(f"{RULES}/unrouted", role="manager", expect=200).json["items"] == []
    assert [a["unrouted"] for a in api.get("/api/v1/alerts", expect=200).json["items"]] == [False]
    with db.unit_of_work(write=False) as uow:
        assert delivery.unrouted_alert_ids(uow, [alert_id]) == set()
    deliver(db, ctx, s)
    assert len(inbox.messages) == 1 and len(deliveries(api, alert_id)) == 2  # routed once


def test_changing_a_rule_to_match_routes_the_unrouted_alert(api: Api, db, ctx, settings):
    rule = api.post(RULES, {"kinds": ["expiry"], "channel": "mqtt"}, role="manager", expect=201).json
    alert_id = raise_one(db, ctx)
    deliver(db, ctx, settings)
    assert [d["state"] for d in deliveries(api, alert_id)] == ["failed"]
    api.call("PATCH", f"{RULES}/{rule['id']}", json={"kinds": ["expiry", "reorder"]}, role="manager", expect=200)
    deliver(db, ctx, settings)
    marker, routed = deliveries(api, alert_id)
    assert marker["state"] == "rerouted"
    assert (routed["rule_id"], routed["channel"], routed["recipient"]) == (rule["id"], "mqtt", "alerts")


def test_an_alert_resolved_before_a_rule_matched_stays_unrouted(api: Api, db, ctx, settings):
    alert_id = raise_one(db, ctx, resolve=True)
    deliver(db, ctx, settings)
    api.post(RULES, {"kinds": ["reorder"], "channel": "mqtt"}, role="manager", expect=201)
    deliver(db, ctx, settings)
    [marker] = deliveries(api, alert_id)
    assert marker["state"] == "failed"  # on record as never delivered; no late news of a past condition
    assert api.get(f"{RULES}/unrouted", role="manager", expect=200).json["items"] == []  # not active
    with db.unit_of_work(write=False) as uow:
        assert delivery.unrouted_alert_ids(uow, [alert_id]) == {alert_id}
