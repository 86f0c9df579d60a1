"""Facts about the outcome itself: expectations, quoted odds, schedules against the deadline,
committed stakes and tallies (engine/outlook.py and their use in engine/evidence.py)."""

import pytest

from services.common.questions import analyze_goal
from services.gpu_runner.engine.evidence import read_evidence
from services.gpu_runner.engine.outlook import deadline_of, event_sign, goal_verb

FILLER = (
    "The decision has been debated for months in the local press and at several public meetings. "
    "Residents have written hundreds of letters, and the question dominates the talk in cafes. "
)


def prior(text: str, goal: str, names=()) -> float:
    return read_evidence(FILLER + text, goal, list(names)).prior


def kinds(text: str, goal: str, names=()) -> set[str]:
    return {i.kind for i in read_evidence(FILLER + text, goal, list(names)).items}


def test_the_goal_verb_and_what_a_clause_says_about_it():
    verb = goal_verb(analyze_goal("Will the Reserve Board raise interest rates in May?"))
    assert verb == "raise"
    assert event_sign("rates to be held at 4 per cent", verb) == -1  # an alternative, not the event
    assert event_sign("a quarter-point increase", verb) == 1
    assert event_sign("a cut later in the year", verb) == -1
    approve = goal_verb(analyze_goal("Will the assembly approve the budget?"))
    assert event_sign("the budget to pass comfortably", approve) == 1
    assert event_sign("the budget to be voted down", approve) == -1
    assert event_sign("the budget not to pass", approve) == -1
    assert event_sign("a long debate", approve) == 0


def test_stated_expectations_move_the_prior_and_their_negation_mirrors_it():
    goal = "Will the Reserve Board raise interest rates in May?"
    held = "Most economists expect the Reserve Board to hold rates in May, and none expect a hike."
    raised = "Most economists expect the Reserve Board to raise rates in May; markets see a hike as settled."
    assert prior(held, goal) < 0.3 < 0.7 < prior(raised, goal)
    negated = "Will the Reserve Board not raise interest rates in May?"
    assert prior(held, negated) == pytest.approx(1 - prior(held, goal), abs=1e-9)
    assert "expectation" in kinds(held, goal)


def test_an_outcome_on_course_or_unlikely():
    goal = "Will the county approve the quarry permit?"
    assert prior("The quarry permit is on course to be rejected at Monday's hearing.", goal) < 0.4
    assert prior("The quarry permit is set to be approved at Monday's hearing.", goal) > 0.6
    assert prior("Approval of the quarry permit looks unlikely to pass on Monday.", goal) < 0.4


def test_quoted_odds_are_read_for_the_event_or_its_alternative():
    goal = "Will the Reserve Board raise interest rates in May?"
    low = prior("Futures markets price only a 10 per cent chance of a hike in May.", goal)
    high = prior("Bookmakers put the odds of a rate rise in May at 80 per cent.", goal)
    assert low < 0.2 and high > 0.7


def test_a_schedule_after_the_deadline_says_no_and_one_before_it_says_yes():
    goal = "Will the Harlow ferry service restart by 1 June?"
    assert deadline_of(goal) == (6, 1, None)
    late = prior("The operator now expects the Harlow ferry service to restart in late August.", goal)
    moved = prior("The restart of the Harlow ferry service has been postponed to September.", goal)
    early = prior("The operator confirmed the Harlow ferry service will restart on 20 May.", goal)
    assert late < 0.35 and moved < 0.35 and early > 0.6
    # a month in a word ("Mayor", "Marchers") is no date
    assert "schedule" not in kinds("Mayor Ann Hale praised the ferry crew. Marchers cheered.", goal)


def test_a_decision_at_a_dated_meeting_is_not_a_schedule():
    goal = "Will the council approve the budget at its 3 March meeting?"
    assert "schedule" not in kinds("The council will vote on the budget on 3 March.", goal)


def test_committed_stakes_against_a_supermajority_block_it():
    goal = "Will Orrin Mills shareholders approve the takeover by Vale Group?"
    blocked = (
        "The takeover needs 75 per cent of the votes cast. Investors holding 30 per cent of the shares "
        "have said they will vote against it."
    )
    carried = (
        "The takeover needs 75 per cent of the votes cast. Holders of 80 per cent of the shares have "
        "given undertakings to vote in favour."
    )
    assert prior(blocked, goal) < 0.1 and prior(carried, goal) > 0.9


