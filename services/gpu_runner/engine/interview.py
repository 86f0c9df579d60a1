"""Interviews: after a run, an agent answers a question in character from its final state.

The runner restores the job's final checkpoint (:func:`interview_world`: replicate 0, the one the
artifacts show), picks whom to ask (:func:`choose_interviewees`) and asks each one
(:func:`answer_question`). An answer is grounded in what the agent is after the run - its persona,
its last stated probabilities and reasons, its memory of its own actions, what it posted and
traded - and carries its current probability for the goal and its camp.

- The heuristic backend writes no text: the answer is *templated* from that state,
  deterministically (the same question to the same checkpoint gives the same words).
- An LLM backend gets one completion, schema-checked JSON ``{"answer": str}`` (constrained where
  the backend supports it), with the same state in the prompt. An unusable reply (not JSON, empty)
  falls back to the templated answer, saying so in the text; a backend that fails (LLMError) fails
  the answer - the runner reports the error rather than passing a template off as the model's.

Nothing here logs: questions and answers are the user's text.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.camps import CAMP_LABELS, CAMPS, camp_of

from .checkpoint import load_world
from .heuristic_policy import proposition
from .prompts import TEMPLATE_TOKENS, fit, one_line
from .retrieval import estimate_tokens
from .simulation import is_heuristic
from .types import Agent
from .world import World

MAX_ANSWER_CHARS = 500  # within the llama.cpp grammar's string bound, so it is enforced while decoding
ANSWER_TOKENS = 256
ANSWER_TEMPERATURE = 0.7
SHOWN_POSTS = 3  # the agent's latest posts shown to the model / quoted in a templated answer
SHOWN_TRADES = 4
FALLBACK_NOTE = "(The model's reply was unusable; this answer is templated from the agent's state.) "
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "minLength": 1, "maxLength": MAX_ANSWER_CHARS}},
    "required": ["answer"],
    "additionalProperties": False,
}


class InterviewRefused(ValueError):
    """The request names no one who can answer (unknown agent ids, an empty or unknown camp)."""


@dataclass(frozen=True, slots=True)
class InterviewAnswer:
    """One agent's answer: ``probability`` is its last stated goal belief, ``reason`` the reason it
    gave for it, ``camp`` :func:`camp_of` that probability."""

    agent_id: int
    agent_name: str
    persona: str
    answer: str
    probability: float
    reason: str
    camp: str


def interview_world(checkpoint: bytes) -> World:
    """Replicate 0 of a checkpoint (the replicate the artifacts show); raises
    :class:`~.checkpoint.CheckpointError` for bytes that are not a checkpoint."""
    worlds, _, _ = load_world(checkpoint)
    return worlds[0]


def _prominence(agent: Agent) -> tuple[int, int]:
    return (-(agent.followers + agent.likes_received), agent.id)


def choose_interviewees(
    world: World, agent_ids: Sequence[int], camp: str, max_agents: int
) -> tuple[list[int], int]:
    """Whom to ask, in order, and how many were left out by ``max_agents``.

    Exactly one of ``agent_ids`` (asked in the given order, repeats dropped) or ``camp`` (its
    members at the end of the run, the most followed and liked first) names them.
    Raises :class:`InterviewRefused` for unknown ids, an unknown or empty camp, or neither/both.
    """
    if max_agents < 1:
        raise InterviewRefused("an interview asks at least one agent")
    if bool(agent_ids) == bool(camp):
        raise InterviewRefused("name either agents or a camp to interview")
    n = len(world.agents)
    if agent_ids:
        unknown = [i for i in agent_ids if not 0 <= i < n]
        if unknown:
            listed = ", ".join(str(i) for i in unknown)
            raise InterviewRefused(
                f"no agent {listed} in this run: its agents are numbered 0 to {n - 1}"
                if len(unknown) == 1
                else f"no agents {listed} in this run: its agents are numbered 0 to {n - 1}"
            )
        chosen = list(dict.fromkeys(agent_ids))
    else:
        if camp not in CAMPS:
            raise InterviewRefused(f'camp must be one of {", ".join(CAMPS)}; got "{camp}"')
        goal = world.goal_market
        members = [a for a in world.agents if camp_of(a.belief.probabilities[goal]) == camp]
        if not members:
            raise InterviewRefused(f"nobody is in the {CAMP_LABELS[camp]} at the end of this run")
        chosen = [a.id for a in sorted(members, key=_prominence)]
    return chosen[:max_agents], max(0, len(chosen) - max_agents)


# -- the agent's state, as both paths use it -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _State:
    agent: Agent
    probability: float
    reason: str
    camp: str
    start: float  # its probability for the goal before any discussion
    posts: list[str]  # its latest own posts' texts (not reposts), newest first
    post_count: int
    trades: list[str]  # its latest trades in words, newest first
    trade_count: int


def _state(world: World, agent: Agent) -> _State:
    goal = world.goal_market
    p = agent.belief.probabilities[goal]
    own = [post for post in world.posts if post.author == agent.id and post.kind != "repost"]
    trades = [t for t in world.trades if t.agent_id == agent.id]
    return _State(
        agent=agent,
        probability=round(p, 4),
        reason=agent.belief.reasons.get(goal, ""),
        camp=camp_of(p),
        start=world.stated[0][agent.id][0] if world.stated else p,
        posts=[one_line(post.text, 200) for post in reversed(own[-SHOWN_POSTS:])],
        post_count=len(own),
        trades=[
            f"{'bought' if t.side == 'buy' else 'sold'} {t.shares:.1f} {t.outcome.upper()} on {t.market_id} "
            f"in round {t.round} for {t.cash:.2f}"
            for t in reversed(trades[-SHOWN_TRADES:])
        ],
        trade_count=len(trades),
    )


def _position(world: World, agent: Agent) -> str:
    """Its net holding on the goal market, in words."""
    yes, no = agent.holdings[world.goal_market]
    if yes - no > 0.05:
        return f"I hold {yes - no:.1f} net YES shares on the goal market"
    if no - yes > 0.05:
        return f"I hold {no - yes:.1f} net NO shares on the goal market"
    return "I hold no net position on the goal market"


# -- templated answer (heuristic backend, and the fallback) --------------------------------------


def _topic(question: str) -> str:
    """What the question asks about most, by its words: "trades", "change", "why" or "view"."""
    words = set("".join(c if c.isalnum() else " " for c in question.lower()).split())
    if words & {
        "trade",
        "trades",
        "traded",
        "bet",
        "bets",
        "market",
        "markets",
        "buy",
        "bought",
        "sell",
        "sold",
        "money",
        "shares",
    }:
        return "trades"
    if words & {
        "change",
        "changed",
        "mind",
        "moved",
        "move",
        "shift",
        "shifted",
        "persuade",
        "convince",
        "convinced",
    }:
        return "change"
    if words & {"why", "reason", "reasons", "because", "evidence", "argument"}:
        return "why"
    return "view"


def templated_answer(world: World, agent_id: int, question: str) -> str:
    """A deterministic answer in the agent's voice, built only from its state (no model)."""
    agent = world.agents[agent_id]
    st = _state(world, agent)
    goal = proposition(world.goal)
    stance = (
        f"I put it at {st.probability:.0%}, so I'm in the {CAMP_LABELS[st.camp]}"
        if st.camp != "undecided"
        else f"I put it at {st.probability:.0%}, so I'm still undecided"
    )
    view = f"On whether {goal}: {stance} (confidence {agent.belief.confidence:.0%})."
    why = f"My reason: {st.reason}" if st.reason.strip() else "I haven't stated a reason yet."
    if not why.endswith((".", "!", "?", "…")):
        why += "."
    moved = st.probability - st.start
    if abs(moved) >= 0.02:
        change = (
            f"I started at {st.start:.0%} and moved {'up' if moved > 0 else 'down'} "
            f"{abs(moved) * 100:.0f} points over the discussion."
        )
    else:
        change = f"I started at {st.start:.0%} and haven't really moved."
    if st.trade_count:
        trades = (
            f"I made {st.trade_count} trade{'s' if st.trade_count > 1 else ''}; most recently I "
            f"{st.trades[0]}. {_position(world, agent)}, with {agent.cash:.2f} cash left."
        )
    else:
        trades = f"I didn't trade; I still have {agent.cash:.2f} cash."
    if st.post_count:
        said = (
            f'I posted {st.post_count} time{"s" if st.post_count > 1 else ""}; last I wrote: "{st.posts[0]}"'
        )
    else:
        said = "I didn't post anything."
    order = {
        "view": [view, why, change, said, trades],
        "why": [why, view, change, said],
        "change": [change, why, view, said],
        "trades": [trades, view, why],
    }[_topic(question)]
    return " ".join(order)


