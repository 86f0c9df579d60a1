"""Scheduled events: the news that fell during the run (market_curves.json → events), each placed
in the round it entered, on its day of the horizon and in its phase.

Artifacts written before scheduled events carry no `events` key: they simply had no news.
"""

from __future__ import annotations

from dataclasses import dataclass

from .conventions import phase_of_round
from .run import RunIndex

# How each side a piece of news favours is named in prose ("" is neutral news).
FAVOURS_LABELS = {"yes": "favours YES", "no": "favours NO", "": "neutral"}


@dataclass(frozen=True)
class NewsEvent:
    round: int
    day: int
    headline: str
    text: str
    # "yes", "no" or "" (neutral).
    favours: str
    phase: str

    @property
    def favours_label(self) -> str:
        return FAVOURS_LABELS.get(self.favours, "neutral")

    def key(self) -> tuple[int, int, str, str, str]:
        """What identifies one piece of news (a branch's events are matched against its parent's)."""
        return (self.round, self.day, self.headline, self.text, self.favours)


def news_events(run: RunIndex) -> list[NewsEvent]:
    """The run's news in round order (the engine's order within a round)."""
    out = [
        NewsEvent(
            round=int(raw["round"]),
            day=int(raw["day"]),
            headline=str(raw["headline"]),
            text=str(raw.get("text", "")),
            favours=str(raw.get("favours", "")),
            phase=phase_of_round(int(raw["round"]), run.rounds),
        )
        for raw in run.art.events
    ]
    return sorted(out, key=lambda ev: ev.round)
