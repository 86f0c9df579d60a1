"""The deterministic writer: every section's prose from the facts alone (no model, same bytes each time).

It is the default writer and the fallback of the LLM writer, section by section. Each function
below writes one section, so the LLM writer can fall back for just the section that failed.
"""

from __future__ import annotations

from services.reporter import fmt
from services.reporter.facts import CAMP_LABELS, PhaseFacts, ReportFacts
from services.reporter.key_insight import deterministic_key_insight
from services.reporter.writers.base import DETERMINISTIC, ReportProse, WrittenReport


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _goal_quote(facts: ReportFacts) -> str:
    return f"“{facts.goal.goal.strip()}”"


def executive_summary(facts: ReportFacts) -> str:
    s, g, v = facts.scale, facts.goal, facts.verdict
    parts = [
        f"{fmt.count(s.agents, 'agent')} drawn from {fmt.count(s.entities, 'stakeholder')} in the seed "
        f"argued and traded over {fmt.count(s.rounds, 'round')} standing for a {s.forecast_days}-day "
        f"horizon, writing {fmt.count(s.posts, 'post')} and making {fmt.count(s.trades, 'trade')} across "
        f"{fmt.count(s.markets, 'prediction market')}.",
        (
            f"The goal, {_goal_quote(facts)}, comes out {v.label}: its market closed at "
            f"{fmt.pct(v.probability)} and the agents' own belief ended at {fmt.pct(g.probability)}"
            if v.basis == "market"
            else f"The goal, {_goal_quote(facts)}, comes out {v.label} on the agents' own belief of "
            f"{fmt.pct(g.probability)}, as nobody traded its market"
        )
        + f", with a spread of {fmt.pts(g.spread, signed=False)} across agents.",
    ]
    drift = g.probability - g.initial_probability
    if facts.moves:
        mv = facts.moves[0]
        parts.append(
            f"Belief moved from {fmt.pct(g.initial_probability)} to {fmt.pct(g.probability)} "
            f"({fmt.pts(drift)}) over the horizon, and the sharpest market swing was {mv.market_id} "
            f"going {fmt.pts(mv.delta)} in round {mv.round} ({fmt.day(mv.day)})."
        )
    else:
        parts.append(
            f"Belief moved from {fmt.pct(g.initial_probability)} to {fmt.pct(g.probability)} "
            f"({fmt.pts(drift)}) over the horizon, and no market moved by more than half a point in a round."
        )
    if len(facts.coalitions) >= 2:
        a, b = facts.coalitions[0], facts.coalitions[1]
        parts.append(
            f"The largest bloc is the {a.label} ({a.size} agents), facing the {b.label} ({b.size} agents)."
        )
    elif facts.coalitions:
        a = facts.coalitions[0]
        parts.append(f"One bloc dominates: the {a.label} ({a.size} agents).")
    if facts.backend.heuristic:
        parts.append(
            "The run used the heuristic backend, so these numbers are a reproducible rule-based baseline."
        )
    return " ".join(parts)


def verdict_sentence(facts: ReportFacts) -> str:
    v, g = facts.verdict, facts.goal
    horizon = f"within the {facts.scale.forecast_days}-day horizon"
    if v.basis == "belief":
        return (
            f"{_cap(v.label)} by the agents' own belief of {fmt.pct(g.probability)}, since nobody traded the "
            f"goal market (it stayed at {fmt.pct(v.probability)}), so {_goal_quote(facts)} is {v.label} "
            f"{horizon}."
        )
    if v.label == "too close to call":
        return (
            f"Too close to call: the goal market closed at {fmt.pct(v.probability)} and the agents put the "
            f"goal at {fmt.pct(g.probability)}, so neither side has a clear edge {horizon}."
        )
    tail = (
        f"and the agents agree at {fmt.pct(g.probability)}"
        if v.belief_agrees
        else f"although the agents themselves lean the other way at {fmt.pct(g.probability)}"
    )
    return (
        f"{_cap(v.label)}: the goal market closed at {fmt.pct(v.probability)} {tail}, "
        f"so {_goal_quote(facts)} is {v.label} {horizon}."
    )


def coalitions(facts: ReportFacts) -> str:
    parts = [
        "Agents are grouped by where their belief in the goal ended (the YES camp at 60% or more, the "
        "NO camp at 40% or less, the undecided middle in between) and then split by who follows whom: "
        "a coalition is a set of same-camp agents linked by follows."
    ]
    if not facts.coalitions:
        parts.append("No two agents of the same camp follow each other, so no coalition formed.")
    else:
        n = len(facts.coalitions) + facts.minor_coalitions
        parts.append(f"{n} coalition{'s' if n != 1 else ''} formed.")
        top = facts.coalitions[0]
        parts.append(
            f"The largest, the {top.label}, holds {top.size} agents averaging "
            f"{fmt.pct(top.mean_probability)} on the goal (they started at "
            f"{fmt.pct(top.initial_mean_probability)}), with {top.internal_follows} follow ties inside it."
        )
        if top.net_goal_shares:
            side = "YES" if top.net_goal_shares > 0 else "NO"
            parts.append(
                f"Its members hold a net {fmt.num(abs(top.net_goal_shares))} {side} shares "
                "in the goal market."
            )
    if facts.minor_coalitions:
        parts.append(
            f"Besides the {len(facts.coalitions)} described below, {facts.minor_coalitions} smaller "
            f"coalitions hold {facts.minor_coalition_agents} agents between them."
        )
    loners = {c: n for c, n in facts.unaligned_counts.items() if n}
    if loners:
        listed = ", ".join(f"{n} in the {CAMP_LABELS[c]}" for c, n in loners.items())
        parts.append(f"Agents who follow no one in their own camp stand alone: {listed}.")
    return " ".join(parts)


