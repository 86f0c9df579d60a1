"""The heuristic social-influence model and belief pooling (engine/beliefs.py)."""

import math

import pytest

from services.gpu_runner.engine.beliefs import (
    CONF_MAX,
    CONF_MIN,
    X_MAX,
    X_MIN,
    Rates,
    influence,
    logit,
    market_weight,
    openness,
    pool,
    sigmoid,
    spread,
)

RATES = Rates.for_rounds(15)


def step(x, conf, exposures, **kw):
    kw.setdefault("stubbornness", 0.0)
    kw.setdefault("rates", RATES)
    return influence(x, kw.pop("prior_x", x), conf, exposures, **kw)


def test_a_trusted_agreeing_post_raises_confidence_and_pulls_towards_it():
    x0 = logit(0.6)
    x, conf = step(x0, 0.5, [(logit(0.65), 1.0)])
    assert conf > 0.5
    assert x0 < x < logit(0.65)


def test_trust_scales_the_pull():
    target = [(logit(0.7), 1.0)]
    trusted = step(0.0, 0.5, target)[0]
    doubted = step(0.0, 0.5, [(logit(0.7), 0.1)])[0]
    ignored, conf = step(0.0, 0.5, [(logit(0.7), 0.0)])
    assert trusted > doubted > ignored == 0.0
    assert conf == 0.5


def test_a_post_beyond_the_confidence_bound_does_not_pull_but_lowers_confidence():
    conf = 0.9
    assert abs(0.95 - 0.05) > openness(conf)
    x, new_conf = step(logit(0.95), conf, [(logit(0.05), 1.0)])
    assert x == pytest.approx(logit(0.95))
    assert new_conf < conf


def test_likes_raise_and_dislikes_lower_confidence():
    assert step(0.0, 0.5, [], likes=5)[1] > 0.5
    assert step(0.0, 0.5, [], dislikes=5)[1] < 0.5


def test_stubborn_agents_drift_back_to_their_prior():
    free, _ = step(logit(0.8), 0.5, [], prior_x=logit(0.2))
    stubborn, _ = step(logit(0.8), 0.5, [], prior_x=logit(0.2), stubbornness=1.0)
    assert free == pytest.approx(logit(0.8)) and stubborn < logit(0.8)


def test_an_untraded_price_says_nothing_and_a_traded_one_pulls():
    assert market_weight(0.0, 15.0, 0.5) == 0.0
    assert 0.0 < market_weight(10.0, 15.0, 0.5) < market_weight(100.0, 15.0, 0.5) < 0.5
    quiet, _ = step(logit(0.8), 0.5, [], price_x=logit(0.5), price_weight=0.0)
    heard, _ = step(logit(0.8), 0.5, [], price_x=logit(0.5), price_weight=0.5)
    assert quiet == pytest.approx(logit(0.8)) and heard < logit(0.8)


def test_values_stay_in_bounds():
    x, conf = step(X_MAX, CONF_MAX, [(X_MAX, 1.0)] * 50, likes=10**6)
    assert x <= X_MAX and conf == CONF_MAX
    x, conf = step(X_MIN, CONF_MIN, [(X_MAX, 1.0)] * 50, dislikes=10**6)
    assert x >= X_MIN and conf == CONF_MIN


def test_the_same_run_length_integrates_the_same_pull_at_any_resolution():
    """15 rounds and 200 rounds of steady influence end in (nearly) the same place: tiers differ in
    resolution, not in outcome."""

    def run(rounds):
        rates = Rates.for_rounds(rounds)
        x = logit(0.3)
        for _ in range(rounds):
            x, _ = influence(x, logit(0.3), 0.5, [(logit(0.7), 0.8)] * 6, stubbornness=0.5, rates=rates)
        return sigmoid(x)

    coarse, fine = run(15), run(200)
    assert 0.3 < coarse < 0.7 and 0.3 < fine < 0.7
    assert abs(coarse - fine) < 0.03


def test_pooling_is_confidence_weighted_in_log_odds():
    assert pool([0.8, 0.8, 0.8], [0.3, 0.9, 0.5]) == pytest.approx(0.8)
    half = pool([0.9, 0.3], [0.5, 0.5])
    assert half == pytest.approx(sigmoid((logit(0.9) + logit(0.3)) / 2))
    assert 0.5 < half < 0.7
    assert pool([0.9, 0.1], [0.9, 0.1]) > 0.8
    assert pool([], []) == 0.5


def test_spread_is_the_weighted_standard_deviation():
    assert spread([1.0, 0.0], [0.9, 0.1]) == pytest.approx(0.3)
    assert spread([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert math.isfinite(logit(0.0)) and math.isfinite(logit(1.0))
