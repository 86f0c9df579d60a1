"""Fair use (issue 17 item 4, docs/security.md "Fair use"): per-user caps, a creation rate limit and
fair dispatch, against a private stack (bench/harness.py) with small limits.

The pen test's finding: one user created 30 large jobs in 0.6 s and another user's small job then
waited behind all of them. Here:

- over the live-job or draft cap, a create (or launch) is RESOURCE_EXHAUSTED and nothing is stored;
- a burst of concurrent creates never passes the cap;
- over the creation rate, RESOURCE_EXHAUSTED with a RetryInfo and `retry-after`;
- a second user's job is handed to the runner before the first user's backlog is drained.

The cap tests use the `medium` tier, which no runner of this stack serves, so their jobs stay live.
The fair-dispatch test starts the only runner (`small`, one job at a time) after both users have
submitted, so the order the work queue holds decides the order jobs run in.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import asyncpg
import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed, wait_terminal
from services.common.clients import insecure_channel, jobs_stub
from services.common.status import RETRY_AFTER_METADATA, retry_delay, status_detail

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

LIVE_CAP = 4
DRAFT_CAP = 2
CREATE_LIMIT = 6
FAIR_USE_ENV = {
    "SWARMCAST_JOBS_MAX_LIVE_PER_USER": str(LIVE_CAP),
    "SWARMCAST_JOBS_MAX_DRAFTS_PER_USER": str(DRAFT_CAP),
    "SWARMCAST_JOBS_CREATE_LIMIT": str(CREATE_LIMIT),
    # Long enough that no creation leaves the window while the module runs.
    "SWARMCAST_JOBS_CREATE_WINDOW_SECONDS": "3600",
    "SWARMCAST_JOBS_IN_FLIGHT_PER_USER": "1",
    "SWARMCAST_JOBS_RELEASE_INTERVAL_SECONDS": "0.5",
    "SWARMCAST_RUNNER_CONCURRENCY": "1",
    "SWARMCAST_RUNNER_TIERS": "small",
}


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("fair-use-infra")) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    work = tmp_path_factory.mktemp("fair-use-stack")
    value = PrivateStack({**infra.env(work / "run"), **FAIR_USE_ENV}, work / "logs")
    try:
        # No runner yet: test_a_second_users_job_runs_before_the_first_users_backlog starts it.
        await value.launch("auth", "jobs", "reporter")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


def seed(label: str) -> str:
    return evidence_seed(f"Fair-use seed {label} {secrets.token_hex(3)}: week {label} of the strike.")


async def create(stack: PrivateStack, md: Metadata, label: str, tier: str = "medium") -> int:
    async with insecure_channel(stack.addr("jobs")) as ch:
        reply = await jobs_stub(ch).CreateJob(create_request(seed(label), tier=tier), metadata=md, timeout=30)
    return int(reply.job.id)


async def refused(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, (err.value.code(), err.value.details())
    return err.value


async def stored(stack: PrivateStack, md: Metadata) -> list[jobs_pb2.Job]:
    async with insecure_channel(stack.addr("jobs")) as ch:
        listed = await jobs_stub(ch).ListJobs(jobs_pb2.ListJobsRequest(per_page=100), metadata=md, timeout=30)
    assert listed.total == len(listed.jobs)
    return list(listed.jobs)


async def test_over_the_live_job_cap_a_create_is_refused_and_nothing_is_stored(stack: PrivateStack) -> None:
    md = await stack.register()
    ids = [await create(stack, md, str(i)) for i in range(LIVE_CAP)]
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        error = await refused(stub.CreateJob(create_request(seed("over")), metadata=md, timeout=30))
        assert f"the limit is {LIVE_CAP}" in (error.details() or "")
        # A draft is not live; launching it would be one live job too many.
        draft = (
            await stub.CreateDraft(
                jobs_pb2.CreateDraftRequest(
                    seed_text=seed("draft"), goal=create_request("").goal, tier="medium"
                ),
                metadata=md,
                timeout=30,
            )
        ).job
        await refused(stub.LaunchDraft(jobs_pb2.LaunchDraftRequest(job_id=draft.id), metadata=md, timeout=30))
        jobs = await stored(stack, md)
        assert sorted(j.id for j in jobs) == sorted([*ids, draft.id])
        assert {j.id: jobs_pb2.JobStatus.Name(j.status) for j in jobs}[draft.id] == "JOB_STATUS_DRAFT"
        # A cancelled job is no longer live: there is room for one more.
        await stub.CancelJob(jobs_pb2.CancelJobRequest(job_id=ids[0]), metadata=md, timeout=30)
        await stub.LaunchDraft(jobs_pb2.LaunchDraftRequest(job_id=draft.id), metadata=md, timeout=30)


async def test_over_the_draft_cap_a_draft_is_refused(stack: PrivateStack) -> None:
    md = await stack.register()
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        for i in range(DRAFT_CAP):
            await stub.CreateDraft(
                jobs_pb2.CreateDraftRequest(seed_text=f"draft {i}"), metadata=md, timeout=30
            )
        error = await refused(
            stub.CreateDraft(jobs_pb2.CreateDraftRequest(seed_text="one more"), metadata=md, timeout=30)
        )
    assert f"the limit is {DRAFT_CAP}" in (error.details() or "")
    assert len(await stored(stack, md)) == DRAFT_CAP


async def test_a_burst_of_concurrent_creates_never_passes_the_cap(stack: PrivateStack) -> None:
    md = await stack.register()
    burst = 12
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        answers = await asyncio.gather(
            *(
                stub.CreateJob(create_request(seed(f"burst {i}"), tier="medium"), metadata=md, timeout=60)
                for i in range(burst)
            ),
            return_exceptions=True,
        )
    accepted = [a for a in answers if isinstance(a, jobs_pb2.CreateJobResponse)]
    refusals = [a for a in answers if isinstance(a, grpc.aio.AioRpcError)]
    assert len(accepted) + len(refusals) == burst, answers
    assert {r.code() for r in refusals} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert len(accepted) == LIVE_CAP
    assert sorted(j.id for j in await stored(stack, md)) == sorted(a.job.id for a in accepted)


async def test_over_the_creation_rate_a_create_is_refused_with_a_retry_delay(stack: PrivateStack) -> None:
    md = await stack.register()
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        # Cancelling each job keeps the user under the live-job cap: only the rate can refuse.
        for i in range(CREATE_LIMIT):
            job_id = await create(stack, md, f"rate {i}")
            await stub.CancelJob(jobs_pb2.CancelJobRequest(job_id=job_id), metadata=md, timeout=30)
        error = await refused(stub.CreateJob(create_request(seed("rate over")), metadata=md, timeout=30))
    assert f"at most {CREATE_LIMIT} per 3600 s" in (error.details() or "")
    retry = status_detail(error, error_details_pb2.RetryInfo)
    assert retry is not None and 0 < retry.retry_delay.seconds <= 3600
    # What a client (the eval CLI) waits before trying again.
    assert retry_delay(error) == retry.retry_delay.seconds
    trailing = dict(error.trailing_metadata() or ())
    assert 0 < int(trailing[RETRY_AFTER_METADATA]) <= 3600
    assert len(await stored(stack, md)) == CREATE_LIMIT


async def runs_of(infra: Infra) -> dict[int, Any]:
    """Job id → when its run was first seen on a runner (None: not yet; absent: never dispatched),
    read from the private stack's database."""
    dsn = infra.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT job_id, min(taken_at) AS taken_at FROM jobs.job_runs GROUP BY job_id")
    finally:
        await conn.close()
    return {int(r["job_id"]): r["taken_at"] for r in rows}


