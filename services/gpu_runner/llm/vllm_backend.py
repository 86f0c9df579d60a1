"""vLLM in-process on the GPU (``AsyncLLMEngine``), with structured output and prefix caching.

``vllm`` is imported only inside this module's functions, so importing it - or anything else in the
repository - never needs vLLM installed. The model is loaded with the routed ``model_id`` plus the
routing row's ``vllm_args`` (a ``vllm serve``-style string such as ``--max-model-len 16384``),
parsed by vLLM's own argument parser. Prefix caching is always on: every agent prompt of a run
starts with the same system message.

How a call is made (written against vLLM 0.11+; older releases take the fallbacks noted):

- the JSON schema is enforced with ``SamplingParams(structured_outputs=StructuredOutputsParams)``;
  releases without that class (<= 0.10) get ``guided_decoding=GuidedDecodingParams`` instead
  (which vLLM 0.12 removed);
- the chat template is rendered to token ids, not text: the rendered text already starts with BOS
  and vLLM would add a second one when it tokenized it;
- ``output_kind=FINAL_ONLY``: the engine yields the finished output only, not every token;
- ``enable_thinking`` reaches the chat template only when the template reads it;
- ``capacity`` is the engine's ``max_num_seqs`` once the model is loaded (the engine keeps that
  many calls in flight, so it matches what vLLM schedules in one batch);
- importing vLLM and loading the model (minutes) run in a worker thread, so the engine thread's
  event loop keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import shlex
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .base import LLMBackend, LLMError, LLMResult, Message, Sampling, parse_json_text

# SamplingParams kept per (schema, max_tokens, temperature); a runner sees a handful of schemas
# per job, the bound only keeps a long-lived process from growing.
SAMPLING_CACHE_SIZE = 128


def parse_vllm_args(vllm_args: str) -> dict[str, Any]:
    """``"--max-model-len 16384 --enforce-eager"`` -> ``{"max_model_len": 16384, "enforce_eager": True}``.

    A dependency-free fallback used when vLLM's own parser is unavailable (and by tests)."""
    out: dict[str, Any] = {}
    tokens = shlex.split(vllm_args or "")
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not tok.startswith("--"):
            raise ValueError(f"unexpected vllm argument {tok!r}")
        key, _, inline = tok[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            value: str | None = inline
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            value = tokens[i + 1]
            i += 1
        else:
            value = None
        out[key] = True if value is None else _coerce(value)
        i += 1
    return out


def _coerce(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


class VLLMBackend(LLMBackend):
    """An ``AsyncLLMEngine`` serving one model inside the runner process."""

    name = "vllm"
    heuristic = False

    def __init__(
        self,
        model_id: str,
        vllm_args: str = "",
        capacity: int = 64,
        enable_thinking: bool = False,
        model_path: str | None = None,
    ) -> None:
        self.model = model_id
        # A local directory with the weights (the runner resolves it; see gpu_runner.model_store);
        # without one vLLM resolves ``model_id`` itself.
        self.model_path = model_path
        self.vllm_args = vllm_args
        # Only a fallback: start() replaces it with the engine's max_num_seqs.
        self.capacity = capacity
        self.enable_thinking = enable_thinking
        self._engine: Any = None
        self._tokenizer: Any = None
        self._template_kwargs: dict[str, Any] = {}
        self._sampling_cache: OrderedDict[tuple[str, int, float], Any] = OrderedDict()
        self._lock = asyncio.Lock()

    def engine_args(self) -> Any:
        """vLLM ``AsyncEngineArgs`` for the model, the extra args and prefix caching."""
        from vllm.engine.arg_utils import AsyncEngineArgs

        try:
            from vllm.utils import FlexibleArgumentParser
        except ImportError:  # newer vLLM moved it
            from vllm.utils.argparse_utils import FlexibleArgumentParser
        parser = AsyncEngineArgs.add_cli_args(FlexibleArgumentParser())
        argv = [
            "--model",
            self.model_path or self.model,
            "--served-model-name",
            self.model,
            *shlex.split(self.vllm_args or ""),
            "--enable-prefix-caching",
        ]
        return AsyncEngineArgs.from_cli_args(parser.parse_args(argv))

    async def start(self) -> None:
        """Load the model (idempotent)."""
        async with self._lock:
            if self._engine is not None:
                return
            engine, args = await _off_loop(self._load)
            try:
                tokenizer = engine.get_tokenizer()
                if inspect.isawaitable(tokenizer):  # a coroutine in older vLLM releases
                    tokenizer = await tokenizer
            except BaseException:
                _shutdown(engine)
                raise
            self._engine, self._tokenizer = engine, tokenizer
            self.capacity = (
                _engine_max_num_seqs(engine, args)
                or _positive_int(parse_vllm_args(self.vllm_args).get("max_num_seqs"))
                or self.capacity
            )
            # Templates that do not read enable_thinking would ignore it at best; some reject
            # unknown keywords, so it is passed only where the template mentions it.
            template = getattr(tokenizer, "chat_template", None)
            self._template_kwargs = (
                {"enable_thinking": self.enable_thinking}
                if template and "enable_thinking" in str(template)
                else {}
            )

    def _load(self) -> tuple[Any, Any]:
        """Import vLLM (seconds: it pulls in torch) and load the model (minutes); blocking."""
        args = self.engine_args()
        return _engine_class().from_engine_args(args), args

    def _prompt(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The chat as a ``vllm.inputs.TokensPrompt``: token ids, so vLLM adds no second BOS."""
        ids = self._tokenizer.apply_chat_template(
            [dict(m) for m in messages],
            tokenize=True,
            add_generation_prompt=True,
            **self._template_kwargs,
        )
        if isinstance(ids, Mapping):  # transformers 5 returns a BatchEncoding by default
            ids = ids["input_ids"]
        return {"prompt_token_ids": list(ids)}

    def _sampling(self, schema: Mapping[str, Any], sampling: Sampling) -> Any:
        if sampling.seed is not None:  # one request's own params; not worth caching
            return _make_sampling(schema, sampling)
        key = (json.dumps(schema, sort_keys=True, default=str), sampling.max_tokens, sampling.temperature)
        params = self._sampling_cache.get(key)
        if params is None:
            # vLLM clones the params per request, so one object serves every call with this key.
            params = _make_sampling(schema, sampling)
            self._sampling_cache[key] = params
            while len(self._sampling_cache) > SAMPLING_CACHE_SIZE:
                self._sampling_cache.popitem(last=False)
        else:
            self._sampling_cache.move_to_end(key)
        return params

    async def generate(
        self, messages: Sequence[Message], schema: Mapping[str, Any], schema_name: str, sampling: Sampling
    ) -> LLMResult:
        await self.start()
        prompt = self._prompt(messages)
        params = self._sampling(schema, sampling)
        final = None
        try:
            async for output in self._engine.generate(prompt, params, f"{schema_name}-{uuid.uuid4().hex}"):
                final = output
        except Exception as exc:  # the engine's errors are not part of a stable API
            raise LLMError(f"vLLM generation failed: {exc}") from exc
        if final is None or not final.outputs:
            raise LLMError("vLLM returned no output")
        completion = final.outputs[0]
        data, error = parse_json_text(completion.text)
        return LLMResult(
            text=completion.text,
            data=data,
            parse_error=error,
            prompt_tokens=len(final.prompt_token_ids or prompt["prompt_token_ids"]),
            completion_tokens=len(completion.token_ids or ()),
        )

    async def aclose(self) -> None:
        engine, self._engine, self._tokenizer = self._engine, None, None
        self._sampling_cache.clear()
        if engine is not None:
            _shutdown(engine)


def _engine_class() -> Any:
    try:  # current vLLM keeps the name as an alias of vllm.v1's AsyncLLM
        from vllm.engine.async_llm_engine import AsyncLLMEngine

        return AsyncLLMEngine
    except ImportError:  # releases that drop the alias
        from vllm.v1.engine.async_llm import AsyncLLM

        return AsyncLLM


async def _off_loop(load: Callable[[], tuple[Any, Any]]) -> tuple[Any, Any]:
    """Run ``load`` (returning ``(engine, args)``) in a worker thread so the event loop keeps serving.

    If the caller is cancelled meanwhile, the engine is shut down once it has loaded, so its GPU
    memory is not held by an engine nobody owns."""
    task = asyncio.ensure_future(asyncio.to_thread(load))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.add_done_callback(lambda t: None if t.cancelled() or t.exception() else _shutdown(t.result()[0]))
        raise


def _shutdown(engine: Any) -> None:
    if hasattr(engine, "shutdown"):
        with contextlib.suppress(Exception):
            engine.shutdown()


def _engine_max_num_seqs(engine: Any, args: Any) -> int | None:
    """The engine's batch size: the vllm config's when there is one (V1), else the engine args',
    which vLLM fills with its default while it builds the config (None until then)."""
    config = getattr(getattr(engine, "vllm_config", None), "scheduler_config", None)
    return _positive_int(getattr(config, "max_num_seqs", None)) or _positive_int(
        getattr(args, "max_num_seqs", None)
    )


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _make_sampling(schema: Mapping[str, Any], sampling: Sampling) -> Any:
    from vllm import SamplingParams

    kwargs: dict[str, Any] = {
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "seed": sampling.seed,
    }
    try:  # vLLM >= 0.11
        from vllm.sampling_params import StructuredOutputsParams

        kwargs["structured_outputs"] = StructuredOutputsParams(json=dict(schema))
    except ImportError:  # vLLM <= 0.10
        from vllm.sampling_params import GuidedDecodingParams

        kwargs["guided_decoding"] = GuidedDecodingParams(json=dict(schema))
    # only the finished output, not one per generated token (vLLM >= 0.6.2; older: every step)
    with contextlib.suppress(ImportError):
        from vllm.sampling_params import RequestOutputKind

        kwargs["output_kind"] = RequestOutputKind.FINAL_ONLY
    return SamplingParams(**kwargs)
