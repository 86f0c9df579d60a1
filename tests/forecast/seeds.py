"""The forecast-coherence cases: seed documents whose evidence clearly favours one side.

Written as real documents (news reports, memos, minutes, analyst notes), without reference to how
the engine reads them: they are a held-out check that the forecast follows the evidence. Four
families, each in pairs on one topic:

- `numbers`     the same topic twice, the facts (polls, counts against a threshold) implying YES
                in one seed and NO in the other;
- `negation`    one seed, asked as a goal and as its negation ("pass?" / "fail?"): the two
                probabilities must sum to 1;
- `tone`        NO facts in cheerful words and YES facts in gloomy ones: the words must not win;
- `endorsement` who is on record for and against, clearly one-sided, flipped within the pair.

`bench.forecast` and `tests/forecast/test_forecast_coherence.py` both run exactly these cases.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Family = Literal["numbers", "negation", "tone", "endorsement"]
Side = Literal["yes", "no"]
FAMILIES: tuple[Family, ...] = ("numbers", "negation", "tone", "endorsement")


@dataclass(frozen=True)
class Case:
    id: str
    family: Family
    pair: str  # both cases of a pair share it; a negation pair also shares its seed
    seed_text: str
    goal: str
    expected: Side  # the side a careful reader of the seed takes on the goal as asked


HEADER_LINE_CHARS = 70


def _doc(text: str) -> str:
    """Prose paragraphs wrapped for the editor become one line each (a blank line between); a block
    of short lines (a memo header, the heading of minutes) keeps its line breaks."""
    paragraphs = re.split(r"\n\s*\n", textwrap.dedent(text).strip())
    out = []
    for paragraph in paragraphs:
        lines = [line.strip() for line in paragraph.splitlines()]
        short = all(len(line) < HEADER_LINE_CHARS for line in lines)
        out.append("\n".join(lines) if short else " ".join(lines))
    return "\n\n".join(out)


def word_count(text: str) -> int:
    return len(text.split())


# --- numbers -----------------------------------------------------------------------------------

MEASURE_K_GOAL = "Will Measure K pass in the 3 May referendum?"

MEASURE_K_LEADS = _doc("""
    LINDEN FALLS — With three weeks to go before the 3 May referendum, Measure K, the half-cent
    sales tax that would pay for restoring the city's riverside parks, holds a commanding lead.

    A Valley Research survey of 1,020 likely voters, conducted for the Linden Courier between 2 and
    6 April, found that 61 per cent intend to vote yes and 27 per cent no, with the rest undecided.
    The measure needs a simple majority of votes cast. The result is in line with two earlier
    polls: in February the university's Civic Institute put support at 58 per cent, and a March
    telephone poll commissioned by the Chamber of Commerce found 63 per cent in favour. Support is
    strongest among parents of school-age children, but a majority of retirees also say they will
    back it.

    The Parks Alliance, which gathered 14,000 signatures to put the measure on the ballot, has
    raised $410,000, against $35,000 for the Linden Taxpayers' League, the only organised
    opposition. "We are not taking anything for granted," said campaign director Rosa Achterberg.

    The League's chair, Dennis Holm, argued that a sales tax falls hardest on low-income
    households. City finance director Priya Raman estimates the tax would raise roughly $9 million
    a year for twelve years. County clerk Martin Oyelaran said early-ballot returns are already
    running ahead of the last municipal election.
""")

MEASURE_K_TRAILS = _doc("""
    MEMORANDUM
    To: Office of the City Manager, Linden Falls
    From: Policy and Research Unit
    Re: Outlook for Measure K (3 May referendum)

    Summary. On present evidence Measure K, the proposed half-cent sales tax for the riverside
    parks, is heading for defeat. Departments should draw up the 2025–26 budget without its
    revenue.

    Polling. Three independent surveys since February all put the measure well short of the simple
    majority it needs. Valley Research (1,020 likely voters, 2–6 April) found 34 per cent yes and
    55 per cent no. The university's Civic Institute had it at 38 to 52 in February, and a March
    telephone poll put support at just over a third. The no side has gained in each successive
    survey.

    Campaigns. The Linden Taxpayers' League has outspent the Parks Alliance by roughly three to
    one, and the county Labor Council voted last week to oppose the measure, citing the regressive
    effect of sales taxes. The Alliance's own internal polling, shared with council members,
    reportedly shows the measure trailing by double digits.

    Precedent. Voters rejected a similar parks levy in 2019, by 58 per cent to 42.

    Recommendation. Prepare the fallback maintenance plan (Option B) for the council's June
    session.
