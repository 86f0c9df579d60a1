"""Schema-checked LLM calls: ask, validate, ask once more with the reason, then give up counted.

Backends return parsed JSON; this module owns the engine's rule for bad output so that entity
extraction, market derivation and agent turns all treat it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.common.artifacts import LlmUsage

from ..llm.base import LLMBackend, LLMError

T = TypeVar("T")
RETRY_ECHO_CHARS = 400


@dataclass(slots=True)
class CallStats:
    """Counters over every LLM call of a run (part of the checkpoint).

    ``calls`` holds one ``[round, agent, attempt, prompt_tokens, completion_tokens, status]`` row
    per call, with status ``ok``, ``invalid`` or ``error``; ``agent`` is -1 for pipeline calls.
    """

    calls: list[list[Any]] = field(default_factory=list)
    invalid_turns: int = 0
    retries: int = 0
    errors: int = 0

    def totals(self) -> LlmUsage:
        return {
            "calls": len(self.calls),
            "prompt_tokens": sum(c[3] for c in self.calls),
            "completion_tokens": sum(c[4] for c in self.calls),
            "invalid_turns": self.invalid_turns,
            "retries": self.retries,
            "errors": self.errors,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "invalid_turns": self.invalid_turns,
            "retries": self.retries,
            "errors": self.errors,
        }

    def snapshot(self) -> CallStats:
        """The counters as they are now; later calls do not change it (``calls`` only grows, so
        the copy shares its rows)."""
        return CallStats(self.calls[:], self.invalid_turns, self.retries, self.errors)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CallStats:
        return cls(
            [list(c) for c in state["calls"]], state["invalid_turns"], state["retries"], state["errors"]
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of :func:`call_validated`: ``value`` is None when both attempts were invalid
    (``reason`` says why) or the backend failed (``error`` is set)."""

    value: Any
    reason: str | None = None
    error: str | None = None


async def call_validated(
    backend: LLMBackend,
    messages: Sequence[Mapping[str, str]],
    schema: Mapping[str, Any],
    schema_name: str,
    validate: Callable[[Any], T],
    stats: CallStats,
    *,
    round_no: int = 0,
    agent: int = -1,
    max_tokens: int = 512,
    temperature: float = 0.7,
    seed: int | None = None,
) -> Outcome:
    """Call ``backend``, check the reply with ``validate`` (which raises ValueError with a reason),
    and on an invalid reply retry exactly once, telling the model what was wrong. ``seed`` (the
    retry uses the next one) is passed only when given."""
    convo = list(messages)
    reason = ""
    for attempt in (1, 2):
        try:
            sampling: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
            if seed is not None:
                sampling["seed"] = seed + attempt - 1
            result = await backend.complete_json(convo, schema, schema_name=schema_name, **sampling)
        except LLMError as exc:
            stats.errors += 1
            stats.calls.append([round_no, agent, attempt, 0, 0, "error"])
            return Outcome(None, error=str(exc)[:200])
        try:
            if result.parse_error is not None:
                raise ValueError(result.parse_error)
            value = validate(result.data)
        except ValueError as exc:
            reason = str(exc)[:200]
            stats.calls.append(
                [round_no, agent, attempt, result.prompt_tokens, result.completion_tokens, "invalid"]
            )
            if attempt == 1:
                stats.retries += 1
                convo = [
                    *convo,
                    # a short echo: the retry must stay near the agent's prompt budget
                    {"role": "assistant", "content": result.text[:RETRY_ECHO_CHARS]},
                    {
                        "role": "user",
                        "content": f"Your reply was invalid ({reason}). Answer again with "
                        "only a JSON object that matches the schema.",
                    },
                ]
            continue
        stats.calls.append([round_no, agent, attempt, result.prompt_tokens, result.completion_tokens, "ok"])
        return Outcome(value)
    stats.invalid_turns += 1
    return Outcome(None, reason=reason)
