"""Object-storage layout of a job's artifacts: the shared contract, plus what only jobs needs."""

from __future__ import annotations

from services.common.artifacts import (
    ARTIFACT_NAMES,
    CHECKPOINT_NAME,
    REPORT_NAME,
    artifact_key,
    job_prefix,
)

__all__ = ["ARTIFACT_NAMES", "CHECKPOINT_NAME", "REPORT_NAME", "artifact_key", "job_prefix"]


def checkpoint_key(job_id: int) -> str:
    return artifact_key(job_id, CHECKPOINT_NAME)
