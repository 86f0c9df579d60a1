"""`make demo` as a newcomer runs it: the stack comes up, the demo seed is simulated, and the output
holds the verdict, probabilities and the paths of the report and the web page; a second run
reuses what is there and runs the job on the `local` tier (a real model on the CPU). Then `make down`
stops it all.

The demo's stack uses ports of its own (not the default ports of the session `stack` fixture), a
fresh database that the demo migrates itself, a NATS prefix, the session's S3 server and a temp
run folder and CLI config folder, so it runs beside everything else.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from services.cli.processes import listen_ports
from services.cli.stack import LOCAL_LLM_PROCESSES, PROCESSES, PidRecord, settings_from_env
from services.common.config import REPO_ROOT
from tests.fixtures.db import create_test_database, drop_test_database
from tests.fixtures.stack import delete_nats_streams, stack_env


def _make(target: str, env: dict[str, str], *variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target, *variables],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.timeout(1200)
def test_make_demo(s3_endpoint: str, tmp_path: Path) -> None:
    database_url = create_test_database()  # empty: the demo runs the migrations itself
    run_dir = tmp_path / "run"
    env = stack_env(
        database_url=database_url,
        s3_endpoint=s3_endpoint,
        run_dir=run_dir,
        nats_prefix=f"demo{secrets.token_hex(4)}",
        bucket=f"demo-{secrets.token_hex(4)}",
    )
    auth, jobs, runner, reporter, gateway, local_runner, local_llm = listen_ports(7)
    env.update(
        SWARMCAST_LOCAL_RUNNER_ADDR=f"127.0.0.1:{local_runner}",
        SWARMCAST_LOCAL_LLM_ADDR=f"127.0.0.1:{local_llm}",
        SWARMCAST_AUTH_ADDR=f"127.0.0.1:{auth}",
        SWARMCAST_JOBS_ADDR=f"127.0.0.1:{jobs}",
        SWARMCAST_RUNNER_ADDR=f"127.0.0.1:{runner}",
        SWARMCAST_REPORTER_ADDR=f"127.0.0.1:{reporter}",
        SWARMCAST_GATEWAY_ADDR=f"127.0.0.1:{gateway}",
        SWARMCAST_PUBLIC_URL=f"http://127.0.0.1:{gateway}",
        SWARMCAST_CONFIG_DIR=str(tmp_path / "config"),
    )
    try:
        first = _make("demo", env)
        output = first.stdout + first.stderr
        (tmp_path / "demo-1.log").write_text(output)
        assert first.returncode == 0, output[-6000:]
        assert "Traceback" not in output

        assert "registered demo@swarmcast.example" in output
        assert re.search(r"^\s+\d+%\s+simulating · round \d+/15", output, re.M), output  # progress
        assert re.search(r"^Verdict:\s+\S", output, re.M), output
        assert re.search(r"^\s+m1\s+\d{1,3}\.\d%", output, re.M), output  # a probability
        assert re.search(r"^Key insight:\s+\S", output, re.M), output
        report = Path(re.search(r"^Report:\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
        assert report == run_dir.resolve() / "demo" / "report.md"
        assert report.read_text().lstrip().startswith("#")
        page = re.search(r"^Web page:\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
        assert re.fullmatch(rf"http://127\.0\.0\.1:{gateway}/jobs/\d+", page)
        assert httpx.get(page, timeout=10).status_code == 200  # the UI serves the job page
        share = re.search(r"^Public link:\s+(\S+)", output, re.M).group(1)  # type: ignore[union-attr]
        token = share.rsplit("/", 1)[1]
        shared = httpx.get(f"http://127.0.0.1:{gateway}/api/share/{token}", timeout=10)
        assert shared.status_code == 200 and shared.json()["job"]["status"] == "COMPLETED"
        assert "make down" in output

        # A second run reuses the running stack and the demo account; TIER=local runs the same job
        # on the real model (SmolLM2 on the CPU, through the llama.cpp runner the stack started).
        second = _make("demo", env, "TIER=local")
        again = second.stdout + second.stderr
        (tmp_path / "demo-2.log").write_text(again)
        assert second.returncode == 0, again[-6000:]
        assert again.count("already running") == len(PROCESSES + LOCAL_LLM_PROCESSES)
        assert "logged in as demo@swarmcast.example" in again and "registered" not in again
        assert re.search(r"submitted job \d+ on the local tier", again), again
        assert re.search(r"^\s+m1\s+\d{1,3}\.\d%", again, re.M), again
        assert report.read_text().lstrip().startswith("#")
    finally:
        records = [PidRecord(**json.loads(p.read_text())) for p in (run_dir / "pids").glob("*.json")]
        down = _make("down", env)
        delete_nats_streams(settings_from_env(env))
        drop_test_database(database_url)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [r.name for r in records if r.alive()]
