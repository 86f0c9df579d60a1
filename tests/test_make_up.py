"""`make up` / `make down` as a user runs them: every process answers health on its default port,
and `down` leaves no process and no taken port behind.

Uses the default ports like the session `stack` fixture; tests/fixtures/stack.py runs this
module first so the two never overlap.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.cli.stack import LOCAL_LLM_PROCESSES, PROCESSES, PidRecord, port_in_use, settings_from_env
from services.common.config import REPO_ROOT
from tests.fixtures.stack import DESIGN_ADDRS, delete_nats_streams, stack_env


def _make(target: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _ports() -> list[tuple[str, int]]:
    out = []
    for addr in DESIGN_ADDRS.values():
        host, port = addr.rsplit(":", 1)
        out.append((host, int(port)))
    return out


def _grpc_status(addr: str) -> int:
    with grpc.insecure_channel(addr) as channel:
        return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status


def test_make_up_and_down(database_url: str, s3_endpoint: str, tmp_path: Path) -> None:
    taken = [port for host, port in _ports() if port_in_use(host, port)]
    if taken:
        pytest.fail(f"default ports {taken} are taken (a dev stack? run `make down`); this test needs them")
    run_dir = tmp_path / "run"
    env = stack_env(
        database_url=database_url,
        s3_endpoint=s3_endpoint,
        run_dir=run_dir,
        nats_prefix=f"makeup{secrets.token_hex(4)}",
        bucket=f"makeup-{secrets.token_hex(4)}",
    )
    records: list[PidRecord] = []
    try:
        up = _make("up", env)
        assert up.returncode == 0, f"make up failed:\n{up.stdout}\n{up.stderr}"
        for proc in PROCESSES + LOCAL_LLM_PROCESSES:
            data = json.loads((run_dir / "pids" / f"{proc.name}.json").read_text())
            records.append(PidRecord(**data))
            assert (run_dir / "logs" / f"{proc.name}.log").exists()
        for name, key in [
            ("auth", "SWARMCAST_AUTH_ADDR"),
            ("jobs", "SWARMCAST_JOBS_ADDR"),
            ("gpu_runner", "SWARMCAST_RUNNER_ADDR"),
            ("reporter", "SWARMCAST_REPORTER_ADDR"),
            ("runner_local", "SWARMCAST_LOCAL_RUNNER_ADDR"),  # SERVING only once the model is loaded
        ]:
            assert _grpc_status(env[key]) == health_pb2.HealthCheckResponse.SERVING, name
        gateway = f"http://{env['SWARMCAST_GATEWAY_ADDR']}/api/health"
        with urllib.request.urlopen(gateway, timeout=10) as response:
            assert response.status == 200
        models = f"http://{env['SWARMCAST_LOCAL_LLM_ADDR']}/v1/models"
        with urllib.request.urlopen(models, timeout=10) as response:
            ids = [m["id"] for m in json.loads(response.read())["data"]]
        assert ids == ["HuggingFaceTB/SmolLM2-135M-Instruct"]

        # Idempotent: a second `up` finds everything running and changes nothing.
        again = _make("up", env)
        assert again.returncode == 0, f"second make up failed:\n{again.stdout}\n{again.stderr}"
        assert again.stdout.count("already running") == len(PROCESSES + LOCAL_LLM_PROCESSES)

        status = _make("status", env)
        assert status.returncode == 0, status.stdout + status.stderr
        for proc in LOCAL_LLM_PROCESSES:
            assert any(
                line.startswith(proc.name) and "running" in line for line in status.stdout.splitlines()
            )
    finally:
        down = _make("down", env)
        delete_nats_streams(settings_from_env(env))
    assert down.returncode == 0, f"make down failed:\n{down.stdout}\n{down.stderr}"
    assert not any(rec.alive() for rec in records), [rec.name for rec in records if rec.alive()]
    assert not [port for host, port in _ports() if port_in_use(host, port)]
    assert not list((run_dir / "pids").glob("*.json"))