""")

STRIKE_GOAL = "Will Port Workers' Union members vote for strike action in the ballot closing on 14 March?"

STRIKE_BACKED = _doc("""
    Dockers at Grayhaven and Eastmouth have backed strike action by a wide margin in a consultative
    ballot of the Port Workers' Union, setting the stage for the formal ballot that closes on
    14 March.

    In the consultative vote 3,412 members voted for industrial action and 2,170 against, on a
    turnout of 74 per cent — comfortably above the 50 per cent turnout the law requires for a
    formal ballot to be valid. The union's national executive has recommended a yes vote, and
    branch secretaries at all six terminals have told members to back the action.

    The dispute concerns the operator's plan to bring in automated cranes and cut 600 posts over
    three years, alongside a 2 per cent pay offer that the union says is worth less than half of
    inflation. Harbour Logistics Group, which runs both ports, said it was disappointed and urged
    members to "consider the long-term future of the port". Its chief executive, Marta Kowalczyk,
    said the pay offer was final.

    General secretary Ade Olawale said members had "sent a clear message". Labour-relations
    researcher Fiona Greer noted that in the union's last four disputes the formal ballot result
    never differed from the consultative result by more than five points.
""")

STRIKE_REJECTED = _doc("""
    Grayhaven Ports — labour risk update (analyst note, 2 March)

    We are lowering our strike-risk assessment for Harbour Logistics Group. The Port Workers'
    Union's consultative ballot on industrial action closed on Friday: 1,288 members voted for
    action and 4,105 against, on a turnout of 41 per cent. The formal ballot closes on 14 March,
    but on these numbers it is very unlikely to produce a mandate — a majority of those voting must
    back action, and the law also requires a turnout of at least 50 per cent.

    Several branches, including the two largest at the Eastmouth container terminal, have already
    accepted the revised offer of 4.5 per cent plus a guarantee of no compulsory redundancies until
    2027. The national executive has declined to recommend a yes vote in the formal ballot; in 2021,
    when members last voted to strike, it campaigned for one.

    Management, led by chief executive Marta Kowalczyk, says talks will continue, and general
    secretary Ade Olawale has conceded that "members want the money in their pockets". In the
    union's last four disputes the formal result never differed from the consultative one by more
    than five points.

    We see little chance of a strike mandate and keep our Buy rating.
""")

BUS_LANE_GOAL = (
    "Will Northfield Borough Council approve the Cross Street bus lane scheme at its 12 June meeting?"
)

BUS_LANE_MAJORITY = _doc("""
    NORTHFIELD BOROUGH COUNCIL — TRANSPORT COMMITTEE
    Minutes of the meeting held on 22 May

    Present: Cllr J. Whitcombe (Chair); Cllrs Adeyemi, Barros, Lindqvist, O'Hare, Patel and Stein.

    Item 4. Cross Street bus lane scheme. The Head of Highways, Ms Carla Denton, presented the final
    design: a 1.4 km northbound bus lane, two signal-priority junctions and the relocation of 46
    parking bays. Of 2,846 responses to the public consultation, 64 per cent supported the scheme.
    Funding of £4.2 million is confirmed from the regional transport fund, conditional on a council
    decision before 30 June.

    The committee resolved by 6 votes to 1 (Cllr Stein against) to recommend the scheme to full
    council on 12 June.

    The Chair reported on the position of the groups. The Labour and Liberal Democrat groups, with
    34 seats between them, will both vote in favour, and four independent members have written in
    support, so that 38 of the 60 councillors are committed to the scheme. A simple majority of
    members present and voting is required. The Conservative group (22 seats) will oppose.

    Cllr Stein asked that the loading-bay concerns of Cross Street traders be recorded. Officers
    will report on them to full council.

    Action: Head of Highways to prepare the report for full council.
""")

BUS_LANE_SHORT = _doc("""
    Cross Street bus lanes set to be voted down

    The Cross Street bus lane scheme is heading for defeat when Northfield Borough Council meets on
    12 June. A count by the Northfield Gazette found just 19 of the borough's 60 councillors
    prepared to vote for it. Thirty-four have said they will vote against, and seven would not say.

    The Conservative group, with 22 seats, and the nine-strong Residents' group have opposed the
    scheme from the start. On Tuesday the three Liberal Democrat councillors, previously undecided,
    said they would join them after a consultation in which 71 per cent of the 2,846 respondents
    objected to the loss of 46 parking bays. The transport committee recommended the plan by only
    4 votes to 3 in May.

    Council leader Hannah Lindqvist, whose Labour group supports the lanes, admitted the numbers
    were "not there tonight" but said she would not withdraw the item. Without a decision by
    30 June, the £4.2 million offered by the regional transport fund lapses.

    Cross Street Traders' Association chair Dev Patel welcomed the shift. "Shops on this street
    depend on people being able to stop," he said.
""")

MERGER_GOAL = "Will Calder Foods shareholders approve the merger with Brightmoor at the 20 September meeting?"

MERGER_LOCKED_IN = _doc("""
    Calder Foods–Brightmoor deal all but certain after investors commit

    Calder Foods' proposed merger with Brightmoor Brands cleared its biggest hurdle on Monday, when
    the company disclosed that holders of 82 per cent of its shares have signed irrevocable
    undertakings to vote in favour at the general meeting on 20 September. Approval requires 75 per
    cent of the votes cast, so the committed shareholders alone are enough to carry the
    resolution.

    Both leading proxy advisers, Institutional Shareholder Services and Glass Lewis, have
    recommended that shareholders support the deal, which values Calder at £3.1 billion, a 34 per
    cent premium to its undisturbed share price. The competition authority cleared the transaction
    unconditionally in August.

    Calder's chair, Helen Marsh, said the board was "unanimous" in recommending the merger. Its
    largest shareholder, the pension fund Northgate Investors, with 19 per cent, is among those who
    have signed.

    A small group of retail investors organised by the Calder Shareholders' Club has criticised the
    price, but together its members hold less than 1 per cent of the shares. Brightmoor chief
    executive Tom Aldous said he expected completion in the fourth quarter.
