"""Belief arithmetic: log-odds, pooling stated beliefs, and the heuristic social-influence model.

An agent's belief is what it last *stated*. LLM agents state theirs; the heuristic policy forms
its statement with the model below (:func:`influence`), in log-odds ``x = logit(p)``:

- **trust-weighted pull**: the posts it saw about a market pull ``x`` towards their authors'
  positions, each in proportion to the trust it has in the author;
- **bounded confidence**: only posts within ``openness(confidence)`` of its own probability count
  (a sure agent listens to a narrow band); posts outside lower its confidence instead;
- **the market**: the price is one more voice, weighted by how much was traded on it (an untraded
  opening price says nothing);
- **anchoring**: stubbornness pulls ``x`` back to the agent's prior (read from the seed's evidence).

Rates are totals over the whole run spread across its rounds (:class:`Rates`), so 15 rounds and 200
rounds of the same seed integrate the same dynamics: tiers differ in resolution, not in outcome.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .types import P_MAX, P_MIN

CONF_MIN = 0.05
CONF_MAX = 0.95
AGREE_RADIUS = 0.1  # |p_post - p| within this counts as agreement (probability units)
SELF_WEIGHT = 1.0  # the agent's own view, in units of one fully trusted post
# Totals over a run (continuous-time rates x the run's length); see Rates.
K_PULL = 3.0
K_ANCHOR = 1.5
K_CONFIDENCE = 2.0
# Confidence moves per unit of (trust-weighted) agreement, disagreement and reactions.
AGREE_GAIN = 0.5
DISAGREE_LOSS = 0.4
LIKE_GAIN = 0.3
DISLIKE_LOSS = 0.4
X_MIN = math.log(P_MIN / (1.0 - P_MIN))
X_MAX = -X_MIN


def logit(p: float) -> float:
    """Log-odds of ``p``, with ``p`` clipped to [P_MIN, P_MAX] so the result is finite."""
    p = P_MIN if p < P_MIN else P_MAX if p > P_MAX else p
    return math.log(p / (1.0 - p))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def clip_probability(p: float) -> float:
    return P_MIN if p < P_MIN else P_MAX if p > P_MAX else p


def openness(confidence: float) -> float:
    """Bounded-confidence radius in probability: 1.155 for an unsure agent down to 0.345 for a sure one."""
    return 0.3 + 0.9 * (1.0 - confidence)


@dataclass(frozen=True, slots=True)
class Rates:
    """Per-round rates of a run of ``rounds`` rounds: ``1 - exp(-K / rounds)`` for each total ``K``.

    Invariant: every rate in (0, 1); ``rounds`` rounds at these rates integrate the totals K.
    """

    pull: float
    anchor: float
    confidence: float

    @classmethod
    def for_rounds(cls, rounds: int) -> Rates:
        n = max(1, rounds)
        return cls(
            pull=1.0 - math.exp(-K_PULL / n),
            anchor=1.0 - math.exp(-K_ANCHOR / n),
            confidence=1.0 - math.exp(-K_CONFIDENCE / n),
        )


def market_weight(volume_cash: float, subsidy: float, w_max: float) -> float:
    """How much a market's price says, from the cash traded on it relative to its subsidy:
    ``w_max * (1 - exp(-volume / (2 * subsidy)))`` - zero for an untraded market."""
    if volume_cash <= 0.0 or subsidy <= 0.0:
        return 0.0
    return w_max * (1.0 - math.exp(-volume_cash / (2.0 * subsidy)))


def influence(
    x: float,
    prior_x: float,
    confidence: float,
    exposures: Iterable[tuple[float, float]],
    *,
    stubbornness: float,
    rates: Rates,
    price_x: float | None = None,
    price_weight: float = 0.0,
    likes: int = 0,
    dislikes: int = 0,
) -> tuple[float, float]:
    """One round of the heuristic social-influence model; returns the new ``(x, confidence)``.

    ``x`` and ``prior_x`` are log-odds; ``exposures`` are ``(author_x, trust)`` pairs, one per post
    the agent saw about this market, trust in [0, 1]; ``price_x`` is the market's price in log-odds,
    heard with weight ``price_weight``; ``likes``/``dislikes`` are reactions its own posts got.
    The result keeps ``x`` within the log-odds of [P_MIN, P_MAX] and confidence in
    [CONF_MIN, CONF_MAX].
    """
    p = sigmoid(x)
    radius = openness(confidence)
    pull = 0.0
    weight = 0.0
    agree = 0.0
    disagree = 0.0
    for author_x, trust in exposures:
        gap = abs(sigmoid(author_x) - p)
        if gap <= radius:
            pull += trust * (author_x - x)
            weight += trust
            if gap <= AGREE_RADIUS:
                agree += trust
        else:
            disagree += trust
    if price_x is not None and price_weight > 0.0:
        pull += price_weight * (price_x - x)
        weight += price_weight
    if weight > 0.0:
        x += rates.pull * (1.0 - stubbornness) * pull / (weight + SELF_WEIGHT)
    x += rates.anchor * stubbornness * (prior_x - x)
    x = X_MIN if x < X_MIN else X_MAX if x > X_MAX else x
    delta = AGREE_GAIN * agree * (1.0 - confidence) - DISAGREE_LOSS * disagree * confidence
    if likes:
        delta += LIKE_GAIN * math.log1p(likes) * (1.0 - confidence)
    if dislikes:
        delta -= DISLIKE_LOSS * math.log1p(dislikes) * confidence
    confidence += rates.confidence * delta
    confidence = CONF_MIN if confidence < CONF_MIN else CONF_MAX if confidence > CONF_MAX else confidence
    return x, confidence


def pool(probabilities: Sequence[float], weights: Sequence[float]) -> float:
    """Confidence-weighted pooling in log-odds: ``sigmoid(sum w_i logit p_i / sum w_i)``; 0.5 when
    there is nothing to pool."""
    total = 0.0
    acc = 0.0
    for p, w in zip(probabilities, weights, strict=True):
        acc += w * logit(p)
        total += w
    return 0.5 if total <= 0.0 else sigmoid(acc / total)


def spread(probabilities: Sequence[float], weights: Sequence[float]) -> float:
    """Weighted standard deviation of the probabilities (how far apart the agents are)."""
    total = sum(weights)
    if total <= 0.0:
        return 0.0
    mean = sum(p * w for p, w in zip(probabilities, weights, strict=True)) / total
    var = sum((p - mean) ** 2 * w for p, w in zip(probabilities, weights, strict=True)) / total
    return math.sqrt(var)
