"""Stage 1-2 helpers: entities, seed relations, a seed digest and the prediction markets.

Two ways to each: from the text itself (deterministic heuristics - named-entity-like capitalised
spans, a small sentiment lexicon, the goal as the first market) and through an LLM with
schema-checked JSON, falling back to the heuristic when the LLM's answer is invalid twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..llm.base import LLMBackend
from .llm_calls import CallStats, call_validated
from .types import ENTITY_KINDS, Entity, MarketSpec, Relation

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

# Sentences end at . ! ? or a blank line; a single newline is only a hard wrap inside a paragraph.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_POSSESSIVE = re.compile(r"['’]s\b")
# Markdown that seed documents often carry: heading marks, list bullets, emphasis, quote marks.
_MARKDOWN = re.compile(r"(?m)^\s{0,3}(?:#{1,6}|[-*+>]|\d+\.)\s+|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")


def plain_text(text: str) -> str:
    """The seed without markdown syntax, so names and summaries read as prose."""
    return _MARKDOWN.sub("", text)
_SPAN = re.compile(r"\b[A-Z][\w&'’-]*(?:(?:\s+(?:of|for|de|la|von|van))?\s+[A-Z][\w&'’-]*)*")
# documents and plans are what stakeholders argue about, not stakeholders
_TOPIC_WORDS = frozenset(
    "Act Bill Law Treaty Directive Regulation Agreement Accord Plan Program Programme "
    "Proposal Strategy Policy Report".split()
)
_WORD = re.compile(r"[a-z][a-z'-]+")
_STOP = frozenset(
    "A An And As At But By For From He Her His How However I If In Is It Its Many Most No Not "
    "Of On Or Our She So Some That The Their Them There These They This Those To We What When Where "
    "Which While Who Why Will With Yet You Also After Before During Since Although Because Meanwhile "
    "Moreover Furthermore Today Yesterday Tomorrow Monday Tuesday Wednesday Thursday Friday Saturday "
    "Sunday January February March April May June July August September October November December "
    "Predict Forecast Whether Would Could Should Can Does Do Did Has Have Had Was Were Are Be".split()
)
_ORG_WORDS = frozenset(
    "Inc Corp Corporation Company Co Ltd LLC Group Bank Party Ministry Department Agency Authority "
    "University Institute Council Commission Committee Union Association Foundation Fund Board "
    "Court Parliament Congress Senate Government Office Bureau Organization Organisation Federation "
    "Network Labs Technologies Systems Holdings Partners Club League Times News Post Reserve".split()
)
_FACTION_WORDS = frozenset(
    "Democrats Republicans Conservatives Liberals Greens Socialists Unions Supporters Critics "
    "Opposition Coalition Movement Alliance Activists Investors Voters Workers Farmers Students "
    "Progressives Nationalists Loyalists Rebels Protesters Regulators Lobby".split()
)
_POSITIVE = frozenset(
    "support supports supported back backs backed favor favour favors approve approves approved win "
    "wins won likely growth grow grows gain gains succeed success successful agree agrees endorse "
    "endorses endorsed advance advances boost boosts strong strengthen optimistic confident expect "
    "expects progress promising pass passes passed adopt adopts adopted achieve achieves".split()
)
_NEGATIVE = frozenset(
    "oppose opposes opposed against reject rejects rejected block blocks blocked fail fails failed "
    "unlikely decline declines lose loses lost doubt doubts skeptical sceptical criticize criticise "
    "criticizes criticises criticized criticised delay delays delayed weak weaken risk risks threat "
    "threatens concern concerns warn warns warned resist resists veto vetoes crisis collapse".split()
)
_GOAL_PREFIX = re.compile(
    r"^\s*(?:predict|forecast|estimate|assess)\s+(?:whether|if|that|how likely)?\s*", re.IGNORECASE
)


def split_sentences(text: str) -> list[str]:
    return [" ".join(s.split()) for s in _SENTENCE.split(text) if len(s.strip()) > 2]


def _sentiment(sentence: str) -> float:
    words = _WORD.findall(sentence.lower())
    pos = sum(w in _POSITIVE for w in words)
    neg = sum(w in _NEGATIVE for w in words)
    return (pos - neg) / (pos + neg + 1.0)


def _kind(span: str) -> str:
    tokens = span.split()
    if any(t in _ORG_WORDS for t in tokens) or (len(tokens) == 1 and span.isupper() and len(span) >= 2):
        return "organisation"
    if any(t in _FACTION_WORDS for t in tokens):
        return "faction"
    if 2 <= len(tokens) <= 3 and all(t[0].isupper() and t[1:].islower() for t in tokens if len(t) > 1):
        return "person"
    return "organisation"


def _clean_span(span: str) -> str | None:
    tokens = _POSSESSIVE.sub("", span).split()  # "the Chamber's president" names the Chamber
    while tokens and tokens[0] in _STOP:
        tokens.pop(0)
    while tokens and tokens[-1] in {"of", "the", "for", "and", "de", "la", "von", "van"}:
        tokens.pop()
    if not tokens or (len(tokens) == 1 and (tokens[0] in _STOP or len(tokens[0]) < 2)):
        return None
    return " ".join(tokens)


def goal_phrase(goal: str) -> str:
    """The goal without a leading "Predict whether ..." and trailing punctuation."""
    phrase = _GOAL_PREFIX.sub("", goal.strip()).strip().rstrip("?.! ")
    return phrase or goal.strip()


def goal_question(goal: str) -> str:
    """The goal as a yes/no question: "Predict whether X will pass." → "Will X pass?"."""
    phrase = goal_phrase(goal)
    if _GOAL_PREFIX.match(goal.strip()):
        # "Predict whether Measure T will pass" → the clause "Measure T will pass", kept as asked.
        return f"Will it turn out that {phrase}?"
    return phrase[:1].upper() + phrase[1:] + "?"


def short_goal(goal: str, limit: int = 80) -> str:
    phrase = goal_phrase(goal)
    return phrase if len(phrase) <= limit else phrase[: limit - 1].rstrip() + "…"


def extract_entities_heuristic(
    text: str, goal: str, max_entities: int
) -> tuple[list[Entity], list[Relation]]:
    """Entities from capitalised spans of the text plus two viewpoints on the goal, and relations
    between entities named in the same sentence. Deterministic in the text."""
    sentences = split_sentences(plain_text(text))
    # Names in the goal are what is being forecast (a measure, a bill), not who argues about it.
    topic_spans = {_clean_span(m.group(0)) for m in _SPAN.finditer(goal)} - {None}
    counts: dict[str, int] = {}
    first_sentence: dict[str, int] = {}
    tone: dict[str, list[float]] = {}
    inner: set[str] = set()
    for n, sentence in enumerate(sentences):
        mood = _sentiment(sentence)
        for match in _SPAN.finditer(sentence):
            span = _clean_span(match.group(0))
            if span is None or span.split()[-1] in _TOPIC_WORDS or span in topic_spans:
                continue
            if match.start() > 0 or " " in span or span.isupper():
                inner.add(span)  # seen somewhere a capital letter is not just sentence case
            counts[span] = counts.get(span, 0) + 1
            first_sentence.setdefault(span, n)
            tone.setdefault(span, []).append(mood)
    for span in [s for s in counts if s not in inner and s.split()[0] not in _FACTION_WORDS]:
        del counts[span]  # a lone capitalised word only ever opening a sentence is no name
    # Fold a lone surname / short form into the longer span that contains it ("Smith" -> "Jane Smith").
    for span in sorted(counts, key=len):
        if " " in span:
            continue
        longer = [o for o in counts if o != span and span in o.split()]
        if longer:
            target = min(longer, key=lambda o: (-counts[o], o))
            counts[target] += counts.pop(span)
            tone[target].extend(tone.pop(span))
    # A multi-word name ("Mei Tanaka", "Harbor City Chamber of Commerce") is far more likely a
    # stakeholder than a lone capitalised word, so it counts half as much again.
    ranked = sorted(counts, key=lambda s: (-counts[s] * (1.5 if " " in s else 1.0), first_sentence[s], s))
    room = max(0, max_entities - 2)
    entities: list[Entity] = []
    for span in ranked[:room]:
        moods = tone[span]
        stance = max(-1.0, min(1.0, 1.5 * sum(moods) / len(moods)))
        summary = sentences[first_sentence[span]][:220]
        entities.append(
            Entity(f"e{len(entities) + 1}", span, _kind(span), summary, round(stance, 4), counts[span])
        )
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
    return entities, seed_relations(entities, sentences)


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
    for (a, b), where in pairs.items():
        sa, sb = by_id[a].stance, by_id[b].stance
        kind = "co_mentioned"
        if abs(sa) > 0.1 and abs(sb) > 0.1:
            kind = "aligned_with" if sa * sb > 0 else "opposes"
        relations.append(
            Relation(a, b, kind, float(len(where)), "seed", tuple(f"seed:sentence:{n}" for n in where[:5]))
        )
    return relations


def seed_digest(text: str, goal: str, limit: int = 700) -> str:
    """A short digest of the seed: the sentences sharing most words with the goal, in text order."""
    sentences = split_sentences(text)
    goal_words = set(_WORD.findall(goal.lower())) - {"the", "and", "will", "whether", "predict"}
    scored = sorted(
        range(len(sentences)), key=lambda n: (-len(goal_words & set(_WORD.findall(sentences[n].lower()))), n)
    )
    chosen: list[int] = []
    size = 0
    for n in scored:
        if size + len(sentences[n]) > limit and chosen:
            break
        chosen.append(n)
        size += len(sentences[n]) + 1
    digest = " ".join(sentences[n] for n in sorted(chosen))
    return digest[:limit] if digest else text[:limit]


def derive_markets_heuristic(
    goal: str, entities: Sequence[Entity], forecast_days: int, max_markets: int
) -> list[MarketSpec]:
    """1-5 binary markets: the goal itself first, then its timing and key actors' moves."""
    # m1 is the goal as the user asked it; the others quote a short form of it, so each question
    # reads on its own in a report table.
    question = goal_question(goal)
    quoted = f"“{question if len(question) <= 90 else question[:89].rstrip() + '…'}”"
    days = max(1, forecast_days)
    markets = [MarketSpec("m1", question, 0.5, "The prediction goal itself.", 1.0)]
    half = max(1, days // 2)
    markets.append(
        MarketSpec(
            "m2",
            f"Will the answer to {quoted} be clear within {half} days?",
            0.3,
            "Timing: resolves YES only if the outcome comes early.",
            1.0,
        )
    )
    actors = [e for e in entities if e.kind != "viewpoint"]
    if actors:
        backer = max(actors, key=lambda e: (e.stance, -int(e.id[1:])))
        price = round(min(0.8, max(0.2, 0.5 + 0.3 * backer.stance)), 4)
        markets.append(
            MarketSpec(
                "m3",
                f"Will {backer.name} publicly back a YES on {quoted} within {days} days?",
                price,
                f"{backer.name} is the seed's most supportive actor.",
                0.7,
            )
        )
        critic = min(actors, key=lambda e: (e.stance, int(e.id[1:])))
        if critic.id != backer.id:
            price = round(min(0.8, max(0.2, 0.5 - 0.3 * critic.stance)), 4)
            markets.append(
                MarketSpec(
                    "m4",
                    f"Will {critic.name} campaign for a NO on {quoted} within {days} days?",
                    price,
                    f"{critic.name} is the seed's most critical actor.",
                    -0.7,
                )
            )
    markets.append(
        MarketSpec(
            f"m{len(markets) + 1}",
            f"By day {days}, will most observers expect {quoted} to resolve YES?",
            0.5,
            "Consensus: tracks the crowd's belief.",
            0.9,
        )
    )
    return markets[:max_markets]


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
            "source": {"type": "string"},
            "target": {"type": "string"},
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
        },
        "required": ["question", "initial_price_yes", "rationale", "link"],
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
    """Validate an LLM's markets; the goal itself is always market ``m1``."""
    _need(isinstance(data, dict) and isinstance(data.get("markets"), list), "markets: missing array")
    markets = derive_markets_heuristic(goal, [], forecast_days, 1)
    for n, item in enumerate(data["markets"]):
        _need(isinstance(item, dict), f"markets[{n}]: must be an object")
        q, p, why, link = (item.get(k) for k in ("question", "initial_price_yes", "rationale", "link"))
        _need(isinstance(q, str) and len(q.strip()) >= 5, f"markets[{n}].question: too short")
        _need(
            isinstance(p, (int, float)) and 0.02 <= p <= 0.98, f"markets[{n}].initial_price_yes: 0.02..0.98"
        )
        _need(isinstance(why, str), f"markets[{n}].rationale: must be a string")
        _need(isinstance(link, (int, float)) and -1 <= link <= 1, f"markets[{n}].link: -1..1")
        if len(markets) < max_markets:
            markets.append(
                MarketSpec(
                    f"m{len(markets) + 1}",
                    q.strip()[:240],
                    round(float(p), 4),
                    why.strip()[:300],
                    float(link),
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
        entities, relations = extract_entities_heuristic(text, goal, max_entities)
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
    digest: str,
    entities: Sequence[Entity],
    forecast_days: int,
    max_markets: int,
    stats: CallStats,
) -> tuple[list[MarketSpec], str | None]:
    """Markets through the LLM (the goal stays ``m1``); heuristic markets when it fails twice."""
    if max_markets == 1:
        return derive_markets_heuristic(goal, entities, forecast_days, 1), None
    names = ", ".join(f"{e.name} ({e.stance:+.1f})" for e in entities[:12])
    messages = [
        {
            "role": "system",
            "content": "You design binary prediction markets. Answer only with JSON matching the schema.",
        },
        {
            "role": "user",
            "content": f"Goal: {goal}\nHorizon: {forecast_days} days\nContext: {digest}\n"
            f"Actors: {names}\n\nPropose up to {max_markets - 1} binary markets (besides the goal itself) "
            "that resolve within the horizon, each with an initial YES price, a rationale and a link from -1 "
            "to 1 saying how a YES co-moves with the goal.",
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
        return (
            derive_markets_heuristic(goal, entities, forecast_days, max_markets),
            f"LLM market derivation failed ({out.reason or out.error}); used heuristic",
        )
    return out.value, None
