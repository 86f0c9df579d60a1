"""result_structured: the report as JSON for the web UI and API clients (schema in docs/report.md).

Built from the facts plus the writer's wording of the verdict and findings; `schema_version`
changes whenever a field changes meaning or goes away (adding fields keeps the version).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from services.reporter.facts import BaselineFacts, BranchFacts, NewsEvent, ReportFacts
from services.reporter.writers.base import WrittenReport

# 2: the verdict comes from the forecast over replicates (verdict.probability is forecast.goal's,
# `basis` and `belief_agrees` are gone); probabilities.goal and .markets are the forecast's.
SCHEMA_VERSION = 2


def baselines_object(baselines: BaselineFacts) -> dict[str, Any]:
    """result_structured.forecast.baselines: the shape of market_curves.json → baselines."""
    d = baselines.direct
    direct: dict[str, Any] | None = None
    if d is not None:
        direct = {"probability": d.probability, "source": d.source}
        if d.probability is None:
            direct["error"] = d.error or ""
        else:
            direct["reason"] = d.reason
    return {"opening_price": baselines.opening_price, "direct": direct}


def forecast_object(facts: ReportFacts) -> dict[str, Any]:
    """result_structured.forecast, the shape of docs/forecasting.md §4, plus the
    baselines it is compared with when the artifacts carry them."""
    f = facts.forecast
    out: dict[str, Any] = {
        "goal": {
            "market_id": f.market_id,
            "probability": f.probability,
            "interval": list(f.interval),
            "level": f.level,
            "replicates": f.replicates,
            "market": f.market,
            "belief": f.belief,
        },
        "markets": {
            m.id: {
                "probability": m.probability,
                "interval": list(m.interval),
                "market": m.forecast_market,
                "belief": m.forecast_belief,
            }
            for m in facts.markets
        },
        "method": f.method,
    }
    if facts.baselines is not None:
        out["baselines"] = baselines_object(facts.baselines)
    return out


def news_object(ev: NewsEvent) -> dict[str, Any]:
    """One scheduled event as market_curves.json → events (and the summary) carry it."""
    return {"round": ev.round, "day": ev.day, "headline": ev.headline, "text": ev.text, "favours": ev.favours}


def branch_object(b: BranchFacts) -> dict[str, Any]:
    """result_structured.branch: a what-if branch against its parent (docs/report.md)."""
    return {
        "parent_job_id": b.parent_job_id,
        "round": b.round,
        "events": [news_object(ev) for ev in b.events],
        "before": (
            {"probability": b.before.probability, "interval": list(b.before.interval)}
            if b.before is not None
            else None
        ),
        "after": {"probability": b.after.probability, "interval": list(b.after.interval)},
        "delta": b.delta,
        "markets": [{"market_id": m.market_id, "before": m.before, "after": m.after} for m in b.markets],
        "camps": [
            {
                "camp": c.camp,
                "before_agents": c.before_agents,
                "after_agents": c.after_agents,
                "before_mean": c.before_mean,
                "after_mean": c.after_mean,
            }
            for c in b.camps
        ],
    }


def build_structured(
    facts: ReportFacts, written: WrittenReport, *, key_insight: str, report_key: str, revision: int
) -> dict[str, Any]:
    prose = written.prose
    v, g = facts.verdict, facts.goal
    return {
        "schema_version": SCHEMA_VERSION,
        "job_id": facts.job_id,
        "run_id": facts.run_id,
        "revision": revision,
        "writer": written.writer,
        "report_key": report_key,
        "backend": asdict(facts.backend),
        "goal": g.goal,
        "forecast": forecast_object(facts),
        "evidence": asdict(facts.evidence) if facts.evidence is not None else None,
        "verdict": {
            "label": v.label,
            "sentence": prose.verdict_sentence,
            "leaning": v.leaning,
            "market_id": v.market_id,
            "probability": v.probability,
            "interval": list(v.interval),
            "level": v.level,
            "replicates": v.replicates,
            "low_evidence": v.low_evidence,
            "goal_probability": v.goal_probability,
            "goal_spread": v.goal_spread,
        },
        # The forecast again, flat, for clients that read only this; the agents' belief of the
        # quoted run beside it.
        "probabilities": {
            "goal": facts.forecast.probability,
            "goal_interval": list(facts.forecast.interval),
            "markets": {m.id: m.probability for m in facts.markets},
            "intervals": {m.id: list(m.interval) for m in facts.markets},
            "goal_belief": g.probability,
            "goal_spread": g.spread,
            "goal_quantiles": {"p10": g.p10, "p50": g.p50, "p90": g.p90},
            "goal_initial": g.initial_probability,
        },
        "markets": [asdict(m) for m in facts.markets],
        "findings": [
            {
                "id": f.id,
                "kind": f.kind,
                "title": prose.finding_titles.get(f.id, f.title),
                "text": prose.finding_texts.get(f.id, f.text),
                "post_ids": f.post_ids,
                "trade_ids": f.trade_ids,
            }
            for f in facts.findings
        ],
        "stakeholder_positions": [asdict(s) for s in facts.stakeholders],
        "coalitions": [asdict(c) for c in facts.coalitions],
        "minor_coalitions": {"count": facts.minor_coalitions, "agents": facts.minor_coalition_agents},
        "unaligned": {
            camp: {"count": facts.unaligned_counts[camp], "members": [asdict(m) for m in members]}
            for camp, members in facts.unaligned.items()
        },
        "phase_boundaries": [
            {
                "name": p.name,
                "start_day": p.start_day,
                "end_day": p.end_day,
                "start_round": p.start_round,
                "end_round": p.end_round,
            }
            for p in facts.phases
        ],
        "phases": [asdict(p) for p in facts.phases],
        "largest_moves": [asdict(m) for m in facts.moves],
        # The news the run played; each phase lists its own under phases[].events.
        "events": [news_object(ev) for ev in facts.events],
        # A what-if branch's comparison with its parent; null for a run that is not a branch.
        "branch": branch_object(facts.branch) if facts.branch is not None else None,
        "quotable_posts": [asdict(q) for q in facts.quotes],
        "scale": asdict(facts.scale),
        "key_insight": key_insight,
        "notes": facts.notes,
        # How the prose came about (LLM fallbacks, removed citations): for operators, not readers.
        "writer_notes": written.notes,
    }


def dumps(structured: dict[str, Any]) -> str:
    """Compact, key-sorted JSON (what travels in ReporterCompleted.result_structured)."""
    return json.dumps(structured, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
