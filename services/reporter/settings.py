"""The reporter's settings: the shared `Settings` plus the knobs of its LLM writer.

Shared names (`SWARMCAST_REPORT_LLM_URL`, `SWARMCAST_REPORT_MODEL`) live in services/common; the
ones below only the reporter reads, so they live here (same `SWARMCAST_` prefix).
"""

from __future__ import annotations

from pydantic import SecretStr

from services.common.config import Settings


class ReporterSettings(Settings):
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

    @classmethod
    def from_settings(cls, settings: Settings) -> ReporterSettings:
        """`settings` as ReporterSettings (its values win; reporter-only fields come from the env)."""
        if isinstance(settings, ReporterSettings):
            return settings
        return cls(**{name: getattr(settings, name) for name in Settings.model_fields})