""")

MERGER_BLOCKED = _doc("""
    Investors line up to block Calder Foods–Brightmoor merger

    Calder Foods' proposed merger with Brightmoor Brands is on course to be voted down at the
    20 September general meeting. Shareholders holding 31 per cent of Calder's stock — including its
    two largest investors, Northgate Investors (19 per cent) and Halvard Capital (8 per cent) — have
    said publicly that they will vote against. Because the scheme needs 75 per cent of the votes
    cast, any stake above 25 per cent is enough to block it, even on full turnout.

    Both leading proxy advisers, Institutional Shareholder Services and Glass Lewis, have
    recommended a vote against, arguing that the 12 per cent premium undervalues Calder's frozen
    division. The competition authority has also opened an in-depth review, which cannot conclude
    before November.

    Calder's chair, Helen Marsh, said the board still supports the terms but "will listen to
    shareholders". Brightmoor has said it will not raise its offer. Northgate's chief investment
    officer, Ruth Okafor, described the terms as "not one we can support at any price close to this
    one".

    Analysts at Fenwick Securities said they now expect the deal to fail and Calder to remain
    independent.
""")

# --- negation ----------------------------------------------------------------------------------

TREATY_SEED = _doc("""
    Senate leaders have scheduled a final ratification vote on the Coastal Fisheries Treaty for
    9 December, nine days before the session ends on 18 December, and the treaty's supporters now
    have more than the votes they need.

    Ratification requires two-thirds of the senators present, or 67 if all 100 vote. A count by the
    Capitol Record shows 71 senators publicly committed to voting yes: all 52 members of the
    majority caucus and 19 members of the minority. On 2 December the Foreign Relations Committee
    voted 17–4 to send the treaty to the floor with a favourable recommendation, after adding an
    understanding on enforcement that met the main objection of the minority's coastal-state
    senators.

    The treaty, negotiated over six years with four neighbouring states, sets shared catch limits
    for cod and herring and creates a joint inspection service. It has already been ratified by
    the other four parties.

    Senator Ellen Voss, who chairs the committee, called the vote "the last step". The only
    organised opposition comes from the Independent Trawlermen's Federation, which says the catch
    limits are too tight. Majority leader Carl Hammond said no other business would be allowed to
    displace the vote.
""")

STADIUM_SEED = _doc("""
    RIVERSIDE — Voters will decide on 5 November whether the county should issue $640 million in
    bonds to build a new stadium for the Riverside Mariners, and the latest survey suggests the
    plan is in serious trouble.

    Six in ten likely voters oppose the bond, according to a Harbor Point University poll of 900
    residents released on Tuesday; only 33 per cent support it. Because the bonds would be repaid
    from property taxes, state law requires a 55 per cent supermajority for approval. Every public
    poll since the measure qualified in June has shown opposition above 50 per cent.

    The county has been here before: in 2016 a smaller stadium bond failed with 41 per cent of the
    vote. The Mariners' lease at the current stadium runs until 2031, and the team has said it
    will keep playing there if the bond is defeated.

    County executive Laura Benes has declined to take a position. The Riverside Taxpayers'
    Association, the county's largest union local and both candidates for county executive oppose
    the bond. The Mariners and the Downtown Business Council support it, and the team has spent
    $2.1 million on advertising.

    "People like the team," said pollster Andre Whitfield. "They don't want to pay for the
    building."
""")

RATES_SEED = _doc("""
    Bank of Norland — preview of the 24 July policy meeting (Economics team, Meridian Bank)

    We expect the Bank of Norland to hold its policy rate at 3.25 per cent on 24 July, and we see
    no realistic case for an increase. Headline inflation fell to 2.1 per cent in June, its lowest
    in three years and close to the 2 per cent target; core inflation eased to 2.4 per cent, and
    unemployment has risen for four consecutive months.

    The minutes of the June meeting show that all seven members of the monetary policy committee
    voted to hold, and two discussed the timing of a first cut. In a speech on 9 July, Governor
    Ingrid Solberg said the committee "does not see a need for further tightening".

    Of 34 economists surveyed by the Norland Financial Times, 31 expect rates to be held in July and
    three expect a cut of a quarter point; none expect an increase. Overnight index swaps price
    less than a 5 per cent chance of a hike.

    The main upside risk remains the krone, which has weakened 3 per cent against the euro since
    May, but the committee said in June that it would look through currency moves of that size.

    Our view: hold in July, a first cut in September.
