"""The agents worth naming: quotable posts, the most influential agents and the best and worst
traders, each with the posts and trades that show what they did.

Quotes are up to MAX_QUOTES posts - the best-scored for and against the goal first, then the rest
by score - one per author, so a single loud agent cannot fill the list. Influence is followers
plus likes received; trading results are the profiles' profit and loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conventions import phase_of_round, r4, stance_of
from .run import Row, RunIndex, from_row

MAX_QUOTES = 5
# A post quoted as for (or against) the goal leans at least this far that way.
QUOTE_STANCE = 0.2


@dataclass(frozen=True)
class Quote:
    post_id: int
    author_id: int
    author: str
    round: int
    day: float
    phase: str
    kind: str
    stance: float
    text: str
    score: float


@dataclass(frozen=True)
class AgentStanding:
    agent_id: int
    name: str
    followers: int
    likes_received: int
    posts: int
    trades: int
    pnl: float
    probability: float
    post_ids: list[int]
    trade_ids: list[int]


def quotes(run: RunIndex) -> list[Quote]:
    """Up to five quotable posts: the best-scored for and against, then the rest by score.

    One post per author, so a single loud agent cannot fill the list.
    """
    known = {int(p["id"]): p for p in run.posts}
    pool = [known[int(p["id"])] for p in run.art.top_posts if int(p.get("id", -1)) in known]
    if not pool:
        pool = [p for p in run.posts if p["kind"] != "repost"]
    ranked = run.best_first(pool)
    chosen: list[Row] = []
    authors: set[int] = set()

    def take(p: Row) -> None:
        if len(chosen) < MAX_QUOTES and int(p["author_id"]) not in authors and p not in chosen:
            chosen.append(p)
            authors.add(int(p["author_id"]))

    for side in (1, -1):
        for p in ranked:
            if stance_of(p) * side >= QUOTE_STANCE:
                take(p)
                break
    for p in ranked:
        take(p)
    return [
        from_row(
            Quote,
            p,
            post_id=int(p["id"]),
            day=run.day(int(p["round"])),
            phase=phase_of_round(int(p["round"]), run.rounds),
            stance=stance_of(p),
            score=r4(run.scores[int(p["id"])]),
        )
        for p in run.best_first(chosen)
    ]


def standing(run: RunIndex, agent_id: int) -> AgentStanding:
    stats = run.stats(agent_id)
    return AgentStanding(
        agent_id=agent_id,
        name=run.name(agent_id),
        followers=run.followers(agent_id, stats.get("followers", 0)),
        likes_received=int(stats.get("likes_received", 0)),
        posts=int(stats.get("posts", 0)),
        trades=int(stats.get("trades", 0)),
        pnl=_pnl(run, agent_id),
        probability=r4(run.prob_at(agent_id, run.rounds)) if agent_id in run.positions else 0.5,
        post_ids=run.top_posts_of([agent_id], 2),
        trade_ids=run.top_trades(run.trades_by_agent.get(agent_id, ()), 3),
    )


def _pnl(run: RunIndex, agent_id: int) -> float:
    return float(run.profiles.get(agent_id, {}).get("pnl", 0.0))


def influencers(run: RunIndex) -> list[AgentStanding]:
    def reach(a: int) -> tuple[int, int, int]:
        followers = run.followers(a)
        return (followers + int(run.stats(a).get("likes_received", 0)), followers, -a)

    ranked = sorted(run.positions, key=reach, reverse=True)
    return [standing(run, a) for a in ranked[:3]]


def traders(run: RunIndex) -> tuple[AgentStanding | None, AgentStanding | None]:
    """The best and the worst trader by profit and loss (no worst one when only one traded)."""
    active = [a for a in sorted(run.trades_by_agent) if a in run.profiles]
    if not active:
        return None, None
    pnl = {a: _pnl(run, a) for a in active}
    best = max(active, key=lambda a: (pnl[a], -a))
    worst = min(active, key=lambda a: (pnl[a], a))
    return standing(run, best), (standing(run, worst) if worst != best else None)
