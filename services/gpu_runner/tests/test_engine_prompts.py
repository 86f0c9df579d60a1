"""What an LLM agent is shown: a byte-stable system message with shared seed passages, and its own
message inside the per-agent token budget at any round, with any seed."""

import re

import pytest

from services.gpu_runner.engine.actions import Turn, validate_turn
from services.gpu_runner.engine.prompts import (
    TEMPLATE_TOKENS,
    agent_messages,
    library,
    shared_passages,
    system_prompt,
)
from services.gpu_runner.engine.retrieval import chunk_passages, estimate_tokens
from services.gpu_runner.engine.types import Entity, MarketSpec, SimulationConfig
from services.gpu_runner.engine.world import World

GOAL = "Will Measure T, the Harbor transit levy, pass on November 5?"
SEED = """# Measure T: the Harbor Transit Levy

Measure T would add a half-cent sales tax for 30 years to fund the Harbor Line light rail. It needs
a two-thirds majority of the votes cast on November 5.

## Polling
A September poll by the Harbor Institute found 61% of likely voters in favour of Measure T and 33%
against, with 6% undecided.

## The Taxpayers Alliance
The Taxpayers Alliance calls the levy regressive. Its director, Sam Kerr, says families already pay
too much, and the Alliance raised 1.2 million dollars for its No campaign.

## The dockworkers
The Dockworkers Guild has not taken a position; its members split over the rail depot's location.

## Precedent
A similar transit levy, Measure K, failed in 2016 with 64% in favour, short of two-thirds.

## City hall
Mayor Lena Ortiz tours every district with her staff and calls the rail line her first priority.
"""
ENTITIES = [
    Entity("e1", "Harbor Chamber of Commerce", "organisation", "Business group backing Measure T.", 0.7, 3),
    Entity("e2", "Taxpayers Alliance", "faction", "Campaign against the levy, led by Sam Kerr.", -0.8, 4),
    Entity("e3", "Dockworkers Guild", "organisation", "Union split over the rail depot.", 0.0, 2),
    Entity("e4", "Lena Ortiz", "person", "Mayor campaigning for the levy.", 0.6, 2),
]


def specs(n: int = 3, resolution: str = "") -> list[MarketSpec]:
    rows = [
        MarketSpec("m1", GOAL, 0.5, "the goal", 1.0, resolution or "YES if certified results pass it.", 0.6),
        MarketSpec(
            "m2",
            "Will the Taxpayers Alliance spend over 2 million dollars against Measure T?",
            0.4,
            "opposition money",
            -0.5,
            resolution or "YES if campaign filings show more than 2 million dollars.",
            0.4,
            "stakeholder",
        ),
        MarketSpec(
            "m3",
            "Will the Dockworkers Guild endorse Measure T before the vote?",
            0.3,
            "a swing endorsement",
            0.6,
            resolution or "YES if the Guild announces an endorsement of Measure T.",
            0.3,
            "stakeholder",
        ),
        MarketSpec("m4", "Will turnout exceed 50%?", 0.5, "turnout", 0.2, resolution, 0.5, "milestone"),
        MarketSpec("m5", "Will the mayor hold a rally?", 0.6, "campaign", 0.3, resolution, 0.6, "milestone"),
    ]
    return rows[:n]


def make_world(seed_text=SEED, prompt_tokens=1500, agents=12, markets=3, resolution="", **cfg) -> World:
    config = SimulationConfig(agents=agents, rounds=200, seed=5, prompt_tokens=prompt_tokens, **cfg)
    world = World(config, GOAL, list(ENTITIES), [], specs(markets, resolution), {}, chunk_passages(seed_text))
    world.build_agents()
    return world


def play(world: World, rounds: int, text_chars: int = 280) -> None:
    """A cheap policy that fills every memory the prompt draws on: long posts and reasons, likes,
    replies, trades and a failed turn now and then."""
    ids = world.market_ids
    for r in range(world.round + 1, world.round + rounds + 1):
        feeds = world.build_feeds(r)
        turns: list[Turn | None] = []
        for agent in world.agents:
            i = agent.id
            if (i + r) % 17 == 0:
                turns.append(None)
                continue
            p = 0.2 + 0.6 * ((i * 7 + r * 3) % 10) / 10
            actions = [
                {
                    "type": "create_post",
                    "text": (f"r{r} a{i} " + "evidence " * 40)[:text_chars],
                    "stance": 2 * p - 1,
                }
            ]
            if feeds[i]:
                actions.append({"type": "like", "post_id": feeds[i][0]})
                actions.append(
                    {"type": "reply", "post_id": feeds[i][-1], "text": "no, " * 70, "stance": -0.5}
                )
            actions.append({"type": "buy", "market_id": ids[r % len(ids)], "outcome": "yes", "amount": 0.5})
            turns.append(
                validate_turn(
                    {
                        "thought": "t",
                        "beliefs": {
                            m: {"probability": p, "reason": f"round {r} reason " + "x" * 150} for m in ids
                        },
                        "confidence": 0.6,
                        "actions": actions,
                    },
                    world.config.max_actions,
                    ids,
                )
            )
        world.apply_turns(r, feeds, turns, ["invalid: test"] * len(turns))


def prompt_tokens_of(messages) -> int:
    return sum(estimate_tokens(m["content"]) for m in messages) + TEMPLATE_TOKENS


