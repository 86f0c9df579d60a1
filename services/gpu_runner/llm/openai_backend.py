"""OpenAI-compatible ``/v1/chat/completions`` over HTTP (a remote ``vllm serve``, another provider).

Structured output through ``response_format``: the ``json_schema`` form first, and llama.cpp's
``json_object`` + ``schema`` form (then none) once a server refuses it
(``services.common.structured_output``). Retries 429, 5xx, timeouts and connection errors with
exponential backoff plus jitter (honouring ``Retry-After``); other 4xx fail at once.

Concurrency: ``concurrency`` is what the server serves at once (e.g. vLLM's ``max_num_seqs``).
``capacity`` - the number of requests the engine keeps open - adds ``queue_depth`` more (default:
as many again), so the server always holds ready requests in its own queue and starts one the
instant a slot frees, instead of idling for a client round trip. Set ``queue_depth=0`` for
providers that answer excess requests with 429 instead of queueing them.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from services.common.structured_output import FormatNegotiation, refuses_response_format

from .base import LLMError, LLMResult, Message, estimate_tokens, parse_json_text

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def chat_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


class OpenAIBackend:
    """An OpenAI-compatible chat endpoint."""

    name = "openai"
    heuristic = False

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        concurrency: int = 16,
        queue_depth: int | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        extra_body: Mapping[str, Any] | None = None,
        response_format: str = "json_schema",
    ) -> None:
        if concurrency < 1 or (queue_depth is not None and queue_depth < 0):
            raise ValueError("concurrency must be >= 1 and queue_depth >= 0")
        self.url = chat_url(base_url)
        self.model = model
        self.concurrency = concurrency
        self.queue_depth = concurrency if queue_depth is None else queue_depth
        self.capacity = concurrency + self.queue_depth
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.extra_body = dict(extra_body or {})
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._jitter = random.Random()
        self.formats = FormatNegotiation(response_format)

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self.capacity, limit_per_host=self.capacity, keepalive_timeout=60
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                cookie_jar=aiohttp.DummyCookieJar(),  # an API has no cookies; skip the jar's work
            )
            self._slots = asyncio.Semaphore(self.capacity)
        return self._session

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(self.max_backoff_s, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = min(self.max_backoff_s, self.backoff_s * (2**attempt))
        return base * (0.5 + self._jitter.random())  # full jitter around the exponential step

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
        session = self._ensure_session()
        assert self._slots is not None
        body = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            **({"seed": seed} if seed is not None else {}),
            **self.extra_body,
        }
        head = json.dumps(body)[:-1]
        last = "no attempt made"
        attempt = 0
        while attempt <= self.max_retries:
            retry_after = None
            # the schema is the same object call after call: its JSON is encoded once
            payload = head + self.formats.encoded(schema, schema_name) + "}"
            try:
                async with self._slots, session.post(self.url, data=payload, headers=self._headers) as resp:
                    if resp.status == 200:
                        return self._result(json.loads(await resp.read()), attempt + 1, body["messages"])
                    text = (await resp.text())[:300]
                    last = f"HTTP {resp.status}: {text[:200]}"
                    if refuses_response_format(resp.status, text) and self.formats.refused():
                        continue  # asked again in the next form; not a spent attempt
                    if resp.status not in RETRY_STATUS:
                        raise LLMError(last)
                    retry_after = resp.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                last = f"{type(exc).__name__}: {exc}"[:200]
            if attempt < self.max_retries:
                await asyncio.sleep(self._delay(attempt, retry_after))
            attempt += 1
        raise LLMError(f"gave up after {self.max_retries + 1} attempts: {last}")

    def _result(self, payload: Any, attempts: int, messages: list[dict[str, Any]]) -> LLMResult:
        try:
            text = payload["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"malformed completion payload: {exc!r}") from exc
        usage = payload.get("usage") or {}
        data, error = parse_json_text(text)
        if error is not None and payload["choices"][0].get("finish_reason") == "length":
            error = f"the answer was cut off at max_tokens ({error})"
        return LLMResult(
            text=text,
            data=data,
            parse_error=error,
            prompt_tokens=int(usage.get("prompt_tokens") or 0)
            or estimate_tokens("".join(str(m.get("content", "")) for m in messages)),
            completion_tokens=int(usage.get("completion_tokens") or 0) or estimate_tokens(text),
            attempts=attempts,
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
