"""Jobs-only settings; the shared ones are in services/common/config.py (prefix `SWARMCAST_`).

- `SWARMCAST_STALE_CHECK_INTERVAL_SECONDS` (15): how often the detector looks for silent runs.
- `SWARMCAST_STALE_AFTER_SECONDS` (120): heartbeat age after which a run is re-dispatched.
- `SWARMCAST_RETRY_BUDGET` (3): re-dispatches before a job is FAILED.
- `SWARMCAST_REQUIRE_VERIFIED_EMAIL` (false): submitting a job needs a verified email.
- `SWARMCAST_JOBS_WORKERS` (1): processes serving the jobs port (SO_REUSEPORT), each a full
  replica; more than 1 uses more cores for the API (one Python process is one core at most).
- Fair use (docs/security.md "Fair use"; 0 turns a limit off):
  `SWARMCAST_JOBS_MAX_LIVE_PER_USER` (10) live jobs and `SWARMCAST_JOBS_MAX_DRAFTS_PER_USER` (50)
  drafts per user; `SWARMCAST_JOBS_CREATE_LIMIT` (60) jobs and drafts created per user per
  `SWARMCAST_JOBS_CREATE_WINDOW_SECONDS` (60); `SWARMCAST_JOBS_IN_FLIGHT_PER_USER` (2) jobs of a
  user on the work queue or a runner at once (the rest wait in jobs, released round-robin across
  users every `SWARMCAST_JOBS_RELEASE_INTERVAL_SECONDS` (1) or sooner).
- Interviews (`interviews.py`): `SWARMCAST_JOBS_INTERVIEWS_PER_HOUR` (20) interviews of one job per
  hour (0: no limit); `SWARMCAST_JOBS_INTERVIEW_MAX_AGENTS` (12) agents one interview asks (the rest
  of a camp or coalition are left out and counted); `SWARMCAST_JOBS_INTERVIEW_REPLY_TIMEOUT_S` (120)
  seconds to wait for each reply of the runner before the call ends UNAVAILABLE.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.jobs.domain.fair_use import FairUseLimits


class JobsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_", extra="ignore")

    stale_check_interval_seconds: float = 15.0
    stale_after_seconds: float = 120.0
    retry_budget: int = 3
    require_verified_email: bool = False
    jobs_workers: int = Field(default=1, ge=1, le=32)
    # Fair use (services/jobs/domain/fair_use.py); 0 turns a limit off.
    jobs_max_live_per_user: int = Field(default=10, ge=0)
    jobs_max_drafts_per_user: int = Field(default=50, ge=0)
    jobs_create_limit: int = Field(default=60, ge=0)
    jobs_create_window_seconds: float = Field(default=60.0, gt=0)
    jobs_in_flight_per_user: int = Field(default=2, ge=0)
    jobs_release_interval_seconds: float = Field(default=1.0, gt=0)
    # The longest a reading of a tier's queue answers GetJob/WatchJob (services/jobs/queue_board.py);
    # this process's own commits end it at once, this bounds what other jobs processes changed.
    jobs_queue_max_age_seconds: float = Field(default=1.0, gt=0)
    # Interviews (services/jobs/interviews.py); 0 interviews per hour turns the limit off.
    jobs_interviews_per_hour: int = Field(default=20, ge=0)
    jobs_interview_max_agents: int = Field(default=12, ge=1, le=100)
    jobs_interview_reply_timeout_s: float = Field(default=120.0, gt=0)

    def fair_use(self) -> FairUseLimits:
        return FairUseLimits(
            max_live_jobs=self.jobs_max_live_per_user,
            max_drafts=self.jobs_max_drafts_per_user,
            creations_per_window=self.jobs_create_limit,
            window_seconds=self.jobs_create_window_seconds,
            in_flight_per_user=self.jobs_in_flight_per_user,
        )


@lru_cache(maxsize=1)
def get_jobs_settings() -> JobsSettings:
    return JobsSettings()
