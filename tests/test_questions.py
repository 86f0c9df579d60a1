"""Reading goals (yes/no or not, which way YES points) and suggesting questions from a seed."""

import pytest

from services.common.questions import (
    analyze_goal,
    decision_object,
    find_milestones,
    present_clause,
    split_sentences,
    suggest_questions,
)

# -- accepted goals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "question", "subject"),
    [
        ("Will Measure T pass?", "Will Measure T pass?", "Measure T"),
        ("will the strike end by June", "Will the strike end by June?", "the strike"),
        ("Predict whether Measure T will pass", "Will Measure T pass?", "Measure T"),
        ("Predict whether the Clean Grid Act passes.", "Will the Clean Grid Act pass?", "the Clean Grid Act"),
        ("Forecast if the launch will be delayed", "Will the launch be delayed?", "the launch"),
        ("Estimate whether or not the merger closes by May", "Will the merger close by May?", "the merger"),
        ("Whether the bridge opens on time", "Will the bridge open on time?", "the bridge"),
        ("How likely is it that the union will strike in May?", "Will the union strike in May?", "the union"),
        ("How likely are voters to approve Proposition 9?", "Will voters approve Proposition 9?", "voters"),
        (
            "What is the probability that the Fed cuts rates in June?",
            "Will the Fed cut rates in June?",
            "the Fed",
        ),
        (
            "Estimate the probability of Measure T passing by June",
            "Will Measure T pass by June?",
            "Measure T",
        ),
        (
            "Is the Eastline likely to open in 2027?",
            "Is the Eastline likely to open in 2027?",
            "the Eastline",
        ),
        (
            "Has the merger been blocked by regulators?",
            "Has the merger been blocked by regulators?",
            "the merger",
        ),
        (
            "Does the bill clear the Senate before recess?",
            "Does the bill clear the Senate before recess?",
            "the bill",
        ),
        ("Can the Greens win at least 10 seats?", "Can the Greens win at least 10 seats?", "the Greens"),
        ("Should we expect the general strike to end by Friday?", None, None),
        (
            "Will the general strike end by Friday?",
            "Will the general strike end by Friday?",
            "the general strike",
        ),
        ("Predict: will the deal close?", "Will the deal close?", "the deal"),
        ("Measure T will pass?", "Will Measure T pass?", "Measure T"),
        ("Will Measure T pass or not?", "Will Measure T pass?", "Measure T"),
        ("Will inflation reach 3% or more by June?", "Will inflation reach 3% or more by June?", "inflation"),
        (
            "Will the vote happen on or before 14 March?",
            "Will the vote happen on or before 14 March?",
            "the vote",
        ),
        (
            "Will Measure T (the Eastline light-rail levy) pass on 14 March?",
            "Will Measure T (the Eastline light-rail levy) pass on 14 March?",
            "Measure T",
        ),
        (
            "Will Acme Corp divest its shipping arm by June? Consider the filings.",
            "Will Acme Corp divest its shipping arm by June?",
            "Acme Corp",
        ),
    ],
)
def test_yes_no_questions_are_accepted_and_normalised(goal, question, subject):
    analysis = analyze_goal(goal)
    assert analysis.is_yes_no, analysis.reason
    assert analysis.reason == ""
    assert analysis.question.endswith("?") and analysis.question[0].isupper()
    assert analysis.proposition and "?" not in analysis.proposition
    # the normalised question reads back as itself, with the same event and polarity
    again = analyze_goal(analysis.question)
    assert (again.question, again.proposition, again.polarity) == (
        analysis.question,
        analysis.proposition,
        analysis.polarity,
    )
    if question is not None:
        assert analysis.question == question
        assert analysis.subject == subject
        assert analysis.proposition.startswith(subject)


