"""The artifact contract (docs/artifacts.md): the ten JSON files a run leaves in object storage, typed once.

The engine (`services/gpu_runner/engine/artifacts.py`) builds every file as the `TypedDict` below
and writes it with `dump_artifact`; the reporter reads it with `load_artifact` and gets the same
types back; the jobs service presigns and checks the names. `ArtifactFiles` maps each file name to
its shape, and `validate_artifact` checks bytes against it (pydantic, strict). What the fields
mean, and the conventions behind them (rounds, positions, prices, ids): docs/artifacts.md.

Fields marked `NotRequired` are absent from files written by older engines; everything else is
always written.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any, NotRequired

# pydantic reads TypedDicts only from typing_extensions before Python 3.12
from typing_extensions import TypedDict

if TYPE_CHECKING:
    from pydantic import TypeAdapter

# --- market_curves.json ------------------------------------------------------------------------


class CurvePoint(TypedDict):
    """One market after one round of replicate 0 (round 0: before anyone acts); volumes cover
    that round only."""

    round: int
    price_yes: float
    volume_shares: float
    volume_cash: float


class MarketForecast(TypedDict):
    """One market's forecast over all replicates (docs/forecasting.md §4): `interval` is
    `[low, high]`, `market` and `belief` the replicate means of the final price and the pooled
    stated beliefs."""

    probability: float
    interval: list[float]
    market: float
    belief: float


class GoalForecast(MarketForecast):
    """The goal market's forecast, with the interval's coverage and the replicate count."""

    market_id: str
    level: float
    replicates: int


class Forecast(TypedDict):
    """The run's forecast (docs/forecasting.md §4): the goal, every market, and one sentence on the method."""

    goal: GoalForecast
    markets: dict[str, MarketForecast]
    method: str


class EvidenceFact(TypedDict):
    """One fact read from the seed; `weight` in log-odds for the positive outcome."""

    kind: str
    text: str
    weight: float
    entity: str | None


class Milestone(TypedDict):
    """A dated event the seed announces (derived markets are built from these)."""

    question: str
    subject: str
    date: str
    scheduled: bool
    sentence: str


class Evidence(TypedDict):
    """What the engine read from the seed (docs/forecasting.md §1)."""

    polarity: int
    items: list[EvidenceFact]
    logit_positive: float
    prior: float
    leans: dict[str, float]
    deadline: str
    milestones: list[Milestone]
    stakeholders: int
    low_evidence: bool


class DirectForecast(TypedDict):
    """A single forecast without simulation: `probability` None (a failed LLM call) comes with
    `error`, a probability with `reason`."""

    probability: float | None
    source: str
    reason: NotRequired[str]
    error: NotRequired[str]


class Baselines(TypedDict):
    """What the forecast is compared with; `direct` is None for a run resumed from a checkpoint
    written before the engine recorded it."""

    opening_price: float
    direct: DirectForecast | None


class Market(TypedDict):
    """One market: its spec, replicate 0's prices and volumes, and its forecast."""

    id: str
    question: str
    rationale: str
    resolution: str
    kind: str
    link: float
    initial_price_yes: float
    liquidity_b: float
    subsidy: float
    final_price_yes: float
    belief_probability: float
    forecast: MarketForecast
    total_volume_shares: float
    total_volume_cash: float
    curve: list[CurvePoint]


class GoalSummary(TypedDict):
    """One replicate's view of the goal across its agents."""

    question: str
    belief_probability: float
    spread: float
    market_probability: float
    p10: float
    p50: float
    p90: float
    agents: int


class GoalPoint(TypedDict):
    round: int
    probability: float
    spread: float


class Goal(GoalSummary):
    """Replicate 0's view of the goal, with its pooled belief after every round."""

    curve: list[GoalPoint]


class ReplicateCurves(TypedDict):
    """One replicate's prices and pooled stated beliefs after rounds 0..rounds, per market."""

    replicate: int
    prices: dict[str, list[float]]
    beliefs: dict[str, list[float]]


class NewsEvent(TypedDict):
    """A scheduled event (news on day `day` of the horizon) and the round it entered every agent's
    feed; `favours` is "yes", "no" or "" (neutral)."""

    round: int
    day: int
    headline: str
    text: str
    favours: str


