"""Interviews served by a real runner over core NATS, from a checkpoint in S3 (presigned GET).

The requests are what the jobs service's InterviewAgents publishes; the expected answers come from
the engine's own interview functions on the same checkpoint, so a runner that mixed up agents,
order, camps or probabilities fails here.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

import pytest
from nats.aio.msg import Msg
from swarmcast.events.v1 import events_pb2

from services.common import subjects
from services.common.bus import EventBus
from services.common.camps import camp_of
from services.common.storage import ObjectStore
from services.gpu_runner.backends import HEURISTIC_MODEL
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.interview import (
    FALLBACK_NOTE,
    answer_question,
    choose_interviewees,
    interview_world,
)
from services.gpu_runner.llm import make_backend
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL
from services.gpu_runner.tests.conftest import RunnerFactory
from services.gpu_runner.tests.runner_helpers import (
    GOAL,
    SEED_TEXT,
    URL_TTL,
    EventRecorder,
    make_dispatch,
    new_job_id,
    publish_dispatch,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "What would change your mind about Measure T?"
_CHECKPOINT: list[bytes] = []


async def final_checkpoint() -> bytes:
    """The last checkpoint of a small heuristic run (computed once per module)."""
    if not _CHECKPOINT:
        saved: list[bytes] = []

        async def keep(_round: int, data: bytes) -> None:
            saved.append(data)

        config = SimulationConfig(agents=10, rounds=6, seed=11, replicates=2)
        await run_simulation(SimulationRequest(SEED_TEXT, GOAL, config), heuristic(), on_checkpoint=keep)
        _CHECKPOINT.append(saved[-1])
    return _CHECKPOINT[0]


def heuristic() -> Any:
    return make_backend("heuristic", model=HEURISTIC_MODEL)


async def stored_checkpoint(store: ObjectStore) -> tuple[int, str]:
    """A job id and the presigned GET URL of its final checkpoint."""
    job_id = new_job_id()
    key = f"sim-data/{job_id}/checkpoint"
    await store.put_bytes(key, await final_checkpoint(), "application/octet-stream")
    return job_id, await store.presigned_get(key, URL_TTL)


async def ask(
    bus: EventBus,
    *,
    job_id: int,
    url: str,
    tier: str = "small",
    agent_ids: Sequence[int] = (),
    camp: str = "",
    max_agents: int = 12,
    question: str = QUESTION,
    reply_subject: str | None = None,
    within: float = 30.0,
) -> list[events_pb2.InterviewReply]:
    """Publish an InterviewRequest and collect its replies up to `done` or `error`."""
    interview_id = secrets.randbelow(2**31)
    replies: list[events_pb2.InterviewReply] = []
    ended = asyncio.Event()

    async def on_reply(msg: Msg) -> None:
        reply = events_pb2.InterviewReply.FromString(msg.data)
        replies.append(reply)
        if reply.WhichOneof("reply") in ("done", "error"):
            ended.set()

    sub = await bus.nc.subscribe(bus.subject(subjects.interview_reply(interview_id)), cb=on_reply)
    await bus.nc.flush()
    request = events_pb2.InterviewRequest(
        interview_id=interview_id,
        job_id=job_id,
        tier=tier,
        question=question,
        agent_ids=list(agent_ids),
        camp=camp,
        max_agents=max_agents,
        checkpoint_get_url=url,
        reply_subject=reply_subject or subjects.interview_reply(interview_id),
    )
    await bus.nc.publish(bus.subject(subjects.interview_request(tier)), request.SerializeToString())
    try:
        await asyncio.wait_for(ended.wait(), within)
    finally:
        await sub.unsubscribe()
    assert all(r.interview_id == interview_id for r in replies)
    return replies


def kinds(replies: list[events_pb2.InterviewReply]) -> list[str]:
    return [str(r.WhichOneof("reply")) for r in replies]


async def expected_answers(ids: Sequence[int], question: str = QUESTION) -> list[events_pb2.InterviewAnswer]:
    world = interview_world(await final_checkpoint())
    backend = heuristic()
    out = []
    for agent_id in ids:
        a = await answer_question(world, agent_id, question, backend)
        out.append(
            events_pb2.InterviewAnswer(
                agent_id=a.agent_id,
                agent_name=a.agent_name,
                persona=a.persona,
                answer=a.answer,
                probability=a.probability,
                reason=a.reason,
                camp=a.camp,
            )
        )
    return out


async def test_named_agents_answer_in_order_then_done(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    await runner_factory("r1")
    job_id, url = await stored_checkpoint(object_store)
    world = interview_world(await final_checkpoint())
    ids = [world.agents[3].id, world.agents[0].id]

    replies = await ask(event_bus, job_id=job_id, url=url, agent_ids=ids)
    assert kinds(replies) == ["answer", "answer", "done"]
    answers = [r.answer for r in replies[:2]]
    assert answers == await expected_answers(ids)
    for answer in answers:
        assert answer.answer and answer.agent_name and 0 < answer.probability < 1
        assert answer.camp == camp_of(answer.probability)
    done = replies[-1].done
    assert (done.backend, done.model_id, done.answered, done.left_out) == ("heuristic", HEURISTIC_MODEL, 2, 0)


async def test_a_camp_is_asked_up_to_max_agents_and_the_rest_counted(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    await runner_factory("r1")
    job_id, url = await stored_checkpoint(object_store)
    world = interview_world(await final_checkpoint())
    everyone = await expected_answers([a.id for a in world.agents])
    sizes = {c: sum(a.camp == c for a in everyone) for c in ("yes", "no", "undecided")}
    camp = max(sizes, key=lambda c: sizes[c])
    assert sizes[camp] >= 2, "the seed should give some camp two members"
    chosen, left_out = choose_interviewees(world, [], camp, 1)

    replies = await ask(event_bus, job_id=job_id, url=url, camp=camp, max_agents=1)
    assert kinds(replies) == ["answer", "done"]
    assert replies[0].answer.agent_id == chosen[0] and replies[0].answer.camp == camp
    assert replies[1].done.answered == 1 and replies[1].done.left_out == left_out == sizes[camp] - 1


async def test_unknown_agents_are_an_invalid_request(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    await runner_factory("r1")
    job_id, url = await stored_checkpoint(object_store)
    replies = await ask(event_bus, job_id=job_id, url=url, agent_ids=[0, 9999])
    assert kinds(replies) == ["error"]
    assert replies[0].invalid_request is True and "9999" in replies[0].error


async def test_a_missing_or_unreadable_checkpoint_is_the_runners_failure(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    await runner_factory("r1")
    job_id = new_job_id()
    missing = await object_store.presigned_get(f"sim-data/{job_id}/checkpoint", URL_TTL)
    replies = await ask(event_bus, job_id=job_id, url=missing, agent_ids=[0])
    assert kinds(replies) == ["error"]
    assert replies[0].invalid_request is False and f"job {job_id} has no checkpoint" in replies[0].error

    await object_store.put_bytes(
        f"sim-data/{job_id}/checkpoint", b"not a checkpoint", "application/octet-stream"
    )
    replies = await ask(event_bus, job_id=job_id, url=missing, agent_ids=[0])
    assert kinds(replies) == ["error"]
    assert replies[0].invalid_request is False and "unreadable" in replies[0].error


async def test_one_runner_of_the_tier_answers_each_interview(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    runners = [await runner_factory("r1"), await runner_factory("r2")]
    other_tier = await runner_factory("r3", tiers="large")
    job_id, url = await stored_checkpoint(object_store)
    batches = await asyncio.gather(*(ask(event_bus, job_id=job_id, url=url, agent_ids=[1]) for _ in range(6)))
    await asyncio.sleep(0.5)  # a second runner's duplicate reply would have arrived by now
    assert all(kinds(replies) == ["answer", "done"] for replies in batches)
    assert sum(r.interviews.answered for r in runners if r.interviews) == 6
    assert other_tier.interviews is not None and other_tier.interviews.answered == 0


async def test_interviews_are_answered_while_a_job_runs(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore, recorder: EventRecorder
) -> None:
    runner = await runner_factory("r1")
    job = await make_dispatch(object_store, agents=30, rounds=400)
    await publish_dispatch(event_bus, job)
    await recorder.wait_for(
        lambda: any(p.stage == 3 for p in recorder.of(job.job_id)), within=30, what="the job simulating"
    )
    job_id, url = await stored_checkpoint(object_store)
    replies = await ask(event_bus, job_id=job_id, url=url, agent_ids=[2])
    assert kinds(replies) == ["answer", "done"]
    assert runner.jobs and not recorder.of(job.job_id, "completed"), "the job should still be running"


async def test_a_foreign_reply_subject_is_ignored_and_a_stopped_runner_hears_nothing(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    runner = await runner_factory("r1")
    job_id, url = await stored_checkpoint(object_store)
    # A request may not make the runner publish outside interview.reply.<its id>.
    elsewhere: list[Msg] = []

    async def keep(msg: Msg) -> None:
        elsewhere.append(msg)

    sub = await event_bus.nc.subscribe(event_bus.subject("interview.reply.1"), cb=keep)
    with pytest.raises(TimeoutError):
        await ask(
            event_bus, job_id=job_id, url=url, agent_ids=[0], reply_subject="interview.reply.1", within=1.5
        )
    await sub.unsubscribe()
    assert elsewhere == []
    assert kinds(await ask(event_bus, job_id=job_id, url=url, agent_ids=[0])) == ["answer", "done"]

    await runner.stop()
    with pytest.raises(TimeoutError):
        await ask(event_bus, job_id=job_id, url=url, agent_ids=[0], within=1.5)


async def test_the_local_tier_answers_with_the_real_model(
    runner_factory: RunnerFactory, event_bus: EventBus, object_store: ObjectStore
) -> None:
    await runner_factory("local1", backend="llamacpp", tiers="local")
    job_id, url = await stored_checkpoint(object_store)
    replies = await ask(event_bus, job_id=job_id, url=url, tier="local", agent_ids=[4], within=120)
    assert kinds(replies) == ["answer", "done"]
    got, done = replies[0].answer, replies[1].done
    assert (done.backend, done.model_id, done.answered) == ("llamacpp", DEFAULT_GGUF_MODEL, 1)
    # The agent's state is the same whoever answers; the words are the model's.
    [templated] = await expected_answers([4])
    assert (got.agent_id, got.probability, got.camp, got.reason) == (
        templated.agent_id,
        templated.probability,
        templated.camp,
        templated.reason,
    )
    assert got.answer.strip() and not got.answer.startswith(FALLBACK_NOTE), got.answer
    assert got.answer != templated.answer
