"""What an LLM agent sees each round, inside a per-agent token budget.

Two messages per agent, together within ``SimulationConfig.prompt_tokens`` by
:func:`.retrieval.estimate_tokens` (a conservative count, so the real one is lower):

- the **system** message is the same bytes for every agent and every round of a run - rules, goal,
  markets with their resolution criteria, the answer format, and the *shared passages*: the seed
  passages BM25 ranks best for the goal and the market questions, in rank order, while they fit in
  half the budget. Backends with prefix caching compute it once.
- the **user** message is the agent's own: the round, its persona, its last stated probability and
  reason per market (its memory), its wallet with prices and holdings, its ranked feed (each post's
  author with that author's stated probability, engagement, a snippet), its recent actions, and
  *persona passages* (BM25 for its name and summary, never repeating a shared one), and - when a
  scheduled event has entered the feeds in the last ``feed.WINDOW`` rounds - a NEWS block (day,
  headline, text; this round's first) that every agent sees alike. When the
  budget is tight the fixed parts come first (shortened in steps if need be), then the feed
  (shorter snippets, then fewer posts), then persona passages with whatever is left.

Memory is bounded (the last statement only, a few recent actions), so a prompt at round 200 costs
what it costs at round 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import feed
from .actions import MAX_REASON, MAX_TEXT
from .retrieval import PassageLibrary, estimate_tokens
from .world import World

SNIPPETS = (220, 120, 60)  # feed snippet lengths, tried in turn while the feed does not fit
TEMPLATE_TOKENS = 32  # the chat template's role markers around the two messages
SHARED_SHARE = 0.5  # of the budget, for the system message with its shared passages
USER_MIN_SHARE = 1 / 3  # of the budget, always left to the user message
NAME_CHARS = 60
# the fixed parts of the user message, from full to bare: summary and reason lengths, recent actions
USER_LEVELS = ((300, MAX_REASON, 6), (140, 80, 2), (60, 0, 0))
RESOLUTION_LEVELS = (300, 120, 0)  # characters of each market's resolution criterion in the system
# the news block at each level of USER_LEVELS: characters of each headline and of each text
NEWS_LEVELS = ((200, 400), (120, 160), (80, 0))


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters (with an ellipsis when cut)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: max(0, limit - 1)].rstrip() + "…"


def fit(text: str, limit: int) -> str:
    """The longest prefix of ``text`` (ending in an ellipsis when cut) within ``limit`` tokens."""
    if estimate_tokens(text) <= limit:
        return text
    lo, hi = 0, len(text)  # lo always fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid]) + 1 <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…" if lo else ""


def library(world: World) -> PassageLibrary:
    """The run's passage library, built from ``world.passages`` on first use."""
    lib = getattr(world, "library", None)
    if lib is None:
        lib = PassageLibrary(getattr(world, "passages", None) or [])
        world.library = lib
    return lib


def _budget(world: World) -> int:
    return world.config.prompt_tokens - TEMPLATE_TOKENS


def _passage(lib: PassageLibrary, i: int) -> tuple[str, int]:
    """A passage as shown, with its token cost (conservative: one more for the line break)."""
    label = f"[S{i}] "
    return label + lib.passages[i], estimate_tokens(label) + lib.tokens[i] + 1


def _pick(lib: PassageLibrary, ranking: Sequence[int], budget: int, exclude: set[int]) -> list[int]:
    """Passages in rank order, each taken if it still fits (a long one is skipped, not a stop)."""
    out = []
    for i in ranking:
        if i in exclude:
            continue
        cost = _passage(lib, i)[1]
        if cost <= budget:
            out.append(i)
            budget -= cost
    return out


# -- system message ---------------------------------------------------------------------------


