"""InterviewAgents and ListInterviews against the real DB, NATS and S3, answered by a real runner.

The refusals are checked to write nothing; the answers are compared with what the engine's own
interview functions say on the same checkpoint, so a service that mixed up the agents, their order
or the transcript fails here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import func, insert, select
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2 as J

from services.common import subjects
from services.common.bus import EventBus
from services.common.camps import camp_of
from services.common.db import utcnow
from services.gpu_runner.backends import HEURISTIC_MODEL
from services.gpu_runner.engine import SimulationConfig, SimulationRequest, run_simulation
from services.gpu_runner.engine.interview import answer_question, choose_interviewees, interview_world
from services.gpu_runner.llm import make_backend
from services.gpu_runner.tests.conftest import RunnerFactory, runner_factory  # noqa: F401 (fixture)
from services.gpu_runner.tests.runner_helpers import GOAL as RUN_GOAL
from services.gpu_runner.tests.runner_helpers import SEED_TEXT as RUN_SEED
from services.jobs.tests.jobs_helpers import identity, job_fields, seed_text
from services.jobs.tests.whatif_helpers import STRUCTURED, complete_job, counts
from services.jobs.whatif_models import JobInterviewRow

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "What would make you change your mind about the strike?"
_CHECKPOINT: list[bytes] = []


async def real_checkpoint() -> bytes:
    """The final checkpoint of a small heuristic run (computed once per module)."""
    if not _CHECKPOINT:
        saved: list[bytes] = []

        async def keep(_round: int, data: bytes) -> None:
            saved.append(data)

        config = SimulationConfig(agents=10, rounds=4, seed=7, replicates=1)
        backend = make_backend("heuristic", model=HEURISTIC_MODEL)
        await run_simulation(SimulationRequest(RUN_SEED, RUN_GOAL, config), backend, on_checkpoint=keep)
        _CHECKPOINT.append(saved[-1])
    return _CHECKPOINT[0]


def ask(job_id: int, question: str = QUESTION, **target: Any) -> J.InterviewAgentsRequest:
    return J.InterviewAgentsRequest(job_id=job_id, question=question, **target)


async def answers_of(server: Any, request: J.InterviewAgentsRequest, user: int = 1) -> list[Any]:
    return [r async for r in server.stub.InterviewAgents(request, metadata=server.md(user))]


async def refused(
    server: Any, code: grpc.StatusCode, request: J.InterviewAgentsRequest, user: int = 1
) -> str:
    before = await counts(server.app)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await answers_of(server, request, user)
    assert info.value.code() == code, info.value.details()
    assert await counts(server.app) == before
    return info.value.details() or ""


async def test_bad_requests_are_refused_before_any_runner_is_asked(jobs_server: Any) -> None:
    job = await complete_job(jobs_server.app)
    bad = grpc.StatusCode.INVALID_ARGUMENT
    assert "question is required" in await refused(jobs_server, bad, ask(job.id, "   ", agent_ids=[1]))
    assert "too long" in await refused(jobs_server, bad, ask(job.id, "why? " * 101, agent_ids=[1]))
    assert "control characters" in await refused(jobs_server, bad, ask(job.id, "a\x00b", agent_ids=[1]))
    assert "exactly one of" in await refused(jobs_server, bad, ask(job.id))
    assert "got agent_ids, camp" in await refused(jobs_server, bad, ask(job.id, agent_ids=[1], camp="yes"))
    assert "at most 12 agents" in await refused(jobs_server, bad, ask(job.id, agent_ids=list(range(13))))
    assert "0 or more" in await refused(jobs_server, bad, ask(job.id, agent_ids=[-1]))
    assert "camp must be one of yes, no, undecided" in await refused(
        jobs_server, bad, ask(job.id, camp="maybe")
    )
    details = await refused(jobs_server, bad, ask(job.id, coalition="c9"))
    assert "no coalition 'c9' (its coalitions: c1)" in details


async def test_other_users_missing_and_unfinished_jobs_are_refused(jobs_server: Any) -> None:
    app = jobs_server.app
    job = await complete_job(app)
    pending = await app.core.create_job(identity(1), job_fields(seed_text("pending")))
    gone = await complete_job(app, seed=seed_text("no checkpoint"), checkpoint=None)
    assert "not found" in await refused(
        jobs_server, grpc.StatusCode.NOT_FOUND, ask(job.id, camp="yes"), user=2
    )
    await refused(jobs_server, grpc.StatusCode.NOT_FOUND, ask(987_654, camp="yes"))
    await refused(jobs_server, grpc.StatusCode.NOT_FOUND, ask(2**62, camp="yes"))
    details = await refused(jobs_server, grpc.StatusCode.FAILED_PRECONDITION, ask(pending.id, camp="yes"))
    assert "once the job is COMPLETED" in details
    details = await refused(jobs_server, grpc.StatusCode.FAILED_PRECONDITION, ask(gone.id, camp="yes"))
    assert "no checkpoint" in details
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await jobs_server.stub.ListInterviews(
            J.ListInterviewsRequest(job_id=job.id), metadata=jobs_server.md(2)
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_no_runner_listening_is_unavailable_at_once(jobs_server: Any) -> None:
    job = await complete_job(jobs_server.app)
    started = asyncio.get_running_loop().time()
    details = await refused(jobs_server, grpc.StatusCode.UNAVAILABLE, ask(job.id, agent_ids=[1]))
    assert "no runner of tier small" in details
    assert asyncio.get_running_loop().time() - started < 5  # not the 120 s reply timeout


async def test_a_runner_that_never_answers_times_out_unavailable(
    jobs_server: Any, event_bus: EventBus
) -> None:
    job = await complete_job(jobs_server.app)
    jobs_server.app.core.interviews.reply_timeout = 0.5
    heard: list[events_pb2.InterviewRequest] = []

    async def silent(msg: Any) -> None:
        heard.append(events_pb2.InterviewRequest.FromString(msg.data))

    sub = await event_bus.nc.subscribe(
        event_bus.subject(subjects.interview_request("small")),
        queue=subjects.interview_queue("small"),
        cb=silent,
    )
    try:
        details = await refused(jobs_server, grpc.StatusCode.UNAVAILABLE, ask(job.id, coalition="c1"))
    finally:
        await sub.unsubscribe()
    assert "no runner of tier small answered within 0.5 s" in details
    # What the runner was asked: the coalition resolved to its members, a working checkpoint URL.
    (request,) = heard
    assert (request.job_id, request.tier, request.question) == (job.id, "small", QUESTION)
    assert list(request.agent_ids) == [2, 5] and request.camp == "" and request.max_agents == 12
    assert request.reply_subject == subjects.interview_reply(request.interview_id)
    assert request.interview_id > 0 and request.checkpoint_get_url


async def test_the_hourly_limit_per_job(jobs_server: Any) -> None:
    app = jobs_server.app
    job = await complete_job(app)
    other = await complete_job(app, seed=seed_text("other job"))
    app.core.interviews.per_hour = 2
    row = {
        "user_id": "1", "question": "q", "target": "agent 1", "answers": [], "backend": "heuristic",
        "model_id": "m", "left_out": 0,
    }  # fmt: skip
    async with app.sessions() as session, session.begin():
        await session.execute(
            insert(JobInterviewRow),
            [
                {**row, "job_id": job.id, "created_at": utcnow() - timedelta(minutes=50)},
                {**row, "job_id": job.id, "created_at": utcnow() - timedelta(minutes=10)},
                # An hour and more ago: no longer counted.
                {**row, "job_id": other.id, "created_at": utcnow() - timedelta(minutes=61)},
                {**row, "job_id": other.id, "created_at": utcnow() - timedelta(minutes=90)},
            ],
        )
    before = await counts(app)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await answers_of(jobs_server, ask(job.id, camp="yes"))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "interviewed 2 times in the last hour" in (info.value.details() or "")
    assert "try again in 10 min" in (info.value.details() or "")
    assert await counts(app) == before
    # The other job's interviews are over an hour old: it passes the limit (and finds no runner).
    await refused(jobs_server, grpc.StatusCode.UNAVAILABLE, ask(other.id, camp="yes"))


async def test_a_real_runner_answers_and_the_transcript_is_kept(
    jobs_server: Any,
    runner_factory: RunnerFactory,  # noqa: F811
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    checkpoint = await real_checkpoint()
    world = interview_world(checkpoint)
    backend = make_backend("heuristic", model=HEURISTIC_MODEL)
    ids = [world.agents[4].id, world.agents[1].id]
    structured = {**STRUCTURED, "coalitions": [{"id": "c7", "members": [{"agent_id": i} for i in ids]}]}
    job = await complete_job(app, structured=structured, checkpoint=checkpoint)
    await runner_factory("r1", tiers="small")

    replies = await answers_of(jobs_server, ask(job.id, agent_ids=ids))
    interview_id = replies[0].interview_id
    assert interview_id > 0 and all(r.interview_id == interview_id for r in replies)
    expected = [await answer_question(world, i, QUESTION, backend) for i in ids]
    assert [r.answer.agent_id for r in replies] == ids
    for reply, want in zip(replies, expected, strict=True):
        a = reply.answer
        assert (a.agent_name, a.persona, a.answer, a.reason, a.camp) == (
            want.agent_name, want.persona, want.answer, want.reason, want.camp,
        )  # fmt: skip
        assert a.probability == pytest.approx(want.probability) and a.camp == camp_of(a.probability)

    # The same agents as a coalition of the report.
    by_coalition = await answers_of(jobs_server, ask(job.id, "Who do you trust?", coalition="c7"))
    assert [r.answer.agent_id for r in by_coalition] == ids

    # A camp: up to SWARMCAST_JOBS_INTERVIEW_MAX_AGENTS asked, the rest counted.
    app.core.interviews.max_agents = 1
    camp = camp_of(expected[0].probability)
    chosen, left_out = choose_interviewees(world, [], camp, 1)
    by_camp = await answers_of(jobs_server, ask(job.id, "And now?", camp=camp))
    assert [r.answer.agent_id for r in by_camp] == chosen

    listed = (await stub.ListInterviews(J.ListInterviewsRequest(job_id=job.id), metadata=md)).interviews
    assert [i.question for i in listed] == ["And now?", "Who do you trust?", QUESTION]  # newest first
    newest, _, oldest = listed
    assert newest.target == f"the {camp.upper()} camp" and newest.left_out == left_out
    assert listed[1].target == "coalition c7"
    assert oldest.id == interview_id and oldest.job_id == job.id
    assert oldest.target == f"agents {ids[0]}, {ids[1]}"
    assert (oldest.backend, oldest.model_id, oldest.left_out) == ("heuristic", HEURISTIC_MODEL, 0)
    assert list(oldest.answers) == [r.answer for r in replies]
    assert oldest.HasField("created_at")

    # The runner's refusal (an agent the run does not have) is the caller's error; nothing kept.
    details = await refused(jobs_server, grpc.StatusCode.INVALID_ARGUMENT, ask(job.id, agent_ids=[9999]))
    assert "9999" in details
    # An unreadable checkpoint is the runner's failure: UNAVAILABLE, nothing kept.
    await app.store.put_bytes(f"sim-data/{job.id}/checkpoint", b"not a checkpoint")
    await refused(jobs_server, grpc.StatusCode.UNAVAILABLE, ask(job.id, agent_ids=ids))

    # Deleting the job deletes its transcripts.
    await stub.DeleteJob(J.DeleteJobRequest(job_id=job.id), metadata=md)
    async with app.sessions() as session:
        left = (await session.execute(select(func.count()).select_from(JobInterviewRow))).scalar_one()
    assert left == 0