""")

APPEAL_SEED = _doc("""
    Legal briefing — Porto Vell short-term rental ban: Court of Appeal hearing, 3 October

    Clients have asked for our view on the appeal brought by the Porto Vell Landlords' Association
    against the city's 2023 ordinance banning short-term rentals of whole apartments.

    In our view the appeal is very likely to succeed. In March the Supreme Court held, in Alves v.
    City of Lagoa, that a municipality has no power to prohibit a lawful residential use outright
    without a national enabling statute; the Porto Vell ordinance rests on the same municipal powers
    that the Supreme Court found insufficient. The first-instance judge upheld the ban in 2023,
    before Alves was decided, and expressly said that a contrary Supreme Court ruling would change
    the result.

    At the hearing, counsel for the city accepted that Alves is binding on the Court of Appeal and
    argued only for a delay before any ruling takes effect. Presiding judge Marta Reis asked the
    city's counsel to address "what remains of the ordinance after Alves" and gave no indication
    that the panel doubted its application. Two other appeal courts have since struck down
    similar bans in Lagoa and Faro.

    Judgment is expected within eight weeks. Mayor Rui Antunes has said the city will draft a
    licensing scheme to replace the ban.
""")

# --- tone against facts ------------------------------------------------------------------------

PHONE_GOAL = "Will Halcyon Devices' Aster X2 phone go on sale in Europe before 1 October?"

PHONE_CHEERFUL_DELAY = _doc("""
    From the desk of the Chief Product Officer — weekly update to all Halcyon staff

    What a week! I'm delighted to share that the Aster X2 won two design awards at Berlin's
    consumer electronics fair, and the mood at our stand was nothing short of joyful — sunny
    weather, huge crowds and a celebration on Thursday night that I suspect some of you are still
    recovering from. Thank you all. The optimism around this phone is wonderful to see.

    A note on timing, so that everyone tells customers the same thing. The European launch of the
    Aster X2 has moved to late January. The notified body that certifies the radio has told us it
    will not complete testing of the revised antenna before December, and without that
    certification the phone cannot be sold anywhere in the EU. Our retail partners — including
    MediaPunkt and Fnacorama — have been told that no stock will ship to them this year, and
    European pre-orders will now open in January rather than September.

    The US launch is unaffected. Our supply chain team has also moved the first European
    production run from August to December, which frees capacity for the US.

    I could not be prouder of this team. Let's enjoy the awards — we've earned them!

    — Sophie Laurent, Chief Product Officer
""")

PHONE_GLOOMY_ON_TIME = _doc("""
    Halcyon Devices: a bleak quarter, but the Aster X2 is on schedule

    It has been a grim few months at Halcyon Devices. Second-quarter revenue fell 14 per cent, the
    company announced 900 job cuts last week, and staff at its Lyon design centre describe an
    anxious, gloomy atmosphere. Shares are down a third since January, and analysts have been
    dismal about the outlook for its older models.

    Yet the company's flagship Aster X2 is firmly on track for Europe. Its radio certification was
    granted by the EU notified body on 28 July; Halcyon has already shipped 400,000 units to
    European distributors, and retailers MediaPunkt and Fnacorama have confirmed in-store
    availability from 12 September in Germany, France, Spain and Italy. European pre-orders opened
    on Monday.

    "The X2 is the one thing that has gone to plan this year," a weary Sophie Laurent, Halcyon's
    chief product officer, told reporters. Chief executive Anders Brekke, facing an uncomfortable
    shareholder meeting, said launch marketing would go ahead despite the cost cuts.

    Rival Nordwave is expected to announce its own flagship in October.
""")

BAG_BAN_GOAL = "Will Proposition 12, the statewide ban on single-use plastic bags, pass in the 9 March vote?"

BAG_BAN_SUNNY_LOSING = _doc("""
    Under cloudless skies and to the sound of a brass band, several thousand supporters of
    Proposition 12 gathered on the capitol lawn on Saturday for what organisers called "a
    celebration of what this state can be". Volunteers in bright green shirts handed out reusable
    bags, children painted murals, and the mood was delighted and hopeful. "I've never felt so much
    optimism in a campaign," said Green Shores Alliance director Mei Tanaka.

    The polling tells a different story. The state university's survey of 1,400 likely voters,
    published on Thursday, found 58 per cent intend to vote no and only 31 per cent yes. Every
    public poll since October has shown the no side ahead by at least fifteen points, and the
    campaign's own pollster, according to a memo seen by this newspaper, put support at 36 per
    cent. The measure needs a simple majority.

    Opponents, led by the Retail Grocers' Council and the state's largest supermarket chains, have
    focused on the cost to shoppers. Governor Alan Briggs has declined to endorse the measure.

    Prop 12 supporters left the rally singing. The vote is on 9 March.