def test_the_proposition_is_the_event_clause_as_asked():
    assert analyze_goal("Predict whether Measure T will pass").proposition == "Measure T will pass"
    assert analyze_goal("Will Measure T not pass?").proposition == "Measure T will not pass"
    assert analyze_goal("Is Measure T likely to fail?").proposition == "Measure T is likely to fail"
    # present tense for resolution criteria
    assert present_clause(analyze_goal("Will Measure T pass on 14 March?")) == "Measure T passes on 14 March"
    assert present_clause(analyze_goal("Will the launch be delayed?")) == "the launch is delayed"
    assert present_clause(analyze_goal("Will voters approve the bond?")) == "voters approve the bond"
    assert present_clause(analyze_goal("Won't the mayor sign it?")) == "the mayor does not sign it"
    assert present_clause(analyze_goal("Is Measure T likely to fail?")) == "Measure T fails"


# -- polarity and negation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "polarity"),
    [
        ("Will Measure T pass?", 1),
        ("Will Measure T fail?", -1),
        ("Will Measure T not pass?", -1),
        ("Won't Measure T pass?", -1),
        ("Will Measure T not fail?", 1),
        ("Will the council approve the plan?", 1),
        ("Will the council reject the plan?", -1),
        ("Will the council fail to reject the plan?", 1),
        ("Will the council refuse to approve the plan?", -1),
        ("Will the council vote to reject the plan?", -1),
        ("Will the bill be voted down?", -1),
        ("Will the ordinance be struck down by the court?", -1),
        ("Has the merger been blocked by regulators?", -1),
        ("Is the referendum going to be cancelled?", -1),
        ("Will the deal fall through?", -1),
        ("Will Okafor lose the election?", -1),
        ("Will the launch be delayed?", -1),
        ("Will the bridge never open?", -1),
        ("Will the union no longer back the strike?", -1),
        ("Will no candidate win a majority?", -1),
        ("Predict whether the Clean Grid Act passes", 1),
        ("How likely is it that the merger collapses?", -1),
        ("Will the bridge open by 30 June?", 1),
        ("Will Okafor win the election?", 1),
    ],
)
def test_polarity_says_which_outcome_yes_is(goal, polarity):
    analysis = analyze_goal(goal)
    assert analysis.is_yes_no, analysis.reason
    assert analysis.polarity == polarity


# -- refused goals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "says"),
    [
        ("What will happen to Eastline?", "what will happen"),
        ("Predict what happens to the levy", "what will happen"),
        ("How many seats will the Greens win?", "a number"),
        ("How much will the stadium cost?", "a number"),
        ("How will the council vote?", "how things will go"),
        ("Which party will win the election?", "which of several"),
        ("Who will win the mayoral race?", "who will"),
        ("When will the bridge open?", "when something happens"),
        ("Why did the strike start?", "why"),
        ("Predict public sentiment about the levy", "description or an estimate"),
        ("Forecast the outcome of the vote", "description or an estimate"),
        ("Eastline light-rail levy", "no event"),
        ("Will Labour or the Conservatives win the election?", "several outcomes"),
        ("Predict whether Okafor or Reyes wins", "several outcomes"),
        ("Will the Chamber endorse Measure T or stay neutral?", "several outcomes"),
        ("Will Measure T pass? Will it fail?", "more than one question"),
        ("Will?", "does not say what should happen"),
        ("   ", "empty"),
    ],
)
def test_open_ended_goals_are_refused_with_a_plain_reason(goal, says):
    analysis = analyze_goal(goal)
    assert not analysis.is_yes_no
    assert analysis.question == analysis.proposition == ""
    assert says in analysis.reason
    # the reason tells the user what to ask instead, with an example that is itself acceptable
    assert "yes/no question" in analysis.reason
    example = analysis.reason.rsplit("“", 1)[1].split("”")[0]
    assert analyze_goal(example).is_yes_no


def test_decision_object_is_what_stakeholders_back():
    assert decision_object(analyze_goal("Will Measure T pass?")) == "Measure T"
    assert (
        decision_object(analyze_goal("Will the council approve the transit levy by June?"))
        == "the transit levy"
    )
    assert decision_object(analyze_goal("Will Okafor win the election?")) == "Okafor"
    assert decision_object(analyze_goal("Will inflation fall below 3%?")) == ""


