"""Jobs-only settings; the shared ones are in services/common/config.py (prefix `SWARMCAST_`).

- `SWARMCAST_STALE_CHECK_INTERVAL_SECONDS` (15): how often the detector looks for silent runs.
- `SWARMCAST_STALE_AFTER_SECONDS` (120): heartbeat age after which a run is re-dispatched.
- `SWARMCAST_RETRY_BUDGET` (3): re-dispatches before a job is FAILED.
- `SWARMCAST_REQUIRE_VERIFIED_EMAIL` (false): submitting a job needs a verified email.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class JobsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_", extra="ignore")

    stale_check_interval_seconds: float = 15.0
    stale_after_seconds: float = 120.0
    retry_budget: int = 3
    require_verified_email: bool = False


@lru_cache(maxsize=1)
def get_jobs_settings() -> JobsSettings:
    return JobsSettings()