class MarketCurvesFile(TypedDict):
    """`events`: the run's scheduled events in round order (`[]` when none; absent from files of
    engines before issue 19)."""

    rounds: int
    replicates: int
    forecast: Forecast
    evidence: NotRequired[Evidence]
    baselines: NotRequired[Baselines]
    markets: list[Market]
    goal: Goal
    replicate_curves: list[ReplicateCurves]
    events: NotRequired[list[NewsEvent]]


# --- agent_trajectories.json -------------------------------------------------------------------


class ReasonChange(TypedDict):
    round: int
    market_id: str
    reason: str


class AgentTrajectory(TypedDict):
    """One agent of replicate 0; index `k` of each list holds the value after round `k`."""

    agent_id: int
    name: str
    entity_id: str
    position: list[float]
    confidence: list[float]
    beliefs: dict[str, list[float]]
    reasons: list[ReasonChange]


class AgentTrajectoriesFile(TypedDict):
    rounds: list[int]
    markets: list[str]
    agents: list[AgentTrajectory]


# --- engagement_summary.json -------------------------------------------------------------------


class BackendLabel(TypedDict):
    """The backend that ran the agents; `heuristic` labels rule-based results."""

    name: str
    model: str
    heuristic: bool


class LlmUsage(TypedDict):
    calls: int
    prompt_tokens: int
    completion_tokens: int
    invalid_turns: int
    retries: int
    errors: int


class TopAgent(TypedDict):
    agent_id: int
    name: str
    followers: int
    likes_received: int
    posts: int


class EngagementSummaryFile(TypedDict):
    """Counters of replicate 0. A `failed_turns` row is `[round, agent_id, reason]`; an
    `llm_calls` row `[round, agent_id, attempt, prompt_tokens, completion_tokens, status]`."""

    backend: BackendLabel
    replicates: int
    agents: int
    rounds: int
    totals: dict[str, int]
    posts_by_kind: dict[str, int]
    per_round: list[dict[str, int]]
    rejections: dict[str, int]
    insufficient_funds: int
    failed_turns: list[list[int | str]]
    llm: LlmUsage
    llm_calls: list[list[int | str]]
    top_agents: list[TopAgent]


# --- posts.json, top_posts.json, trades.json ---------------------------------------------------


class Post(TypedDict):
    id: int
    round: int
    author_id: int
    author: str
    kind: str
    text: str
    stance: float
    parent_id: int | None
    market_id: str | None
    likes: int
    dislikes: int
    replies: int
    reposts: int


class TopPost(Post):
    score: float


class PostsFile(TypedDict):
    posts: list[Post]


class TopPostsFile(TypedDict):
    posts: list[TopPost]


class Trade(TypedDict):
    id: int
    round: int
    agent_id: int
    market_id: str
    side: str
    outcome: str
    shares: float
    cash: float
    price_before: float
    price_after: float


class TradesFile(TypedDict):
    trades: list[Trade]


# --- social_graph.json -------------------------------------------------------------------------


class GraphNode(TypedDict):
    id: int
    name: str
    entity_id: str
    followers: int
    following: int
    position: float


class FollowEdge(TypedDict):
    source: int
    target: int
    type: str


class SocialGraphFile(TypedDict):
    nodes: list[GraphNode]
    edges: list[FollowEdge]


# --- profiles.json -----------------------------------------------------------------------------


class Traits(TypedDict):
    activity: float
    sociability: float
    trader: float
    stubbornness: float


class StartingView(TypedDict):
    position: float
    confidence: float
    beliefs: dict[str, float]


class FinalView(StartingView):
    reasons: dict[str, str]


class Holding(TypedDict):
    yes: float
    no: float


class ProfileStats(TypedDict):
    posts: int
    likes_received: int
    dislikes_received: int
    trades: int
    rejected_actions: int
    followers: int
    following: int


class Profile(TypedDict):
    agent_id: int
    name: str
    entity_id: str
    kind: str
    summary: str
    enriched_summary: str
    traits: Traits
    initial: StartingView
    final: FinalView
    lean: float
    cash: float
    holdings: dict[str, Holding]
    portfolio_value: float
    pnl: float
    stats: ProfileStats


class ProfilesFile(TypedDict):
    agents: list[Profile]


# --- chat_log.json -----------------------------------------------------------------------------


