"""The state of a run and the rules that change it: feeds, applying actions, closing a round.

A round is simultaneous: every agent decides from the state at the start of the round (its feed,
the prices, its wallet), then all turns are applied in a seeded random order - so the LLM calls of
a round can all be in flight together, and the heuristic and LLM paths share one semantics.
Randomness is drawn from ``numpy`` generators keyed by ``(seed, stream, round)``, never carried
between rounds, which makes the state after a round a complete checkpoint.
An action is applied by the handler of its class (``World._HANDLERS``), one small method each,
whose docstring states the invariant it keeps.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

import numpy as np

from services.common.artifacts import NewsEvent
from services.common.scheduled_events import ScheduledEvent, schedule

from . import beliefs, feed
from .actions import (
    Action,
    Buy,
    CommentOnMarket,
    CreatePost,
    Dislike,
    DoNothing,
    Follow,
    Like,
    Reply,
    Repost,
    Sell,
    Turn,
    Unfollow,
    parse_action,
)
from .lmsr import LMSRMarket, TradeRejected
from .types import Agent, BeliefState, Post, RoundSnapshot, Trade

if TYPE_CHECKING:
    from .types import Entity, MarketSpec, Relation, SimulationConfig

RECENT_ACTIONS = 6
MAX_FOLLOWS = 60
MAX_TRUST_ENTRIES = 48
DEFAULT_TRUST = 0.35
FOLLOW_TRUST = 0.3  # added to trust in followed authors
NOTIFY_KEEP = 4  # replies to my posts kept as feed candidates
DISAGREE_REPLY = 0.8  # a reply whose stance is this far from the parent's counts as disagreement
OUTCOMES = {"yes": 0, "no": 1}

# random streams
STREAM_BUILD, STREAM_EXPLORE, STREAM_ORDER, STREAM_POLICY, STREAM_BOOTSTRAP = 0, 1, 2, 3, 4
# An agent's starting probability for market m: sigmoid(logit(base_m) + GAMMA * link_m * lean + eps),
# eps ~ N(0, SIGMA): partisans read the same evidence a little their own way.
GAMMA = 1.0
SIGMA = 0.35

_FIRST = (
    "Ava Ben Chloe Dev Elif Femi Gia Hugo Ines Jon Kira Leo Maya Nico Omar Priya Quinn Rosa Sami "
    "Tara Uma Victor Wen Xena Yusuf Zoe Aldo Bea Cyrus Dana Emil Farah Gus Hana Ivan Jade Kofi Lena "
    "Milo Nia"
).split()


@dataclass(slots=True)
class RoundTally:
    """A round in progress: the feeds its turns were decided on, and what the applied turns did."""

    round: int
    feeds: Sequence[Sequence[int]]
    counts: dict[str, int]
    liked: dict[int, int]  # author -> likes and reposts received this round
    disliked: dict[int, int]  # author -> dislikes and disagreeing replies received this round
    thoughts: list[tuple[int, str]]  # (agent, private note) stated this round (LLM turns)


def rng_for(seed: int, stream: int, round_no: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, stream, round_no])


def replicate_seed(seed: int, replicate: int) -> int:
    """The random seed of replicate ``k`` of a run: the run's own seed for replicate 0, an
    independent stream (``SeedSequence`` spawning) for the others."""
    if replicate == 0:
        return seed
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, replicate]).generate_state(1)[0])


def liquidity(subsidy: float, initial_price_yes: float) -> float:
    """LMSR ``b`` whose worst-case loss is exactly ``subsidy``: ``b = S / ln(1 / min(p0, 1 - p0))``.
    Fixed per market, so liquidity never depends on how many agents trade."""
    return subsidy / math.log(1.0 / min(initial_price_yes, 1.0 - initial_price_yes))


def agent_name(k: int) -> str:
    base = f"{_FIRST[k % len(_FIRST)]} {chr(65 + (k // len(_FIRST)) % 26)}."
    cycle = k // (len(_FIRST) * 26)
    return base if cycle == 0 else f"{base} {cycle + 1}"


def clamp(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _count(counter: dict[Any, int], key: Any) -> None:
    counter[key] = counter.get(key, 0) + 1


def _append_capped(items: list[Any], item: Any, cap: int) -> None:
    """Append ``item``, dropping the oldest entry once ``items`` holds more than ``cap``."""
    items.append(item)
    if len(items) > cap:
        del items[0]


_PostAction = TypeVar("_PostAction", Reply, Like, Dislike, Repost)


def _on_feed_post(
    handler: Callable[[World, Agent, RoundTally, _PostAction, Post, Agent], str | None],
) -> Callable[[World, Agent, RoundTally, _PostAction], str | None]:
    """An action handler on post ``post_id``, rejected unless that post is in the agent's feed this
    round (agents act on what they saw); ``handler`` also gets the post and its author."""

    @functools.wraps(handler)
    def on_visible_post(world: World, agent: Agent, tally: RoundTally, act: _PostAction) -> str | None:
        if act.post_id not in tally.feeds[agent.id]:
            return "post_not_in_feed"
        target = world.posts[act.post_id]
        return handler(world, agent, tally, act, target, world.agents[target.author])

    return on_visible_post


class RoundFeeds(Sequence[list[int]]):
    """The agents' ranked feeds of one round, each built on first use (post ids, best first).

    The shared parts (window scores, the pool, every agent's exploration draws) are computed at once;
    an agent's own feed when it is first asked for, so an LLM round's first requests leave before
    the last feed is ranked. Every feed must be taken before the round's first turn is applied
    (:meth:`World.begin_round` fills the rest), since a feed reads the start-of-round state.
    """

    def __init__(self, world: World, round_no: int) -> None:
        self.world = world
        lo = world.round_first_post[max(0, round_no - 1 - feed.WINDOW)] if world.posts else 0
        window = world.posts[lo:]
        self.scores = feed.score_window(window, round_no)
        self.pool = feed.top_pool(self.scores)
        n = len(world.agents)
        self.explore: list[list[int]] = [[] for _ in range(n)]
        if window:
            first = window[0].id
            picks = rng_for(world.seed, STREAM_EXPLORE, round_no).integers(
                first, first + len(window), size=(n, feed.EXPLORE)
            )
            self.explore = picks.tolist()
        self._feeds: list[list[int] | None] = [None] * n

    def __len__(self) -> int:
        return len(self._feeds)

    @overload
    def __getitem__(self, i: int) -> list[int]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[int]]: ...

    def __getitem__(self, i: int | slice) -> list[int] | list[list[int]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self._feeds)))]
        ranked = self._feeds[i]
        if ranked is None:
            world = self.world
            a = world.agents[i]
            ranked = feed.personal_feed(
                a.id,
                a.follows,
                a.last_feed,
                self.scores,
                self.pool,
                world.posts,
                world.recent_by_author,
                world.replies_to.get(a.id, ()),
                self.explore[a.id],
                world.config.feed_size,
            )
            self._feeds[i] = ranked
        return ranked

    def fill(self) -> list[list[int]]:
        """Every agent's feed (building those not asked for yet)."""
        return [self[i] for i in range(len(self._feeds))]


class World:
    """Everything one replicate of a run knows after its last completed round (``round``; 0 = just
    built). Replicates share the seed text, entities and markets and differ only in ``seed``."""

    def __init__(
        self,
        config: SimulationConfig,
        goal: str,
        entities: list[Entity],
        seed_relations: list[Relation],
        specs: list[MarketSpec],
        meta: dict[str, Any] | None = None,
        passages: Sequence[str] = (),
        replicate: int = 0,
    ) -> None:
        self.config = config
        self.goal = goal
        self.entities = entities
        self.seed_relations = seed_relations
        self.specs = specs
        self.meta = dict(meta or {})
        # The full (enriched) seed in retrieval passages; `library` caches their index (not state).
        self.passages = list(passages)
        self.library: Any = None
        self.cache: dict[str, Any] = {}  # values derived from the state above (never checkpointed)
        self._rounded: dict[float, float] = {}  # see rounded()
        self.replicate = replicate
        self.seed = replicate_seed(config.seed, replicate)
        self.market_ids = [s.id for s in specs]
        self.markets: dict[str, LMSRMarket] = {
            s.id: LMSRMarket(
                liquidity(config.market_subsidy, s.initial_price_yes),
                [s.initial_price_yes, 1.0 - s.initial_price_yes],
            )
            for s in specs
        }
        self.agents: list[Agent] = []
        self.posts: list[Post] = []
        self.trades: list[Trade] = []
        self.round = 0
        self.round_first_post: list[int] = [0]  # id of the first post of each round (index = round)
        self.snapshots: list[RoundSnapshot] = []
        # per round (0 = initial), per agent: stated probability per market (in market order)
        self.stated: list[list[Sequence[float]]] = []
        self.confidences: list[list[float]] = []
        self.reason_log: list[list[Any]] = []  # [round, agent, market_id, reason] when a reason changes
        self.rejections: dict[str, int] = {}
        self.interactions: dict[str, list[Any]] = {}  # "src|dst|type" entity-level -> [count, evidence]
        self.thoughts: dict[int, list[tuple[int, str]]] = {}  # round -> [(agent, thought)] (LLM only)
        self.failed_turns: list[list[Any]] = []  # [round, agent, reason]
        # Scheduled news, (round it enters, event), in round order: the job's own events from the
        # start, a branch's injected ones appended after them (part of the checkpoint).
        self.events: list[tuple[int, ScheduledEvent]] = []
        # derived indexes, rebuilt from posts on resume
        self.recent_by_author: dict[int, list[int]] = {}
        self.replies_to: dict[int, list[int]] = {}

    @property
    def goal_market(self) -> str:
        return self.market_ids[0]

    # -- building ------------------------------------------------------------------------------

    def base_probability(self, spec: MarketSpec) -> float:
        """Where agents start on a market before their lean: its evidence prior, else its opening price."""
        return spec.prior if spec.prior is not None else spec.initial_price_yes

    def build_agents(self) -> None:
        """One agent per entity, then more sampled from the entity mix; priors; an initial follow graph."""
        cfg = self.config
        rng = rng_for(self.seed, STREAM_BUILD, 0)
        ents = self.entities
        weights = np.array([max(1, e.mentions) for e in ents], dtype=float)
        extra = max(0, cfg.agents - len(ents))
        picks = rng.choice(len(ents), size=extra, p=weights / weights.sum()).tolist() if extra else []
        # Viewpoints first: the YES and NO viewpoints take part as a pair or not at all, so a crowd
        # smaller than the entity list is not tilted towards whichever way the question is asked.
        views = [i for i, e in enumerate(ents) if e.kind == "viewpoint"]
        order = views + [i for i in range(len(ents)) if i not in views]
        origin = order[: min(cfg.agents, len(ents))] + picks
        traits = rng.random((len(origin), 6)).tolist()
        # Centred per market: partisans differ from each other, but a small crowd's mean is not
        # shifted by the draw (the evidence alone sets where the crowd starts).
        eps = rng.normal(0.0, SIGMA, (len(origin), len(self.specs)))
        noise = (eps - eps.mean(axis=0) if len(origin) > 1 else eps).tolist()
        base = [beliefs.logit(self.base_probability(s)) for s in self.specs]
        for k, (ei, t, eps) in enumerate(zip(origin, traits, noise, strict=True)):
            ent = ents[ei]
            core = k < len(ents)
            lean = ent.stance if core else clamp(ent.stance + (t[5] - 0.5) * 0.6, -1.0, 1.0)
            name = ent.name if core else agent_name(k)
            summary = ent.summary if core else f"{name}, aligned with {ent.name}. {ent.summary}"[:300]
            prior = {
                s.id: round(beliefs.clip_probability(beliefs.sigmoid(b + GAMMA * s.link * lean + e)), 6)
                for s, b, e in zip(self.specs, base, eps, strict=True)
            }
            self.agents.append(
                Agent(
                    id=k,
                    name=name,
                    entity_id=ent.id,
                    kind=ent.kind if core else "person",
                    summary=summary,
                    activity=0.35 + 0.55 * t[0],
                    sociability=0.25 + 0.65 * t[1],
                    trader=0.15 + 0.55 * t[2],
                    stubbornness=(0.3 if core else 0.05) + 0.4 * t[3],
                    lean=round(lean, 6),
                    prior=prior,
                    belief=BeliefState(
                        dict(prior),
                        dict.fromkeys(prior, ""),
                        round(
                            clamp(
                                0.45 + 0.35 * abs(lean) + 0.1 * (t[4] - 0.5),
                                beliefs.CONF_MIN,
                                beliefs.CONF_MAX,
                            ),
                            6,
                        ),
                    ),
                    cash=cfg.initial_cash,
                    holdings={s.id: [0.0, 0.0] for s in self.specs},
                )
            )
        members: dict[str, list[int]] = {}
        for a in self.agents:
            members.setdefault(a.entity_id, []).append(a.id)
        n = len(self.agents)
        n_core = min(n, len(ents))
        draws = rng.random((n, 8)).tolist()
        for a, d in zip(self.agents, draws, strict=True):
            group = members[a.entity_id]
            targets = [
                int(d[0] * n_core),
                int(d[1] * n_core),
                group[int(d[2] * len(group))],
                int(d[3] * n),
                int(d[4] * n),
            ]
            if d[5] < 0.5:
                targets.append(int(d[6] * n))
            for t in targets:
                self.follow(a, t)
        self.record_beliefs()

    # -- social ---------------------------------------------------------------------------------

    def follow(self, agent: Agent, target: int) -> str | None:
        """Add a follow edge; returns a rejection reason instead when it cannot."""
        if target == agent.id or not 0 <= target < len(self.agents):
            return "invalid_target"
        if target in agent.follows:
            return "already_following"
        if len(agent.follows) >= MAX_FOLLOWS:
            return "follow_limit"
        agent.follows[target] = None
        self.agents[target].followers += 1
        return None

    def trust(self, agent: Agent, author: int) -> float:
        t = agent.trust.get(author, DEFAULT_TRUST)
        return min(1.0, t + FOLLOW_TRUST) if author in agent.follows else t

    def _nudge_trust(self, agent: Agent, author: int, up: bool) -> None:
        t = agent.trust.get(author, DEFAULT_TRUST)
        agent.trust[author] = t + 0.1 * (1.0 - t) if up else t - 0.15 * t
        if len(agent.trust) > MAX_TRUST_ENTRIES:
            # forget the tie that is closest to the default (oldest first on ties)
            drop = min(agent.trust, key=lambda k: abs(agent.trust[k] - DEFAULT_TRUST))
            del agent.trust[drop]

    def _interact(self, src: Agent, dst: Agent, kind: str, evidence: str) -> None:
        if src.entity_id == dst.entity_id:
            return
        key = f"{src.entity_id}|{dst.entity_id}|{kind}"
        slot = self.interactions.get(key)
        if slot is None:
            self.interactions[key] = [1, [evidence]]
        else:
            slot[0] += 1
            if len(slot[1]) < 3:
                slot[1].append(evidence)

    # -- feeds ----------------------------------------------------------------------------------

    def build_feeds(self, round_no: int) -> list[list[int]]:
        """Each agent's ranked feed for ``round_no`` (post ids, best first)."""
        return RoundFeeds(self, round_no).fill()

    # -- applying turns -------------------------------------------------------------------------

    def turn_order(self, round_no: int) -> list[int]:
        """The seeded order in which a round's turns are applied (fair: no agent always goes first)."""
        return rng_for(self.seed, STREAM_ORDER, round_no).permutation(len(self.agents)).tolist()

    def begin_round(self, round_no: int, feeds: Sequence[Sequence[int]]) -> RoundTally:
        if isinstance(feeds, RoundFeeds):
            feeds.fill()  # every feed from the start-of-round state, before any turn changes it
        return RoundTally(round_no, feeds, {}, {}, {}, [])

    def apply_turn(
        self, tally: RoundTally, agent_id: int, turn: Turn | None, reason: str | None = None
    ) -> None:
        """Record one agent's stated beliefs and apply its validated actions. ``turn`` is None when
        the agent's turn failed (invalid twice or a backend error): that is recorded, never silently
        skipped, and its belief stays what it last stated."""
        agent = self.agents[agent_id]
        counts = tally.counts
        r = tally.round
        if turn is None:
            why = reason or "invalid"
            _count(counts, "failed_turn")
            self.failed_turns.append([r, agent_id, why])
            self._remember(agent, f"r{r}: my reply was unusable ({why[:60]})")
            return
        self.state_beliefs(agent, r, turn)
        if turn.thought:
            tally.thoughts.append((agent_id, turn.thought))
        for action in map(parse_action, turn.actions):
            kind = action.kind
            rejected = self._apply(agent, tally, action)
            if rejected is None:
                _count(counts, kind)
            else:
                _count(counts, "rejected")
                _count(self.rejections, f"{kind}:{rejected}")
                agent.rejected += 1
                self._remember(agent, f"r{r}: {kind} rejected ({rejected})")

    def state_beliefs(self, agent: Agent, round_no: int, turn: Turn) -> None:
        """The agent's belief becomes what this turn states (clipped to [P_MIN, P_MAX]); a reason
        that changed goes to the reason log."""
        belief = agent.belief
        probs = belief.probabilities
        reasons = belief.reasons
        for mid, stated in turn.beliefs.items():
            if mid not in probs:
                continue
            probs[mid] = beliefs.clip_probability(stated.probability)
            if stated.reason != reasons[mid]:
                reasons[mid] = stated.reason
                self.reason_log.append([round_no, agent.id, mid, stated.reason])
        if turn.confidence is not None:
            belief.confidence = clamp(turn.confidence, beliefs.CONF_MIN, beliefs.CONF_MAX)

    def end_round(self, tally: RoundTally) -> dict[str, int]:
        """Remember what each agent saw and the reactions it got; close the round."""
        for a, f in zip(self.agents, tally.feeds, strict=True):
            a.last_feed = tuple(f)
            a.reactions = [tally.liked.get(a.id, 0), tally.disliked.get(a.id, 0)]
        if tally.thoughts:
            self.thoughts[tally.round] = sorted(tally.thoughts)
        self._close_round(tally.round, tally.counts)
        return tally.counts

    def apply_turns(
        self,
        round_no: int,
        feeds: Sequence[Sequence[int]],
        turns: Sequence[Turn | None],
        reasons: Sequence[str | None] = (),
    ) -> dict[str, int]:
        """Apply all turns of a round in :meth:`turn_order` and close it; returns the action counts."""
        tally = self.begin_round(round_no, feeds)
        for i in self.turn_order(round_no):
            self.apply_turn(tally, i, turns[i], reasons[i] if i < len(reasons) else None)
        return self.end_round(tally)

    def _remember(self, agent: Agent, line: str) -> None:
        _append_capped(agent.recent_actions, line, RECENT_ACTIONS)

    def _new_post(
        self,
        agent: Agent,
        round_no: int,
        kind: str,
        text: str,
        stance: float,
        parent: int | None = None,
        market: str | None = None,
    ) -> Post:
        post = Post(len(self.posts), round_no, agent.id, kind, text, stance, parent, market)
        self.posts.append(post)
        self._index_post(post)
        agent.posts += 1
        return post

    def _index_post(self, post: Post) -> None:
        """Add a listed post to the derived indexes: its author's recent posts, replies to an author."""
        _append_capped(self.recent_by_author.setdefault(post.author, []), post.id, feed.AUTHOR_RECENT)
        if post.kind == "reply" and post.parent_id is not None:
            parent_author = self.posts[post.parent_id].author
            _append_capped(self.replies_to.setdefault(parent_author, []), post.id, NOTIFY_KEEP)

    def _apply(self, agent: Agent, tally: RoundTally, action: Action) -> str | None:
        """Apply one validated action of ``agent`` by its class; returns why it was rejected, or None."""
        return self._HANDLERS[type(action)](self, agent, tally, action)

    # One handler per action class: each applies a validated action for ``agent`` and returns why
    # it was rejected (state unchanged), or None. ``_HANDLERS`` below maps the class to it.

    def _do_nothing(self, agent: Agent, tally: RoundTally, act: DoNothing) -> str | None:
        """Changes no state (it is still counted, so a quiet turn shows in the round's tally)."""
        return None

    def _create_post(self, agent: Agent, tally: RoundTally, act: CreatePost) -> str | None:
        """Adds one post by the agent; post ids stay dense (``posts[i].id == i``)."""
        post = self._new_post(agent, tally.round, "post", act.text, act.stance)
        self._remember(agent, f"r{tally.round}: posted #{post.id} ({act.stance:+.2f})")
        return None

    @_on_feed_post
    def _reply(self, agent: Agent, tally: RoundTally, act: Reply, target: Post, author: Agent) -> str | None:
        """Only to a post in the agent's feed; the parent's ``replies`` counts its replies."""
        post = self._new_post(agent, tally.round, "reply", act.text, act.stance, parent=act.post_id)
        target.replies += 1
        if abs(act.stance - target.stance) >= DISAGREE_REPLY:
            _count(tally.disliked, author.id)
        self._interact(agent, author, "replies", f"post:{post.id}")
        self._remember(agent, f"r{tally.round}: replied #{post.id} to #{act.post_id} by {author.name}")
        return None

    @_on_feed_post
    def _like(self, agent: Agent, tally: RoundTally, act: Like, target: Post, author: Agent) -> str | None:
        """Only a post in the agent's feed; its author's likes and the agent's trust in it rise."""
        self._react(agent, tally, target, author, True)
        return None

    @_on_feed_post
    def _dislike(
        self, agent: Agent, tally: RoundTally, act: Dislike, target: Post, author: Agent
    ) -> str | None:
        """Only a post in the agent's feed; its author's dislikes rise, the agent's trust in it falls."""
        self._react(agent, tally, target, author, False)
        return None

    def _react(self, agent: Agent, tally: RoundTally, target: Post, author: Agent, like: bool) -> None:
        """A like or dislike: post and author counters move together; trust stays within [0, 1]."""
        if like:
            target.likes += 1
            author.likes_received += 1
        else:
            target.dislikes += 1
            author.dislikes_received += 1
        _count(tally.liked if like else tally.disliked, author.id)
        self._nudge_trust(agent, author.id, like)
        self._interact(agent, author, "likes" if like else "dislikes", f"post:{target.id}")
        self._remember(
            agent, f"r{tally.round}: {'liked' if like else 'disliked'} #{target.id} by {author.name}"
        )

    @_on_feed_post
    def _repost(
        self, agent: Agent, tally: RoundTally, act: Repost, target: Post, author: Agent
    ) -> str | None:
        """Only a post in the agent's feed; the copy keeps its text and stance and points to it."""
        post = self._new_post(agent, tally.round, "repost", target.text, target.stance, parent=act.post_id)
        target.reposts += 1
        _count(tally.liked, author.id)
        self._interact(agent, author, "reposts", f"post:{post.id}")
        self._remember(agent, f"r{tally.round}: reposted #{act.post_id} by {author.name}")
        return None

    def _follow(self, agent: Agent, tally: RoundTally, act: Follow) -> str | None:
        """Never follows itself, twice or past MAX_FOLLOWS; ``followers`` counts the follow edges."""
        reason = self.follow(agent, act.agent_id)
        if reason is None:
            followed = self.agents[act.agent_id]
            self._interact(agent, followed, "follows", f"round:{tally.round}")
            self._remember(agent, f"r{tally.round}: followed {followed.name}")
        return reason

    def _unfollow(self, agent: Agent, tally: RoundTally, act: Unfollow) -> str | None:
        """Only an existing follow edge; ``followers`` counts the follow edges."""
        if act.agent_id not in agent.follows:
            return "not_following"
        del agent.follows[act.agent_id]
        followed = self.agents[act.agent_id]
        followed.followers -= 1
        self._remember(agent, f"r{tally.round}: unfollowed {followed.name}")
        return None

    def _comment_on_market(self, agent: Agent, tally: RoundTally, act: CommentOnMarket) -> str | None:
        """Only on a market of this run; the comment's stance is the agent's ``2p - 1`` there."""
        if act.market_id not in self.markets:
            return "unknown_market"
        position = 2.0 * agent.belief.probabilities[act.market_id] - 1.0
        post = self._new_post(agent, tally.round, "market_comment", act.text, position, market=act.market_id)
        self._remember(agent, f"r{tally.round}: commented #{post.id} on {act.market_id}")
        return None

    def _buy(self, agent: Agent, tally: RoundTally, act: Buy) -> str | None:
        """Never spends more than the agent's cash (no negative cash); LMSR prices still sum to 1."""
        return self._trade(agent, tally.round, act, amount=act.amount)

    def _sell(self, agent: Agent, tally: RoundTally, act: Sell) -> str | None:
        """Never sells more shares than held (no negative holdings); LMSR prices still sum to 1."""
        return self._trade(agent, tally.round, act, shares=act.shares)

    def _trade(self, agent: Agent, r: int, act: Buy | Sell, **size: float) -> str | None:
        """Fill a buy or sell of ``size`` (``amount`` of cash or ``shares``) against the market maker
        and record the trade (with the YES price around it)."""
        market_id, side, outcome = act.market_id, act.kind, act.outcome
        market = self.markets.get(market_id)
        if market is None:
            return "unknown_market"
        i = OUTCOMES[outcome]
        holdings = agent.holdings[market_id]
        try:
            fill, agent.cash = market.execute(holdings, agent.cash, side, i, **size)
        except TradeRejected as exc:
            return exc.reason
        yes_before = fill.price_before if i == 0 else 1.0 - fill.price_before
        yes_after = fill.price_after if i == 0 else 1.0 - fill.price_after
        self.trades.append(
            Trade(
                len(self.trades),
                r,
                agent.id,
                market_id,
                side,
                outcome,
                fill.shares,
                fill.cash,
                yes_before,
                yes_after,
            )
        )
        agent.trades += 1
        self._remember(
            agent,
            f"r{r}: {'bought' if side == 'buy' else 'sold'} {fill.shares:.1f} "
            f"{outcome.upper()} on {market_id} for {fill.cash:.2f}",
        )
        return None

    _HANDLERS: ClassVar[dict[type[Action], Callable[[World, Agent, RoundTally, Any], str | None]]] = {
        DoNothing: _do_nothing,
        CreatePost: _create_post,
        Reply: _reply,
        Like: _like,
        Dislike: _dislike,
        Repost: _repost,
        Follow: _follow,
        Unfollow: _unfollow,
        CommentOnMarket: _comment_on_market,
        Buy: _buy,
        Sell: _sell,
    }

    # -- end of round ---------------------------------------------------------------------------

    def record_beliefs(self) -> None:
        """Append this round's stated beliefs (rounded: they are for export, the live state is exact)."""
        ids = self.market_ids
        rounded = self.rounded
        self.stated.append([tuple(rounded(a.belief.probabilities[m]) for m in ids) for a in self.agents])
        self.confidences.append([rounded(a.belief.confidence) for a in self.agents])

    def rounded(self, x: float) -> float:
        """``round(x, 4)``, as one shared object per value: a run records a value per agent, market
        and round, and the 4-digit values in (0, 1) are few."""
        value = round(x, 4)
        if value.__class__ is not float or not 0.0 < value < 1.0:
            return value
        return self._rounded.setdefault(value, value)

    def pooled_beliefs(self) -> dict[str, float]:
        """Per market, the agents' stated probabilities pooled in log-odds, weighted by confidence."""
        weights = [a.belief.confidence for a in self.agents]
        return {
            m: beliefs.pool([a.belief.probabilities[m] for a in self.agents], weights)
            for m in self.market_ids
        }

    def _close_round(self, round_no: int, counts: dict[str, int]) -> None:
        volume_shares: dict[str, float] = {}
        volume_cash: dict[str, float] = {}
        for mid, market in self.markets.items():
            volume_shares[mid], volume_cash[mid] = market.close_round()
        self.record_beliefs()
        pooled = self.pooled_beliefs()
        goal = self.goal_market
        spread = beliefs.spread(
            [a.belief.probabilities[goal] for a in self.agents], [a.belief.confidence for a in self.agents]
        )
        self.snapshots.append(
            RoundSnapshot(
                round=round_no,
                prices={m: mk.history[-1][0] for m, mk in self.markets.items()},
                beliefs=pooled,
                volume_shares=volume_shares,
                volume_cash=volume_cash,
                actions=dict(sorted(counts.items())),
                goal_probability=pooled[goal],
                goal_spread=spread,
            )
        )
        self.round = round_no
        self.round_first_post.append(len(self.posts))

    # -- scheduled news -------------------------------------------------------------------------

    def schedule_events(self, events: Sequence[ScheduledEvent], first_round: int = 1) -> None:
        """Add ``events`` at the rounds their days fall in, never before ``first_round`` (day 0 enters
        ``first_round``). Events already scheduled keep their place: within a round they come first."""
        if not events:
            return
        added = schedule(events, self.config.rounds, self.config.forecast_days, first_round=first_round)
        self.events = sorted([*self.events, *added], key=lambda pair: pair[0])

    def news_at(self, round_no: int) -> list[ScheduledEvent]:
        """The events that enter every agent's feed in round ``round_no``, in schedule order."""
        return [ev for r, ev in self.events if r == round_no]

    def news_rows(self) -> list[NewsEvent]:
        """The events played so far, as the artifacts list them (``{round, day, headline, text,
        favours}``, in schedule order)."""
        return [
            {"round": r, "day": ev.day, "headline": ev.headline, "text": ev.text, "favours": ev.favours}
            for r, ev in self.events
            if r <= self.round
        ]

    # -- views ----------------------------------------------------------------------------------

    def prices(self) -> dict[str, float]:
        return {m: mk.prices()[0] for m, mk in self.markets.items()}

    def volume_cash(self, market_id: str) -> float:
        return self.markets[market_id].volume_cash

    def rebuild_indexes(self) -> None:
        """Recompute the derived per-author and reply indexes from the post list (after resume)."""
        self.recent_by_author = {}
        self.replies_to = {}
        for post in self.posts:
            self._index_post(post)
