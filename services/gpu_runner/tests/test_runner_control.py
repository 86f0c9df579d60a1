"""Cancellation, heartbeats, shutdown release and the per-runner job budget (real NATS and S3)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.engine.checkpoint import load_world
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import (
    EventRecorder,
    artifacts_of,
    make_dispatch,
    publish_cancel,
    publish_dispatch,
    work_queue_empty,
)
from tests.fakes.openai_server import FakeOpenAIServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture
async def slow_llm() -> AsyncIterator[FakeOpenAIServer]:
    # 10 agents on 8 slots at 150 ms: about 0.3 s per round.
    async with FakeOpenAIServer(concurrency=8, latency_ms=150) as server:
        yield server


async def test_cancel_mid_run_stops_within_one_round(
    runner_factory: RunnerFactory,
    event_bus: EventBus,
    object_store: ObjectStore,
    recorder: EventRecorder,
    slow_llm: FakeOpenAIServer,
) -> None:
    await runner_factory("r1", backend="openai", llm_url=slow_llm.base_url)
    dispatch = await make_dispatch(object_store, agents=10, rounds=40)
    await publish_dispatch(event_bus, dispatch)
    running = await recorder.wait_for(
        lambda: [p for p in recorder.of(dispatch.job_id) if p.stage == 3 and p.round >= 3],
        30,
        "round 3",
    )
    loop = asyncio.get_running_loop()
    seen_round = max(p.round for p in recorder.of(dispatch.job_id))
    cancelled_at = loop.time()
    await publish_cancel(event_bus, dispatch.job_id)

    failed = await recorder.outcome(dispatch.job_id, within=10)
    stop_seconds = loop.time() - cancelled_at
    assert isinstance(failed, events_pb2.RunnerFailed), failed
    assert failed.kind == events_pb2.FAILURE_KIND_PERMANENT and failed.reason == "cancelled by user"
    assert running and failed.last_round <= seen_round + 1, (seen_round, failed.last_round)
    # One round takes ~0.3 s here; the cancel lands mid-round and stops the LLM calls at once.
    assert stop_seconds < 1.5, stop_seconds
    print(f"cancel -> runner.failed in {stop_seconds:.2f}s (cancel seen at round {seen_round})")

    # The engine really stopped: no more LLM calls, no later checkpoint, the dispatch is acked.
    calls = slow_llm.requests
    await asyncio.sleep(1.0)
    assert slow_llm.requests == calls
    worlds, _, _ = load_world(await object_store.get_bytes(f"sim-data/{dispatch.job_id}/checkpoint"))
    assert worlds[0].round <= failed.last_round + 1
    assert not recorder.of(dispatch.job_id, "completed")
    assert await work_queue_empty(event_bus)


async def test_a_dispatch_cancelled_before_pickup_is_refused_without_running(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    dispatch = await make_dispatch(object_store)
    await publish_cancel(event_bus, dispatch.job_id)
    await publish_dispatch(event_bus, dispatch)
    await runner_factory("r1")
    failed = await recorder.outcome(dispatch.job_id, within=15)
    assert isinstance(failed, events_pb2.RunnerFailed) and failed.reason == "cancelled by user"
    assert failed.kind == events_pb2.FAILURE_KIND_PERMANENT
    assert recorder.of(dispatch.job_id) == []  # it never started
    assert await work_queue_empty(event_bus)


async def test_heartbeats_flow_while_rounds_are_slow(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    async with FakeOpenAIServer(concurrency=4, latency_ms=500) as llm:
        # Round updates are coalesced to one per 30 s: what arrives in between is heartbeats.
        await runner_factory(
            "r1", backend="openai", llm_url=llm.base_url, heartbeat_seconds=0.5, progress_interval_seconds=30
        )
        dispatch = await make_dispatch(object_store, agents=8, rounds=3)
        await publish_dispatch(event_bus, dispatch)
        done = await recorder.outcome(dispatch.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted)
    progress = [r for r in recorder.progress if r.event.job_id == dispatch.job_id]
    assert len(progress) >= 8
    gaps = sorted(b.at - a.at for a, b in itertools.pairwise(progress))
    # Every gap is about one heartbeat; the bound leaves room for a loaded 2-core test machine.
    assert gaps[len(gaps) // 2] < 0.7 and gaps[-1] < 2.5, gaps
    seqs = [r.event.seq for r in progress]
    assert seqs == sorted(set(seqs))


async def test_shutdown_releases_a_long_job_and_another_runner_resumes_it(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    first = await runner_factory("r1", shutdown_grace_seconds=0.5)
    dispatch = await make_dispatch(object_store, agents=200, rounds=100, random_seed=99)
    await publish_dispatch(event_bus, dispatch)
    await recorder.wait_for(
        lambda: [p for p in recorder.of(dispatch.job_id) if p.stage == 3 and p.round >= 5], 30, "round 5"
    )
    second = await runner_factory("r2")  # idle until the first lets go
    loop = asyncio.get_running_loop()
    stopping = loop.time()
    await first.stop()
    stop_seconds = loop.time() - stopping
    resumed = await recorder.wait_for(
        lambda: [p for p in recorder.of(dispatch.job_id) if p.pod_id == "r2"], 10, "r2's pickup"
    )
    handover = loop.time() - stopping
    done = await recorder.outcome(dispatch.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted) and done.pod_id == "r2"
    assert resumed[0].stage == 3  # it resumed rather than starting over
    released_at = max(p.round for p in recorder.of(dispatch.job_id) if p.pod_id == "r1")
    assert 5 <= released_at < 100
    print(f"shutdown: released in {stop_seconds:.2f}s, resumed on r2 {handover:.2f}s after SIGTERM")
    assert handover < 5.0

    # The same job, uninterrupted, on the second runner: the very same bytes.
    reference = await make_dispatch(object_store, agents=200, rounds=100, random_seed=99)
    await publish_dispatch(event_bus, reference)
    ref = await recorder.outcome(reference.job_id, within=60)
    assert isinstance(ref, events_pb2.RunnerCompleted)
    assert await artifacts_of(object_store, dispatch.job_id) == await artifacts_of(
        object_store, reference.job_id
    )
    assert second.jobs_completed == 2


async def test_one_job_at_a_time_across_tiers(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    runner = await runner_factory("r1", tiers="small,medium")
    big = await make_dispatch(object_store, tier="medium", agents=200, rounds=40)
    small = await make_dispatch(object_store, tier="small", agents=10, rounds=15)
    await publish_dispatch(event_bus, big)
    await recorder.wait_for(lambda: recorder.of(big.job_id), 20, "the medium job's pickup")
    await publish_dispatch(event_bus, small)
    first = await recorder.outcome(big.job_id, within=60)
    second = await recorder.outcome(small.job_id, within=60)
    assert isinstance(first, events_pb2.RunnerCompleted) and isinstance(second, events_pb2.RunnerCompleted)
    small_start = min(p.sent_at.ToDatetime() for p in recorder.of(small.job_id))
    assert small_start >= first.completed_at.ToDatetime()
    # The runner counts a job once its run has wound down, which is just after its outcome is out.
    for _ in range(100):
        if runner.jobs_completed == 2:
            break
        await asyncio.sleep(0.1)
    assert runner.jobs_completed == 2 and await work_queue_empty(event_bus)
