"""A runner (in this process, real NATS and S3) takes dispatched jobs to their outcome."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from google.protobuf import json_format
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.engine import ARTIFACT_NAMES
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import (
    EventRecorder,
    artifacts_of,
    free_port,
    live,
    make_dispatch,
    publish_dispatch,
    work_queue_empty,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIVE_KEYS = {
    "stage", "stage_name", "round", "max_rounds", "agents", "posts", "trades", "prices", "log",
    "backend", "model", "updated_at",
}  # fmt: skip


async def test_a_dispatched_job_runs_to_completed_with_every_artifact_uploaded(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    dispatch = await make_dispatch(object_store, agents=10, rounds=15)
    started = asyncio.get_running_loop().time()
    await publish_dispatch(event_bus, dispatch)

    done = await recorder.outcome(dispatch.job_id, within=30)
    wall = asyncio.get_running_loop().time() - started
    assert isinstance(done, events_pb2.RunnerCompleted), done
    print(f"small tier heuristic job: dispatch -> runner.completed in {wall:.2f}s")

    # All ten artifacts are in the bucket, where the manifest says.
    keys = set(await object_store.list_keys(f"sim-data/{dispatch.job_id}/"))
    assert dict(done.artifacts) == {n: f"sim-data/{dispatch.job_id}/{n}" for n in ARTIFACT_NAMES}
    assert set(done.artifacts.values()) <= keys
    files = await artifacts_of(object_store, dispatch.job_id)
    assert all(json.loads(body) for body in files.values())

    # The completion carries the graph, markets, summary, timings and cost; no goal, no chat text.
    assert done.run_id == dispatch.run_id and done.pod_id == "r1" and done.bucket == object_store.bucket
    assert json.loads(done.result_graph)["nodes"]
    assert done.result_chat_log == "" and done.goal == ""
    markets: Any = json_format.MessageToDict(done.markets)
    assert markets and markets[0]["id"] == "m1"
    summary = json_format.MessageToDict(done.summary)
    assert summary["counts"]["rounds"] == 15 and summary["backend"]["heuristic"] is True
    assert done.backend == "heuristic" and done.gpu_provider == "test-cloud"
    assert done.pipeline_seconds > 0 and done.provision_seconds >= 0
    hours = (done.provision_seconds + done.pipeline_seconds) / 3600
    assert done.gpu_cost_usd == pytest.approx(hours * 3.6, rel=1e-3, abs=1e-6)
    assert done.forecast_days == 30

    # Progress: in order (seq increasing, stages never going back), every stage 0..4 reported.
    progress = recorder.of(dispatch.job_id)
    seqs = [p.seq for p in progress]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    stages = [p.stage for p in progress]
    assert stages == sorted(stages) and set(stages) == {0, 1, 2, 3, 4}
    last = live(progress[-1])
    assert LIVE_KEYS <= set(last)
    assert last["backend"] == "heuristic" and last["max_rounds"] == 15 and last["agents"] == 10
    assert last["prices"] and last["log"]
    with_markets = [p for p in progress if p.HasField("markets") and p.markets.values]
    assert with_markets and with_markets[0].stage >= 2
    assert all(p.run_id == dispatch.run_id and p.pod_id == "r1" for p in progress)

    # Acked once the outcome was out: the work queue is empty.
    assert await work_queue_empty(event_bus)


async def test_invalid_job_config_fails_permanently(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    dispatch = await make_dispatch(object_store, agents=0, rounds=15)
    await publish_dispatch(event_bus, dispatch)
    failed = await recorder.outcome(dispatch.job_id, within=20)
    assert isinstance(failed, events_pb2.RunnerFailed)
    assert failed.kind == events_pb2.FAILURE_KIND_PERMANENT and "target_agents=0" in failed.reason
    assert await work_queue_empty(event_bus)


async def test_llm_endpoint_down_fails_transiently(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    runner = await runner_factory("r1", backend="openai", llm_url=closed, llm_ready_timeout_seconds=2.0)
    dispatch = await make_dispatch(object_store)
    await publish_dispatch(event_bus, dispatch)
    failed = await recorder.outcome(dispatch.job_id, within=30)
    assert isinstance(failed, events_pb2.RunnerFailed)
    assert failed.kind == events_pb2.FAILURE_KIND_TRANSIENT
    assert "unreachable" in failed.reason
    assert not runner.llm_ready
    assert await work_queue_empty(event_bus)