def _system_fixed(world: World, level: int) -> str:
    width = RESOLUTION_LEVELS[level]
    markets = []
    for s in world.specs:
        markets.append(f"- {s.id}: {one_line(s.question, 300)}")
        if width and s.resolution.strip():
            markets.append(f"  Resolves: {one_line(s.resolution, width)}")
    goal_id = world.specs[0].id if world.specs else "m1"
    return (
        "You are one participant in a simulated social network where people discuss a question and "
        "trade on binary prediction markets about it. Stay in character, and say what you really "
        "think is likely.\n\n"
        f"PREDICTION GOAL: {one_line(world.goal, 600)}\n\n"
        "MARKETS (a YES share pays 1 if the market resolves YES, else 0; an LMSR market maker sets "
        "the price):\n" + "\n".join(markets) + "\n\n"
        "Answer each turn with ONE JSON object:\n"
        '{"thought": "private note", "beliefs": {"<market id>": {"reason": "one line", "probability": '
        '0-1}, ...}, "confidence": 0-1, "actions": [...]}\n'
        "beliefs: for EVERY market above, your probability that it resolves YES and why. They are "
        "remembered and shown to you next round; change them when the evidence, posts or prices "
        "persuade you. confidence: how sure you are of them.\n"
        f"actions: 1 to {world.config.max_actions} of\n"
        f'- {{"type": "create_post", "text": str, "stance": -1..1}} (stance = 2p-1, p your {goal_id})\n'
        '- {"type": "reply", "post_id": int, "text": str, "stance": -1..1}\n'
        '- {"type": "like" | "dislike" | "repost", "post_id": int} (posts in your feed)\n'
        '- {"type": "follow" | "unfollow", "agent_id": int}\n'
        '- {"type": "buy", "market_id": str, "outcome": "yes" | "no", "amount": cash to spend}\n'
        '- {"type": "sell", "market_id": str, "outcome": "yes" | "no", "shares": number}\n'
        '- {"type": "comment_on_market", "market_id": str, "text": str}\n'
        '- {"type": "do_nothing"}\n'
        f"Texts at most {MAX_TEXT} characters, reasons {MAX_REASON}. YES is worth buying when your "
        "probability is above its price. Never spend more cash than you have or sell shares you do "
        "not hold."
    )


def _shared_query(world: World) -> str:
    return " ".join([world.goal, *(s.question for s in world.specs)])


def _system_parts(world: World) -> tuple[str, tuple[int, ...]]:
    """The system message without passages, and the shared passages that go with it.

    Computed once per run (it depends only on the goal, the markets, the passages and the config)
    and kept in ``world.cache``, which is never checkpointed: a resumed run recomputes the same.
    """
    cache = getattr(world, "cache", None)
    hit = cache.get("prompts.system") if cache is not None else None
    if hit is None:
        hit = _compute_system_parts(world)
        if cache is not None:
            cache["prompts.system"] = hit
    return hit


def _compute_system_parts(world: World) -> tuple[str, tuple[int, ...]]:
    budget = _budget(world)
    half = int(budget * SHARED_SHARE)
    # Shorter resolution criteria until the fixed text leaves room for passages in its half;
    # with many long markets and a tiny budget it may take more, never the user's minimum share.
    levels = [_system_fixed(world, level) for level in range(len(RESOLUTION_LEVELS))]
    fixed = next((t for t in levels if estimate_tokens(t) <= half), None)
    if fixed is None:
        fixed = fit(levels[-1], budget - max(1, int(budget * USER_MIN_SHARE)))
    lib = library(world)
    room = half - estimate_tokens(fixed) - estimate_tokens(_SOURCES_HEADER) - 1
    shared = _pick(lib, lib.relevant(_shared_query(world)), room, set()) if room > 0 else []
    return fixed, tuple(shared)


_SOURCES_HEADER = "\n\nSOURCES (passages of the seed document, the most relevant to the markets first):"


def shared_passages(world: World) -> tuple[int, ...]:
    """Indices of the passages every agent sees in the system message, best first."""
    return _system_parts(world)[1]


def system_prompt(world: World) -> str:
    """The system message: identical bytes for every agent and round of the run."""
    fixed, shared = _system_parts(world)
    if not shared:
        return fixed
    lib = library(world)
    return fixed + _SOURCES_HEADER + "".join("\n" + _passage(lib, i)[0] for i in shared)


# -- user message -----------------------------------------------------------------------------


def _pct(p: float) -> str:
    return f"{p:.2f}"


