"""One client for OpenAI-compatible chat servers (``POST /v1/chat/completions``).

The runner's ``openai`` backend (agent turns against ``vllm serve`` or a provider) and the reporter's
LLM writer both talk through :class:`ChatClient`:

- one ``aiohttp`` session whose pool holds ``concurrency`` connections; a request beyond that
  waits for a free one (callers bound their own concurrency, so that wait has no time limit).
  aiohttp, not httpx: httpx's pool rescans its connections for every queued request, which at the
  runner's 128 requests in flight made 1,024 calls take 55 s instead of 0.9 s;
- ``timeout_s`` bounds each wait for the server - a non-streamed answer comes at once, so it bounds
  the whole answer - and connecting gets at most ``CONNECT_TIMEOUT_S`` of it;
- JSON-schema-constrained output through ``response_format``, in the forms of
  :mod:`services.common.structured_output`: a server that refuses a form is asked again at once in
  the next one (not a spent attempt), and never in the refused one again;
- ``RETRY_STATUS`` answers, timeouts, connection errors and a 200 whose body is not JSON are retried
  with exponential backoff and jitter, or after the server's ``Retry-After`` (capped at
  ``max_backoff_s``); other answers fail at once;
- a failure for good is a :class:`ChatError`; a :class:`Completion` carries the server's token usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.common.retry import backoff_delay
from services.common.structured_output import FormatNegotiation, refuses_response_format

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("swarmcast.openai_client")

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
CONNECT_TIMEOUT_S = 10.0


class ChatError(Exception):
    """A chat call that failed for good: an answer that is not retried, a malformed completion, or
    every attempt spent."""


@dataclass(frozen=True, slots=True)
class Sampling:
    """How one completion is sampled; ``seed`` is sent only when given."""

    max_tokens: int = 512
    temperature: float = 0.7
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """One answer: the assistant's text, why it stopped, and the attempts it took.

    Token counts are the server's ``usage`` (0 where it reports none)."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    attempts: int


def chat_url(base_url: str) -> str:
    """The chat-completions URL of a server given as a host, its ``/v1`` or the full URL."""
    base = base_url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


class ChatClient:
    """An OpenAI-compatible chat endpoint (see the module docstring).

    ``attempts`` counts every try of one call (at least 1); ``sampling`` serves the calls that name
    none; ``extra_body`` adds server-specific members to every request (e.g. ``repeat_penalty``).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout_s: float = 120.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        max_tokens: int = 512,
        temperature: float = 0.7,
        response_format: str = "json_schema",
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = chat_url(base_url)
        self.model = model
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sampling = Sampling(max_tokens, temperature)
        self.formats = FormatNegotiation(response_format)
        self.extra_body = dict(extra_body or {})
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp is imported on first use: the engine imports `Sampling` from here and never calls
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(
                    limit=self.concurrency, limit_per_host=self.concurrency, keepalive_timeout=60
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=min(CONNECT_TIMEOUT_S, self.timeout_s), sock_read=self.timeout_s
                ),
                cookie_jar=aiohttp.DummyCookieJar(),  # an API has no cookies; skip the jar's work
            )
        return self._session

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        schema: Mapping[str, Any] | None = None,
        *,
        schema_name: str = "response",
        sampling: Sampling | None = None,
    ) -> Completion:
        """The answer to ``messages``, constrained to ``schema`` where given; raises :class:`ChatError`."""
        sampling = sampling or self.sampling
        body = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            **({"seed": sampling.seed} if sampling.seed is not None else {}),
            **self.extra_body,
        }
        import aiohttp  # for its exception types (see `_http` for why not at the top)

        head = json.dumps(body)[:-1]  # without its closing brace: response_format goes last
        last = "no attempt made"
        attempt = 0  # spent attempts
        while attempt < self.attempts:
            retry_after = None
            # the schema is the same object call after call: FormatNegotiation encodes it once
            form = "" if schema is None else self.formats.encoded(schema, schema_name)
            try:
                async with self._http().post(self.url, data=head + form + "}") as response:
                    status, raw = response.status, await response.read()
                    retry_after = response.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = f"{type(exc).__name__}: {exc}"[:200]
            else:
                if status == 200:
                    try:
                        payload = json.loads(raw)
                    except ValueError:
                        last = f"a completion that is not JSON: {raw[:100]!r}"
                    else:
                        return _completion(payload, attempt + 1)
                else:
                    text = raw[:300].decode(errors="replace")
                    last = f"HTTP {status}: {text[:200]}"
                    if form and refuses_response_format(status, text) and self.formats.refused():
                        log.info(
                            "%s refused response_format (%s); now asking with %s",
                            self.url,
                            last,
                            self.formats.style,
                        )
                        continue  # asked again in the next form: not a spent attempt
                    if status not in RETRY_STATUS:
                        raise ChatError(last)
            attempt += 1
            if attempt < self.attempts:
                await asyncio.sleep(self._delay(attempt, retry_after))
        raise ChatError(f"gave up after {self.attempts} attempts: {last}")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds before retry ``attempt`` (1-based): the server's ``Retry-After`` in seconds where it
        sends one, else exponential backoff; at most ``max_backoff_s`` either way."""
        if retry_after:
            with contextlib.suppress(ValueError):
                return min(self.max_backoff_s, max(0.0, float(retry_after)))
        return backoff_delay(attempt, base_delay=self.backoff_s, max_delay=self.max_backoff_s)

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def _completion(payload: Any, attempts: int) -> Completion:
    try:
        choice = payload["choices"][0]
        text = choice["message"]["content"] or ""
        usage = payload.get("usage") or {}
        completion = Completion(
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            attempts=attempts,
        )
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise ChatError(f"malformed completion payload: {exc!r}") from None
    if not isinstance(text, str):
        raise ChatError(f"malformed completion payload: content is {type(text).__name__}")
    return completion