def test_abbreviations_do_not_end_sentences():
    text = "Dr. Lena Ortiz testified on Monday. The committee voted 7-2. Item No. 5 passed."
    assert split_sentences(text) == [
        "Dr. Lena Ortiz testified on Monday.",
        "The committee voted 7-2.",
        "Item No. 5 passed.",
    ]


# -- suggestions ----------------------------------------------------------------------------------

LEVY_SEED = """# Port Alder weighs a library levy

Port Alder will vote on 9 April on Proposition 4, a seven-year property-tax levy that would reopen
the Westgate branch library and extend opening hours at the central library. The Port Alder City
Council placed the levy on the ballot in January after a 5-2 vote.

The Port Alder Library Foundation backs the levy and has raised $80,000 for its campaign. The Port
Alder Homeowners Association says the tax is too high and is urging members to vote no. The Port
Alder Chamber of Commerce has not taken a position. The county assessor's valuation report, due from
the assessor's office on 20 March, will show how much the levy would cost the median homeowner.
"""

MERGER_SEED = """Brightwater Foods and Calloway Dairy announced a merger in February. The deal needs approval
from the Competition Authority, which is expected to publish its ruling by 30 June. Brightwater's
board approved the terms last week; Calloway shareholders will vote on the deal on 12 May. The
Dairy Farmers Union opposes the merger, warning that it would cut prices paid to farmers.
"""


@pytest.mark.parametrize(
    ("seed", "names"), [(LEVY_SEED, ["Proposition 4"]), (MERGER_SEED, ["merger", "deal"])]
)
def test_suggestions_are_valid_distinct_questions_drawn_from_the_seed(seed, names):
    suggestions = suggest_questions(seed, "What will happen?", 30, 3)
    assert 1 <= len(suggestions) <= 3
    assert len({s.lower() for s in suggestions}) == len(suggestions)
    for question in suggestions:
        assert analyze_goal(question).is_yes_no, question
    assert any(name in suggestions[0] for name in names)
    assert suggest_questions(seed, "What will happen?", 30, 3) == suggestions  # deterministic


def test_suggestions_use_the_seed_dates_milestones_and_stakeholders():
    suggestions = suggest_questions(LEVY_SEED, "What will happen to the library?", 30, 3)
    assert suggestions[0] == "Will Proposition 4 pass by 9 April?"
    assert any("20 March" in s and "report" in s for s in suggestions)  # the dated milestone
    stakeholders = ("City Council", "Library Foundation", "Homeowners Association", "Chamber of Commerce")
    assert any(name in s for s in suggestions for name in stakeholders)  # a stakeholder's decision
    more = suggest_questions(LEVY_SEED, "", 30, 6)
    assert more[:3] == suggestions and len(more) == 6


def test_milestones_name_who_does_what_by_when():
    questions = [m.question for m in find_milestones(MERGER_SEED)]
    assert "Will the Competition Authority publish its ruling by 30 June?" in questions
    assert any(q.startswith("Will Calloway shareholders vote on the deal by 12 May") for q in questions)


def test_a_seed_without_dates_gets_generic_but_valid_questions_about_its_subject():
    seed = (
        "The Fairview school board is debating a budget that closes two elementary schools. Parents packed "
        "the last meeting and the teachers' union has asked for more time to study the budget."
    )
    suggestions = suggest_questions(seed, "What should the board do?", 45, 3)
    assert suggestions and all(analyze_goal(q).is_yes_no for q in suggestions)
    assert suggestions[0] == "Will the budget pass within 45 days?"
    assert suggest_questions("", "What next?") == []
    assert suggest_questions("the quick brown fox jumps over the lazy dog " * 5, "What next?") == []
    assert suggest_questions(LEVY_SEED, "", 30, 0) == []
