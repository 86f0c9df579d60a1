"""The prediction markets: each market's forecast and its path in the quoted run, and the largest
single-round price moves with the trades and posts around them.

A move is a round-over-round change of a market's YES price of at least MIN_MOVE; the MAX_MOVES
largest are described, each with the biggest trades that pushed the price its way and the posts
of that round and the one before that best explain it.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.reporter import fmt

from .conventions import phase_of_round, r4, stance_of
from .forecast import interval
from .run import Row, RunIndex

# Price moves smaller than this (half a point) are noise, not "moves".
MIN_MOVE = 0.005
MAX_MOVES = 3


@dataclass(frozen=True)
class MarketFacts:
    id: str
    question: str
    rationale: str
    # How the market settles ("" when the artifacts predate resolution criteria).
    resolution: str
    is_goal: bool
    # The market's forecast over all replicates: probability, interval, mean price, mean belief.
    probability: float
    interval: list[float]
    forecast_market: float
    forecast_belief: float
    # Replicate 0 (the quoted run) from here on.
    initial_price: float
    final_price: float
    change: float
    belief_probability: float
    high: float
    high_round: int
    low: float
    low_round: int
    volume_shares: float
    volume_cash: float
    trades: int
    traders: int


@dataclass(frozen=True)
class PriceMove:
    market_id: str
    question: str
    round: int
    day: float
    phase: str
    price_before: float
    price_after: float
    delta: float
    volume_cash: float
    trade_ids: list[int]
    post_ids: list[int]
    traders: list[str]


def pushes_up(trade: Row) -> bool:
    """Whether a trade raises the YES price: buying YES or selling NO."""
    return (trade["side"] == "buy") == (trade["outcome"] == "yes")


def market_facts(run: RunIndex) -> list[MarketFacts]:
    out = []
    by_id = run.art.forecast["markets"]
    for i, m in enumerate(run.art.markets):
        estimate = by_id[str(m["id"])]
        curve = m["curve"]
        prices = [float(p["price_yes"]) for p in curve]
        high_k = max(range(len(prices)), key=lambda k: (prices[k], -k))
        low_k = min(range(len(prices)), key=lambda k: (prices[k], k))
        trades = [t for t in run.trades if t["market_id"] == m["id"]]
        final = float(m["final_price_yes"])
        initial = float(m["initial_price_yes"])
        out.append(
            MarketFacts(
                id=str(m["id"]),
                question=str(m["question"]),
                rationale=str(m.get("rationale", "")),
                resolution=fmt.plain(m.get("resolution") or ""),
                is_goal=i == 0,
                probability=float(estimate["probability"]),
                interval=interval(estimate["interval"]),
                forecast_market=float(estimate["market"]),
                forecast_belief=float(estimate["belief"]),
                initial_price=initial,
                final_price=final,
                change=r4(final - initial),
                belief_probability=float(m["belief_probability"]),
                high=prices[high_k],
                high_round=int(curve[high_k]["round"]),
                low=prices[low_k],
                low_round=int(curve[low_k]["round"]),
                volume_shares=float(m["total_volume_shares"]),
                volume_cash=float(m["total_volume_cash"]),
                trades=len(trades),
                traders=len({int(t["agent_id"]) for t in trades}),
            )
        )
    return out


def price_moves(run: RunIndex) -> list[PriceMove]:
    candidates: list[tuple[float, str, int]] = []
    for m in run.art.markets:
        curve = m["curve"]
        for k in range(1, len(curve)):
            delta = float(curve[k]["price_yes"]) - float(curve[k - 1]["price_yes"])
            if abs(delta) >= MIN_MOVE:
                candidates.append((delta, str(m["id"]), k))
    # Largest first; ties go to the earlier round and the lower market id, so output is stable.
    candidates.sort(key=lambda c: (-abs(c[0]), c[2], c[1]))
    moves = []
    for delta, market_id, k in candidates[:MAX_MOVES]:
        market = next(m for m in run.art.markets if m["id"] == market_id)
        up = delta > 0
        in_round = [t for t in run.trades if t["market_id"] == market_id and int(t["round"]) == k]
        aligned = [t for t in in_round if pushes_up(t) == up] or in_round
        trade_ids = run.top_trades(aligned, 3)
        traders = {int(t["agent_id"]) for t in run.trades if int(t["id"]) in trade_ids}
        moves.append(
            PriceMove(
                market_id=market_id,
                question=str(market["question"]),
                round=k,
                day=run.day(k),
                phase=phase_of_round(k, run.rounds),
                price_before=float(market["curve"][k - 1]["price_yes"]),
                price_after=float(market["curve"][k]["price_yes"]),
                delta=r4(delta),
                volume_cash=float(market["curve"][k].get("volume_cash", 0.0)),
                trade_ids=trade_ids,
                post_ids=_posts_around(run, market_id, k, up, traders),
                traders=[run.name(a) for a in sorted(traders)],
            )
        )
    return moves


def _posts_around(run: RunIndex, market_id: str, k: int, up: bool, traders: set[int]) -> list[int]:
    """The posts of the move's round and the round before that best explain it.

    Preference: comments on this market, then posts by the move's traders, then posts whose stance
    points the way the price went; engagement breaks ties.
    """
    pool = [p for p in run.posts if int(p["round"]) in (k - 1, k) and p["kind"] != "repost"]

    def rank(p: Row) -> tuple[int, int, int, float, int]:
        stance = stance_of(p)
        return (
            0 if p.get("market_id") == market_id else 1,
            0 if int(p["author_id"]) in traders else 1,
            0 if (stance > 0) == up and stance != 0 else 1,
            -run.scores[int(p["id"])],
            int(p["id"]),
        )

    pool.sort(key=rank)
    return [int(p["id"]) for p in pool[:3]]
