"""Where the agents and the seed's stakeholders stand on the goal at the end of the quoted run.

`GoalFacts` is the crowd: its confidence-weighted probability and spread (the engine's numbers),
the percentiles and the camps, then and at the start. `Stakeholder` is one entity of the seed,
told through its own agent (the first agent of an entity is the entity itself; later ones were
sampled from the mix), with the mean of all its agents alongside.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conventions import camp_of, r4
from .run import RunIndex


@dataclass(frozen=True)
class GoalFacts:
    goal: str
    question: str
    # Agents' confidence-weighted probability and the weighted spread across agents.
    probability: float
    spread: float
    initial_probability: float
    initial_spread: float
    market_probability: float
    p10: float
    p50: float
    p90: float
    agents: int
    camps: dict[str, int]
    initial_camps: dict[str, int]


@dataclass(frozen=True)
class Stakeholder:
    entity_id: str
    name: str
    kind: str
    agents: int
    initial_probability: float
    final_probability: float
    shift: float
    stance: str
    mean_agent_probability: float
    posts: int
    trades: int
    pnl: float


def goal_facts(run: RunIndex) -> GoalFacts:
    raw = run.art.goal
    initial, initial_spread = run.goal_at(0)
    final_k = run.rounds
    return GoalFacts(
        goal=run.ctx.goal or str(raw["question"]),
        question=str(raw["question"]),
        probability=float(raw["belief_probability"]),
        spread=float(raw["spread"]),
        initial_probability=r4(initial),
        initial_spread=r4(initial_spread),
        market_probability=float(raw["market_probability"]),
        p10=float(raw["p10"]),
        p50=float(raw["p50"]),
        p90=float(raw["p90"]),
        agents=len(run.agents),
        camps=run.camps_at(final_k),
        initial_camps=run.camps_at(0),
    )


def stakeholders(run: RunIndex) -> list[Stakeholder]:
    groups: dict[str, list[int]] = {}
    for agent_id in sorted(run.profiles):
        groups.setdefault(str(run.profiles[agent_id]["entity_id"]), []).append(agent_id)
    final_k = run.rounds
    out = []
    for entity_id, agent_ids in groups.items():
        rep = agent_ids[0]  # the entity's own agent; later ones were sampled from the mix
        profile = run.profiles[rep]
        if rep not in run.positions:
            continue
        initial = run.prob_at(rep, 0)
        final = run.prob_at(rep, final_k)
        known = [a for a in agent_ids if a in run.positions]
        stats = run.stats(rep)
        out.append(
            Stakeholder(
                entity_id=entity_id,
                name=str(profile["name"]),
                kind=str(profile["kind"]),
                agents=len(agent_ids),
                initial_probability=r4(initial),
                final_probability=r4(final),
                shift=r4(final - initial),
                stance=camp_of(final),
                mean_agent_probability=r4(sum(run.prob_at(a, final_k) for a in known) / len(known)),
                posts=int(stats.get("posts", 0)),
                trades=int(stats.get("trades", 0)),
                pnl=float(profile.get("pnl", 0.0)),
            )
        )
    return out
