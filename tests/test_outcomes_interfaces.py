"""Outcomes through the interfaces a person uses: the CLI (`resolve`, `outcome`, `track-record`)
and the gateway's REST routes, against the running stack."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from services.common.config import REPO_ROOT
from tests.fixtures.stack import RunningStack
from tests.test_cli_flow import cli

SEED = REPO_ROOT / "demos" / "harbor_transit.md"


def _submit(stack: RunningStack, config: Path) -> int:
    goal = f"Will Measure T pass? ({secrets.token_hex(3)})"
    submit = cli(
        stack, config, "submit", str(SEED), "--goal", goal, "--tier", "small", "--no-enrich-web", "--watch"
    )
    assert submit.returncode == 0 and "COMPLETED" in submit.stdout, submit.stdout + submit.stderr
    return int(re.search(r"Submitted job (\d+)", submit.stdout).group(1))  # type: ignore[union-attr]


def test_cli_resolves_a_job_and_shows_the_track_record(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    email = f"resolve-{secrets.token_hex(4)}@example.com"
    login = cli(
        stack, config, "login", "--email", email, "--register", "--password-stdin", stdin="pw resolve 1\n"
    )
    assert login.returncode == 0, login.stderr

    empty = cli(stack, config, "track-record")
    assert empty.returncode == 0 and "track record is empty" in empty.stdout

    job_id = _submit(stack, config)
    early = cli(stack, config, "resolve", str(job_id), "yes", "--date", "2001-01-01")
    assert early.returncode == 1 and "before the job was created" in early.stderr, early.stderr
    unknown = cli(stack, config, "resolve", str(job_id), "no", "--market", "m9=yes")
    assert unknown.returncode == 1 and "no market 'm9'" in unknown.stderr
    garbled = cli(stack, config, "resolve", str(job_id), "maybe")
    assert garbled.returncode == 2 and "not yes, no or annulled" in garbled.stderr
    missing = cli(stack, config, "outcome", str(job_id))
    assert missing.returncode == 1 and "no recorded outcome" in missing.stderr

    today = datetime.now(UTC).date().isoformat()
    resolved = cli(stack, config, "resolve", str(job_id), "no", "--source", "https://example.org/result")
    assert resolved.returncode == 0, resolved.stderr
    assert f"Job {job_id} resolved NO on {today}, source https://example.org/result" in resolved.stdout
    row = re.search(r"^\s+m1\*\s+NO\s+(\d+\.\d)%\s+(\d\.\d{3})", resolved.stdout, re.M)
    assert row, resolved.stdout
    p, shown_brier = float(row.group(1)) / 100, float(row.group(2))
    assert abs(shown_brier - p**2) < 0.002  # Brier of a NO outcome is p²
    assert "Settlement (replicate 0" in resolved.stdout

    shown = cli(stack, config, "outcome", str(job_id))
    assert shown.returncode == 0 and shown.stdout == resolved.stdout

    record = cli(stack, config, "track-record")
    assert record.returncode == 0
    assert "Your track record: 1 resolved goals (0 annulled)" in record.stdout
    assert re.search(rf"^\s+{job_id}\s+{today}\s+NO\s+", record.stdout, re.M), record.stdout
    assert cli(stack, config, "track-record", "--all").returncode == 1  # not an operator


def _session(stack: RunningStack) -> httpx.Client:
    http = httpx.Client(base_url=stack.gateway_url, timeout=60)
    email = f"rest-{secrets.token_hex(4)}@example.com"
    answer = http.post("/api/auth/register", json={"email": email, "password": "rest outcome pw"})
    assert answer.status_code == 201, answer.text
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return http


def test_rest_routes_record_and_refuse_with_the_right_status(stack: RunningStack, tmp_path: Path) -> None:
    owner, intruder = _session(stack), _session(stack)
    created = owner.post(
        "/api/jobs",
        json={
            "seed_text": SEED.read_text(),
            "goal": "Will Measure T pass?",
            "tier": "small",
            "enrich_web": False,
        },
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["id"]
    url = f"/api/jobs/{job_id}/outcome"

    # not COMPLETED yet (or just finishing): a conflict, never a 500
    early = owner.put(url, json={"outcome": "YES"})
    assert early.status_code in (409, 200), early.text
    deadline = datetime.now(UTC).timestamp() + 120
    while owner.get(f"/api/jobs/{job_id}").json()["job"]["status"] != "COMPLETED":
        assert datetime.now(UTC).timestamp() < deadline, "the job did not complete"
        time.sleep(0.5)

    bad = [
        ({"outcome": "MAYBE"}, 422),
        ({"outcome": "YES", "resolved_on": "yesterday"}, 422),
        ({"outcome": "YES", "resolved_on": "2001-01-01"}, 422),
        ({"outcome": "YES", "markets": {"m9": "NO"}}, 422),
        ({"outcome": "YES", "source_url": "file:///etc/passwd"}, 422),
        ({"outcome": "YES", "colour": "blue"}, 422),
    ]
    for body, status in bad:
        answer = owner.put(url, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["message"], answer.text
    assert intruder.put(url, json={"outcome": "YES"}).status_code == 404
    assert owner.get(url).json() == {"outcome": None}  # nothing was written

    recorded = owner.put(url, json={"outcome": "YES", "source_url": "https://example.org/r"})
    assert recorded.status_code == 200, recorded.text
    outcome = recorded.json()["outcome"]
    assert outcome["outcome"] == "YES" and outcome["editable"] is True
    goal = next(m for m in outcome["markets"] if m["is_goal"])
    assert (
        goal["brier"] == (1 - goal["probability"]) ** 2
        or abs(goal["brier"] - (1 - goal["probability"]) ** 2) < 1e-12
    )
    assert owner.get(url).json() == recorded.json()
    assert intruder.get(url).status_code == 404

    mine = owner.get("/api/track-record").json()
    assert mine["resolved"] == 1 and mine["entries"][0]["job_id"] == job_id
    assert len(mine["forecast"]["calibration"]) == 10
    theirs = intruder.get("/api/track-record").json()
    assert theirs["resolved"] == 0 and theirs["forecast"]["brier"] is None
    assert owner.get("/api/admin/track-record").status_code == 403
    spec = owner.get("/api/openapi.json").json()
    assert {"/api/jobs/{job_id}/outcome", "/api/track-record"} <= set(spec["paths"])
