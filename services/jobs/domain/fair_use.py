"""Fair use (docs/security.md "Fair use"): per-user caps, a creation rate limit, fair dispatch.

Pure rules; the caller supplies counts, times and the clock. `service.py` checks admissions under a
per-user advisory lock (`fair_use_lock_key`), `dispatch.py` releases held jobs in the order
`choose_releases` gives.

- Caps: a user holds at most `max_live_jobs` live jobs (PENDING … REPORTING) and `max_drafts`
  drafts; over a cap a create is refused with RESOURCE_EXHAUSTED and nothing is written.
- Rate: at most `creations_per_window` new jobs and drafts per `window_seconds`; over it,
  RESOURCE_EXHAUSTED with a RetryInfo saying when the oldest creation in the window leaves it.
- Fair dispatch: at most `in_flight_per_user` of a user's jobs are on the runners' work queue or
  on a runner at once ("in flight": PENDING, PROVISIONING or RUNNING with a current run). Later
  jobs are *held* (PENDING without a run) and released one by one as slots free, users taken
  round-robin, the least recently served first. The queue is FIFO, so a newcomer's job waits
  behind at most `in_flight_per_user` jobs of each other user, never behind a whole backlog.

Every limit of 0 is off.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.errors import ResourceExhausted
from services.jobs.domain.state_machine import JobStatus

# Statuses in which a dispatched job occupies the work queue or a runner. REPORTING is the
# reporter's work: the runner slot is free again.
ON_RUNNER: frozenset[JobStatus] = frozenset({JobStatus.PENDING, JobStatus.PROVISIONING, JobStatus.RUNNING})


@dataclass(frozen=True, slots=True)
class FairUseLimits:
    """Operator settings (services/jobs/settings.py); 0 turns a limit off."""

    max_live_jobs: int = 0
    max_drafts: int = 0
    creations_per_window: int = 0
    window_seconds: float = 60.0
    in_flight_per_user: int = 0

    @property
    def enabled(self) -> bool:
        return bool(
            self.max_live_jobs or self.max_drafts or self.creations_per_window or self.in_flight_per_user
        )


NO_LIMITS = FairUseLimits()


@dataclass(frozen=True, slots=True)
class UserCounts:
    """One user's jobs right now (read under the user's fair-use lock)."""

    live: int = 0
    drafts: int = 0
    in_flight: int = 0
    held: int = 0


@dataclass(frozen=True, slots=True)
class Waiting:
    """A held job: PENDING, no run yet, waiting for its owner's in-flight slot."""

    job_id: int
    user_id: str


def fair_use_lock_key(user_id: str) -> int:
    """A signed 64-bit key for `pg_advisory_xact_lock`: one per user, apart from the duplicate
    guard's keys. Every admission and release of that user's jobs serialises on it, so a burst of
    concurrent creates sees each other's rows and cannot pass a cap together."""
    digest = hashlib.sha256(f"swarmcast-fair-use\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def check_live_cap(counts: UserCounts, limits: FairUseLimits) -> None:
    """Refuses one more live job (a create, launch or retry) over the live-job cap."""
    cap = limits.max_live_jobs
    if cap and counts.live >= cap:
        raise ResourceExhausted(
            f"you already have {counts.live} simulations queued or running (the limit is {cap}); "
            "wait for one to finish or cancel one, then submit again"
        )


def check_draft_cap(counts: UserCounts, limits: FairUseLimits) -> None:
    cap = limits.max_drafts
    if cap and counts.drafts >= cap:
        raise ResourceExhausted(
            f"you already have {counts.drafts} drafts (the limit is {cap}); "
            "launch or delete one before creating another"
        )


def rate_retry_after(recent: Sequence[datetime], now: datetime, limits: FairUseLimits) -> float | None:
    """Seconds until one more creation is allowed, or None when it is allowed now.

    `recent`: the user's creation times within the window (any order).
    """
    limit = limits.creations_per_window
    if not limit:
        return None
    window = timedelta(seconds=limits.window_seconds)
    inside = sorted(t for t in recent if t > now - window)
    if len(inside) < limit:
        return None
    # The creation whose leaving brings the count below the limit.
    frees_slot = inside[len(inside) - limit]
    return max(0.0, (frees_slot + window - now).total_seconds())


def check_rate(recent: Sequence[datetime], now: datetime, limits: FairUseLimits) -> None:
    wait = rate_retry_after(recent, now, limits)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise ResourceExhausted(
            f"too many simulations created: at most {limits.creations_per_window} per "
            f"{limits.window_seconds:g} s; try again in {seconds} s",
            retry_after_seconds=seconds,
        )


def release_now(counts: UserCounts, limits: FairUseLimits) -> bool:
    """Whether a new live job of this user goes onto the work queue at once or is held.

    Held when the user's slots are full, and also when older jobs of theirs are already held:
    those go first.
    """
    cap = limits.in_flight_per_user
    return not cap or (counts.held == 0 and counts.in_flight < cap)


def choose_releases(
    waiting: Sequence[Waiting],
    in_flight: Mapping[str, int],
    last_served: Mapping[str, datetime],
    cap: int,
) -> list[Waiting]:
    """Which held jobs to release now, in the order to release them.

    `waiting`: held jobs, each user's oldest first; `in_flight`: each user's jobs in flight;
    `last_served`: when each user last had a job released (absent: never). Each user gets at
    most `cap - in_flight` jobs (`cap` 0: no cap), their own oldest first. Users take turns, the
    least recently served first (never served before anyone; ties: whose held job is oldest), so
    one user's backlog cannot go ahead of another user's job.
    """
    queues: dict[str, list[Waiting]] = {}
    for job in waiting:
        queues.setdefault(job.user_id, []).append(job)
    for queue in queues.values():
        queue.sort(key=lambda j: j.job_id)
    slots = {
        user: len(queue) if not cap else max(0, min(len(queue), cap - in_flight.get(user, 0)))
        for user, queue in queues.items()
    }
    order = sorted(
        (user for user in queues if slots[user] > 0),
        key=lambda user: (
            user in last_served,
            last_served[user] if user in last_served else datetime.min,
            queues[user][0].job_id,
        ),
    )
    chosen: list[Waiting] = []
    for turn in range(max((slots[u] for u in order), default=0)):
        chosen.extend(queues[user][turn] for user in order if turn < slots[user])
    return chosen
