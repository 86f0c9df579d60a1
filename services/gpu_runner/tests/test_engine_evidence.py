"""The evidence reader: facts move the prior, tone never does, and the goal's polarity flips it."""

import json
import math

import pytest

from services.gpu_runner.engine.evidence import Evidence, read_evidence

# Facts about a ballot measure, written twice: once in gloomy words, once in cheerful ones.
BOND_FACTS = (
    "Voters in Lakeshore County {face} a {mood1} campaign over Proposition 9, a $240 million school bond. "
    "A {mood2} survey of 800 likely voters released on Monday found 58% support the bond and 35% oppose it, "
    "with 7% undecided. Under state law the bond needs 55% to pass. {Mood3} organisers at the Lakeshore "
    "Teachers Association back the measure. The Lakeshore Taxpayers League, {mood4}, opposes it. "
    "The Lakeshore Chamber of Commerce has not taken a position."
)
GLOOMY = {
    "face": "face",
    "mood1": "grim, rain-soaked",
    "mood2": "dismal",
    "Mood3": "Worried",
    "mood4": "bleak as ever",
}
CHEERFUL = {
    "face": "enjoy",
    "mood1": "sunny, cheerful",
    "mood2": "delightful",
    "Mood3": "Delighted",
    "mood4": "optimistic as ever",
}
BOND_NAMES = ["Lakeshore Teachers Association", "Lakeshore Taxpayers League", "Lakeshore Chamber of Commerce"]

COUNCIL = (
    "The Riverton City Council will vote on the 2026 transit budget on 12 June. The council has 60 members, "
    "and {needed} votes are needed to pass the budget. According to the council clerk, {yes} of the 60 "
    "councillors have pledged to vote for the budget, while {no} have said they will vote against it. "
    "Councillor Aisha Mensah, who chairs the finance committee, supports the budget. The Riverton Business "
    "Alliance opposes the budget, arguing that fares will rise."
)
COUNCIL_NAMES = ["Councillor Aisha Mensah", "Riverton Business Alliance", "Riverton City Council"]

STAKES = (
    "The Clean Harbour Act goes to a final vote in the Assembly next month. The Dockworkers Union {v1} the "
    "act, "
    "and Mayor Irene Castell {v2} it. The Shipowners Federation {v3} the act. Port commissioner Luis "
    "Ferreira "
    "has asked for more time to study the costs."
)
STAKE_NAMES = ["Dockworkers Union", "Mayor Irene Castell", "Shipowners Federation", "Luis Ferreira"]


def bond(words: dict[str, str]) -> str:
    return BOND_FACTS.format(**words)


def test_no_evidence_gives_an_even_prior():
    text = (
        "The committee met on Tuesday in the old town hall. Members talked about parking, the library roof "
        "and "
        "the summer festival. The weather was pleasant and everyone seemed cheerful and hopeful."
    )
    evidence = read_evidence(text, "Will the library expansion be approved?", ["Members"])
    assert evidence.prior == 0.5 and evidence.logit_positive == 0.0
    assert evidence.items == () and evidence.lean_of("Members") == 0.0 and evidence.lean_of("Nobody") == 0.0


def test_a_poll_above_its_threshold_makes_yes_likely_and_the_threshold_matters():
    evidence = read_evidence(bond(GLOOMY), "Will Proposition 9 pass?", BOND_NAMES)
    kinds = [i.kind for i in evidence.items]
    assert "poll" in kinds and "threshold" in kinds
    assert evidence.prior > 0.75
    # the same 58-35 poll against a two-thirds requirement is a likely NO
    harder = bond(GLOOMY).replace("needs 55% to pass", "needs a two-thirds majority to pass")
    assert read_evidence(harder, "Will Proposition 9 pass?", BOND_NAMES).prior < 0.25


@pytest.mark.parametrize(
    ("text", "goal", "names"),
    [
        (bond(GLOOMY), "Will Proposition 9 pass?", BOND_NAMES),
        (bond(GLOOMY), "Will Proposition 9 fail?", BOND_NAMES),
        (
            COUNCIL.format(needed=31, yes=38, no=17),
            "Will the council approve the 2026 transit budget?",
            COUNCIL_NAMES,
        ),
        (
            STAKES.format(v1="backs", v2="supports", v3="opposes"),
            "Will the Clean Harbour Act pass?",
            STAKE_NAMES,
        ),
    ],
)
def test_cheerful_and_gloomy_wordings_of_the_same_facts_give_the_same_prior(text, goal, names):
    swaps = [
        ("grim", "sunny"),
        ("dismal", "delightful"),
        ("Worried", "Delighted"),
        ("bleak", "optimistic"),
        ("The council has", "The proud, upbeat council has"),
        ("Mayor Irene Castell", "a beaming Mayor Irene Castell"),
        ("costs.", "costs, sounding gloomy and anxious."),
        ("the budget, arguing", "the budget, gleefully arguing"),
    ]
    cheerful = text
    for gloomy_word, cheerful_word in swaps:
        cheerful = cheerful.replace(gloomy_word, cheerful_word)
    assert cheerful != text
    a = read_evidence(text, goal, names)
    b = read_evidence(cheerful, goal, names)
    assert abs(a.prior - b.prior) <= 0.02
    assert a.leans == b.leans


