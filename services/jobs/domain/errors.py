"""Domain failures, each mapped to one canonical gRPC status by the servicer.

Bad input is `validation.ValidationError` (INVALID_ARGUMENT).
"""

from __future__ import annotations


class JobsError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(JobsError):
    """Also what another user's job looks like: its existence is not revealed."""


class AlreadyExists(JobsError):
    pass


class FailedPrecondition(JobsError):
    pass


class PermissionDenied(JobsError):
    pass


def job_not_found(job_id: int) -> NotFound:
    return NotFound(f"job {job_id} not found")
