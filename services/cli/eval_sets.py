"""Readers of resolved yes/no question sets for evaluating forecasts (issue 15).

Two formats:

* our own JSON Lines file (``eval/questions/public_record.jsonl``, described in
  ``eval/questions/README.md``): one question a line, each with a seed written as of before its
  resolution. :func:`load_questions` reads it strictly: any bad line is an :class:`EvalSetError`
  that names the file, the line and what is wrong.
* a ForecastBench question set and resolution set (the JSON files published in
  github.com/forecastingresearch/forecastbench-datasets, ``datasets/question_sets/*.json`` and
  ``datasets/resolution_sets/*_resolution_set.json``). :func:`load_forecastbench` keeps the
  resolved single market questions whose goal and seed the jobs service would accept, and reports
  every other question in ``LoadedSet.skipped`` with the reason, instead of failing.

Pure functions: nothing is read but the files named, nothing is written.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from services.jobs.domain.validation import (
    MAX_FORECAST_DAYS,
    MIN_FORECAST_DAYS,
    MIN_SEED_WORDS,
    ValidationError,
    check_forecast_days,
    check_goal,
    check_goal_is_question,
    check_seed,
    check_seed_evidence,
    count_words,
)

CATEGORIES = frozenset(
    {"referendum", "election", "legislation", "court", "regulatory", "company", "sports", "monetary"}
)
# Keys of a line of our JSONL file: every line has exactly these.
QUESTION_KEYS = (
    "id",
    "question",
    "seed",
    "as_of",
    "outcome",
    "resolution_date",
    "source",
    "forecast_days",
    "category",
)
# ForecastBench's market sources (questions from forecasting platforms); its other sources (acled,
# dbnomics, fred, wikipedia, yfinance) are generated from time series and are not simulated.
MARKET_SOURCES = frozenset({"manifold", "metaculus", "polymarket", "infer"})
ORIGIN_SWARMCAST = "swarmcast"
# ForecastBench writes "N/A" where a field does not apply.
_NOT_APPLICABLE = frozenset({"", "n/a", "na", "none", "null"})
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TAG = re.compile(r"<[^>]+>")
_BREAK_TAG = re.compile(r"<\s*(?:br|/p|/div|/li|p|div|li)\b[^>]*>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """One resolved yes/no question: the goal, the seed it is forecast from, and what happened."""

    id: str
    question: str  # the goal
    seed: str
    outcome: bool  # True = resolved YES
    resolution_date: date | None
    source: str  # URL or ""
    forecast_days: int  # 1..365
    category: str  # "" when unknown
    origin: str  # "swarmcast" or "forecastbench:<source>"


class EvalSetError(ValueError):
    """A question file that cannot be read; the message names the file, line or id, and the fault."""


@dataclass(frozen=True, slots=True)
class LoadedSet:
    """What :func:`load_forecastbench` kept, and what it skipped as ``(id, reason)`` pairs.

    The ids are ``"<source>:<ForecastBench id>"`` (a bare ForecastBench id is only unique within
    its source: Metaculus and INFER both number their questions).
    """

    questions: list[EvalQuestion]
    skipped: list[tuple[str, str]] = field(default_factory=list)


# -- our JSONL ------------------------------------------------------------------------------------


def load_questions(path: Path) -> list[EvalQuestion]:
    """The questions of our JSONL file, in file order (blank lines are ignored).

    Raises :class:`EvalSetError` on the first bad line: not JSON, not an object, a missing or
    unknown key, a value of the wrong type, an outcome other than "YES"/"NO", a date that is not
    ISO ``YYYY-MM-DD``, ``as_of`` not before ``resolution_date``, ``forecast_days`` outside
    1..365 or not the days between them, an unknown category, or a duplicate id.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read the file: {exc}") from exc
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        question = _parse_line(path, number, line)
        first = seen.get(question.id)
        if first is not None:
            raise EvalSetError(
                f"{path}: line {number} (id {question.id!r}): duplicate id (first on line {first})"
            )
        seen[question.id] = number
        questions.append(question)
    return questions