def test_numbers_beat_tone():
    # gloomy words around a winning poll, cheerful words around a losing one
    winning = bond(GLOOMY)
    losing = bond(CHEERFUL).replace("58% support", "38% support").replace("35% oppose", "55% oppose")
    assert read_evidence(winning, "Will Proposition 9 pass?", BOND_NAMES).prior > 0.5
    assert read_evidence(losing, "Will Proposition 9 pass?", BOND_NAMES).prior < 0.5


@pytest.mark.parametrize(
    ("positive_goal", "negative_goal", "text"),
    [
        ("Will Proposition 9 pass?", "Will Proposition 9 fail?", bond(CHEERFUL)),
        ("Will Proposition 9 pass?", "Will Proposition 9 not pass?", bond(CHEERFUL)),
        (
            "Will the council approve the 2026 transit budget?",
            "Will the council reject the 2026 transit budget?",
            COUNCIL.format(needed=31, yes=24, no=30),
        ),
    ],
)
def test_the_negative_question_gets_exactly_one_minus_the_prior_and_flipped_leans(
    positive_goal, negative_goal, text
):
    names = BOND_NAMES + COUNCIL_NAMES
    pos = read_evidence(text, positive_goal, names)
    neg = read_evidence(text, negative_goal, names)
    assert (pos.polarity, neg.polarity) == (1, -1)
    assert pos.prior + neg.prior == pytest.approx(1.0, abs=1e-12)
    assert pos.prior != pytest.approx(0.5)
    assert pos.logit_positive == neg.logit_positive
    for name in names:
        assert neg.lean_of(name) == -pos.lean_of(name)
    assert any(pos.lean_of(n) != 0 for n in names)


def test_endorsements_and_opposition_set_the_prior_and_the_leans():
    goal = "Will the Clean Harbour Act pass?"
    backed = read_evidence(STAKES.format(v1="backs", v2="endorsed", v3="supports"), goal, STAKE_NAMES)
    opposed = read_evidence(
        STAKES.format(v1="opposes", v2="is campaigning against", v3="rejects"), goal, STAKE_NAMES
    )
    split = read_evidence(STAKES.format(v1="backs", v2="supports", v3="opposes"), goal, STAKE_NAMES)
    assert backed.prior > split.prior > 0.5 > opposed.prior
    assert {i.kind for i in backed.items} == {"endorsement"}
    assert {i.kind for i in opposed.items} == {"opposition"}
    assert backed.lean_of("Dockworkers Union") > 0.5 and backed.lean_of("Mayor Irene Castell") > 0.5
    assert split.lean_of("Shipowners Federation") < -0.5
    assert split.lean_of("Luis Ferreira") == 0.0  # asking for time is no stance
    # endorsements are bounded: they move the prior, they do not settle it
    assert 0.6 < backed.prior < 0.8 and 0.2 < opposed.prior < 0.4


def test_negated_and_hedged_endorsements_do_not_count_as_support():
    goal = "Will the Clean Harbour Act pass?"
    text = (
        "The Dockworkers Union did not endorse the Clean Harbour Act. Mayor Irene Castell no longer "
        "supports the "
        "act. Observers wonder whether the Shipowners Federation will back the act before the vote."
    )
    evidence = read_evidence(text, goal, STAKE_NAMES)
    assert evidence.lean_of("Dockworkers Union") == 0.0  # silence is not opposition
    assert evidence.lean_of("Mayor Irene Castell") < 0  # withdrawn support
    assert evidence.lean_of("Shipowners Federation") == 0.0  # a question, not a stance
    assert evidence.prior < 0.5


