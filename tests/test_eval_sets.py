"""The evaluation question sets (issue 15): our public-record JSONL and the ForecastBench reader."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from services.cli.eval_sets import (
    CATEGORIES,
    QUESTION_KEYS,
    EvalQuestion,
    EvalSetError,
    LoadedSet,
    load_forecastbench,
    load_questions,
)
from services.jobs.domain.validation import (
    MIN_SEED_WORDS,
    JobFields,
    check_goal_is_question,
    check_seed_evidence,
    count_words,
    validate_job,
)

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_RECORD = ROOT / "eval" / "questions" / "public_record.jsonl"
FB_DIR = Path(__file__).resolve().parent / "fixtures" / "forecastbench"
FB_QUESTIONS = FB_DIR / "question_set.json"
FB_RESOLUTIONS = FB_DIR / "resolution_set.json"
TIER = "eval"


def _raw_lines() -> list[dict]:
    return [
        json.loads(line) for line in PUBLIC_RECORD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _assert_valid_job(question: EvalQuestion) -> None:
    """The same checks CreateJob runs (services/jobs/domain/validation.py)."""
    spec = validate_job(
        JobFields(
            seed_text=question.seed, goal=question.question, tier=TIER, forecast_days=question.forecast_days
        ),
        {TIER},
    )
    assert spec.goal == question.question
    assert spec.forecast_days == question.forecast_days
    check_seed_evidence(question.seed)
    check_goal_is_question(question.question, question.seed, question.forecast_days)


# -- the committed public-record set --------------------------------------------------------------


@pytest.fixture(scope="module")
def public_record() -> list[EvalQuestion]:
    return load_questions(PUBLIC_RECORD)


def test_public_record_size_balance_and_ids(public_record: list[EvalQuestion]) -> None:
    assert len(public_record) >= 40
    ids = [q.id for q in public_record]
    assert len(set(ids)) == len(ids)
    yes = sum(q.outcome for q in public_record)
    assert 0.4 <= yes / len(public_record) <= 0.6, (yes, len(public_record))
    # The README states the counts; keep them in step with the file.
    readme = (PUBLIC_RECORD.parent / "README.md").read_text(encoding="utf-8")
    assert f"{len(public_record)} resolved yes/no questions" in readme
    assert f"{yes} YES and {len(public_record) - yes} NO" in readme
    assert all(q.origin == "swarmcast" for q in public_record)


def test_public_record_categories_and_years(public_record: list[EvalQuestion]) -> None:
    categories = Counter(q.category for q in public_record)
    assert set(categories) == CATEGORIES  # every kind of event is represented
    years = {q.resolution_date.year for q in public_record if q.resolution_date}
    assert min(years) == 2014 and max(years) == 2024
    assert len(years) >= 9


def test_public_record_lines_have_exactly_the_documented_keys() -> None:
    for raw in _raw_lines():
        assert tuple(raw) == QUESTION_KEYS, raw["id"]


def test_public_record_dates_are_consistent(public_record: list[EvalQuestion]) -> None:
    raw_by_id = {raw["id"]: raw for raw in _raw_lines()}
    for question in public_record:
        raw = raw_by_id[question.id]
        as_of = date.fromisoformat(raw["as_of"])
        assert question.resolution_date is not None
        assert as_of < question.resolution_date, question.id
        assert (question.resolution_date - as_of).days == question.forecast_days, question.id
        assert 1 <= question.forecast_days <= 365
        assert date(2014, 1, 1) <= as_of <= date(2024, 12, 31)


def test_public_record_passes_job_validation(public_record: list[EvalQuestion]) -> None:
    for question in public_record:
        _assert_valid_job(question)


def test_public_record_seeds_and_sources(public_record: list[EvalQuestion]) -> None:
    for question in public_record:
        words = len(question.seed.split())
        assert 150 <= words <= 400, (question.id, words)
        assert count_words(question.seed) >= MIN_SEED_WORDS
        assert re.match(r"^https://[\w.-]+\.[a-z]{2,}/\S+$", question.source), question.id
        assert question.question.startswith("Will ") and question.question.endswith("?"), question.id
        # A seed is written before the outcome: no narration of what happened next.
        assert not re.search(r"\bwould (?:later|go on|eventually)\b|\bin hindsight\b", question.seed, re.I)


# -- bad lines ------------------------------------------------------------------------------------

_GOOD = {
    "id": "measure-t-2030",
    "question": "Will Measure T pass in the vote of 5 November 2030?",
    "seed": "Measure T is a county sales-tax measure for transit. " * 5,
    "as_of": "2030-10-01",
    "outcome": "YES",
    "resolution_date": "2030-11-06",
    "source": "https://example.org/measure-t",
    "forecast_days": 36,
    "category": "referendum",
}

_DROP = object()  # a key to leave out of the line


def _line(**changes: object) -> str:
    obj = {**_GOOD, **changes}
    return json.dumps({k: v for k, v in obj.items() if v is not _DROP})


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_lines_load_with_their_values(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(), "", _line(id="measure-u-2030", outcome="NO", resolution_date=None))
    first, second = load_questions(path)
    assert first == EvalQuestion(
        id="measure-t-2030",
        question=_GOOD["question"],
        seed=_GOOD["seed"].strip(),
        outcome=True,
        resolution_date=date(2030, 11, 6),
        source="https://example.org/measure-t",
        forecast_days=36,
        category="referendum",
        origin="swarmcast",
    )
    assert second.outcome is False
    assert second.resolution_date is None


@pytest.mark.parametrize(
    ("bad", "fault"),
    [
        ('{"id": "x", "question": ', "not valid JSON"),
        ("[1, 2, 3]", "expected a JSON object"),
        (_line(seed=_DROP), "missing key: seed"),
        (_line(outcome=_DROP, category=_DROP), "missing keys: outcome, category"),
        (_line(notes="x"), "unknown key: notes"),
        (_line(outcome="MAYBE"), 'outcome must be "YES" or "NO"'),
        (_line(outcome=True), 'outcome must be "YES" or "NO"'),
        (_line(resolution_date="2030-13-01"), "resolution_date is not an ISO date"),
        (_line(as_of="01/10/2030"), "as_of is not an ISO date"),
        (_line(as_of=20301001), "as_of must be an ISO date string"),
        (_line(as_of="2030-11-06"), "is not before resolution_date"),
        (_line(forecast_days=30), "forecast_days is 30 but 2030-10-01 to 2030-11-06 is 36 days"),
        (_line(forecast_days=400, as_of=None), "forecast_days must be between 1 and 365"),
        (_line(forecast_days="36"), "forecast_days must be an integer"),
        (_line(category="weather"), "unknown category 'weather'"),
        (_line(question="  "), "question is empty"),
        (_line(id="Measure T"), "id must be a slug"),
        (_line(seed=42), "seed must be a string"),
    ],
)
def test_bad_line_names_file_line_and_fault(tmp_path: Path, bad: str, fault: str) -> None:
    path = _write(tmp_path, _line(id="fine-first-line"), "", bad)
    with pytest.raises(EvalSetError) as excinfo:
        load_questions(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: line 3")
    assert fault in message


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(), _line(id="other-one"), _line())
    with pytest.raises(
        EvalSetError, match=r"line 3 \(id 'measure-t-2030'\): duplicate id \(first on line 1\)"
    ):
        load_questions(path)


def test_unreadable_file_is_an_eval_set_error(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match="cannot read the file"):
        load_questions(tmp_path / "missing.jsonl")


# -- ForecastBench ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def forecastbench() -> LoadedSet:
    return load_forecastbench(FB_QUESTIONS, FB_RESOLUTIONS)


def test_forecastbench_keeps_resolved_binary_market_questions(forecastbench: LoadedSet) -> None:
    got = {
        q.id: (q.outcome, q.forecast_days, q.resolution_date, q.origin, q.category)
        for q in forecastbench.questions
    }
    assert got == {
        # resolved 2025-06-30, 120 days after the 2025-03-02 due date
        "manifold:mQx7TtR2aLk9PzeW4Vb1": (True, 120, date(2025, 6, 30), "forecastbench:manifold", ""),
        "metaculus:31337": (False, 30, date(2025, 4, 1), "forecastbench:metaculus", ""),
        # 456 days after the due date: clamped to the platform's 365-day limit
        "polymarket:0x5f1c9a7e2b3d4c6f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f": (
            False,
            365,
            date(2026, 6, 1),
            "forecastbench:polymarket",
            "",
        ),
        # same bare id as the Metaculus question, told apart by its source; resolved before the
        # due date, so clamped up to 1 day
        "infer:31337": (True, 1, date(2025, 2, 26), "forecastbench:infer", ""),
    }
    assert [q.id.split(":")[0] for q in forecastbench.questions] == [
        "manifold",
        "metaculus",
        "polymarket",
        "infer",
    ]


def test_forecastbench_skips_with_reasons(forecastbench: LoadedSet) -> None:
    skipped = dict(forecastbench.skipped)
    assert len(skipped) == len(forecastbench.skipped) == 7
    expected = {
        "acled:c0ffee0000000000000000000000000000000000000000000000000000000001": "dataset source 'acled'",
        "manifold:[mQx7TtR2aLk9PzeW4Vb1, 4Hn8sWqLp2ZcVx0Ty6Ra]": "combination question",
        "manifold:4Hn8sWqLp2ZcVx0Ty6Ra": "unresolved",
        "manifold:9Kd3LmQw7Rt5Yp1Xz8Vc": "resolved_to is not 0 or 1: 0.5",
        "polymarket:0x77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788": (
            "refused by job validation (goal)"
        ),
        "metaculus:40404": "no resolution in the resolution set",
        "manifold:Zz1Yy2Xx3Ww4Vv5Uu6Tt": "refused by job validation (seed_text): seed_text is too short",
    }
    assert set(skipped) == set(expected)
    for key, reason in expected.items():
        assert reason in skipped[key], (key, skipped[key])


def test_forecastbench_seeds_are_prose_and_pass_validation(forecastbench: LoadedSet) -> None:
    by_id = {q.id: q for q in forecastbench.questions}
    for question in forecastbench.questions:
        _assert_valid_job(question)

    # Empty background: the short seed gets the question in front, and the freeze value as a line.
    tram = by_id["manifold:mQx7TtR2aLk9PzeW4Vb1"]
    assert tram.seed.startswith(tram.question + "\n\n")
    assert tram.seed.endswith("On 20 February 2025, the market value was 0.623.")
    assert tram.source == "https://manifold.markets/example/harbour-line-tram-extension"

    # A long enough background stands alone, followed by the platform's own resolution criteria.
    referendum = by_id["metaculus:31337"]
    assert referendum.seed.startswith("The government of Estland announced in 2024")
    assert "Resolution criteria: This question resolves **Yes** if a nationwide referendum" in referendum.seed
    assert referendum.seed.endswith("On 20 February 2025, the community prediction was 0.08.")

    # INFER's HTML is reduced to text: no tags, entities decoded, headings joined to their text.
    chips = by_id["infer:31337"]
    assert "<" not in chips.seed and "&" not in chips.seed and "\r" not in chips.seed
    assert "the region’s largest contract chipmaker" in chips.seed
    assert 'volume production was "on schedule"' in chips.seed
    assert "Resolution Criteria: This question will be resolved as “Yes”" in chips.seed
    assert not chips.seed.startswith(chips.question)


def test_forecastbench_unusable_files_raise(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(EvalSetError, match=r"broken\.json: not valid JSON"):
        load_forecastbench(broken, FB_RESOLUTIONS)
    no_list = tmp_path / "no_list.json"
    no_list.write_text(json.dumps({"forecast_due_date": "2025-03-02"}), encoding="utf-8")
    with pytest.raises(EvalSetError, match="no 'questions' list"):
        load_forecastbench(no_list, FB_RESOLUTIONS)
    with pytest.raises(EvalSetError, match="no 'resolutions' list"):
        load_forecastbench(FB_QUESTIONS, no_list)
    bad_due = tmp_path / "bad_due.json"
    bad_due.write_text(json.dumps({"forecast_due_date": "soon", "questions": []}), encoding="utf-8")
    with pytest.raises(EvalSetError, match="forecast_due_date is not an ISO date"):
        load_forecastbench(bad_due, FB_RESOLUTIONS)
