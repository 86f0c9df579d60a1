"""What-if branches in the engine: a run resumed from one of its round checkpoints reproduces the
run exactly without injected events, and news injected there moves the forecast the way it
favours (heuristic backend, the Harbor City demo seed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.common.scheduled_events import ScheduledEvent, round_end_day
from services.gpu_runner.engine import (
    SimulationConfig,
    SimulationRequest,
    SimulationResult,
    resume_simulation,
    run_simulation,
)
from services.gpu_runner.llm import make_backend

REPO_ROOT = Path(__file__).resolve().parents[3]
SEED = (REPO_ROOT / "demos" / "harbor_transit.md").read_text(encoding="utf-8")
GOAL = "Will Measure T (the Eastline light-rail levy) pass on 14 March?"
ROUNDS = 10
# The job's own news: day 9 of 30 falls in round 3, day 25 in round 9.
OWN_EVENTS = (
    ScheduledEvent(9, "Transit union endorses Measure T", "The union's 4,000 members are urged to vote yes."),
    ScheduledEvent(25, "Court delays the levy's audit", "", "no"),
)
BRANCH_ROUND = 4


def request(events: tuple[ScheduledEvent, ...] = OWN_EVENTS) -> SimulationRequest:
    config = SimulationConfig(agents=30, rounds=ROUNDS, seed=3, replicates=2, forecast_days=30)
    return SimulationRequest(SEED, GOAL, config, events=events)


async def parent_run() -> tuple[SimulationResult, dict[int, bytes]]:
    checkpoints: dict[int, bytes] = {}

    def keep(round_no: int, data: bytes) -> None:
        checkpoints[round_no] = data

    result = await run_simulation(request(), make_backend("heuristic"), on_checkpoint=keep)
    return result, checkpoints


def dumps(result: SimulationResult) -> dict[str, Any]:
    """Everything a run hands back, as JSON text (artifacts are bytes already)."""
    return {
        "artifacts": result.artifacts,
        "graph": json.dumps(result.result_graph, sort_keys=True),
        "summary": json.dumps(result.summary, sort_keys=True),
        "markets": json.dumps(result.markets_config, sort_keys=True),
    }


@pytest.mark.parametrize("branch_round", [0, 1, 4, 9])
async def test_a_branch_without_events_reproduces_its_parent_byte_for_byte(branch_round: int) -> None:
    parent, checkpoints = await parent_run()
    assert sorted(checkpoints) == list(range(ROUNDS + 1))
    resumed_rounds: list[int] = []
    branch = await resume_simulation(
        checkpoints[branch_round],
        make_backend("heuristic"),
        on_checkpoint=lambda r, _: resumed_rounds.append(r),
        inject_events=(),
    )
    assert resumed_rounds == list(range(branch_round + 1, ROUNDS + 1))
    assert dumps(branch) == dumps(parent)
    # the parent's own events were in the checkpoint, also those scheduled after the branch round
    assert [e["round"] for e in branch.summary["events"]] == [3, 9]


async def goal_run_pair(favours: str) -> tuple[dict[str, Any], dict[str, Any], int]:
    """(no-event branch, branch with one injected event favouring ``favours``) at BRANCH_ROUND, as
    parsed market_curves and agent_trajectories, and the round the event entered."""
    _, checkpoints = await parent_run()
    base = await resume_simulation(checkpoints[BRANCH_ROUND], make_backend("heuristic"))
    event = ScheduledEvent(0, "Poll: the levy gains ground", "A new poll moves the race.", favours)
    moved = await resume_simulation(
        checkpoints[BRANCH_ROUND], make_backend("heuristic"), inject_events=[event]
    )

    def parsed(r: SimulationResult) -> dict[str, Any]:
        return {
            "curves": json.loads(r.artifacts["market_curves.json"]),
            "trajectories": json.loads(r.artifacts["agent_trajectories.json"]),
            "summary": r.summary,
            "artifacts": r.artifacts,
        }

    return parsed(base), parsed(moved), BRANCH_ROUND + 1


def goal_beliefs(trajectories: dict[str, Any], round_no: int) -> list[float]:
    return [a["beliefs"]["m1"][round_no] for a in trajectories["agents"]]


@pytest.mark.parametrize(("favours", "sign"), [("yes", 1), ("no", -1)])
async def test_injected_news_moves_the_forecast_and_every_stated_belief_its_way(
    favours: str, sign: int
) -> None:
    base, moved, news_round = await goal_run_pair(favours)
    # the forecast, its market part and its stated-belief part all move the way the news favours
    before, after = base["summary"]["forecast"]["goal"], moved["summary"]["forecast"]["goal"]
    assert sign * (after["probability"] - before["probability"]) > 0.01
    assert sign * (after["market"] - before["market"]) > 0
    assert sign * (after["belief"] - before["belief"]) > 0
    assert sign * (after["interval"][0] - before["interval"][0]) > 0
    # nothing differs before the news; from its round on every agent states a belief moved its way
    for r in range(news_round):
        assert goal_beliefs(moved["trajectories"], r) == goal_beliefs(base["trajectories"], r)
    for r in (news_round, ROUNDS):
        pairs = zip(
            goal_beliefs(moved["trajectories"], r), goal_beliefs(base["trajectories"], r), strict=True
        )
        assert all(sign * (m - b) > 0 for m, b in pairs)
    # linked markets move by their link: m2 runs against the goal (link < 0), m3 with it
    links = {m["id"]: m["link"] for m in base["curves"]["markets"]}
    assert links["m2"] < 0 < links["m3"]

    def pooled(run: dict[str, Any], market: str) -> float:
        return run["curves"]["replicate_curves"][0]["beliefs"][market][news_round]

    assert sign * (pooled(moved, "m2") - pooled(base, "m2")) < 0
    assert sign * (pooled(moved, "m3") - pooled(base, "m3")) > 0
    # the branch's artifacts list the event at the round it entered, on the day that round ends
    day = round_end_day(news_round, ROUNDS, 30)
    injected = {"round": news_round, "day": day, "headline": "Poll: the levy gains ground"}
    rows = moved["curves"]["events"]
    assert [{k: e[k] for k in injected} for e in rows if e["round"] == news_round] == [injected]
    assert [e["favours"] for e in rows] == ["", favours, "no"]  # the parent's own news stays


async def test_neutral_news_moves_no_belief_and_no_trade() -> None:
    base, moved, news_round = await goal_run_pair("")
    for name in ("agent_trajectories.json", "profiles.json", "posts.json", "trades.json"):
        assert moved["artifacts"][name] == base["artifacts"][name], name
    assert moved["summary"]["forecast"] == base["summary"]["forecast"]
    assert [e["round"] for e in moved["curves"]["events"]] == [3, news_round, 9]
    assert moved["artifacts"]["chat_log.json"] != base["artifacts"]["chat_log.json"]  # the news is shown


async def test_news_for_a_day_inside_the_horizon_enters_its_round_not_before_the_branch() -> None:
    _, checkpoints = await parent_run()
    events = [ScheduledEvent(27, "Late news", favours="yes"), ScheduledEvent(2, "Old news", favours="yes")]
    branch = await resume_simulation(
        checkpoints[BRANCH_ROUND], make_backend("heuristic"), inject_events=events
    )
    rows = [(e["round"], e["day"], e["headline"]) for e in branch.summary["events"]]
    # day 2 falls in round 1, long before the branch: it enters the branch's first round, keeping its day
    assert rows == [
        (3, 9, OWN_EVENTS[0].headline),
        (5, 2, "Old news"),
        (9, 25, OWN_EVENTS[1].headline),
        (9, 27, "Late news"),
    ]


async def test_events_cannot_be_injected_after_the_last_round() -> None:
    _, checkpoints = await parent_run()
    with pytest.raises(ValueError, match="no round is left"):
        await resume_simulation(
            checkpoints[ROUNDS], make_backend("heuristic"), inject_events=[ScheduledEvent(0, "Too late")]
        )
