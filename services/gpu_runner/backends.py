"""The runner's LLM backend: built from configuration and the job's route, kept between jobs.

- `heuristic`: always ready; no model.
- `openai`: ready while the endpoint answers HTTP (`GET <base>/models`, any status below 500 -
  `vllm serve` answers 200, other providers may answer 401/404 yet serve chat). The model name is
  `SWARMCAST_LLM_MODEL`, else the routed `model_id`.
- `vllm`: ready once a model is loaded. `SWARMCAST_LLM_MODEL` is preloaded at start (with
  `SWARMCAST_RUNNER_VLLM_ARGS`); a job routed to another model or other `vllm_args` reloads once
  no job uses the current one. Weights come from `model_store` (local disk or the pre-staged
  object-storage prefix), never from a hub.
- `llamacpp`: like `vllm` (in-process, one model at a time, swapped between jobs), on the CPU with
  a GGUF file (`model_store.resolve_gguf`). `SWARMCAST_LLM_MODEL`, else the packaged SmolLM2, is
  loaded at start, and a missing or corrupt file stops the runner's start (`StartupError`).

Backend objects live on the engine loop (`EngineThread`): every method named `*_on_engine` must run
there. Probing is plain HTTP and runs on the service loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from services.common.config import Settings
from services.common.grpc_server import StartupError
from services.common.openai_client import chat_url
from services.common.storage import ObjectStore
from services.gpu_runner.llm import make_backend
from services.gpu_runner.llm.llamacpp_backend import ModelFileError
from services.gpu_runner.model_store import DEFAULT_GGUF_MODEL, ModelUnavailable, resolve_gguf, resolve_model
from services.gpu_runner.settings import RunnerSettings, get_runner_settings

log = logging.getLogger("swarmcast.gpu_runner.backend")

HEURISTIC_MODEL = "heuristic-rules-v1"
# Backends that hold a model in this process: one model at a time, never swapped under a job.
IN_PROCESS = frozenset({"vllm", "llamacpp"})


class BackendUnavailable(Exception):
    """The LLM backend is not reachable or could not load its model (transient for the job)."""


@dataclass(frozen=True, slots=True)
class ModelKey:
    model: str
    vllm_args: str = ""


def models_url(base_url: str) -> str:
    return chat_url(base_url).removesuffix("/chat/completions") + "/models"


class BackendHost:
    def __init__(
        self,
        settings: Settings,
        runner: RunnerSettings | None = None,
        *,
        store: ObjectStore | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner or get_runner_settings()
        self.name = self.runner.llm_backend.strip().lower()
        if self.name not in ("heuristic", "openai", "vllm", "llamacpp"):
            raise ValueError(f"unknown LLM backend {self.runner.llm_backend!r}")
        if self.name == "openai" and not self.runner.llm_url:
            raise ValueError("the openai backend needs SWARMCAST_LLM_URL")
        self.in_process = self.name in IN_PROCESS
        self.default_vllm_args = self.runner.vllm_args if self.name == "vllm" else ""
        self.cache_dir = self.runner.weights_cache(settings)
        self.store = store
        self.ready = self.name == "heuristic"
        self.last_error = ""
        self._backends: dict[ModelKey, Any] = {}
        self._in_use = 0
        self._switch: asyncio.Condition | None = None  # created on the engine loop

    # --- labels (any thread) ----------------------------------------------------------------------
    def model_for(self, routed_model: str) -> str:
        if self.name == "heuristic":
            return HEURISTIC_MODEL
        if self.name == "llamacpp":
            return self.runner.llm_model or routed_model or DEFAULT_GGUF_MODEL
        return self.runner.llm_model or routed_model

    @property
    def current_model(self) -> str:
        if self.name == "heuristic":
            return HEURISTIC_MODEL
        keys = list(self._backends)
        return keys[0].model if keys else self.runner.llm_model

    @property
    def prompt_tokens(self) -> int | None:
        """An agent's prompt budget on this backend; None: the engine's default.

        On the CPU, evaluating the prompt is most of a turn's cost, so llama.cpp gets a smaller one."""
        return self.runner.llamacpp_prompt_tokens if self.name == "llamacpp" else None

    def backend_status(self) -> dict[str, Any]:
        """What the loaded in-process model reports (context size, tokens/s); {} for the others."""
        for backend in list(self._backends.values()):
            status = getattr(backend, "status", None)
            if status is not None:
                return dict(status())
        return {}

    # --- readiness (service loop) -------------------------------------------------------------------
    async def probe(self) -> tuple[bool, str]:
        """(ready, why not) without side effects on running jobs."""
        if self.name == "heuristic":
            return True, ""
        if self.in_process:
            return bool(self._backends), "" if self._backends else "no model loaded yet"
        url = models_url(self.runner.llm_url)
        headers = {}
        if self.runner.llm_api_key is not None:
            headers["Authorization"] = f"Bearer {self.runner.llm_api_key.get_secret_value()}"
        try:
            async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as http:
                response = await http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"LLM endpoint {chat_url(self.runner.llm_url)} unreachable: {type(exc).__name__}"
        if response.status_code >= 500:
            return False, f"LLM endpoint answered HTTP {response.status_code}"
        return True, ""

    async def wait_ready(self, timeout_s: float, interval_s: float) -> None:
        """Return once the endpoint answers; BackendUnavailable after ``timeout_s``. (openai only)"""
        if self.name != "openai":
            return
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            ok, why = await self.probe()
            self.ready, self.last_error = ok, why
            if ok:
                return
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise BackendUnavailable(f"{why} (waited {timeout_s:g}s)")
            await asyncio.sleep(min(interval_s, remaining))

    # --- backends (engine loop) ---------------------------------------------------------------------
    async def preload_on_engine(self) -> None:
        """Load the start model (vLLM: `SWARMCAST_LLM_MODEL`; llama.cpp: that or the packaged one),
        so health turns SERVING before any job. llama.cpp: StartupError when it cannot be loaded."""
        if self.name == "vllm" and self.runner.llm_model:
            await self._load_once(ModelKey(self.runner.llm_model, self.default_vllm_args))
        elif self.name == "llamacpp":
            try:
                await self._load_once(self.key_for("", ""))
            except BackendUnavailable as exc:
                raise StartupError(str(exc)) from None

    async def _load_once(self, key: ModelKey) -> None:
        """Load ``key``'s model and let go of it at once: it stays loaded for the first job."""
        async with self.lease_on_engine(key) as backend:
            log.info("%s backend holds %s", self.name, backend.model)

    @contextlib.asynccontextmanager
    async def lease_on_engine(self, key: ModelKey) -> AsyncIterator[Any]:
        """The backend for ``key``, held for one job (an in-process model is not swapped under a job)."""
        if not self.in_process:
            # HTTP clients (or none): any number can coexist, one per model name.
            if key not in self._backends:
                self._backends[key] = await self._build_on_engine(key)
            yield self._backends[key]
            return
        if self._switch is None:
            self._switch = asyncio.Condition()
        async with self._switch:
            while key not in self._backends and self._backends and self._in_use:
                await self._switch.wait()
            if key not in self._backends:
                await self._replace_on_engine(key)
            self._in_use += 1
            backend = self._backends[key]
        try:
            yield backend
        finally:
            async with self._switch:
                self._in_use -= 1
                self._switch.notify_all()

    async def _replace_on_engine(self, key: ModelKey) -> None:
        for old in list(self._backends.values()):
            with contextlib.suppress(Exception):
                await old.aclose()
        self._backends.clear()
        self.ready = not self.in_process
        try:
            self._backends[key] = await self._build_on_engine(key)
        except BackendUnavailable as exc:
            self.last_error = str(exc)
            raise
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            raise BackendUnavailable(
                f"could not start the {self.name} backend for {key.model}: {exc}"
            ) from exc
        self.ready, self.last_error = True, ""

    async def _build_on_engine(self, key: ModelKey) -> Any:
        s = self.runner
        if self.name == "heuristic":
            return make_backend("heuristic", model=HEURISTIC_MODEL)
        if self.name == "openai":
            api_key = s.llm_api_key.get_secret_value() if s.llm_api_key is not None else None
            return make_backend(
                "openai", base_url=s.llm_url, model=key.model, api_key=api_key, concurrency=s.llm_concurrency
            )
        if self.name == "llamacpp":
            return await self._build_llamacpp(key)
        try:
            path = await resolve_model(
                key.model, model_dir=s.model_dir, cache_dir=self.cache_dir, store=self.store
            )
        except Exception as exc:
            raise BackendUnavailable(str(exc)) from exc
        backend = make_backend(
            "vllm",
            model_id=key.model,
            vllm_args=key.vllm_args,
            capacity=s.llm_concurrency,
            model_path=str(path),
        )
        log.info("loading %s from %s with %r", key.model, path, key.vllm_args)
        await backend.start()
        return backend

    async def _build_llamacpp(self, key: ModelKey) -> Any:
        rs = self.runner
        try:
            path = await resolve_gguf(
                key.model, model_dir=rs.model_dir, cache_dir=self.cache_dir, store=self.store
            )
            backend = make_backend(
                "llamacpp",
                model_id=key.model,
                model_path=str(path),
                contexts=rs.llamacpp_contexts,
                threads=rs.llamacpp_threads,
                n_ctx=rs.llamacpp_n_ctx,
                repeat_penalty=rs.llamacpp_repeat_penalty,
            )
            log.info(
                "loading %s from %s (%d context(s) of %d tokens on %d core(s))",
                key.model,
                path,
                backend.contexts,
                backend.n_ctx,
                backend.cpus,
            )
            await backend.start()
        except (ModelUnavailable, ModelFileError) as exc:
            raise BackendUnavailable(str(exc)) from None
        except ImportError as exc:
            raise BackendUnavailable(
                f"the llamacpp backend needs llama-cpp-python (pip install -e '.[local-llm]'): {exc}"
            ) from None
        return backend

    def key_for(self, routed_model: str, routed_vllm_args: str) -> ModelKey:
        model = self.model_for(routed_model)
        if self.name == "vllm":
            return ModelKey(model, routed_vllm_args or self.default_vllm_args)
        return ModelKey(model)

    async def aclose_on_engine(self) -> None:
        for backend in list(self._backends.values()):
            with contextlib.suppress(Exception):
                await backend.aclose()
        self._backends.clear()
