"""What a forecast may be asked from, over real gRPC (real DB, NATS, S3).

- A seed under 30 words and an open-ended goal are refused with INVALID_ARGUMENT and write
  nothing; the refused goal's suggested questions are readable from the status details.
- Drafts hold anything; LaunchDraft applies the checks.
- SuggestQuestions.
- Per-tier forecast settings (replicates, market subsidy) through ListRoutes/UpsertRoute, carried by
  the dispatch, and kept by a re-dispatch together with every field of the pinned markets.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2
from grpc_status import rpc_status
from sqlalchemy import func, select
from swarmcast.jobs.v1 import jobs_pb2

from services.common.config import REPO_ROOT
from services.common.questions import analyze_goal
from services.common.status import field_violations
from services.jobs.app import JobsApp
from services.jobs.models import SimulationJob
from services.jobs.runtime_models import JobRun, OutboxMessage
from services.jobs.tests.jobs_helpers import SEED, progress, row

pytestmark = pytest.mark.asyncio(loop_scope="session")

J = jobs_pb2
DEMO_SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
DEMO_GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
OPEN_GOAL = "Predict sentiment about the levy"
SHORT_SEED = "The council votes on the Eastline levy in March. The mayor supports it."
# Just past the small tier's stale threshold in the test settings (0.5 s).
SILENCE = 0.8


async def written(app: JobsApp) -> tuple[int, int, int]:
    """Rows a submission writes: jobs, outbox messages, dispatch runs."""
    async with app.sessions() as session:
        counts = [
            (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (SimulationJob, OutboxMessage, JobRun)
        ]
    return counts[0], counts[1], counts[2]


async def refused(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    return info.value


def suggestions_of(error: grpc.aio.AioRpcError) -> list[str] | None:
    """The GoalSuggestions detail of a failed call, as any gRPC client reads it."""
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status details"
    for detail in status.details:
        found = J.GoalSuggestions()
        if detail.Unpack(found):
            return list(found.suggestions)
    return None


async def assert_nothing_dispatched(app: JobsApp, dispatch_reader: Any) -> None:
    assert await app.relay.flush() == 0
    assert await dispatch_reader.nothing()


# --- refused submissions -------------------------------------------------------------------------


async def test_a_seed_under_thirty_words_is_refused_and_nothing_is_written(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    app, md = jobs_server.app, jobs_server.md(1)
    before = await written(app)
    error = await refused(
        jobs_server.stub.CreateJob(
            J.CreateJobRequest(seed_text=SHORT_SEED, goal=DEMO_GOAL, tier="small"), metadata=md
        )
    )
    message = "seed_text is too short: 13 words; a forecast needs at least 30 words of evidence"
    assert error.details() == message
    assert field_violations(error) == {"seed_text": message}
    assert suggestions_of(error) is None  # the goal was not the problem
    assert await written(app) == before
    await assert_nothing_dispatched(app, dispatch_reader)


async def test_an_open_ended_goal_is_refused_with_suggested_questions_in_the_status(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    before = await written(app)
    request = J.CreateJobRequest(seed_text=DEMO_SEED, goal=OPEN_GOAL, tier="small", enrich_web=False)
    error = await refused(stub.CreateJob(request, metadata=md))
    assert await written(app) == before
    await assert_nothing_dispatched(app, dispatch_reader)

    suggestions = suggestions_of(error)
    assert suggestions is not None and 1 <= len(suggestions) <= 3
    # Why, in plain words, at the goal field.
    assert field_violations(error) == {"goal": analyze_goal(OPEN_GOAL).reason}
    for question in suggestions:
        assert analyze_goal(question).is_yes_no, question
        assert question in (error.details() or "")  # the plain message lists them too
    # Taking a suggestion is enough to submit.
    request.goal = suggestions[0]
    job = (await stub.CreateJob(request, metadata=md)).job
    assert job.status == J.JOB_STATUS_PENDING and job.goal == suggestions[0]


async def test_drafts_hold_anything_and_launch_applies_the_checks(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    draft = (
        await stub.CreateDraft(
            J.CreateDraftRequest(seed_text=SHORT_SEED, goal=OPEN_GOAL, tier="small"), metadata=md
        )
    ).job
    assert draft.status == J.JOB_STATUS_DRAFT and draft.goal == OPEN_GOAL
    before = await written(app)

    error = await refused(stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md))
    assert "seed_text is too short: 13 words" in (error.details() or "")
    await stub.UpdateDraft(J.UpdateDraftRequest(job_id=draft.id, seed_text=DEMO_SEED), metadata=md)
    error = await refused(stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md))
    assert suggestions_of(error), "a refused goal comes with suggested questions"
    assert set(field_violations(error)) == {"goal"}
    still = await row(app.sessions, draft.id)
    assert still is not None and still["status"].value == "DRAFT" and still["workflow_run_id"] is None
    assert await written(app) == before
    await assert_nothing_dispatched(app, dispatch_reader)

    # The demo's question is a yes/no question about an event: the draft launches.
    await stub.UpdateDraft(J.UpdateDraftRequest(job_id=draft.id, goal=DEMO_GOAL), metadata=md)
    launched = (await stub.LaunchDraft(J.LaunchDraftRequest(job_id=draft.id), metadata=md)).job
    assert launched.status == J.JOB_STATUS_PENDING and launched.goal == DEMO_GOAL
    await app.relay.flush()
    assert (await dispatch_reader.take()).goal == DEMO_GOAL


# --- SuggestQuestions ----------------------------------------------------------------------------


async def test_suggest_questions_reads_the_seed_and_judges_the_goal(jobs_server: Any) -> None:
    app, stub, md = jobs_server.app, jobs_server.stub, jobs_server.md(1)
    before = await written(app)
    open_ended = await stub.SuggestQuestions(
        J.SuggestQuestionsRequest(seed_text=DEMO_SEED, goal=OPEN_GOAL, forecast_days=30), metadata=md
    )
    assert not open_ended.goal_ok and open_ended.reason
    assert 1 <= len(open_ended.suggestions) <= 3
    assert all(analyze_goal(q).is_yes_no for q in open_ended.suggestions)

    fine = await stub.SuggestQuestions(
        J.SuggestQuestionsRequest(seed_text=DEMO_SEED, goal=DEMO_GOAL), metadata=md
    )
    assert fine.goal_ok and fine.reason == ""
    no_goal = await stub.SuggestQuestions(J.SuggestQuestionsRequest(seed_text=DEMO_SEED), metadata=md)
    assert not no_goal.goal_ok and no_goal.suggestions
    assert await written(app) == before  # suggesting stores nothing


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (J.SuggestQuestionsRequest(seed_text=""), "seed_text"),
        (J.SuggestQuestionsRequest(seed_text=" \n\t "), "seed_text"),
        (J.SuggestQuestionsRequest(seed_text="x" * 50_001), "seed_text"),
        (J.SuggestQuestionsRequest(seed_text="nul\x00byte"), "seed_text"),
        (J.SuggestQuestionsRequest(seed_text=SEED, goal="g" * 2_001), "goal"),
        (J.SuggestQuestionsRequest(seed_text=SEED, forecast_days=366), "forecast_days"),
        (J.SuggestQuestionsRequest(seed_text=SEED, forecast_days=-3), "forecast_days"),
    ],
    ids=["empty", "blank", "oversized", "nul", "long-goal", "days-366", "days-negative"],
)
async def test_suggest_questions_refuses_bad_input(
    jobs_server: Any, request_: jobs_pb2.SuggestQuestionsRequest, field: str
) -> None:
    error = await refused(jobs_server.stub.SuggestQuestions(request_, metadata=jobs_server.md(1)))
    assert set(field_violations(error)) == {field}


async def test_suggest_questions_needs_a_signed_in_user(jobs_server: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await jobs_server.stub.SuggestQuestions(J.SuggestQuestionsRequest(seed_text=SEED))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


# --- per-tier forecast settings ------------------------------------------------------------------


def settings(route: jobs_pb2.ModelRoute) -> tuple[int, int, float]:
    return route.replicates, route.heuristic_replicates, route.market_subsidy


def route_request(route: jobs_pb2.ModelRoute, **changes: Any) -> jobs_pb2.UpsertRouteRequest:
    """`route` as UpsertRoute takes it, with `changes`; its forecast settings left unset unless given."""
    values = {
        f.name: getattr(route, f.name)
        for f in route.DESCRIPTOR.fields
        if f.name not in ("id", "replicates", "heuristic_replicates", "market_subsidy")
        and (not f.has_presence or route.HasField(f.name))
    }
    return J.UpsertRouteRequest(route=J.ModelRoute(**{**values, **changes}))


async def routes_by_tier(jobs_server: Any) -> dict[str, jobs_pb2.ModelRoute]:
    listed = await jobs_server.stub.ListRoutes(J.ListRoutesRequest(), metadata=jobs_server.operator())
    return {r.sim_tier: r for r in listed.routes}


async def test_operators_read_and_change_the_tier_settings(jobs_server: Any) -> None:
    stub, op = jobs_server.stub, jobs_server.operator()
    routes = await routes_by_tier(jobs_server)
    # Migrations 0004 and 0005's rows: LLM replicates are costly, so only small runs two.
    assert {tier: settings(r) for tier, r in routes.items()} == {
        "small": (2, 5, 15.0),
        "medium": (1, 5, 15.0),
        "large": (1, 5, 15.0),
        "local": (1, 5, 15.0),
    }
    small = routes["small"]
    request = route_request(small, replicates=3, market_subsidy=40.0)
    changed = (await stub.UpsertRoute(request, metadata=op)).route
    assert settings(changed) == (3, 5, 40.0)
    assert settings((await routes_by_tier(jobs_server))["small"]) == (3, 5, 40.0)
    # Changing the route alone keeps the settings.
    kept = (await stub.UpsertRoute(route_request(small, max_rounds=12), metadata=op)).route
    assert kept.max_rounds == 12 and settings(kept) == (3, 5, 40.0)
    # A new tier runs with the defaults until an operator sets them.
    xl = J.ModelRoute(
        sim_tier="xl", model_id="Qwen/Qwen3-32B", gpu_type="NVIDIA H200", max_rounds=300, target_agents=50
    )
    created = (await stub.UpsertRoute(J.UpsertRouteRequest(route=xl), metadata=op)).route
    assert settings(created) == (1, 5, 15.0)
    tuned = (await stub.UpsertRoute(route_request(created, heuristic_replicates=8), metadata=op)).route
    assert settings(tuned) == (1, 8, 15.0)
    assert settings((await routes_by_tier(jobs_server))["xl"]) == (1, 8, 15.0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"replicates": 0}, "replicates"),
        ({"replicates": 33}, "replicates"),
        ({"heuristic_replicates": 0}, "heuristic_replicates"),
        ({"heuristic_replicates": -4}, "heuristic_replicates"),
        ({"market_subsidy": 0.0}, "market_subsidy"),
        ({"market_subsidy": -1.0}, "market_subsidy"),
        ({"market_subsidy": 10_000.01}, "market_subsidy"),
        ({"market_subsidy": math.nan}, "market_subsidy"),
        ({"market_subsidy": math.inf}, "market_subsidy"),
    ],
)
async def test_invalid_tier_settings_are_refused_and_change_nothing(
    jobs_server: Any, changes: dict[str, Any], field: str
) -> None:
    before = await routes_by_tier(jobs_server)
    # The route change in the same request is not applied either.
    request = route_request(before["small"], max_rounds=99, **changes)
    error = await refused(jobs_server.stub.UpsertRoute(request, metadata=jobs_server.operator()))
    assert set(field_violations(error)) == {field}
    assert await routes_by_tier(jobs_server) == before


async def test_only_operators_see_or_change_tier_settings(jobs_server: Any) -> None:
    small = (await routes_by_tier(jobs_server))["small"]
    request = route_request(small, replicates=9)
    for metadata, code in (
        (jobs_server.md(1), grpc.StatusCode.PERMISSION_DENIED),
        ((), grpc.StatusCode.UNAUTHENTICATED),
    ):
        for call in (
            jobs_server.stub.ListRoutes(J.ListRoutesRequest(), metadata=metadata),
            jobs_server.stub.UpsertRoute(request, metadata=metadata),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call
            assert info.value.code() == code
    assert settings((await routes_by_tier(jobs_server))["small"]) == (2, 5, 15.0)


# --- the dispatch --------------------------------------------------------------------------------

# What a runner derived and showed the user: every field must survive a re-dispatch.
MARKET_ROWS: list[dict[str, Any]] = [
    dict(
        id="m1",
        question=DEMO_GOAL,
        initial_price_yes=0.42,
        rationale="the goal",
        link=1.0,
        resolution="YES if the certified count shows at least two thirds voting yes on 14 March.",
        prior=0.38,
        kind="goal",
    ),
    dict(
        id="m2",
        question="Will the Chamber of Commerce endorse Measure T before 1 March?",
        initial_price_yes=0.3,
        rationale="a stakeholder whose endorsement the seed discusses",
        link=0.6,
        resolution="YES if the Chamber publishes an endorsement before 1 March.",
        prior=0.27,
        kind="stakeholder",
    ),
    dict(
        id="m3",
        question="Will the transit agency publish the Eastline cost audit before the vote?",
        initial_price_yes=0.55,
        rationale="a milestone",
        link=-0.35,
        resolution="YES if the audit is public before 14 March.",
        prior=None,
        kind="milestone",
    ),
]


async def test_the_dispatch_carries_the_tier_settings_and_a_redispatch_keeps_them_and_the_markets(
    jobs_server: Any, dispatch_reader: Any
) -> None:
    # The runner's side (its engine is imported only here: the rest of this file needs none of it).
    from services.gpu_runner.engine import MarketSpec
    from services.gpu_runner.service import pinned_markets, simulation_config

    markets = [MarketSpec(**values) for values in MARKET_ROWS]
    app, stub, op = jobs_server.app, jobs_server.stub, jobs_server.operator()
    small = (await routes_by_tier(jobs_server))["small"]
    tuned = route_request(small, replicates=3, heuristic_replicates=9, market_subsidy=40.0)
    await stub.UpsertRoute(tuned, metadata=op)

    request = J.CreateJobRequest(seed_text=DEMO_SEED, goal=DEMO_GOAL, tier="small", enrich_web=False)
    job = (await stub.CreateJob(request, metadata=jobs_server.md(1))).job
    await app.relay.flush()
    first = await dispatch_reader.take()
    route = first.route
    assert (route.replicates, route.heuristic_replicates, route.market_subsidy) == (3, 9, 40.0)
    # The runner builds its configuration from them, per backend.
    assert simulation_config(first, heuristic=True).replicates == 9
    llm = simulation_config(first, heuristic=False)
    assert (llm.replicates, llm.market_subsidy) == (3, 40.0)

    # The runner derives the markets and reports them; then it goes silent.
    report = progress(job.id, first.run_id, 1, 3, round=2)
    report.markets.extend([json_format.ParseDict(m.to_config(), struct_pb2.Struct()) for m in markets])
    await app.handlers.apply_progress(report)
    stored = await row(app.sessions, job.id)
    assert stored is not None and stored["markets_config"] == [m.to_config() for m in markets]
    # The operator changes the tier meanwhile: a job in flight keeps what it started with.
    retuned = route_request(small, replicates=1, heuristic_replicates=2, market_subsidy=5.0)
    await stub.UpsertRoute(retuned, metadata=op)

    await asyncio.sleep(SILENCE)
    assert (await app.detector.check_once()).redispatched == [job.id]
    await app.relay.flush()
    second = await dispatch_reader.take()
    assert second.resume and second.run_id != first.run_id
    assert second.route == first.route
    assert pinned_markets(second) == tuple(markets)
    # The other way round too: a stored config row is what the runner pins.
    assert [m.to_config() for m in pinned_markets(second) or ()] == stored["markets_config"]
