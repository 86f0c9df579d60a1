"""Interviews, scheduled events and what-if branches through the whole stack (DESIGN §8a).

Real processes: auth, jobs, the heuristic gpu_runner, the reporter, over gRPC, NATS JetStream (and
core NATS for interviews), PostgreSQL and S3. An interview answered by the `local` tier's real
model is part of tests/test_local_tier.py (one real-model job serves both).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from grpc.aio import insecure_channel
from swarmcast.events.v1 import events_pb2
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clients import jobs_stub
from services.common.config import REPO_ROOT
from tests.fixtures.stack import RunningStack
from tests.forecast.coherence import register

SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
TERMINAL = {jobs_pb2.JOB_STATUS_COMPLETED, jobs_pb2.JOB_STATUS_FAILED}
Metadata = tuple[tuple[str, str], ...]
# What the runner writes; report.md is the reporter's and a branch's opens with its comparison.
RUNNER_ARTIFACTS = (
    "market_curves.json",
    "agent_trajectories.json",
    "engagement_summary.json",
    "top_posts.json",
    "posts.json",
    "trades.json",
    "social_graph.json",
    "profiles.json",
    "chat_log.json",
    "relations.json",
)


def event(headline: str, *, day: int = 0, favours: str = "", text: str = "") -> events_pb2.ScheduledEvent:
    return events_pb2.ScheduledEvent(day=day, headline=headline, text=text, favours=favours)


async def wait_done(jobs: Any, md: Metadata, job_id: int, within: float = 600) -> jobs_pb2.Job:
    deadline = time.monotonic() + within
    while True:
        job = (await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), metadata=md, timeout=30)).job
        if job.status in TERMINAL or time.monotonic() > deadline:
            assert job.status == jobs_pb2.JOB_STATUS_COMPLETED, (
                f"job {job_id}: {jobs_pb2.JobStatus.Name(job.status)} {job.error_message}"
            )
            return job
        await asyncio.sleep(1)


async def artifacts(jobs: Any, md: Metadata, job_id: int) -> dict[str, bytes]:
    sim = await jobs.GetSimData(jobs_pb2.GetSimDataRequest(job_id=job_id), metadata=md, timeout=30)
    async with httpx.AsyncClient(timeout=30) as http:
        return {name: (await http.get(sim.files[name])).content for name in RUNNER_ARTIFACTS}


def goal_forecast(job: jobs_pb2.Job) -> dict[str, Any]:
    forecast: dict[str, Any] = json.loads(job.result_structured)["forecast"]["goal"]
    return forecast


async def interview(
    jobs: Any, md: Metadata, request: jobs_pb2.InterviewAgentsRequest
) -> list[jobs_pb2.InterviewAgentsResponse]:
    return [reply async for reply in jobs.InterviewAgents(request, metadata=md, timeout=300)]


async def transcripts(jobs: Any, md: Metadata, job_id: int) -> jobs_pb2.ListInterviewsResponse:
    request = jobs_pb2.ListInterviewsRequest(job_id=job_id)
    response: jobs_pb2.ListInterviewsResponse = await jobs.ListInterviews(request, metadata=md, timeout=30)
    return response


async def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        result = call()
        if hasattr(result, "__aiter__"):  # a server stream: the status comes with the messages
            [message async for message in result]
        else:
            await result
    return caught.value.code()


@pytest.fixture(scope="module")
async def parent(stack: RunningStack) -> AsyncIterator[tuple[Metadata, jobs_pb2.Job]]:
    """One COMPLETED heuristic job of the small tier, with a scheduled event of its own."""
    md = await register(stack.auth_addr)
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        created = await jobs.CreateJob(
            jobs_pb2.CreateJobRequest(
                seed_text=SEED,
                goal=GOAL,
                tier="small",
                enrich_web=False,
                forecast_days=30,
                events=[event("The council publishes the levy's audited cost", day=20)],
            ),
            metadata=md,
            timeout=30,
        )
        job = await wait_done(jobs, md, created.job.id)
    yield md, job


@pytest.mark.timeout(900)
async def test_a_branch_without_events_reproduces_its_parent_byte_for_byte(
    stack: RunningStack, parent: tuple[Metadata, jobs_pb2.Job]
) -> None:
    md, job = parent
    assert [e.headline for e in job.events] == ["The council publishes the levy's audited cost"]
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        branched = (
            await jobs.BranchJob(jobs_pb2.BranchJobRequest(job_id=job.id, round=4), metadata=md, timeout=30)
        ).job
        assert (branched.branch_of, branched.branch_round) == (job.id, 4)
        branch = await wait_done(jobs, md, branched.id)
        original, copy = await artifacts(jobs, md, job.id), await artifacts(jobs, md, branch.id)
        listed = await jobs.ListJobs(jobs_pb2.ListJobsRequest(branch_of=job.id), metadata=md, timeout=30)
        parent_now = (await jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), metadata=md, timeout=30)).job
    for name in RUNNER_ARTIFACTS:
        assert copy[name] == original[name], f"{name} differs from the parent's"
    assert goal_forecast(branch) == goal_forecast(job)
    # The scheduled event of the parent is news in the replay and on the curves of both.
    curves = json.loads(original["market_curves.json"])
    assert [e["headline"] for e in curves["events"]] == ["The council publishes the levy's audited cost"]
    news = [e for e in json.loads(original["chat_log.json"])["entries"] if e["kind"] == "news"]
    assert [n["round"] for n in news] == [curves["events"][0]["round"]]
    # The branch's report opens with the comparison: the same forecast before and after.
    comparison = json.loads(branch.result_structured)["branch"]
    assert comparison["parent_job_id"] == job.id and comparison["round"] == 4
    assert comparison["before"]["probability"] == comparison["after"]["probability"]
    assert "What-if comparison" in branch.result_report
    assert branch.id in [j.id for j in listed.jobs]
    assert parent_now.branch_count >= 1


@pytest.mark.timeout(900)
async def test_news_favouring_yes_moves_the_forecast_up_and_no_moves_it_down(
    stack: RunningStack, parent: tuple[Metadata, jobs_pb2.Job]
) -> None:
    md, job = parent
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        made = {}
        for side in ("yes", "no"):
            request = jobs_pb2.BranchJobRequest(
                job_id=job.id,
                round=3,
                events=[
                    event(
                        f"Poll shock: decisive news for the {side.upper()} side",
                        favours=side,
                        text="A independent poll and two endorsements land the same morning.",
                    )
                ],
            )
            made[side] = (await jobs.BranchJob(request, metadata=md, timeout=30)).job.id
        done = {side: await wait_done(jobs, md, job_id) for side, job_id in made.items()}
    before = goal_forecast(job)["probability"]
    up, down = goal_forecast(done["yes"])["probability"], goal_forecast(done["no"])["probability"]
    assert up > before > down, (before, up, down)
    comparison = json.loads(done["yes"].result_structured)["branch"]
    assert comparison["after"]["probability"] > comparison["before"]["probability"]
    assert [e["headline"] for e in comparison["events"]] == ["Poll shock: decisive news for the YES side"]


@pytest.mark.timeout(900)
async def test_heuristic_interviews_answer_in_character_and_are_kept(
    stack: RunningStack, parent: tuple[Metadata, jobs_pb2.Job]
) -> None:
    md, job = parent
    question = "What would change your mind about the levy?"
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)
        one = await interview(
            jobs, md, jobs_pb2.InterviewAgentsRequest(job_id=job.id, question=question, agent_ids=[0, 1])
        )
        camp = await interview(
            jobs, md, jobs_pb2.InterviewAgentsRequest(job_id=job.id, question=question, camp="yes")
        )
        kept = await jobs.ListInterviews(
            jobs_pb2.ListInterviewsRequest(job_id=job.id), metadata=md, timeout=30
        )
    assert [r.answer.agent_id for r in one] == [0, 1]
    for reply in (*one, *camp):
        answer = reply.answer
        assert answer.answer.strip() and answer.agent_name
        assert 0.0 < answer.probability < 1.0
        assert answer.camp in ("yes", "no", "undecided")
    assert all(r.answer.camp == "yes" for r in camp)
    assert len({r.interview_id for r in one}) == 1
    transcripts = {t.id: t for t in kept.interviews}
    first = transcripts[one[0].interview_id]
    assert first.question == question and first.backend == "heuristic"
    assert [a.answer for a in first.answers] == [r.answer.answer for r in one]


@pytest.mark.timeout(900)
async def test_interviews_and_branches_refuse_bad_input_and_other_users(
    stack: RunningStack, parent: tuple[Metadata, jobs_pb2.Job]
) -> None:
    md, job = parent
    stranger = await register(stack.auth_addr)
    async with insecure_channel(stack.jobs_addr) as channel:
        jobs = jobs_stub(channel)

        def ask(meta: Metadata, **fields: Any) -> Any:
            request = jobs_pb2.InterviewAgentsRequest(job_id=job.id, **fields)
            return jobs.InterviewAgents(request, metadata=meta, timeout=60)

        def branch(meta: Metadata, **fields: Any) -> Any:
            request = jobs_pb2.BranchJobRequest(job_id=job.id, **fields)
            return jobs.BranchJob(request, metadata=meta, timeout=30)

        invalid, missing = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
        assert await code_of(lambda: ask(stranger, question="Why?", agent_ids=[0])) == missing
        assert await code_of(lambda: ask(md, question="   ", agent_ids=[0])) == invalid
        assert await code_of(lambda: ask(md, question="x" * 501, agent_ids=[0])) == invalid
        assert await code_of(lambda: ask(md, question="Why?")) == invalid
        assert await code_of(lambda: ask(md, question="Why?", agent_ids=[0], camp="yes")) == invalid
        assert await code_of(lambda: ask(md, question="Why?", agent_ids=[999])) == invalid
        assert await code_of(lambda: ask(md, question="Why?", camp="maybe")) == invalid

        assert await code_of(lambda: branch(stranger, round=1)) == missing
        assert await code_of(lambda: branch(md, round=-1)) == invalid
        assert await code_of(lambda: branch(md, round=10_000)) == invalid
        assert await code_of(lambda: branch(md, round=5, events=[event("")])) == invalid
        assert await code_of(lambda: branch(md, round=5, events=[event("Too early", day=1)])) == invalid
        assert await code_of(lambda: branch(md, round=5, events=[event("x", favours="maybe")])) == invalid

        bad_event = event("After the horizon", day=31)
        create = jobs_pb2.CreateJobRequest(seed_text=SEED, goal=GOAL, tier="small", events=[bad_event])
        assert await code_of(lambda: jobs.CreateJob(create, metadata=md, timeout=30)) == invalid

        # A job that has not completed can be neither interviewed nor branched.
        live = (
            await jobs.CreateJob(
                jobs_pb2.CreateJobRequest(
                    seed_text=SEED,
                    goal="Will the Eastline levy pass with over 60% of the vote?",
                    tier="small",
                ),
                metadata=md,
                timeout=30,
            )
        ).job
        await jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=live.id), metadata=md, timeout=30)
        precondition = grpc.StatusCode.FAILED_PRECONDITION
        not_done = jobs_pb2.InterviewAgentsRequest(job_id=live.id, question="Why?", agent_ids=[0])
        assert await code_of(lambda: jobs.InterviewAgents(not_done, metadata=md, timeout=60)) == precondition
        branch_live = jobs_pb2.BranchJobRequest(job_id=live.id, round=1)
        assert await code_of(lambda: jobs.BranchJob(branch_live, metadata=md, timeout=30)) == precondition
        # Nothing was written by the refusals.
        kept = await jobs.ListInterviews(
            jobs_pb2.ListInterviewsRequest(job_id=job.id), metadata=md, timeout=30
        )
        assert all(t.question not in ("Why?", "x" * 501) for t in kept.interviews)
