"""vLLM in-process on the GPU (``AsyncLLMEngine``), with structured output and prefix caching.

``vllm`` is imported only inside this class's methods, so importing this module - or anything
else in the repository - never needs vLLM installed. The model is loaded with the routed
``model_id`` plus the routing row's ``vllm_args`` (a ``vllm serve``-style string such as
``--max-model-len 16384``), parsed by vLLM's own argument parser. Prefix caching is always on: every
agent prompt of a run starts with the same system message.
"""

from __future__ import annotations

import asyncio
import shlex
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from .base import LLMError, LLMResult, Message, parse_json_text


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


class VLLMBackend:
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
        self.capacity = capacity
        self.enable_thinking = enable_thinking
        self._engine: Any = None
        self._tokenizer: Any = None
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
            from vllm.engine.async_llm_engine import AsyncLLMEngine

            self._engine = AsyncLLMEngine.from_engine_args(self.engine_args())
            self._tokenizer = await self._engine.get_tokenizer()

    def _sampling(self, schema: Mapping[str, Any], max_tokens: int, temperature: float) -> Any:
        from vllm import SamplingParams

        try:  # vLLM <= 0.10
            from vllm.sampling_params import GuidedDecodingParams

            return SamplingParams(
                max_tokens=max_tokens,
                temperature=temperature,
                guided_decoding=GuidedDecodingParams(json=dict(schema)),
            )
        except ImportError:  # vLLM >= 0.11
            from vllm.sampling_params import StructuredOutputsParams

            return SamplingParams(
                max_tokens=max_tokens,
                temperature=temperature,
                structured_outputs=StructuredOutputsParams(json=dict(schema)),
            )

    async def complete_json(
        self,
        messages: Sequence[Message],
        schema: Mapping[str, Any],
        *,
        schema_name: str = "response",
        max_tokens: int = 512,
        temperature: float = 0.7,
    ) -> LLMResult:
        await self.start()
        prompt = self._tokenizer.apply_chat_template(
            [dict(m) for m in messages],
            tokenize=False,
            add_generation_prompt=True,
            enable_thinking=self.enable_thinking,
        )
        final = None
        try:
            async for output in self._engine.generate(
                prompt, self._sampling(schema, max_tokens, temperature), f"{schema_name}-{uuid.uuid4().hex}"
            ):
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
            prompt_tokens=len(final.prompt_token_ids or ()),
            completion_tokens=len(completion.token_ids or ()),
        )

    async def aclose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()
