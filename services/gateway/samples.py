"""The sample briefings a visitor can forecast from the landing page (demos/*.md).

Their metadata lives here and nowhere else; the seed text is the file itself. A sample whose file
is missing (an image built without demos/) is left out of the list instead of failing requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from services.common.config import REPO_ROOT

log = logging.getLogger("swarmcast.gateway")

DEMOS_DIR = REPO_ROOT / "demos"


@dataclass(frozen=True, slots=True)
class Sample:
    id: str
    title: str
    goal: str
    summary: str
    forecast_days: int
    file: str

    @property
    def path(self) -> Path:
        return DEMOS_DIR / self.file


SAMPLES: tuple[Sample, ...] = (
    Sample(
        id="harbor-transit",
        title="Harbor City's light-rail levy",
        goal="Will Measure T (the Eastline light-rail levy) pass on 14 March?",
        summary=(
            "A port city votes on a thirty-year sales tax for a new light-rail line: the mayor, "
            "the transit union and students for it, a taxpayers' group against, business split."
        ),
        forecast_days=30,
        file="harbor_transit.md",
    ),
    Sample(
        id="ravensford-union",
        title="A warehouse's union vote",
        goal="Will Ravensford warehouse workers vote on 22 May to join the Northern Warehouse Workers Union?",
        summary=(
            "1,240 warehouse workers decide whether to join a union: organisers point to injuries, "
            "the company to a pay rise and a planned expansion, and a leaked survey leans yes."
        ),
        forecast_days=21,
        file="ravensford_union.md",
    ),
)


@lru_cache(maxsize=len(SAMPLES))
def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("sample briefing %s is unavailable: %s", path.name, exc)
        return None


def seed_text(sample: Sample) -> str | None:
    """The sample's briefing, or None when its file is not there."""
    return _read(sample.path)


def available() -> list[Sample]:
    return [sample for sample in SAMPLES if seed_text(sample) is not None]


def find(sample_id: str) -> tuple[Sample, str] | None:
    for sample in SAMPLES:
        if sample.id == sample_id:
            text = seed_text(sample)
            return None if text is None else (sample, text)
    return None
