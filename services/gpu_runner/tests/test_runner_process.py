"""Real runner processes (`python -m services.gpu_runner`): a SIGKILLed runner's job is resumed from
its checkpoint by another runner and ends with the same artifacts as an uninterrupted run."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from swarmcast.events.v1 import events_pb2

from services.cli.processes import ManagedProcess, free_address, grpc_probe
from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.server import SERVICE_NAME
from services.gpu_runner.tests.runner_helpers import (
    EventRecorder,
    artifacts_of,
    live,
    make_dispatch,
    publish_dispatch,
    work_queue_empty,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

StartRunner = Callable[..., Awaitable[ManagedProcess]]


@pytest_asyncio.fixture
async def runner_process(
    nats_url: str, nats_prefix: str, s3_endpoint: str, object_store: ObjectStore, tmp_path: Path
) -> AsyncIterator[StartRunner]:
    """``await start(instance)``: a runner process on this test's prefix and bucket, SERVING."""
    procs: list[ManagedProcess] = []

    async def start(instance: str, **env_overrides: str) -> ManagedProcess:
        address = free_address()
        env = {
            **os.environ,
            "SWARMCAST_NATS_URL": nats_url,
            "SWARMCAST_NATS_PREFIX": nats_prefix,
            "SWARMCAST_S3_ENDPOINT": s3_endpoint,
            "SWARMCAST_S3_BUCKET": object_store.bucket,
            "SWARMCAST_RUNNER_ADDR": address,
            "SWARMCAST_AUTH_ADDR": free_address(),  # never dialled: no tokens here
            "SWARMCAST_LLM_BACKEND": "heuristic",
            "SWARMCAST_RUNNER_TIERS": "large",
            "SWARMCAST_RUNNER_INSTANCE_ID": instance,
            # A killed runner's job moves on after 3 s without in-progress acks.
            "SWARMCAST_RUNNER_ACK_WAIT_SECONDS": "3",
            "SWARMCAST_RUNNER_HEARTBEAT_SECONDS": "1",
            "SWARMCAST_RUNNER_PROGRESS_INTERVAL_SECONDS": "0.1",
            "SWARMCAST_LOG_FORMAT": "text",
            **env_overrides,
        }
        command = [sys.executable, "-m", "services.gpu_runner"]
        proc = ManagedProcess(instance, command, tmp_path / f"{instance}.log", env).start()
        procs.append(proc)
        # Raises (with the log's tail) if the runner exits or is not SERVING within 30 s.
        await asyncio.to_thread(proc.wait_ready, grpc_probe(address, service=SERVICE_NAME), 30.0)
        return proc

    yield start
    for proc in procs:
        await asyncio.to_thread(proc.stop, 30.0)  # SIGTERM; SIGKILL after 30 s
        if proc.returncode != -signal.SIGKILL:
            output = proc.log_path.read_text(errors="replace")
            assert proc.returncode == 0, output[-4000:]
            assert "Traceback" not in output, output[-4000:]


async def test_a_sigkilled_runner_costs_at_most_a_round_and_the_artifacts_are_unchanged(
    runner_process: StartRunner, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    first = await runner_process("runner-a")
    dispatch = await make_dispatch(object_store, tier="large", agents=200, rounds=100, random_seed=4242)
    await publish_dispatch(event_bus, dispatch)
    checkpoint = f"sim-data/{dispatch.job_id}/checkpoint"

    def mid_run() -> bool:
        return any(p.stage == 3 and p.round >= 8 for p in recorder.of(dispatch.job_id))

    await recorder.wait_for(mid_run, 60, "runner-a at round 8")
    assert await object_store.exists(checkpoint)
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)
    killed_progress = recorder.of(dispatch.job_id)
    last_reported = max(p.round for p in killed_progress)
    assert all(p.pod_id == "runner-a" for p in killed_progress)
    assert last_reported < 100, "the run finished before the kill; make it longer"

    await runner_process("runner-b")
    done = await recorder.outcome(dispatch.job_id, within=90)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert done.pod_id == "runner-b"
    taken_over = [p for p in recorder.of(dispatch.job_id) if p.pod_id == "runner-b"]
    assert taken_over[0].stage == 3, "runner-b started over instead of resuming"
    resumed_line = next(
        line for p in taken_over for line in live(p)["log"] if line.startswith("resumed from checkpoint")
    )
    resumed_from = int(resumed_line.rsplit(" ", 1)[-1])
    print(f"killed after round {last_reported} was reported; resumed from round {resumed_from}")
    assert resumed_from >= last_reported - 1  # at most the round in progress is lost
    seqs = [p.seq for p in recorder.of(dispatch.job_id)]
    assert seqs == sorted(set(seqs))  # seq keeps increasing across the two runners

    # An uninterrupted run of the same job (same seed) on runner-b: byte-identical artifacts.
    reference = await make_dispatch(object_store, tier="large", agents=200, rounds=100, random_seed=4242)
    await publish_dispatch(event_bus, reference)
    ref_done = await recorder.outcome(reference.job_id, within=90)
    assert isinstance(ref_done, events_pb2.RunnerCompleted), ref_done
    resumed = await artifacts_of(object_store, dispatch.job_id)
    uninterrupted = await artifacts_of(object_store, reference.job_id)
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        assert resumed[name] == uninterrupted[name], f"{name} differs after the resume"
    assert done.result_graph == ref_done.result_graph
    assert await work_queue_empty(event_bus)


async def test_sigterm_releases_the_running_job_to_another_runner_at_once(
    runner_process: StartRunner, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    # A long ack_wait: a quick hand-over can only come from the released (nak'ed) dispatch.
    slow_ack = {"SWARMCAST_RUNNER_ACK_WAIT_SECONDS": "60", "SWARMCAST_RUNNER_SHUTDOWN_GRACE_SECONDS": "1"}
    first = await runner_process("runner-a", **slow_ack)
    # Long enough to be mid-run when SIGTERM comes (far more than the 1 s grace left), short enough
    # to finish well within the outcome wait on a loaded 2-core machine (5 heuristic replicates).
    dispatch = await make_dispatch(object_store, tier="large", agents=120, rounds=200, random_seed=7)
    await publish_dispatch(event_bus, dispatch)
    await recorder.wait_for(
        lambda: any(p.stage == 3 and p.round >= 5 for p in recorder.of(dispatch.job_id)), 60, "round 5"
    )
    await runner_process("runner-b", **slow_ack)
    loop = asyncio.get_running_loop()
    sent = loop.time()
    first.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 20) == 0
    exit_seconds = loop.time() - sent
    await recorder.wait_for(
        lambda: [p for p in recorder.of(dispatch.job_id) if p.pod_id == "runner-b"], 10, "runner-b's pickup"
    )
    handover_seconds = loop.time() - sent
    done = await recorder.outcome(dispatch.job_id, within=180)
    assert isinstance(done, events_pb2.RunnerCompleted) and done.pod_id == "runner-b"
    released = [
        line for p in recorder.of(dispatch.job_id) for line in live(p)["log"] if "released by" in line
    ]
    assert released, "runner-a did not say it released the job"
    print(f"SIGTERM: runner-a exited in {exit_seconds:.2f}s; runner-b resumed {handover_seconds:.2f}s after")
    assert handover_seconds < 10
    assert await work_queue_empty(event_bus)
