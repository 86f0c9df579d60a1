"""The job state machine of docs/architecture.md §3, as data.

    DRAFT → PENDING → PROVISIONING → RUNNING → REPORTING → COMPLETED
    FAILED from any live state (PENDING … REPORTING) and from DRAFT (a draft that can never launch)

Invariants:
- COMPLETED, FAILED and REFUNDED are terminal: nothing leaves them.
- Status never moves backwards along the main line.
- REFUNDED is a retained billing artifact: no transition enters it.

The database applies these rules as compare-and-set updates
(`UPDATE … WHERE status IN (allowed_sources(target))`), so a late, duplicated or out-of-order event
can neither revive a terminal job nor move one backwards.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """The seed's JobStatus values, in the seed's order."""

    DRAFT = "DRAFT"
    PENDING = "PENDING"
    PROVISIONING = "PROVISIONING"
    RUNNING = "RUNNING"
    REPORTING = "REPORTING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"


TERMINAL: frozenset[JobStatus] = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.REFUNDED})
# A run is live from dispatch until its outcome is recorded.
LIVE: frozenset[JobStatus] = frozenset(
    {JobStatus.PENDING, JobStatus.PROVISIONING, JobStatus.RUNNING, JobStatus.REPORTING}
)
_MAIN_LINE: tuple[JobStatus, ...] = (
    JobStatus.DRAFT,
    JobStatus.PENDING,
    JobStatus.PROVISIONING,
    JobStatus.RUNNING,
    JobStatus.REPORTING,
    JobStatus.COMPLETED,
)

# Forward moves may skip stages: a runner's first progress can already be RUNNING, or a
# runner.completed can arrive before any progress was processed. Only DRAFT → PENDING is strict:
# a draft runs only once it is launched.
_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.DRAFT: frozenset({JobStatus.PENDING, JobStatus.FAILED}),
    JobStatus.PENDING: frozenset(
        {JobStatus.PROVISIONING, JobStatus.RUNNING, JobStatus.REPORTING, JobStatus.FAILED}
    ),
    JobStatus.PROVISIONING: frozenset({JobStatus.RUNNING, JobStatus.REPORTING, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.REPORTING, JobStatus.FAILED}),
    JobStatus.REPORTING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.REFUNDED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move the state machine forbids; callers treat it as 'ignore this event'."""


def is_terminal(status: JobStatus) -> bool:
    return status in TERMINAL


def is_live(status: JobStatus) -> bool:
    return status in LIVE


def can_transition(source: JobStatus, target: JobStatus) -> bool:
    return target in _TRANSITIONS[source]


def allowed_sources(target: JobStatus) -> frozenset[JobStatus]:
    """Every status a job may be in for a move to `target` — the SQL guard's `IN (…)` list."""
    return frozenset(s for s, targets in _TRANSITIONS.items() if target in targets)


def transition(source: JobStatus, target: JobStatus) -> JobStatus:
    if not can_transition(source, target):
        raise IllegalTransition(f"a job cannot go from {source} to {target}")
    return target


def stage_rank(status: JobStatus) -> int:
    """Position along the main line (FAILED/REFUNDED rank after everything)."""
    try:
        return _MAIN_LINE.index(status)
    except ValueError:
        return len(_MAIN_LINE)
