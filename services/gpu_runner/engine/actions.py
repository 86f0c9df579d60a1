"""The agents' turn: a JSON schema for it, a validator for it, and the typed actions it holds.

A turn is ``{"thought": str?, "beliefs": {market_id: {"reason": str, "probability": 0..1}, ...},
"confidence": 0..1, "actions": [action, ...]}`` with a belief for every market of the run. The
schema is what constrained decoding is given; :func:`validate_turn` is what the engine trusts - it
checks the same rules by hand (fast, with a precise reason) so every backend, constrained or not,
LLM or heuristic, is held to one standard. A turn that fails validation is *invalid* (the LLM is
asked once more, then it is counted); an action that is well-formed but cannot apply (unknown post,
insufficient funds) is *rejected* later with a reason.

Each action kind is a frozen dataclass below (:data:`ACTIONS`) whose fields carry their JSON
schema, so the schema, the validator and the engine's dispatch on the action's class share one
definition; :func:`parse_action` turns a validated action object into its dataclass.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

MAX_TEXT = 280
MAX_THOUGHT = 400
MAX_REASON = 160

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
_STANCE = {"type": "number", "minimum": -1, "maximum": 1}
_ID = {"type": "integer", "minimum": 0}
_MARKET = {"type": "string", "minLength": 1, "maxLength": 32}
_OUTCOME = {"type": "string", "enum": ["yes", "no"]}
_UNIT = {"type": "number", "minimum": 0, "maximum": 1}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}


def _field(schema: dict[str, Any]) -> Any:
    """A required dataclass field that carries its JSON schema (the turn schema is built from it)."""
    return dataclasses.field(metadata={"schema": schema})


@dataclass(frozen=True, slots=True)
class CreatePost:
    """A new top-level post at ``stance`` (the author's position on the goal, in [-1, 1])."""

    kind: ClassVar[str] = "create_post"
    text: str = _field(_TEXT)
    stance: float = _field(_STANCE)


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to post ``post_id`` of the agent's feed, at ``stance`` in [-1, 1]."""

    kind: ClassVar[str] = "reply"
    post_id: int = _field(_ID)
    text: str = _field(_TEXT)
    stance: float = _field(_STANCE)


@dataclass(frozen=True, slots=True)
class Like:
    """A like of post ``post_id`` of the agent's feed."""

    kind: ClassVar[str] = "like"
    post_id: int = _field(_ID)


@dataclass(frozen=True, slots=True)
class Dislike:
    """A dislike of post ``post_id`` of the agent's feed."""

    kind: ClassVar[str] = "dislike"
    post_id: int = _field(_ID)


@dataclass(frozen=True, slots=True)
class Repost:
    """A repost of post ``post_id`` of the agent's feed (same text and stance)."""

    kind: ClassVar[str] = "repost"
    post_id: int = _field(_ID)


@dataclass(frozen=True, slots=True)
class Follow:
    """Following agent ``agent_id``."""

    kind: ClassVar[str] = "follow"
    agent_id: int = _field(_ID)


@dataclass(frozen=True, slots=True)
class Unfollow:
    """No longer following agent ``agent_id``."""

    kind: ClassVar[str] = "unfollow"
    agent_id: int = _field(_ID)


@dataclass(frozen=True, slots=True)
class Buy:
    """Spending ``amount`` (> 0) cash on ``outcome`` (yes / no) shares of market ``market_id``."""

    kind: ClassVar[str] = "buy"
    market_id: str = _field(_MARKET)
    outcome: str = _field(_OUTCOME)
    amount: float = _field(_POSITIVE)


@dataclass(frozen=True, slots=True)
class Sell:
    """Selling ``shares`` (> 0) of ``outcome`` (yes / no) on market ``market_id``."""

    kind: ClassVar[str] = "sell"
    market_id: str = _field(_MARKET)
    outcome: str = _field(_OUTCOME)
    shares: float = _field(_POSITIVE)


@dataclass(frozen=True, slots=True)
class CommentOnMarket:
    """A comment on market ``market_id`` (its stance is the author's stated belief there)."""

    kind: ClassVar[str] = "comment_on_market"
    market_id: str = _field(_MARKET)
    text: str = _field(_TEXT)


@dataclass(frozen=True, slots=True)
class DoNothing:
    """An explicit pass."""

    kind: ClassVar[str] = "do_nothing"


Action: TypeAlias = (
    CreatePost
    | Reply
    | Like
    | Dislike
    | Repost
    | Follow
    | Unfollow
    | Buy
    | Sell
    | CommentOnMarket
    | DoNothing
)
# In schema order (the order of the ``anyOf`` variants a model is shown).
ACTIONS: tuple[type[Action], ...] = (
    CreatePost,
    Reply,
    Like,
    Dislike,
    Repost,
    Follow,
    Unfollow,
    Buy,
    Sell,
    CommentOnMarket,
    DoNothing,
)
ACTION_TYPES = tuple(action.kind for action in ACTIONS)
_ACTION_BY_KIND: dict[str, type[Action]] = {action.kind: action for action in ACTIONS}
# field name -> schema, per action type ("type" is implied)
_FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    action.kind: {f.name: f.metadata["schema"] for f in dataclasses.fields(action)} for action in ACTIONS
}
_TOP_FIELDS = frozenset(("thought", "beliefs", "confidence", "actions"))


