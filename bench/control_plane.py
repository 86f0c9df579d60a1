"""Control-plane and whole-job benchmarks (docs/performance.md), against a private stack on free ports.

    python -m bench.control_plane          # prints the figures as JSON (bench.run merges them)
    python -m bench.control_plane --jobs-workers 2   # jobs as 2 worker processes (SWARMCAST_JOBS_WORKERS)

A fresh database (`swarmcast_test_bench_<hex>`, migrated, dropped at the end), a NATS prefix on the
shared server and a moto_server on a free port; auth, jobs and the reporter run as real processes
(`python -m services.<name>`), started like `make up` starts them.

- CreateJob/s: 32 concurrent clients (grpc.aio, 4 channels, each its own TCP connection) creating
  `medium` jobs for a fixed time; no runner serves `medium` here, so the jobs stay queued and the
  rate is the API's own.
- GetJob/s and p99: 32 concurrent clients reading those jobs for a fixed time.
- progress → WatchJob p99: a `runner.progress` event is published on NATS for a job being
  watched; the time until the WatchJob stream delivers that round.
- submit → COMPLETED: a gpu_runner (heuristic backend, tier small) joins; a small job with the
  demo seed is created and GetJob is polled every 50 ms until COMPLETED (median of 3).
The client runs in the same 2-core machine as the services, so every figure includes its cost;
`*_loadgen_cpu_cores` says how much (this process, all threads, over the measured window),
`*_service_cpu_cores` what the jobs service used (its workers included) and
`*_machine_busy_cores` what the whole machine did (other work on it shows there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed, print_figures
from services.common import subjects
from services.common.bus import EventBus
from services.common.clients import channel_options, insecure_channel, jobs_stub

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
CHANNELS = 4
CREATE_SECONDS = 6.0
GET_SECONDS = 8.0
WATCH_EVENTS = 200
WHOLE_JOB_RUNS = 3
SEED_FILE = ROOT / "demos" / "harbor_transit.md"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and its live children (jobs workers)."""
    total = 0.0
    # A process that exits while it is read counts for what was read of it.
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                total += sum(_proc_cpu_seconds(int(child)) for child in f.read().split())
    return total


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores; /proc/stat), for context."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


@dataclass
class CpuUse:
    """Cores used over the measured window: the load generator (this process, every thread),
    the service under load, and the machine in all."""

    service_pid: int | None = None
    figures: dict[str, float] = field(default_factory=dict)

    def _sample(self) -> tuple[float, float, float, float]:
        service = _proc_cpu_seconds(self.service_pid) if self.service_pid else 0.0
        return time.perf_counter(), time.process_time(), service, _machine_busy_seconds()

    async def watch(self, start: float, end: float) -> None:
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        t0, own0, service0, machine0 = self._sample()
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        t1, own1, service1, machine1 = self._sample()
        wall = max(t1 - t0, 1e-9)
        self.figures = {
            "loadgen_cpu_cores": round((own1 - own0) / wall, 2),
            "service_cpu_cores": round((service1 - service0) / wall, 2),
            "machine_busy_cores": round((machine1 - machine0) / wall, 2),
        }

    def named(self, prefix: str) -> dict[str, float]:
        return {f"{prefix}_{name}": value for name, value in self.figures.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _closed_loop(
    addr: str, seconds: float, call: Any, warmup: float = 1.0, cpu: CpuUse | None = None
) -> tuple[int, list[float], float]:
    """CLIENTS coroutines over CHANNELS channels, each calling `call(stub, i)` back to back.

    Returns (calls completed in the measured window, their latencies in s, window length); `cpu`
    records the CPU use over that window."""
    # Each channel its own TCP connection, as separate clients would have (grpc otherwise shares one
    # connection among channels to the same target, and a multi-process server sees one client).
    options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(addr, options=options) for _ in range(CHANNELS)]
    latencies: list[float] = []
    start = time.perf_counter() + warmup
    end = start + seconds
    watching = asyncio.create_task((cpu or CpuUse()).watch(start, end))

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
        await watching
    finally:
        watching.cancel()
        for ch in channels:
            await ch.close()
    return len(latencies), latencies, seconds


async def bench_create(
    addr: str, md: Metadata, created: list[int], service_pid: int | None = None
) -> dict[str, float]:
    async def call(stub: Any, i: int) -> None:
        reply = await stub.CreateJob(
            create_request(evidence_seed(f"Bench seed {i}: the strike enters week {i % 50}."), tier="medium"),
            metadata=md,
            timeout=30,
        )
        created.append(reply.job.id)

    cpu = CpuUse(service_pid)
    count, latencies, window = await _closed_loop(addr, CREATE_SECONDS, call, cpu=cpu)
    return {
        "control_create_job_rps": round(count / window, 1),
        "control_create_job_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        **cpu.named("control_create_job"),
    }


async def bench_get(
    addr: str, md: Metadata, job_ids: list[int], service_pid: int | None = None
) -> dict[str, float]:
    async def call(stub: Any, i: int) -> None:
        await stub.GetJob(jobs_pb2.GetJobRequest(job_id=job_ids[i % len(job_ids)]), metadata=md, timeout=30)

    cpu = CpuUse(service_pid)
    count, latencies, window = await _closed_loop(addr, GET_SECONDS, call, cpu=cpu)
    return {
        "control_get_job_rps": round(count / window, 1),
        "control_get_job_p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "control_get_job_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        **cpu.named("control_get_job"),
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


async def run_all(infra: Infra, work: Path, jobs_workers: int = 1) -> dict[str, Any]:
    stack = PrivateStack(infra.env(work / "run"), work / "logs")
    figures: dict[str, Any] = {"control_jobs_workers": jobs_workers}
    try:
        await stack.launch("auth", "reporter")
        await stack.launch("jobs", SWARMCAST_JOBS_WORKERS=str(jobs_workers))
        md = await stack.register()
        created: list[int] = []
        jobs_pid = stack.procs["jobs"].pid
        figures.update(await bench_create(stack.addr("jobs"), md, created, jobs_pid))
        figures.update(await bench_get(stack.addr("jobs"), md, created[:500], jobs_pid))
        figures.update(await bench_watch(stack, infra, md))
        await stack.launch(
            "gpu_runner", SWARMCAST_RUNNER_TIERS="small", SWARMCAST_RUNNER_INSTANCE_ID="bench-runner"
        )
        figures.update(await bench_whole_job(stack, md))
    finally:
        await asyncio.to_thread(stack.stop_all)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs-workers", type=int, default=1, help="SWARMCAST_JOBS_WORKERS of the jobs service (default 1)"
    )
    args = parser.parse_args()
    print_figures(functools.partial(run_all, jobs_workers=args.jobs_workers), "swarmcast-bench-")


if __name__ == "__main__":
    main()
