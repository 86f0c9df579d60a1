"""The conventions every fact follows (docs/artifacts.md): from position to probability and camp,
from round to day and phase, how a post scores, and how numbers are rounded.

An agent's probability for the goal is `(position + 1) / 2`; an agent at YES_LINE or above backs
the goal, one at NO_LINE or below opposes it. Round `r` of `R` ends on day `r / R * forecast_days`
of the horizon, and the horizon's thirds are the Early, Mid and Late phases. Numbers a fact states
are rounded to four places (`r4`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# The camp rule is the platform's (services/common/camps.py); re-exported for the facts.
from services.common.camps import CAMP_LABELS as CAMP_LABELS
from services.common.camps import CAMPS as CAMPS
from services.common.camps import NO_LINE as NO_LINE
from services.common.camps import YES_LINE as YES_LINE
from services.common.camps import camp_of as camp_of

PHASE_NAMES: tuple[str, ...] = ("Early", "Mid", "Late")
# Used when an event carries no horizon (forecast_days is 1..365 for real jobs).
DEFAULT_FORECAST_DAYS = 30
# A belief change of 0.1 in position (5 points of probability) counts as "moved".
MOVED = 0.1


def probability(position: float) -> float:
    return (float(position) + 1.0) / 2.0


def weighted_goal(positions: Sequence[float], confidences: Sequence[float]) -> tuple[float, float]:
    """Confidence-weighted mean probability and its weighted standard deviation (the engine's formula)."""
    total = sum(confidences)
    if total <= 0:
        return 0.5, 0.0
    probs = [probability(p) for p in positions]
    mean = sum(p * c for p, c in zip(probs, confidences, strict=True)) / total
    var = sum((p - mean) ** 2 * c for p, c in zip(probs, confidences, strict=True)) / total
    return mean, math.sqrt(var)


def post_score(post: Mapping[str, Any]) -> float:
    """top_posts.json's engagement score."""
    return (
        post.get("likes", 0)
        + 2 * post.get("reposts", 0)
        + 1.5 * post.get("replies", 0)
        - 0.5 * post.get("dislikes", 0)
    )


def stance_of(post: Mapping[str, Any]) -> float:
    """A post's stance in [-1, 1]; 0 when it carries none."""
    return float(post.get("stance") or 0.0)


def round_day(r: float, rounds: int, days: int) -> float:
    """The day of the horizon on which round `r` ends."""
    return r / rounds * days if rounds else 0.0


def phase_of_round(r: int, rounds: int) -> str:
    """Early, Mid or Late: the third of the horizon that holds the day round `r` ends on."""
    if rounds <= 0 or 3 * r <= rounds:
        return "Early"
    return "Mid" if 3 * r <= 2 * rounds else "Late"


def r4(x: float) -> float:
    return round(float(x), 4)
