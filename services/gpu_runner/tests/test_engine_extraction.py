"""Entity extraction and market derivation, heuristic and LLM-payload validation."""

import pytest

from services.gpu_runner.engine.extraction import (
    derive_markets_heuristic,
    extract_entities_heuristic,
    parse_entities,
    parse_markets,
    seed_digest,
)

TEXT = (
    "The European Commission proposed the Clean Grid Act in March. Ursula Brandt said the act will pass. "
    "The Green Party strongly supports the proposal. However, the Industry Federation warned that costs "
    "would rise and said it will oppose the act. Markus Feld of the Conservative Alliance expects a delay."
)
GOAL = "Predict whether the Clean Grid Act passes"


def test_named_spans_become_typed_entities_with_stances():
    entities, relations = extract_entities_heuristic(TEXT, GOAL, 12)
    by_name = {e.name: e for e in entities}
    assert by_name["Ursula Brandt"].kind == "person"
    assert by_name["Green Party"].kind == "organisation"
    assert by_name["Green Party"].stance > 0 > by_name["Industry Federation"].stance
    assert "Markus Feld" in by_name and "Conservative Alliance" in by_name
    assert "However" not in by_name and "Clean Grid Act" not in by_name  # no sentence openers, no topic
    assert [e.kind for e in entities[-2:]] == ["viewpoint", "viewpoint"]
    assert entities[-2].stance > 0 > entities[-1].stance
    assert len({e.id for e in entities}) == len(entities)
    assert any(
        r.type == "co_mentioned"
        and {r.source, r.target} == {by_name["Markus Feld"].id, by_name["Conservative Alliance"].id}
        for r in relations
    )


def test_max_entities_is_respected():
    assert len(extract_entities_heuristic(TEXT, GOAL, 3)[0]) == 3


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_markets_start_with_the_goal_and_number_one_to_five(n):
    entities, _ = extract_entities_heuristic(TEXT, GOAL, 12)
    markets = derive_markets_heuristic(GOAL, entities, 30, n)
    assert len(markets) == n
    assert markets[0].id == "m1" and "the Clean Grid Act passes" in markets[0].question
    assert [m.id for m in markets] == [f"m{i + 1}" for i in range(n)]
    assert all(0 < m.initial_price_yes < 1 and m.rationale for m in markets)


@pytest.mark.parametrize(
    ("goal", "m1"),
    [
        ("Will the strike end by June?", "Will the strike end by June?"),
        ("will the strike end by June", "Will the strike end by June?"),
        ("Predict whether the Clean Grid Act passes", "Will it turn out that the Clean Grid Act passes?"),
    ],
)
def test_market_questions_read_as_standalone_questions(goal, m1):
    entities, _ = extract_entities_heuristic(TEXT, goal, 12)
    markets = derive_markets_heuristic(goal, entities, 30, 5)
    assert markets[0].question == m1  # the goal as the user asked it
    for market in markets[1:]:
        assert market.question.endswith("?") and f"“{m1}”" in market.question
        assert market.question.count("?") == 2  # the quoted goal's and its own: no question run-ons


def test_digest_prefers_sentences_about_the_goal():
    digest = seed_digest(TEXT, GOAL, limit=120)
    assert "Clean Grid Act" in digest and len(digest) <= 120


def test_llm_entity_payload_is_checked():
    good = {
        "entities": [
            {"name": "A", "kind": "person", "summary": "s", "stance": 0.5},
            {"name": "B", "kind": "faction", "summary": "s", "stance": -0.5},
        ],
        "relations": [
            {"source": "A", "target": "B", "type": "opposes"},
            {"source": "A", "target": "Nobody", "type": "opposes"},
        ],
    }
    entities, relations = parse_entities(good, 5)
    assert [e.id for e in entities] == ["e1", "e2"]
    assert [(r.source, r.target, r.type) for r in relations] == [("e1", "e2", "opposes")]
    bad = {"entities": [{"name": "A", "kind": "alien", "summary": "s", "stance": 0.5}] * 2, "relations": []}
    with pytest.raises(ValueError, match=r"entities\[0\]\.kind"):
        parse_entities(bad, 5)


def test_llm_markets_keep_the_goal_first():
    markets = parse_markets(
        {
            "markets": [
                {"question": "Will B resign?", "initial_price_yes": 0.2, "rationale": "r", "link": -0.5}
            ]
        },
        GOAL,
        30,
        3,
    )
    assert [m.id for m in markets] == ["m1", "m2"] and markets[1].question == "Will B resign?"
    with pytest.raises(ValueError, match="initial_price_yes"):
        parse_markets(
            {
                "markets": [
                    {"question": "Will B resign?", "initial_price_yes": 1.5, "rationale": "r", "link": 0}
                ]
            },
            GOAL,
            30,
            3,
        )


MARKDOWN_SEED = """# The harbour vote

**Mayor Dana Okafor** backs the levy. The Chamber's president, **Victor Lindqvist**, warned
that a higher tax will push shoppers away, while the Harbor City Chamber of Commerce is split.
- **Mei Tanaka** says foot traffic will make up for it.
"""


def test_markdown_seed_gives_clean_names_and_summaries():
    goal = "Will Measure T pass on 14 March?"
    entities, _ = extract_entities_heuristic(MARKDOWN_SEED + "Measure T is the levy.", goal, 12)
    names = [e.name for e in entities]
    stakeholders = {"Mayor Dana Okafor", "Victor Lindqvist", "Mei Tanaka", "Harbor City Chamber of Commerce"}
    assert stakeholders <= set(names)
    assert "Chamber's" not in names and "Chamber" not in names  # the possessive folds into the full name
    assert "Measure T" not in names  # named in the goal: the topic, not a stakeholder
    assert not any(ch in e.summary for e in entities for ch in "#*")
    # A hard-wrapped line stays one sentence: the summary runs past the line break.
    lindqvist = next(e for e in entities if e.name == "Victor Lindqvist")
    assert "push shoppers away" in lindqvist.summary
