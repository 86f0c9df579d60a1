"""The agents' action space: a JSON schema for a turn and a validator for it.

A turn is ``{"thought": str?, "actions": [action, ...]}``. The schema is what constrained decoding
is given; :func:`validate_turn` is what the engine trusts - it checks the same rules by hand (fast,
with a precise reason) so every backend, constrained or not, is held to one standard. A turn that
fails validation is *invalid* (the LLM is asked once more, then it is counted); an action that is
well-formed but cannot apply (unknown post, insufficient funds) is *rejected* later with a reason.
"""

from __future__ import annotations

import math
from typing import Any

ACTION_TYPES = (
    "create_post",
    "reply",
    "like",
    "dislike",
    "repost",
    "follow",
    "unfollow",
    "buy",
    "sell",
    "comment_on_market",
    "do_nothing",
)
MAX_TEXT = 280
MAX_THOUGHT = 400

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
_STANCE = {"type": "number", "minimum": -1, "maximum": 1}
_ID = {"type": "integer", "minimum": 0}
_MARKET = {"type": "string", "minLength": 1, "maxLength": 32}
_OUTCOME = {"type": "string", "enum": ["yes", "no"]}

# field name -> schema, per action type ("type" is implied)
_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "create_post": {"text": _TEXT, "stance": _STANCE},
    "reply": {"post_id": _ID, "text": _TEXT, "stance": _STANCE},
    "like": {"post_id": _ID},
    "dislike": {"post_id": _ID},
    "repost": {"post_id": _ID},
    "follow": {"agent_id": _ID},
    "unfollow": {"agent_id": _ID},
    "buy": {"market_id": _MARKET, "outcome": _OUTCOME, "amount": {"type": "number", "exclusiveMinimum": 0}},
    "sell": {"market_id": _MARKET, "outcome": _OUTCOME, "shares": {"type": "number", "exclusiveMinimum": 0}},
    "comment_on_market": {"market_id": _MARKET, "text": _TEXT},
    "do_nothing": {},
}


def action_schema(max_actions: int = 4) -> dict[str, Any]:
    """The JSON schema of one agent turn (usable for guided decoding / ``response_format``)."""
    variants = []
    for kind, fields in _FIELDS.items():
        variants.append(
            {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": [kind]}, **fields},
                "required": ["type", *fields],
                "additionalProperties": False,
            }
        )
    return {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "maxLength": MAX_THOUGHT},
            "actions": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_actions,
                "items": {"anyOf": variants},
            },
        },
        "required": ["actions"],
        "additionalProperties": False,
    }


class InvalidTurn(ValueError):
    """A turn that does not match the schema; ``str()`` is the reason shown to the model."""


def _check_field(where: str, value: Any, spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    if kind == "string":
        if not isinstance(value, str):
            raise InvalidTurn(f"{where}: must be a string")
        value = value.strip()
        if len(value) < spec.get("minLength", 0):
            raise InvalidTurn(f"{where}: must not be empty")
        if len(value) > spec.get("maxLength", 1 << 30):
            raise InvalidTurn(f"{where}: longer than {spec['maxLength']} characters")
        if "enum" in spec and value not in spec["enum"]:
            raise InvalidTurn(f"{where}: must be one of {spec['enum']}")
        return value
    # JSON has no int/float distinction for us, but bool is not a number here.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidTurn(f"{where}: must be {'an integer' if kind == 'integer' else 'a number'}")
    if kind == "integer" and value != int(value):
        raise InvalidTurn(f"{where}: must be an integer")
    if "minimum" in spec and value < spec["minimum"]:
        raise InvalidTurn(f"{where}: must be >= {spec['minimum']}")
    if "maximum" in spec and value > spec["maximum"]:
        raise InvalidTurn(f"{where}: must be <= {spec['maximum']}")
    if "exclusiveMinimum" in spec and value <= spec["exclusiveMinimum"]:
        raise InvalidTurn(f"{where}: must be > {spec['exclusiveMinimum']}")
    return int(value) if kind == "integer" else float(value)


def validate_turn(data: Any, max_actions: int = 4) -> tuple[str, list[dict[str, Any]]]:
    """Check a decoded turn against the action schema.

    Returns ``(thought, actions)`` with values normalised (strings stripped, ids as int, amounts as
    float); raises :class:`InvalidTurn` naming the first offending field.
    """
    if not isinstance(data, dict):
        raise InvalidTurn("turn: must be a JSON object")
    extra = set(data) - {"thought", "actions"}
    if extra:
        raise InvalidTurn(f"turn: unexpected field {sorted(extra)[0]!r}")
    thought = data.get("thought", "")
    if not isinstance(thought, str):
        raise InvalidTurn("thought: must be a string")
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        raise InvalidTurn("actions: must be a non-empty array")
    if len(actions) > max_actions:
        raise InvalidTurn(f"actions: at most {max_actions} per turn")
    clean: list[dict[str, Any]] = []
    for n, action in enumerate(actions):
        where = f"actions[{n}]"
        if not isinstance(action, dict):
            raise InvalidTurn(f"{where}: must be an object")
        kind = action.get("type")
        fields = _FIELDS.get(kind) if isinstance(kind, str) else None
        if fields is None:
            raise InvalidTurn(f"{where}.type: unknown action {kind!r}")
        out: dict[str, Any] = {"type": kind}
        for name, spec in fields.items():
            if name not in action:
                raise InvalidTurn(f"{where}.{name}: required for {kind}")
            out[name] = _check_field(f"{where}.{name}", action[name], spec)
        if len(action) != len(fields) + 1:
            unknown = sorted(set(action) - set(fields) - {"type"})[0]
            raise InvalidTurn(f"{where}.{unknown}: not a field of {kind}")
        clean.append(out)
    return thought.strip()[:MAX_THOUGHT], clean
