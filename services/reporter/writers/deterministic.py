"""The deterministic writer: every section's prose from the facts alone (no model, same bytes each time).

It is the default writer and the fallback of the LLM writer, section by section. Each function
below writes one section, so the LLM writer can fall back for just the section that failed.
"""

from __future__ import annotations

from services.reporter import fmt
from services.reporter.facts import CAMP_LABELS, BranchFacts, NewsEvent, PhaseFacts, ReportFacts
from services.reporter.key_insight import deterministic_key_insight, replicate_phrase
from services.reporter.writers.base import DETERMINISTIC, ReportProse, WrittenReport


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _goal_quote(facts: ReportFacts) -> str:
    return f"“{fmt.plain(facts.goal.goal)}”"


def _headline(facts: ReportFacts) -> str:
    """'63.0% (80% interval 55.0–70.0%)': the goal's forecast."""
    f = facts.forecast
    return fmt.estimate(f.probability, f.interval, f.level)


def _quoted_run(facts: ReportFacts) -> str:
    """How to name the run whose posts and trades the report quotes."""
    return "In the run," if facts.forecast.replicates == 1 else "In the first run, the one quoted here,"


def executive_summary(facts: ReportFacts) -> str:
    s, g, v, f = facts.scale, facts.goal, facts.verdict, facts.forecast
    viewpoints = sum(1 for st in facts.stakeholders if st.kind == "viewpoint")
    drawn_from = fmt.count(len(facts.stakeholders) - viewpoints, "stakeholder")
    if viewpoints:
        drawn_from += f" and {fmt.count(viewpoints, 'viewpoint')}"
    parts = [
        f"{fmt.count(s.agents, 'agent')} drawn from {drawn_from} in the seed "
        f"argued and traded over {fmt.count(s.rounds, 'round')} standing for a {s.forecast_days}-day "
        f"horizon, writing {fmt.count(s.posts, 'post')} and making {fmt.count(s.trades, 'trade')} across "
        f"{fmt.count(s.markets, 'prediction market')}.",
        f"The goal, {_goal_quote(facts)}, comes out {v.label} at {_headline(facts)} "
        f"{replicate_phrase(f.replicates)}, combining a market price of {fmt.pct(f.market)} with the "
        f"agents' stated beliefs of {fmt.pct(f.belief)}.",
    ]
    if v.low_evidence:
        parts.append("The seed gave little evidence, so this is a weak number.")
    drift = g.probability - g.initial_probability
    quoted = _quoted_run(facts)
    if facts.moves:
        mv = facts.moves[0]
        parts.append(
            f"{quoted} the agents' belief moved from {fmt.pct(g.initial_probability)} to "
            f"{fmt.pct(g.probability)} ({fmt.pts(drift)}, spread {fmt.pts(g.spread, signed=False)}) over "
            f"the horizon, and the sharpest market swing was {mv.market_id} going {fmt.pts(mv.delta)} in "
            f"round {mv.round} ({fmt.day(mv.day)})."
        )
    else:
        parts.append(
            f"{quoted} the agents' belief moved from {fmt.pct(g.initial_probability)} to "
            f"{fmt.pct(g.probability)} ({fmt.pts(drift)}, spread {fmt.pts(g.spread, signed=False)}) over "
            "the horizon, and no market moved by more than half a point in a round."
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
    v = facts.verdict
    horizon = f"within the {facts.scale.forecast_days}-day horizon"
    weak = ", on little evidence from the seed" if v.low_evidence else ""
    runs = replicate_phrase(facts.forecast.replicates)
    if v.label == "too close to call":
        return (
            f"Too close to call: the simulation puts {_goal_quote(facts)} at {_headline(facts)} {horizon} "
            f"{runs}{weak}, so neither side has a clear edge."
        )
    return (
        f"{_cap(v.label)}: the simulation puts {_goal_quote(facts)} at {_headline(facts)} {horizon} "
        f"{runs}{weak}."
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
    s, f = facts.scale, facts.forecast
    level = fmt.level_name(f.level)
    each = "; ".join(f"{m.id} {fmt.pct(m.probability)} ({fmt.interval(m.interval)})" for m in facts.markets)
    parts = [
        f"The forecasts {replicate_phrase(f.replicates)}, with their {level}s, are {each}.",
        f"{_quoted_run(facts)} {fmt.num(s.volume_cash)} in cash ({fmt.num(s.volume_shares)} shares) changed "
        f"hands in {s.trades} trades across {s.markets} market{'s' if s.markets != 1 else ''}.",
    ]
    mover = max(facts.markets, key=lambda m: (abs(m.change), m.id))
    if abs(mover.change) < 0.005:
        parts.append("No market's price moved by more than half a point over that run.")
    elif len(facts.markets) > 1:
        parts.append(
            f"{mover.id} travelled furthest, from {fmt.pct(mover.initial_price)} to "
            f"{fmt.pct(mover.final_price)} ({fmt.pts(mover.change)})."
        )
    gap_market = max(facts.markets, key=lambda m: (abs(m.forecast_belief - m.forecast_market), m.id))
    gap = gap_market.forecast_belief - gap_market.forecast_market
    if abs(gap) >= 0.02:
        parts.append(
            f"The widest gap between what agents say and what they pay is on {gap_market.id}: stated "
            f"beliefs of {fmt.pct(gap_market.forecast_belief)} against a price of "
            f"{fmt.pct(gap_market.forecast_market)}, "
            f"so the price sits {fmt.pts(abs(gap), signed=False)} {'below' if gap > 0 else 'above'} the talk."
        )
    else:
        parts.append("Prices ended close to the agents' stated beliefs on every market.")
    return " ".join(parts)


def news_phrase(ev: NewsEvent, limit: int = 120) -> str:
    """'“Port reopens” on day 15 (favours YES)'."""
    return f"{fmt.quote(ev.headline, limit)} on day {ev.day} ({ev.favours_label})"


def news_sentence(events: list[NewsEvent]) -> str:
    """One sentence naming the news of a phase ("" when there was none)."""
    if not events:
        return ""
    if len(events) == 1:
        return f"News broke in this phase: {news_phrase(events[0])}."
    return (
        f"{len(events)} pieces of news broke in this phase: "
        + "; ".join(news_phrase(ev) for ev in events)
        + "."
    )


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
    ]
    news = news_sentence(phase.events)
    if news:
        parts.append(news)
    parts += [
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
    v, g, f = facts.verdict, facts.goal, facts.forecast
    parts = [
        f"On balance the simulation rates {_goal_quote(facts)} as {v.label}: {_headline(facts)} "
        f"{replicate_phrase(f.replicates)}."
    ]
    width = f.interval[1] - f.interval[0]
    if f.replicates == 1:
        parts.append(
            f"With a single run, the interval ({fmt.pts(width, signed=False)} wide) comes from resampling "
            "its agents, not from repeating the run."
        )
    elif width >= 0.2:
        parts.append(
            f"The interval is wide ({fmt.pts(width, signed=False)}): the replicate runs disagree, so the "
            "outcome is sensitive to chance in the debate."
        )
    else:
        parts.append(
            f"The replicate runs agree closely: the interval is {fmt.pts(width, signed=False)} wide."
        )
    if v.low_evidence:
        parts.append(
            "The seed gave little evidence (fewer than 3 stakeholders), so treat the number as weak."
        )
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


def _camp_change(branch: BranchFacts) -> str:
    """How the camps changed from the end of the parent to the end of the branch ("" when the
    parent's camps are unknown)."""
    changes = []
    for c in branch.camps:
        if c.before_agents is None:
            return ""
        label = CAMP_LABELS[c.camp]
        if c.after_agents == c.before_agents:
            continue
        verb = "grows" if c.after_agents > c.before_agents else "shrinks"
        changes.append(f"the {label} {verb} from {c.before_agents} to {c.after_agents} agents")
    if not changes:
        return "The camps end the same size as in the parent."
    return _cap("; ".join(changes)) + " by the end of the branch."


def what_if(facts: ReportFacts) -> str:
    """The comparison of a what-if branch with its parent ("" when the run is not a branch)."""
    b = facts.branch
    if b is None:
        return ""
    news = (
        "with " + "; ".join(news_phrase(ev) for ev in b.events) + " injected"
        if b.events
        else "with no news injected"
    )
    parts = [
        f"This run branches from job {b.parent_job_id} after round {b.round} ({fmt.day(b.round_day)} of the "
        f"{facts.scale.forecast_days}-day horizon), resuming from the parent's state at that point {news}."
    ]
    after = fmt.estimate(b.after.probability, b.after.interval, b.after.level)
    if b.before is None or b.delta is None:
        parts.append(
            f"The parent's forecast is not known, so the branch stands on its own: the goal at {after}."
        )
    else:
        before = fmt.estimate(b.before.probability, b.before.interval, b.before.level)
        if round(abs(b.delta) * 100, 1) == 0.0:
            parts.append(
                f"The goal's forecast stays where the parent left it: {before} before, {after} after."
            )
        else:
            parts.append(f"The goal's forecast moves from {before} to {after}, {fmt.pts(b.delta)}.")
    camps = _camp_change(b)
    if camps:
        parts.append(camps)
    elif not b.parent_artifacts:
        parts.append("The parent's artifacts are gone, so its camps cannot be compared.")
    others = [
        (m.market_id, m.before, m.after)
        for m in b.markets
        if m.before is not None and m.market_id != facts.forecast.market_id
    ]
    if others:
        market_id, before_p, after_p = max(others, key=lambda m: (abs(m[2] - m[1]), m[0]))
        if round(abs(after_p - before_p) * 100, 1) == 0.0:
            parts.append("The other markets' forecasts stay where the parent left them.")
        else:
            parts.append(
                f"Among the other markets, {market_id} moves most, from {fmt.pct(before_p)} to "
                f"{fmt.pct(after_p)} ({fmt.pts(after_p - before_p)})."
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
        what_if=what_if(facts),
    )


class DeterministicWriter:
    """Writes every section from the facts alone."""

    name = DETERMINISTIC

    async def write(self, facts: ReportFacts) -> WrittenReport:
        return WrittenReport(prose=write_prose(facts), writer=DETERMINISTIC)
