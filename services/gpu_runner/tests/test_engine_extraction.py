"""Entity extraction, evidence stances, market derivation, and LLM-payload validation."""

import json

import pytest

from services.common.questions import analyze_goal
from services.gpu_runner.engine.extraction import (
    derive_markets_heuristic,
    extract_entities_heuristic,
    parse_entities,
    parse_markets,
)
from services.gpu_runner.engine.types import MarketSpec

TEXT = (
    "The European Commission proposed the Clean Grid Act in March. Ursula Brandt said the act will pass. "
    "The Green Party strongly supports the proposal. However, the Industry Federation warned that costs "
    "would rise and said it will oppose the act. Markus Feld of the Conservative Alliance expects a delay."
)
GOAL = "Predict whether the Clean Grid Act passes"

LEVY_SEED = """# Port Alder weighs a library levy

Port Alder will vote on 9 April on Proposition 4, a seven-year property-tax levy that would reopen
the Westgate branch library. The Port Alder City Council placed the levy on the ballot in January.

The Port Alder Library Foundation backs the levy and has raised $80,000 for its campaign. The Port
Alder Homeowners Association says the tax is too high and opposes the levy. The Port Alder Chamber of
Commerce has not taken a position. Councillor Ruth Okonkwo campaigned for the levy at every branch.
The county assessor's valuation report, due from the assessor's office on 20 March, will show how much
the levy would cost the median homeowner. A poll by the Alder Ledger found 52% of likely voters in
favour and 41% against.
"""
LEVY_GOAL = "Will Proposition 4 pass on 9 April?"


def test_named_spans_become_typed_entities_with_evidence_stances():
    entities, relations, evidence = extract_entities_heuristic(TEXT, GOAL, 12)
    by_name = {e.name: e for e in entities}
    assert by_name["Ursula Brandt"].kind == "person"
    assert by_name["Green Party"].kind == "organisation"
    # stances are the evidence leans: an explicit supporter and an explicit opponent
    assert by_name["Green Party"].stance == evidence.lean_of("Green Party") > 0.5
    assert by_name["Industry Federation"].stance == evidence.lean_of("Industry Federation") < -0.5
    # expecting a delay or predicting a pass is an opinion about the outcome, not a stance
    assert by_name["Markus Feld"].stance == 0.0 and by_name["Ursula Brandt"].stance == 0.0
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


def test_stances_flip_with_the_goal_and_ignore_mood_words():
    goal_pass, goal_fail = "Will Proposition 4 pass?", "Will Proposition 4 fail?"
    moody = LEVY_SEED.replace("backs the levy", "cheerfully and proudly backs the levy").replace(
        "says the tax is too high", "says, gloomily, that the tax is too high"
    )
    for seed in (LEVY_SEED, moody):
        passing = {e.name: e.stance for e in extract_entities_heuristic(seed, goal_pass, 12)[0]}
        failing = {e.name: e.stance for e in extract_entities_heuristic(seed, goal_fail, 12)[0]}
        assert (
            passing["Port Alder Library Foundation"]
            > 0.5
            > -0.5
            > passing["Port Alder Homeowners Association"]
        )
        assert passing["Port Alder Chamber of Commerce"] == 0.0
        for name, stance in passing.items():
            if not name.startswith(("Optimists", "Skeptics")):
                assert failing[name] == -stance
    assert extract_entities_heuristic(moody, goal_pass, 12)[2].prior == pytest.approx(
        extract_entities_heuristic(LEVY_SEED, goal_pass, 12)[2].prior, abs=0.02
    )


def test_max_entities_is_respected():
    assert len(extract_entities_heuristic(TEXT, GOAL, 3)[0]) == 3


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_markets_start_with_the_goal_and_are_numbered(n):
    entities, _, evidence = extract_entities_heuristic(LEVY_SEED, LEVY_GOAL, 12)
    markets = derive_markets_heuristic(LEVY_GOAL, entities, evidence, 30, n)
    assert len(markets) == n  # this seed has enough stakeholders and milestones for five
    assert [m.id for m in markets] == [f"m{i + 1}" for i in range(n)]
    goal = markets[0]
    assert (goal.question, goal.kind, goal.link, goal.initial_price_yes) == (LEVY_GOAL, "goal", 1.0, 0.5)
    assert goal.prior == evidence.prior
    assert goal.resolution == (
        "Resolves YES if Proposition 4 passes on 9 April within the 30-day horizon (by day 30); NO otherwise."
    )


def test_derived_markets_are_real_questions_about_stakeholders_and_milestones():
    entities, _, evidence = extract_entities_heuristic(LEVY_SEED, LEVY_GOAL, 12)
    markets = derive_markets_heuristic(LEVY_GOAL, entities, evidence, 30, 5)
    derived = markets[1:]
    stakeholders = {e.name for e in entities if e.kind != "viewpoint"}
    assert {m.kind for m in derived} == {"stakeholder", "milestone"}
    for market in derived:
        assert analyze_goal(market.question).is_yes_no, market.question
        assert market.initial_price_yes == 0.5 and 0 < market.prior < 1 and -1 <= market.link <= 1
        assert market.resolution.startswith("Resolves YES if ") and market.resolution.endswith(
            "NO otherwise."
        )
        assert market.rationale
        # no templates wrapped around the goal
        assert LEVY_GOAL not in market.question and "observers" not in market.question
        assert "answer to" not in market.question
        if market.kind == "stakeholder":
            assert any(name in market.question for name in stakeholders)
            assert "by 9 April" in market.question  # the decision's date from the goal
    milestone = next(m for m in derived if m.kind == "milestone")
    assert "valuation report" in milestone.question and "by 20 March" in milestone.question
    by_question = {m.question: m for m in derived}
    chamber = by_question[
        "Will the Port Alder Chamber of Commerce publicly endorse Proposition 4 by 9 April?"
    ]
    assert chamber.link > 0 and chamber.prior < 0.5  # uncommitted: less likely to act
    foundation = next(m for m in derived if "Library Foundation" in m.question)
    assert "campaign publicly for" in foundation.question and foundation.prior > 0.7 and foundation.link > 0