def market_commentary(facts: ReportFacts) -> str:
    s = facts.scale
    parts = [
        f"{fmt.num(s.volume_cash)} in cash ({fmt.num(s.volume_shares)} shares) changed hands in {s.trades} "
        f"trades across {s.markets} market{'s' if s.markets != 1 else ''}."
    ]
    mover = max(facts.markets, key=lambda m: (abs(m.change), m.id))
    if abs(mover.change) < 0.005:
        parts.append("No market's price moved by more than half a point over the run.")
    elif len(facts.markets) > 1:
        parts.append(
            f"{mover.id} travelled furthest, from {fmt.pct(mover.initial_price)} to "
            f"{fmt.pct(mover.final_price)} ({fmt.pts(mover.change)})."
        )
    gap_market = max(facts.markets, key=lambda m: (abs(m.belief_probability - m.final_price), m.id))
    gap = gap_market.belief_probability - gap_market.final_price
    if abs(gap) >= 0.02:
        parts.append(
            f"The widest gap between what agents believe and what they pay is on {gap_market.id}: belief "
            f"{fmt.pct(gap_market.belief_probability)} against a price of {fmt.pct(gap_market.final_price)}, "
            f"so the price sits {fmt.pts(abs(gap), signed=False)} {'below' if gap > 0 else 'above'} the talk."
        )
    else:
        parts.append("Prices ended close to the agents' own beliefs on every market.")
    return " ".join(parts)


def phase_paragraph(facts: ReportFacts, phase: PhaseFacts) -> str:
    if phase.start_round is None:
        return (
            f"No round fell in the {phase.name.lower()} third of the horizon (the run had only "
            f"{facts.scale.rounds} round{'s' if facts.scale.rounds != 1 else ''}), "
            "so positions stood still here."
        )
    rounds = (
        f"round {phase.start_round}"
        if phase.start_round == phase.end_round
        else f"rounds {phase.start_round}–{phase.end_round}"
    )
    drift = phase.goal_probability_end - phase.goal_probability_start
    trend = "held steady" if abs(drift) < 0.01 else ("rose" if drift > 0 else "fell")
    parts = [
        f"From {fmt.day(phase.start_day)} to {fmt.day(phase.end_day)} ({rounds}) the agents' belief in the "
        f"goal {trend}, from {fmt.pct(phase.goal_probability_start)} to "
        f"{fmt.pct(phase.goal_probability_end)}, while the goal market went from "
        f"{fmt.pct(phase.market_start)} to {fmt.pct(phase.market_end)}.",
        (
            f"{phase.moved_yes} agent{'s' if phase.moved_yes != 1 else ''} moved towards YES and "
            f"{phase.moved_no} towards NO"
            if phase.moved_yes or phase.moved_no
            else "No agent's belief moved by 5 points or more"
        )
        + f"; the spread went from {fmt.pts(phase.spread_start, signed=False)} to "
        f"{fmt.pts(phase.spread_end, signed=False)}.",
    ]
    if phase.mover is not None:
        m = phase.mover
        evidence = fmt.cite(m.post_ids[:1])
        parts.append(
            f"{m.name} shifted most, from {fmt.pct(m.probability_before)} to {fmt.pct(m.probability_after)}"
            + (f" {evidence}." if evidence else ".")
        )
    if phase.top_post_id is not None:
        parts.append(
            f"The phase's most engaged post was {fmt.cite([phase.top_post_id])}, among {phase.posts} "
            f"posts and {phase.trades} trades."
        )
    return " ".join(parts)


def conclusion(facts: ReportFacts) -> str:
    v, g = facts.verdict, facts.goal
    parts = [
        f"On balance the simulation rates {_goal_quote(facts)} as {v.label}: {fmt.pct(v.probability)} on the "
        f"goal market and {fmt.pct(g.probability)} by the agents' belief."
    ]
    drift = abs(g.probability - g.initial_probability)
    if drift < 0.03:
        parts.append(
            "Positions barely moved over the horizon, so the outcome reflects where the stakeholders started "
            "more than anything said during the run."
        )
    else:
        parts.append(
            f"Belief moved {fmt.pts(drift, signed=False)} over the horizon, "
            "so the debate itself changed minds."
        )
    if g.spread >= 0.2:
        parts.append(
            f"With a spread of {fmt.pts(g.spread, signed=False)} the camps remain far apart; watch the "
            f"undecided agents and the largest traders for the next move."
        )
    if facts.backend.heuristic:
        parts.append(
            "Because the heuristic backend drove the agents, read this as a reproducible baseline; "
            "a run with a language model backend gives the agents' own judgement."
        )
    return " ".join(parts)


def write_prose(facts: ReportFacts) -> ReportProse:
    return ReportProse(
        executive_summary=executive_summary(facts),
        verdict_sentence=verdict_sentence(facts),
        finding_titles={f.id: f.title for f in facts.findings},
        finding_texts={f.id: f.text for f in facts.findings},
        coalitions=coalitions(facts),
        market_commentary=market_commentary(facts),
        belief_dynamics={p.name: phase_paragraph(facts, p) for p in facts.phases},
        conclusion=conclusion(facts),
        key_insight=deterministic_key_insight(facts),
    )


class DeterministicWriter:
    """Writes every section from the facts alone."""

    name = DETERMINISTIC

    async def write(self, facts: ReportFacts) -> WrittenReport:
        return WrittenReport(prose=write_prose(facts), writer=DETERMINISTIC)
