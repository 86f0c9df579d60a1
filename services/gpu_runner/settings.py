"""Runner-only settings; the shared ones are in services/common/config.py.

Prefix `SWARMCAST_RUNNER_` (the shared class owns `SWARMCAST_RUNNER_TIERS`, which the CLI's stack
reads too, and `..._ADDR`, which others dial; these names do not collide):

- `CONCURRENCY` (1): jobs a runner runs at once.
- `INSTANCE_ID` (host-pid-random): the runner's id, reported as the job's `pod_id`.
- `ACK_WAIT_SECONDS` (60): how long JetStream waits for a sign of life before it hands a taken
  dispatch to another runner. The runner sends in-progress acks every third of it.
- `MAX_DELIVER` (10): deliveries of one dispatch (crashes included) before JetStream stops.
- `HEARTBEAT_SECONDS` (5): progress is published at least this often while a job runs (≤ 10).
- `PROGRESS_INTERVAL_SECONDS` (1): round-by-round progress is coalesced to one event per interval;
  stage changes are always sent.
- `SHUTDOWN_GRACE_SECONDS` (20): on SIGTERM a job expected to finish within this is finished,
  any other is released at once (nak: another runner resumes it from the checkpoint).
- `LLM_READY_TIMEOUT_SECONDS` (120): how long a job waits for the LLM backend before it fails
  transiently.
- `LLM_PROBE_INTERVAL_SECONDS` (5): readiness probing of the backend while it is not ready.
- `CACHE_DIR` (`<run_dir>/hf-cache`): where pre-staged weights are downloaded for vLLM.
- `VLLM_ARGS` (empty): `vllm_args` for the model preloaded from `SWARMCAST_LLM_MODEL` (a job's
  route brings its own).
- `LLAMACPP_CONTEXTS` (0: one per CPU core): llama.cpp contexts of the `llamacpp` backend, i.e. the
  calls it serves at once; `LLAMACPP_THREADS` (0: the cores shared among the calls in flight)
  threads per context;
  `LLAMACPP_N_CTX` (4096) tokens per context (an agent's prompt plus its answer must fit);
  `LLAMACPP_REPEAT_PENALTY` (1.1) llama.cpp's penalty on repeated tokens (1.0: none);
  `LLAMACPP_PROMPT_TOKENS` (1024) an agent's prompt budget (evaluating it is most of a CPU turn).
- `LOG_LINES` (20): last engine log lines kept in `live_status`.

Also here, under names without the `RUNNER_` part (each field's `validation_alias`):
- `SWARMCAST_LLM_BACKEND` (`heuristic`): `heuristic`, `openai`, `vllm` or `llamacpp`;
  `SWARMCAST_LLM_URL` / `_API_KEY` / `_MODEL`: the OpenAI-compatible endpoint of `openai` (and the
  model preloaded by `vllm`, the model of `llamacpp`); `SWARMCAST_LLM_CONCURRENCY` (64): LLM calls
  in flight.
- `SWARMCAST_GPU_PROVIDER` (`local`) / `SWARMCAST_GPU_HOURLY_USD` (0): recorded as the job's
  `gpu_provider` / used for `gpu_cost_usd`.
- `SWARMCAST_MODEL_DIR` (unset): local weights folder for `vllm`, and for relative `.gguf` paths
  of `llamacpp`.

Prefix `SWARMCAST_SEARCH_` (web enrichment, docs/runner.md): `URL` (empty: enrichment is skipped and
the reason recorded) of a SearxNG-style JSON search API, `TIMEOUT_SECONDS` (10), `MAX_RESULTS` (5).
"""

from __future__ import annotations

import os
import secrets
import socket
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.config import Settings


def default_instance_id() -> str:
    host = socket.gethostname().split(".")[0] or "runner"
    return f"{host}-{os.getpid()}-{secrets.token_hex(2)}"


class RunnerSettings(BaseSettings):
    # populate_by_name: a field with its own env name (validation_alias) is still set by field name.
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_RUNNER_", extra="ignore", populate_by_name=True)

    concurrency: int = 1
    instance_id: str = Field(default_factory=default_instance_id)
    ack_wait_seconds: float = 60.0
    max_deliver: int = 10
    heartbeat_seconds: float = 5.0
    progress_interval_seconds: float = 1.0
    shutdown_grace_seconds: float = 20.0
    llm_ready_timeout_seconds: float = 120.0
    llm_probe_interval_seconds: float = 5.0
    cache_dir: Path | None = None
    vllm_args: str = ""
    llamacpp_contexts: int = Field(default=0, ge=0)
    llamacpp_threads: int = Field(default=0, ge=0)
    llamacpp_n_ctx: int = Field(default=4096, ge=512)
    llamacpp_repeat_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    llamacpp_prompt_tokens: int = Field(default=1024, ge=1024)
    log_lines: int = 20

    llm_backend: str = Field(default="heuristic", validation_alias="SWARMCAST_LLM_BACKEND")
    llm_url: str = Field(default="", validation_alias="SWARMCAST_LLM_URL")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="SWARMCAST_LLM_API_KEY")
    llm_model: str = Field(default="", validation_alias="SWARMCAST_LLM_MODEL")
    llm_concurrency: int = Field(default=64, validation_alias="SWARMCAST_LLM_CONCURRENCY")
    gpu_provider: str = Field(default="local", validation_alias="SWARMCAST_GPU_PROVIDER")
    gpu_hourly_usd: float = Field(default=0.0, validation_alias="SWARMCAST_GPU_HOURLY_USD")
    model_dir: Path | None = Field(default=None, validation_alias="SWARMCAST_MODEL_DIR")

    @field_validator("heartbeat_seconds")
    @classmethod
    def _heartbeat_within_contract(cls, value: float) -> float:
        # docs/architecture.md §3: a live run is heard from at least every 10 s.
        if not 0 < value <= 10:
            raise ValueError("heartbeat_seconds must be within (0, 10]")
        return value

    def weights_cache(self, settings: Settings) -> Path:
        return self.cache_dir or settings.run_dir / "hf-cache"


class SearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_SEARCH_", extra="ignore")

    url: str = ""
    timeout_seconds: float = 10.0
    max_results: int = 5


@lru_cache(maxsize=1)
def get_runner_settings() -> RunnerSettings:
    return RunnerSettings()


@lru_cache(maxsize=1)
def get_search_settings() -> SearchSettings:
    return SearchSettings()
