"""llama.cpp in-process on the CPU (``llama-cpp-python``, the optional ``local-llm`` extra).

One GGUF file is loaded into ``contexts`` independent llama.cpp contexts (the weights are
memory-mapped, so the file is in memory once); each call takes an idle context and runs in a worker
thread - ctypes releases the GIL while llama.cpp computes, so the contexts overlap on the cores.
Each context keeps its previous prompt, and llama.cpp reuses the longest common token prefix: the
system message every agent shares is evaluated once per context, not once per call.

Output is constrained by the JSON schema compiled to a llama.cpp grammar (once per schema, by
:func:`schema_grammar`: llama-cpp-python's converter, keeping the schema's property order - a model
writes an agent's reason before its probability - and bounding the numeric ranges the converter
leaves open, so a probability cannot come out as 1.5). A reply
cut off by ``max_tokens`` comes back as text that does not parse, which the engine retries once and
then counts as a failed turn. A prompt longer than the context raises :class:`LLMError`.

``llama_cpp`` is imported only here, and only when this backend is built.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import LLMBackend, LLMError, LLMResult, Message, Sampling, parse_answer

GGUF_MAGIC = b"GGUF"


class ModelFileError(Exception):
    """The GGUF file is missing, unreadable or not a GGUF model (the runner cannot start)."""


def check_gguf(path: Path) -> None:
    """Fail with one clear sentence unless ``path`` is a readable GGUF file."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise ModelFileError(f"the model file {path} does not exist") from None
    except OSError as exc:
        raise ModelFileError(f"the model file {path} cannot be read: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"the model file {path} is not a GGUF model (corrupt or another format)")


JSON_CHAR = r'[^"\\\x00-\x1F\x7F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F])'
_FRACTION = '("." [0-9]{1,4})?'
_UNIT = f'("0" {_FRACTION} | "1" ("." "0"{{1,4}})?)'
_NATURAL = '("0" | [1-9] [0-9]{0,9})'


# llama.cpp compiles a string's maxLength into that many nested rules, and its grammar parser fails
# on long ones (2,500 crashed llama_cpp.server): longer bounds are left to the caller's validation.
MAX_GRAMMAR_STRING = 512


def _range_rule(schema: Mapping[str, Any]) -> str | None:
    """A GBNF body for the bounded numbers the agent schemas use, None for any other number."""
    kind, low, high = schema.get("type"), schema.get("minimum"), schema.get("maximum")
    above_zero = schema.get("exclusiveMinimum") == 0
    if high is not None and (low, high) not in ((0, 1), (-1, 1)):
        return None
    if kind == "integer" and low == 0 and high is None:
        return f"{_NATURAL} space"
    if kind != "number":
        return None
    if (low, high) == (0, 1):
        return f"{_UNIT} space"
    if (low, high) == (-1, 1):
        return f'"-"? {_UNIT} space'
    if above_zero:
        return f'([1-9] [0-9]{{0,9}} {_FRACTION} | "0." [0-9]{{0,3}} [1-9]) space'
    if low == 0:
        return f"{_NATURAL} {_FRACTION} space"
    return None


def _property_order(schema: Any, seen: dict[str, int]) -> dict[str, int]:
    """Every property name in the order the schema declares it (depth first)."""
    if isinstance(schema, Mapping):
        for name, sub in (schema.get("properties") or {}).items():
            seen.setdefault(name, len(seen))
            _property_order(sub, seen)
        for key in ("items", "anyOf", "oneOf", "allOf"):
            subs = schema.get(key)
            for sub in subs if isinstance(subs, list) else [subs] if subs else []:
                _property_order(sub, seen)
    return seen


def schema_grammar(schema: Mapping[str, Any]) -> str:
    """The GBNF grammar of ``schema`` (see the module docstring)."""
    from llama_cpp import llama_grammar

    class Converter(llama_grammar.SchemaConverter):
        def visit(self, schema: dict[str, Any], name: str) -> str:
            body = _range_rule(schema)
            if body is not None:
                return str(self._add_rule(name or "root", body))
            if schema.get("type") == "string" and schema.get("maxLength", 0) > MAX_GRAMMAR_STRING:
                char = self._add_primitive("char", llama_grammar.PRIMITIVE_RULES["char"])
                return str(self._add_rule(name or "root", f'"\\"" {char}* "\\"" space'))
            return str(super().visit(schema, name))

    converter = Converter(
        prop_order=_property_order(schema, {}), allow_fetch=False, dotall=False, raw_pattern=False
    )
    resolved = converter.resolve_refs(json.loads(json.dumps(schema)), "schema")
    converter.visit(resolved, "")
    if "char" in converter._rules:
        # JSON forbids raw control characters in a string; llama-cpp-python's rule lets a newline
        # through, which made "Invalid control character" the commonest invalid turn.
        converter._rules["char"] = JSON_CHAR
    return str(converter.format_grammar())


@dataclass(slots=True)
class Throughput:
    """Completion tokens over the time at least one context was generating (thread-safe).

    ``busy_seconds`` is the union of the calls' intervals, so overlapping calls are not counted
    twice: tokens / busy_seconds is the backend's throughput, busy_seconds / wall its busy share.
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    busy_seconds: float = 0.0
    # The most calls generating at the same moment (how far the contexts overlapped).
    peak_active: int = 0
    _active: int = 0
    _busy_since: float = 0.0
    _lock: threading.Lock | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self) -> None:
        assert self._lock is not None
        with self._lock:
            if self._active == 0:
                self._busy_since = time.monotonic()
            self._active += 1
            self.peak_active = max(self.peak_active, self._active)

    def end(self, prompt_tokens: int, completion_tokens: int) -> None:
        assert self._lock is not None
        with self._lock:
            self._active -= 1
            self.calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            if self._active == 0:
                self.busy_seconds += time.monotonic() - self._busy_since

    def snapshot(self) -> dict[str, float]:
        assert self._lock is not None
        with self._lock:
            busy = self.busy_seconds + (time.monotonic() - self._busy_since if self._active else 0.0)
            return {
                "calls": self.calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "busy_seconds": busy,
                "peak_active": self.peak_active,
                "tokens_per_second": self.completion_tokens / busy if busy > 0 else 0.0,
            }


class LlamaCppBackend(LLMBackend):
    """A GGUF model served by llama.cpp contexts inside the runner process."""

    name = "llamacpp"
    heuristic = False

    def __init__(
        self,
        model_id: str,
        model_path: str,
        *,
        contexts: int = 0,
        threads: int = 0,
        n_ctx: int = 4096,
        seed: int = 0,
        repeat_penalty: float = 1.1,
    ) -> None:
        cpus = os.cpu_count() or 1
        self.model = model_id
        self.model_path = Path(model_path)
        # One context per core by default; each context's threads share the cores between them.
        self.cpus = cpus
        self.contexts = contexts if contexts > 0 else cpus
        # 0: the cores are shared among the calls in flight, re-divided whenever one starts or ends
        # (a call alone gets every core; llama.cpp reads the count before each decode step).
        self.fixed_threads = threads
        self.threads = threads if threads > 0 else max(1, cpus // self.contexts)
        self.capacity = self.contexts
        self.n_ctx = n_ctx
        self.seed = seed
        # Small models loop inside a long string ("08:00:00-08:00:00-..."), filling every
        # maxLength until max_tokens cuts the JSON off; a mild penalty on repeats ends the loop.
        self.repeat_penalty = repeat_penalty
        self.throughput = Throughput()
        self._idle: asyncio.Queue[Any] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._grammars: dict[str, Any] = {}
        self._grammar_lock = threading.Lock()
        self._generating: set[Any] = set()
        self._threads_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._idle is not None

    async def start(self) -> None:
        """Check the file and create the contexts (idempotent); :class:`ModelFileError` on a bad file."""
        if self._idle is not None:
            return
        check_gguf(self.model_path)
        self._pool = ThreadPoolExecutor(self.contexts, thread_name_prefix="llamacpp")
        loop = asyncio.get_running_loop()
        try:
            contexts = [await loop.run_in_executor(self._pool, self._load) for _ in range(self.contexts)]
        except ModelFileError:
            self._pool.shutdown(wait=False)
            raise
        idle: asyncio.Queue[Any] = asyncio.Queue()
        for ctx in contexts:
            idle.put_nowait(ctx)
        self._idle = idle

    def _load(self) -> Any:
        from llama_cpp import Llama

        try:
            return Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelFileError(f"llama.cpp cannot load the model file {self.model_path}: {exc}") from None

    def _grammar(self, schema: Mapping[str, Any]) -> Any:
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        with self._grammar_lock:
            grammar = self._grammars.get(key)
            if grammar is None:
                grammar = self._grammars[key] = LlamaGrammar.from_string(
                    schema_grammar(schema), verbose=False
                )
            return grammar

    def _share_cores(self, llama: Any, starting: bool) -> None:
        if self.fixed_threads > 0:
            return
        from llama_cpp import llama_set_n_threads

        with self._threads_lock:
            (self._generating.add if starting else self._generating.discard)(llama)
            share = max(1, self.cpus // max(1, len(self._generating)))
            for ctx in self._generating:
                llama_set_n_threads(ctx.ctx, share, share)

    def _generate(
        self,
        llama: Any,
        messages: list[dict[str, str]],
        grammar: Any,
        sampling: Sampling,
    ) -> dict[str, Any]:
        self.throughput.begin()
        self._share_cores(llama, starting=True)
        usage: dict[str, int] = {}
        try:
            out = llama.create_chat_completion(
                messages=messages,
                grammar=grammar,
                max_tokens=sampling.max_tokens,
                temperature=sampling.temperature,
                seed=sampling.seed,
                repeat_penalty=self.repeat_penalty,
            )
            usage = out.get("usage") or {}
            return out
        finally:
            self._share_cores(llama, starting=False)
            self.throughput.end(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))

    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        await self.start()
        assert self._idle is not None and self._pool is not None
        grammar = self._grammar(schema)
        llama = await self._idle.get()
        loop = asyncio.get_running_loop()
        future = self._pool.submit(self._generate, llama, [dict(m) for m in messages], grammar, sampling)
        # The context goes back to the pool when its thread is done, not when a cancelled caller
        # stops waiting: a context never serves two calls at once.
        future.add_done_callback(lambda _: loop.call_soon_threadsafe(self._release, llama))
        try:
            out = await asyncio.wrap_future(future)
        except ValueError as exc:  # e.g. "Requested tokens (5000) exceed context window of 4096"
            raise LLMError(f"llama.cpp refused the prompt: {exc}") from exc
        except RuntimeError as exc:
            raise LLMError(f"llama.cpp generation failed: {exc}") from exc
        choice = out["choices"][0]
        text = choice["message"].get("content") or ""
        usage = out.get("usage") or {}
        data, error = parse_answer(text, choice.get("finish_reason"), sampling.max_tokens)
        return LLMResult(
            text=text,
            data=data,
            parse_error=error,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        )

    def _release(self, llama: Any) -> None:
        if self._idle is not None:
            self._idle.put_nowait(llama)

    def status(self) -> dict[str, Any]:
        return {
            "context_size": self.n_ctx,
            "contexts": self.contexts,
            "threads_per_context": self.fixed_threads or "shared",
            **self.throughput.snapshot(),
        }

    async def aclose(self) -> None:
        idle, self._idle = self._idle, None
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True)
        while idle is not None and not idle.empty():
            llama = idle.get_nowait()
            close = getattr(llama, "close", None)
            if close is not None:
                close()