# -- the LLM path -------------------------------------------------------------------------------


def interview_messages(world: World, agent_id: int, question: str) -> list[dict[str, str]]:
    """The one call's messages: who the agent is and what it did (the system message), then the
    question; within the run's prompt budget (the state is cut first, never the question)."""
    agent = world.agents[agent_id]
    st = _state(world, agent)
    lines = [
        f"You are {one_line(agent.name, 60)} ({agent.kind}). {one_line(agent.summary, 300)}",
        f"You took part in a public discussion and prediction market about: {one_line(world.goal, 400)}",
        "An interviewer asks you one question after the discussion. Answer in character, in the first "
        "person, in two to four sentences, consistent with your state below; do not invent trades or "
        f'posts. Reply with one JSON object: {{"answer": "..."}} (at most {MAX_ANSWER_CHARS} characters).',
        "YOUR STATE AFTER THE DISCUSSION:",
        f"- you started at {st.start:.2f} for the goal; you now state {st.probability:.2f} "
        f"({CAMP_LABELS[st.camp]}), confidence {agent.belief.confidence:.2f}",
    ]
    for spec in world.specs:
        p = agent.belief.probabilities[spec.id]
        reason = agent.belief.reasons.get(spec.id, "")
        why = f" - your reason: {one_line(reason, 200)}" if reason.strip() else ""
        lines.append(f"- {spec.id} ({one_line(spec.question, 160)}): you state {p:.2f}{why}")
    lines.append(f"- cash {agent.cash:.2f}; {_position(world, agent)}")
    if st.trades:
        lines.append(f"- your trades ({st.trade_count}), latest first: " + "; ".join(st.trades))
    if st.posts:
        lines.append(
            f"- your posts ({st.post_count}), latest first: " + " | ".join(f'"{p}"' for p in st.posts)
        )
    if agent.recent_actions:
        lines.append(
            "- what you remember doing: " + "; ".join(one_line(a, 100) for a in agent.recent_actions)
        )
    news = [f"day {ev.day}: {one_line(ev.headline, 160)}" for r, ev in world.events if r <= world.round]
    if news:
        lines.append("- news during the discussion: " + "; ".join(news))
    ask = f"QUESTION: {one_line(question, 600)}"
    budget = world.config.prompt_tokens - TEMPLATE_TOKENS - ANSWER_TOKENS - estimate_tokens(ask) - 1
    return [
        {"role": "system", "content": fit("\n".join(lines), max(64, budget))},
        {"role": "user", "content": ask},
    ]