""")

BAG_BAN_GLOOMY_WINNING = _doc("""
    It was a bleak, rain-lashed evening for the final Proposition 12 rally. Barely two hundred
    volunteers stood shivering outside the capitol, organisers were anxious about turnout in the
    storm, and Green Shores Alliance director Mei Tanaka spoke grimly about "the hardest three
    weeks of my life". A sound system failed; a planned march was cancelled.

    The numbers, though, are not in doubt. The state university's survey of 1,400 likely voters,
    published on Thursday, found 64 per cent intend to vote yes on the statewide ban on single-use
    plastic bags and 29 per cent no. Six public polls since October have all shown the yes side
    ahead by more than twenty points. The measure needs a simple majority.

    The Retail Grocers' Council, the main opponent, has cut its advertising budget, and two of the
    state's three largest supermarket chains now say they will comply voluntarily whatever the
    result. Governor Alan Briggs endorsed the measure in January.

    Ms Tanaka, soaked and tired, would not predict victory. "Nobody here is celebrating," she said.
    The vote is on 9 March.
""")

WIND_FARM_GOAL = (
    "Will the Ridgeback Regional Assembly approve the Hollin Moor wind farm in its 30 April vote?"
)

WIND_FARM_CHEERFUL_REFUSAL = _doc("""
    Sunshine, bunting and a cheerful crowd greeted the developers of the Hollin Moor wind farm at
    their open day in Ashby village hall on Saturday. Children flew kites, a local choir sang, and
    Northwind Renewables' project director, Gareth Lyle, said he was delighted with the warm
    welcome. "There is real optimism about what clean energy can do for this valley," he said.

    The decision rests with the Ridgeback Regional Assembly, which votes on 30 April, and there the
    picture is very different. On 14 April the assembly's planning committee voted 9–2 to recommend
    refusal. Twenty-seven of the assembly's 40 members have signed a motion opposing the scheme,
    and approval needs a simple majority. The government's planning inspector found that the
    twelve 180-metre turbines would breach the moor's landscape protection policy, and the national
    parks authority has lodged a formal objection.

    Assembly leader Irene Okoro said the open day had been "a lovely event" but that her group
    would vote against. Mr Lyle said Northwind would consider an appeal. The Moorland Society,
    which organised 1,900 objections, plans a picnic on the hill on voting day.
""")

WIND_FARM_GLOOMY_APPROVAL = _doc("""
    A bleak, grey morning on Hollin Moor: rain drove across the hill where a handful of anxious
    protesters huddled under umbrellas, and the Moorland Society's chair, Peter Hanlon, spoke
    grimly of "the end of this landscape as we know it". Local guesthouse owners fear a dismal
    summer season, and the mood in Ashby village is sombre.

    The Ridgeback Regional Assembly votes on the Hollin Moor wind farm on 30 April, and the outcome
    appears settled. On 14 April its planning committee voted 10–1 to recommend approval.
    Twenty-nine of the assembly's 40 members have declared their support, and approval needs a
    simple majority. The government's planning inspector found no grounds for refusal, and the
    national parks authority withdrew its objection after Northwind Renewables cut the scheme from
    twelve turbines to nine.

    Assembly leader Irene Okoro said her group would vote for the scheme "with a heavy heart for
    the people of Ashby". Northwind's project director, Gareth Lyle, looking tired after a long
    consultation, said construction could begin in the autumn.
""")

BRIDGE_GOAL = "Will the Tamsin Street Bridge reopen to traffic by 1 December?"

BRIDGE_CHEERFUL_DELAY = _doc("""
    Cheers, balloons and a sunny afternoon: hundreds of delighted residents turned out on Saturday
    for the Tamsin Street Bridge community festival, celebrating the new steel arch that now spans
    the river. Mayor Colin Fairweather, all smiles, thanked the engineers and praised the "joyful
    spirit" of the neighbourhood. Optimism was in the air, and the bakery on the east bank sold out
    of its bridge-shaped biscuits by noon.

    Drivers will have to wait a good deal longer to use it. In a letter to the council on Thursday,
    the contractor, Halden Civil, said that three of the six deck sections had failed weld
    inspection and must be recast at the fabrication yard, which takes about fourteen weeks. Load
    testing cannot begin until the new sections are in place, and the highways authority will not
    issue the safety certificate without it. Halden now expects the bridge to reopen to traffic in
    March; the council's transport chief, Nadia Browne, said she had "no reason to doubt" that
    estimate.

    The festival ended with fireworks over the river. Pedestrians can use the temporary footbridge
    until the spring.
""")

BRIDGE_GLOOMY_ON_TIME = _doc("""
    It has been a grim year for the traders of Tamsin Street. With the bridge closed since January,
    footfall has fallen by half, two cafés have shut, and shopkeepers are anxious about a bleak
    Christmas. "People have simply forgotten we are here," said the chair of the traders'
    association, Ruth Kaplan, gloomily. Many have run down their savings.

    The works themselves are ahead of schedule. The contractor, Halden Civil, completed the deck in
    October, and the bridge passed its load tests on 3 November. The highways authority issued the
    safety certificate on 10 November, and the council has confirmed that the bridge will reopen
    to traffic on 24 November, with buses returning the same day.

    Council transport chief Nadia Browne said the reopening would be low-key: "There is not much
    appetite for a party after the year people here have had." Mayor Colin Fairweather said the
    council would consider a business-rates rebate for the street in the new year.
