"""Belief dynamics: trust-weighted, bounded-confidence updates from what an agent actually saw.

An agent at ``position`` x with ``confidence`` c is *open* to posts whose stance lies within
``openness(c)`` of x (bounded confidence: confident agents listen to a narrower band). Open posts
pull x towards them in proportion to how much the agent trusts their authors; posts close to x
(agreement) raise confidence, posts outside the band (disagreement) lower it. Reactions to the
agent's own posts move confidence too: likes raise it, dislikes and disagreeing replies lower it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

CONF_MIN = 0.05
CONF_MAX = 0.95
AGREE_RADIUS = 0.25  # |stance - position| within this counts as agreement
PULL_RATE = 0.35  # share of the trust-weighted gap closed per round by a fully open agent
SELF_WEIGHT = 1.0  # the agent's own view, in units of one fully trusted post
ANCHOR_RATE = 0.25  # pull back towards the persona's original stance, scaled by stubbornness
AGREE_GAIN = 0.06
DISAGREE_LOSS = 0.04
LIKE_GAIN = 0.03
DISLIKE_LOSS = 0.04


def openness(confidence: float) -> float:
    """Bounded-confidence radius: 1.2 for an unsure agent down to 0.3 for a certain one."""
    return 0.3 + 0.9 * (1.0 - confidence)


def update_belief(
    position: float,
    confidence: float,
    exposures: Iterable[tuple[float, float]],
    *,
    stubbornness: float = 0.0,
    anchor: float | None = None,
    likes: int = 0,
    dislikes: int = 0,
) -> tuple[float, float]:
    """Return the new ``(position, confidence)``.

    ``exposures`` are ``(stance, trust)`` pairs, one per post the agent saw this round, with trust
    in [0, 1]; ``likes``/``dislikes`` are reactions its own posts received (a disagreeing reply
    counts as a dislike). A stubborn agent drifts back towards its ``anchor`` (its persona's original
    stance), which keeps a crowd from collapsing into one view. Position stays in [-1, 1] and
    confidence in [CONF_MIN, CONF_MAX].
    """
    radius = openness(confidence)
    pull = 0.0
    weight = 0.0
    delta_conf = 0.0
    for stance, trust in exposures:
        gap = stance - position
        if abs(gap) <= radius:
            pull += trust * gap
            weight += trust
            if abs(gap) <= AGREE_RADIUS:
                delta_conf += AGREE_GAIN * trust * (1.0 - confidence)
        else:
            delta_conf -= DISAGREE_LOSS * trust * confidence
    if weight > 0.0:
        step = PULL_RATE * (1.0 - stubbornness) * (1.0 - 0.5 * confidence)
        position += step * pull / (weight + SELF_WEIGHT)
    if anchor is not None and stubbornness > 0.0:
        position += ANCHOR_RATE * stubbornness * (anchor - position)
    if likes:
        delta_conf += LIKE_GAIN * math.log1p(likes) * (1.0 - confidence)
    if dislikes:
        delta_conf -= DISLIKE_LOSS * math.log1p(dislikes) * confidence
    position = -1.0 if position < -1.0 else 1.0 if position > 1.0 else position
    confidence += delta_conf
    confidence = CONF_MIN if confidence < CONF_MIN else CONF_MAX if confidence > CONF_MAX else confidence
    return position, confidence


def goal_probability(positions: list[float], confidences: list[float]) -> tuple[float, float]:
    """Belief-weighted probability of the goal and its spread across agents.

    Each agent's probability is ``(position + 1) / 2`` weighted by its confidence; the spread is the
    weighted standard deviation of those probabilities.
    """
    total = sum(confidences)
    if total <= 0.0:
        return 0.5, 0.0
    mean = sum((p + 1.0) * 0.5 * c for p, c in zip(positions, confidences, strict=True)) / total
    var = sum(((p + 1.0) * 0.5 - mean) ** 2 * c for p, c in zip(positions, confidences, strict=True)) / total
    return mean, math.sqrt(var)
