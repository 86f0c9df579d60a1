"""Outcomes and the track record through the running stack (jobs over gRPC, real artifacts in S3).

A user records what happened to a COMPLETED job: its markets settle against the run's real
profiles and trades, every forecast is scored, the record can be corrected for 7 days and is fixed
after; every bad input is refused with its status code and writes nothing; two users' track
records stay apart and only an operator sees everyone's.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import psycopg
import pytest
import pytest_asyncio
from google.protobuf import json_format
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import wait_terminal
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub
from services.common.storage import ObjectStore
from tests.fixtures.stack import STACK_OPERATOR_EMAIL, RunningStack

pytestmark = pytest.mark.asyncio(loop_scope="module")

YES, NO, ANNULLED = jobs_pb2.RESOLUTION_YES, jobs_pb2.RESOLUTION_NO, jobs_pb2.RESOLUTION_ANNULLED
Metadata = tuple[tuple[str, str], ...]
SEED = (
    "The city council votes on the harbour transit levy on 30 June. Seven of the eleven members have "
    "said they will vote for it, the mayor endorses it, and a poll shows 64% of residents in favour. "
    "The ferry operators' association opposes the levy and has threatened a legal challenge."
)


async def register(stack: RunningStack, email: str | None = None) -> Metadata:
    email = email or f"outcomes-{secrets.token_hex(4)}@example.test"
    async with insecure_channel(stack.auth_addr) as ch:
        try:
            answer = await auth_stub(ch).Register(
                auth_pb2.RegisterRequest(email=email, password="outcome password"), timeout=15
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            answer = await auth_stub(ch).Login(
                auth_pb2.LoginRequest(email=email, password="outcome password"), timeout=15
            )
    return bearer(answer.access_token)


async def completed_job(stack: RunningStack, md: Metadata) -> jobs_pb2.Job:
    async with insecure_channel(stack.jobs_addr) as ch:
        created = await jobs_stub(ch).CreateJob(
            jobs_pb2.CreateJobRequest(
                seed_text=f"{SEED} ({secrets.token_hex(3)})",
                goal="Will the city council approve the harbour transit levy by 30 June?",
                tier="small",
                enrich_web=False,
            ),
            metadata=md,
            timeout=30,
        )
    job_id = created.job.id
    statuses = await wait_terminal(stack.jobs_addr, md, [job_id], within=180)
    assert statuses[job_id] == "JOB_STATUS_COMPLETED", statuses
    async with insecure_channel(stack.jobs_addr) as ch:
        return (await jobs_stub(ch).GetJob(jobs_pb2.GetJobRequest(job_id=job_id), metadata=md)).job


async def call(stack: RunningStack, method: str, request: Any, md: Metadata) -> Any:
    async with insecure_channel(stack.jobs_addr) as ch:
        return await getattr(jobs_stub(ch), method)(request, metadata=md, timeout=30)


async def refused(code: grpc.StatusCode, pending: Awaitable[Any]) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pending
    assert info.value.code() == code, info.value.details()
    return info.value.details() or ""


def artifact(stack: RunningStack, job_id: int, name: str) -> Any:
    store = ObjectStore.from_settings(stack.settings)
    response = store.client.get_object(store.bucket, f"sim-data/{job_id}/{name}")
    try:
        return json.loads(response.read())
    finally:
        response.close()
        response.release_conn()


def brier(p: float, happened: bool) -> float:
    return (p - (1.0 if happened else 0.0)) ** 2


def log_score(p: float, happened: bool) -> float:
    q = min(max(p, 0.001), 0.999)
    return -math.log(q if happened else 1.0 - q)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def owner_jobs(stack: RunningStack) -> tuple[Metadata, list[jobs_pb2.Job]]:
    md = await register(stack)
    return md, [await completed_job(stack, md) for _ in range(2)]


async def test_resolving_settles_the_markets_and_scores_every_forecast(
    stack: RunningStack, owner_jobs: tuple[Metadata, list[jobs_pb2.Job]]
) -> None:
    md, jobs = owner_jobs
    job = jobs[0]
    forecast = json.loads(job.result_structured)["forecast"]
    goal_id = forecast["goal"]["market_id"]
    specs = {m["id"]: m for m in json_format.MessageToDict(job.markets_config)}
    side = sorted(m for m in specs if m != goal_id)
    request = jobs_pb2.ResolveJobRequest(
        job_id=job.id,
        outcome=YES,
        resolved_on=datetime.now(UTC).date().isoformat(),
        source_url="https://example.org/council/minutes",
    )
    if side:
        request.markets[side[0]] = NO
    if len(side) > 1:
        request.markets[side[1]] = ANNULLED
    answer = (await call(stack, "ResolveJob", request, md)).outcome
    assert answer.outcome == YES and answer.editable and answer.source_url.endswith("/minutes")

    scored = {m.market_id: m for m in answer.markets}
    assert set(scored) == {goal_id, *side[:2]}
    goal = scored[goal_id]
    p = forecast["markets"][goal_id]["probability"]
    assert goal.is_goal and goal.probability == pytest.approx(p)
    assert goal.brier == pytest.approx(brier(p, True), abs=1e-12)
    assert goal.log_score == pytest.approx(log_score(p, True), abs=1e-12)
    opening = specs[goal_id]["initial_price_yes"]
    assert goal.opening_price == pytest.approx(opening)
    assert goal.opening_brier == pytest.approx(brier(opening, True), abs=1e-12)
    if side:
        q = forecast["markets"][side[0]]["probability"]
        assert scored[side[0]].brier == pytest.approx(brier(q, False), abs=1e-12)
    if len(side) > 1:
        annulled = scored[side[1]]
        assert not annulled.HasField("brier") and not annulled.HasField("log_score")

    # Settlement: replicate 0's agents, from the run's own profiles and trades.
    profiles = artifact(stack, job.id, "profiles.json")["agents"]
    trades = artifact(stack, job.id, "trades.json")["trades"]
    curves = {m["id"]: m["final_price_yes"] for m in artifact(stack, job.id, "market_curves.json")["markets"]}
    outcomes = {
        goal_id: "YES",
        **({side[0]: "NO"} if side else {}),
        **({side[1]: "ANNULLED"} if len(side) > 1 else {}),
    }
    settled = {a.agent_id: a for a in answer.agents}
    assert len(settled) == len(profiles)
    for agent in profiles:
        expected = agent["cash"]
        for market_id, h in agent["holdings"].items():
            outcome = outcomes.get(market_id)
            if outcome == "YES":
                expected += h["yes"]
            elif outcome == "NO":
                expected += h["no"]
            elif outcome == "ANNULLED":
                expected += sum(
                    (t["cash"] if t["side"] == "buy" else -t["cash"])
                    for t in trades
                    if t["agent_id"] == agent["agent_id"] and t["market_id"] == market_id
                )
            else:
                expected += h["yes"] * curves[market_id] + h["no"] * (1 - curves[market_id])
        got = settled[agent["agent_id"]]
        assert got.cash == pytest.approx(agent["cash"])
        assert got.settled_cash == pytest.approx(expected, abs=1e-3)
        assert got.pnl == pytest.approx(expected - (agent["portfolio_value"] - agent["pnl"]), abs=1e-3)
    # the holders of YES on the goal gained exactly their YES shares
    assert any(a["holdings"].get(goal_id, {}).get("yes", 0) > 0 for a in profiles) or not trades

    again = (await call(stack, "GetOutcome", jobs_pb2.GetOutcomeRequest(job_id=job.id), md)).outcome
    assert again == answer


async def test_an_outcome_can_be_corrected_for_seven_days_and_is_fixed_after(
    stack: RunningStack, owner_jobs: tuple[Metadata, list[jobs_pb2.Job]]
) -> None:
    md, jobs = owner_jobs
    job = jobs[1]
    first = (
        await call(stack, "ResolveJob", jobs_pb2.ResolveJobRequest(job_id=job.id, outcome=NO), md)
    ).outcome
    assert first.outcome == NO and first.resolved_on == datetime.now(UTC).date().isoformat()
    window = first.editable_until.ToDatetime() - first.recorded_at.ToDatetime()
    assert timedelta(days=6, hours=23) < window <= timedelta(days=7, seconds=1)

    corrected = (
        await call(stack, "ResolveJob", jobs_pb2.ResolveJobRequest(job_id=job.id, outcome=YES), md)
    ).outcome
    assert corrected.outcome == YES and corrected.recorded_at == first.recorded_at
    assert corrected.editable_until == first.editable_until

    # Seven days later (moved in the database: the service reads the database's clock).
    with psycopg.connect(stack.env["SWARMCAST_DATABASE_URL"].replace("+asyncpg", ""), autocommit=True) as db:
        db.execute(
            "UPDATE jobs.job_outcomes SET editable_until = now() - interval '1 second' WHERE job_id = %s",
            (job.id,),
        )
    message = await refused(
        grpc.StatusCode.FAILED_PRECONDITION,
        call(stack, "ResolveJob", jobs_pb2.ResolveJobRequest(job_id=job.id, outcome=NO), md),
    )
    assert "fixed" in message
    kept = (await call(stack, "GetOutcome", jobs_pb2.GetOutcomeRequest(job_id=job.id), md)).outcome
    assert kept.outcome == YES and not kept.editable


async def test_bad_resolutions_are_refused_and_write_nothing(
    stack: RunningStack, owner_jobs: tuple[Metadata, list[jobs_pb2.Job]]
) -> None:
    md, _ = owner_jobs
    intruder = await register(stack)
    fresh = await completed_job(stack, md)
    created_on = date.fromisoformat(fresh.created_at.ToDatetime().date().isoformat())
    R = jobs_pb2.ResolveJobRequest

    async with insecure_channel(stack.jobs_addr) as ch:
        draft = (
            await jobs_stub(ch).CreateDraft(jobs_pb2.CreateDraftRequest(seed_text=SEED), metadata=md)
        ).job
    cases: list[tuple[grpc.StatusCode, Any, Metadata, str]] = [
        (grpc.StatusCode.NOT_FOUND, R(job_id=fresh.id, outcome=YES), intruder, "not found"),
        (grpc.StatusCode.NOT_FOUND, R(job_id=987654321, outcome=YES), md, "not found"),
        (grpc.StatusCode.FAILED_PRECONDITION, R(job_id=draft.id, outcome=YES), md, "COMPLETED"),
        (grpc.StatusCode.INVALID_ARGUMENT, R(job_id=fresh.id), md, "YES, NO or ANNULLED"),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            R(job_id=fresh.id, outcome=YES, markets={"m9": NO}),
            md,
            "no market",
        ),
        (grpc.StatusCode.INVALID_ARGUMENT, R(job_id=fresh.id, outcome=YES, markets={"m1": NO}), md, "goal"),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            R(job_id=fresh.id, outcome=YES, resolved_on=(created_on - timedelta(days=1)).isoformat()),
            md,
            "before the job was created",
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            R(job_id=fresh.id, outcome=YES, resolved_on=(created_on + timedelta(days=3)).isoformat()),
            md,
            "future",
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            R(job_id=fresh.id, outcome=NO, resolved_on="30/06/2026"),
            md,
            "YYYY-MM-DD",
        ),
        (
            grpc.StatusCode.INVALID_ARGUMENT,
            R(job_id=fresh.id, outcome=NO, source_url="javascript:alert(1)"),
            md,
            "http",
        ),
    ]
    for code, request, who, says in cases:
        message = await refused(code, call(stack, "ResolveJob", request, who))
        assert says in message, (request, message)
        nothing = await call(stack, "GetOutcome", jobs_pb2.GetOutcomeRequest(job_id=fresh.id), md)
        assert not nothing.HasField("outcome"), request
    # the intruder cannot read an outcome either
    await call(stack, "ResolveJob", R(job_id=fresh.id, outcome=NO), md)
    await refused(
        grpc.StatusCode.NOT_FOUND,
        call(stack, "GetOutcome", jobs_pb2.GetOutcomeRequest(job_id=fresh.id), intruder),
    )


async def test_track_records_stay_apart_and_an_operator_sees_everyones(stack: RunningStack) -> None:
    alice, bob = await register(stack), await register(stack)
    a_job, b_job = await completed_job(stack, alice), await completed_job(stack, bob)
    await call(stack, "ResolveJob", jobs_pb2.ResolveJobRequest(job_id=a_job.id, outcome=YES), alice)
    await call(stack, "ResolveJob", jobs_pb2.ResolveJobRequest(job_id=b_job.id, outcome=NO), bob)

    for who, job, happened in ((alice, a_job, True), (bob, b_job, False)):
        record = await call(stack, "GetTrackRecord", jobs_pb2.GetTrackRecordRequest(), who)
        assert record.resolved == 1 and [e.job_id for e in record.entries] == [job.id]
        p = json.loads(job.result_structured)["forecast"]["goal"]["probability"]
        assert record.forecast.count == 1
        assert record.forecast.brier == pytest.approx(brier(p, happened), abs=1e-12)
        assert record.forecast.log_score == pytest.approx(log_score(p, happened), abs=1e-12)
        assert record.forecast.sharpness == pytest.approx(abs(p - 0.5), abs=1e-12)
        bins = record.forecast.calibration
        assert len(bins) == 10 and sum(b.count for b in bins) == 1
        full = next(b for b in bins if b.count)
        assert full.lower <= p <= full.upper and full.observed == (1.0 if happened else 0.0)
        assert record.forecast.ece == pytest.approx(abs(p - (1.0 if happened else 0.0)), abs=1e-12)
        entry = record.entries[0]
        assert record.opening_price.brier == pytest.approx(brier(entry.opening_price, happened), abs=1e-12)

    await refused(
        grpc.StatusCode.PERMISSION_DENIED,
        call(stack, "GetTrackRecord", jobs_pb2.GetTrackRecordRequest(all_users=True), alice),
    )
    operator = await register(stack, STACK_OPERATOR_EMAIL)
    everyone = await call(stack, "GetTrackRecord", jobs_pb2.GetTrackRecordRequest(all_users=True), operator)
    assert everyone.all_users and {a_job.id, b_job.id} <= {e.job_id for e in everyone.entries}
    own = await call(stack, "GetTrackRecord", jobs_pb2.GetTrackRecordRequest(), operator)
    assert own.resolved == 0 and not own.entries and not own.forecast.HasField("brier")
