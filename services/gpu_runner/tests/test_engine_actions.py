"""The action schema and its validator."""

import pytest

from services.gpu_runner.engine.actions import ACTION_TYPES, InvalidTurn, action_schema, validate_turn


def test_every_action_type_is_in_the_schema():
    variants = action_schema()["properties"]["actions"]["items"]["anyOf"]
    assert [v["properties"]["type"]["enum"][0] for v in variants] == list(ACTION_TYPES)


def test_a_valid_turn_is_normalised():
    thought, actions = validate_turn(
        {
            "thought": " hm ",
            "actions": [
                {"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 5},
                {"type": "like", "post_id": 3.0},
                {"type": "create_post", "text": "  hello ", "stance": -1},
            ],
        }
    )
    assert thought == "hm"
    assert actions[0] == {"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 5.0}
    assert actions[1] == {"type": "like", "post_id": 3}
    assert actions[2]["text"] == "hello"


@pytest.mark.parametrize(
    ("turn", "reason"),
    [
        ({"actions": [{"type": "teleport"}]}, "actions[0].type: unknown action 'teleport'"),
        (
            {"actions": [{"type": "buy", "market_id": "m1", "outcome": "maybe", "amount": 1}]},
            "actions[0].outcome: must be one of ['yes', 'no']",
        ),
        (
            {"actions": [{"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 0}]},
            "actions[0].amount: must be > 0",
        ),
        ({"actions": [{"type": "create_post", "text": "x", "stance": 2}]}, "actions[0].stance: must be <= 1"),
        ({"actions": [{"type": "like"}]}, "actions[0].post_id: required for like"),
        ({"actions": [{"type": "like", "post_id": True}]}, "actions[0].post_id: must be an integer"),
        ({"actions": [{"type": "like", "post_id": 1, "extra": 2}]}, "actions[0].extra: not a field of like"),
        ({"actions": []}, "actions: must be a non-empty array"),
        ({"actions": [{"type": "do_nothing"}] * 5}, "actions: at most 4 per turn"),
        (
            {"actions": [{"type": "create_post", "text": "x" * 281, "stance": 0}]},
            "actions[0].text: longer than 280 characters",
        ),
        (["not", "an", "object"], "turn: must be a JSON object"),
    ],
)
def test_out_of_schema_turns_are_rejected_with_a_reason(turn, reason):
    with pytest.raises(InvalidTurn) as exc:
        validate_turn(turn)
    assert str(exc.value) == reason
