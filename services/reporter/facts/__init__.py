"""Everything the report states, computed from the artifacts alone (pure: no I/O, no clock).

`compute_facts(artifacts, context)` returns `ReportFacts`: the forecast over all replicates
(the headline, with its interval) and the verdict drawn from it, the seed's evidence, every
probability, market moves with the trades and posts around them, coalitions, stakeholder
positions, phases mapped to the forecast horizon, belief dynamics, quotable posts and the key
findings with the post and trade ids they rest on. Writers only phrase these facts; nothing
numeric is invented downstream. Every id a fact cites is taken from posts.json / trades.json, so
it exists.

One module per topic: `conventions` (probability, camps, days and phases, rounding), `run` (the
run's context, the shared indexes, backend and scale), `forecast` (forecast, evidence, baselines,
verdict), `beliefs` (the crowd and the stakeholders), `markets` (markets and price moves), `camps`
(coalitions), `timeline` (phases), `voices` (quotes, influencers, traders), `findings`, `cited`
(the cited posts and trades), `events` (the news the run played), `branch` (a what-if branch
against its parent) and `compute` (`ReportFacts` and `compute_facts`).

Conventions (docs/artifacts.md): an agent's probability for the goal is `(position + 1) / 2`;
round `r` of `R` ends on day `r / R * forecast_days` of the horizon. The forecast comes from every
replicate (docs/forecasting.md §4); posts, trades, agents and curves are replicate 0's, the run
the report quotes.
"""

from .beliefs import GoalFacts, Stakeholder
from .branch import BranchFacts, BranchOrigin, CampShift, ForecastPoint, MarketShift, parent_missing_note
from .camps import MAX_COALITIONS, MAX_MEMBERS, Coalition, Member
from .cited import EvidencePost, EvidenceTrade
from .compute import HEURISTIC_NOTE, ReportFacts, compute_facts
from .conventions import (
    CAMP_LABELS,
    CAMPS,
    DEFAULT_FORECAST_DAYS,
    MOVED,
    NO_LINE,
    PHASE_NAMES,
    YES_LINE,
    camp_of,
    phase_of_round,
    post_score,
    probability,
    r4,
    round_day,
    weighted_goal,
)
from .events import FAVOURS_LABELS, NewsEvent
from .findings import MAX_FINDINGS, MIN_FINDINGS, Finding
from .forecast import (
    MAX_EVIDENCE_ITEMS,
    BaselineFacts,
    DirectForecast,
    EvidenceFacts,
    EvidenceItem,
    ForecastFacts,
    Verdict,
    low_evidence_note,
    verdict_label,
)
from .markets import MAX_MOVES, MIN_MOVE, MarketFacts, PriceMove
from .run import BackendInfo, RunContext, Scale
from .timeline import Mover, PhaseFacts, phase_rounds
from .voices import MAX_QUOTES, AgentStanding, Quote

__all__ = [
    "CAMPS",
    "CAMP_LABELS",
    "DEFAULT_FORECAST_DAYS",
    "FAVOURS_LABELS",
    "HEURISTIC_NOTE",
    "MAX_COALITIONS",
    "MAX_EVIDENCE_ITEMS",
    "MAX_FINDINGS",
    "MAX_MEMBERS",
    "MAX_MOVES",
    "MAX_QUOTES",
    "MIN_FINDINGS",
    "MIN_MOVE",
    "MOVED",
    "NO_LINE",
    "PHASE_NAMES",
    "YES_LINE",
    "AgentStanding",
    "BackendInfo",
    "BaselineFacts",
    "BranchFacts",
    "BranchOrigin",
    "CampShift",
    "Coalition",
    "DirectForecast",
    "EvidenceFacts",
    "EvidenceItem",
    "EvidencePost",
    "EvidenceTrade",
    "Finding",
    "ForecastFacts",
    "ForecastPoint",
    "GoalFacts",
    "MarketFacts",
    "MarketShift",
    "Member",
    "Mover",
    "NewsEvent",
    "PhaseFacts",
    "PriceMove",
    "Quote",
    "ReportFacts",
    "RunContext",
    "Scale",
    "Stakeholder",
    "Verdict",
    "camp_of",
    "compute_facts",
    "low_evidence_note",
    "parent_missing_note",
    "phase_of_round",
    "phase_rounds",
    "post_score",
    "probability",
    "r4",
    "round_day",
    "verdict_label",
    "weighted_goal",
]
