"""Everything the report states, computed from the artifacts alone (pure: no I/O, no clock).

`compute_facts(artifacts, context)` returns `ReportFacts`: the forecast over all replicates
(the headline, with its interval) and the verdict drawn from it, the seed's evidence, every
probability, market moves with the trades and posts around them, coalitions, stakeholder
positions, phases mapped to the forecast horizon, belief dynamics, quotable posts and the key
findings with the post and trade ids they rest on. Writers only phrase these facts; nothing
numeric is invented downstream. Every id a fact cites is taken from posts.json / trades.json, so
it exists.

Conventions (docs/artifacts.md): an agent's probability for the goal is `(position + 1) / 2`;
round `r` of `R` ends on day `r / R * forecast_days` of the horizon. The forecast comes from every
replicate (docs/forecasting.md §4); posts, trades, agents and curves are replicate 0's, the run
the report quotes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from services.reporter import fmt
from services.reporter.artifacts import RunArtifacts

PHASE_NAMES: tuple[str, ...] = ("Early", "Mid", "Late")
# Used when an event carries no horizon (forecast_days is 1..365 for real jobs).
DEFAULT_FORECAST_DAYS = 30
# An agent whose probability is at least YES_LINE backs the goal; at most NO_LINE opposes it.
YES_LINE = 0.6
NO_LINE = 0.4
CAMPS: tuple[str, ...] = ("yes", "no", "undecided")
CAMP_LABELS = {"yes": "YES camp", "no": "NO camp", "undecided": "Undecided middle"}
# Price moves smaller than this (half a point) are noise, not "moves".
MIN_MOVE = 0.005
MAX_MOVES = 3
# A belief change of 0.1 in position (5 points of probability) counts as "moved".
MOVED = 0.1
MAX_FINDINGS = 5
MIN_FINDINGS = 3
MAX_QUOTES = 5
# Members listed in result_structured per coalition; the size is always the full count.
MAX_MEMBERS = 100
# Coalitions described one by one; smaller ones are only counted (a sparse follow graph of a big
# run can fall apart into hundreds of pairs).
MAX_COALITIONS = 10
# Evidence items the facts keep (the strongest by weight): enough to say what the number rests on.
MAX_EVIDENCE_ITEMS = 8
HEURISTIC_NOTE = (
    "This run used the heuristic backend: the agents followed seeded rules, not a language model, so the "
    "numbers are a reproducible baseline for this seed, not model judgement."
)


def probability(position: float) -> float:
    return (float(position) + 1.0) / 2.0


def camp_of(prob: float) -> str:
    if prob >= YES_LINE:
        return "yes"
    if prob <= NO_LINE:
        return "no"
    return "undecided"


def weighted_goal(positions: Sequence[float], confidences: Sequence[float]) -> tuple[float, float]:
    """Confidence-weighted mean probability and its weighted standard deviation (the engine's formula)."""
    total = sum(confidences)
    if total <= 0:
        return 0.5, 0.0
    probs = [probability(p) for p in positions]
    mean = sum(p * c for p, c in zip(probs, confidences, strict=True)) / total
    var = sum((p - mean) ** 2 * c for p, c in zip(probs, confidences, strict=True)) / total
    return mean, math.sqrt(var)


def post_score(post: dict[str, Any]) -> float:
    """top_posts.json's engagement score."""
    return (
        post.get("likes", 0)
        + 2 * post.get("reposts", 0)
        + 1.5 * post.get("replies", 0)
        - 0.5 * post.get("dislikes", 0)
    )


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


# --- the facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """What the runner.completed event adds to the artifacts."""

    job_id: int
    run_id: str
    goal: str
    forecast_days: int


@dataclass(frozen=True)
class BackendInfo:
    name: str
    model: str
    heuristic: bool


@dataclass(frozen=True)
class Scale:
    agents: int
    entities: int
    rounds: int
    forecast_days: int
    days_per_round: float
    posts: int
    trades: int
    markets: int
    volume_cash: float
    volume_shares: float
    posts_by_kind: dict[str, int]
    failed_turns: int
    rejected_actions: int
    replicates: int


@dataclass(frozen=True)
class GoalFacts:
    goal: str
    question: str
    # Agents' confidence-weighted probability and the weighted spread across agents.
    probability: float
    spread: float
    initial_probability: float
    initial_spread: float
    market_probability: float
    p10: float
    p50: float
    p90: float
    agents: int
    camps: dict[str, int]
    initial_camps: dict[str, int]


@dataclass(frozen=True)
class ForecastFacts:
    """forecast.goal of market_curves.json: the headline probability and its interval."""

    market_id: str
    probability: float
    # [low, high]: the `level` (0.8) interval across replicates (a bootstrap over agents when R = 1).
    interval: list[float]
    level: float
    replicates: int
    # The replicate means (in log-odds) of the final price and of the pooled stated beliefs.
    market: float
    belief: float
    # One sentence from the engine: how the number was made.
    method: str


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    text: str
    # Log-odds for the positive outcome (docs/forecasting.md §1).
    weight: float
    entity: str | None


@dataclass(frozen=True)
class EvidenceFacts:
    """What the engine read from the seed (market_curves.json → evidence)."""

    prior: float
    stakeholders: int
    # Fewer than 3 stakeholders: the number rests on little and is to be read as weak.
    low_evidence: bool
    # How many items the seed gave, and the strongest of them (MAX_EVIDENCE_ITEMS at most).
    item_count: int
    items: list[EvidenceItem]


@dataclass(frozen=True)
class DirectForecast:
    """A single forecast without simulation (market_curves.json → baselines.direct): one call to
    the run's model with the seed and the goal, or the heuristic backend's seed-evidence prior."""

    # None when the call failed (``error`` says why).
    probability: float | None
    source: str  # llm or heuristic_prior
    reason: str
    error: str | None


@dataclass(frozen=True)
class BaselineFacts:
    """What the forecast is compared with (market_curves.json → baselines)."""

    # The goal market's opening price.
    opening_price: float
    # None for a run checkpointed before the engine recorded it.
    direct: DirectForecast | None


@dataclass(frozen=True)
class MarketFacts:
    id: str
    question: str
    rationale: str
    # How the market settles ("" when the artifacts predate resolution criteria).
    resolution: str
    is_goal: bool
    # The market's forecast over all replicates: probability, interval, mean price, mean belief.
    probability: float
    interval: list[float]
    forecast_market: float
    forecast_belief: float
    # Replicate 0 (the quoted run) from here on.
    initial_price: float
    final_price: float
    change: float
    belief_probability: float
    high: float
    high_round: int
    low: float
    low_round: int
    volume_shares: float
    volume_cash: float
    trades: int
    traders: int


@dataclass(frozen=True)
class Verdict:
    # very likely / likely / too close to call / unlikely / very unlikely, from the forecast.
    label: str
    leaning: str  # yes, no or even
    market_id: str
    # The goal's forecast (forecast.goal.probability) and its interval.
    probability: float
    interval: list[float]
    level: float
    replicates: int
    # The seed named fewer than 3 stakeholders: the verdict says the number is weak.
    low_evidence: bool
    # The agents' confidence-weighted belief at the end of the quoted run, and its spread.
    goal_probability: float
    goal_spread: float


@dataclass(frozen=True)
class PriceMove:
    market_id: str
    question: str
    round: int
    day: float
    phase: str
    price_before: float
    price_after: float
    delta: float
    volume_cash: float
    trade_ids: list[int]
    post_ids: list[int]
    traders: list[str]


@dataclass(frozen=True)
class Member:
    agent_id: int
    name: str
    probability: float


@dataclass(frozen=True)
class Coalition:
    id: str
    label: str
    camp: str
    size: int
    members: list[Member]
    members_truncated: bool
    mean_probability: float
    initial_mean_probability: float
    internal_follows: int
    density: float
    anchor_id: int
    anchor_name: str
    anchor_followers: int
    entities: list[str]
    # Net YES minus NO shares the members hold in the goal market (m1).
    net_goal_shares: float
    post_ids: list[int]


@dataclass(frozen=True)
class Stakeholder:
    entity_id: str
    name: str
    kind: str
    agents: int
    initial_probability: float
    final_probability: float
    shift: float
    stance: str
    mean_agent_probability: float
    posts: int
    trades: int
    pnl: float


@dataclass(frozen=True)
class Mover:
    agent_id: int
    name: str
    probability_before: float
    probability_after: float
    post_ids: list[int]


@dataclass(frozen=True)
class PhaseFacts:
    name: str
    start_day: float
    end_day: float
    # None when the run was too short to put a round in this third of the horizon.
    start_round: int | None
    end_round: int | None
    goal_probability_start: float
    goal_probability_end: float
    spread_start: float
    spread_end: float
    market_start: float
    market_end: float
    camps_end: dict[str, int]
    moved_yes: int
    moved_no: int
    posts: int
    trades: int
    volume_cash: float
    top_post_id: int | None
    mover: Mover | None


@dataclass(frozen=True)
class Quote:
    post_id: int
    author_id: int
    author: str
    round: int
    day: float
    phase: str
    kind: str
    stance: float
    text: str
    score: float


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str
    title: str
    text: str
    post_ids: list[int]
    trade_ids: list[int]


@dataclass(frozen=True)
class AgentStanding:
    agent_id: int
    name: str
    followers: int
    likes_received: int
    posts: int
    trades: int
    pnl: float
    probability: float
    post_ids: list[int]
    trade_ids: list[int]


@dataclass(frozen=True)
class EvidencePost:
    author_id: int
    author: str
    round: int
    kind: str
    stance: float
    text: str


@dataclass(frozen=True)
class EvidenceTrade:
    agent_id: int
    agent: str
    round: int
    market_id: str
    side: str
    outcome: str
    shares: float
    cash: float
    price_before: float
    price_after: float


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


# --- computation -------------------------------------------------------------------------------


class _Run:
    """Indexes over one run's artifacts, built once and shared by the fact builders."""

    def __init__(self, art: RunArtifacts, ctx: RunContext) -> None:
        self.art = art
        self.ctx = ctx
        self.rounds = art.rounds
        self.days = ctx.forecast_days if ctx.forecast_days > 0 else DEFAULT_FORECAST_DAYS
        self.posts = art.posts
        self.trades = art.trades
        self.agents = art.agents
        self.names = {int(a["agent_id"]): str(a["name"]) for a in self.agents}
        self.positions = {int(a["agent_id"]): [float(x) for x in a["position"]] for a in self.agents}
        self.confidences = {int(a["agent_id"]): [float(x) for x in a["confidence"]] for a in self.agents}
        self.profiles = {int(p["agent_id"]): p for p in art.profiles}
        self.nodes = {int(n["id"]): n for n in art.social_graph["nodes"]}
        self.follows: list[tuple[int, int]] = [
            (int(e["source"]), int(e["target"])) for e in art.social_graph["edges"]
        ]
        self.scores = {int(p["id"]): post_score(p) for p in self.posts}
        self.post_by_id = {int(p["id"]): p for p in self.posts}
        self.trade_by_id = {int(t["id"]): t for t in self.trades}
        self.posts_by_author: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for post in self.posts:
            self.posts_by_author[int(post["author_id"])].append(post)
        self.trades_by_agent: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for trade in self.trades:
            self.trades_by_agent[int(trade["agent_id"])].append(trade)
        self.goal_market_id = str(art.markets[0]["id"])

    def day(self, r: float) -> float:
        return r4(round_day(r, self.rounds, self.days))

    def prob_at(self, agent_id: int, k: int) -> float:
        return probability(self.positions[agent_id][k])

    def goal_at(self, k: int) -> tuple[float, float]:
        ids = sorted(self.positions)
        return weighted_goal([self.positions[i][k] for i in ids], [self.confidences[i][k] for i in ids])

    def camps_at(self, k: int) -> dict[str, int]:
        counts = dict.fromkeys(CAMPS, 0)
        for agent_id in self.positions:
            counts[camp_of(self.prob_at(agent_id, k))] += 1
        return counts

    def price_at(self, market_id: str, k: int) -> float:
        market = next(m for m in self.art.markets if m["id"] == market_id)
        return float(market["curve"][k]["price_yes"])

    def top_posts_of(self, author_ids: Iterable[int], n: int, rounds: range | None = None) -> list[int]:
        """Ids of the `n` best-scored original posts (no reposts) by these authors."""
        pool = [
            p
            for a in author_ids
            for p in self.posts_by_author.get(a, ())
            if p["kind"] != "repost" and (rounds is None or int(p["round"]) in rounds)
        ]
        pool.sort(key=lambda p: (-self.scores[int(p["id"])], int(p["id"])))
        return [int(p["id"]) for p in pool[:n]]

    def top_trades(self, trades: Iterable[dict[str, Any]], n: int) -> list[int]:
        ranked = sorted(trades, key=lambda t: (-float(t["cash"]), int(t["id"])))
        return [int(t["id"]) for t in ranked[:n]]


def _pushes_up(trade: dict[str, Any]) -> bool:
    """Whether a trade raises the YES price: buying YES or selling NO."""
    return (trade["side"] == "buy") == (trade["outcome"] == "yes")


def compute_facts(art: RunArtifacts, ctx: RunContext) -> ReportFacts:
    """Every fact of the report (see the module docstring)."""
    run = _Run(art, ctx)
    backend = _backend(art)
    forecast = _forecast(art)
    evidence = _evidence(art)
    baselines = _baselines(art)
    markets = _markets(run)
    goal = _goal(run)
    verdict = _verdict(forecast, evidence, goal)
    moves = _moves(run)
    coalitions, unaligned, unaligned_counts = _coalitions(run)
    minor = coalitions[MAX_COALITIONS:]
    coalitions = coalitions[:MAX_COALITIONS]
    stakeholders = _stakeholders(run)
    phases = _phases(run)
    quotes = _quotes(run)
    influencers = _influencers(run)
    best, worst = _traders(run)
    scale = _scale(run, stakeholders, art)
    findings = _findings(run, goal, markets, moves, influencers, best)
    notes: list[str] = []
    if backend.heuristic:
        notes.append(HEURISTIC_NOTE)
    if evidence is not None and evidence.low_evidence:
        notes.append(low_evidence_note(evidence, forecast))
    if forecast.replicates > 1:
        notes.append(
            f"The forecast pools {forecast.replicates} replicate runs; the posts, trades, coalitions and "
            "belief dynamics quoted here come from the first of them."
        )
    if ctx.forecast_days <= 0:
        notes.append(f"The run carried no forecast horizon; {DEFAULT_FORECAST_DAYS} days were assumed.")
    if run.rounds < 3:
        notes.append(f"With only {run.rounds} round(s), some phases of the horizon hold no rounds.")
    if scale.failed_turns:
        notes.append(f"{scale.failed_turns} agent turns failed and were skipped.")
    cited_posts, cited_trades = _cited(moves, coalitions, phases, quotes, findings, influencers, best, worst)
    return ReportFacts(
        job_id=ctx.job_id,
        run_id=ctx.run_id,
        backend=backend,
        scale=scale,
        forecast=forecast,
        evidence=evidence,
        baselines=baselines,
        goal=goal,
        markets=markets,
        verdict=verdict,
        moves=moves,
        coalitions=coalitions,
        unaligned=unaligned,
        unaligned_counts=unaligned_counts,
        minor_coalitions=len(minor),
        minor_coalition_agents=sum(c.size for c in minor),
        stakeholders=stakeholders,
        phases=phases,
        quotes=quotes,
        findings=findings,
        influencers=influencers,
        best_trader=best,
        worst_trader=worst,
        notes=notes,
        evidence_posts={i: _evidence_post(run, i) for i in sorted(cited_posts)},
        evidence_trades={i: _evidence_trade(run, i) for i in sorted(cited_trades)},
        post_ids=frozenset(int(p["id"]) for p in art.posts),
        trade_ids=frozenset(int(t["id"]) for t in art.trades),
    )


def _cited(
    moves: list[PriceMove],
    coalitions: list[Coalition],
    phases: list[PhaseFacts],
    quotes: list[Quote],
    findings: list[Finding],
    influencers: list[AgentStanding],
    best: AgentStanding | None,
    worst: AgentStanding | None,
) -> tuple[set[int], set[int]]:
    posts: set[int] = set()
    trades: set[int] = set()
    for mv in moves:
        posts.update(mv.post_ids)
        trades.update(mv.trade_ids)
    for c in coalitions:
        posts.update(c.post_ids)
    for ph in phases:
        if ph.top_post_id is not None:
            posts.add(ph.top_post_id)
        if ph.mover is not None:
            posts.update(ph.mover.post_ids)
    posts.update(q.post_id for q in quotes)
    for f in findings:
        posts.update(f.post_ids)
        trades.update(f.trade_ids)
    for a in [*influencers, best, worst]:
        if a is not None:
            posts.update(a.post_ids)
            trades.update(a.trade_ids)
    return posts, trades


def _evidence_post(run: _Run, post_id: int) -> EvidencePost:
    p = run.post_by_id[post_id]
    return EvidencePost(
        author_id=int(p["author_id"]),
        author=str(p["author"]),
        round=int(p["round"]),
        kind=str(p["kind"]),
        stance=float(p.get("stance") or 0.0),
        text=str(p["text"]),
    )


def _evidence_trade(run: _Run, trade_id: int) -> EvidenceTrade:
    t = run.trade_by_id[trade_id]
    return EvidenceTrade(
        agent_id=int(t["agent_id"]),
        agent=run.names.get(int(t["agent_id"]), f"agent {t['agent_id']}"),
        round=int(t["round"]),
        market_id=str(t["market_id"]),
        side=str(t["side"]),
        outcome=str(t["outcome"]),
        shares=float(t["shares"]),
        cash=float(t["cash"]),
        price_before=float(t["price_before"]),
        price_after=float(t["price_after"]),
    )


def _backend(art: RunArtifacts) -> BackendInfo:
    raw = art.engagement.get("backend") or {}
    return BackendInfo(
        name=str(raw.get("name", "unknown")),
        model=str(raw.get("model", "")),
        heuristic=bool(raw.get("heuristic", False)),
    )


def _scale(run: _Run, stakeholders: list[Stakeholder], art: RunArtifacts) -> Scale:
    engagement = art.engagement
    kinds: dict[str, int] = defaultdict(int)
    for post in run.posts:
        kinds[str(post["kind"])] += 1
    return Scale(
        agents=len(run.agents),
        entities=len(stakeholders),
        rounds=run.rounds,
        forecast_days=run.days,
        days_per_round=r4(run.days / run.rounds) if run.rounds else 0.0,
        posts=len(run.posts),
        trades=len(run.trades),
        markets=len(art.markets),
        volume_cash=r4(sum(float(m["total_volume_cash"]) for m in art.markets)),
        volume_shares=r4(sum(float(m["total_volume_shares"]) for m in art.markets)),
        posts_by_kind=dict(sorted(kinds.items())),
        failed_turns=len(engagement.get("failed_turns") or ()),
        rejected_actions=int(sum((engagement.get("rejections") or {}).values())),
        replicates=art.replicates,
    )


def _interval(raw: Any) -> list[float]:
    return [float(raw[0]), float(raw[1])]


def _forecast(art: RunArtifacts) -> ForecastFacts:
    raw = art.forecast
    goal = raw["goal"]
    return ForecastFacts(
        market_id=str(goal["market_id"]),
        probability=float(goal["probability"]),
        interval=_interval(goal["interval"]),
        level=float(goal["level"]),
        replicates=int(goal["replicates"]),
        market=float(goal["market"]),
        belief=float(goal["belief"]),
        method=fmt.plain(raw["method"]),
    )


def _evidence(art: RunArtifacts) -> EvidenceFacts | None:
    raw = art.evidence
    if raw is None:
        return None
    items = [
        EvidenceItem(
            kind=str(item["kind"]),
            text=" ".join(str(item["text"]).split()),
            weight=float(item["weight"]),
            entity=None if item.get("entity") is None else str(item["entity"]),
        )
        for item in raw["items"]
    ]
    # Strongest first; the engine's order breaks ties, so the choice is stable.
    strongest = sorted(range(len(items)), key=lambda i: (-abs(items[i].weight), i))[:MAX_EVIDENCE_ITEMS]
    return EvidenceFacts(
        prior=float(raw["prior"]),
        stakeholders=int(raw["stakeholders"]),
        low_evidence=bool(raw["low_evidence"]),
        item_count=len(items),
        items=[items[i] for i in strongest],
    )


def _baselines(art: RunArtifacts) -> BaselineFacts | None:
    raw = art.baselines
    if raw is None:
        return None
    direct = raw["direct"]
    return BaselineFacts(
        opening_price=float(raw["opening_price"]),
        direct=None
        if direct is None
        else DirectForecast(
            probability=None if direct["probability"] is None else float(direct["probability"]),
            source=str(direct["source"]),
            reason=" ".join(str(direct.get("reason") or "").split()),
            error=None if direct.get("error") is None else str(direct["error"]),
        ),
    )


def low_evidence_note(evidence: EvidenceFacts, forecast: ForecastFacts) -> str:
    """The plain warning a low-evidence verdict carries (report, notes)."""
    named = (
        "names no stakeholders"
        if evidence.stakeholders == 0
        else f"names only {evidence.stakeholders} stakeholder{'s' if evidence.stakeholders != 1 else ''}"
    )
    return (
        f"Low evidence: the seed gave little evidence (it {named}, fewer than 3), so read the forecast "
        f"of {fmt.pct(forecast.probability)} as a weak number."
    )


def _goal(run: _Run) -> GoalFacts:
    raw = run.art.goal
    initial, initial_spread = run.goal_at(0)
    final_k = run.rounds
    return GoalFacts(
        goal=run.ctx.goal or str(raw["question"]),
        question=str(raw["question"]),
        probability=float(raw["belief_probability"]),
        spread=float(raw["spread"]),
        initial_probability=r4(initial),
        initial_spread=r4(initial_spread),
        market_probability=float(raw["market_probability"]),
        p10=float(raw["p10"]),
        p50=float(raw["p50"]),
        p90=float(raw["p90"]),
        agents=len(run.agents),
        camps=run.camps_at(final_k),
        initial_camps=run.camps_at(0),
    )


def _markets(run: _Run) -> list[MarketFacts]:
    out = []
    by_id = run.art.forecast["markets"]
    for i, m in enumerate(run.art.markets):
        estimate = by_id[str(m["id"])]
        curve = m["curve"]
        prices = [float(p["price_yes"]) for p in curve]
        high_k = max(range(len(prices)), key=lambda k: (prices[k], -k))
        low_k = min(range(len(prices)), key=lambda k: (prices[k], k))
        trades = [t for t in run.trades if t["market_id"] == m["id"]]
        final = float(m["final_price_yes"])
        initial = float(m["initial_price_yes"])
        out.append(
            MarketFacts(
                id=str(m["id"]),
                question=str(m["question"]),
                rationale=str(m.get("rationale", "")),
                resolution=fmt.plain(m.get("resolution") or ""),
                is_goal=i == 0,
                probability=float(estimate["probability"]),
                interval=_interval(estimate["interval"]),
                forecast_market=float(estimate["market"]),
                forecast_belief=float(estimate["belief"]),
                initial_price=initial,
                final_price=final,
                change=r4(final - initial),
                belief_probability=float(m["belief_probability"]),
                high=prices[high_k],
                high_round=int(curve[high_k]["round"]),
                low=prices[low_k],
                low_round=int(curve[low_k]["round"]),
                volume_shares=float(m["total_volume_shares"]),
                volume_cash=float(m["total_volume_cash"]),
                trades=len(trades),
                traders=len({int(t["agent_id"]) for t in trades}),
            )
        )
    return out


def verdict_label(p: float) -> str:
    if p >= 0.8:
        return "very likely"
    if p >= 0.6:
        return "likely"
    if p > 0.4:
        return "too close to call"
    if p > 0.2:
        return "unlikely"
    return "very unlikely"


def _leaning(p: float) -> str:
    if p > 0.5:
        return "yes"
    return "no" if p < 0.5 else "even"


def _verdict(forecast: ForecastFacts, evidence: EvidenceFacts | None, goal: GoalFacts) -> Verdict:
    """The label and leaning come from the forecast alone (it already weighs price against belief)."""
    p = forecast.probability
    return Verdict(
        label=verdict_label(p),
        leaning=_leaning(p),
        market_id=forecast.market_id,
        probability=p,
        interval=list(forecast.interval),
        level=forecast.level,
        replicates=forecast.replicates,
        low_evidence=bool(evidence is not None and evidence.low_evidence),
        goal_probability=goal.probability,
        goal_spread=goal.spread,
    )


def _moves(run: _Run) -> list[PriceMove]:
    candidates: list[tuple[float, str, int]] = []
    for m in run.art.markets:
        curve = m["curve"]
        for k in range(1, len(curve)):
            delta = float(curve[k]["price_yes"]) - float(curve[k - 1]["price_yes"])
            if abs(delta) >= MIN_MOVE:
                candidates.append((delta, str(m["id"]), k))
    # Largest first; ties go to the earlier round and the lower market id, so output is stable.
    candidates.sort(key=lambda c: (-abs(c[0]), c[2], c[1]))
    moves = []
    for delta, market_id, k in candidates[:MAX_MOVES]:
        market = next(m for m in run.art.markets if m["id"] == market_id)
        up = delta > 0
        in_round = [t for t in run.trades if t["market_id"] == market_id and int(t["round"]) == k]
        aligned = [t for t in in_round if _pushes_up(t) == up] or in_round
        trade_ids = run.top_trades(aligned, 3)
        traders = {int(t["agent_id"]) for t in run.trades if int(t["id"]) in trade_ids}
        moves.append(
            PriceMove(
                market_id=market_id,
                question=str(market["question"]),
                round=k,
                day=run.day(k),
                phase=phase_of_round(k, run.rounds),
                price_before=float(market["curve"][k - 1]["price_yes"]),
                price_after=float(market["curve"][k]["price_yes"]),
                delta=r4(delta),
                volume_cash=float(market["curve"][k].get("volume_cash", 0.0)),
                trade_ids=trade_ids,
                post_ids=_posts_around(run, market_id, k, up, traders),
                traders=[run.names.get(a, f"agent {a}") for a in sorted(traders)],
            )
        )
    return moves


def _posts_around(run: _Run, market_id: str, k: int, up: bool, traders: set[int]) -> list[int]:
    """The posts of the move's round and the round before that best explain it.

    Preference: comments on this market, then posts by the move's traders, then posts whose stance
    points the way the price went; engagement breaks ties.
    """
    pool = [p for p in run.posts if int(p["round"]) in (k - 1, k) and p["kind"] != "repost"]

    def rank(p: dict[str, Any]) -> tuple[int, int, int, float, int]:
        stance = float(p.get("stance") or 0.0)
        return (
            0 if p.get("market_id") == market_id else 1,
            0 if int(p["author_id"]) in traders else 1,
            0 if (stance > 0) == up and stance != 0 else 1,
            -run.scores[int(p["id"])],
            int(p["id"]),
        )

    pool.sort(key=rank)
    return [int(p["id"]) for p in pool[:3]]


def _components(members: list[int], adjacency: dict[int, set[int]]) -> list[list[int]]:
    """Connected components of the follow graph restricted to `members`, each sorted by id."""
    inside = set(members)
    seen: set[int] = set()
    out = []
    for start in sorted(members):
        if start in seen:
            continue
        stack, comp = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            comp.append(node)
            for nxt in adjacency.get(node, ()):
                if nxt in inside and nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        out.append(sorted(comp))
    return out


def _coalitions(run: _Run) -> tuple[list[Coalition], dict[str, list[Member]], dict[str, int]]:
    """Agents grouped by final belief camp, then split into groups linked by follows."""
    final_k = run.rounds
    adjacency: dict[int, set[int]] = defaultdict(set)
    for a, b in run.follows:
        if a != b:
            adjacency[a].add(b)
            adjacency[b].add(a)
    by_camp: dict[str, list[int]] = {c: [] for c in CAMPS}
    for agent_id in sorted(run.positions):
        by_camp[camp_of(run.prob_at(agent_id, final_k))].append(agent_id)

    groups: list[tuple[str, list[int]]] = []
    unaligned: dict[str, list[Member]] = {c: [] for c in CAMPS}
    unaligned_counts = dict.fromkeys(CAMPS, 0)
    for camp in CAMPS:
        for comp in _components(by_camp[camp], adjacency):
            if len(comp) >= 2:
                groups.append((camp, comp))
            else:
                unaligned_counts[camp] += 1
                if len(unaligned[camp]) < 25:
                    unaligned[camp].append(_member(run, comp[0], final_k))
    groups.sort(key=lambda g: (-len(g[1]), CAMPS.index(g[0]), g[1][0]))
    # Follow edges inside each group, counted in one pass over the edges (not one per group).
    group_of = {agent: i for i, (_, comp) in enumerate(groups) for agent in comp}
    internal_follows = [0] * len(groups)
    for a, b in run.follows:
        if a != b and a in group_of and group_of[a] == group_of.get(b):
            internal_follows[group_of[a]] += 1

    out = []
    for i, (camp, comp) in enumerate(groups, start=1):
        internal = internal_follows[i - 1]
        n = len(comp)
        anchor = max(comp, key=lambda a: (int(run.nodes.get(a, {}).get("followers", 0)), -a))
        entities: list[str] = []
        for a in comp:
            ent = str(run.profiles.get(a, {}).get("entity_id", ""))
            if ent and ent not in entities:
                entities.append(ent)
        net = 0.0
        for a in comp:
            holding = (run.profiles.get(a, {}).get("holdings") or {}).get(run.goal_market_id) or {}
            net += float(holding.get("yes", 0.0)) - float(holding.get("no", 0.0))
        anchor_name = run.names.get(anchor, f"agent {anchor}")
        out.append(
            Coalition(
                id=f"C{i}",
                label=f"{CAMP_LABELS[camp]} around {anchor_name}",
                camp=camp,
                size=n,
                members=[_member(run, a, final_k) for a in comp[:MAX_MEMBERS]],
                members_truncated=n > MAX_MEMBERS,
                mean_probability=r4(sum(run.prob_at(a, final_k) for a in comp) / n),
                initial_mean_probability=r4(sum(run.prob_at(a, 0) for a in comp) / n),
                internal_follows=internal,
                density=r4(internal / (n * (n - 1))),
                anchor_id=anchor,
                anchor_name=anchor_name,
                anchor_followers=int(run.nodes.get(anchor, {}).get("followers", 0)),
                entities=_entity_names(run, entities),
                net_goal_shares=r4(net),
                post_ids=run.top_posts_of(comp, 2),
            )
        )
    return out, unaligned, unaligned_counts


def _member(run: _Run, agent_id: int, k: int) -> Member:
    return Member(
        agent_id=agent_id,
        name=run.names.get(agent_id, f"agent {agent_id}"),
        probability=r4(run.prob_at(agent_id, k)),
    )


def _entity_names(run: _Run, entity_ids: list[str]) -> list[str]:
    """Entity ids -> names: an entity's name is that of its first agent (the entity itself)."""
    first: dict[str, str] = {}
    for agent_id in sorted(run.profiles):
        profile = run.profiles[agent_id]
        first.setdefault(str(profile["entity_id"]), str(profile["name"]))
    return [first.get(e, e) for e in entity_ids]


def _stakeholders(run: _Run) -> list[Stakeholder]:
    groups: dict[str, list[int]] = {}
    for agent_id in sorted(run.profiles):
        groups.setdefault(str(run.profiles[agent_id]["entity_id"]), []).append(agent_id)
    final_k = run.rounds
    out = []
    for entity_id, agent_ids in groups.items():
        rep = agent_ids[0]  # the entity's own agent; later ones were sampled from the mix
        profile = run.profiles[rep]
        if rep not in run.positions:
            continue
        initial = run.prob_at(rep, 0)
        final = run.prob_at(rep, final_k)
        known = [a for a in agent_ids if a in run.positions]
        stats = profile.get("stats") or {}
        out.append(
            Stakeholder(
                entity_id=entity_id,
                name=str(profile["name"]),
                kind=str(profile["kind"]),
                agents=len(agent_ids),
                initial_probability=r4(initial),
                final_probability=r4(final),
                shift=r4(final - initial),
                stance=camp_of(final),
                mean_agent_probability=r4(sum(run.prob_at(a, final_k) for a in known) / len(known)),
                posts=int(stats.get("posts", 0)),
                trades=int(stats.get("trades", 0)),
                pnl=float(profile.get("pnl", 0.0)),
            )
        )
    return out


def phase_rounds(rounds: int) -> dict[str, range]:
    """The rounds of each phase (a phase may be empty when there are fewer than three rounds)."""
    out: dict[str, list[int]] = {name: [] for name in PHASE_NAMES}
    for r in range(1, rounds + 1):
        out[phase_of_round(r, rounds)].append(r)
    return {name: range(rs[0], rs[-1] + 1) if rs else range(0) for name, rs in out.items()}


def _phases(run: _Run) -> list[PhaseFacts]:
    out = []
    third = run.days / 3
    done = 0  # rounds in earlier phases: the state an empty phase stands at
    for i, (name, rounds) in enumerate(phase_rounds(run.rounds).items()):
        start_day, end_day = r4(third * i), r4(third * (i + 1))
        done += len(rounds)
        if not rounds:
            out.append(_empty_phase(run, name, start_day, end_day, done))
            continue
        k0, k1 = rounds.start - 1, rounds.stop - 1
        g0, s0 = run.goal_at(k0)
        g1, s1 = run.goal_at(k1)
        deltas = {a: run.positions[a][k1] - run.positions[a][k0] for a in sorted(run.positions)}
        phase_posts = [p for p in run.posts if int(p["round"]) in rounds and p["kind"] != "repost"]
        phase_posts.sort(key=lambda p: (-run.scores[int(p["id"])], int(p["id"])))
        mover = None
        if deltas:
            agent_id = max(deltas, key=lambda a: (abs(deltas[a]), -a))
            if abs(deltas[agent_id]) >= MOVED / 2:
                mover = Mover(
                    agent_id=agent_id,
                    name=run.names.get(agent_id, f"agent {agent_id}"),
                    probability_before=r4(run.prob_at(agent_id, k0)),
                    probability_after=r4(run.prob_at(agent_id, k1)),
                    post_ids=run.top_posts_of([agent_id], 2, rounds),
                )
        out.append(
            PhaseFacts(
                name=name,
                start_day=start_day,
                end_day=end_day,
                start_round=rounds.start,
                end_round=rounds.stop - 1,
                goal_probability_start=r4(g0),
                goal_probability_end=r4(g1),
                spread_start=r4(s0),
                spread_end=r4(s1),
                market_start=run.price_at(run.goal_market_id, k0),
                market_end=run.price_at(run.goal_market_id, k1),
                camps_end=run.camps_at(k1),
                moved_yes=sum(1 for d in deltas.values() if d >= MOVED),
                moved_no=sum(1 for d in deltas.values() if d <= -MOVED),
                posts=sum(1 for p in run.posts if int(p["round"]) in rounds),
                trades=sum(1 for t in run.trades if int(t["round"]) in rounds),
                volume_cash=r4(
                    sum(float(m["curve"][r]["volume_cash"]) for m in run.art.markets for r in rounds)
                ),
                top_post_id=int(phase_posts[0]["id"]) if phase_posts else None,
                mover=mover,
            )
        )
    return out


def _empty_phase(run: _Run, name: str, start_day: float, end_day: float, k: int) -> PhaseFacts:
    g, s = run.goal_at(k)
    price = run.price_at(run.goal_market_id, k)
    return PhaseFacts(
        name=name,
        start_day=start_day,
        end_day=end_day,
        start_round=None,
        end_round=None,
        goal_probability_start=r4(g),
        goal_probability_end=r4(g),
        spread_start=r4(s),
        spread_end=r4(s),
        market_start=price,
        market_end=price,
        camps_end=run.camps_at(k),
        moved_yes=0,
        moved_no=0,
        posts=0,
        trades=0,
        volume_cash=0.0,
        top_post_id=None,
        mover=None,
    )


def _quotes(run: _Run) -> list[Quote]:
    """Up to five quotable posts: the best-scored for and against, then the rest by score.

    One post per author, so a single loud agent cannot fill the list.
    """
    known = {int(p["id"]): p for p in run.posts}
    pool = [known[int(p["id"])] for p in run.art.top_posts if int(p.get("id", -1)) in known]
    if not pool:
        pool = [p for p in run.posts if p["kind"] != "repost"]
    pool = sorted(pool, key=lambda p: (-run.scores[int(p["id"])], int(p["id"])))
    chosen: list[dict[str, Any]] = []
    authors: set[int] = set()

    def take(p: dict[str, Any]) -> None:
        if len(chosen) < MAX_QUOTES and int(p["author_id"]) not in authors and p not in chosen:
            chosen.append(p)
            authors.add(int(p["author_id"]))

    for side in (1, -1):
        for p in pool:
            if float(p.get("stance") or 0.0) * side >= 0.2:
                take(p)
                break
    for p in pool:
        take(p)
    chosen.sort(key=lambda p: (-run.scores[int(p["id"])], int(p["id"])))
    return [
        Quote(
            post_id=int(p["id"]),
            author_id=int(p["author_id"]),
            author=str(p["author"]),
            round=int(p["round"]),
            day=run.day(int(p["round"])),
            phase=phase_of_round(int(p["round"]), run.rounds),
            kind=str(p["kind"]),
            stance=float(p.get("stance") or 0.0),
            text=str(p["text"]),
            score=r4(run.scores[int(p["id"])]),
        )
        for p in chosen
    ]


def _standing(run: _Run, agent_id: int) -> AgentStanding:
    profile = run.profiles.get(agent_id, {})
    stats = profile.get("stats") or {}
    return AgentStanding(
        agent_id=agent_id,
        name=run.names.get(agent_id, f"agent {agent_id}"),
        followers=int(run.nodes.get(agent_id, {}).get("followers", stats.get("followers", 0))),
        likes_received=int(stats.get("likes_received", 0)),
        posts=int(stats.get("posts", 0)),
        trades=int(stats.get("trades", 0)),
        pnl=float(profile.get("pnl", 0.0)),
        probability=r4(run.prob_at(agent_id, run.rounds)) if agent_id in run.positions else 0.5,
        post_ids=run.top_posts_of([agent_id], 2),
        trade_ids=run.top_trades(run.trades_by_agent.get(agent_id, ()), 3),
    )


def _influencers(run: _Run) -> list[AgentStanding]:
    def reach(a: int) -> tuple[int, int, int]:
        stats = run.profiles.get(a, {}).get("stats") or {}
        followers = int(run.nodes.get(a, {}).get("followers", 0))
        return (followers + int(stats.get("likes_received", 0)), followers, -a)

    ranked = sorted(run.positions, key=reach, reverse=True)
    return [_standing(run, a) for a in ranked[:3]]


def _traders(run: _Run) -> tuple[AgentStanding | None, AgentStanding | None]:
    active = [a for a in sorted(run.trades_by_agent) if a in run.profiles]
    if not active:
        return None, None
    pnl = {a: float(run.profiles[a].get("pnl", 0.0)) for a in active}
    best = max(active, key=lambda a: (pnl[a], -a))
    worst = min(active, key=lambda a: (pnl[a], a))
    return _standing(run, best), (_standing(run, worst) if worst != best else None)


# --- key findings ------------------------------------------------------------------------------


def _names_of_traders(run: _Run, trade_ids: list[int]) -> str:
    by_id = {int(t["id"]): t for t in run.trades}
    names: list[str] = []
    for trade_id in trade_ids:
        name = run.names.get(int(by_id[trade_id]["agent_id"]), "")
        if name and name not in names:
            names.append(name)
    return " and ".join(names)


def _findings(
    run: _Run,
    goal: GoalFacts,
    markets: list[MarketFacts],
    moves: list[PriceMove],
    influencers: list[AgentStanding],
    best: AgentStanding | None,
) -> list[Finding]:
    """3 to 5 findings, each resting on posts or trades that exist (most important first)."""
    m1 = markets[0]
    candidates: list[Finding] = []

    # 1. Where the goal market ended, and the trades that put it there.
    m1_trades = [t for t in run.trades if t["market_id"] == m1.id]
    up = m1.change >= 0
    pushers = [t for t in m1_trades if _pushes_up(t) == up] or m1_trades
    comments = [p for p in run.posts if p.get("market_id") == m1.id]
    comments.sort(key=lambda p: (-run.scores[int(p["id"])], int(p["id"])))
    m1_cited = run.top_trades(pushers, 2)
    backers = _names_of_traders(run, m1_cited)
    text = (
        f"The market on the goal opened at {fmt.pct(m1.initial_price)} and closed at "
        f"{fmt.pct(m1.final_price)} ({fmt.pts(m1.change)}) after {m1.trades} trades worth "
        f"{fmt.num(m1.volume_cash)} in cash"
    )
    if backers:
        text += f"; the largest bets behind its net {'rise' if up else 'fall'} came from {backers}"
    candidates.append(
        Finding(
            id="",
            kind="goal_market",
            title=f"The goal market closed at {fmt.pct(m1.final_price)}",
            text=fmt.end(text),
            post_ids=[int(p["id"]) for p in comments[:1]],
            trade_ids=m1_cited,
        )
    )

    # 2. The sharpest single-round move of any market.
    if moves:
        mv = moves[0]
        candidates.append(
            Finding(
                id="",
                kind="largest_move",
                title=f"The sharpest swing came in round {mv.round} ({mv.phase} phase)",
                text=(
                    f"Market {mv.market_id} went from {fmt.pct(mv.price_before)} to "
                    f"{fmt.pct(mv.price_after)} ({fmt.pts(mv.delta)}) in round {mv.round}, around "
                    f"{fmt.day(mv.day)} of the {run.days}-day horizon, on "
                    f"{fmt.num(mv.volume_cash)} in cash traded."
                ),
                post_ids=mv.post_ids[:2],
                trade_ids=mv.trade_ids[:2],
            )
        )

    # 3. Polarisation or consensus among the agents.
    yes_ids = [a for a in sorted(run.positions) if camp_of(run.prob_at(a, run.rounds)) == "yes"]
    no_ids = [a for a in sorted(run.positions) if camp_of(run.prob_at(a, run.rounds)) == "no"]
    camps = goal.camps
    if goal.p90 - goal.p10 >= 0.4 or goal.spread >= 0.2:
        candidates.append(
            Finding(
                id="",
                kind="polarisation",
                title="The agents are polarised",
                text=(
                    f"Agents split into {camps['yes']} who back the goal, {camps['no']} who oppose it "
                    f"and {camps['undecided'] or 'none'} undecided: the 10th percentile sits at "
                    f"{fmt.pct(goal.p10)} and the 90th at {fmt.pct(goal.p90)} (spread "
                    f"{fmt.pts(goal.spread, signed=False)})."
                ),
                post_ids=run.top_posts_of(yes_ids, 1) + run.top_posts_of(no_ids, 1),
                trade_ids=[],
            )
        )
    else:
        majority = max(CAMPS, key=lambda c: (camps[c], -CAMPS.index(c)))
        candidates.append(
            Finding(
                id="",
                kind="consensus",
                title="The agents largely agree",
                text=(
                    f"Most agents ({camps[majority]} of {goal.agents}) end in the "
                    f"{CAMP_LABELS[majority]}; the spread of their probabilities is only "
                    f"{fmt.pts(goal.spread, signed=False)}."
                ),
                post_ids=run.top_posts_of(yes_ids if majority == "yes" else no_ids or yes_ids, 2),
                trade_ids=[],
            )
        )

    # 4. Belief and market disagree.
    gap = goal.probability - m1.final_price
    if abs(gap) >= 0.05:
        # The traders who held the price away from the agents' belief.
        against = [t for t in m1_trades if _pushes_up(t) == (gap < 0)]
        why = (
            f"traders betting {'against' if gap > 0 else 'on'} the goal moved the price more than "
            "the talk did"
            if against
            else "the market's trading never caught up with the talk"
        )
        candidates.append(
            Finding(
                id="",
                kind="belief_vs_market",
                title="Belief and money disagree",
                text=(
                    f"Agents' own belief in the goal ends at {fmt.pct(goal.probability)}, "
                    f"{fmt.pts(abs(gap), signed=False)} {'above' if gap > 0 else 'below'} the market's "
                    f"{fmt.pct(m1.final_price)}: {why}."
                ),
                post_ids=[],
                trade_ids=run.top_trades(against, 3),
            )
        )

    # 5. The loudest voice.
    if influencers:
        top = influencers[0]
        candidates.append(
            Finding(
                id="",
                kind="influence",
                title=f"{top.name} was the most influential voice",
                text=(
                    f"{top.name} gathered {top.followers} followers and {top.likes_received} likes over "
                    f"{top.posts} posts, ending at {fmt.pct(top.probability)} on the goal "
                    f"({CAMP_LABELS[camp_of(top.probability)]})."
                ),
                post_ids=top.post_ids,
                trade_ids=[],
            )
        )

    # 6. The largest change of mind.
    if run.positions:
        shifts = {a: run.prob_at(a, run.rounds) - run.prob_at(a, 0) for a in sorted(run.positions)}
        agent_id = max(shifts, key=lambda a: (abs(shifts[a]), -a))
        if abs(shifts[agent_id]) >= MOVED / 2:
            name = run.names.get(agent_id, f"agent {agent_id}")
            candidates.append(
                Finding(
                    id="",
                    kind="belief_shift",
                    title=f"{name} changed their mind the most",
                    text=(
                        f"{name} moved from {fmt.pct(run.prob_at(agent_id, 0))} to "
                        f"{fmt.pct(run.prob_at(agent_id, run.rounds))} on the goal "
                        f"({fmt.pts(shifts[agent_id])}) over the run."
                    ),
                    post_ids=run.top_posts_of([agent_id], 2),
                    trade_ids=run.top_trades(run.trades_by_agent.get(agent_id, ()), 1),
                )
            )

    # 7. The best trader.
    if best is not None and best.trade_ids:
        candidates.append(
            Finding(
                id="",
                kind="best_trader",
                title=f"{best.name} traded best",
                text=(
                    f"{best.name} finished with the best trading result ({best.pnl:+.2f} in cash) "
                    f"over {best.trades} trades."
                ),
                post_ids=[],
                trade_ids=best.trade_ids[:2],
            )
        )

    cited = [f for f in candidates if f.post_ids or f.trade_ids]
    # With almost no activity there may be too little to cite; keep the uncited ones then, so the
    # section still says what happened (the writer notes that nothing could be cited).
    chosen = cited[:MAX_FINDINGS]
    if len(chosen) < MIN_FINDINGS:
        chosen += [f for f in candidates if f not in chosen][: MIN_FINDINGS - len(chosen)]
        chosen.sort(key=candidates.index)
    return [
        Finding(
            id=f"F{i}", kind=f.kind, title=f.title, text=f.text, post_ids=f.post_ids, trade_ids=f.trade_ids
        )
        for i, f in enumerate(chosen, start=1)
    ]
