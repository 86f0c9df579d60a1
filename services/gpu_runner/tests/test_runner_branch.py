"""Round checkpoints, scheduled events and what-if branches through a real runner (NATS, S3).

A branch is dispatched like the jobs service's BranchJob does it: a new job id with the parent's
seed, goal, tier and random seed, `branch` pointing at the parent's round checkpoint by a presigned
GET URL, and the injected events in `events`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from swarmcast.events.v1 import events_pb2

from services.common.bus import EventBus
from services.common.storage import ObjectStore
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import (
    URL_TTL,
    EventRecorder,
    artifacts_of,
    live,
    make_dispatch,
    new_job_id,
    publish_dispatch,
    round_checkpoint_key,
    work_queue_empty,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

AGENTS, ROUNDS = 10, 12


async def run_parent(
    event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder, **kw: Any
) -> events_pb2.JobDispatch:
    parent = await make_dispatch(object_store, agents=AGENTS, rounds=ROUNDS, **kw)
    await publish_dispatch(event_bus, parent)
    done = await recorder.outcome(parent.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert not done.HasField("branch")
    return parent


async def branch_source(object_store: ObjectStore, parent_id: int, round_no: int) -> events_pb2.BranchSource:
    forecast = struct_pb2.Struct()
    forecast.update({"goal": {"market_id": "m1", "probability": 0.61, "interval": [0.5, 0.7]}})
    return events_pb2.BranchSource(
        parent_job_id=parent_id,
        round=round_no,
        checkpoint_get_url=await object_store.presigned_get(
            round_checkpoint_key(parent_id, round_no), URL_TTL
        ),
        parent_forecast=forecast,
    )


def event(day: int, headline: str, favours: str = "", text: str = "") -> events_pb2.ScheduledEvent:
    return events_pb2.ScheduledEvent(day=day, headline=headline, text=text, favours=favours)


async def test_every_round_checkpoint_is_kept_at_its_own_key(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    parent = await run_parent(event_bus, object_store, recorder)
    job = parent.job_id
    kept = sorted(await object_store.list_keys(f"sim-data/{job}/checkpoints/"))
    assert kept == [round_checkpoint_key(job, r) for r in range(ROUNDS + 1)]
    # The last round's copy is the latest checkpoint, byte for byte; earlier rounds differ from it.
    latest = await object_store.get_bytes(f"sim-data/{job}/checkpoint")
    assert await object_store.get_bytes(round_checkpoint_key(job, ROUNDS)) == latest
    assert await object_store.get_bytes(round_checkpoint_key(job, 3)) != latest


async def test_a_dispatch_without_round_urls_still_completes(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    old = await run_parent(event_bus, object_store, recorder, round_checkpoints=False)
    assert await object_store.list_keys(f"sim-data/{old.job_id}/checkpoints/") == []
    assert await object_store.exists(f"sim-data/{old.job_id}/checkpoint")


async def test_a_branch_without_events_reproduces_its_parent_byte_for_byte(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    parent = await run_parent(event_bus, object_store, recorder)
    source = await branch_source(object_store, parent.job_id, 5)
    branch = await make_dispatch(object_store, agents=AGENTS, rounds=ROUNDS, branch=source)
    await publish_dispatch(event_bus, branch)

    done = await recorder.outcome(branch.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert await artifacts_of(object_store, branch.job_id) == await artifacts_of(object_store, parent.job_id)

    # The completion names the parent and round for the reporter, without the presigned URL.
    assert done.branch.parent_job_id == parent.job_id and done.branch.round == 5
    assert done.branch.checkpoint_get_url == ""
    assert json_format.MessageToDict(done.branch.parent_forecast)["goal"]["probability"] == 0.61

    # It simulated rounds 6.. only, and kept their checkpoints for branches of the branch.
    progress = recorder.of(branch.job_id)
    assert min(p.round for p in progress if p.stage == 3) == 5
    assert any("what-if branch of job" in line for p in progress for line in live(p)["log"])
    assert live(progress[-1])["branch_of"] == parent.job_id
    kept = sorted(await object_store.list_keys(f"sim-data/{branch.job_id}/checkpoints/"))
    assert kept == [round_checkpoint_key(branch.job_id, r) for r in range(6, ROUNDS + 1)]
    assert await work_queue_empty(event_bus)


async def test_a_branch_plays_its_injected_event_in_the_round_after_the_branch_point(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    parent = await run_parent(event_bus, object_store, recorder)
    news = event(0, "Court upholds the levy's ballot wording", "yes", "The challenge was dismissed.")
    source = await branch_source(object_store, parent.job_id, 4)
    branch = await make_dispatch(object_store, agents=AGENTS, rounds=ROUNDS, branch=source, events=[news])
    await publish_dispatch(event_bus, branch)

    done = await recorder.outcome(branch.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    mine = await artifacts_of(object_store, branch.job_id)
    theirs = await artifacts_of(object_store, parent.job_id)
    assert mine["market_curves.json"] != theirs["market_curves.json"]
    assert json.loads(theirs["market_curves.json"])["events"] == []
    played = json.loads(mine["market_curves.json"])["events"]
    assert [(e["round"], e["headline"], e["favours"]) for e in played] == [(5, news.headline, "yes")]
    entries = json.loads(mine["chat_log.json"])["entries"]
    assert [e["headline"] for e in entries if e["kind"] == "news"] == [news.headline]
    # The news opens its round in the replay.
    first_of_round_5 = next(e for e in entries if e["round"] == 5)
    assert first_of_round_5["kind"] == "news"
    assert json_format.MessageToDict(done.summary)["events"] == played


async def test_a_jobs_scheduled_events_reach_the_engine(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    # 30 days over 12 rounds: day 10 ends round 4.
    news = event(10, "Transit authority publishes audited cost figures", "no")
    job = await make_dispatch(object_store, agents=AGENTS, rounds=ROUNDS, events=[news])
    await publish_dispatch(event_bus, job)
    done = await recorder.outcome(job.job_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    curves = json.loads((await artifacts_of(object_store, job.job_id))["market_curves.json"])
    assert [(e["round"], e["day"], e["headline"], e["favours"]) for e in curves["events"]] == [
        (4, 10, news.headline, "no")
    ]


async def test_a_redelivered_branch_resumes_its_own_checkpoint(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    parent = await run_parent(event_bus, object_store, recorder)
    # The branch got as far as round 8 before its runner died (its checkpoint equals the parent's:
    # no events). The parent's round checkpoint has gone meanwhile: only its own can finish it.
    branch_id = new_job_id()
    own = await object_store.get_bytes(round_checkpoint_key(parent.job_id, 8))
    await object_store.put_bytes(f"sim-data/{branch_id}/checkpoint", own, "application/octet-stream")
    source = await branch_source(object_store, parent.job_id, 3)
    source.checkpoint_get_url = await object_store.presigned_get(f"sim-data/{parent.job_id}/nothing", URL_TTL)
    branch = await make_dispatch(
        object_store, job_id=branch_id, agents=AGENTS, rounds=ROUNDS, branch=source, resume=True, attempt=2
    )
    await publish_dispatch(event_bus, branch)
    done = await recorder.outcome(branch_id, within=60)
    assert isinstance(done, events_pb2.RunnerCompleted), done
    assert await artifacts_of(object_store, branch_id) == await artifacts_of(object_store, parent.job_id)
    kept = sorted(await object_store.list_keys(f"sim-data/{branch_id}/checkpoints/"))
    assert kept == [round_checkpoint_key(branch_id, r) for r in range(9, ROUNDS + 1)]


async def test_a_branch_whose_parent_checkpoint_is_gone_fails_permanently(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    await runner_factory("r1")
    parent_id = new_job_id()  # never ran: no round checkpoints
    source = await branch_source(object_store, parent_id, 2)
    branch = await make_dispatch(object_store, agents=AGENTS, rounds=ROUNDS, branch=source)
    await publish_dispatch(event_bus, branch)
    failed = await recorder.outcome(branch.job_id, within=30)
    assert isinstance(failed, events_pb2.RunnerFailed), failed
    assert failed.kind == events_pb2.FAILURE_KIND_PERMANENT
    assert f"job {parent_id} has no checkpoint after round 2" in failed.reason
    assert await object_store.list_keys(f"sim-data/{branch.job_id}/") == []
    assert await work_queue_empty(event_bus)
