"""A mistake on the command line is one line on stderr, with the valid choices, and a non-zero exit:
never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inventory_service.jobs import JOBS

CLI = [sys.executable, "-m", "inventory_service.cli"]
JOB_IDS = [job.id for job in JOBS]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_LOG_LEVEL": "WARNING", **env}
    environ.pop("INVENTORY_DATABASE_URL", None)
    environ.update(env)
    return subprocess.run([*CLI, *args], env=environ, capture_output=True, text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error") or "unknown job" in line]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_unknown_job_names_the_jobs(tmp_path: Path):
    done = run(tmp_path, "scheduler", "--run-once", "nope")
    assert done.returncode == 2
    assert one_line_error(done) == f"unknown job 'nope'; jobs: {', '.join(JOB_IDS)}"


def test_the_schedulers_help_lists_the_jobs(tmp_path: Path):
    done = run(tmp_path, "scheduler", "--help")
    assert done.returncode == 0
    flat = " ".join(done.stdout.split())
    assert all(job in flat for job in JOB_IDS), flat


@pytest.mark.parametrize(("args", "env", "status", "says"), [
    (("audit", "verify"), {}, 1, "run `inventory-service db upgrade`"),
    (("db", "upgrade", "nope"), {}, 2, "Can't locate revision"),
    (("token", "list"), {"INVENTORY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, 1, "error: database:"),
    (("token", "create", "--name", "x" * 300, "--role", "staff"), {}, 1, "at most 100 characters"),
])
def test_bad_input_is_one_line_not_a_traceback(tmp_path: Path, args: tuple[str, ...], env: dict[str, str],
                                               status: int, says: str):
    if args[0] == "token" and args[1] == "create":
        assert run(tmp_path, "db", "upgrade").returncode == 0
    done = run(tmp_path, *args, **env)
    assert done.returncode == status, done.stderr
    assert says in one_line_error(done)