@dataclass(frozen=True, slots=True)
class StatedBelief:
    """An agent's stated probability that one market resolves YES, with its one-line reason.

    ``probability`` is in [0, 1] as stated (the engine clips it when recording); ``reason`` is one
    line of at most :data:`MAX_REASON` characters.
    """

    probability: float
    reason: str


@dataclass(frozen=True, slots=True)
class Turn:
    """A validated turn: ``beliefs`` has one entry per market, in the run's market order."""

    thought: str
    beliefs: dict[str, StatedBelief]
    confidence: float | None
    actions: list[dict[str, Any]]  # validated, in their JSON form: see :func:`parse_action`


def parse_action(data: dict[str, Any]) -> Action:
    """The typed action of one action object as :func:`validate_turn` returns it."""
    return _ACTION_BY_KIND[data["type"]](**{name: value for name, value in data.items() if name != "type"})


def action_schema(max_actions: int, market_ids: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of one agent turn (for guided decoding / ``response_format``).

    The same object is returned for the same arguments - backends cache its encoding by identity -
    so callers must not mutate it.
    """
    return _schema(max_actions, tuple(market_ids))


@functools.lru_cache(maxsize=64)
def _schema(max_actions: int, market_ids: tuple[str, ...]) -> dict[str, Any]:
    variants = []
    # Under constrained decoding a market is named from this run's markets only; the check below
    # stays lenient (an unknown market rejects that one action, not the whole turn).
    market = {"type": "string", "enum": list(market_ids)}
    for kind, fields in _FIELDS.items():
        fields = {name: market if spec is _MARKET else spec for name, spec in fields.items()}
        variants.append(
            {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": [kind]}, **fields},
                "required": ["type", *fields],
                "additionalProperties": False,
            }
        )
    # "reason" comes before "probability": under constrained decoding a model generates fields in
    # schema order, so it writes why before it commits to a number.
    belief = {
        "type": "object",
        "properties": {
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON},
            "probability": _UNIT,
        },
        "required": ["reason", "probability"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "maxLength": MAX_THOUGHT},
            "beliefs": {
                "type": "object",
                "properties": {m: belief for m in market_ids},
                "required": list(market_ids),
                "additionalProperties": False,
            },
            "confidence": _UNIT,
            "actions": {
                "type": "array",
                "minItems": 1,
                "maxItems": max_actions,
                "items": {"anyOf": variants},
            },
        },
        "required": ["beliefs", "confidence", "actions"],
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


def _one_line(text: str, limit: int) -> str:
    """Whitespace collapsed to single spaces, cut to ``limit`` characters at a word if it can be."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line.rfind(" ", 0, limit + 1)
    return line[: cut if cut > limit // 2 else limit].rstrip()


def _check_beliefs(data: Any, market_ids: Sequence[str]) -> dict[str, StatedBelief]:
    if not isinstance(data, dict):
        raise InvalidTurn("beliefs: must be an object with one entry per market")
    out: dict[str, StatedBelief] = {}
    for mid in market_ids:
        where = f"beliefs.{mid}"
        entry = data.get(mid)
        if entry is None:
            raise InvalidTurn(f"{where}: required (state a probability for every market)")
        if not isinstance(entry, dict):
            raise InvalidTurn(f"{where}: must be an object with probability and reason")
        if "probability" not in entry:
            raise InvalidTurn(f"{where}.probability: required")
        if "reason" not in entry:
            raise InvalidTurn(f"{where}.reason: required")
        if len(entry) != 2:
            unknown = sorted(set(entry) - {"probability", "reason"})[0]
            raise InvalidTurn(f"{where}.{unknown}: not a field of a belief")
        probability = _check_field(f"{where}.probability", entry["probability"], _UNIT)
        reason = entry["reason"]
        if not isinstance(reason, str):
            raise InvalidTurn(f"{where}.reason: must be a string")
        # Lenient like ``thought``: a reason is shown back to the agent, so an over-long one is cut
        # to one line rather than costing the whole turn.
        reason = _one_line(reason, MAX_REASON)
        if not reason:
            raise InvalidTurn(f"{where}.reason: must not be empty")
        out[mid] = StatedBelief(probability, reason)
    if len(data) != len(out):
        unknown = sorted(set(data) - set(out))[0]
        raise InvalidTurn(f"beliefs.{unknown}: not a market of this run")
    return out


def validate_turn(data: Any, max_actions: int, market_ids: Sequence[str]) -> Turn:
    """Check a decoded turn against :func:`action_schema` for these markets.

    Returns a :class:`Turn` with values normalised (strings stripped, reasons on one line, ids as
    int, amounts and probabilities as float, beliefs in ``market_ids`` order); raises
    :class:`InvalidTurn` naming the first offending field.
    """
    if not isinstance(data, dict):
        raise InvalidTurn("turn: must be a JSON object")
    if not _TOP_FIELDS.issuperset(data):
        raise InvalidTurn(f"turn: unexpected field {sorted(set(data) - _TOP_FIELDS)[0]!r}")
    thought = data.get("thought", "")
    if not isinstance(thought, str):
        raise InvalidTurn("thought: must be a string")
    if "beliefs" not in data:
        raise InvalidTurn("beliefs: required (state a probability for every market)")
    beliefs = _check_beliefs(data["beliefs"], market_ids)
    if "confidence" not in data:
        raise InvalidTurn("confidence: required")
    confidence = _check_field("confidence", data["confidence"], _UNIT)
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
    return Turn(thought.strip()[:MAX_THOUGHT], beliefs, confidence, clean)