def test_every_prompt_fits_the_budget_at_round_200_and_memory_stays_bounded():
    world = make_world(prompt_tokens=1500)
    play(world, 2)
    feeds = world.build_feeds(3)
    early = [
        prompt_tokens_of(agent_messages(world, system_prompt(world), a.id, feeds[a.id], 3))
        for a in world.agents
    ]
    play(world, 197)
    assert world.round == 199 and len(world.posts) > 3000
    r = 200
    feeds = world.build_feeds(r)
    system = system_prompt(world)
    for agent in world.agents:
        messages = agent_messages(world, system, agent.id, feeds[agent.id], r)
        assert [m["role"] for m in messages] == ["system", "user"]
        assert prompt_tokens_of(messages) <= world.config.prompt_tokens
        user = messages[1]["content"]
        assert user.startswith(f"ROUND {r} of 200.\nYOU: agent {agent.id}, ")
        # its memory: the last statement per market, with the reason it gave
        for m in world.market_ids:
            p = agent.belief.probabilities[m]
            assert re.search(rf"^- {m}: {p:.2f}( - round \d+ reason x+)?$", user, re.MULTILINE)
        assert "YOUR WALLET: cash" in user and "YOUR FEED (best first):" in user
    late = [prompt_tokens_of(agent_messages(world, system, a.id, feeds[a.id], r)) for a in world.agents]
    # a long history does not grow the prompt: memory is the last statement and a few actions
    assert max(late) <= max(early) + 64


def test_system_message_is_the_same_bytes_for_every_agent_and_round():
    world = make_world()
    first = system_prompt(world)
    play(world, 5)
    feeds = world.build_feeds(6)
    systems = {
        agent_messages(world, system_prompt(world), a.id, feeds[a.id], 6)[0]["content"] for a in world.agents
    }
    assert systems == {first}
    # a fresh world over the same inputs (a resumed run) builds the same bytes: the cache holds
    assert system_prompt(make_world()) == first
    for needle in [
        GOAL,
        "m1:",
        "m2:",
        "m3:",
        "Resolves: YES if certified results pass it.",
        '"beliefs"',
        '"confidence"',
    ]:
        assert needle in first


def test_shared_passages_come_first_and_persona_passages_add_to_them():
    world = make_world(long_seed(8_000), prompt_tokens=2400)
    lib = library(world)
    system = system_prompt(world)
    shared = shared_passages(world)
    assert 2 <= len(shared) < len(lib)  # half the budget holds some passages, not all of them
    # the passages BM25 ranks best for the goal and the markets, shown in rank order
    query = " ".join([GOAL, *(s.question for s in world.specs)])
    shown = [int(i) for i in re.findall(r"^\[S(\d+)\] ", system, re.MULTILINE)]
    ranking = lib.top(query, len(lib))
    assert shown == list(shared) == [i for i in ranking if i in shared]
    assert shown[0] == ranking[0]  # a passage lower down is taken only when a better one is too long
    assert "Measure T would add a half-cent sales tax" in system
    # and the system message stays within its half of the budget
    assert estimate_tokens(system) <= (world.config.prompt_tokens - TEMPLATE_TOKENS) // 2
    # an agent's own passages come from its persona and never repeat a shared one
    feeds = world.build_feeds(1)
    mayor = next(a for a in world.agents if a.name == "Lena Ortiz")
    city_hall = next(i for i, p in enumerate(lib.passages) if "Mayor Lena Ortiz tours" in p)
    assert city_hall not in shared
    user = agent_messages(world, system, mayor.id, feeds[mayor.id], 1)[1]["content"]
    own = [int(i) for i in re.findall(r"^\[S(\d+)\] ", user, re.MULTILINE)]
    assert own and own[0] == city_hall and not set(own) & set(shared)
    # they come right after the persona, before the agent's memory and wallet
    assert user.index("FROM THE SOURCES, FOR YOUR ROLE:") < user.index("YOUR STARTING VIEW")


def long_seed(chars: int) -> str:
    """A long, varied seed: many stakeholders, each with numbers and positions."""
    parts = [SEED]
    k = 0
    while sum(map(len, parts)) < chars:
        parts.append(
            f"## Stakeholder {k}\nThe Neighbourhood Council {k} met on day {k % 28 + 1} and voted "
            f"{40 + k % 50} to {k % 37} on a resolution about Measure T. Its chair, Alex Member{k}, said "
            f"the levy would cost households {k * 3 % 200} dollars a year. Turnout was {k % 90}%.\n"
        )
        k += 1
    return "\n".join(parts)


@pytest.mark.parametrize("budget", [1024, 1500, 2048, 6000])
def test_a_50k_character_seed_long_posts_and_five_markets_still_fit(budget):
    seed = long_seed(50_000)
    assert len(seed) >= 50_000
    world = make_world(
        seed, prompt_tokens=budget, agents=10, markets=5, resolution="YES if " + "so " * 150, feed_size=20
    )
    for a in world.agents:  # long names and summaries from an LLM extraction
        a.summary = "A very detailed persona summary. " * 40
    play(world, 4)
    feeds = world.build_feeds(5)
    system = system_prompt(world)
    assert '"beliefs"' in system  # the answer format is never what gets cut
    for agent in world.agents:
        messages = agent_messages(world, system, agent.id, feeds[agent.id], 5)
        assert prompt_tokens_of(messages) <= budget
        assert messages[1]["content"].startswith("ROUND 5 of 200.")
    if budget >= 2048:  # with room, every market's memory and the feed are shown
        user = agent_messages(world, system, 0, feeds[0], 5)[1]["content"]
        assert all(f"- [{m}] price YES" in user for m in world.market_ids)
        assert "YOUR FEED (best first):" in user and len(re.findall(r"^- #\d+ by", user, re.MULTILINE)) >= 3
