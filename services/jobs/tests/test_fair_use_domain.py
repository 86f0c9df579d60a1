"""Fair use, the pure rules (services/jobs/domain/fair_use.py): caps, creation rate, fair release order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import ResourceExhausted
from services.jobs.domain.fair_use import (
    NO_LIMITS,
    FairUseLimits,
    UserCounts,
    Waiting,
    check_draft_cap,
    check_live_cap,
    check_rate,
    choose_releases,
    fair_use_lock_key,
    rate_retry_after,
    release_now,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LIMITS = FairUseLimits(
    max_live_jobs=3, max_drafts=2, creations_per_window=4, window_seconds=60, in_flight_per_user=1
)


def backlog(user: str, *job_ids: int) -> list[Waiting]:
    return [Waiting(job_id=j, user_id=user) for j in job_ids]


# --- fair release order ----------------------------------------------------------------------


def test_a_newcomer_goes_before_the_rest_of_a_backlog() -> None:
    # A has 30 held jobs and one in flight; B's job arrived after all of A's.
    waiting = backlog("a", *range(1, 31)) + backlog("b", 31)
    served = {"a": NOW}
    assert choose_releases(waiting, {"a": 1}, served, cap=2) == [Waiting(31, "b"), Waiting(1, "a")]


def test_users_take_turns_least_recently_served_first() -> None:
    waiting = backlog("a", 1, 2, 3) + backlog("b", 4, 5, 6) + backlog("c", 7)
    served = {"a": NOW, "b": NOW - timedelta(minutes=5)}  # c was never served
    chosen = choose_releases(waiting, {}, served, cap=2)
    assert [w.job_id for w in chosen] == [7, 4, 1, 5, 2]


def test_each_user_gets_only_their_free_slots() -> None:
    waiting = backlog("a", 1, 2, 3) + backlog("b", 4, 5)
    chosen = choose_releases(waiting, {"a": 2, "b": 1}, {}, cap=2)
    assert chosen == [Waiting(4, "b")]
    assert choose_releases(waiting, {"a": 5}, {}, cap=2) == [Waiting(4, "b"), Waiting(5, "b")]


def test_a_users_own_jobs_go_oldest_first_whatever_the_input_order() -> None:
    waiting = backlog("a", 9, 3, 5)
    assert [w.job_id for w in choose_releases(waiting, {}, {}, cap=2)] == [3, 5]


def test_ties_go_to_the_oldest_waiting_job_and_no_cap_releases_all() -> None:
    waiting = backlog("b", 2, 8) + backlog("a", 1, 3)
    assert [w.job_id for w in choose_releases(waiting, {}, {}, cap=0)] == [1, 2, 3, 8]
    assert choose_releases([], {"a": 1}, {}, cap=1) == []


def test_release_now_only_with_a_free_slot_and_nothing_older_held() -> None:
    assert release_now(UserCounts(in_flight=0), LIMITS)
    assert not release_now(UserCounts(in_flight=1), LIMITS)
    assert not release_now(UserCounts(in_flight=0, held=1), LIMITS)
    assert release_now(UserCounts(in_flight=50, held=9), NO_LIMITS)


# --- caps and rate -----------------------------------------------------------------------------


def test_live_and_draft_caps() -> None:
    check_live_cap(UserCounts(live=2), LIMITS)
    with pytest.raises(ResourceExhausted, match="3 simulations queued or running \\(the limit is 3\\)"):
        check_live_cap(UserCounts(live=3), LIMITS)
    check_draft_cap(UserCounts(drafts=1), LIMITS)
    with pytest.raises(ResourceExhausted, match="the limit is 2"):
        check_draft_cap(UserCounts(drafts=2), LIMITS)
    check_live_cap(UserCounts(live=10_000, drafts=10_000), NO_LIMITS)
    check_draft_cap(UserCounts(live=10_000, drafts=10_000), NO_LIMITS)
    assert not NO_LIMITS.enabled and LIMITS.enabled


def test_rate_allows_up_to_the_limit_then_says_when_to_retry() -> None:
    recent = [NOW - timedelta(seconds=s) for s in (50, 40, 10)]
    assert rate_retry_after(recent, NOW, LIMITS) is None
    recent.append(NOW - timedelta(seconds=5))
    # The creation 50 s ago leaves the 60 s window in 10 s.
    assert rate_retry_after(recent, NOW, LIMITS) == pytest.approx(10.0)
    with pytest.raises(ResourceExhausted, match="at most 4 per 60 s") as refused:
        check_rate(recent, NOW, LIMITS)
    assert refused.value.retry_after_seconds == 10
    [detail] = refused.value.status_details()
    assert detail.retry_delay.seconds == 10  # type: ignore[attr-defined]


def test_rate_ignores_creations_outside_the_window_and_can_be_off() -> None:
    old = [NOW - timedelta(seconds=61 + s) for s in range(10)]
    assert rate_retry_after(old, NOW, LIMITS) is None
    assert rate_retry_after([NOW] * 100, NOW, NO_LIMITS) is None


def test_lock_keys_are_per_user_and_signed_64_bit() -> None:
    keys = {fair_use_lock_key(str(u)) for u in range(1000)}
    assert len(keys) == 1000
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert fair_use_lock_key("7") == fair_use_lock_key("7")