def _parse_line(path: Path, number: int, line: str) -> EvalQuestion:
    where = f"{path}: line {number}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})") from exc
    if not isinstance(obj, dict):
        raise EvalSetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    if isinstance(raw_id, str) and raw_id:
        where = f"{where} (id {raw_id!r})"

    def fail(what: str) -> EvalSetError:
        return EvalSetError(f"{where}: {what}")

    missing = [k for k in QUESTION_KEYS if k not in obj]
    if missing:
        raise fail(f"missing key{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    unknown = sorted(set(obj) - set(QUESTION_KEYS))
    if unknown:
        raise fail(f"unknown key{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")

    def text_field(key: str, *, required: bool) -> str:
        value = obj[key]
        if not isinstance(value, str):
            raise fail(f"{key} must be a string, got {type(value).__name__}")
        if required and not value.strip():
            raise fail(f"{key} is empty")
        return value.strip()

    qid = text_field("id", required=True)
    if not _ID.match(qid):
        raise fail("id must be a slug: lowercase letters, digits, '.', '_' and '-'")
    goal = text_field("question", required=True)
    seed = text_field("seed", required=True)
    source = text_field("source", required=False)
    category = text_field("category", required=False)
    if category and category not in CATEGORIES:
        raise fail(f"unknown category {category!r} (one of {', '.join(sorted(CATEGORIES))})")

    outcome = obj["outcome"]
    if outcome not in ("YES", "NO"):
        raise fail(f'outcome must be "YES" or "NO", got {outcome!r}')

    def date_field(key: str) -> date | None:
        value = obj[key]
        if value is None:
            return None
        if not isinstance(value, str):
            raise fail(f"{key} must be an ISO date string (YYYY-MM-DD) or null, got {type(value).__name__}")
        try:
            if not _ISO_DAY.match(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise fail(f"{key} is not an ISO date (YYYY-MM-DD): {value!r}") from None

    as_of = date_field("as_of")
    resolved_on = date_field("resolution_date")

    days = obj["forecast_days"]
    if isinstance(days, bool) or not isinstance(days, int):
        raise fail(f"forecast_days must be an integer, got {days!r}")
    if not MIN_FORECAST_DAYS <= days <= MAX_FORECAST_DAYS:
        raise fail(f"forecast_days must be between {MIN_FORECAST_DAYS} and {MAX_FORECAST_DAYS}, got {days}")
    if as_of is not None and resolved_on is not None:
        if as_of >= resolved_on:
            raise fail(f"as_of {as_of} is not before resolution_date {resolved_on}")
        if (resolved_on - as_of).days != days:
            raise fail(
                f"forecast_days is {days} but {as_of} to {resolved_on} is {(resolved_on - as_of).days} days"
            )

    return EvalQuestion(
        id=qid,
        question=goal,
        seed=seed,
        outcome=outcome == "YES",
        resolution_date=resolved_on,
        source=source,
        forecast_days=days,
        category=category,
        origin=ORIGIN_SWARMCAST,
    )


# -- ForecastBench --------------------------------------------------------------------------------


def load_forecastbench(question_set: Path, resolution_set: Path) -> LoadedSet:
    """The resolved binary market questions of a ForecastBench question set.

    Kept: questions from a market source (:data:`MARKET_SOURCES`) with a single id, whose
    resolution (matched on source and id) has ``resolved`` true and ``resolved_to`` exactly 0 or 1,
    and whose goal and seed pass the jobs service's CreateJob checks. The goal is the question
    text as given; the seed is the background, the resolution criteria and the value at the
    freeze date, as prose (with the question in front when that is under 30 words);
    ``forecast_days`` is the days from the set's ``forecast_due_date`` to the resolution date,
    clamped to 1..365. Everything else is skipped with its reason, in question-set order:
    combination questions (a list-valued id or direction), dataset sources, unresolved or
    non-binary resolutions, questions without a resolution, and goals or seeds the platform
    would refuse.

    Raises :class:`EvalSetError` only when a file as a whole is unusable (unreadable, not JSON,
    no question or resolution list, a bad ``forecast_due_date``).
    """
    qpath, rpath = Path(question_set), Path(resolution_set)
    qdoc = _read_json_object(qpath)
    rdoc = _read_json_object(rpath)
    questions = _list_field(qpath, qdoc, "questions")
    resolutions = _list_field(rpath, rdoc, "resolutions")
    due_raw = qdoc.get("forecast_due_date")
    try:
        due = _parse_day(due_raw)
    except ValueError:
        raise EvalSetError(f"{qpath}: forecast_due_date is not an ISO date: {due_raw!r}") from None

    by_key: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for entry in resolutions:
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("id"), str)
            and isinstance(entry.get("source"), str)
        ):
            by_key.setdefault((entry["source"], entry["id"]), []).append(entry)

    kept: list[EvalQuestion] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(questions):
        if not isinstance(item, dict):
            skipped.append((f"#{index}", "not a JSON object"))
            continue
        key = _fb_key(item, index)
        question, reason = _forecastbench_question(item, key, due, by_key)
        if question is None:
            skipped.append((key, reason))
        elif question.id in seen:
            skipped.append((key, "duplicate id in the question set"))
        else:
            seen.add(question.id)
            kept.append(question)
    return LoadedSet(questions=kept, skipped=skipped)


def _fb_key(item: Mapping[str, Any], index: int) -> str:
    source = item.get("source")
    qid = item.get("id")
    src = source if isinstance(source, str) and source else "?"
    if isinstance(qid, list):
        return f"{src}:[{', '.join(str(part) for part in qid)}]"
    if isinstance(qid, str | int) and not isinstance(qid, bool) and str(qid):
        return f"{src}:{qid}"
    return f"{src}:#{index}"