def test_tallies_with_thousands_separators_and_turnout_are_read_as_votes_not_polls():
    goal = "Will nurses vote for strike action in the June ballot?"
    text = (
        "In the indicative ballot 4,215 nurses voted for strike action and 1,980 against, on a turnout "
        "of 61 per cent, above the 50 per cent turnout the law requires."
    )
    flipped = (
        "In the indicative ballot 1,980 nurses voted for strike action and 4,215 against, on a turnout "
        "of 61 per cent, above the 50 per cent turnout the law requires."
    )
    assert prior(text, goal) > 0.85 and prior(flipped, goal) < 0.15
    assert "poll" not in kinds(text, goal)


def test_a_count_of_the_whole_body_is_not_a_side():
    goal = "Will the district board adopt the new curriculum on 9 April?"
    short = "Only 4 of the district's 11 board members will vote for it; 6 board members will vote against."
    assert prior(short, goal) < 0.2


def test_a_listed_subject_gives_every_listed_stakeholder_the_stance():
    goal = "Will the city adopt the cycle plan?"
    names = ["Green Streets", "Cyclists Union", "Chamber of Trade"]
    evidence = read_evidence(
        FILLER + "Green Streets and the Cyclists Union have campaigned for the cycle plan all year.",
        goal,
        names,
    )
    assert evidence.lean_of("Green Streets") > 0 and evidence.lean_of("Cyclists Union") > 0
    assert evidence.lean_of("Chamber of Trade") == 0


def test_praise_for_something_else_is_no_endorsement():
    goal = "Will the city adopt the cycle plan?"
    names = ["Mayor Ann Hale"]
    unrelated = read_evidence(FILLER + "Mayor Ann Hale praised the volunteers at the fair.", goal, names)
    related = read_evidence(FILLER + "Mayor Ann Hale praised the cycle plan at the fair.", goal, names)
    assert unrelated.lean_of("Mayor Ann Hale") == 0 and related.lean_of("Mayor Ann Hale") > 0


def test_recorded_votes_carry_their_motion():
    goal = "Will the parks board extend the summer hours into September?"
    assert prior("The parks committee voted 5-0 on Monday to extend the summer hours.", goal) > 0.7
    assert prior("The parks committee voted 4 to 1 against extending the summer hours.", goal) < 0.3
    assert prior("The parks committee voted 4-1 to end the summer hours early.", goal) < 0.3


def test_poll_shares_are_labelled_by_what_respondents_would_do():
    goal = "Will Mayor Ana Ruiz be removed from office in the recall vote?"
    poll = "A poll of 600 voters has {}% saying they will vote to remove her and {}% saying they keep her."
    assert prior(poll.format(37, 55), goal) < 0.2 < 0.8 < prior(poll.format(58, 35), goal)


def test_a_quoted_probability_of_the_event_at_a_level():
    goal = "Will the regulator approve Zentavir by its June decision date?"
    assert prior("Our analysts raise the probability of approval to 85 per cent.", goal) > 0.75
    assert prior("Our analysts cut the probability of approval to 15 per cent.", goal) < 0.25


def test_a_quarter_point_is_no_vote_share():
    goal = "Will the central bank raise rates in March?"
    assert "poll" not in kinds("Of 20 economists surveyed, most expect a quarter point cut.", goal)


def test_being_back_is_no_backing_and_a_veto_renounced_is_no_opposition():
    goal = "Will the city adopt the cycle plan?"
    names = ["Night Market", "Governor Lee"]
    text = "The Night Market is back on Fridays. Governor Lee will sign the cycle plan without a veto."
    evidence = read_evidence(FILLER + text, goal, names)
    assert evidence.lean_of("Night Market") == 0 and evidence.lean_of("Governor Lee") >= 0


def test_a_rephrased_negation_reads_the_same_sentences():
    """'Will the board grant X?' and 'Will X be blocked by the board?' see the same facts."""
    text = (
        "The Kestrel Planning Board voted 5-1 on Monday to recommend the Mill Lane housing scheme. "
        "Officers say the Mill Lane housing scheme meets every policy test."
    )
    grant = prior(text, "Will the Kestrel Planning Board approve the Mill Lane housing scheme?")
    blocked = prior(text, "Will the Mill Lane housing scheme be blocked by the Kestrel Planning Board?")
    assert grant > 0.6 and grant + blocked == pytest.approx(1.0, abs=1e-9)
