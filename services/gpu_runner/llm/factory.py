"""Build the configured backend by name: ``heuristic``, ``openai``, ``vllm`` or ``llamacpp``."""

from __future__ import annotations

from typing import Any

BACKENDS = ("heuristic", "openai", "vllm", "llamacpp")


def make_backend(name: str, **config: Any) -> Any:
    """Create a backend.

    - ``heuristic``: optional ``model``.
    - ``openai``: ``base_url``, ``model``, optional ``api_key``, ``concurrency`` (the server's slots),
      ``queue_depth`` (extra requests kept queued at the server), ``timeout_s``, ``max_retries``,
      ``backoff_s``, ``extra_body``.
    - ``vllm``: ``model_id``, optional ``vllm_args`` (e.g. ``"--max-model-len 16384"``), ``capacity``.
      vLLM itself is imported only here, when this backend is chosen.
    - ``llamacpp``: ``model_id``, ``model_path`` (a GGUF file), optional ``contexts``, ``threads``,
      ``n_ctx``, ``seed``. ``llama_cpp`` is imported only when the model is loaded.
    """
    key = name.strip().lower()
    if key == "heuristic":
        from .heuristic import HeuristicBackend

        return HeuristicBackend(**config)
    if key == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(**config)
    if key == "vllm":
        from .vllm_backend import VLLMBackend

        return VLLMBackend(**config)
    if key == "llamacpp":
        from .llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(**config)
    raise ValueError(f"unknown LLM backend {name!r}; choose one of {', '.join(BACKENDS)}")
