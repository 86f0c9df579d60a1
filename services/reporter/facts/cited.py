"""The evidence behind the facts: every post and trade id cited anywhere in them, and what a
writer may say about each (author, round, text; side, size and prices).

Every id a fact cites is taken from posts.json / trades.json, so it exists; writers quote and
describe only these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .camps import Coalition
from .conventions import stance_of
from .findings import Finding
from .markets import PriceMove
from .run import RunIndex, from_row
from .timeline import PhaseFacts
from .voices import AgentStanding, Quote


@dataclass(frozen=True)
class EvidencePost:
    author_id: int
    author: str
    round: int
    kind: str
    stance: float
    text: str


@dataclass(frozen=True)
class EvidenceTrade:
    agent_id: int
    agent: str
    round: int
    market_id: str
    side: str
    outcome: str
    shares: float
    cash: float
    price_before: float
    price_after: float


def cited_ids(
    moves: list[PriceMove],
    coalitions: list[Coalition],
    phases: list[PhaseFacts],
    quotes: list[Quote],
    findings: list[Finding],
    standings: Iterable[AgentStanding | None],
) -> tuple[set[int], set[int]]:
    """The post ids and the trade ids these facts cite."""
    posts: set[int] = set()
    trades: set[int] = set()
    for mv in moves:
        posts.update(mv.post_ids)
        trades.update(mv.trade_ids)
    for c in coalitions:
        posts.update(c.post_ids)
    for ph in phases:
        if ph.top_post_id is not None:
            posts.add(ph.top_post_id)
        if ph.mover is not None:
            posts.update(ph.mover.post_ids)
    posts.update(q.post_id for q in quotes)
    for f in findings:
        posts.update(f.post_ids)
        trades.update(f.trade_ids)
    for a in standings:
        if a is not None:
            posts.update(a.post_ids)
            trades.update(a.trade_ids)
    return posts, trades


def evidence_post(run: RunIndex, post_id: int) -> EvidencePost:
    post = run.post_by_id[post_id]
    return from_row(EvidencePost, post, stance=stance_of(post))


def evidence_trade(run: RunIndex, trade_id: int) -> EvidenceTrade:
    trade = run.trade_by_id[trade_id]
    return from_row(EvidenceTrade, trade, agent=run.name(int(trade["agent_id"])))
