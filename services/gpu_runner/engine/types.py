"""Plain data types of the simulation.

Every mutable container here is insertion-ordered (lists and dicts, never sets) so that iteration
order - and therefore every artifact - is a pure function of the seed and the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENTITY_KINDS = ("person", "organisation", "faction", "viewpoint")
POST_KINDS = ("post", "reply", "repost", "market_comment")


@dataclass(frozen=True, slots=True)
class Entity:
    """Someone or something with a stake in the goal, extracted from the seed.

    Invariants: ``kind`` is one of :data:`ENTITY_KINDS`; ``stance`` in [-1, 1] (-1 = expects / wants
    the goal's outcome not to happen, +1 = expects it to happen); ``id`` is unique in a run.
    """

    id: str
    name: str
    kind: str
    summary: str
    stance: float
    mentions: int = 1


@dataclass(frozen=True, slots=True)
class Relation:
    """A typed, directed link between two entities (from the seed or from the simulation).

    Invariants: ``source != target``; ``weight`` > 0; ``origin`` is ``"seed"`` or ``"simulation"``.
    """

    source: str
    target: str
    type: str
    weight: float
    origin: str
    evidence: tuple[str, ...] = ()


MARKET_KINDS = ("goal", "stakeholder", "milestone", "llm")


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A binary prediction market (one row of ``markets_config``); ``m1`` is always the goal.

    Invariants: ``0 < initial_price_yes < 1`` (the opening price; prices then move by trades
    alone); ``link`` in [-1, 1] says how a YES on this market co-moves with the goal (+1 = same
    event, -1 = its opposite) and only tilts partisan agents' priors; ``resolution`` says how the
    market settles; ``prior`` (None or in (0, 1)) is the seed-evidence base rate the heuristic
    policy starts its agents from (None: the opening price); ``kind`` is one of
    :data:`MARKET_KINDS`.
    """

    id: str
    question: str
    initial_price_yes: float
    rationale: str
    link: float = 1.0
    resolution: str = ""
    prior: float | None = None
    kind: str = "goal"

    def __post_init__(self) -> None:
        if not 0.0 < self.initial_price_yes < 1.0:
            raise ValueError("initial_price_yes must be within (0, 1)")
        if not -1.0 <= self.link <= 1.0:
            raise ValueError("link must be within [-1, 1]")
        if self.prior is not None and not 0.0 < self.prior < 1.0:
            raise ValueError("prior must be within (0, 1)")
        if self.kind not in MARKET_KINDS:
            raise ValueError(f"kind must be one of {MARKET_KINDS}")

    def to_config(self) -> dict[str, Any]:
        """The ``markets_config`` row: every field, so a re-dispatch rebuilds the same market."""
        return {
            "id": self.id,
            "question": self.question,
            "initial_price_yes": self.initial_price_yes,
            "rationale": self.rationale,
            "link": self.link,
            "resolution": self.resolution,
            "prior": self.prior,
            "kind": self.kind,
        }

    @classmethod
    def from_config(cls, row: dict[str, Any]) -> MarketSpec:
        """Inverse of :meth:`to_config`; raises ValueError (or KeyError/TypeError) on a bad row."""
        prior = row.get("prior")
        return cls(
            id=str(row["id"]),
            question=str(row["question"]),
            initial_price_yes=float(row["initial_price_yes"]),
            rationale=str(row.get("rationale", "")),
            link=float(row.get("link", 1.0)),
            resolution=str(row.get("resolution", "")),
            prior=None if prior is None else float(prior),
            kind=str(row.get("kind", "goal")),
        )


P_MIN = 0.01  # stated probabilities are recorded within [P_MIN, P_MAX]: log-odds stay finite
P_MAX = 0.99


@dataclass(slots=True)
class BeliefState:
    """What an agent last stated: a probability and a one-line reason per market, and how sure it is.

    Invariants: ``probabilities`` has one entry per market, each in [P_MIN, P_MAX];
    ``reasons`` has one (possibly empty) line per market; ``confidence`` in
    [CONF_MIN, CONF_MAX] of :mod:`.beliefs`. The belief changes only when the agent states a new one.
    """

    probabilities: dict[str, float]
    reasons: dict[str, str]
    confidence: float


@dataclass(slots=True)
class Agent:
    """A persona taking part in the simulation, with its stated beliefs, wallet and social ties.

    Invariants: ``lean`` in [-1, 1] is the persona's partisan lean on the goal as asked (from the
    seed); ``prior`` holds its starting probability per market (the heuristic policy's anchor);
    ``cash >= 0``; every holding ``>= 0``; ``holdings[m]`` is ``[yes_shares, no_shares]``;
    ``follows`` is an ordered set (dict with None values) of other agents' ids, never its own;
    ``trust`` values in [0, 1]; ``recent_actions`` holds at most RECENT_ACTIONS entries;
    ``reactions`` is ``[likes, dislikes]`` its posts received in the last round.
    """

    id: int
    name: str
    entity_id: str
    kind: str
    summary: str
    activity: float
    sociability: float
    trader: float
    stubbornness: float
    lean: float
    prior: dict[str, float]
    belief: BeliefState
    cash: float
    holdings: dict[str, list[float]]
    follows: dict[int, None] = field(default_factory=dict)
    trust: dict[int, float] = field(default_factory=dict)
    followers: int = 0
    recent_actions: list[str] = field(default_factory=list)
    last_feed: tuple[int, ...] = ()
    reactions: list[int] = field(default_factory=lambda: [0, 0])
    posts: int = 0
    likes_received: int = 0
    dislikes_received: int = 0
    trades: int = 0
    rejected: int = 0


@dataclass(slots=True)
class Post:
    """Anything shown in the feed: a post, a reply, a repost or a comment on a market.

    Invariants: ``kind`` in :data:`POST_KINDS`; ``parent_id`` is set for replies and reposts and
    refers to an earlier post; ``market_id`` is set for market comments; ``stance`` in [-1, 1] is
    the author's position ``2p - 1`` on what the post speaks about (the goal, or the commented
    market); counters are non-negative.
    """

    id: int
    round: int
    author: int
    kind: str
    text: str
    stance: float
    parent_id: int | None = None
    market_id: str | None = None
    likes: int = 0
    dislikes: int = 0
    replies: int = 0
    reposts: int = 0


@dataclass(frozen=True, slots=True)
class Trade:
    """One filled order against an LMSR market maker.

    Invariants: ``side`` in {buy, sell}; ``outcome`` in {yes, no}; ``shares > 0``; ``cash > 0`` is
    what the agent paid (buy) or received (sell); prices are the YES price around the trade.
    """

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


@dataclass(frozen=True, slots=True)
class RoundSnapshot:
    """What one round looked like in aggregate (one entry of the live progress and curves).

    Invariants: ``prices`` has one YES price in (0, 1) per market; ``beliefs`` one pooled stated
    probability in (0, 1) per market (confidence-weighted, in log-odds); volumes are non-negative;
    ``goal_probability`` is ``beliefs`` of the goal market and ``goal_spread`` the weighted standard
    deviation of the agents' goal probabilities.
    """

    round: int
    prices: dict[str, float]
    beliefs: dict[str, float]
    volume_shares: dict[str, float]
    volume_cash: dict[str, float]
    actions: dict[str, int]
    goal_probability: float
    goal_spread: float


MAX_REPLICATES = 32


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """What to simulate.

    Invariants: ``agents >= 1``; ``rounds >= 1``; ``1 <= replicates <= MAX_REPLICATES``;
    ``1 <= max_markets <= 5``; ``initial_cash > 0``; ``market_subsidy > 0`` (the LMSR market
    maker's worst-case loss per market: liquidity never depends on the agent count);
    ``feed_size >= 1``; ``prompt_tokens >= 1024`` (an LLM agent's whole prompt stays within it).
    """

    agents: int = 20
    rounds: int = 15
    seed: int = 0
    replicates: int = 1
    max_markets: int = 3
    max_entities: int = 12
    initial_cash: float = 100.0
    market_subsidy: float = 15.0
    feed_size: int = 8
    forecast_days: int = 30
    max_actions: int = 4
    temperature: float = 0.7
    max_tokens: int = 400
    prompt_tokens: int = 2048

    def __post_init__(self) -> None:
        if self.agents < 1 or self.rounds < 1:
            raise ValueError("agents and rounds must be >= 1")
        if not 1 <= self.replicates <= MAX_REPLICATES:
            raise ValueError(f"replicates must be within 1..{MAX_REPLICATES}")
        if not 1 <= self.max_markets <= 5:
            raise ValueError("max_markets must be within 1..5")
        if self.initial_cash <= 0 or self.market_subsidy <= 0:
            raise ValueError("initial_cash and market_subsidy must be > 0")
        if self.feed_size < 1 or self.max_actions < 1 or self.max_entities < 2:
            raise ValueError("feed_size, max_actions must be >= 1 and max_entities >= 2")
        if self.prompt_tokens < 1024:
            raise ValueError("prompt_tokens must be >= 1024")

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """What the engine reports to the runner after each stage step and each round."""

    stage: int
    stage_name: str
    round: int
    max_rounds: int
    agents: int
    posts: int
    trades: int
    prices: dict[str, float]
    log: tuple[str, ...]
    # ``markets_config`` rows once the markets are derived (empty before building).
    markets: tuple[dict[str, Any], ...] = ()
    replicates: int = 1
    # The running goal forecast (pooled stated beliefs, mean over replicates); None before round 1.
    goal_belief: float | None = None


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a finished run hands back.

    ``artifacts`` maps the ten file names of docs/artifacts.md to canonical JSON bytes (replicate 0's posts,
    trades and agents; every replicate's curves); ``result_graph`` is the entity graph; ``summary``
    holds the forecast (the shape of docs/forecasting.md §4, over all replicates), the evidence and
    the run's counters.
    All of it is deterministic for the heuristic backend.
    """

    artifacts: dict[str, bytes]
    result_graph: dict[str, Any]
    markets_config: list[dict[str, Any]]
    summary: dict[str, Any]
    entities: list[Entity]
