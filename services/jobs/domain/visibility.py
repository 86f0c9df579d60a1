"""Another user's job looks exactly like a missing one.

Every lookup on behalf of a user answers `job_not_found` for both, so the existence of a job is
never revealed to anyone but its owner.
"""

from __future__ import annotations

from services.common.errors import NotFound


def job_not_found(job_id: int) -> NotFound:
    return NotFound(f"job {job_id} not found")