""")

# --- endorsements against opposition ----------------------------------------------------------

LIBRARY_GOAL = "Will Eastvale's Proposition 4 library levy pass on 6 June?"

LIBRARY_ENDORSED = _doc("""
    EDITORIAL — Vote yes on Proposition 4

    Rarely does a local measure unite Eastvale the way Proposition 4 has. The library levy, which
    would pay for longer opening hours at all five branches and rebuild the flood-damaged Hillside
    library, goes to voters on 6 June, and it has the backing of almost everyone who speaks for
    this city.

    Mayor Diane Kovac endorsed it the day it qualified. Both parties on the city council — the
    Civic Alliance majority and the Eastvale Conservatives — voted unanimously to support it. The
    Eastvale Chamber of Commerce has endorsed it as good for business, the teachers' union and the
    firefighters' association are campaigning door to door, and the county's two largest
    employers, Marlow Health and the Eastvale Port Authority, have publicly urged their staff to
    vote yes. Even the Eastvale Taxpayers Coalition, which has opposed every levy for a decade,
    has declined to campaign against this one.

    The only organised opposition comes from a handful of residents in the Northgate district, who
    object to the Hillside site.

    This editorial board has long been sceptical of new levies. This one has earned our support.
    Vote yes on Proposition 4.
""")

LIBRARY_OPPOSED = _doc("""
    EDITORIAL — Proposition 4 has lost this city

    Proposition 4, the library levy that goes to voters on 6 June, was meant to rebuild the
    flood-damaged Hillside library and extend opening hours at all five branches. Instead it has
    managed to unite Eastvale against it.

    Mayor Diane Kovac announced last week that she will vote no, calling the levy "the wrong tax at
    the wrong time". Both parties on the city council — the Civic Alliance majority and the Eastvale
    Conservatives — have passed resolutions opposing it. The Eastvale Chamber of Commerce, the
    teachers' union and the firefighters' association have all urged a no vote, the latter two
    because the levy would compete with their own funding measure next year. Marlow Health and the
    Eastvale Port Authority, the county's largest employers, have told staff they oppose it. The
    Eastvale Taxpayers Coalition is running the no campaign with money to spare.

    The only organised support comes from the Friends of Eastvale Libraries, a volunteer group
    that gathered the signatures to put the levy on the ballot.

    This editorial board supports the libraries. We cannot support this levy. Vote no on
    Proposition 4.
""")

VOTING_AGE_GOAL = "Will the amendment lowering the voting age to 16 be approved in the 14 October referendum?"

VOTING_AGE_ENDORSED = _doc("""
    Briefing note for foreign correspondents — Referendum on the voting age, 14 October

    On 14 October voters will decide whether to amend Article 38 of the constitution to lower the
    voting age from 18 to 16. The amendment passed parliament with cross-party support and is
    approved if a majority of those voting say yes.

    Who supports it. The governing Social Democrats and the main opposition party, the Liberal
    People's Party, are campaigning jointly for a yes vote, as are the Greens and the Centre Party.
    President Anna Lindgren, who usually stays out of referendum campaigns, said in her national
    day address that she would vote yes. The national students' union, the two main teachers'
    unions, the Council of Churches and the federation of municipalities have all endorsed the
    amendment, and the country's three largest newspapers have published editorials in favour.

    Who opposes it. The only party campaigning for a no vote is the small National Heritage Party,
    which holds four of the 200 seats in parliament. A group of retired judges has written an open
    letter questioning the timing, but has not called for a no vote.

    Practical notes. Polls open at 8:00 and close at 20:00. Results are expected from 22:00.
""")

VOTING_AGE_OPPOSED = _doc("""
    Briefing note for foreign correspondents — Referendum on the voting age, 14 October

    On 14 October voters will decide whether to amend Article 38 of the constitution to lower the
    voting age from 18 to 16. The referendum was forced by a citizens' initiative; the amendment is
    approved if a majority of those voting say yes.

    Who opposes it. The governing Social Democrats and the main opposition party, the Liberal
    People's Party, are campaigning jointly for a no vote, as is the Centre Party. President Anna
    Lindgren, who usually stays out of referendum campaigns, said in her national day address that
    she would vote no. The two main teachers' unions, the Council of Churches and the federation of
    municipalities have all come out against the amendment, and the country's three largest
    newspapers have published editorials urging a no vote.

    Who supports it. The only party campaigning for a yes vote is the small Green Party, which
    holds six of the 200 seats in parliament. The national students' union, which launched the
    initiative, is running the yes campaign with volunteers.

    Practical notes. Polls open at 8:00 and close at 20:00. Results are expected from 22:00.
""")

QUARRY_GOAL = (
    "Will Millbrook District Council approve the Millbrook Quarry extension at its 18 November meeting?"
)

QUARRY_BACKED = _doc("""
    Millbrook Quarry extension: the state of play before the 18 November decision

    Breedon Stone's application to extend Millbrook Quarry by 40 hectares goes to the full
    district council on 18 November, and it arrives with unusually broad support.

    The council's planning officers have recommended approval, subject to conditions on blasting
    hours and lorry routes. Council leader Sarah Whitlock has said the extension is "exactly the
    kind of local employment this district needs", and both the ruling Independent group and the
    opposition Labour group have agreed to support it. The county's minerals planning authority
    has confirmed that the site is allocated for extraction in its adopted plan, and the
    Environment Agency has withdrawn its earlier objection after changes to the drainage scheme.

    The Millbrook Chamber of Trade and the GMB union, which represents the quarry's workforce,
    wrote jointly to every councillor urging approval. The local MP, Daniel Frost, has spoken in
    favour.

    Opposition is confined to the Millbrook Residents' Association, which has raised concerns about
    dust and traffic on Mill Lane. Breedon Stone has offered to fund a new access road, which the
    highways authority has accepted.