def test_derived_market_links_and_priors_follow_the_goal_polarity():
    goal = "Will Proposition 4 fail on 9 April?"
    entities, _, evidence = extract_entities_heuristic(LEVY_SEED, goal, 12)
    markets = derive_markets_heuristic(goal, entities, evidence, 30, 5)
    assert markets[0].question == goal and evidence.polarity == -1
    foundation = next(m for m in markets if "Library Foundation" in m.question)
    assert foundation.link < 0  # its campaign for the levy works against YES on "fail"
    assert foundation.prior > 0.7


def test_a_seed_without_stakeholders_or_milestones_gets_the_goal_alone():
    seed = (
        "inflation has been easing for months. prices of food and fuel rose less than expected in the "
        "spring, "
        "and wages grew a little faster than prices for the first time in two years."
    )
    goal = "Will inflation fall below 3% by December?"
    entities, _, evidence = extract_entities_heuristic(seed, goal, 12)
    markets = derive_markets_heuristic(goal, entities, evidence, 30, 5)
    assert [m.id for m in markets] == ["m1"]
    assert markets[0].resolution == (
        "Resolves YES if inflation falls below 3% by December within the 30-day horizon (by day 30); NO "
        "otherwise."
    )


def test_markets_config_round_trip_keeps_every_field():
    entities, _, evidence = extract_entities_heuristic(LEVY_SEED, LEVY_GOAL, 12)
    markets = derive_markets_heuristic(LEVY_GOAL, entities, evidence, 30, 5)
    rows = json.loads(json.dumps([m.to_config() for m in markets]))
    again = [MarketSpec.from_config(row) for row in rows]
    assert again == markets
    assert [m.link for m in again] == [m.link for m in markets]
    assert any(m.link != 1.0 for m in again)


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


def llm_market(**fields):
    base = {
        "question": "Will Councillor Ruth Okonkwo resign from the library board by 1 May?",
        "initial_price_yes": 0.2,
        "rationale": "r",
        "link": -0.5,
        "resolution": "YES if the council minutes record her resignation by 1 May.",
    }
    return base | fields


def test_llm_markets_keep_the_goal_first_with_link_and_resolution():
    markets = parse_markets({"markets": [llm_market(), llm_market()]}, LEVY_GOAL, 30, 3)
    assert [m.id for m in markets] == ["m1", "m2"]  # the duplicate is dropped
    goal, derived = markets
    assert (goal.question, goal.kind, goal.prior) == (LEVY_GOAL, "goal", None)
    assert goal.resolution.startswith("Resolves YES if Proposition 4 passes on 9 April")
    assert derived.question == llm_market()["question"]
    assert (derived.link, derived.kind, derived.prior) == (-0.5, "llm", None)
    assert derived.resolution == llm_market()["resolution"]
    assert MarketSpec.from_config(derived.to_config()) == derived


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"initial_price_yes": 1.5}, "initial_price_yes"),
        ({"link": 2}, "link"),
        ({"resolution": ""}, "resolution"),
        ({"question": "What will the council do about the library?"}, "yes/no question"),
    ],
)
def test_llm_markets_are_checked(fields, error):
    with pytest.raises(ValueError, match=error):
        parse_markets({"markets": [llm_market(**fields)]}, LEVY_GOAL, 30, 3)
    bare = llm_market()
    del bare["resolution"]
    with pytest.raises(ValueError, match="resolution"):
        parse_markets({"markets": [bare]}, LEVY_GOAL, 30, 3)


MARKDOWN_SEED = """# The harbour vote

**Mayor Dana Okafor** backs the levy. The Chamber's president, **Victor Lindqvist**, warned
that a higher tax will push shoppers away, while the Harbor City Chamber of Commerce is split.
- **Mei Tanaka** says foot traffic will make up for it.
"""


def test_markdown_seed_gives_clean_names_and_summaries():
    goal = "Will Measure T pass on 14 March?"
    entities, _, _ = extract_entities_heuristic(MARKDOWN_SEED + "Measure T is the levy.", goal, 12)
    names = [e.name for e in entities]
    stakeholders = {"Mayor Dana Okafor", "Victor Lindqvist", "Mei Tanaka", "Harbor City Chamber of Commerce"}
    assert stakeholders <= set(names)
    assert "Chamber's" not in names and "Chamber" not in names  # the possessive folds into the full name
    assert "Measure T" not in names  # named in the goal: the topic, not a stakeholder
    assert not any(ch in e.summary for e in entities for ch in "#*")
    # A hard-wrapped line stays one sentence: the summary runs past the line break.
    lindqvist = next(e for e in entities if e.name == "Victor Lindqvist")
    assert "push shoppers away" in lindqvist.summary
