"""LMSR market maker: invariants as property tests, plus exact closed-form checks."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.gpu_runner.engine.lmsr import LMSRMarket, TradeRejected

liquidity = st.floats(min_value=1.0, max_value=5000.0)
price = st.floats(min_value=0.02, max_value=0.98)
trade = st.tuples(
    st.sampled_from(["buy", "sell"]),
    st.integers(min_value=0, max_value=1),
    st.booleans(),  # by amount (cash) or by shares
    st.floats(min_value=0.01, max_value=500.0),
)


@settings(max_examples=150, deadline=None)
@given(b=liquidity, p0=price, trades=st.lists(trade, max_size=40))
def test_prices_sum_to_one_and_wallet_never_negative(b, p0, trades):
    market = LMSRMarket(b, [p0, 1 - p0])
    cash, holdings = 200.0, [0.0, 0.0]
    for side, outcome, by_amount, size in trades:
        kwargs = {"amount": size} if by_amount else {"shares": size}
        try:
            _, cash = market.execute(holdings, cash, side, outcome, **kwargs)
        except TradeRejected as exc:
            assert exc.reason in {"insufficient_funds", "insufficient_shares", "invalid_amount"}
        prices = market.prices()
        assert math.isclose(sum(prices), 1.0, abs_tol=1e-12)
        assert all(0.0 <= p <= 1.0 for p in prices)  # > 0 mathematically; may underflow at b=1
        assert cash >= 0.0
        assert min(holdings) >= 0.0


@settings(max_examples=150, deadline=None)
@given(b=liquidity, p0=price, outcome=st.integers(0, 1), a=st.floats(0.01, 1000), extra=st.floats(0.01, 1000))
def test_cost_is_monotone_in_shares(b, p0, outcome, a, extra):
    market = LMSRMarket(b, [p0, 1 - p0])
    q = list(market.q)
    bigger = list(q)
    q[outcome] += a
    bigger[outcome] += a + extra
    assert market.cost(bigger) > market.cost(q) > market.cost()


@settings(max_examples=150, deadline=None)
@given(
    b=liquidity,
    n=st.integers(2, 5),
    buys=st.lists(st.tuples(st.integers(0, 4), st.floats(0.01, 5000)), max_size=30),
)
def test_loss_is_bounded_by_b_ln_n_from_a_uniform_start(b, n, buys):
    market = LMSRMarket(b, [1.0 / n] * n)
    for outcome, shares in buys:
        market.execute([0.0] * n, 1e12, "buy", outcome % n, shares=shares)
    for i in range(n):
        assert market.loss_if_resolved(i) <= b * math.log(n) + 1e-6
        assert math.isclose(market.loss_bound(i), b * math.log(n), rel_tol=1e-9)


@settings(max_examples=100, deadline=None)
@given(b=liquidity, p0=price, shares=st.floats(0.01, 10000))
def test_loss_bound_for_a_skewed_start_is_b_ln_one_over_p0(b, p0, shares):
    market = LMSRMarket(b, [p0, 1 - p0])
    market.execute([0.0, 0.0], 1e12, "buy", 0, shares=shares)
    assert market.loss_if_resolved(0) <= -b * math.log(p0) + 1e-6


def test_initial_prices_are_as_requested_and_buying_yes_raises_its_price():
    market = LMSRMarket(100.0, [0.3, 0.7])
    assert market.prices() == pytest.approx([0.3, 0.7])
    holdings = [0.0, 0.0]
    fill, cash = market.execute(holdings, 50.0, "buy", 0, amount=10.0)
    assert fill.cash == pytest.approx(10.0)
    assert cash == pytest.approx(40.0)
    assert holdings[0] == pytest.approx(fill.shares)
    assert fill.price_after > fill.price_before == pytest.approx(0.3)
    # cost of those shares recomputed from the cost function matches what was paid
    assert market.cost() - market.cost(market.q0) == pytest.approx(10.0)


def test_buy_by_shares_then_sell_them_back_round_trips():
    market = LMSRMarket(50.0, [0.5, 0.5])
    holdings = [0.0, 0.0]
    _, cash = market.execute(holdings, 100.0, "buy", 1, shares=20.0)
    _, cash = market.execute(holdings, cash, "sell", 1, shares=20.0)
    assert cash == pytest.approx(100.0)
    assert holdings == [0.0, 0.0]
    assert market.prices() == pytest.approx([0.5, 0.5])
    assert market.volume_shares == pytest.approx(40.0)


def test_insufficient_funds_and_shares_are_rejected_without_side_effects():
    market = LMSRMarket(100.0, [0.5, 0.5])
    holdings = [1.0, 0.0]
    before = list(market.q)
    with pytest.raises(TradeRejected) as funds:
        market.execute(holdings, 5.0, "buy", 0, amount=6.0)
    with pytest.raises(TradeRejected) as shares:
        market.execute(holdings, 5.0, "sell", 0, shares=2.0)
    assert (funds.value.reason, shares.value.reason) == ("insufficient_funds", "insufficient_shares")
    assert market.q == before and holdings == [1.0, 0.0]


def test_state_round_trips_exactly():
    market = LMSRMarket(80.0, [0.4, 0.6])
    market.execute([0.0, 0.0], 100.0, "buy", 0, amount=33.3)
    market.close_round()
    clone = LMSRMarket.from_state(market.to_state())
    assert clone.to_state() == market.to_state()
    assert clone.prices() == market.prices()