""")

QUARRY_OPPOSED = _doc("""
    Millbrook Quarry extension: the state of play before the 18 November decision

    Breedon Stone's application to extend Millbrook Quarry by 40 hectares goes to the full
    district council on 18 November, and it arrives with almost no friends.

    The council's planning officers have recommended refusal, citing dust, blasting and the loss
    of ancient woodland. Council leader Sarah Whitlock has said the extension is "the wrong scheme
    in the wrong place", and both the ruling Independent group and the opposition Labour group have
    resolved to vote against it. The county's minerals planning authority has confirmed that the
    site is not allocated for extraction in its adopted plan, and the Environment Agency maintains
    a formal objection over the risk to the Mill Brook aquifer.

    The Millbrook Residents' Association, the parish council and the county wildlife trust have
    all objected, and the local MP, Daniel Frost, wrote to every councillor urging refusal.

    The only support for the application comes from Breedon Stone itself and its contractors. Even
    the GMB union, which represents the quarry's workforce, has declined to back it, saying the
    existing site has reserves for another twelve years.
""")

PILOTS_GOAL = "Will Kestrel Air pilots ratify the new four-year contract in the ballot ending 30 June?"

PILOTS_RECOMMENDED = _doc("""
    KESTREL AIR PILOTS' ASSOCIATION — MEMBER BULLETIN

    Tentative agreement: your union recommends ratification

    After fourteen months of negotiations, the Master Executive Council (MEC) has voted unanimously
    to send the tentative four-year agreement to the membership with a recommendation to ratify.
    Voting opens on 16 June and ends on 30 June.

    Every one of our five base councils — Dublin, Cork, Shannon, Manchester and Birmingham — has
    endorsed the agreement, and the Negotiating Committee presented it at roadshows at every base
    in May. The Association's legal and financial advisers have reviewed the pension provisions and
    confirmed that they meet the targets set by members in last year's survey. The European Cockpit
    Association has welcomed the agreement as a model for the region.

    We know that a group of senior captains, organised as Pilots for a Fair Deal, is urging a no
    vote over the seniority provisions. The MEC has met them twice and respects their views, but
    believes the agreement is the best achievable without industrial action.

    Kestrel Air management has confirmed that the agreement's pay increases will be backdated to
    1 January if ratified.

    — Captain Niamh Doyle, MEC Chair
""")

PILOTS_AGAINST = _doc("""
    KESTREL AIR PILOTS' ASSOCIATION — MEMBER BULLETIN

    Tentative agreement: your union recommends you vote NO

    The company has insisted on putting its tentative four-year agreement to a membership vote,
    which opens on 16 June and ends on 30 June. The Master Executive Council (MEC) has voted
    unanimously to recommend that members reject it.

    Every one of our five base councils — Dublin, Cork, Shannon, Manchester and Birmingham — has
    passed a motion opposing the agreement, and the Negotiating Committee, which walked away from
    the table in May, will be campaigning against it at every base. The Association's legal and
    financial advisers found that the pension provisions fall far short of the targets set by
    members in last year's survey. The European Cockpit Association has called the scheduling
    provisions a threat to flight safety.

    The only organised support for the agreement comes from Kestrel Air's management, which has
    written to every pilot at home, and from a small group of newly hired first officers who would
    benefit from the signing bonus.

    A no vote sends both sides back to the table. The MEC will not agree to any contract the
    membership has not had the chance to improve.

    — Captain Niamh Doyle, MEC Chair
