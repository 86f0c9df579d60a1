"""What an LLM agent sees each round.

The system message is identical for every agent and round of a run (rules, goal, seed digest,
markets, action format) so backends with prefix caching compute it once; everything personal -
persona, beliefs, cash and holdings, the ranked feed, prices, recent actions - goes in the user
message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .actions import MAX_TEXT
from .world import World

SNIPPET = 220


def system_prompt(world: World) -> str:
    markets = "\n".join(f"- {s.id}: {s.question}" for s in world.specs)
    return (
        "You are one participant in a simulated social network where people discuss a question and "
        "trade on binary prediction markets about it. Stay in character.\n\n"
        f"PREDICTION GOAL: {world.goal}\n\n"
        f"WHAT IS KNOWN (seed digest): {world.digest}\n\n"
        f"MARKETS (LMSR market maker; a YES share pays 1 if the market resolves YES):\n{markets}\n\n"
        'Each turn, answer with ONE JSON object: {"thought": short private reasoning, "actions": [...]}. '
        f"Use 1 to {world.config.max_actions} actions from:\n"
        '- {"type": "create_post", "text": str, "stance": -1..1}  (stance: -1 = the goal will not '
        "happen, 1 = it will)\n"
        '- {"type": "reply", "post_id": int, "text": str, "stance": -1..1}\n'
        '- {"type": "like" | "dislike" | "repost", "post_id": int}  (posts from your feed only)\n'
        '- {"type": "follow" | "unfollow", "agent_id": int}\n'
        '- {"type": "buy", "market_id": str, "outcome": "yes" | "no", "amount": cash to spend}\n'
        '- {"type": "sell", "market_id": str, "outcome": "yes" | "no", "shares": number}\n'
        '- {"type": "comment_on_market", "market_id": str, "text": str}\n'
        '- {"type": "do_nothing"}\n'
        f"Texts are at most {MAX_TEXT} characters. Never spend more cash than you have or sell shares "
        "you do not hold."
    )


def user_prompt(world: World, agent_id: int, feed_ids: Sequence[int], round_no: int) -> str:
    agent = world.agents[agent_id]
    b = agent.belief
    prices = world.prices()
    lines = [
        f"ROUND {round_no} of {world.config.rounds}.",
        f"YOU: agent {agent.id}, {agent.name} ({agent.kind}). {agent.summary}",
        f"YOUR BELIEF: position {b.position:+.2f} on the goal (-1 no .. +1 yes), "
        f"i.e. {b.probability:.0%} likely; confidence {b.confidence:.2f}.",
        f"YOUR WALLET: cash {agent.cash:.2f}.",
    ]
    for spec in world.specs:
        yes, no = agent.holdings[spec.id]
        lines.append(
            f"- [{spec.id}] price YES {prices[spec.id]:.3f} / NO {1 - prices[spec.id]:.3f}; "
            f"you hold {yes:.2f} YES, {no:.2f} NO"
        )
    lines.append(f"YOU FOLLOW {len(agent.follows)} agents; {agent.followers} follow you.")
    lines.append("YOUR FEED (best first):" if feed_ids else "YOUR FEED is empty.")
    for pid in feed_ids:
        post = world.posts[pid]
        author = world.agents[post.author]
        where = f" on {post.market_id}" if post.market_id else ""
        parent = f" in reply to #{post.parent_id}" if post.kind == "reply" else ""
        lines.append(
            f"- #{post.id} by agent {author.id} {author.name}{parent}{where} (round {post.round}, "
            f"{post.likes} likes, {post.dislikes} dislikes, {post.replies} replies): "
            f"{post.text[:SNIPPET]}"
        )
    if agent.recent_actions:
        lines.append("YOUR RECENT ACTIONS:")
        lines.extend(f"- {line}" for line in agent.recent_actions)
    lines.append("Decide your actions for this round.")
    return "\n".join(lines)


def agent_messages(
    world: World, system: str, agent_id: int, feed_ids: Sequence[int], round_no: int
) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user_prompt(world, agent_id, feed_ids, round_no)},
    ]