def _fixed_user(
    world: World, agent_id: int, round_no: int, level: int
) -> tuple[list[str], list[str], list[str]]:
    """The agent's fixed sections (head, middle, tail) at a level of detail, as lists of lines."""
    summary_chars, reason_chars, recent = USER_LEVELS[level]
    agent = world.agents[agent_id]
    belief = agent.belief
    head = [
        f"ROUND {round_no} of {world.config.rounds}.",
        f"YOU: agent {agent.id}, {one_line(agent.name, NAME_CHARS)} ({agent.kind}). "
        + one_line(agent.summary, summary_chars),
    ]
    # Until it has stated anything the agent sees its persona's starting view, labelled as such.
    said = any(r.strip() for r in belief.reasons.values())
    title = "YOUR LAST STATED BELIEFS" if said else "YOUR STARTING VIEW (you have stated nothing yet)"
    middle = [f"{title} (confidence {belief.confidence:.2f}):"]
    for s in world.specs:
        p = belief.probabilities.get(s.id)
        reason = belief.reasons.get(s.id, "") if reason_chars else ""
        why = f" - {one_line(reason, reason_chars)}" if reason.strip() else ""
        middle.append(f"- {s.id}: {'none yet' if p is None else _pct(p)}{why}")
    prices = world.prices()
    middle.append(f"YOUR WALLET: cash {agent.cash:.2f}.")
    for s in world.specs:
        yes, no = agent.holdings[s.id]
        price = prices[s.id]
        middle.append(
            f"- [{s.id}] price YES {price:.3f} / NO {1 - price:.3f}; you hold {yes:.2f} YES, {no:.2f} NO"
        )
    middle.append(f"YOU FOLLOW {len(agent.follows)} agents; {agent.followers} follow you.")
    middle.extend(news_lines(world, round_no, *NEWS_LEVELS[level]))
    tail = []
    if recent and agent.recent_actions:
        tail.append("YOUR RECENT ACTIONS:")
        tail.extend(f"- {one_line(line, 120)}" for line in agent.recent_actions[-recent:])
    tail.append(
        "Now state your probability for every market with a one-line reason, your confidence, "
        "and your actions for this round."
    )
    return head, middle, tail


def news_lines(world: World, round_no: int, headline_chars: int = 200, text_chars: int = 400) -> list[str]:
    """The NEWS block of round ``round_no``: the scheduled events of the last ``feed.WINDOW`` rounds
    (the span a post stays in the feed), newest first; empty when there are none."""
    recent = [(r, ev) for r, ev in getattr(world, "events", ()) if round_no - feed.WINDOW < r <= round_no]
    if not recent:
        return []
    lines = ["NEWS (reported events; everyone sees them):"]
    for r, ev in reversed(recent):
        when = "this round" if r == round_no else f"round {r}"
        text = f": {one_line(ev.text, text_chars)}" if text_chars and ev.text.strip() else ""
        lines.append(f"- day {ev.day} ({when}) {one_line(ev.headline, headline_chars)}{text}")
    return lines


def _lines_cost(lines: Sequence[str]) -> int:
    return sum(estimate_tokens(line) + 1 for line in lines)


def _feed_line(world: World, pid: int, snippet: int) -> str:
    post = world.posts[pid]
    author = world.agents[post.author]
    about = post.market_id or (world.specs[0].id if world.specs else "")
    stated = author.belief.probabilities.get(about) if about else None
    position = f", states {about} {_pct(stated)}" if stated is not None else ""
    parent = f" in reply to #{post.parent_id}" if post.kind == "reply" else ""
    parent = f" reposting #{post.parent_id}" if post.kind == "repost" else parent
    where = f" on {post.market_id}" if post.market_id else ""
    counts = [
        (post.likes, "likes"),
        (post.dislikes, "dislikes"),
        (post.replies, "replies"),
        (post.reposts, "reposts"),
    ]
    engagement = ", ".join(f"{n} {what}" for n, what in counts if n) or "no reactions"
    return (
        f"- #{post.id} by {one_line(author.name, NAME_CHARS)} (agent {author.id}{position}){parent}{where}, "
        f"round {post.round}, {engagement}: {one_line(post.text, snippet)}"
    )


_EMPTY_FEED = "YOUR FEED is empty."
_FEED_HEADER = "YOUR FEED (best first):"


def _feed(world: World, feed_ids: Sequence[int], budget: int) -> tuple[list[str], int]:
    """The feed's lines within ``budget`` tokens (shorter snippets first, then fewer posts), with
    their cost."""
    if not feed_ids:
        cost = _lines_cost([_EMPTY_FEED])
        return ([_EMPTY_FEED], cost) if budget >= cost else ([], 0)
    for snippet in SNIPPETS:
        lines = [_FEED_HEADER, *(_feed_line(world, pid, snippet) for pid in feed_ids)]
        costs = [estimate_tokens(line) + 1 for line in lines]
        total = sum(costs)
        if total <= budget:
            return lines, total
    while len(lines) > 1 and total > budget:  # the shortest snippets, fewer posts
        lines.pop()
        total -= costs.pop()
    return (lines, total) if len(lines) > 1 else ([], 0)


