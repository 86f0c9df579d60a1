"""The one interface every LLM backend implements.

The engine talks to a backend only through :class:`LLMBackend`, the base class of every backend:
it sends chat messages plus a JSON schema and gets back an :class:`LLMResult` carrying the raw
text, the parsed JSON (or why it did not parse) and the token counts. Schema *validation* is the
engine's job; backends only promise to ask for constrained output where the server supports it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.openai_client import Sampling  # how a call samples: one type for every backend

Message = Mapping[str, str]


class LLMError(Exception):
    """A call that failed for good, after the backend's own retries (transport, 4xx, 5xx)."""


@dataclass(frozen=True, slots=True)
class LLMResult:
    """One completed chat call.

    Invariants: ``data`` is not None exactly when ``parse_error`` is None; token counts are
    non-negative (taken from the server's ``usage`` when it reports one, else estimated).
    """

    text: str
    data: Any
    parse_error: str | None
    prompt_tokens: int
    completion_tokens: int
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.parse_error is None


def parse_json_text(text: str) -> tuple[Any, str | None]:
    """Parse a model's reply as JSON, tolerating a Markdown code fence around it.

    Returns ``(data, None)`` or ``(None, reason)``; never raises.
    """
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        if body.startswith("json"):
            body = body[4:]
    try:
        return json.loads(body), None
    except (ValueError, RecursionError) as exc:
        return None, f"invalid JSON: {exc}"[:200]


def parse_answer(text: str, finish_reason: str | None, max_tokens: int) -> tuple[Any, str | None]:
    """:func:`parse_json_text`, saying so when the answer was cut off at ``max_tokens``."""
    data, error = parse_json_text(text)
    if error is not None and finish_reason == "length":
        error = f"the answer was cut off at max_tokens={max_tokens} ({error})"
    return data, error


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters per token) for servers that report no usage."""
    return max(1, len(text) // 4)


class LLMBackend(ABC):
    """An async chat-completion backend returning JSON.

    ``capacity`` is how many calls the backend serves at once; the engine keeps exactly that many
    in flight (an asyncio semaphore of that size), never one per agent. A backend implements
    :meth:`generate`; callers use :meth:`complete_json`.
    """

    name: str
    model: str
    capacity: int

    async def complete_json(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        *,
        schema_name: str = "response",
        max_tokens: int = 512,
        temperature: float = 0.7,
        seed: int | None = None,
    ) -> LLMResult:
        """Run one chat completion constrained to ``schema`` (sampled with ``seed`` where the
        backend can); raise :class:`LLMError` on failure."""
        return await self.generate(messages, schema, schema_name, Sampling(max_tokens, temperature, seed))

    @abstractmethod
    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        """:meth:`complete_json`, its sampling arguments in one value."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections / the model."""
