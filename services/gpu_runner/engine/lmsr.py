"""Logarithmic market scoring rule (LMSR) market maker.

Cost function ``C(q) = b * ln(sum_j exp(q_j / b))``; prices are its gradient, ``softmax(q / b)``, so
they are always positive and sum to 1. A trade of ``delta`` shares of outcome ``i`` costs
``C(q + delta * e_i) - C(q)``. Starting from prices ``p0``, the market maker can lose at most
``b * ln(1 / p0_i)`` when outcome ``i`` resolves - ``b * ln(n)`` for a uniform start - which is the
subsidy that buys liquidity.

All formulas below are written in terms of the current price ``p_i`` so they stay finite however
far ``q`` drifts (no ``exp(q / b)`` overflow).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PRICE_FLOOR = 1e-9  # keeps initial prices strictly inside (0, 1)
EPS = 1e-9  # tolerance for "spend all my cash" / "sell all my shares"


class TradeRejected(ValueError):
    """A trade that cannot be filled; ``reason`` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fill:
    """A filled trade: shares exchanged, cash paid (buy) or received (sell), prices around it."""

    shares: float
    cash: float
    price_before: float
    price_after: float


class LMSRMarket:
    """An n-outcome LMSR market maker with liquidity ``b``.

    Invariants: ``b > 0``; ``len(q) == len(q0) == n >= 2``; ``prices()`` sum to 1 and are each in
    (0, 1); volumes are non-negative; ``history`` is one price vector per closed round.
    """

    __slots__ = ("b", "history", "q", "q0", "round_cash", "round_shares", "volume_cash", "volume_shares")

    def __init__(self, b: float, initial_prices: Sequence[float]) -> None:
        if b <= 0:
            raise ValueError("liquidity b must be > 0")
        if len(initial_prices) < 2:
            raise ValueError("a market needs at least two outcomes")
        clipped = [min(max(p, PRICE_FLOOR), 1.0) for p in initial_prices]
        total = sum(clipped)
        self.b = float(b)
        # q0_i = b ln p0_i reproduces the requested prices exactly: softmax(ln p0) = p0.
        self.q0 = [self.b * math.log(p / total) for p in clipped]
        self.q = list(self.q0)
        self.volume_shares = 0.0
        self.volume_cash = 0.0
        self.round_shares = 0.0  # volume since the last close_round()
        self.round_cash = 0.0
        self.history: list[list[float]] = []

    @property
    def n(self) -> int:
        return len(self.q)

    # -- pricing -------------------------------------------------------------------------------

    def cost(self, q: Sequence[float] | None = None) -> float:
        """``C(q)``, computed with the log-sum-exp shift for stability."""
        qs = self.q if q is None else q
        top = max(qs)
        return top + self.b * math.log(sum(math.exp((x - top) / self.b) for x in qs))

    def prices(self) -> list[float]:
        top = max(self.q)
        weights = [math.exp((x - top) / self.b) for x in self.q]
        total = sum(weights)
        return [w / total for w in weights]

    def price(self, i: int) -> float:
        return self.prices()[i]

    def _moved(self, i: int, delta: float) -> list[float]:
        q = list(self.q)
        q[i] += delta
        return q

    def _others(self, i: int) -> float:
        """``b ln sum_{j != i} exp(q_j / b)``: the cost function without outcome ``i``."""
        return self.cost([x for j, x in enumerate(self.q) if j != i])

    def cost_to_buy(self, i: int, shares: float) -> float:
        """Cash needed to buy ``shares`` of outcome ``i``: ``C(q + s e_i) - C(q)``."""
        return self.cost(self._moved(i, shares)) - self.cost()

    def proceeds_of_sell(self, i: int, shares: float) -> float:
        """Cash received for selling ``shares`` of ``i``: ``C(q) - C(q - s e_i)``."""
        return self.cost() - self.cost(self._moved(i, -shares))

    def shares_for_cash(self, i: int, cash: float) -> float:
        """Shares of ``i`` that ``cash`` buys: solves ``C(q + s e_i) = C(q) + cash`` in closed form,
        ``s = T - q_i + b ln(1 - e^{(R - T)/b})`` with ``T = C(q) + cash`` and ``R`` the cost
        function over the other outcomes (``R < T``, so the logarithm is finite)."""
        target = self.cost() + cash
        return target - self.q[i] + self.b * math.log1p(-math.exp((self._others(i) - target) / self.b))

    def shares_to_receive(self, i: int, cash: float) -> float:
        """Shares of ``i`` to sell to receive ``cash``; raises if no amount of shares can."""
        target = self.cost() - cash
        rest = self._others(i)
        if target <= rest:
            raise TradeRejected("invalid_amount", "more cash than selling any number of shares yields")
        return self.q[i] - target - self.b * math.log1p(-math.exp((rest - target) / self.b))

    # -- trading -------------------------------------------------------------------------------

    def _apply(self, i: int, delta: float, cash: float) -> None:
        self.q[i] += delta
        self.volume_shares += abs(delta)
        self.volume_cash += cash
        self.round_shares += abs(delta)
        self.round_cash += cash

    def execute(
        self,
        holdings: list[float],
        cash: float,
        side: str,
        i: int,
        *,
        amount: float | None = None,
        shares: float | None = None,
    ) -> tuple[Fill, float]:
        """Fill a buy or sell for a wallet of ``cash`` and ``holdings`` (one entry per outcome).

        Exactly one of ``amount`` (cash to spend / to receive) or ``shares`` is given. Mutates
        ``holdings`` and the market and returns the fill with the wallet's new cash. Never leaves
        cash or holdings negative: a buy costing more than ``cash`` or a sell of more shares than
        held raises :class:`TradeRejected` and changes nothing.
        """
        if (amount is None) == (shares is None):
            raise TradeRejected("invalid_amount", "give exactly one of amount or shares")
        size = amount if amount is not None else shares
        if size is None or not math.isfinite(size) or size <= 0:
            raise TradeRejected("invalid_amount", "size must be a positive number")
        if not 0 <= i < self.n:
            raise TradeRejected("invalid_outcome")
        before = self.price(i)
        if side == "buy":
            if amount is not None:
                spend, delta = amount, self.shares_for_cash(i, amount)
            else:
                delta = float(size)
                spend = self.cost_to_buy(i, delta)
            if spend > cash + EPS:
                raise TradeRejected("insufficient_funds", f"needs {spend:.2f}, has {cash:.2f}")
            spend = min(spend, cash)
            self._apply(i, delta, spend)
            holdings[i] += delta
            new_cash = max(0.0, cash - spend)
            return Fill(delta, spend, before, self.price(i)), new_cash
        if side == "sell":
            delta = self.shares_to_receive(i, amount) if amount is not None else float(size)
            if delta > holdings[i] + EPS:
                raise TradeRejected("insufficient_shares", f"needs {delta:.2f}, holds {holdings[i]:.2f}")
            delta = min(delta, holdings[i])
            got = self.proceeds_of_sell(i, delta)
            self._apply(i, -delta, got)
            holdings[i] = max(0.0, holdings[i] - delta)
            return Fill(delta, got, before, self.price(i)), cash + got
        raise TradeRejected("invalid_side", side)

    # -- accounting ----------------------------------------------------------------------------

    def loss_if_resolved(self, i: int) -> float:
        """Market maker's loss if ``i`` wins: shares of ``i`` it must pay out minus cash taken in."""
        return (self.q[i] - self.q0[i]) - (self.cost() - self.cost(self.q0))

    def loss_bound(self, i: int) -> float:
        """The worst-case loss if ``i`` wins: ``b ln(1 / p0_i)`` (``b ln n`` for a uniform start)."""
        # C(q0) - q0_i = b ln(sum_j e^{q0_j/b}) - q0_i = -b ln p0_i
        return self.cost(self.q0) - self.q0[i]

    def close_round(self) -> tuple[float, float]:
        """Record the closing prices of a round; returns and resets the round's (shares, cash) volume."""
        self.history.append(self.prices())
        volume = (self.round_shares, self.round_cash)
        self.round_shares = self.round_cash = 0.0
        return volume

    # -- checkpoint ----------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "b": self.b,
            "q": list(self.q),
            "q0": list(self.q0),
            "volume_shares": self.volume_shares,
            "volume_cash": self.volume_cash,
            "round_shares": self.round_shares,
            "round_cash": self.round_cash,
            "history": [list(h) for h in self.history],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LMSRMarket:
        market = cls.__new__(cls)
        market.b = float(state["b"])
        market.q = [float(x) for x in state["q"]]
        market.q0 = [float(x) for x in state["q0"]]
        market.volume_shares = float(state["volume_shares"])
        market.volume_cash = float(state["volume_cash"])
        market.round_shares = float(state["round_shares"])
        market.round_cash = float(state["round_cash"])
        market.history = [[float(x) for x in h] for h in state["history"]]
        return market
