"""OpenAI-compatible ``/v1/chat/completions`` over HTTP (a remote ``vllm serve``, another provider).

The HTTP side - structured output through ``response_format`` in the form the server takes,
retries of 429, 5xx, timeouts and connection errors with backoff (honouring ``Retry-After``) - is
:class:`services.common.openai_client.ChatClient`; this backend turns its answers into
:class:`LLMResult` (estimating token counts where the server reports none).

Concurrency: ``concurrency`` is what the server serves at once (e.g. vLLM's ``max_num_seqs``).
``capacity`` - the number of requests the engine keeps open - adds ``queue_depth`` more (default:
as many again), so the server always holds ready requests in its own queue and starts one the
instant a slot frees, instead of idling for a client round trip. Set ``queue_depth=0`` for
providers that answer excess requests with 429 instead of queueing them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.common.openai_client import ChatClient, ChatError

from .base import LLMBackend, LLMError, LLMResult, Message, Sampling, estimate_tokens, parse_answer


class OpenAIBackend(LLMBackend):
    """An OpenAI-compatible chat endpoint."""

    name = "openai"
    heuristic = False

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        concurrency: int = 16,
        queue_depth: int | None = None,
        max_retries: int = 5,
        **client_options: Any,
    ) -> None:
        """``client_options``: the rest of :class:`ChatClient`'s (``api_key``, ``timeout_s``,
        ``backoff_s``, ``max_backoff_s``, ``response_format``, ``extra_body``)."""
        if concurrency < 1 or (queue_depth is not None and queue_depth < 0):
            raise ValueError("concurrency must be >= 1 and queue_depth >= 0")
        self.model = model
        self.concurrency = concurrency
        self.queue_depth = concurrency if queue_depth is None else queue_depth
        self.capacity = concurrency + self.queue_depth
        self.client = ChatClient(
            base_url, model, concurrency=self.capacity, attempts=max_retries + 1, **client_options
        )

    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        try:
            answer = await self.client.complete(messages, schema, schema_name=schema_name, sampling=sampling)
        except ChatError as exc:
            raise LLMError(str(exc)) from exc
        data, error = parse_answer(answer.text, answer.finish_reason, sampling.max_tokens)
        prompt = "".join(str(m.get("content", "")) for m in messages)
        return LLMResult(
            text=answer.text,
            data=data,
            parse_error=error,
            prompt_tokens=answer.prompt_tokens or estimate_tokens(prompt),
            completion_tokens=answer.completion_tokens or estimate_tokens(answer.text),
            attempts=answer.attempts,
        )

    async def aclose(self) -> None:
        await self.client.aclose()
