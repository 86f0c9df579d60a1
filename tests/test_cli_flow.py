"""The `swarmcast` CLI against the running stack (over gRPC): login, submit with a live progress
display, jobs, watch, report, share, logout — each as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from services.common.config import REPO_ROOT
from tests.fixtures.stack import RunningStack

SEED = REPO_ROOT / "demos" / "harbor_transit.md"


def cli(
    stack: RunningStack, config_dir: Path, *args: str, stdin: str = "", timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`swarmcast ARGS` in a subprocess against the stack, with its own config folder."""
    env = {**stack.env, "SWARMCAST_CONFIG_DIR": str(config_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def test_cli_end_to_end(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    email = f"cli-{secrets.token_hex(4)}@example.com"

    login = cli(
        stack, config, "login", "--email", email, "--register", "--password-stdin", stdin="cli password\n"
    )
    assert login.returncode == 0, login.stderr
    assert f"logged in as {email}" in login.stdout
    assert stat.S_IMODE((config / "credentials.json").stat().st_mode) == 0o600

    goal = f"Will Measure T pass? ({secrets.token_hex(3)})"
    submit = cli(
        stack, config, "submit", str(SEED), "--goal", goal, "--tier", "small", "--no-enrich-web", "--watch"
    )
    assert submit.returncode == 0, submit.stdout + submit.stderr
    job_id = int(re.search(r"Submitted job (\d+)", submit.stdout).group(1))  # type: ignore[union-attr]
    # The progress display (a pipe, so one line per change) went through the stages.
    assert re.search(r"^\s+\d+%\s+(waiting for a runner|provisioning|seeding|building)", submit.stdout, re.M)
    assert f"Job {job_id} COMPLETED" in submit.stdout
    assert re.search(r"^\s+m1\s+\d+\.\d%", submit.stdout, re.M), submit.stdout  # a probability
    assert "Verdict:" in submit.stdout and "Key insight:" in submit.stdout

    jobs = cli(stack, config, "jobs")
    assert jobs.returncode == 0 and re.search(rf"^\s*{job_id}\s+COMPLETED\s+small", jobs.stdout, re.M), (
        jobs.stdout
    )

    watch = cli(stack, config, "watch", str(job_id))
    assert watch.returncode == 0 and "100%  completed" in watch.stdout and "Verdict:" in watch.stdout

    report_file = tmp_path / "report.md"
    saved = cli(stack, config, "report", str(job_id), "-o", str(report_file))
    assert saved.returncode == 0 and report_file.read_text().lstrip().startswith("#")
    printed = cli(stack, config, "report", str(job_id))
    assert printed.stdout.strip() == report_file.read_text().strip()

    share = cli(stack, config, "share", str(job_id))
    assert share.returncode == 0
    url = share.stdout.strip()
    assert url.startswith(f"{stack.gateway_url}/share/")
    token = url.rsplit("/", 1)[1]
    assert httpx.get(f"{stack.gateway_url}/api/share/{token}", timeout=10).status_code == 200
    revoke = cli(stack, config, "share", str(job_id), "--revoke")
    assert revoke.returncode == 0
    assert httpx.get(f"{stack.gateway_url}/api/share/{token}", timeout=10).status_code == 404

    missing = cli(stack, config, "watch", "987654321")
    assert missing.returncode == 1 and missing.stderr.startswith("swarmcast: job 987654321 not found")

    assert cli(stack, config, "logout").stdout.strip() == "Logged out."
    assert cli(stack, config, "jobs").returncode == 2


def test_cli_suggests_questions_and_lists_them_when_a_goal_is_refused(
    stack: RunningStack, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    email = f"cli-{secrets.token_hex(4)}@example.com"
    login = cli(
        stack, config, "login", "--email", email, "--register", "--password-stdin", stdin="cli password\n"
    )
    assert login.returncode == 0, login.stderr
    numbered = re.compile(r"^  ([123])\. (Will .+\?)$", re.M)

    suggest = cli(stack, config, "suggest", str(SEED), "--goal", "Predict sentiment about the levy")
    assert suggest.returncode == 0, suggest.stdout + suggest.stderr
    assert "The goal is not a yes/no question about an event" in suggest.stdout
    offered = [q for _, q in numbered.findall(suggest.stdout)]
    assert 1 <= len(offered) <= 3, suggest.stdout
    fine = cli(stack, config, "suggest", str(SEED), "--goal", offered[0])
    assert fine.returncode == 0 and f"The goal is a yes/no question: {offered[0]}" in fine.stdout

    # submit refuses the open-ended goal and lists the questions to ask instead, one a line.
    refused = cli(stack, config, "submit", str(SEED), "--goal", "Predict sentiment about the levy")
    assert refused.returncode == 1 and refused.stderr.startswith("swarmcast: This asks"), refused.stderr
    assert [q for _, q in numbered.findall(refused.stderr)] == offered
    short = tmp_path / "short.md"
    short.write_text("The council votes on the levy in March. The mayor supports it.\n")
    too_short = cli(stack, config, "submit", str(short), "--goal", offered[0])
    assert too_short.returncode == 1
    assert too_short.stderr.strip() == (
        "swarmcast: seed_text is too short: 12 words; a forecast needs at least 30 words of evidence"
    )
    assert "No jobs yet" in cli(stack, config, "jobs").stdout  # nothing was submitted


def test_cli_refreshes_an_expired_access_token(stack: RunningStack, tmp_path: Path) -> None:
    config = tmp_path / "config"
    email = f"cli-{secrets.token_hex(4)}@example.com"
    assert (
        cli(
            stack, config, "login", "--email", email, "--register", "--password-stdin", stdin="cli password\n"
        ).returncode
        == 0
    )
    path = config / "credentials.json"
    # A token that no longer verifies stands in for an expired one: the CLI swaps the refresh token.
    creds = json.loads(path.read_text())
    creds["access_token"] = creds["access_token"][:-4] + "AAAA"
    path.write_text(json.dumps(creds))
    os.chmod(path, 0o600)
    jobs = cli(stack, config, "jobs")
    assert jobs.returncode == 0, jobs.stderr
    assert json.loads(path.read_text())["refresh_token"] != creds["refresh_token"]
