"""Input validation for jobs and drafts (docs/architecture.md §6), as pure functions.

Nothing here touches the database: callers pass the tiers that exist, get back a normalised value
or a `ValidationError` (an INVALID_ARGUMENT domain error) naming the offending field, and write
only when validation passed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from google.protobuf.message import Message
from swarmcast.jobs.v1 import jobs_pb2

from services.common.errors import InvalidArgument
from services.common.questions import analyze_goal, suggest_questions

log = logging.getLogger("swarmcast.jobs.validation")

MAX_SEED_CHARS = 50_000
# A forecast from a sentence or two is a forecast from nothing (issue 13): a submitted seed needs
# this many words of evidence. Drafts may hold less until they are launched.
MIN_SEED_WORDS = 30
# How many yes/no questions a refused goal (and SuggestQuestions) offers.
SUGGESTION_LIMIT = 3
# A goal is one prediction question; 2,000 characters is far beyond any sensible question but
# keeps a pasted document out of a field that goes into every agent prompt.
MAX_GOAL_CHARS = 2_000
MIN_FORECAST_DAYS = 1
MAX_FORECAST_DAYS = 365
DEFAULT_FORECAST_DAYS = 30
DEFAULT_ENRICH_WEB = True
# model_routing.sim_tier is varchar(20).
MAX_TIER_CHARS = 20

# C0 controls other than tab/newline/carriage return, and DEL. Postgres cannot store NUL in text at
# all (it would surface as an internal error), and the others are never meaningful in a seed.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A word: a run of Unicode letters or digits, joined across an inner apostrophe, hyphen or point
# ("T's", "light-rail", "0.5" are one word each).
_WORD = re.compile(r"\w+(?:['’.\-]\w+)*")
# Chinese and Japanese are written without spaces: each character counts as a word.
_CJK_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


class ValidationError(InvalidArgument):
    """Bad input in one field: INVALID_ARGUMENT with `message` shown to the user.

    `description` is what is wrong with `field` alone (the message may say more, such as the
    suggested questions): the status's field violation. `suggestions` are the yes/no questions
    offered instead of a refused goal (None: not a refused goal; empty: the seed suggested none),
    sent as a jobs.v1.GoalSuggestions detail so a client lists them without parsing the message.
    """

    def __init__(
        self,
        field: str,
        message: str,
        *,
        description: str | None = None,
        suggestions: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message, fields={field: description or message})
        self.field = field
        self.description = description or message
        self.suggestions = None if suggestions is None else list(suggestions)

    def status_details(self) -> list[Message]:
        details = super().status_details()
        if self.suggestions is not None:
            details.append(jobs_pb2.GoalSuggestions(suggestions=self.suggestions))
        return details


@dataclass(frozen=True, slots=True)
class JobFields:
    """What a caller may set on a job or draft; None means 'not given'."""

    seed_text: str | None = None
    goal: str | None = None
    tier: str | None = None
    enrich_web: bool | None = None
    forecast_days: int | None = None

    def merged(self, update: JobFields) -> JobFields:
        """These fields with every field that `update` sets replaced (UpdateDraft semantics)."""
        changes = {name: getattr(update, name) for name in _FIELD_NAMES if getattr(update, name) is not None}
        return replace(self, **changes)


_FIELD_NAMES = ("seed_text", "goal", "tier", "enrich_web", "forecast_days")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A fully validated, launchable job configuration."""

    seed_text: str
    goal: str
    tier: str
    enrich_web: bool
    forecast_days: int


