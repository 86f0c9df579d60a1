"""`ReportFacts`, everything one report states, and `compute_facts`, which builds it from the
artifacts by calling each topic's builder once over a shared `RunIndex`.

A what-if branch (`branch`, with its parent's artifacts when they still exist) adds the
comparison with the parent (`branch.py`). It also gathers the notes that qualify the numbers
(heuristic backend, low evidence, pooled replicates, a missing horizon, a short run, failed turns,
a branch's parent gone) and the posts and trades cited anywhere, which writers may quote.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from services.reporter.artifacts import ParentArtifacts, RunArtifacts

from .beliefs import GoalFacts, Stakeholder, goal_facts, stakeholders
from .branch import BranchFacts, BranchOrigin, branch_facts, parent_missing_note
from .camps import MAX_COALITIONS, Coalition, Member, coalitions
from .cited import EvidencePost, EvidenceTrade, cited_ids, evidence_post, evidence_trade
from .conventions import DEFAULT_FORECAST_DAYS
from .events import NewsEvent, news_events
from .findings import Finding, findings
from .forecast import (
    BaselineFacts,
    EvidenceFacts,
    ForecastFacts,
    Verdict,
    baseline_facts,
    draw_verdict,
    evidence_facts,
    forecast_facts,
    low_evidence_note,
)
from .markets import MarketFacts, PriceMove, market_facts, price_moves
from .run import BackendInfo, RunContext, RunIndex, Scale, backend_info, scale
from .timeline import PhaseFacts, phases
from .voices import AgentStanding, Quote, influencers, quotes, traders

HEURISTIC_NOTE = (
    "This run used the heuristic backend: the agents followed seeded rules, not a language model, so the "
    "numbers are a reproducible baseline for this seed, not model judgement."
)


@dataclass(frozen=True)
class ReportFacts:
    job_id: int
    run_id: str
    backend: BackendInfo
    scale: Scale
    forecast: ForecastFacts
    # None when the artifacts predate the evidence reader.
    evidence: EvidenceFacts | None
    # None when the artifacts predate the baselines.
    baselines: BaselineFacts | None
    goal: GoalFacts
    markets: list[MarketFacts]
    verdict: Verdict
    moves: list[PriceMove]
    coalitions: list[Coalition]
    # Agents of each camp who follow no one else in it, by camp (names, capped) and their counts.
    unaligned: dict[str, list[Member]]
    unaligned_counts: dict[str, int]
    # Coalitions beyond MAX_COALITIONS: how many, and how many agents they hold.
    minor_coalitions: int
    minor_coalition_agents: int
    stakeholders: list[Stakeholder]
    phases: list[PhaseFacts]
    quotes: list[Quote]
    findings: list[Finding]
    influencers: list[AgentStanding]
    best_trader: AgentStanding | None
    worst_trader: AgentStanding | None
    notes: list[str]
    # The posts and trades cited anywhere above, by id (what writers may quote and describe).
    evidence_posts: dict[int, EvidencePost]
    evidence_trades: dict[int, EvidenceTrade]
    # Every id that exists (for citation checks); not part of the serialised facts.
    post_ids: frozenset[int] = field(repr=False, default=frozenset())
    trade_ids: frozenset[int] = field(repr=False, default=frozenset())
    # The news the run played (scheduled events), in round order.
    events: list[NewsEvent] = field(default_factory=list)
    # The comparison with the parent when this run is a what-if branch.
    branch: BranchFacts | None = None

    def market(self, market_id: str) -> MarketFacts:
        return next(m for m in self.markets if m.id == market_id)

    @property
    def goal_market(self) -> MarketFacts:
        return self.markets[0]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("post_ids")
        out.pop("trade_ids")
        return out


def compute_facts(
    art: RunArtifacts,
    ctx: RunContext,
    *,
    branch: BranchOrigin | None = None,
    parent: ParentArtifacts | None = None,
) -> ReportFacts:
    """Every fact of the report (see the package docstring); ``branch`` for a what-if branch, with
    ``parent`` its parent's artifacts (None when they are gone)."""
    run = RunIndex(art, ctx)
    backend = backend_info(art)
    forecast = forecast_facts(art)
    evidence = evidence_facts(art)
    baselines = baseline_facts(art)
    markets = market_facts(run)
    goal = goal_facts(run)
    verdict = draw_verdict(forecast, evidence, goal)
    moves = price_moves(run)
    all_coalitions, unaligned, unaligned_counts = coalitions(run)
    minor = all_coalitions[MAX_COALITIONS:]
    described = all_coalitions[:MAX_COALITIONS]
    holders = stakeholders(run)
    news = news_events(run)
    timeline = phases(run, news)
    quoted = quotes(run)
    voices = influencers(run)
    best, worst = traders(run)
    sizes = scale(run, len(holders))
    found = findings(run, goal, markets, moves, voices, best)
    compared = (
        branch_facts(
            branch,
            parent,
            forecast=forecast,
            markets=markets,
            final_positions=[positions[-1] for positions in run.positions.values()],
            events=news,
            round_day=run.day(branch.round),
        )
        if branch is not None
        else None
    )
    cited_posts, cited_trades = cited_ids(moves, described, timeline, quoted, found, [*voices, best, worst])
    return ReportFacts(
        job_id=ctx.job_id,
        run_id=ctx.run_id,
        backend=backend,
        scale=sizes,
        forecast=forecast,
        evidence=evidence,
        baselines=baselines,
        goal=goal,
        markets=markets,
        verdict=verdict,
        moves=moves,
        coalitions=described,
        unaligned=unaligned,
        unaligned_counts=unaligned_counts,
        minor_coalitions=len(minor),
        minor_coalition_agents=sum(c.size for c in minor),
        stakeholders=holders,
        phases=timeline,
        quotes=quoted,
        findings=found,
        influencers=voices,
        best_trader=best,
        worst_trader=worst,
        notes=_notes(run, backend, forecast, evidence, sizes, compared),
        evidence_posts={i: evidence_post(run, i) for i in sorted(cited_posts)},
        evidence_trades={i: evidence_trade(run, i) for i in sorted(cited_trades)},
        post_ids=frozenset(int(p["id"]) for p in art.posts),
        trade_ids=frozenset(int(t["id"]) for t in art.trades),
        events=news,
        branch=compared,
    )


def _notes(
    run: RunIndex,
    backend: BackendInfo,
    forecast: ForecastFacts,
    evidence: EvidenceFacts | None,
    sizes: Scale,
    branch: BranchFacts | None,
) -> list[str]:
    """What the reader should know to weigh the numbers."""
    notes: list[str] = []
    if branch is not None and not branch.parent_artifacts:
        notes.append(parent_missing_note(branch))
    if backend.heuristic:
        notes.append(HEURISTIC_NOTE)
    if evidence is not None and evidence.low_evidence:
        notes.append(low_evidence_note(evidence, forecast))
    if forecast.replicates > 1:
        notes.append(
            f"The forecast pools {forecast.replicates} replicate runs; the posts, trades, coalitions and "
            "belief dynamics quoted here come from the first of them."
        )
    if run.ctx.forecast_days <= 0:
        notes.append(f"The run carried no forecast horizon; {DEFAULT_FORECAST_DAYS} days were assumed.")
    if run.rounds < 3:
        notes.append(f"With only {run.rounds} round(s), some phases of the horizon hold no rounds.")
    if sizes.failed_turns:
        notes.append(f"{sizes.failed_turns} agent turns failed and were skipped.")
    return notes
