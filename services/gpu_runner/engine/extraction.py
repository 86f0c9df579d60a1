"""Stage 1-2 helpers: entities, seed relations, the seed's evidence and the prediction markets.

Two ways to each: from the text itself (deterministic heuristics - named-entity-like capitalised
spans, stances from the evidence reader's facts, the goal plus real stakeholder and milestone
questions as markets) and through an LLM with schema-checked JSON, falling back to the heuristic
when the LLM's answer is invalid twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from services.common.questions import (
    analyze_goal,
    decision_object,
    is_decision_maker,
    is_stakeholder_name,
    named_spans,
    plain_text,
    present_clause,
    split_sentences,
    with_article,
)

from ..llm.base import LLMBackend
from .evidence import Evidence, fact_sign, read_evidence
from .llm_calls import CallStats, call_validated
from .types import ENTITY_KINDS, Entity, MarketSpec, Relation

__all__ = [
    "RELATION_TYPES",
    "derive_markets_heuristic",
    "derive_markets_llm",
    "extract_entities_heuristic",
    "extract_entities_llm",
    "goal_phrase",
    "goal_question",
    "parse_entities",
    "parse_markets",
    "plain_text",
    "seed_relations",
    "split_sentences",
]

RELATION_TYPES = (
    "ally_of",
    "opposes",
    "member_of",
    "influences",
    "regulates",
    "competes_with",
    "co_mentioned",
    "aligned_with",
)

_WORD = re.compile(r"[a-z][a-z'-]+")
_GOAL_PREFIX = re.compile(
    r"^\s*(?:predict|forecast|estimate|assess)\s+(?:whether|if|that|how likely)?\s*", re.IGNORECASE
)
# How many seed names the evidence reader looks at (endorsers beyond the entity list still count).
EVIDENCE_NAMES = 60


def goal_phrase(goal: str) -> str:
    """The goal without a leading "Predict whether ..." and trailing punctuation."""
    phrase = _GOAL_PREFIX.sub("", goal.strip()).strip().rstrip("?.! ")
    return phrase or goal.strip()


def goal_question(goal: str) -> str:
    """The goal as a yes/no question: "Predict whether X will pass." → "Will X pass?"."""
    analysis = analyze_goal(goal)
    if analysis.is_yes_no:
        return analysis.question
    phrase = goal_phrase(goal)
    return phrase[:1].upper() + phrase[1:] + "?"


def extract_entities_heuristic(
    text: str, goal: str, max_entities: int
) -> tuple[list[Entity], list[Relation], Evidence]:
    """Entities from capitalised spans of the text plus two viewpoints on the goal, relations
    between entities named in the same sentence, and the seed's evidence; each entity's stance is
    its evidence lean toward the goal as asked. Deterministic in the text."""
    sentences = split_sentences(plain_text(text))
    spans = named_spans(sentences, goal)
    evidence = read_evidence(text, goal, [s.name for s in spans[:EVIDENCE_NAMES]])
    room = max(0, max_entities - 2)
    entities: list[Entity] = []
    for span in spans[:room]:
        summary = sentences[span.first_sentence][:220]
        stance = round(max(-1.0, min(1.0, evidence.lean_of(span.name))), 4)
        entities.append(Entity(f"e{len(entities) + 1}", span.name, span.kind, summary, stance, span.mentions))
    question = goal_question(goal)
    entities.append(
        Entity(
            f"e{len(entities) + 1}",
            "Optimists (expect YES)",
            "viewpoint",
            f"People who expect YES to “{question}”",
            0.6,
        )
    )
    entities.append(
        Entity(
            f"e{len(entities) + 1}",
            "Skeptics (expect NO)",
            "viewpoint",
            f"People who expect NO to “{question}”",
            -0.6,
        )
    )
    return entities, seed_relations(entities, sentences), evidence


def seed_relations(entities: Sequence[Entity], sentences: Sequence[str]) -> list[Relation]:
    """Typed relations between entities named in the same sentence (``aligned_with`` when their
    stances agree, ``opposes`` when they clash, otherwise ``co_mentioned``)."""
    named = [e for e in entities if e.kind != "viewpoint"]
    pairs: dict[tuple[str, str], list[int]] = {}
    for n, sentence in enumerate(sentences):
        present = [e for e in named if e.name in sentence]
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                pairs.setdefault((a.id, b.id), []).append(n)
    by_id = {e.id: e for e in entities}
    relations = []
    for (a_id, b_id), where in pairs.items():
        sa, sb = by_id[a_id].stance, by_id[b_id].stance
        kind = "co_mentioned"
        if abs(sa) > 0.1 and abs(sb) > 0.1:
            kind = "aligned_with" if sa * sb > 0 else "opposes"
        relations.append(
            Relation(
                a_id, b_id, kind, float(len(where)), "seed", tuple(f"seed:sentence:{n}" for n in where[:5])
            )
        )
    return relations


# Derived-market priors (before the simulation): a stakeholder on record acts on it far more often
# than an uncommitted one declares itself; a scheduled milestone mostly happens on time, an
# intention less often.
UNCOMMITTED_ENDORSE_PRIOR = 0.3
COMMITTED_GAIN = 0.35  # prior = 0.5 + COMMITTED_GAIN · |lean| for acting on a public stance
VOTER_GAIN = 0.4  # prior = 0.5 + VOTER_GAIN · lean for a vote
SCHEDULED_PRIOR = 0.65
INTENDED_PRIOR = 0.45
COMMITTED_LEAN = 0.3  # |lean| from which a stakeholder counts as on record
# How a derived market's YES co-moves with the positive outcome (times the goal's polarity).
VOTER_LINK = 0.8
ENDORSE_LINK = 0.5
CAMPAIGN_LINK = 0.4
MILESTONE_LINK = 0.3


def _goal_market(goal: str, forecast_days: int, prior: float | None) -> MarketSpec:
    analysis = analyze_goal(goal)
    question = analysis.question or goal_question(goal)
    clause = present_clause(analysis) or goal_phrase(goal)
    days = max(1, forecast_days)
    return MarketSpec(
        "m1",
        question,
        0.5,
        "The prediction goal itself.",
        1.0,
        resolution=f"Resolves YES if {clause} within the {days}-day horizon (by day {days}); NO otherwise.",
        prior=prior,
        kind="goal",
    )


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _stakeholder_market(entity: Entity, obj: str, when: str, polarity: int) -> tuple[int, MarketSpec] | None:
    """A question about what one stakeholder will do about the goal's subject, with its priority
    (uncommitted stakeholders first: their move is news) and a prior from its lean."""
    if not is_stakeholder_name(entity.name):
        return None
    name = with_article(entity.name, entity.summary)
    lean = entity.stance * polarity  # toward the positive outcome
    if is_decision_maker(entity.name):
        question = f"Will {name} vote for {obj} {when}?"
        prior = 0.5 + VOTER_GAIN * lean
        link = VOTER_LINK
        resolution = f"Resolves YES if {name} votes for {obj} {when}, on the public record; NO otherwise."
        why = f"{entity.name} casts votes on it (seed lean {lean:+.2f} toward the positive outcome)."
        rank = 1
    elif abs(lean) < COMMITTED_LEAN:
        question = f"Will {name} publicly endorse {obj} {when}?"
        prior = UNCOMMITTED_ENDORSE_PRIOR
        link = ENDORSE_LINK
        resolution = (
            f"Resolves YES if {name} publicly endorses {obj} {when} (a statement, vote or filing on "
            "record); NO otherwise."
        )
        why = f"{entity.name} has no public position on {obj} in the seed."
        rank = 0
    else:
        side = "for" if lean > 0 else "against"
        question = f"Will {name} campaign publicly {side} {obj} {when}?"
        prior = 0.5 + COMMITTED_GAIN * abs(lean)
        link = CAMPAIGN_LINK if lean > 0 else -CAMPAIGN_LINK
        resolution = (
            f"Resolves YES if {name} campaigns publicly {side} {obj} {when} (an ad, a rally, an "
            "open letter or a formal statement on record); NO otherwise."
        )
        why = f"{entity.name} is on record {'supporting' if lean > 0 else 'opposing'} {obj}."
        rank = 2
    if not analyze_goal(question).is_yes_no:
        return None
    spec = MarketSpec(
        "",
        question,
        0.5,
        why,
        round(_clamp(link * polarity, -1.0, 1.0), 4),
        resolution=resolution,
        prior=round(_clamp(prior, 0.05, 0.95), 4),
        kind="stakeholder",
    )
    return rank, spec


def _snippet(sentence: str, anchor: str, width: int = 150) -> str:
    """About ``width`` characters of ``sentence`` from a little before ``anchor``."""
    at = sentence.find(anchor)
    start = 0 if at < 60 else sentence.rfind(" ", 0, at - 40) + 1
    text = sentence[start : start + width].strip()
    return ("…" if start else "") + text + ("…" if start + width < len(sentence) else "")


def derive_markets_heuristic(
    goal: str, entities: Sequence[Entity], evidence: Evidence, forecast_days: int, max_markets: int
) -> list[MarketSpec]:
    """1-5 binary markets: ``m1`` is the goal as a yes/no question (prior: the evidence's), then
    real questions about the seed's dated milestones and its stakeholders' moves on the goal's
    subject, each with a resolution criterion, an evidence prior and a ``link`` to the goal.
    Fewer markets when the seed offers fewer such questions."""
    markets = [_goal_market(goal, forecast_days, evidence.prior)]
    if max_markets <= 1:
        return markets
    analysis = analyze_goal(goal)
    polarity = evidence.polarity
    days = max(1, forecast_days)
    when = evidence.deadline or f"within {days} days"
    obj = decision_object(analysis)
    stakeholder: list[tuple[int, int, MarketSpec]] = []
    if obj:
        for order, entity in enumerate(e for e in entities if e.kind != "viewpoint"):
            made = _stakeholder_market(entity, obj, when, polarity)
            if made is not None:
                stakeholder.append((made[0], order, made[1]))
    # round-robin over uncommitted, voting and committed stakeholders, each group in seed order
    groups = [sorted((t for t in stakeholder if t[0] == rank), key=lambda t: t[1]) for rank in (0, 1, 2)]
    by_stakeholder = [g[i][2] for i in range(max(map(len, groups), default=0)) for g in groups if i < len(g)]
    milestones: list[MarketSpec] = []
    for m in evidence.milestones:
        sign = fact_sign(m.sentence)
        link = MILESTONE_LINK * (1 if sign > 0 else -1 if sign < 0 else 0) * polarity
        clause = present_clause(analyze_goal(m.question)) or m.question.rstrip("?")
        milestones.append(
            MarketSpec(
                "",
                m.question,
                0.5,
                f"The seed announces it: “{_snippet(m.sentence, m.subject)}”",
                float(link),
                resolution=f"Resolves YES if {clause}, on the public record; NO otherwise.",
                prior=SCHEDULED_PRIOR if m.scheduled else INTENDED_PRIOR,
                kind="milestone",
            )
        )
    # a milestone first, then stakeholders in priority order, then the remaining milestones
    ordered = [*milestones[:1], *by_stakeholder, *milestones[1:]]
    goal_key = markets[0].question.lower()
    seen = {goal_key}
    for spec in ordered:
        if len(markets) >= max_markets:
            break
        key = spec.question.lower()
        if key in seen:
            continue
        seen.add(key)
        markets.append(
            MarketSpec(
                f"m{len(markets) + 1}",
                spec.question,
                spec.initial_price_yes,
                spec.rationale,
                spec.link,
                spec.resolution,
                spec.prior,
                spec.kind,
            )
        )
    return markets


# -- through an LLM -------------------------------------------------------------------------------


def entity_schema(max_entities: int) -> dict[str, Any]:
    entity = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "kind": {"type": "string", "enum": list(ENTITY_KINDS)},
            "summary": {"type": "string", "maxLength": 300},
            "stance": {"type": "number", "minimum": -1, "maximum": 1},
        },
        "required": ["name", "kind", "summary", "stance"],
        "additionalProperties": False,
    }
    relation = {
        "type": "object",
        "properties": {
            "source": {"type": "string", "minLength": 1, "maxLength": 80},
            "target": {"type": "string", "minLength": 1, "maxLength": 80},
            "type": {"type": "string", "enum": list(RELATION_TYPES)},
        },
        "required": ["source", "target", "type"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "entities": {"type": "array", "minItems": 2, "maxItems": max_entities, "items": entity},
            "relations": {"type": "array", "maxItems": 60, "items": relation},
        },
        "required": ["entities", "relations"],
        "additionalProperties": False,
    }


def market_schema(max_markets: int) -> dict[str, Any]:
    market = {
        "type": "object",
        "properties": {
            "question": {"type": "string", "minLength": 5, "maxLength": 240},
            "initial_price_yes": {"type": "number", "minimum": 0.02, "maximum": 0.98},
            "rationale": {"type": "string", "maxLength": 300},
            "link": {"type": "number", "minimum": -1, "maximum": 1},
            "resolution": {"type": "string", "minLength": 10, "maxLength": 400},
        },
        "required": ["question", "initial_price_yes", "rationale", "link", "resolution"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"markets": {"type": "array", "minItems": 1, "maxItems": max_markets, "items": market}},
        "required": ["markets"],
        "additionalProperties": False,
    }


def _need(cond: bool, reason: str) -> None:
    if not cond:
        raise ValueError(reason)


def parse_entities(data: Any, max_entities: int) -> tuple[list[Entity], list[Relation]]:
    """Validate an LLM's entity payload (raises ValueError with a reason)."""
    _need(isinstance(data, dict) and isinstance(data.get("entities"), list), "entities: missing array")
    items = data["entities"]
    _need(2 <= len(items) <= max_entities, f"entities: need 2..{max_entities}")
    entities: list[Entity] = []
    names: dict[str, str] = {}
    for n, item in enumerate(items):
        _need(isinstance(item, dict), f"entities[{n}]: must be an object")
        name, kind, summary, stance = (item.get(k) for k in ("name", "kind", "summary", "stance"))
        _need(isinstance(name, str) and 0 < len(name.strip()) <= 80, f"entities[{n}].name: bad")
        _need(kind in ENTITY_KINDS, f"entities[{n}].kind: must be one of {list(ENTITY_KINDS)}")
        _need(isinstance(summary, str), f"entities[{n}].summary: must be a string")
        _need(
            isinstance(stance, (int, float)) and not isinstance(stance, bool) and -1 <= stance <= 1,
            f"entities[{n}].stance: must be a number in [-1, 1]",
        )
        key = name.strip().lower()
        if key in names:
            continue
        eid = f"e{len(entities) + 1}"
        names[key] = eid
        entities.append(Entity(eid, name.strip(), kind, summary.strip()[:300], round(float(stance), 4)))
    relations = []
    for item in data.get("relations") or []:
        if not isinstance(item, dict):
            continue
        a = names.get(str(item.get("source", "")).strip().lower())
        b = names.get(str(item.get("target", "")).strip().lower())
        if a and b and a != b and item.get("type") in RELATION_TYPES:
            relations.append(Relation(a, b, item["type"], 1.0, "seed", ("seed:llm",)))
    return entities, relations


def parse_markets(data: Any, goal: str, forecast_days: int, max_markets: int) -> list[MarketSpec]:
    """Validate an LLM's markets; the goal itself is always market ``m1``. Each derived market
    must be a yes/no question with a resolution criterion, and not the goal again."""
    _need(isinstance(data, dict) and isinstance(data.get("markets"), list), "markets: missing array")
    markets = [_goal_market(goal, forecast_days, None)]
    seen = {markets[0].question.lower()}
    for n, item in enumerate(data["markets"]):
        _need(isinstance(item, dict), f"markets[{n}]: must be an object")
        q, p, why, link, resolution = (
            item.get(k) for k in ("question", "initial_price_yes", "rationale", "link", "resolution")
        )
        _need(isinstance(q, str) and len(q.strip()) >= 5, f"markets[{n}].question: too short")
        _need(analyze_goal(q).is_yes_no, f"markets[{n}].question: must be one yes/no question about an event")
        _need(
            isinstance(p, (int, float)) and 0.02 <= p <= 0.98, f"markets[{n}].initial_price_yes: 0.02..0.98"
        )
        _need(isinstance(why, str), f"markets[{n}].rationale: must be a string")
        _need(
            isinstance(link, (int, float)) and not isinstance(link, bool) and -1 <= link <= 1,
            f"markets[{n}].link: -1..1",
        )
        _need(
            isinstance(resolution, str) and len(resolution.strip()) >= 10,
            f"markets[{n}].resolution: must say how the market resolves",
        )
        question = q.strip()[:240]
        if len(markets) < max_markets and question.lower() not in seen:
            seen.add(question.lower())
            markets.append(
                MarketSpec(
                    f"m{len(markets) + 1}",
                    question,
                    round(float(p), 4),
                    why.strip()[:300],
                    float(link),
                    resolution=resolution.strip()[:400],
                    prior=None,
                    kind="llm",
                )
            )
    return markets


async def extract_entities_llm(
    backend: LLMBackend, text: str, goal: str, max_entities: int, stats: CallStats
) -> tuple[list[Entity], list[Relation], str | None]:
    """Entities and relations through the LLM; on a twice-invalid answer or a backend failure, the
    heuristic result plus a note saying why."""
    messages = [
        {
            "role": "system",
            "content": "You extract the stakeholders of a forecasting question from a "
            "document. Answer only with JSON matching the schema.",
        },
        {
            "role": "user",
            "content": f"Prediction goal: {goal}\n\nDocument:\n{text[:12000]}\n\nList up to "
            f"{max_entities} entities (people, organisations, factions, viewpoints) with a one-sentence "
            "summary and a stance on the goal from -1 (expects/wants it not to happen) to 1 (expects/wants "
            "it), and the typed relations between them.",
        },
    ]
    out = await call_validated(
        backend,
        messages,
        entity_schema(max_entities),
        "entities",
        lambda d: parse_entities(d, max_entities),
        stats,
        max_tokens=1500,
        temperature=0.2,
    )
    if out.value is None:
        entities, relations, _ = extract_entities_heuristic(text, goal, max_entities)
        return (
            entities,
            relations,
            f"LLM entity extraction failed ({out.reason or out.error}); used heuristic",
        )
    entities, relations = out.value
    return entities, relations, None


async def derive_markets_llm(
    backend: LLMBackend,
    goal: str,
    context: str,
    entities: Sequence[Entity],
    forecast_days: int,
    max_markets: int,
    stats: CallStats,
) -> tuple[list[MarketSpec], str | None]:
    """Markets through the LLM from seed passages ``context`` chosen by the caller (the goal stays
    ``m1``); heuristic markets read from ``context`` when the LLM fails twice."""
    if max_markets == 1:
        return [_goal_market(goal, forecast_days, None)], None
    names = ", ".join(f"{e.name} ({e.stance:+.1f})" for e in entities[:12])
    question = goal_question(goal)
    messages = [
        {
            "role": "system",
            "content": "You design binary prediction markets about real, checkable events. Answer only "
            "with JSON matching the schema.",
        },
        {
            "role": "user",
            "content": f"Goal question: {question}\nHorizon: {forecast_days} days\n"
            f"Stakeholders (stance on the goal, -1..1): {names}\n\nSeed passages:\n{context}\n\n"
            f"Propose up to {max_markets - 1} binary markets besides the goal itself. Each must be a real "
            "yes/no question about a named stakeholder's action (will X endorse, vote for, sue, publish, "
            "sign ... by a date) or a dated milestone in the passages, that settles within the horizon. "
            "Give each an initial YES price, a one-line rationale, a link from -1 to 1 saying how a YES "
            "co-moves with a YES on the goal, and a resolution: the concrete public fact that makes it "
            "YES, and when. Never ask about the goal itself, when its answer will be known, or what "
            "observers expect.",
        },
    ]
    out = await call_validated(
        backend,
        messages,
        market_schema(max_markets - 1),
        "markets",
        lambda d: parse_markets(d, goal, forecast_days, max_markets),
        stats,
        max_tokens=1200,
        temperature=0.2,
    )
    if out.value is None:
        evidence = read_evidence(context, goal, [e.name for e in entities if e.kind != "viewpoint"])
        markets = derive_markets_heuristic(goal, entities, evidence, forecast_days, max_markets)
        return (
            [_without_prior(m) for m in markets],
            f"LLM market derivation failed ({out.reason or out.error}); used heuristic",
        )
    return out.value, None


def _without_prior(spec: MarketSpec) -> MarketSpec:
    """On an LLM backend agents state their own beliefs: no heuristic prior travels with a market."""
    return MarketSpec(
        spec.id,
        spec.question,
        spec.initial_price_yes,
        spec.rationale,
        spec.link,
        spec.resolution,
        None,
        spec.kind,
    )
