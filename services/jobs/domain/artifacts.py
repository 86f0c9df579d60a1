"""Object-storage layout of a job's artifacts: the shared contract, plus what only jobs needs."""

from __future__ import annotations

from services.common.artifacts import (
    ARTIFACT_NAMES,
    CHECKPOINT_NAME,
    REPORT_NAME,
    artifact_key,
    job_prefix,
)

__all__ = [
    "ARTIFACT_NAMES",
    "CHECKPOINT_NAME",
    "REPORT_NAME",
    "artifact_key",
    "checkpoint_key",
    "job_prefix",
    "round_checkpoint_key",
]


def checkpoint_key(job_id: int) -> str:
    """The job's latest checkpoint (overwritten every round): resume after a crash, interviews."""
    return artifact_key(job_id, CHECKPOINT_NAME)


def round_checkpoint_key(job_id: int, round_no: int) -> str:
    """The checkpoint after round `round_no` (0 = built), kept so a what-if branch can resume
    from any round; under the job's prefix, so deleting the job deletes it."""
    return artifact_key(job_id, f"checkpoints/{round_no:04d}")