def _forecastbench_question(
    item: Mapping[str, Any],
    key: str,
    due: date,
    by_key: Mapping[tuple[str, str], list[Mapping[str, Any]]],
) -> tuple[EvalQuestion | None, str]:
    qid = item.get("id")
    combination = item.get("combination_of")
    if isinstance(qid, list) or isinstance(item.get("direction"), list) or isinstance(combination, list):
        return None, "combination question"
    source = item.get("source")
    if not isinstance(source, str) or not source:
        return None, "no source"
    if source not in MARKET_SOURCES:
        return None, f"dataset source {source!r} (only market questions are used)"
    if isinstance(qid, bool) or not isinstance(qid, str | int) or not str(qid):
        return None, "no id"
    matches = by_key.get((source, str(qid)), [])
    if not matches:
        return None, "no resolution in the resolution set"
    if len(matches) > 1:
        return None, f"{len(matches)} resolutions in the resolution set"
    resolution = matches[0]
    if isinstance(resolution.get("direction"), list):
        return None, "combination question"
    if resolution.get("resolved") is not True:
        return None, "unresolved"
    value = resolution.get("resolved_to")
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in (0, 1):
        return None, f"resolved_to is not 0 or 1: {value!r}"
    try:
        resolved_on = _parse_day(resolution.get("resolution_date"))
    except ValueError:
        return None, f"bad resolution_date: {resolution.get('resolution_date')!r}"

    goal_raw = item.get("question")
    if not isinstance(goal_raw, str) or not goal_raw.strip():
        return None, "no question text"
    goal = " ".join(_CONTROL.sub(" ", goal_raw).split())
    seed = forecastbench_seed(item)
    days = min(MAX_FORECAST_DAYS, max(MIN_FORECAST_DAYS, (resolved_on - due).days))
    try:
        check_seed(seed)
        check_goal(goal)
        check_forecast_days(days)
        check_seed_evidence(seed)
        check_goal_is_question(goal, seed, days)
    except ValidationError as exc:
        return None, f"refused by job validation ({exc.field}): {exc.description}"
    url = item.get("url")
    return (
        EvalQuestion(
            id=key,
            question=goal,
            seed=seed,
            outcome=value == 1,
            resolution_date=resolved_on,
            source=url.strip() if isinstance(url, str) and not _na(url) else "",
            forecast_days=days,
            category="",
            origin=f"forecastbench:{source}",
        ),
        "",
    )


def forecastbench_seed(item: Mapping[str, Any]) -> str:
    """A question's seed: its background, resolution criteria and freeze-date value as prose.

    HTML (INFER backgrounds carry it) is reduced to text; "N/A" fields are left out. A seed of
    fewer than MIN_SEED_WORDS words gets the question text in front.
    """
    paragraphs: list[str] = []
    background = _clean(item.get("background"))
    if background:
        paragraphs.append(background)
    market_criteria = _clean(item.get("market_info_resolution_criteria"))
    if market_criteria:
        paragraphs.append(f"Resolution criteria: {market_criteria}")
    criteria = _clean(item.get("resolution_criteria"))
    if criteria:
        paragraphs.append(criteria)
    freeze = _freeze_line(item)
    if freeze:
        paragraphs.append(freeze)
    seed = "\n\n".join(paragraphs)
    if count_words(seed) < MIN_SEED_WORDS:
        question = _clean(item.get("question"))
        if question:
            seed = f"{question}\n\n{seed}" if seed else question
    return seed


def _freeze_line(item: Mapping[str, Any]) -> str:
    raw = item.get("freeze_datetime_value")
    if raw is None or isinstance(raw, bool) or (isinstance(raw, str) and _na(raw)):
        return ""
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return ""
    explanation = _clean(item.get("freeze_datetime_value_explanation")).rstrip(".")
    what = (explanation[:1].lower() + explanation[1:]) if explanation else "the forecast value"
    when = ""
    stamp = item.get("freeze_datetime")
    if isinstance(stamp, str) and not _na(stamp):
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            when = f"On {moment.day} {moment:%B %Y}, "
        except ValueError:
            when = ""
    sentence = f"{when}{what} was {number:.3g}."
    return sentence[:1].upper() + sentence[1:]


def _clean(value: object) -> str:
    """Text without HTML, control characters or ragged whitespace; "" for "N/A" and non-strings."""
    if not isinstance(value, str) or _na(value):
        return ""
    text = _BREAK_TAG.sub("\n\n", value)
    text = html.unescape(_TAG.sub("", text)).replace("\u00a0", " ")
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs: list[str] = []
    for raw in re.split(r"\n\s*\n", text):
        paragraph = " ".join(raw.split())
        if not paragraph:
            continue
        if paragraphs and paragraphs[-1].endswith(":"):  # a heading such as "Resolution Criteria:"
            paragraphs[-1] = f"{paragraphs[-1]} {paragraph}"
        else:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def _na(value: str) -> bool:
    return value.strip().lower() in _NOT_APPLICABLE


def _parse_day(value: object) -> date:
    """ "2025-10-26" or "2025-10-26T00:00:00+00:00" -> the date."""
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(f"not a date: {value!r}")
    return date.fromisoformat(value[:10])


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: cannot read the file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"{path}: not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(doc, dict):
        raise EvalSetError(f"{path}: expected a JSON object at the top level, got {type(doc).__name__}")
    return doc


def _list_field(path: Path, doc: Mapping[str, Any], key: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise EvalSetError(f"{path}: no {key!r} list")
    return value
