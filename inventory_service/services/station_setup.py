"""Stations set up from INVENTORY_SCANNERS when an ingest process starts, and the problems found.

One bad definition must not stop the others, nor the service (the cold-chain ingest runs beside the
scanners): each unusable definition is stored as a problem of this process (`instance`) and on its
station (`config_error`, port_state `misconfigured`), for `GET /api/v1/scanners` and the health check
to show, whichever process answers them. Its reader is not started; the others are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from devices.serial import DefinitionProblem, ScannerConfig, ScannerDefinitions

from ..db.models import Scanner, ScannerConfigProblem
from ..db.uow import UnitOfWork
from .context import Context
from .stations import location_by_code, misconfigure, register


@dataclass(frozen=True)
class Setup:
    """What a start made of the definitions: the stations whose readers may start, in order; every
    problem (stored); and warnings that do not stop a station (for the log)."""

    ready: tuple[ScannerConfig, ...]
    problems: tuple[DefinitionProblem, ...]
    warnings: tuple[str, ...] = ()


def set_up_stations(uow: UnitOfWork, ctx: Context, definitions: ScannerDefinitions, *, instance: str) -> Setup:
    """Register every usable definition and store every problem, replacing what this instance stored
    at its previous start (so a definition fixed since, or removed from the file, is no longer a
    problem). A station whose definition was a problem last time and is now gone from the file is
    left `stopped`, without its config_error. When the variable as a whole cannot be read, nothing
    is known of its stations: their earlier problems are kept beside the new one.
    """
    t = ScannerConfigProblem
    previous = set(uow.session.scalars(select(t.scanner_id).where(t.instance == instance, t.scanner_id.is_not(None))))
    forget = delete(t).where(t.instance == instance)
    if not definitions.list_read:
        forget = forget.where(t.scanner_id.is_(None))
    uow.session.execute(forget)

    problems = list(definitions.problems)
    for problem in definitions.problems:
        if problem.scanner_id is not None:
            _misconfigured(uow, ctx, problem)
    ready: list[ScannerConfig] = []
    warnings: list[str] = []
    for config in definitions.configs:
        scanner = register(uow, ctx, config)
        if scanner.config_error is not None:
            problems.append(DefinitionProblem(config.id, scanner.config_error, config.id, config.url))
            continue
        ready.append(config)
        if location_by_code(uow, config.location) is None:
            # Only a station's first definition places it: it keeps its location, but the file is wrong.
            warnings.append(f"scanner {config.id}: no location with code {config.location!r}; the station stays "
                            "where it is (a definition's location applies only when the station is created)")

    if definitions.list_read:
        gone = previous - {c.id for c in definitions.configs} - {p.scanner_id for p in problems}
        if gone:
            uow.session.execute(update(Scanner).where(Scanner.id.in_(sorted(gone)), Scanner.config_error.is_not(None))
                                .values(config_error=None, port_state="stopped", port_changed_at=ctx.now,
                                        port_detail="no longer in INVENTORY_SCANNERS"))
    uow.session.flush()
    stored = {row.key for row in uow.session.scalars(select(t).where(t.instance == instance))}
    for problem in problems:
        if problem.key not in stored:
            uow.session.add(t(instance=instance, key=problem.key[:100], scanner_id=problem.scanner_id,
                              reason=problem.reason[:2000], recorded_at=ctx.now))
    uow.session.flush()
    return Setup(tuple(ready), tuple(problems), tuple(warnings))


def _misconfigured(uow: UnitOfWork, ctx: Context, problem: DefinitionProblem) -> None:
    """The station named by an unusable definition, marked as such (created without a location when
    new, so it is listed with its error; an existing one keeps its location and last good settings)."""
    assert problem.scanner_id is not None
    scanner = uow.session.get(Scanner, problem.scanner_id)
    if scanner is None:
        scanner = Scanner(id=problem.scanner_id, url=problem.url, port_settings={}, location_id=None,
                          home_mode="receive", mode="receive", count_open=False, updated_at=ctx.now)
        uow.session.add(scanner)
    misconfigure(scanner, ctx, problem.reason)


def config_problems(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every stored configuration problem, as the health check lists them: `component` "scanner",
    `id` (the station id, `INVENTORY_SCANNERS[<index>]` or `INVENTORY_SCANNERS`), `reason`, and the
    `instance` whose INVENTORY_SCANNERS it is."""
    t = ScannerConfigProblem
    rows = uow.session.execute(select(t.instance, t.key, t.reason).order_by(t.instance, t.key))
    return [{"component": "scanner", "id": key, "reason": reason, "instance": instance}
            for instance, key, reason in rows]
