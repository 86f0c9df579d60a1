"""Every coherence suite (`tests/forecast/coherence.py` SUITES) is what it claims to be: enough pairs
per family, real-length seeds, pairs whose two sides really are opposite, and - for the suites
written later - no id or wording borrowed from an earlier one. No stack needed."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.forecast.coherence import SUITES
from tests.forecast.seeds import CASES, FAMILIES, TIER_GAP_CASE_IDS, Case, negation_pairs, word_count

MIN_PAIRS = 12
MIN_PAIRS_PER_FAMILY = 3
SEED_WORDS = (120, 400)
ID_PREFIX = {"team": "", "holdout": "h-", "final": "f-"}
# A run of this many words shared with an earlier seed or goal means a sentence was reused, not a phrase.
SHARED_RUN_WORDS = 6
NAMES = list(SUITES)


def _pairs(cases: tuple[Case, ...]) -> dict[str, list[Case]]:
    pairs: dict[str, list[Case]] = {}
    for case in cases:
        pairs.setdefault(case.pair, []).append(case)
    return pairs


def _word_runs(text: str, n: int = SHARED_RUN_WORDS) -> set[tuple[str, ...]]:
    words = re.findall(r"[\w']+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.parametrize("name", NAMES)
def test_ids_are_unique_and_prefixed(name: str) -> None:
    ids = [case.id for case in SUITES[name]]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert all(case_id.startswith(ID_PREFIX[name]) for case_id in ids)


@pytest.mark.parametrize("name", NAMES)
def test_enough_pairs_in_every_family(name: str) -> None:
    pairs = _pairs(SUITES[name])
    assert len(pairs) >= MIN_PAIRS
    per_family = Counter(cases[0].family for cases in pairs.values())
    assert all(per_family[family] >= MIN_PAIRS_PER_FAMILY for family in FAMILIES), per_family
    assert len(negation_pairs(SUITES[name])) == per_family["negation"]


@pytest.mark.parametrize("name", NAMES)
def test_the_two_sides_of_every_pair_are_opposite(name: str) -> None:
    for pair, (a, b, *rest) in _pairs(SUITES[name]).items():
        assert not rest and a.family == b.family, pair
        assert {a.expected, b.expected} == {"yes", "no"}, pair
        if a.family == "negation":
            assert a.seed_text == b.seed_text and a.goal != b.goal, pair
        else:
            assert a.seed_text != b.seed_text and a.goal == b.goal, pair


@pytest.mark.parametrize("name", NAMES)
def test_seeds_are_real_documents_and_goals_are_questions(name: str) -> None:
    for case in SUITES[name]:
        assert isinstance(case, Case) and case.family in FAMILIES, case.id
        assert SEED_WORDS[0] <= word_count(case.seed_text) <= SEED_WORDS[1], case.id
        assert case.goal.endswith("?"), case.id


@pytest.mark.parametrize("name", NAMES[1:])
def test_nothing_is_borrowed_from_an_earlier_suite(name: str) -> None:
    earlier = [case for other in NAMES[: NAMES.index(name)] for case in SUITES[other]]
    seeds, goals = {c.seed_text for c in earlier}, {c.goal for c in earlier}
    runs: set[tuple[str, ...]] = set()
    for text in seeds | goals:
        runs |= _word_runs(text)
    assert not {c.id for c in SUITES[name]} & {c.id for c in earlier}
    assert not {c.pair for c in SUITES[name]} & {c.pair for c in earlier}
    for case in SUITES[name]:
        assert case.seed_text not in seeds and case.goal not in goals, case.id
        shared = (_word_runs(case.seed_text) | _word_runs(case.goal)) & runs
        assert not shared, (case.id, [" ".join(run) for run in sorted(shared)])


def test_the_final_negation_pairs_do_not_all_favour_the_plain_wording() -> None:
    # The goal as first asked is YES in some pairs and NO in others, so a forecaster that always
    # favours the un-negated wording cannot pass the family.
    assert {goal_case.expected for goal_case, _ in negation_pairs(SUITES["final"])} == {"yes", "no"}


def test_the_tier_gap_cases_are_team_cases() -> None:
    assert set(TIER_GAP_CASE_IDS) <= {case.id for case in CASES} and len(TIER_GAP_CASE_IDS) >= 3