class ChatEntry(TypedDict):
    """`entity_id`: the entity the author speaks for (profiles.json), so a reader can tie an entry
    to the entity graph's nodes."""

    round: int
    kind: str
    author_id: int
    author: str
    entity_id: NotRequired[str]
    text: str


class ChatThought(ChatEntry):
    """An agent's private note (LLM backends only)."""


class ChatPost(ChatEntry):
    """A post, reply, repost or market comment; `reply_to_author` for replies and reposts."""

    post_id: int
    parent_id: int | None
    market_id: str | None
    reply_to_author: NotRequired[str]


class ChatTrade(ChatEntry):
    """A filled order, as in trades.json: `side` buy or sell, `outcome` yes or no, `cash` paid or
    received, prices the YES price around it; `text` says the same in one line."""

    trade_id: int
    market_id: str
    side: NotRequired[str]
    outcome: NotRequired[str]
    shares: NotRequired[float]
    cash: NotRequired[float]
    price_before: NotRequired[float]
    price_after: NotRequired[float]


class ChatNews(TypedDict):
    """A scheduled event entering every agent's feed (`kind` "news"), placed before the posts of
    its round; it has no author."""

    round: int
    kind: str
    day: int
    headline: str
    text: str
    favours: str


class ChatLogFile(TypedDict):
    entries: list[ChatNews | ChatThought | ChatPost | ChatTrade]


# --- relations.json ----------------------------------------------------------------------------


class Relation(TypedDict):
    source: str
    target: str
    source_name: str
    target_name: str
    type: str
    weight: float
    origin: str
    evidence: list[str]


class RelationsFile(TypedDict):
    relations: list[Relation]


# --- the files ---------------------------------------------------------------------------------

# Every file the runner uploads, in upload order, with its shape; sim_data_available turns true
# only when all of them exist.
ArtifactFiles = TypedDict(
    "ArtifactFiles",
    {
        "market_curves.json": MarketCurvesFile,
        "agent_trajectories.json": AgentTrajectoriesFile,
        "engagement_summary.json": EngagementSummaryFile,
        "top_posts.json": TopPostsFile,
        "posts.json": PostsFile,
        "trades.json": TradesFile,
        "social_graph.json": SocialGraphFile,
        "profiles.json": ProfilesFile,
        "chat_log.json": ChatLogFile,
        "relations.json": RelationsFile,
    },
)
ARTIFACT_NAMES: tuple[str, ...] = tuple(ArtifactFiles.__annotations__)
# Written by the reporter, after the runner's artifacts.
REPORT_NAME = "report.md"
# The runner's resumable state, overwritten every round.
CHECKPOINT_NAME = "checkpoint"


class ArtifactError(Exception):
    """An artifact is missing, not JSON, or not of the contract's shape (permanent: retrying
    cannot fix the bytes)."""


def job_prefix(job_id: int) -> str:
    return f"sim-data/{job_id}/"


def artifact_key(job_id: int, name: str) -> str:
    return f"{job_prefix(job_id)}{name}"


def dump_artifact(body: object) -> bytes:
    """Canonical JSON: sorted keys, fixed separators, UTF-8, no NaN (the bytes depend only on the
    content, so a resumed heuristic run writes the same bytes)."""
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def load_artifact(name: str, raw: bytes) -> Any:
    """The JSON of artifact `name`, unchecked; `ArtifactError` when it is not JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactError(f"{name} is not valid JSON: {exc}") from None


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    # pydantic only here: the engine imports this module to write artifacts and must not pay for it
    from pydantic import TypeAdapter

    return TypeAdapter(ArtifactFiles.__annotations__[name])


def validate_artifact(name: str, raw: bytes) -> Any:
    """Artifact `name` checked against its shape in full: every field present with its type (no
    coercion) and no field the contract does not name; `ArtifactError` says what differs."""
    if name not in ArtifactFiles.__annotations__:
        raise ArtifactError(f"{name} is not an artifact")
    from pydantic import ValidationError

    adapter = _adapter(name)
    body = load_artifact(name, raw)
    try:
        checked = adapter.validate_python(body, strict=True)
    except ValidationError as exc:
        raise ArtifactError(f"{name} does not match the contract: {exc}") from None
    # validation drops keys the shape does not name: any difference is such a key
    if adapter.dump_python(checked, mode="json") != body:
        raise ArtifactError(f"{name} holds fields the contract does not name")
    return checked
