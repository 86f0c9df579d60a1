"""The `swarmcast` CLI without a stack: clear one-line errors (never a traceback), the credentials
file, and the progress/forecast rendering."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format
from swarmcast.jobs.v1 import jobs_pb2

from services.cli import credentials
from services.cli.render import ProgressPrinter, forecast_lines, fraction_done, progress_text
from services.common.config import REPO_ROOT

# Ports nothing listens on (port 1 is privileged and unused).
DEAD = {f"SWARMCAST_{name}_ADDR": "127.0.0.1:1" for name in ("AUTH", "JOBS", "RUNNER", "REPORTER")}


def swarmcast(
    args: list[str], config_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SWARMCAST_")}
    environ.update(DEAD, SWARMCAST_CONFIG_DIR=str(config_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=REPO_ROOT,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("swarmcast: ") and text in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_login_when_the_stack_is_down(tmp_path: Path) -> None:
    result = swarmcast(
        ["login", "--email", "a@example.com", "--password-stdin"], tmp_path, stdin="password1\n"
    )
    assert_clean_failure(result, 3, "the swarmcast stack is not running")
    assert "swarmcast up" in result.stderr


def test_commands_when_the_stack_is_down(tmp_path: Path) -> None:
    credentials_file = tmp_path / "credentials.json"
    credentials_file.write_text(
        json.dumps(
            {
                "email": "a@example.com",
                "access_token": "a.b.c",
                "refresh_token": "r",
                "auth_addr": DEAD["SWARMCAST_AUTH_ADDR"],
            }
        )
    )
    demo = str(REPO_ROOT / "demos" / "harbor_transit.md")
    for args in (["jobs"], ["watch", "7"], ["report", "7"], ["share", "7"], ["suggest", demo]):
        assert_clean_failure(swarmcast(args, tmp_path), 3, "cannot reach the")


def test_commands_need_a_login(tmp_path: Path) -> None:
    assert_clean_failure(swarmcast(["jobs"], tmp_path), 2, "not logged in")


def test_bad_arguments(tmp_path: Path) -> None:
    missing = swarmcast(["submit", str(tmp_path / "nope.md"), "--goal", "g"], tmp_path)
    assert_clean_failure(missing, 1, "does not exist")
    assert_clean_failure(swarmcast(["suggest", str(tmp_path / "nope.md")], tmp_path), 1, "does not exist")
    huge = swarmcast(["watch", str(2**64)], tmp_path)
    assert huge.returncode == 2 and "outside" in huge.stderr and "Traceback" not in huge.stderr
    no_password = swarmcast(["login", "--email", "a@example.com"], tmp_path)
    assert_clean_failure(no_password, 1, "--password-stdin")


def test_credentials_file_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARMCAST_CONFIG_DIR", str(tmp_path / "cfg"))
    path = credentials.save(
        credentials.Credentials("a@example.com", "access", "refresh", "127.0.0.1:50051", 3)
    )
    assert path == tmp_path / "cfg" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials.load() == credentials.Credentials(
        "a@example.com", "access", "refresh", "127.0.0.1:50051", 3
    )
    assert credentials.clear() and credentials.load() is None


def test_config_dir_defaults_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SWARMCAST_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert credentials.credentials_path() == tmp_path / "swarmcast" / "credentials.json"


def _job(status: str, **live: object) -> jobs_pb2.Job:
    job = jobs_pb2.Job(id=4, goal="Will it pass?", status=jobs_pb2.JobStatus.Value(f"JOB_STATUS_{status}"))
    if live:
        json_format.ParseDict(live, job.live_status)
    return job


def test_progress_line() -> None:
    running = _job("RUNNING", stage=3, stage_name="simulating", round=5, max_rounds=10, prices={"m1": 0.625})
    assert progress_text(running) == "simulating · round 5/10 · m1 62.5%"
    assert 0.25 < fraction_done(running) < 0.85
    assert progress_text(_job("PENDING")) == "waiting for a runner"
    assert fraction_done(_job("COMPLETED")) == 1.0
    out = io.StringIO()
    printer = ProgressPrinter(out=out, tty=True)
    printer.update(running)
    printer.finish()
    assert out.getvalue().startswith("\r[") and "round 5/10" in out.getvalue()


def test_forecast_lines_from_the_structured_result() -> None:
    job = _job("COMPLETED")
    job.key_insight = "Close race."
    job.result_structured = json.dumps(
        {
            "verdict": {"sentence": "Likely to pass.", "label": "likely"},
            "probabilities": {"goal": 0.61, "markets": {"m1": 0.64, "m2": 0.3}},
            "markets": [{"id": "m1", "question": "Will it pass?"}, {"id": "m2", "question": "Early?"}],
            "backend": {"heuristic": True},
        }
    )
    text = "\n".join(forecast_lines(job))
    assert "Verdict:     Likely to pass." in text
    assert "  m1    64.0%  Will it pass?" in text and "  m2    30.0%  Early?" in text
    assert "agents' own belief in the goal: 61.0%" in text
    assert "Key insight: Close race." in text and "heuristic" in text


def test_forecast_lines_lead_with_the_goal_forecast_and_its_interval() -> None:
    job = jobs_pb2.Job(id=3, goal="Will it pass?", status=jobs_pb2.JobStatus.Value("JOB_STATUS_COMPLETED"))
    job.key_insight = "63.0% (80% interval 55.0–70.0%): likely, across 5 replicate runs."
    job.result_structured = json.dumps(
        {
            "schema_version": 2,
            "forecast": {
                "goal": {
                    "market_id": "m1",
                    "probability": 0.63,
                    "interval": [0.55, 0.7],
                    "level": 0.8,
                    "replicates": 5,
                    "market": 0.61,
                    "belief": 0.66,
                },
                "markets": {
                    "m1": {"probability": 0.63, "interval": [0.55, 0.7], "market": 0.61, "belief": 0.66},
                    "m2": {"probability": 0.3, "interval": [0.25, 0.36], "market": 0.3, "belief": 0.31},
                },
                "method": "…",
            },
            "verdict": {"sentence": "Likely to pass.", "label": "likely", "low_evidence": True},
            "probabilities": {"goal": 0.63, "goal_belief": 0.58, "markets": {"m1": 0.63, "m2": 0.3}},
            "markets": [{"id": "m1", "question": "Will it pass?"}, {"id": "m2", "question": "Early?"}],
            "backend": {"heuristic": True},
        }
    )
    text = "\n".join(forecast_lines(job))
    assert "Forecast:    63.0% (80% interval 55.0–70.0%) · likely · 5 replicate runs" in text
    assert "low evidence" in text
    assert "  m1    63.0%  55.0–70.0%  Will it pass?" in text and "  m2    30.0%  25.0–36.0%  Early?" in text
    assert "agents' own belief in the goal (first replicate run): 58.0%" in text
