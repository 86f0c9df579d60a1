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


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """A binary prediction market derived from the goal (one row of ``markets_config``).

    Invariants: ``0 < initial_price_yes < 1``; ``link`` in [-1, 1] says how a YES on this market
    co-moves with the goal (+1 = same event, -1 = its opposite), used to map an agent's position on
    the goal to its subjective probability for this market.
    """

    id: str
    question: str
    initial_price_yes: float
    rationale: str
    link: float = 1.0

    def to_config(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "initial_price_yes": self.initial_price_yes,
            "rationale": self.rationale,
        }


@dataclass(slots=True)
class BeliefState:
    """An agent's current view of the goal.

    Invariants: ``position`` in [-1, 1] (its subjective probability of the goal is
    ``(position + 1) / 2``); ``confidence`` in [CONF_MIN, CONF_MAX] of :mod:`.beliefs`.
    """

    position: float
    confidence: float

    @property
    def probability(self) -> float:
        return (self.position + 1.0) / 2.0


@dataclass(slots=True)
class Agent:
    """A persona taking part in the simulation, with its beliefs, wallet and social ties.

    Invariants: ``anchor`` in [-1, 1] is the persona's original stance; ``cash >= 0``; every
    holding ``>= 0``; ``holdings[m]`` is ``[yes_shares, no_shares]``;
    ``follows`` is an ordered set (dict with None values) of other agents' ids, never its own;
    ``trust`` values in [0, 1]; ``recent_actions`` holds at most RECENT_ACTIONS entries.
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
    anchor: float
    belief: BeliefState
    cash: float
    holdings: dict[str, list[float]]
    follows: dict[int, None] = field(default_factory=dict)
    trust: dict[int, float] = field(default_factory=dict)
    followers: int = 0
    recent_actions: list[str] = field(default_factory=list)
    last_feed: tuple[int, ...] = ()
    posts: int = 0
    likes_received: int = 0
    dislikes_received: int = 0
    trades: int = 0
    rejected: int = 0


@dataclass(slots=True)
class Post:
    """Anything shown in the feed: a post, a reply, a repost or a comment on a market.

    Invariants: ``kind`` in :data:`POST_KINDS`; ``parent_id`` is set for replies and reposts and
    refers to an earlier post; ``market_id`` is set for market comments; ``stance`` in [-1, 1];
    counters are non-negative.
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

    Invariants: ``prices`` has one YES price in (0, 1) per market; volumes are non-negative.
    """

    round: int
    prices: dict[str, float]
    volume_shares: dict[str, float]
    volume_cash: dict[str, float]
    actions: dict[str, int]
    goal_probability: float
    goal_spread: float


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """What to simulate.

    Invariants: ``agents >= 1``; ``rounds >= 1``; ``1 <= max_markets <= 5``; ``initial_cash > 0``;
    ``liquidity_b`` is None (chosen from the agent count) or > 0; ``feed_size >= 1``.
    """

    agents: int = 20
    rounds: int = 15
    seed: int = 0
    max_markets: int = 3
    max_entities: int = 12
    initial_cash: float = 100.0
    liquidity_b: float | None = None
    feed_size: int = 8
    forecast_days: int = 30
    max_actions: int = 4
    temperature: float = 0.7
    max_tokens: int = 400

    def __post_init__(self) -> None:
        if self.agents < 1 or self.rounds < 1:
            raise ValueError("agents and rounds must be >= 1")
        if not 1 <= self.max_markets <= 5:
            raise ValueError("max_markets must be within 1..5")
        if self.initial_cash <= 0 or (self.liquidity_b is not None and self.liquidity_b <= 0):
            raise ValueError("initial_cash and liquidity_b must be > 0")
        if self.feed_size < 1 or self.max_actions < 1 or self.max_entities < 2:
            raise ValueError("feed_size, max_actions must be >= 1 and max_entities >= 2")

    @property
    def liquidity(self) -> float:
        """LMSR ``b``: by default it grows with the crowd so one agent moves a price a little."""
        if self.liquidity_b is not None:
            return self.liquidity_b
        return max(30.0, 1.5 * self.initial_cash * self.agents**0.5)

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


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Everything a finished run hands back.

    ``artifacts`` maps the ten file names of DESIGN §6 to canonical JSON bytes; ``result_graph`` is
    the entity graph; ``summary`` holds the forecast (per-market probabilities, the belief-weighted
    goal probability with its spread) and the run's counters. All of it is deterministic for the
    heuristic backend.
    """

    artifacts: dict[str, bytes]
    result_graph: dict[str, Any]
    markets_config: list[dict[str, Any]]
    summary: dict[str, Any]
    entities: list[Entity]