""")


CASES: tuple[Case, ...] = (
    # numbers: the facts differ, the topic and goal do not
    Case("measure-k-leads", "numbers", "measure-k", MEASURE_K_LEADS, MEASURE_K_GOAL, "yes"),
    Case("measure-k-trails", "numbers", "measure-k", MEASURE_K_TRAILS, MEASURE_K_GOAL, "no"),
    Case("strike-backed", "numbers", "strike-ballot", STRIKE_BACKED, STRIKE_GOAL, "yes"),
    Case("strike-rejected", "numbers", "strike-ballot", STRIKE_REJECTED, STRIKE_GOAL, "no"),
    Case("bus-lane-majority", "numbers", "bus-lane", BUS_LANE_MAJORITY, BUS_LANE_GOAL, "yes"),
    Case("bus-lane-short", "numbers", "bus-lane", BUS_LANE_SHORT, BUS_LANE_GOAL, "no"),
    Case("merger-locked-in", "numbers", "merger", MERGER_LOCKED_IN, MERGER_GOAL, "yes"),
    Case("merger-blocked", "numbers", "merger", MERGER_BLOCKED, MERGER_GOAL, "no"),
    # negation: one seed, a goal and its negation
    Case(
        "treaty-ratify",
        "negation",
        "treaty",
        TREATY_SEED,
        "Will the Senate ratify the Coastal Fisheries Treaty before the session ends on 18 December?",
        "yes",
    ),
    Case(
        "treaty-fail",
        "negation",
        "treaty",
        TREATY_SEED,
        "Will the Senate fail to ratify the Coastal Fisheries Treaty before the session ends on 18 December?",
        "no",
    ),
    Case(
        "stadium-approve",
        "negation",
        "stadium-bond",
        STADIUM_SEED,
        "Will voters approve the Riverside stadium bond on 5 November?",
        "no",
    ),
    Case(
        "stadium-reject",
        "negation",
        "stadium-bond",
        STADIUM_SEED,
        "Will voters reject the Riverside stadium bond on 5 November?",
        "yes",
    ),
    Case(
        "rates-raise",
        "negation",
        "rates",
        RATES_SEED,
        "Will the Bank of Norland raise its policy rate at the 24 July meeting?",
        "no",
    ),
    Case(
        "rates-not-raise",
        "negation",
        "rates",
        RATES_SEED,
        "Will the Bank of Norland not raise its policy rate at the 24 July meeting?",
        "yes",
    ),
    Case(
        "appeal-succeed",
        "negation",
        "rental-appeal",
        APPEAL_SEED,
        "Will the landlords' appeal against Porto Vell's short-term rental ban succeed?",
        "yes",
    ),
    Case(
        "appeal-fail",
        "negation",
        "rental-appeal",
        APPEAL_SEED,
        "Will the landlords' appeal against Porto Vell's short-term rental ban fail?",
        "no",
    ),
    # tone: cheerful words around NO facts, gloomy words around YES facts
    Case("phone-cheerful-delay", "tone", "phone-launch", PHONE_CHEERFUL_DELAY, PHONE_GOAL, "no"),
    Case("phone-gloomy-on-time", "tone", "phone-launch", PHONE_GLOOMY_ON_TIME, PHONE_GOAL, "yes"),
    Case("bag-ban-sunny-losing", "tone", "bag-ban", BAG_BAN_SUNNY_LOSING, BAG_BAN_GOAL, "no"),
    Case("bag-ban-gloomy-winning", "tone", "bag-ban", BAG_BAN_GLOOMY_WINNING, BAG_BAN_GOAL, "yes"),
    Case("wind-farm-cheerful-refusal", "tone", "wind-farm", WIND_FARM_CHEERFUL_REFUSAL, WIND_FARM_GOAL, "no"),
    Case("wind-farm-gloomy-approval", "tone", "wind-farm", WIND_FARM_GLOOMY_APPROVAL, WIND_FARM_GOAL, "yes"),
    Case("bridge-cheerful-delay", "tone", "bridge", BRIDGE_CHEERFUL_DELAY, BRIDGE_GOAL, "no"),
    Case("bridge-gloomy-on-time", "tone", "bridge", BRIDGE_GLOOMY_ON_TIME, BRIDGE_GOAL, "yes"),
    # endorsement: who is on record for and against, flipped within the pair
    Case("library-endorsed", "endorsement", "library-levy", LIBRARY_ENDORSED, LIBRARY_GOAL, "yes"),
    Case("library-opposed", "endorsement", "library-levy", LIBRARY_OPPOSED, LIBRARY_GOAL, "no"),
    Case("voting-age-endorsed", "endorsement", "voting-age", VOTING_AGE_ENDORSED, VOTING_AGE_GOAL, "yes"),
    Case("voting-age-opposed", "endorsement", "voting-age", VOTING_AGE_OPPOSED, VOTING_AGE_GOAL, "no"),
    Case("quarry-backed", "endorsement", "quarry", QUARRY_BACKED, QUARRY_GOAL, "yes"),
    Case("quarry-opposed", "endorsement", "quarry", QUARRY_OPPOSED, QUARRY_GOAL, "no"),
    Case("pilots-recommended", "endorsement", "pilots-contract", PILOTS_RECOMMENDED, PILOTS_GOAL, "yes"),
    Case("pilots-against", "endorsement", "pilots-contract", PILOTS_AGAINST, PILOTS_GOAL, "no"),
)

CASES_BY_ID: dict[str, Case] = {case.id: case for case in CASES}

# Run on the large tier as well: the same seed and goal must give the same forecast (one per family
# other than tone, both sides represented).
TIER_GAP_CASE_IDS: tuple[str, ...] = ("measure-k-leads", "stadium-approve", "quarry-opposed")


def negation_pairs(cases: Sequence[Case] | None = None) -> list[tuple[Case, Case]]:
    """(goal, its negation) for every negation pair of ``cases`` (default: CASES), in order."""
    pairs: dict[str, list[Case]] = {}
    for case in CASES if cases is None else cases:
        if case.family == "negation":
            pairs.setdefault(case.pair, []).append(case)
    return [(a, b) for a, b in pairs.values()]
