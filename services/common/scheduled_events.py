"""Scheduled events: news on a given day of a job's forecast horizon (DESIGN §6, §8a).

A job may carry a timeline of exogenous events; at the round its day falls in, every agent's feed
shows the event as news. A what-if branch injects events after the round it resumes from. The
jobs service checks them (:func:`check_events`), the engine plays them, the reporter places them
in the report's phases - all through this one type and this one day-to-round rule.

Round ``r`` of a run of ``R`` rounds over ``D`` days ends on day ``r / R * D``, so day ``d`` falls
in round ``max(1, ceil(d * R / D))``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

MAX_EVENTS = 10
MAX_HEADLINE_CHARS = 200
MAX_TEXT_CHARS = 2000
FAVOURS = ("yes", "no", "")


@dataclass(frozen=True, slots=True)
class ScheduledEvent:
    """One piece of news. Invariants once checked: ``1 <= day <= forecast_days`` (0 only in a
    branch request, meaning its first round); ``headline`` non-empty; ``favours`` in
    :data:`FAVOURS` ("" is neutral news)."""

    day: int
    headline: str
    text: str = ""
    favours: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ScheduledEvent:
        return cls(
            day=int(raw.get("day", 0)),
            headline=str(raw.get("headline", "")),
            text=str(raw.get("text", "")),
            favours=str(raw.get("favours", "")),
        )

    @classmethod
    def from_proto(cls, msg: Any) -> ScheduledEvent:
        """From a ``swarmcast.events.v1.ScheduledEvent`` (text is stripped, favours lower-cased)."""
        return cls(
            day=int(msg.day),
            headline=msg.headline.strip(),
            text=msg.text.strip(),
            favours=msg.favours.strip().lower(),
        )

    def to_proto(self, message_type: Any) -> Any:
        return message_type(day=self.day, headline=self.headline, text=self.text, favours=self.favours)


def event_round(day: int, rounds: int, forecast_days: int) -> int:
    """The round day ``day`` falls in: ``max(1, ceil(day * rounds / forecast_days))``, at most
    ``rounds``."""
    if rounds <= 0 or forecast_days <= 0:
        return 1
    return min(rounds, max(1, math.ceil(day * rounds / forecast_days)))


def check_events(
    events: Sequence[ScheduledEvent], forecast_days: int, *, after_round: int | None = None, rounds: int = 0
) -> list[str]:
    """Plain-words problems with ``events`` (empty when they are fine).

    With ``after_round`` (a branch), every event must fall in a round after it - day 0 means the
    first round the branch simulates - and ``rounds`` is the parent's round count.
    """
    problems: list[str] = []
    if len(events) > MAX_EVENTS:
        problems.append(f"at most {MAX_EVENTS} events; got {len(events)}")
    for i, ev in enumerate(events, start=1):
        where = f"event {i}"
        if not ev.headline:
            problems.append(f"{where} needs a headline")
        elif len(ev.headline) > MAX_HEADLINE_CHARS:
            problems.append(f"{where}: the headline is over {MAX_HEADLINE_CHARS} characters")
        if len(ev.text) > MAX_TEXT_CHARS:
            problems.append(f"{where}: the text is over {MAX_TEXT_CHARS:,} characters")
        if ev.favours not in FAVOURS:
            problems.append(f'{where}: favours must be "yes", "no" or empty (neutral)')
        lowest = 0 if after_round is not None else 1
        if not lowest <= ev.day <= forecast_days:
            problems.append(f"{where}: the day must be within {lowest}..{forecast_days} (the horizon)")
        elif after_round is not None and ev.day > 0:
            days = range(1, forecast_days + 1)
            later = [d for d in days if event_round(d, rounds, forecast_days) > after_round]
            if ev.day not in later:
                problems.append(
                    f"{where}: day {ev.day} falls in round {event_round(ev.day, rounds, forecast_days)}, "
                    f"not after round {after_round}; pick day {later[0] if later else forecast_days} or "
                    "later (or 0 for the first round the branch simulates)"
                )
    return problems


def round_end_day(round_no: int, rounds: int, forecast_days: int) -> int:
    """The whole day on which round ``round_no`` ends (rounded up, at least 1)."""
    if rounds <= 0:
        return 1
    return min(forecast_days, max(1, math.ceil(round_no * forecast_days / rounds)))


def schedule(
    events: Sequence[ScheduledEvent], rounds: int, forecast_days: int, *, first_round: int = 1
) -> list[tuple[int, ScheduledEvent]]:
    """Each event with the round it enters, in round order (ties keep their given order).

    Day 0 (a branch's "now") enters ``first_round`` and is given the day that round ends on; any
    other day enters :func:`event_round` of it, but never before ``first_round``.
    """
    out: list[tuple[int, ScheduledEvent]] = []
    for ev in events:
        if ev.day == 0:
            day = round_end_day(first_round, rounds, forecast_days)
            out.append((first_round, ScheduledEvent(day, ev.headline, ev.text, ev.favours)))
        else:
            out.append((max(first_round, event_round(ev.day, rounds, forecast_days)), ev))
    return sorted(out, key=lambda pair: pair[0])
