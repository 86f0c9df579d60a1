"""The heuristic persona policy: seeded rules that play the same action space as an LLM.

Each agent, each round, reads its feed, reacts to posts it agrees or disagrees with, follows people
it likes, posts its view, and trades when its subjective probability differs from a market price -
sizing the order from the cash it has, so insufficient-funds rejections stay rare. All randomness
comes from one ``numpy`` draw per round keyed by ``(seed, round)``: agent ``i`` uses row ``i`` only,
so its decision does not depend on the order agents are processed in.
"""

from __future__ import annotations

import math
from typing import Any

from .extraction import short_goal
from .world import STREAM_POLICY, World, clamp, rng_for

DRAWS = 14  # uniforms per agent per round
EDGE = 0.04  # minimum |subjective - price| worth trading

_FOR = (
    "I'm increasingly convinced: {goal}.",
    "Everything I read points one way - {goal}.",
    "{entity} is right on this one; {goal} looks likely to me.",
    "Momentum is building. I'd bet on it: {goal}.",
    "The evidence keeps stacking up in favour: {goal}.",
)
_AGAINST = (
    "I doubt it: {goal} looks unlikely to me.",
    "The case for '{goal}' keeps getting weaker.",
    "{entity} has this wrong - it won't happen that fast.",
    "Too many obstacles. I'd bet against it: {goal}.",
    "People underestimate the resistance here; {goal} is a long shot.",
)
_UNSURE = (
    "Still undecided on whether {goal}.",
    "Mixed signals on this: {goal}. Watching the markets.",
    "What would {entity} need to see before committing either way?",
)
_AGREE = ("Agreed, {author}. {why}", "Exactly this, {author}. {why}", "{author} makes the key point here.")
_DISAGREE = (
    "{author}, I don't buy it. {why}",
    "Respectfully, {author}: the evidence says otherwise.",
    "{author} is overconfident. {why}",
)
_WHY_FOR = ("The trend is clear.", "Support is broadening.", "The incentives line up.")
_WHY_AGAINST = ("The obstacles are real.", "Nothing has actually changed.", "The timeline is unrealistic.")


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[int(u * len(options)) % len(options)]


def post_text(world: World, position: float, u: float, v: float) -> str:
    goal = short_goal(world.goal, 90)
    entity = world.entities[int(v * len(world.entities)) % len(world.entities)].name
    templates = _FOR if position > 0.2 else _AGAINST if position < -0.2 else _UNSURE
    return _pick(templates, u).format(goal=goal, entity=entity)


def decide_round(world: World, round_no: int, feeds: list[list[int]]) -> list[list[dict[str, Any]]]:
    """One turn (a list of action dicts in the agent schema) per agent, in agent order."""
    cfg = world.config
    draws = rng_for(cfg.seed, STREAM_POLICY, round_no).random((len(world.agents), DRAWS)).tolist()
    prices = world.prices()
    specs = world.specs
    posts = world.posts
    agents = world.agents
    cap = cfg.max_actions
    turns: list[list[dict[str, Any]]] = []
    for agent, seen, u in zip(agents, feeds, draws, strict=True):
        if u[0] > agent.activity:
            turns.append([{"type": "do_nothing"}])
            continue
        x = agent.belief.position
        social = agent.sociability
        acts: list[dict[str, Any]] = []
        # trade first: it is the action whose value decays fastest
        if u[9] < agent.trader:
            trade = _trade(world, agent, specs[int(u[10] * len(specs)) % len(specs)], prices, u[11])
            if trade is not None:
                acts.append(trade)
        if seen:
            liked_author = disliked_author = -1
            for slot in range(min(2, len(seen))):
                post = posts[seen[slot]]
                gap = abs(post.stance - x)
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
                acts.append(
                    {
                        "type": "reply",
                        "post_id": target.id,
                        "text": text,
                        "stance": round(clamp(x + (u[8] - 0.5) * 0.2, -1.0, 1.0), 4),
                    }
                )
            elif u[4] > 1.0 - 0.05 * social and abs(posts[seen[0]].stance - x) < 0.3:
                acts.append({"type": "repost", "post_id": seen[0]})
            if liked_author >= 0 and liked_author not in agent.follows and u[12] < 0.35:
                acts.append({"type": "follow", "agent_id": liked_author})
            if disliked_author >= 0 and disliked_author in agent.follows and u[12] < 0.6:
                acts.append({"type": "unfollow", "agent_id": disliked_author})
        if u[13] < 0.35:
            acts.append(
                {
                    "type": "create_post",
                    "text": post_text(world, x, u[6], u[7]),
                    "stance": round(clamp(x + (u[8] - 0.5) * 0.2, -1.0, 1.0), 4),
                }
            )
        elif u[13] > 0.96:
            spec = specs[int(u[10] * len(specs)) % len(specs)]
            price = prices[spec.id]
            view = world.subjective(agent, spec)
            verdict = (
                "too low" if view > price + EDGE else "too high" if view < price - EDGE else "about right"
            )
            acts.append(
                {
                    "type": "comment_on_market",
                    "market_id": spec.id,
                    "text": f"{spec.id} at {price:.0%} YES looks {verdict} to me.",
                }
            )
        turns.append(acts[:cap] if acts else [{"type": "do_nothing"}])
    return turns


def _trade(world: World, agent: Any, spec: Any, prices: dict[str, float], u: float) -> dict[str, Any] | None:
    """Buy the side the agent finds underpriced - or sell the side it holds and now finds overpriced."""
    price = prices[spec.id]
    edge = world.subjective(agent, spec) - price
    if abs(edge) < EDGE:
        return None
    want, other = ("yes", "no") if edge > 0 else ("no", "yes")
    held = agent.holdings[spec.id][1 if other == "no" else 0]
    if held > 0.5:
        return {
            "type": "sell",
            "market_id": spec.id,
            "outcome": other,
            "shares": round(held * (0.3 + 0.5 * u), 4),
        }
    budget = agent.cash * min(0.3, abs(edge) * agent.belief.confidence * 2.0) * (0.5 + u)
    if budget < 0.5:
        return None
    # round down to cents so the order never exceeds the cash the agent sees
    amount = math.floor(min(budget, agent.cash) * 100.0) / 100.0
    return {"type": "buy", "market_id": spec.id, "outcome": want, "amount": amount}
