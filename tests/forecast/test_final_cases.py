"""The final held-out case set (`tests/forecast/final.py`) is what it claims to be: enough pairs per
family, real-length seeds, pairs whose two sides really are opposite, and no topic, id or wording
borrowed from either earlier set (`tests/forecast/seeds.py`, `tests/forecast/holdout.py`). No stack
needed."""

from __future__ import annotations

import re
from collections import Counter

from tests.forecast.final import FINAL_CASES, FINAL_CASES_BY_ID, final_negation_pairs
from tests.forecast.holdout import HOLDOUT_CASES
from tests.forecast.seeds import CASES, FAMILIES, Case, word_count

MIN_PAIRS = 16
MIN_PAIRS_PER_FAMILY = 4
SEED_WORDS = (120, 400)
ID_PREFIX = "f-"
# A run of this many words shared with an earlier seed or goal means a sentence was reused, not a phrase.
SHARED_RUN_WORDS = 6
EARLIER_CASES: tuple[Case, ...] = CASES + HOLDOUT_CASES


def _pairs() -> dict[str, list[Case]]:
    pairs: dict[str, list[Case]] = {}
    for case in FINAL_CASES:
        pairs.setdefault(case.pair, []).append(case)
    return pairs


def _word_runs(text: str, n: int = SHARED_RUN_WORDS) -> set[tuple[str, ...]]:
    words = re.findall(r"[\w']+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_ids_are_unique_prefixed_and_new() -> None:
    ids = [case.id for case in FINAL_CASES]
    assert len(ids) == len(set(ids)) == len(FINAL_CASES_BY_ID), "case ids must be unique"
    assert all(case_id.startswith(ID_PREFIX) for case_id in ids)
    assert all(case.pair.startswith(ID_PREFIX) for case in FINAL_CASES)
    assert not set(ids) & {case.id for case in EARLIER_CASES}
    assert not set(_pairs()) & {case.pair for case in EARLIER_CASES}


def test_enough_pairs_in_every_family() -> None:
    pairs = _pairs()
    assert len(pairs) >= MIN_PAIRS
    per_family = Counter(cases[0].family for cases in pairs.values())
    assert all(per_family[family] >= MIN_PAIRS_PER_FAMILY for family in FAMILIES), per_family
    assert len(final_negation_pairs()) == per_family["negation"]


def test_the_two_sides_of_every_pair_are_opposite() -> None:
    for pair, (a, b, *rest) in _pairs().items():
        assert not rest and a.family == b.family, pair
        assert {a.expected, b.expected} == {"yes", "no"}, pair
        if a.family == "negation":
            assert a.seed_text == b.seed_text and a.goal != b.goal, pair
        else:
            assert a.seed_text != b.seed_text and a.goal == b.goal, pair
    for goal_case, negated_case in final_negation_pairs():
        assert goal_case.pair == negated_case.pair and goal_case.expected != negated_case.expected


def test_negation_pairs_do_not_all_favour_the_plain_wording() -> None:
    # The goal as first asked (grant, launch, be listed, complete) is YES in some pairs and NO in others,
    # so a forecaster that always favours the un-negated wording cannot pass the family.
    assert {goal_case.expected for goal_case, _ in final_negation_pairs()} == {"yes", "no"}


def test_seeds_are_real_documents_and_goals_are_questions() -> None:
    for case in FINAL_CASES:
        assert isinstance(case, Case) and case.family in FAMILIES, case.id
        assert SEED_WORDS[0] <= word_count(case.seed_text) <= SEED_WORDS[1], case.id
        assert case.goal.endswith("?"), case.id


def test_nothing_is_borrowed_from_the_earlier_sets() -> None:
    earlier_seeds = {case.seed_text for case in EARLIER_CASES}
    earlier_goals = {case.goal for case in EARLIER_CASES}
    earlier_runs: set[tuple[str, ...]] = set()
    for text in earlier_seeds | earlier_goals:
        earlier_runs |= _word_runs(text)
    for case in FINAL_CASES:
        assert case.seed_text not in earlier_seeds and case.goal not in earlier_goals, case.id
        shared = (_word_runs(case.seed_text) | _word_runs(case.goal)) & earlier_runs
        assert not shared, (case.id, [" ".join(run) for run in sorted(shared)])
