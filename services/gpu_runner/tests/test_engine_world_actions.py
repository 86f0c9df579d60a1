"""Typed actions: every action kind of the turn schema parses to its class and has a handler."""

from services.gpu_runner.engine.actions import ACTION_TYPES, ACTIONS, Buy, DoNothing, Like, parse_action
from services.gpu_runner.engine.world import World


def test_every_action_class_has_one_handler():
    assert tuple(a.kind for a in ACTIONS) == ACTION_TYPES
    assert set(World._HANDLERS) == set(ACTIONS)


def test_a_validated_action_parses_to_its_class():
    assert parse_action({"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 5.0}) == Buy(
        "m1", "yes", 5.0
    )
    assert parse_action({"type": "like", "post_id": 3}) == Like(3)
    assert parse_action({"type": "do_nothing"}) == DoNothing()