def test_vote_counts_are_weighed_against_the_votes_needed():
    goal = "Will the council approve the 2026 transit budget?"
    ahead = read_evidence(COUNCIL.format(needed=31, yes=38, no=17), goal, COUNCIL_NAMES)
    short = read_evidence(COUNCIL.format(needed=31, yes=24, no=30), goal, COUNCIL_NAMES)
    supermajority = read_evidence(COUNCIL.format(needed=40, yes=38, no=17), goal, COUNCIL_NAMES)
    assert any(i.kind == "vote" for i in ahead.items)
    assert ahead.prior > 0.9
    assert short.prior < 0.2
    assert short.prior < supermajority.prior < ahead.prior


def test_repeated_polls_are_averaged_not_added():
    one = (
        "A Metro Herald poll of 900 voters found 54% in favour of the stadium bond and 46% against it. "
        "The bond goes to voters on 2 November."
    )
    many = (
        one
        + " "
        + " ".join(
            f"A {name} survey of voters found 54% in favour of the bond and 46% against it."
            for name in ("Channel 4", "University", "Civic Institute", "Tribune")
        )
    )
    goal = "Will the stadium bond pass?"
    single, repeated = read_evidence(one, goal, []), read_evidence(many, goal, [])
    assert sum(i.kind == "poll" for i in repeated.items) == 5
    assert repeated.prior == pytest.approx(single.prior, abs=1e-9)


def test_precedent_weighs_modestly_both_ways():
    failed = read_evidence(
        "Every previous attempt to merge the two fire districts failed at the ballot box. The new merger "
        "plan "
        "goes to voters on 5 May.",
        "Will the fire district merger plan pass?",
        [],
    )
    passed = read_evidence(
        "A similar library levy passed in 2019. The new levy goes to voters on 5 May.",
        "Will the new library levy pass?",
        [],
    )
    assert [i.kind for i in failed.items] == ["precedent"] == [i.kind for i in passed.items]
    assert 0.3 < failed.prior < 0.45 and 0.55 < passed.prior < 0.7


def test_progress_and_setbacks_move_events_that_are_not_votes():
    goal = "Will the Kessler Bridge replacement open by 30 September?"
    on_track = (
        "Crews finished the steel deck of the Kessler Bridge replacement in May and the project is on "
        "schedule. "
        "Federal funding for the bridge has been secured. Kessler Construction is a family firm."
    )
    troubled = (
        "Work on the Kessler Bridge replacement was halted in May after a state court issued an injunction "
        "over "
        "noise rules. The bridge is behind schedule. Kessler Construction is a family firm."
    )
    speculative = (
        "Some residents fear the Kessler Bridge replacement could be delayed. Kessler "
        "Construction is a family firm."
    )
    good = read_evidence(on_track, goal, ["Kessler Construction"])
    bad = read_evidence(troubled, goal, ["Kessler Construction"])
    maybe = read_evidence(speculative, goal, ["Kessler Construction"])
    assert {i.kind for i in good.items} == {"progress"} and good.prior > 0.6
    assert {i.kind for i in bad.items} == {"setback"} and bad.prior < 0.4
    assert maybe.prior == 0.5  # a fear is not a fact


def test_an_endorsement_of_the_rival_counts_against_a_candidate():
    text = (
        "The Northfield mayoral election is on 3 November. A Northfield Courier poll of 600 residents has "
        "incumbent "
        "Grace Whitfield at 44% and challenger Tomas Reyes at 47%, with 9% undecided. The Northfield "
        "Firefighters "
        "Union endorsed Reyes in September."
    )
    names = ["Grace Whitfield", "Tomas Reyes", "Northfield Firefighters Union", "Northfield Courier"]
    whitfield = read_evidence(text, "Will Grace Whitfield win the mayoral election?", names)
    reyes = read_evidence(text, "Will Tomas Reyes win the mayoral election?", names)
    assert whitfield.prior < 0.5 < reyes.prior
    assert (
        whitfield.lean_of("Northfield Firefighters Union")
        < 0
        < reyes.lean_of("Northfield Firefighters Union")
    )


def test_evidence_round_trips_through_json():
    evidence = read_evidence(bond(GLOOMY), "Will Proposition 9 pass by 4 November?", BOND_NAMES)
    data = json.loads(json.dumps(evidence.to_dict()))
    again = Evidence.from_dict(data)
    assert again == evidence
    assert data["deadline"] == "by 4 November"
    assert all(math.isfinite(i["weight"]) for i in data["items"])


def test_percentages_that_are_not_opinion_shares_are_ignored():
    text = (
        "Opponents say buses could deliver 80% of the benefit for 20% of the cost. The Northshore streetcar "
        "opened two years late and 40% over budget. The levy adds a 0.4% sales tax and a 5% support payment "
        "for seniors."
    )
    evidence = read_evidence(text, "Will the Eastline levy pass?", [])
    assert evidence.items == () and evidence.prior == 0.5
