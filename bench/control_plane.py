"""Control-plane and whole-job benchmarks (docs/performance.md), against a private stack on free ports.

    python -m bench.control_plane          # prints the figures as JSON (bench.run merges them)

A fresh database (`swarmcast_test_bench_<hex>`, migrated, dropped at the end), a NATS prefix on the
shared server and a moto_server on a free port; auth, jobs and the reporter run as real processes
(`python -m services.<name>`), started like `make up` starts them.

- CreateJob/s: 32 concurrent clients (grpc.aio, 4 channels) creating `medium` jobs for a fixed
  time; no runner serves `medium` here, so the jobs stay queued and the rate is the API's own.
- GetJob/s and p99: 32 concurrent clients reading those jobs for a fixed time.
- progress → WatchJob p99: a `runner.progress` event is published on NATS for a job being
  watched; the time until the WatchJob stream delivers that round.
- submit → COMPLETED: a gpu_runner (heuristic backend, tier small) joins; a small job with the
  demo seed is created and GetJob is polled every 50 ms until COMPLETED (median of 3).
The client runs in the same 2-core machine as the services, so every figure includes its cost.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed, print_figures
from services.common import subjects
from services.common.bus import EventBus
from services.common.clients import insecure_channel, jobs_stub

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
CHANNELS = 4
CREATE_SECONDS = 6.0
GET_SECONDS = 8.0
WATCH_EVENTS = 200
WHOLE_JOB_RUNS = 3
SEED_FILE = ROOT / "demos" / "harbor_transit.md"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _closed_loop(
    addr: str, seconds: float, call: Any, warmup: float = 1.0
) -> tuple[int, list[float], float]:
    """CLIENTS coroutines over CHANNELS channels, each calling `call(stub, i)` back to back.

    Returns (calls completed in the measured window, their latencies in s, window length)."""
    channels = [insecure_channel(addr) for _ in range(CHANNELS)]
    latencies: list[float] = []
    start = time.perf_counter() + warmup
    end = start + seconds

    async def client(n: int) -> None:
        stub = jobs_stub(channels[n % CHANNELS])
        i = 0
        while (now := time.perf_counter()) < end:
            await call(stub, n * 1_000_000 + i)
            i += 1
            done = time.perf_counter()
            if now >= start:
                latencies.append(done - now)

    try:
        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    finally:
        for ch in channels:
            await ch.close()
    return len(latencies), latencies, seconds


async def bench_create(addr: str, md: Metadata, created: list[int]) -> dict[str, float]:
    async def call(stub: Any, i: int) -> None:
        reply = await stub.CreateJob(
            create_request(evidence_seed(f"Bench seed {i}: the strike enters week {i % 50}."), tier="medium"),
            metadata=md,
            timeout=30,
        )
        created.append(reply.job.id)

    count, latencies, window = await _closed_loop(addr, CREATE_SECONDS, call)
    return {
        "control_create_job_rps": round(count / window, 1),
        "control_create_job_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def bench_get(addr: str, md: Metadata, job_ids: list[int]) -> dict[str, float]:
    async def call(stub: Any, i: int) -> None:
        await stub.GetJob(jobs_pb2.GetJobRequest(job_id=job_ids[i % len(job_ids)]), metadata=md, timeout=30)

    count, latencies, window = await _closed_loop(addr, GET_SECONDS, call)
    return {
        "control_get_job_rps": round(count / window, 1),
        "control_get_job_p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "control_get_job_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def bench_watch(stack: PrivateStack, infra: Infra, md: Metadata) -> dict[str, float]:
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        job = (
            await stub.CreateJob(
                create_request(evidence_seed("Watch bench seed: the harbour strike."), tier="medium"),
                metadata=md,
            )
        ).job
        bus = await EventBus.connect(infra.settings(), name="bench-watch")
        call = stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), metadata=md)
        latencies: list[float] = []
        try:
            await asyncio.wait_for(call.read(), 10)  # the current row
            for seq in range(1, WATCH_EVENTS + 1):
                stamp = Timestamp()
                stamp.GetCurrentTime()
                event = events_pb2.RunnerProgress(
                    job_id=job.id, run_id=job.workflow_run_id, pod_id="bench", stage=3,
                    stage_name="simulating", round=seq, max_rounds=WATCH_EVENTS, seq=seq, sent_at=stamp,
                    gpu_provider="local",
                )  # fmt: skip
                sent = time.perf_counter()
                await bus.publish(subjects.runner_progress(job.id), event, msg_id=f"bench-{job.id}-{seq}")
                while True:
                    message = await asyncio.wait_for(call.read(), 10)
                    if message is grpc.aio.EOF:
                        raise RuntimeError("WatchJob ended early")
                    if int(message.job.live_status["round"]) >= seq:
                        break
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.01)
        finally:
            call.cancel()
            await bus.close()
    return {
        "control_progress_to_watch_p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "control_progress_to_watch_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }


async def bench_whole_job(stack: PrivateStack, md: Metadata) -> dict[str, float]:
    seed = (
        SEED_FILE.read_text()
        if SEED_FILE.exists()
        else evidence_seed("The harbour workers' strike enters its third week.")
    )
    walls: list[float] = []
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        for _ in range(WHOLE_JOB_RUNS):
            start = time.perf_counter()
            job = (await stub.CreateJob(create_request(seed, tier="small"), metadata=md, timeout=30)).job
            while True:
                current = (
                    await stub.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), metadata=md, timeout=30)
                ).job
                name = jobs_pb2.JobStatus.Name(current.status)
                if name.endswith("COMPLETED"):
                    break
                if name.endswith(("FAILED", "REFUNDED", "CANCELLED")) or time.perf_counter() - start > 300:
                    raise RuntimeError(f"job {job.id} ended {name}\n{stack.tails()}")
                await asyncio.sleep(0.05)
            walls.append(time.perf_counter() - start)
    return {
        "whole_job_small_heuristic_submit_to_completed_s": round(statistics.median(walls), 2),
        "whole_job_small_heuristic_runs_s": [round(w, 2) for w in walls],  # type: ignore[dict-item]
    }


async def run_all(infra: Infra, work: Path) -> dict[str, Any]:
    stack = PrivateStack(infra.env(work / "run"), work / "logs")
    figures: dict[str, Any] = {}
    try:
        await stack.launch("auth", "jobs", "reporter")
        md = await stack.register()
        created: list[int] = []
        figures.update(await bench_create(stack.addr("jobs"), md, created))
        figures.update(await bench_get(stack.addr("jobs"), md, created[:500]))
        figures.update(await bench_watch(stack, infra, md))
        await stack.launch(
            "gpu_runner", SWARMCAST_RUNNER_TIERS="small", SWARMCAST_RUNNER_INSTANCE_ID="bench-runner"
        )
        figures.update(await bench_whole_job(stack, md))
    finally:
        await asyncio.to_thread(stack.stop_all)
    return figures


def main() -> None:
    print_figures(run_all, "swarmcast-bench-")


if __name__ == "__main__":
    main()
