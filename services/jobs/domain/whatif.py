"""Rules of scheduled events, what-if branches and interviews (DESIGN §8a), as pure functions.

Nothing here touches the database, the bus or object storage: callers pass what they read (a
job's result_structured, its run's route) and get a checked value or an INVALID_ARGUMENT domain
error naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.camps import CAMPS
from services.common.errors import InvalidArgument
from services.common.scheduled_events import ScheduledEvent, check_events
from services.jobs.domain.validation import ValidationError

MAX_QUESTION_CHARS = 500
# The most agents a caller may name in one interview (a camp or coalition may hold more; the
# runner asks the first `SWARMCAST_JOBS_INTERVIEW_MAX_AGENTS` and counts the rest as left out).
MAX_INTERVIEW_AGENT_IDS = 12
MAX_COALITION_ID_CHARS = 64
# Postgres cannot store NUL; the other C0 controls are never meaningful in a question.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def events_problem(
    events: Sequence[ScheduledEvent], forecast_days: int, *, after_round: int | None = None, rounds: int = 0
) -> None:
    """Raises INVALID_ARGUMENT listing every problem of `events` (see `check_events`)."""
    problems = check_events(events, forecast_days, after_round=after_round, rounds=rounds)
    for i, event in enumerate(events, start=1):
        if _CONTROL_CHARS.search(event.headline) or _CONTROL_CHARS.search(event.text):
            problems.append(f"event {i} contains control characters (such as NUL); remove them")
    if problems:
        raise InvalidArgument("events: " + "; ".join(problems), fields={"events": "; ".join(problems)})


# --- the parent's results ----------------------------------------------------------------------


def structured_of(result_structured: str | None) -> dict[str, Any]:
    """result_structured as a dict ({} when absent or not a JSON object)."""
    if not result_structured:
        return {}
    try:
        body = json.loads(result_structured)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def forecast_of(structured: dict[str, Any]) -> dict[str, Any] | None:
    """The results' "forecast" (goal and markets with intervals), or None."""
    forecast = structured.get("forecast")
    return forecast if isinstance(forecast, dict) else None


def rounds_run(structured: dict[str, Any], fallback: int) -> int:
    """How many rounds the run simulated: the report's scale, else `fallback` (the route's)."""
    scale = structured.get("scale")
    rounds = scale.get("rounds") if isinstance(scale, dict) else None
    if isinstance(rounds, int) and not isinstance(rounds, bool) and rounds > 0:
        return rounds
    return fallback


def check_branch_round(round_no: int, rounds: int) -> int:
    if not 0 <= round_no < rounds:
        raise ValidationError(
            "round",
            f"round must be within 0..{rounds - 1}: the parent ran {rounds} "
            f"round{'s' if rounds != 1 else ''} (0 resumes from the built world, before round 1)",
        )
    return round_no


# --- interviews --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterviewAsk:
    """A checked InterviewAgents request: exactly one of `agent_ids`, `camp`, `coalition`."""

    question: str
    agent_ids: tuple[int, ...] = ()
    camp: str = ""
    coalition: str = ""


def check_interview(question: str, agent_ids: Sequence[int], camp: str, coalition: str) -> InterviewAsk:
    text = question.strip()
    if not text:
        raise ValidationError("question", "question is required: ask the agents something")
    if len(text) > MAX_QUESTION_CHARS:
        raise ValidationError(
            "question",
            f"question is too long: {len(text):,} characters (the limit is {MAX_QUESTION_CHARS})",
        )
    if _CONTROL_CHARS.search(text):
        raise ValidationError("question", "question contains control characters (such as NUL); remove them")
    camp = camp.strip().lower()
    coalition = coalition.strip()
    given = [
        name for name, value in (("agent_ids", agent_ids), ("camp", camp), ("coalition", coalition)) if value
    ]
    if len(given) != 1:
        raise ValidationError(
            "agent_ids",
            "say whom to ask: exactly one of agent_ids, camp or coalition"
            + (f" (got {', '.join(given)})" if given else ""),
        )
    if agent_ids:
        ids = tuple(dict.fromkeys(agent_ids))  # a repeated id is asked once
        if len(ids) > MAX_INTERVIEW_AGENT_IDS:
            raise ValidationError(
                "agent_ids", f"at most {MAX_INTERVIEW_AGENT_IDS} agents per interview; got {len(ids)}"
            )
        if any(i < 0 for i in ids):
            raise ValidationError("agent_ids", "agent ids are 0 or more (as in profiles.json)")
        return InterviewAsk(question=text, agent_ids=ids)
    if camp:
        if camp not in CAMPS:
            raise ValidationError("camp", f"camp must be one of {', '.join(CAMPS)}; got {camp[:20]!r}")
        return InterviewAsk(question=text, camp=camp)
    if len(coalition) > MAX_COALITION_ID_CHARS or _CONTROL_CHARS.search(coalition):
        raise ValidationError(
            "coalition", "coalition must be a coalition id of the job's results (such as c1)"
        )
    return InterviewAsk(question=text, coalition=coalition)


def coalition_members(structured: dict[str, Any], coalition: str) -> list[int]:
    """The agent ids of the results' coalition `coalition`; INVALID_ARGUMENT naming the known ones."""
    found = [c for c in structured.get("coalitions") or [] if isinstance(c, dict)]
    for entry in found:
        if str(entry.get("id")) == coalition:
            members = [
                m["agent_id"]
                for m in entry.get("members") or []
                if isinstance(m, dict) and isinstance(m.get("agent_id"), int)
            ]
            if members:
                return members
    known = ", ".join(str(c.get("id")) for c in found) or "none"
    raise ValidationError(
        "coalition",
        f"the job has no coalition {coalition[:MAX_COALITION_ID_CHARS]!r} (its coalitions: {known})",
    )


def interview_target(ask: InterviewAsk) -> str:
    """Whom an interview asks, in words: "agent 3", "agents 3, 5", "the YES camp", "coalition c1"."""
    if ask.agent_ids:
        ids = ", ".join(str(i) for i in ask.agent_ids)
        return f"agent {ids}" if len(ask.agent_ids) == 1 else f"agents {ids}"
    if ask.camp:
        return f"the {ask.camp.upper()} camp"
    return f"coalition {ask.coalition}"