async def test_a_second_users_job_runs_before_the_first_users_backlog(
    stack: PrivateStack, infra: Infra
) -> None:
    first, second = await stack.register(), await stack.register()
    backlog = [await create(stack, first, f"backlog {i}", tier="small") for i in range(LIVE_CAP)]
    newcomer = await create(stack, second, "newcomer", tier="small")
    # Before any runner exists: one of the first user's jobs is on the work queue, the rest are
    # held in jobs; the second user's job is on the queue right behind it.
    runs = await runs_of(infra)
    assert [j for j in backlog if j in runs] == backlog[:1]
    assert newcomer in runs
    await stack.launch("gpu_runner")
    statuses = await wait_terminal(stack.addr("jobs"), first, backlog, within=240)
    assert set(statuses.values()) == {"JOB_STATUS_COMPLETED"}, f"{statuses}\n{stack.tails()}"
    done = await wait_terminal(stack.addr("jobs"), second, [newcomer], within=60)
    assert done[newcomer] == "JOB_STATUS_COMPLETED", f"{done}\n{stack.tails()}"
    taken = await runs_of(infra)
    assert all(taken[j] is not None for j in [*backlog, newcomer]), taken
    # The only runner runs one job at a time, in queue order: the newcomer went second, ahead of
    # the rest of the backlog (with every job queued at once, FIFO, it would have gone last).
    order = sorted([*backlog, newcomer], key=lambda j: taken[j])
    assert order == [backlog[0], newcomer, *backlog[1:]]
