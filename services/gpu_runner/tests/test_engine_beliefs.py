"""Belief updates: trust-weighted, bounded confidence, reactions move confidence."""

import pytest

from services.gpu_runner.engine.beliefs import CONF_MAX, CONF_MIN, goal_probability, openness, update_belief


def test_a_trusted_agreeing_post_raises_confidence_and_pulls_position():
    pos, conf = update_belief(0.3, 0.5, [(0.45, 1.0)])
    assert conf > 0.5
    assert 0.3 < pos < 0.45


def test_trust_scales_the_effect():
    trusted = update_belief(0.0, 0.5, [(0.5, 1.0)])
    doubted = update_belief(0.0, 0.5, [(0.5, 0.1)])
    ignored = update_belief(0.0, 0.5, [(0.5, 0.0)])
    assert trusted[0] > doubted[0] > ignored[0] == 0.0
    assert ignored[1] == 0.5


def test_a_post_beyond_the_confidence_bound_does_not_move_position_but_lowers_confidence():
    conf = 0.9
    assert 1.9 > openness(conf)
    pos, new_conf = update_belief(0.9, conf, [(-1.0, 1.0)])
    assert pos == 0.9
    assert new_conf < conf


def test_likes_raise_and_dislikes_lower_confidence():
    assert update_belief(0.0, 0.5, [], likes=5)[1] > 0.5
    assert update_belief(0.0, 0.5, [], dislikes=5)[1] < 0.5


def test_stubborn_agents_drift_back_to_their_anchor():
    free, _ = update_belief(0.5, 0.5, [], stubbornness=0.0, anchor=-0.5)
    stubborn, _ = update_belief(0.5, 0.5, [], stubbornness=1.0, anchor=-0.5)
    assert free == 0.5 and stubborn < 0.5


def test_values_stay_in_bounds():
    pos, conf = update_belief(1.0, CONF_MAX, [(1.0, 1.0)] * 50, likes=10**6)
    assert pos <= 1.0 and conf == CONF_MAX
    pos, conf = update_belief(-1.0, CONF_MIN, [(1.0, 1.0)] * 50, dislikes=10**6)
    assert pos >= -1.0 and conf == CONF_MIN


def test_goal_probability_is_confidence_weighted_with_spread():
    prob, spread = goal_probability([1.0, -1.0], [0.9, 0.1])
    assert prob == pytest.approx(0.9)
    assert spread == pytest.approx(0.3)
    assert goal_probability([0.0, 0.0], [0.5, 0.5]) == (0.5, 0.0)
