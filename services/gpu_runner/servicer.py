"""`swarmcast.runner.v1.RunnerService`: what this runner is and does right now.

GetRunnerStatus needs a signed-in caller (UNAUTHENTICATED without a token). Which job the runner
works on is an operator's business: for anyone else `current_job_id` and `current_round` are 0
(the job may belong to another user); the rest (backend, model, readiness, throughput) is shown.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
from collections.abc import Callable

import grpc
from swarmcast.runner.v1 import runner_pb2, runner_pb2_grpc

from services.common.identity import require_identity
from services.gpu_runner.handlers import Runner

log = logging.getLogger("swarmcast.gpu_runner.status")


def detect_gpu_name() -> str:
    """The first GPU's name from ``nvidia-smi`` ("" without one, or when it fails)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return ""
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("nvidia-smi failed: %s", exc)
        return ""
    return next((line.strip() for line in out.splitlines() if line.strip()), "")


async def gpu_name() -> str:
    return await asyncio.to_thread(detect_gpu_name)


class RunnerStatusService(runner_pb2_grpc.RunnerServiceServicer):
    def __init__(self, runner: Callable[[], Runner | None]) -> None:
        self._runner = runner

    async def GetRunnerStatus(
        self, request: runner_pb2.GetRunnerStatusRequest, context: grpc.aio.ServicerContext
    ) -> runner_pb2.GetRunnerStatusResponse:
        caller = require_identity()
        runner = self._runner()
        if runner is None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the runner is starting; retry shortly")
        assert runner is not None
        s = runner.status()
        response = runner_pb2.GetRunnerStatusResponse(
            instance_id=s["instance_id"],
            backend=s["backend"],
            model_id=s["model_id"],
            gpu=s["gpu"],
            llm_ready=s["llm_ready"],
            current_job_id=s["current_job_id"],
            current_round=s["current_round"],
            rounds_per_second=s["rounds_per_second"],
            tiers=s["tiers"],
            jobs_completed=s["jobs_completed"],
            concurrency=s["concurrency"],
            context_size=s["context_size"],
            tokens_per_second=s["tokens_per_second"],
            llm_slots=s["llm_slots"],
        )
        response.started_at.FromDatetime(s["started_at"])
        if not caller.is_operator:
            response.current_job_id = 0
            response.current_round = 0
        return response