def _usable(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return None
    text = " ".join(data["answer"].split())
    return text[:MAX_ANSWER_CHARS] if text else None


async def answer_question(world: World, agent_id: int, question: str, backend: Any) -> InterviewAnswer:
    """Agent ``agent_id``'s answer to ``question`` (see the module docstring for the two paths).

    Raises :class:`InterviewRefused` for an agent that is not in the run, and the backend's
    ``LLMError`` when its one call fails.
    """
    if not 0 <= agent_id < len(world.agents):
        raise InterviewRefused(
            f"no agent {agent_id} in this run: its agents are numbered 0 to {len(world.agents) - 1}"
        )
    agent = world.agents[agent_id]
    if is_heuristic(backend):
        text = templated_answer(world, agent_id, question)
    else:
        # a seed per (run, agent, question): asked again, a seeded backend answers alike
        seed = (world.seed * 1_000_003 + agent_id * 10_007 + zlib.crc32(question.encode())) % 2**31
        result = await backend.complete_json(
            interview_messages(world, agent_id, question),
            ANSWER_SCHEMA,
            schema_name="interview_answer",
            max_tokens=ANSWER_TOKENS,
            temperature=ANSWER_TEMPERATURE,
            seed=seed,
        )
        usable = _usable(result.data) if result.parse_error is None else None
        text = usable if usable is not None else FALLBACK_NOTE + templated_answer(world, agent_id, question)
    st_p = agent.belief.probabilities[world.goal_market]
    return InterviewAnswer(
        agent_id=agent.id,
        agent_name=agent.name,
        persona=agent.summary,
        answer=text,
        probability=round(st_p, 4),
        reason=agent.belief.reasons.get(world.goal_market, ""),
        camp=camp_of(st_p),
    )