def _check_text(field: str, value: str, *, max_chars: int, label: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise ValidationError(field, f"{label} contains control characters (such as NUL); remove them")
    if len(value) > max_chars:
        raise ValidationError(
            field, f"{label} is too long: {len(value):,} characters (the limit is {max_chars:,})"
        )
    return value


def check_seed(value: str | None) -> str:
    if value is None or not value.strip():
        raise ValidationError("seed_text", "seed_text is required: paste the document to simulate")
    # The seed is kept verbatim (its whitespace can be meaningful); only emptiness uses strip().
    return _check_text("seed_text", value, max_chars=MAX_SEED_CHARS, label="seed_text")


def check_goal(value: str | None) -> str:
    goal = (value or "").strip()
    if not goal:
        raise ValidationError("goal", "goal is required: state the question the simulation should forecast")
    return _check_text("goal", goal, max_chars=MAX_GOAL_CHARS, label="goal")


def count_words(text: str) -> int:
    cjk = len(_CJK_CHAR.findall(text))
    return cjk + len(_WORD.findall(_CJK_CHAR.sub(" ", text)))


def check_seed_evidence(seed: str) -> str:
    """A submitted seed must carry at least MIN_SEED_WORDS words."""
    words = count_words(seed)
    if words < MIN_SEED_WORDS:
        raise ValidationError(
            "seed_text",
            f"seed_text is too short: {words} word{'s' if words != 1 else ''}; a forecast needs at least "
            f"{MIN_SEED_WORDS} words of evidence",
        )
    return seed


def safe_suggestions(seed_text: str, goal: str, forecast_days: int) -> list[str]:
    """Up to SUGGESTION_LIMIT yes/no questions from the seed; none if suggesting fails.

    A refused goal must stay INVALID_ARGUMENT however the suggester fares on odd input.
    """
    try:
        questions = suggest_questions(seed_text, goal, forecast_days, limit=SUGGESTION_LIMIT)
        return [q for q in questions if q][:SUGGESTION_LIMIT]
    except Exception:
        log.exception("suggesting questions failed; refusing the goal without suggestions")
        return []


class OpenEndedGoal(ValidationError):
    """A goal that is not a yes/no question about an event; `description` says why.

    Raised without suggestions (reading the seed for them is slow next to every other check, so
    callers do it outside their transaction): `with_suggestions()` is the error the user sees.
    """

    def __init__(self, goal: str, reason: str, seed_text: str, forecast_days: int) -> None:
        super().__init__("goal", reason)
        self.goal = goal
        self.seed_text = seed_text
        self.forecast_days = forecast_days

    def with_suggestions(self) -> ValidationError:
        suggestions = safe_suggestions(self.seed_text, self.goal, self.forecast_days)
        message = self.description
        if suggestions:
            message += " Questions this seed can answer: " + "; ".join(f"“{q}”" for q in suggestions) + "."
        return ValidationError("goal", message, description=self.description, suggestions=suggestions)


def check_goal_is_question(goal: str, seed_text: str, forecast_days: int) -> str:
    """A submitted goal must be a yes/no question about an event (raises OpenEndedGoal)."""
    analysis = analyze_goal(goal)
    if not analysis.is_yes_no:
        reason = analysis.reason.strip() or "The goal is not a yes/no question about an event."
        raise OpenEndedGoal(goal, reason, seed_text, forecast_days)
    return goal


def resolve_tier(value: str | None, known_tiers: Collection[str]) -> str:
    """The canonical name of the routed tier `value` names (case-insensitive)."""
    valid = ", ".join(sorted(known_tiers)) or "none are configured"
    tier = (value or "").strip()
    if not tier:
        raise ValidationError("tier", f"tier is required; valid tiers: {valid}")
    if len(tier) > MAX_TIER_CHARS or _CONTROL_CHARS.search(tier):
        raise ValidationError("tier", f"unknown tier; valid tiers: {valid}")
    by_folded = {t.casefold(): t for t in known_tiers}
    canonical = by_folded.get(tier.casefold())
    if canonical is None:
        raise ValidationError("tier", f"unknown tier {tier!r}; valid tiers: {valid}")
    return canonical


def check_forecast_days(value: int | None) -> int:
    if value is None:
        return DEFAULT_FORECAST_DAYS
    if not MIN_FORECAST_DAYS <= value <= MAX_FORECAST_DAYS:
        raise ValidationError(
            "forecast_days",
            f"forecast_days must be between {MIN_FORECAST_DAYS} and {MAX_FORECAST_DAYS} (got {value})",
        )
    return value


def validate_job(fields: JobFields, known_tiers: Collection[str]) -> JobSpec:
    """Full validation for CreateJob and LaunchDraft; defaults fill what the caller left unset.

    The cheap shape checks run first; the evidence checks (seed length in words, goal a yes/no
    question) last, since a refused goal's suggestions read the seed and the horizon.
    """
    seed = check_seed(fields.seed_text)
    goal = check_goal(fields.goal)
    tier = resolve_tier(fields.tier, known_tiers)
    forecast_days = check_forecast_days(fields.forecast_days)
    check_seed_evidence(seed)
    check_goal_is_question(goal, seed, forecast_days)
    return JobSpec(
        seed_text=seed,
        goal=goal,
        tier=tier,
        enrich_web=DEFAULT_ENRICH_WEB if fields.enrich_web is None else fields.enrich_web,
        forecast_days=forecast_days,
    )


@dataclass(frozen=True, slots=True)
class SuggestionRequest:
    seed_text: str
    goal: str
    forecast_days: int


def validate_suggestion_request(seed_text: str, goal: str, forecast_days: int) -> SuggestionRequest:
    """SuggestQuestions input: a seed (any length: suggestions help while it is being written), an
    optional goal, a horizon (0 = the default)."""
    seed = check_seed(seed_text)
    goal = goal.strip()
    if goal:
        goal = _check_text("goal", goal, max_chars=MAX_GOAL_CHARS, label="goal")
    days = check_forecast_days(forecast_days or None)
    return SuggestionRequest(seed_text=seed, goal=goal, forecast_days=days)


def validate_draft(fields: JobFields, known_tiers: Collection[str]) -> JobFields:
    """Drafts may be incomplete, but whatever they hold must already be valid.

    Empty strings count as 'not filled in yet' so a client can clear a field; the full checks run
    again at launch.
    """
    seed = fields.seed_text
    if seed is not None and seed.strip():
        seed = check_seed(seed)
    elif seed is not None:
        seed = ""
    goal = fields.goal
    if goal is not None and goal.strip():
        goal = check_goal(goal)
    elif goal is not None:
        goal = ""
    tier = fields.tier
    if tier is not None and tier.strip():
        tier = resolve_tier(tier, known_tiers)
    elif tier is not None:
        tier = ""
    forecast_days = fields.forecast_days
    if forecast_days is not None:
        forecast_days = check_forecast_days(forecast_days)
    return JobFields(
        seed_text=seed, goal=goal, tier=tier, enrich_web=fields.enrich_web, forecast_days=forecast_days
    )


# simulation_jobs.id is a Postgres integer (int4).
MAX_JOB_ID = 2**31 - 1


def is_valid_job_id(job_id: int) -> bool:
    """False for ids no job can have (the database would reject them as out of range)."""
    return 0 < job_id <= MAX_JOB_ID


def check_error_source(value: str) -> str | None:
    """A ListErrorEvents source filter: empty → None (all sources)."""
    source = value.strip()
    if not source:
        return None
    if len(source) > 20 or _CONTROL_CHARS.search(source):
        raise ValidationError("source", "source must be one of api, worker or gpu")
    return source


def duplicate_lock_key(user_id: str, spec: JobSpec) -> int:
    """A signed 64-bit key for `pg_advisory_xact_lock`, the same for every identical submission.

    Serialising identical submissions on this lock makes the duplicate check-then-insert atomic
    across connections and replicas; distinct submissions almost never share a key, and a shared
    key only costs a little waiting, never a wrong answer.
    """
    digest = hashlib.sha256("\x1f".join((user_id, spec.tier, spec.goal, spec.seed_text)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
