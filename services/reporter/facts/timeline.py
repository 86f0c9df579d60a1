"""Belief dynamics over time: the run cut into the Early, Mid and Late thirds of the forecast
horizon, each with the goal probability, spread, market price and camps at its ends, how many
agents moved each way, its activity, its best post and the agent who moved most.

A phase holds the rounds whose end day falls in its third; a run of fewer than three rounds leaves
some phases empty, and an empty phase stands at the state the earlier phases left. A phase also
names the news (scheduled events) that entered in its rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conventions import MOVED, PHASE_NAMES, phase_of_round, r4
from .events import NewsEvent
from .run import RunIndex


@dataclass(frozen=True)
class Mover:
    agent_id: int
    name: str
    probability_before: float
    probability_after: float
    post_ids: list[int]


@dataclass(frozen=True)
class PhaseFacts:
    name: str
    start_day: float
    end_day: float
    # None when the run was too short to put a round in this third of the horizon.
    start_round: int | None
    end_round: int | None
    goal_probability_start: float
    goal_probability_end: float
    spread_start: float
    spread_end: float
    market_start: float
    market_end: float
    camps_end: dict[str, int]
    moved_yes: int
    moved_no: int
    posts: int
    trades: int
    volume_cash: float
    top_post_id: int | None
    mover: Mover | None
    # The news that entered in this phase's rounds, in round order.
    events: list[NewsEvent]


def phase_rounds(rounds: int) -> dict[str, range]:
    """The rounds of each phase (a phase may be empty when there are fewer than three rounds)."""
    out: dict[str, list[int]] = {name: [] for name in PHASE_NAMES}
    for r in range(1, rounds + 1):
        out[phase_of_round(r, rounds)].append(r)
    return {name: range(rs[0], rs[-1] + 1) if rs else range(0) for name, rs in out.items()}


def phases(run: RunIndex, events: list[NewsEvent]) -> list[PhaseFacts]:
    out = []
    third = run.days / 3
    done = 0  # rounds in earlier phases: the state an empty phase stands at
    for i, (name, rounds) in enumerate(phase_rounds(run.rounds).items()):
        done += len(rounds)
        # An empty phase starts and ends where the earlier phases left off (no activity in it).
        k0, k1 = (rounds.start - 1, rounds.stop - 1) if rounds else (done, done)
        g0, s0 = run.goal_at(k0)
        g1, s1 = run.goal_at(k1)
        deltas = {a: run.positions[a][k1] - run.positions[a][k0] for a in sorted(run.positions)}
        phase_posts = run.best_first(
            p for p in run.posts if int(p["round"]) in rounds and p["kind"] != "repost"
        )
        out.append(
            PhaseFacts(
                name=name,
                start_day=r4(third * i),
                end_day=r4(third * (i + 1)),
                start_round=rounds.start if rounds else None,
                end_round=rounds.stop - 1 if rounds else None,
                goal_probability_start=r4(g0),
                goal_probability_end=r4(g1),
                spread_start=r4(s0),
                spread_end=r4(s1),
                market_start=run.price_at(run.goal_market_id, k0),
                market_end=run.price_at(run.goal_market_id, k1),
                camps_end=run.camps_at(k1),
                moved_yes=sum(1 for d in deltas.values() if d >= MOVED),
                moved_no=sum(1 for d in deltas.values() if d <= -MOVED),
                posts=sum(1 for p in run.posts if int(p["round"]) in rounds),
                trades=sum(1 for t in run.trades if int(t["round"]) in rounds),
                volume_cash=r4(
                    sum(float(m["curve"][r]["volume_cash"]) for m in run.art.markets for r in rounds)
                ),
                top_post_id=int(phase_posts[0]["id"]) if phase_posts else None,
                mover=_mover(run, deltas, rounds),
                events=[ev for ev in events if ev.round in rounds],
            )
        )
    return out


def _mover(run: RunIndex, deltas: dict[int, float], rounds: range) -> Mover | None:
    """The agent whose position moved most over ``rounds`` (``deltas``), if it moved at least
    half of MOVED."""
    if not deltas:
        return None
    agent_id = max(deltas, key=lambda a: (abs(deltas[a]), -a))
    if abs(deltas[agent_id]) >= MOVED / 2:
        return Mover(
            agent_id=agent_id,
            name=run.name(agent_id),
            probability_before=r4(run.prob_at(agent_id, rounds.start - 1)),
            probability_after=r4(run.prob_at(agent_id, rounds.stop - 1)),
            post_ids=run.top_posts_of([agent_id], 2, rounds),
        )
    return None
