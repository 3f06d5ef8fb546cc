"""Schemathesis over the real app, on SQLite and PostgreSQL: nothing it sends gives a 500, an answer
the document does not describe, or an accepted request the document says is invalid.

The run drives the app in-process (WSGI, no network) on the per-run test databases, with a seeded
catalogue and an admin token, through Schemathesis' coverage, fuzzing and stateful phases with a fixed
seed. `make test` runs a short pass (FUZZ_EXAMPLES, default 10 per operation and phase); `make fuzz`
a longer one. Every endpoint added later is in the document, so it is fuzzed too.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.engine import events, from_schema

from inventory_service.db.uow import Database
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.catalogue import seed_catalogue
from tests.support.clock import FrozenClock

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
CHECKS = ("not_a_server_error", "response_schema_conformance", "content_type_conformance", "negative_data_rejection")
PHASES = ("coverage", "fuzzing", "stateful")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def fuzz_config(token: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}"},
        "max-stream-events": 1,  # the station's event stream: its first event is enough to check
        "request-timeout": 10,
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": False}, **{name: {"enabled": True} for name in PHASES}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })


def run(app: Flask, token: str) -> tuple[Counter[str], list[str]]:
    """Run every phase; answer the cases per phase and a line per failed check or error."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=fuzz_config(token))
    cases: Counter[str] = Counter()
    problems: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            cases[event.phase.value] += len(recorder.cases)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    problems.append(f"[{event.phase.value}] {recorder.label}: {check.name}: {failure.title}\n"
                                    f"    {failure.message}\n    {recorder.cases[case_id].value.as_curl_command()}")
        elif isinstance(event, events.NonFatalError):
            problems.append(f"[{event.phase}] {event.label}: error: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            problems.append(f"fatal: {event.exception!r}")
    return cases, problems


def test_schemathesis_finds_nothing(app: Flask, api: Api, world: World, db: Database, clock: FrozenClock,
                                    ctx: Callable[..., Context], db_url: str, capsys: Any) -> None:
    clock.set(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    seed_catalogue(api, world, db, clock, ctx)
    cases, problems = run(app, api.tokens["admin"])
    with capsys.disabled():
        print(f"\nschemathesis on {db_url.split(':')[0]}: seed {SEED}, {EXAMPLES} examples; cases per phase "
              f"{dict(cases)}; {len(problems)} failures")
    assert cases["coverage"] and cases["fuzzing"] and cases["stateful"], cases
    assert problems == [], "\n".join(problems[:40])
