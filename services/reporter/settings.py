"""Reporter-only settings: the knobs of its LLM writer (prefix `SWARMCAST_`).

The shared ones are in services/common/config.py.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReporterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_", extra="ignore")

    # OpenAI-compatible endpoint for report prose; empty: the deterministic writer.
    report_llm_url: str = ""
    # Model asked for; empty: the job's routed model.
    report_model: str = ""
    # Bearer key for the report LLM endpoint (hosted providers); unset for a local vLLM.
    report_llm_api_key: SecretStr | None = None
    # One chat-completion request may take this long before it counts as failed.
    report_llm_timeout_seconds: float = 120.0
    # Attempts per request (429, 5xx, timeouts and connection errors are retried with backoff).
    report_llm_attempts: int = 3
    report_llm_max_tokens: int = 3000
    report_llm_temperature: float = 0.3
    # Comma-separated runner backends (e.g. "llamacpp") whose runs the LLM writer writes up; the
    # others get the deterministic writer. Empty: every run (when SWARMCAST_REPORT_LLM_URL is set).
    report_llm_backends: str = ""
    # Redeliveries of one runner.completed before a transient failure becomes reporter.failed.
    report_max_deliver: int = 6

    def llm_writes_for(self, backend: str) -> bool:
        """True when the LLM writer (if configured) writes the report of a run made by ``backend``."""
        wanted = {b.strip().lower() for b in self.report_llm_backends.split(",") if b.strip()}
        return not wanted or backend.strip().lower() in wanted


@lru_cache(maxsize=1)
def get_reporter_settings() -> ReporterSettings:
    return ReporterSettings()