def user_prompt(
    world: World, agent_id: int, feed_ids: Sequence[int], round_no: int, budget: int | None = None
) -> str:
    """The agent's own message within ``budget`` tokens (default: what the system message leaves)."""
    if budget is None:
        budget = _budget(world) - estimate_tokens(system_prompt(world))
    for level in range(len(USER_LEVELS)):
        head, middle, tail = _fixed_user(world, agent_id, round_no, level)
        fixed_cost = _lines_cost([*head, *middle, *tail])
        if fixed_cost <= budget:
            break
    else:
        # Not even the bare parts fit (a tiny budget with many markets): cut them, keep the closing
        # instruction, show nothing else.
        closing = tail[-1]
        return fit("\n".join([*head, *middle]), budget - estimate_tokens(closing) - 1) + "\n" + closing
    room = budget - fixed_cost
    feed, feed_cost = _feed(world, feed_ids, room)
    room -= feed_cost
    persona: list[str] = []
    header = "FROM THE SOURCES, FOR YOUR ROLE:"
    room -= estimate_tokens(header) + 1
    if room > 0:
        lib = library(world)
        agent = world.agents[agent_id]
        ranking = lib.relevant(f"{agent.name} {agent.summary}")
        picked = _pick(lib, ranking, room, set(shared_passages(world)))
        if picked:
            persona = [header, *(_passage(lib, i)[0] for i in picked)]
    text = "\n".join([*head, *persona, *middle, *feed, *tail])
    return fit(text, budget)  # a no-op: every part was counted conservatively


def agent_messages(
    world: World, system: str, agent_id: int, feed_ids: Sequence[int], round_no: int
) -> list[dict[str, Any]]:
    """The chat messages of one agent's turn; ``system`` is :func:`system_prompt` of the round."""
    budget = _budget(world) - estimate_tokens(system)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user_prompt(world, agent_id, feed_ids, round_no, budget)},
    ]


# -- a single forecast without simulation -------------------------------------------------------

DIRECT_MAX_REASON = 300  # characters of the one-line reason of a direct forecast
DIRECT_SYSTEM = (
    "You are a careful forecaster. Read the document, then give your probability that the question "
    "resolves YES, judging from the document alone. Answer only with one JSON object: "
    f'{{"reason": "why, in one line of at most {DIRECT_MAX_REASON} characters", "probability": 0-1}}.'
)


def _direct_question(goal: str, question: str, resolution: str) -> str:
    lines = [f"PREDICTION GOAL: {one_line(goal, 600)}"]
    if question.strip() and one_line(question, 600) != one_line(goal, 600):
        lines.append(f"QUESTION: {one_line(question, 600)}")
    if resolution.strip():
        lines.append(f"RESOLVES: {one_line(resolution, 400)}")
    return "\n".join(lines)


def direct_forecast_messages(
    seed_text: str, goal: str, question: str, resolution: str, prompt_tokens: int
) -> list[dict[str, str]]:
    """The one call of a single forecast without simulation: the goal, the goal market's question
    and resolution, and as much of the (enriched) seed as fits ``prompt_tokens`` (the same budget
    an agent's prompt keeps to; the seed is cut at the end, with an ellipsis, when it does not)."""
    ask = _direct_question(goal, question, resolution)
    head = ask + "\n\nDOCUMENT:\n"
    tail = (
        "\n\n" + ask + "\n\nWhat is the probability that this resolves YES? Give your reason in one line "
        f"(at most {DIRECT_MAX_REASON} characters), then the probability."
    )
    fixed = estimate_tokens(DIRECT_SYSTEM) + estimate_tokens(head) + estimate_tokens(tail) + 1
    document = fit(seed_text.strip(), max(0, prompt_tokens - TEMPLATE_TOKENS - fixed))
    return [
        {"role": "system", "content": DIRECT_SYSTEM},
        {"role": "user", "content": head + document + tail},
    ]
