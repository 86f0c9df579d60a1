"""The heuristic backend: no LLM at all.

It marks the run for the engine's rule-based persona policy (``heuristic = True``), which plays
the same action space, markets and beliefs deterministically from the job's seed. Results carry
``backend.heuristic = true`` so reports can label them. It answers no text completions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .base import LLMBackend, LLMError, LLMResult, Message, Sampling


class HeuristicBackend(LLMBackend):
    """Deterministic, CPU-only; the CPU default."""

    heuristic = True
    name = "heuristic"

    def __init__(self, model: str = "heuristic-rules-v1", capacity: int = 1) -> None:
        self.model = model
        self.capacity = capacity

    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        raise LLMError("the heuristic backend has no text completions; the engine plays its turns by rule")

    async def aclose(self) -> None:
        return None
