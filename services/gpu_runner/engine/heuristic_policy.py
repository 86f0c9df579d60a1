"""The heuristic persona policy: seeded rules that play the same turn schema as an LLM.

Each round every agent first *states* its probability for each market with a one-line reason,
formed by the social-influence model of :mod:`.beliefs` (its prior from the seed's evidence, the
posts it saw from people it trusts, the market price), then acts: reacts to posts it agrees or
disagrees with, follows people it likes, posts its view, and trades towards a fractional-Kelly
target position (so its cash lasts the run).

**News.** A scheduled event that favours YES or NO (:mod:`services.common.scheduled_events`) is
evidence: in its round every agent's log-odds for market ``m`` move by
``NEWS_STEP * sign * link_m * openness(confidence) / openness(CONF_MIN)`` (sign +1 for YES, -1 for
NO), both its stated belief and its anchor (the prior it is pulled back to), so the news is not
forgotten as the rounds pass. An open, unsure agent moves almost the full step, a sure one about a
third of it; neutral news moves nobody. Markets move only through the trades that follow.

All randomness comes from one ``numpy`` draw per round
keyed by ``(seed, round)``: agent ``i`` uses row ``i`` only, so its decision does not depend on the
order agents are processed in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from services.common.questions import analyze_goal
from services.common.scheduled_events import ScheduledEvent

from . import beliefs
from .types import Agent, Post
from .world import STREAM_POLICY, World, rng_for

DRAWS = 14  # uniforms per agent per round
EDGE = 0.02  # minimum |belief - price| worth trading
KELLY = 0.3  # fraction of the Kelly stake: target net YES = KELLY * bankroll * (q - p) / (p (1 - p))
DERIVED_TRADE = 0.5  # chance a trading agent also trades its best derived market this round
MIN_TRADE = 0.01  # smallest order worth placing, in cash (a cent: crowds trade in small pieces)
W_PRICE = 0.5  # the most a price counts for, in units of one fully trusted post (see beliefs.market_weight)
MOVED = 0.05  # a statement this far from the prior is explained by the feed, not by the seed
REASON_CHARS = 160
# Log-odds step of one piece of news favouring a side, for the most open agent (odds x e).
NEWS_STEP = 1.0
NEWS_SIGN = {"yes": 1.0, "no": -1.0}

_FOR = (
    "I'm increasingly convinced: {goal}.",
    "Everything I read points one way - {goal}.",
    "{entity} is right on this one; I expect that {goal}.",
    "Momentum is building. I'd bet on it: {goal}.",
    "The evidence keeps stacking up in favour: {goal}.",
)
_AGAINST = (
    "I doubt that {goal}.",
    "The case that {goal} keeps getting weaker.",
    "{entity} has this wrong - I don't expect it.",
    "Too many obstacles. I'd bet against it: {goal}.",
    "People underestimate the resistance here; that {goal} is a long shot.",
)
_UNSURE = (
    "Still undecided on whether {goal}.",
    "Mixed signals on this: {goal}? Watching the markets.",
    "What would {entity} need to see before committing either way?",
)
_AGREE = ("Agreed, {author}. {why}", "Exactly this, {author}. {why}", "{author} makes the key point here.")
_DISAGREE = (
    "{author}, I don't buy it. {why}",
    "Respectfully, {author}: the evidence says otherwise.",
    "{author} is overconfident. {why}",
)
_WHY_FOR = ("The numbers point that way.", "Support is broadening.", "The incentives line up.")
_WHY_AGAINST = ("The obstacles are real.", "Nothing has actually changed.", "The numbers don't add up.")


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[int(u * len(options)) % len(options)]


@lru_cache(maxsize=256)
def proposition(goal: str) -> str:
    analysis = analyze_goal(goal)
    text = (analysis.proposition or analysis.question or goal).strip().rstrip("?.! ")
    return text if len(text) <= 90 else text[:89].rstrip() + "…"


def post_text(world: World, position: float, u: float, v: float) -> str:
    goal = proposition(world.goal)
    entity = world.entities[int(v * len(world.entities)) % len(world.entities)].name
    templates = _FOR if position > 0.2 else _AGAINST if position < -0.2 else _UNSURE
    text = _pick(templates, u).format(goal=goal, entity=entity)
    # few distinct texts (templates x entities): one shared string each, not one per post
    texts: dict[str, str] = world.cache.setdefault("heuristic.post_texts", {})
    return texts.setdefault(text, text)


def _evidence_line(world: World) -> str:
    """The seed's strongest fact, as an agent would cite it (cached on the world's meta)."""
    cached = world.cache.get("evidence_line")
    if isinstance(cached, str):
        return cached
    items = (world.meta.get("evidence") or {}).get("items") or []
    if items:
        top = max(items, key=lambda it: abs(float(it.get("weight", 0.0))))
        line = f"The seed: {' '.join(str(top.get('text', '')).split())}"
    else:
        line = "The seed gives little hard evidence either way."
    line = line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1].rstrip() + "…"
    world.cache["evidence_line"] = line
    return line


def news_shift(world: World, agent: Agent, events: list[ScheduledEvent]) -> dict[str, float]:
    """How far ``events`` (one round's news) move the agent's log-odds on each market."""
    scale = beliefs.openness(agent.belief.confidence) / beliefs.openness(beliefs.CONF_MIN)
    push = sum(NEWS_SIGN.get(ev.favours, 0.0) for ev in events) * NEWS_STEP * scale
    return {s.id: push * s.link for s in world.specs}


def hear_news(world: World, round_no: int) -> list[dict[str, float]]:
    """Round ``round_no``'s news as evidence: moves every agent's anchor (prior) by its
    :func:`news_shift` and returns the shifts (agent order), which move its stated belief too."""
    events = world.news_at(round_no)
    if not any(ev.favours in NEWS_SIGN for ev in events):
        return [{} for _ in world.agents]
    shifts = []
    for agent in world.agents:
        shift = news_shift(world, agent, events)
        for mid, dx in shift.items():
            if dx:
                agent.prior[mid] = round(
                    beliefs.clip_probability(beliefs.sigmoid(beliefs.logit(agent.prior[mid]) + dx)), 6
                )
        shifts.append(shift)
    return shifts


def _news_reason(event: ScheduledEvent, towards_yes: bool) -> str:
    headline = " ".join(event.headline.split())
    line = f"News on day {event.day} ({headline}) moves me towards {'YES' if towards_yes else 'NO'}."
    if len(line) <= REASON_CHARS:
        return line
    room = REASON_CHARS - (len(line) - len(headline)) - 1
    return line.replace(headline, headline[: max(0, room)].rstrip() + "…")


def _cited_news(world: World, round_no: int, link: float, now: float) -> tuple[ScheduledEvent, bool] | None:
    """The news an agent cites for a market of ``link``: with ``now`` (its shift this round), this
    round's latest news that pushed it that way; else the latest news so far that bears on the
    market. Returned with the way it pushed (True: towards YES); None when no news bears on it."""
    if not link:
        return None
    for r, ev in reversed(world.events):
        if r > round_no or ev.favours not in NEWS_SIGN:
            continue
        towards = NEWS_SIGN[ev.favours] * link
        if now and (r != round_no or towards * now <= 0):
            continue
        return ev, towards > 0
    return None


def _reason(
    world: World, market_index: int, p: float, prior: float, round_no: int = 0, shift: float = 0.0
) -> str:
    """The one-line reason for a stated ``p``: this round's news when it moved the agent
    (``shift``), else the feed when the agent moved away from its prior, else the last news that
    bears on the market, else the seed."""
    link = world.specs[market_index].link
    if shift:
        cited = _cited_news(world, round_no, link, shift)
        if cited is not None:
            return _news_reason(*cited)
    if p - prior >= MOVED:
        return "People I trust and the market lean more towards YES than I first did."
    if prior - p >= MOVED:
        return "People I trust and the market lean more towards NO than I first did."
    if world.events:
        cited = _cited_news(world, round_no, link, 0.0)
        if cited is not None:
            return _news_reason(*cited)
    if market_index == 0:
        return _evidence_line(world)
    rationale = " ".join(world.specs[market_index].rationale.split())
    line = f"From the seed: {rationale}" if rationale else _evidence_line(world)
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1].rstrip() + "…"


def _speaks_about(post: Post, market_id: str, goal_id: str) -> bool:
    if post.kind == "market_comment":
        return post.market_id == market_id
    return market_id == goal_id


def state_beliefs(
    world: World,
    agent: Agent,
    seen: list[int],
    prices: dict[str, float],
    rates: beliefs.Rates,
    round_no: int = 0,
    news: Mapping[str, float] | None = None,
) -> tuple[dict[str, dict[str, Any]], float]:
    """What the agent states this round: ``({market: {probability, reason}}, confidence)``;
    ``news`` is this round's :func:`news_shift` for the agent (log-odds per market)."""
    posts = world.posts
    goal_id = world.goal_market
    subsidy = world.config.market_subsidy
    # each seen post once: (post, the author's position in log-odds, trust in the author)
    heard = [
        (posts[pid], beliefs.logit((posts[pid].stance + 1.0) * 0.5), world.trust(agent, posts[pid].author))
        for pid in seen
    ]
    confidence = agent.belief.confidence
    stated: dict[str, dict[str, Any]] = {}
    new_confidence = confidence
    likes, dislikes = agent.reactions
    for k, spec in enumerate(world.specs):
        mid = spec.id
        exposures = [(x, t) for post, x, t in heard if _speaks_about(post, mid, goal_id)]
        weight = beliefs.market_weight(world.volume_cash(mid), subsidy, W_PRICE)
        shift = news.get(mid, 0.0) if news else 0.0
        x, conf = beliefs.influence(
            beliefs.logit(agent.belief.probabilities[mid]) + shift,
            beliefs.logit(agent.prior[mid]),
            confidence,
            exposures,
            stubbornness=agent.stubbornness,
            rates=rates,
            price_x=beliefs.logit(prices[mid]),
            price_weight=weight,
            likes=likes if k == 0 else 0,
            dislikes=dislikes if k == 0 else 0,
        )
        if k == 0:
            new_confidence = conf  # confidence is the agent's, moved by what it hears about the goal
        p = round(beliefs.sigmoid(x), 6)
        stated[mid] = {"probability": p, "reason": _reason(world, k, p, agent.prior[mid], round_no, shift)}
    return stated, round(new_confidence, 6)


def decide_round(world: World, round_no: int, feeds: list[list[int]]) -> list[dict[str, Any]]:
    """One turn per agent, in agent order, in the agent turn schema (beliefs, confidence, actions).
    The round's news is heard first (:func:`hear_news`: it moves the agents' anchors)."""
    cfg = world.config
    news = hear_news(world, round_no)
    draws = rng_for(world.seed, STREAM_POLICY, round_no).random((len(world.agents), DRAWS)).tolist()
    rates = beliefs.Rates.for_rounds(cfg.rounds)
    prices = world.prices()
    specs = world.specs
    posts = world.posts
    agents = world.agents
    goal_id = world.goal_market
    cap = cfg.max_actions
    turns: list[dict[str, Any]] = []
    for agent, seen, u, shift in zip(agents, feeds, draws, news, strict=True):
        stated, confidence = state_beliefs(world, agent, seen, prices, rates, round_no, shift)
        turn: dict[str, Any] = {"beliefs": stated, "confidence": confidence}
        if u[0] > agent.activity:
            turn["actions"] = [{"type": "do_nothing"}]
            turns.append(turn)
            continue
        view = {mid: s["probability"] for mid, s in stated.items()}
        x = 2.0 * view[goal_id] - 1.0
        social = agent.sociability
        acts: list[dict[str, Any]] = []
        # trade first: it is the action whose value decays fastest
        if u[9] < agent.trader:
            acts += _trades(world, agent, view, prices, u[11])
        if seen:
            liked_author = disliked_author = -1
            for slot in range(min(2, len(seen))):
                post = posts[seen[slot]]
                mine = 2.0 * view.get(post.market_id or goal_id, view[goal_id]) - 1.0
                gap = abs(post.stance - mine)
                if gap < 0.5 and u[1 + slot] < 0.8 * social:
                    acts.append({"type": "like", "post_id": post.id})
                    liked_author = post.author
                elif gap > 1.0 and u[1 + slot] < 0.4 * social:
                    acts.append({"type": "dislike", "post_id": post.id})
                    disliked_author = post.author
            if u[4] < 0.3 * social:
                target = posts[seen[int(u[5] * len(seen)) % len(seen)]]
                author = agents[target.author].name
                agree = abs(target.stance - x) < 0.5
                why = _pick(_WHY_FOR if x >= 0 else _WHY_AGAINST, u[6])
                text = _pick(_AGREE if agree else _DISAGREE, u[7]).format(author=author, why=why)
                acts.append({"type": "reply", "post_id": target.id, "text": text, "stance": round(x, 4)})
            elif u[4] > 1.0 - 0.05 * social and abs(posts[seen[0]].stance - x) < 0.3:
                acts.append({"type": "repost", "post_id": seen[0]})
            if liked_author >= 0 and liked_author not in agent.follows and u[12] < 0.35:
                acts.append({"type": "follow", "agent_id": liked_author})
            if disliked_author >= 0 and disliked_author in agent.follows and u[12] < 0.6:
                acts.append({"type": "unfollow", "agent_id": disliked_author})
        if u[13] < 0.35:
            acts.append(
                {"type": "create_post", "text": post_text(world, x, u[6], u[7]), "stance": round(x, 4)}
            )
        elif u[13] > 0.9:
            spec = specs[int(u[10] * len(specs)) % len(specs)]
            price = prices[spec.id]
            mine = view[spec.id]
            verdict = (
                "too low" if mine > price + EDGE else "too high" if mine < price - EDGE else "about right"
            )
            acts.append(
                {
                    "type": "comment_on_market",
                    "market_id": spec.id,
                    "text": f"{spec.id} at {price:.0%} YES looks {verdict} to me; I put it at {mine:.0%}.",
                }
            )
        turn["actions"] = acts[:cap] if acts else [{"type": "do_nothing"}]
        turns.append(turn)
    return turns


def _expected_traders(world: World, market_id: str) -> float:
    """How many agents trade a market in a typical round (activity x trading propensity): every
    trader looks at the goal market, and half of them at one derived market as well."""
    cached = world.cache.get("expected_traders")
    if cached is None:
        crowd = sum(a.activity * a.trader for a in world.agents)
        derived = max(1, len(world.specs) - 1)
        cached = {
            s.id: crowd if k == 0 else crowd * DERIVED_TRADE / derived for k, s in enumerate(world.specs)
        }
        world.cache["expected_traders"] = cached
    return float(cached[market_id])


def _trades(
    world: World, agent: Agent, view: dict[str, float], prices: dict[str, float], u: float
) -> list[dict[str, Any]]:
    """The goal market's order, and with probability DERIVED_TRADE the best derived market's: the
    goal market is traded the same way whatever other markets a run has."""
    wealth = agent.cash + sum(h[0] * prices[m] + h[1] * (1.0 - prices[m]) for m, h in agent.holdings.items())
    bankroll = wealth / len(world.specs)
    orders = []
    goal = _order(world, agent, world.specs[0].id, view, prices, bankroll)
    if goal is not None:
        orders.append(goal[1])
    if u < DERIVED_TRADE:
        derived = [o for s in world.specs[1:] if (o := _order(world, agent, s.id, view, prices, bankroll))]
        if derived:
            orders.append(max(derived, key=lambda o: o[0])[1])
    return orders


def _order(
    world: World, agent: Agent, mid: str, view: dict[str, float], prices: dict[str, float], bankroll: float
) -> tuple[float, dict[str, Any]] | None:
    """Move towards a fractional-Kelly target position on one market: ``(cash value, order)``.

    The target is ``KELLY * bankroll * (q - p) / (p (1 - p))`` net YES shares (negative: NO
    shares), with the bankroll the agent's wealth split evenly over the markets. Holdings on the
    wrong side are sold before the other side is bought, so cash is committed only in proportion to
    the edge and the agent still has cash at the end of a long run.

    Every agent decides on the round's opening price, so one order may move the price at most its
    share of the way to the agent's belief: ``b * |logit q - logit p| / (1 + expected traders)``.
    Orders of a round then add up to about the gap, never to a stampede past every belief.
    """
    p, q = beliefs.clip_probability(prices[mid]), view[mid]
    if abs(q - p) < EDGE:
        return None
    yes, no = agent.holdings[mid]
    delta = KELLY * bankroll * (q - p) / (p * (1.0 - p)) - (yes - no)
    if delta * (q - p) <= 0:
        return None  # already past its target on the side it believes in: nothing to add
    share = 1.0 / (1.0 + _expected_traders(world, mid))
    reach = share * world.markets[mid].b * abs(beliefs.logit(q) - beliefs.logit(p))
    delta = math.copysign(min(abs(delta), reach), delta)
    value = abs(delta) * (p if delta > 0 else 1.0 - p)
    if value < MIN_TRADE:
        return None
    want, other = (0, 1) if delta > 0 else (1, 0)
    held = agent.holdings[mid][other]
    if held > 0.01:
        shares = math.floor(min(held, abs(delta)) * 10_000.0) / 10_000.0
        if shares <= 0:
            return None
        return value, {
            "type": "sell",
            "market_id": mid,
            "outcome": "no" if other else "yes",
            "shares": shares,
        }
    cost = world.markets[mid].cost_to_buy(want, abs(delta))
    # round down to cents so the order never exceeds the cash the agent sees
    amount = math.floor(min(cost, agent.cash) * 100.0) / 100.0
    if amount < MIN_TRADE:
        return None
    return value, {"type": "buy", "market_id": mid, "outcome": "yes" if want == 0 else "no", "amount": amount}
