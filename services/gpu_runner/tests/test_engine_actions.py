"""The turn schema and its validator: stated beliefs for every market, confidence, actions."""

import pytest

from services.gpu_runner.engine.actions import (
    ACTION_TYPES,
    MAX_REASON,
    InvalidTurn,
    StatedBelief,
    action_schema,
    validate_turn,
)

MARKETS = ["m1", "m2"]


def beliefs(**probs):
    return {m: {"probability": p, "reason": f"why {m}"} for m, p in probs.items()}


def turn(actions, **extra):
    return {"beliefs": beliefs(m1=0.6, m2=0.3), "confidence": 0.5, "actions": actions, **extra}


def test_every_action_type_and_market_is_in_the_schema():
    schema = action_schema(4, MARKETS)
    variants = schema["properties"]["actions"]["items"]["anyOf"]
    assert [v["properties"]["type"]["enum"][0] for v in variants] == list(ACTION_TYPES)
    stated = schema["properties"]["beliefs"]
    assert stated["required"] == MARKETS and list(stated["properties"]) == MARKETS
    assert stated["additionalProperties"] is False
    assert schema["required"] == ["beliefs", "confidence", "actions"]
    assert action_schema(4, ("m1", "m2")) is schema  # one object per shape: backends cache its encoding


def test_a_valid_turn_is_normalised():
    result = validate_turn(
        {
            "thought": " hm ",
            "beliefs": {
                "m2": {"reason": "  polls\n  moved ", "probability": 1},
                "m1": {"probability": 0.25, "reason": "the council is split"},
            },
            "confidence": 0.7,
            "actions": [
                {"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 5},
                {"type": "like", "post_id": 3.0},
                {"type": "create_post", "text": "  hello ", "stance": -1},
            ],
        },
        4,
        MARKETS,
    )
    assert result.thought == "hm"
    assert list(result.beliefs) == MARKETS  # in the run's market order, whatever the reply's order
    assert result.beliefs["m1"] == StatedBelief(0.25, "the council is split")
    assert result.beliefs["m2"] == StatedBelief(1.0, "polls moved")  # one line
    assert result.confidence == 0.7
    assert result.actions[0] == {"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 5.0}
    assert result.actions[1] == {"type": "like", "post_id": 3}
    assert result.actions[2]["text"] == "hello"


def test_an_over_long_reason_is_cut_to_one_line_not_rejected():
    long = "because " * 60
    result = validate_turn(
        {
            "beliefs": {"m1": {"probability": 0.5, "reason": long}},
            "confidence": 0.5,
            "actions": [{"type": "do_nothing"}],
        },
        4,
        ["m1"],
    )
    reason = result.beliefs["m1"].reason
    assert len(reason) <= MAX_REASON and reason.startswith("because because") and "\n" not in reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (turn([{"type": "teleport"}]), "actions[0].type: unknown action 'teleport'"),
        (
            turn([{"type": "buy", "market_id": "m1", "outcome": "maybe", "amount": 1}]),
            "actions[0].outcome: must be one of ['yes', 'no']",
        ),
        (
            turn([{"type": "buy", "market_id": "m1", "outcome": "yes", "amount": 0}]),
            "actions[0].amount: must be > 0",
        ),
        (turn([{"type": "create_post", "text": "x", "stance": 2}]), "actions[0].stance: must be <= 1"),
        (turn([{"type": "like"}]), "actions[0].post_id: required for like"),
        (turn([{"type": "like", "post_id": True}]), "actions[0].post_id: must be an integer"),
        (turn([{"type": "like", "post_id": 1, "extra": 2}]), "actions[0].extra: not a field of like"),
        (turn([]), "actions: must be a non-empty array"),
        (turn([{"type": "do_nothing"}] * 5), "actions: at most 4 per turn"),
        (
            turn([{"type": "create_post", "text": "x" * 281, "stance": 0}]),
            "actions[0].text: longer than 280 characters",
        ),
        (["not", "an", "object"], "turn: must be a JSON object"),
        (turn([{"type": "do_nothing"}], mood="happy"), "turn: unexpected field 'mood'"),
        (
            {"confidence": 0.5, "actions": [{"type": "do_nothing"}]},
            "beliefs: required (state a probability for every market)",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": beliefs(m1=0.5)},
            "beliefs.m2: required (state a probability for every market)",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": beliefs(m1=0.5, m2=0.5, m7=0.5)},
            "beliefs.m7: not a market of this run",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": beliefs(m1=64, m2=0.5)},
            "beliefs.m1.probability: must be <= 1",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": beliefs(m1=-0.1, m2=0.5)},
            "beliefs.m1.probability: must be >= 0",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": beliefs(m1="likely", m2=0.5)},
            "beliefs.m1.probability: must be a number",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": {"m1": {"probability": 0.5}, "m2": {}}},
            "beliefs.m1.reason: required",
        ),
        (
            {
                **turn([{"type": "do_nothing"}]),
                "beliefs": {**beliefs(m2=0.5), "m1": {"probability": 0.5, "reason": " "}},
            },
            "beliefs.m1.reason: must not be empty",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": {**beliefs(m1=0.5), "m2": 0.4}},
            "beliefs.m2: must be an object with probability and reason",
        ),
        (
            {
                **turn([{"type": "do_nothing"}]),
                "beliefs": {**beliefs(m2=0.5), "m1": {"probability": 0.5, "reason": "x", "source": "y"}},
            },
            "beliefs.m1.source: not a field of a belief",
        ),
        (
            {**turn([{"type": "do_nothing"}]), "beliefs": [0.5, 0.5]},
            "beliefs: must be an object with one entry per market",
        ),
        ({"beliefs": beliefs(m1=0.5, m2=0.5), "actions": [{"type": "do_nothing"}]}, "confidence: required"),
        ({**turn([{"type": "do_nothing"}]), "confidence": 1.5}, "confidence: must be <= 1"),
    ],
)
def test_out_of_schema_turns_are_rejected_with_a_reason(data, reason):
    with pytest.raises(InvalidTurn) as exc:
        validate_turn(data, 4, MARKETS)
    assert str(exc.value) == reason
