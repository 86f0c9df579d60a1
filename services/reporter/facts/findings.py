"""The key findings: three to five statements, most important first, each resting on posts or
trades that exist.

Candidates, in order of importance: where the goal market closed and who moved it, the sharpest
single-round swing, polarisation or consensus among the agents, a gap between belief and price,
the most influential voice, the largest change of mind and the best trader. Findings that cite
something are preferred; with almost no activity the uncited ones fill the list up to
MIN_FINDINGS, so the section still says what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.reporter import fmt

from .beliefs import GoalFacts
from .conventions import CAMP_LABELS, CAMPS, MOVED, camp_of
from .markets import MarketFacts, PriceMove, pushes_up
from .run import Row, RunIndex
from .voices import AgentStanding

MAX_FINDINGS = 5
MIN_FINDINGS = 3
# Polarised: the 10th to 90th percentile range or the spread of the agents' goal probabilities
# is at least this wide.
POLARISED_RANGE = 0.4
POLARISED_SPREAD = 0.2
# Belief and market price this far apart disagree.
BELIEF_GAP = 0.05


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    title: str
    text: str
    post_ids: list[int]
    trade_ids: list[int]


def _finding(
    kind: str, title: str, text: str, post_ids: Sequence[int] = (), trade_ids: Sequence[int] = ()
) -> Finding:
    """A candidate finding (numbered once chosen)."""
    return Finding(
        id="", kind=kind, title=title, text=text, post_ids=list(post_ids), trade_ids=list(trade_ids)
    )


def findings(
    run: RunIndex,
    goal: GoalFacts,
    markets: list[MarketFacts],
    moves: list[PriceMove],
    influencers: list[AgentStanding],
    best: AgentStanding | None,
) -> list[Finding]:
    """3 to 5 findings, each resting on posts or trades that exist (most important first)."""
    m1 = markets[0]
    m1_trades = [t for t in run.trades if t["market_id"] == m1.id]
    found = (
        _goal_market(run, m1, m1_trades),
        _largest_move(run, moves[0]) if moves else None,
        _agreement(run, goal),
        _belief_vs_market(run, goal, m1, m1_trades),
        _influence(influencers[0]) if influencers else None,
        _belief_shift(run),
        _best_trader(best) if best is not None and best.trade_ids else None,
    )
    candidates = [f for f in found if f is not None]
    cited = [f for f in candidates if f.post_ids or f.trade_ids]
    # With almost no activity there may be too little to cite; keep the uncited ones then, so the
    # section still says what happened (the writer notes that nothing could be cited).
    chosen = cited[:MAX_FINDINGS]
    if len(chosen) < MIN_FINDINGS:
        chosen += [f for f in candidates if f not in chosen][: MIN_FINDINGS - len(chosen)]
        chosen.sort(key=candidates.index)
    return [replace(f, id=f"F{i}") for i, f in enumerate(chosen, start=1)]


def _names_of_traders(run: RunIndex, trade_ids: list[int]) -> str:
    names: list[str] = []
    for trade_id in trade_ids:
        name = run.names.get(int(run.trade_by_id[trade_id]["agent_id"]), "")
        if name and name not in names:
            names.append(name)
    return " and ".join(names)


def _goal_market(run: RunIndex, m1: MarketFacts, m1_trades: Sequence[Row]) -> Finding:
    """Where the goal market ended, and the trades that put it there."""
    up = m1.change >= 0
    pushers = [t for t in m1_trades if pushes_up(t) == up] or m1_trades
    comments = run.best_first(p for p in run.posts if p.get("market_id") == m1.id)
    m1_cited = run.top_trades(pushers, 2)
    backers = _names_of_traders(run, m1_cited)
    text = (
        f"The market on the goal opened at {fmt.pct(m1.initial_price)} and closed at "
        f"{fmt.pct(m1.final_price)} ({fmt.pts(m1.change)}) after {m1.trades} trades worth "
        f"{fmt.num(m1.volume_cash)} in cash"
    )
    if backers:
        text += f"; the largest bets behind its net {'rise' if up else 'fall'} came from {backers}"
    return _finding(
        "goal_market",
        f"The goal market closed at {fmt.pct(m1.final_price)}",
        fmt.end(text),
        post_ids=[int(p["id"]) for p in comments[:1]],
        trade_ids=m1_cited,
    )


def _largest_move(run: RunIndex, mv: PriceMove) -> Finding:
    """The sharpest single-round move of any market."""
    return _finding(
        "largest_move",
        f"The sharpest swing came in round {mv.round} ({mv.phase} phase)",
        f"Market {mv.market_id} went from {fmt.pct(mv.price_before)} to "
        f"{fmt.pct(mv.price_after)} ({fmt.pts(mv.delta)}) in round {mv.round}, around "
        f"{fmt.day(mv.day)} of the {run.days}-day horizon, on "
        f"{fmt.num(mv.volume_cash)} in cash traded.",
        post_ids=mv.post_ids[:2],
        trade_ids=mv.trade_ids[:2],
    )


def _agreement(run: RunIndex, goal: GoalFacts) -> Finding:
    """Polarisation or consensus among the agents."""
    yes_ids = [a for a in sorted(run.positions) if camp_of(run.prob_at(a, run.rounds)) == "yes"]
    no_ids = [a for a in sorted(run.positions) if camp_of(run.prob_at(a, run.rounds)) == "no"]
    camps = goal.camps
    if goal.p90 - goal.p10 >= POLARISED_RANGE or goal.spread >= POLARISED_SPREAD:
        return _finding(
            "polarisation",
            "The agents are polarised",
            f"Agents split into {camps['yes']} who back the goal, {camps['no']} who oppose it "
            f"and {camps['undecided'] or 'none'} undecided: the 10th percentile sits at "
            f"{fmt.pct(goal.p10)} and the 90th at {fmt.pct(goal.p90)} (spread "
            f"{fmt.pts(goal.spread, signed=False)}).",
            post_ids=run.top_posts_of(yes_ids, 1) + run.top_posts_of(no_ids, 1),
        )
    majority = max(CAMPS, key=lambda c: (camps[c], -CAMPS.index(c)))
    return _finding(
        "consensus",
        "The agents largely agree",
        f"Most agents ({camps[majority]} of {goal.agents}) end in the "
        f"{CAMP_LABELS[majority]}; the spread of their probabilities is only "
        f"{fmt.pts(goal.spread, signed=False)}.",
        post_ids=run.top_posts_of(yes_ids if majority == "yes" else no_ids or yes_ids, 2),
    )


def _belief_vs_market(
    run: RunIndex, goal: GoalFacts, m1: MarketFacts, m1_trades: Sequence[Row]
) -> Finding | None:
    """Belief and market disagree."""
    gap = goal.probability - m1.final_price
    if abs(gap) >= BELIEF_GAP:
        # The traders who held the price away from the agents' belief.
        against = [t for t in m1_trades if pushes_up(t) == (gap < 0)]
        why = (
            f"traders betting {'against' if gap > 0 else 'on'} the goal moved the price more than "
            "the talk did"
            if against
            else "the market's trading never caught up with the talk"
        )
        return _finding(
            "belief_vs_market",
            "Belief and money disagree",
            f"Agents' own belief in the goal ends at {fmt.pct(goal.probability)}, "
            f"{fmt.pts(abs(gap), signed=False)} {'above' if gap > 0 else 'below'} the market's "
            f"{fmt.pct(m1.final_price)}: {why}.",
            trade_ids=run.top_trades(against, 3),
        )
    return None


def _influence(top: AgentStanding) -> Finding:
    """The loudest voice."""
    return _finding(
        "influence",
        f"{top.name} was the most influential voice",
        f"{top.name} gathered {top.followers} followers and {top.likes_received} likes over "
        f"{top.posts} posts, ending at {fmt.pct(top.probability)} on the goal "
        f"({CAMP_LABELS[camp_of(top.probability)]}).",
        post_ids=top.post_ids,
    )


def _belief_shift(run: RunIndex) -> Finding | None:
    """The largest change of mind (at least half of MOVED)."""
    if not run.positions:
        return None
    shifts = {a: run.prob_at(a, run.rounds) - run.prob_at(a, 0) for a in sorted(run.positions)}
    agent_id = max(shifts, key=lambda a: (abs(shifts[a]), -a))
    if abs(shifts[agent_id]) >= MOVED / 2:
        name = run.name(agent_id)
        return _finding(
            "belief_shift",
            f"{name} changed their mind the most",
            f"{name} moved from {fmt.pct(run.prob_at(agent_id, 0))} to "
            f"{fmt.pct(run.prob_at(agent_id, run.rounds))} on the goal "
            f"({fmt.pts(shifts[agent_id])}) over the run.",
            post_ids=run.top_posts_of([agent_id], 2),
            trade_ids=run.top_trades(run.trades_by_agent.get(agent_id, ()), 1),
        )
    return None


def _best_trader(best: AgentStanding) -> Finding:
    """The best trader."""
    return _finding(
        "best_trader",
        f"{best.name} traded best",
        f"{best.name} finished with the best trading result ({best.pnl:+.2f} in cash) "
        f"over {best.trades} trades.",
        trade_ids=best.trade_ids[:2],
    )
