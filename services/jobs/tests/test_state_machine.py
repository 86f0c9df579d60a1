"""Every legal and illegal move of the job state machine, exhaustively."""

import itertools

import pytest

from services.jobs.domain.state_machine import (
    LIVE,
    TERMINAL,
    IllegalTransition,
    JobStatus,
    allowed_sources,
    can_transition,
    stage_rank,
    transition,
)

S = JobStatus
LEGAL = {
    (S.DRAFT, S.PENDING),
    (S.DRAFT, S.FAILED),
    (S.PENDING, S.PROVISIONING),
    (S.PENDING, S.RUNNING),
    (S.PENDING, S.REPORTING),
    (S.PENDING, S.FAILED),
    (S.PROVISIONING, S.RUNNING),
    (S.PROVISIONING, S.REPORTING),
    (S.PROVISIONING, S.FAILED),
    (S.RUNNING, S.REPORTING),
    (S.RUNNING, S.FAILED),
    (S.REPORTING, S.COMPLETED),
    (S.REPORTING, S.FAILED),
}
ALL_PAIRS = list(itertools.product(S, S))


def test_enum_is_the_seeds_in_order() -> None:
    assert [s.value for s in S] == [
        "DRAFT",
        "PENDING",
        "PROVISIONING",
        "RUNNING",
        "REPORTING",
        "COMPLETED",
        "FAILED",
        "REFUNDED",
    ]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair(source: JobStatus, target: JobStatus) -> None:
    legal = (source, target) in LEGAL
    assert can_transition(source, target) is legal
    if legal:
        assert transition(source, target) is target
    else:
        with pytest.raises(IllegalTransition, match=f"from {source} to {target}"):
            transition(source, target)


def test_terminal_states_have_no_exit_and_refunded_no_entry() -> None:
    assert frozenset({S.COMPLETED, S.FAILED, S.REFUNDED}) == TERMINAL
    for terminal in TERMINAL:
        assert not any(can_transition(terminal, t) for t in S)
    assert allowed_sources(S.REFUNDED) == frozenset()


def test_failed_reachable_from_every_live_state() -> None:
    assert LIVE <= allowed_sources(S.FAILED)


def test_no_backward_move_on_the_main_line() -> None:
    for source, target in LEGAL:
        if target is not S.FAILED:
            assert stage_rank(target) > stage_rank(source)


def test_sql_guard_lists_match_the_table() -> None:
    for target in S:
        assert allowed_sources(target) == {s for s, t in LEGAL if t is target}
