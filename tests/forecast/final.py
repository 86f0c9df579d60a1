"""A third, final held-out set of forecast-coherence cases, on topics neither earlier set touches.

Written as real documents (wire explainers, columns, registrar notices, mission logs, newsletters,
minutes, bulletins, trade press) by someone who had read neither the engine's parsing code nor its
output, so the set tests whether the forecast follows the evidence rather than the wording of
`tests/forecast/seeds.py` or `tests/forecast/holdout.py`. Same four families and conventions:

- `numbers`     one topic twice, the figures (a double-majority poll, a signature sample against a
                certification threshold, a constituency poll, a modelled sediment level against a
                regulatory ceiling) implying YES in one seed and NO in the other;
- `negation`    one seed asked as a goal and as its negation (grant/deny, launch/miss,
                be listed/still be unlisted, complete/not be completed): the two probabilities must
                sum to 1;
- `tone`        NO facts in cheerful words and YES facts in gloomy ones;
- `endorsement` who is on record for and against, one-sided, flipped within the pair.

Every id starts with `f-`. Not run by the coherence test or the benchmark unless asked for.
"""

from __future__ import annotations

from tests.forecast.seeds import Case
from tests.forecast.seeds import _doc as doc

# --- numbers -----------------------------------------------------------------------------------

ANTHEM_GOAL = (
    "Will the proposal to make 'Morning Fields' the national anthem of Estravia be carried in the "
    "8 June referendum?"
)

ANTHEM_CARRIED = doc("""
    Q&A: Estravia's anthem referendum

    CONTINENTAL PRESS AGENCY, Arventa

    What is being decided? On Sunday 8 June Estravians choose whether "Morning Fields", a folk
    melody with words by the poet Ilse Varga, replaces the "Hymn of the Republic", sung at every
    state occasion since 1952.

    What does the change need? Because the anthem is written into the constitution, a double
    majority: more than half of the valid votes nationwide, and a majority of voters in at least
    six of the eleven provinces.

    What do the polls say? That both hurdles will be cleared with room to spare. The final
    Statistica Nord survey of 2,400 adults, published on Monday, has yes on 58% and no on 36%. Its
    provincial breakdown shows yes in front in nine of the eleven provinces, behind only in
    Ostmark and the Lower Vale. Two earlier surveys, in March and April, put yes between 55 and 60
    per cent, and no published poll this year has put the no camp in front nationally.

    Has anything like this happened before? In 2009 a double-majority vote on the national flag
    passed by 61 per cent to 39, carrying ten provinces.

    Who is campaigning? The Sing Together committee, which raised 1.3 million crowns in small
    donations, has toured every province with school choirs. The no side is led by the
    Federation of Veterans, whose chairman, Col. Andrej Holub, calls the old hymn "the sound our
    grandfathers marched to".

    When is the result? Polling stations close at 9 p.m.; the electoral commission expects to
    declare the national and provincial results by 2 a.m.
""")

ANTHEM_SHORT = doc("""
    Why Estravia will probably keep its old anthem

    Opinion — Marek Tollan, professor of comparative politics, University of Arventa

    Supporters of "Morning Fields" have run a lively, well-funded campaign, and the song itself is
    lovely. I still expect the "Hymn of the Republic" to survive the referendum on 8 June.

    Start with the rules. Because the anthem is fixed in the constitution, changing it needs a
    double majority: over half of the valid votes across the country and a majority in at least
    six of our eleven provinces.

    Now the numbers. The latest Statistica Nord poll, 2,400 adults interviewed last week, finds
    46 per cent for the change and 49 per cent against. That alone would sink it. The provincial
    picture is worse for the yes side: "Morning Fields" leads in just three provinces — the
    capital district, Lindau and the Coastal March — while the old hymn is ahead, often by twenty
    points or more, in the other eight. To win, the yes camp would have to overturn double-digit
    deficits in at least three provinces in a fortnight. I know of no referendum here in which
    the final result moved that far from the last polls.

    History points the same way. Of the five constitutional amendments put to a double-majority
    vote since 1990, the only two to pass were ahead nationally by more than ten points a month
    out. The 2016 proposal to move the capital, which led nationally until the final week, won in
    only four provinces and failed.

    Sentiment matters less than arithmetic. On present evidence, the proposal will be defeated.
""")

WAGE_GOAL = "Will the $18 minimum-wage initiative qualify for Marston's November ballot?"

WAGE_QUALIFIES = doc("""
    Wage measure all but certain to reach November ballot

    THE MARSTON LEDGER

    The campaign for an $18 city minimum wage is almost certain to see its initiative on the
    November ballot after the county registrar's random sample of its petitions came back well
    above the bar on Wednesday.

    Under the city charter an initiative needs valid signatures equal to a tenth of the
    turnout at the last mayoral election, which works out to 27,416. Registrar Colleen Abara's
    office checks a three per cent random sample. If the sample projects more than 110 per cent of
    the requirement — 30,158 — the measure is certified without a full count; below 95 per cent
    it fails outright; anything in between triggers a line-by-line check.

    Fair Pay Marston turned in 41,902 signatures on 1 July. The sample of 1,257 found 1,031
    valid, a rate of 82 per cent, projecting roughly 34,360 good signatures — about 4,200 more
    than the level needed to skip the full count. Abara said certification would be issued "well
    before" the council's 12 August deadline for placing measures on the ballot.

    The Marston Restaurant Association, which had urged residents not to sign, said it would now
    turn its attention to the campaign itself. Its director, Phil Granger, argued that an $18
    floor would push small diners out of the city.

    The current minimum in Marston is $15.50. The initiative would raise it in two steps, to
    $16.75 next July and $18 a year later, then index it to inflation.
""")

WAGE_FALLS_SHORT = doc("""
    OFFICE OF THE COUNTY REGISTRAR OF VOTERS
    Notice of random-sample result — City of Marston initiative petition
    ("Marston Fair Wage Ordinance", $18 minimum wage)

    Filed: 1 July. Raw signatures submitted: 31,144.

    Requirement: valid signatures equal to 10% of the votes cast at the last mayoral election,
    i.e. 27,416.

    Sample: 3% random sample, 934 signatures examined. Valid: 662 (70.9%). Invalid: 272, of which
    161 were not registered in the city, 58 were duplicates and 53 had signatures that did not
    match the voter file.

    Projected valid signatures: 22,081, or 80.5% of the requirement.

    Determination: under section 9114 of the Elections Code, a petition whose projected valid
    signatures fall below 95% of the requirement (26,045) is deemed insufficient, and no full
    count is made. The petition is therefore insufficient, and the measure will not be submitted
    to the council for placement on the November ballot. No supplemental signatures may be filed
    after the filing deadline, which passed on 1 July.

    The proponents may bring a new petition at any time; signatures gathered for this petition
    cannot be reused.

    Colleen Abara, Registrar of Voters

    Note to media: the proponents, Fair Pay Marston, have said they will not challenge the
    sample and intend to circulate a fresh petition for the 2026 municipal election. The
    registrar's office will hold a briefing at 11 a.m. on Friday.
""")

BY_ELECTION_GOAL = (
    "Will Nadia Farrell of the Progress Party win the Thornbury South by-election on 21 November?"
)

BY_ELECTION_AHEAD = doc("""
    SEAT WATCH — weekly newsletter for subscribers

    Thornbury South: Progress should hold comfortably

    The by-election caused by the death of long-serving MP Harold Ince takes place on Thursday
    21 November, and the only constituency poll of the campaign suggests his party will keep the
    seat with ease.

    Lattice Research interviewed 611 voters in Thornbury South between 6 and 11 November. Nadia
    Farrell, the Progress Party's candidate and a former head teacher at Thornbury Academy, is on
    48 per cent. Country First's Ron Bexley is a distant second with 27 per cent, Labour's Gita
    Shah has 14 and the Greens 7. Farrell's lead is therefore more than twenty points, well
    outside the poll's margin of error of about four.

    Context helps. Ince held the seat at the general election with a majority of 9,800 over
    Country First, and the Progress vote in the surrounding council wards rose in May's local
    elections. Bookmakers have Farrell at 1/10; our own model, which combines the poll with the
    last three results, gives her a win probability of about 94 per cent.

    Turnout is the main unknown — by-elections in November seldom see more than 40 per cent of
    voters. But Progress has far more volunteers on the ground, and Country First's campaign was
    knocked off course last week when Bexley's old social-media posts resurfaced.

    Our call: Progress hold, Farrell by 15 to 20 points.
""")

BY_ELECTION_BEHIND = doc("""
    Hospital doctor heads for upset win in Thornbury South

    THORNBURY ADVERTISER

    An independent candidate campaigning to save the maternity unit at Thornbury General is on
    course to take Thornbury South from the Progress Party at Thursday's by-election, according to
    a poll published today.

    The Lattice Research survey of 611 local voters found Dr Owen Prys, a consultant
    anaesthetist standing as an independent, on 44 per cent. Country First's Ron Bexley is second
    with 23, and the Progress Party's Nadia Farrell — who inherited a seat her party has held
    since 1997 — is third on just under one in five, 19 per cent. Labour has 9.

    Progress's cushion was thin to begin with: the late Harold Ince clung on at the general
    election by only 412 votes, and the party lost six of the eight council wards in the
    constituency in May. Two Progress councillors have since endorsed Prys. Party sources admit
    their own canvass returns put Farrell "a poor third".

    Bookmakers now offer 8/1 against a Farrell win and make Prys a heavy favourite.

    Farrell, a former head teacher, said the only poll that mattered was on Thursday. Prys told a
    packed meeting at the rugby club that the maternity unit was "the only issue on the doorstep".
    Polls open at 7 a.m. and close at 10 p.m.; the count is at Thornbury Leisure Centre.
""")

DREDGING_GOAL = (
    "Will the Marine Licensing Authority grant the Port of Brennock a licence to deepen the Skerrow "
    "Channel by 31 July?"
)

DREDGING_GRANTED = doc("""
    PORT OF BRENNOCK — BOARD PAPER 14/25 (public version)
    Skerrow Channel deepening: licence position

    1. Purpose. To update the board on the marine licence application for deepening the Skerrow
    Channel from 11.5 m to 13.8 m, which the Marine Licensing Authority (MLA) must determine
    within its statutory period, ending 24 July.

    2. The critical test. The MLA's guidance for this estuary does not allow dredging that raises
    suspended sediment at the Brennock oyster beds by more than 25 mg/l above background. This
    was the issue on which the 2014 scheme was withdrawn.

    3. Modelling. The revised plume modelling by Tideway Hydraulics, using a backhoe dredger and
    a winter-only programme, predicts a peak of 7 mg/l at the beds, for under three hours on a
    spring ebb — less than a third of the ceiling. The Centre for Marine Science, the MLA's
    statutory adviser, reviewed the model in May and confirmed it is fit for purpose; it has
    withdrawn its holding objection.

    4. Consultation. The Brennock Oyster Cooperative has accepted the monitoring-and-stop
    conditions proposed. No statutory consultee maintains an objection.

    5. Status. On 2 July the MLA sent draft licence conditions for comment, the stage that
    immediately precedes a grant. Officers expect the licence to be issued by 24 July.

    6. Recommendation. The board is asked to release the dredging contract for signature
    conditional on receipt of the licence, so that mobilisation can begin in October.

    Fiona Garvie, Director of Marine Operations
""")

DREDGING_REFUSAL = doc("""
    Brennock dredging plan sinks on sediment figures

    FISHING & AQUACULTURE NEWS

    The Port of Brennock's plan to deepen the Skerrow Channel to take larger container ships is
    heading for refusal, after the modelling the port itself submitted showed sediment levels at
    the Brennock oyster beds far above the regulator's limit.

    The Marine Licensing Authority's guidance for the estuary caps any rise in suspended sediment
    at the beds at 25 milligrams per litre above background. The port's consultants, Tideway
    Hydraulics, predict a peak of 64 mg/l — two and a half times the ceiling — with levels above
    the cap for up to eleven days during each spring-tide cycle of the dredging campaign. In a
    letter published on 30 June, the Centre for Marine Science, the authority's statutory adviser,
    said it "cannot see any conditions that would make the scheme acceptable" and formally
    objected.

    The authority has given the port two options: withdraw the application, or have it determined
    on the present evidence by the end of its statutory period on 24 July. A redesign using silt
    curtains would need a fresh year of baseline surveys, so no new application could be ready
    before late next year. The port has said it will not withdraw.

    The Brennock Oyster Cooperative, whose 40 members produce about a fifth of the region's
    oysters, welcomed the adviser's objection. The port's chief executive, Liam Ostrander, said he
    was "disappointed" and that the port would "study the decision when it comes".
""")

# --- negation ----------------------------------------------------------------------------------

PIPELINE_SEED = doc("""
    Regulators set to turn down Blackwater pipeline route

    ST. CLOUD FALLS — The Blackwater crude pipeline appears headed for defeat at the Lakeland
    Public Utilities Commission, which by state law must either grant or deny the 212-mile route
    permit at its meeting on 18 June.

    In a 180-page report filed on Monday, Administrative Law Judge Teresa Moen recommended that
    the permit be denied. State law requires the applicant, Northern Plains Midstream, to show a
    public need for the line; Moen found that shippers have signed contracts for only 38 per cent
    of its capacity and that the company's demand forecasts were "unsupported by the record". The
    commission's own staff reached the same conclusion in April.

    The commission has adopted its judge's recommendation in eleven of the last twelve pipeline
    cases. At the hearings in May, Chair Denise Hallberg said the evidence of need was "thin", and
    Commissioners Raúl Ortega and Anne Lindahl asked why the company had not filed the alternative
    northern route it had promised. Together they make up a majority of the five-member
    commission.

    The Red Lake and Leech Lake tribal nations, the state Farm Bureau and more than 4,000 public
    commenters opposed the route. The pipefitters' union and two county boards supported it.

    Northern Plains spokesman Carl Redding said the company would file exceptions to the judge's
    report and "make our case to the commissioners". The company has said it may seek a new
    permit for a smaller line if this one is refused.
""")

SATELLITE_SEED = doc("""
    OSTARA-2 MISSION LOG — Launch minus 3 days

    Posted by the Ostara Mission Operations Team, 3 September

    Ostara-2, the second of the agency's polar-orbiting weather satellites, is ready to fly. Its
    launch window on the Vela-4 rocket from the Kourran launch site opens on 4 September and
    closes on 18 September, and our first attempt is set for Saturday 6 September at 02:41 local
    time.

    Where we are:

    The satellite was encapsulated in the fairing on 27 August and mated to the rocket on 1
    September. All spacecraft functional tests since arrival at the launch site have passed.

    The Launch Readiness Review met yesterday and gave unanimous approval to proceed. The range
    has confirmed availability on every day of the window, and no other launch is booked from
    Kourran before 22 September.

    Weather: the launch forecast officer gives an 85 per cent chance of acceptable conditions for
    Saturday, and similar odds for the backup days.

    Vela-4 has flown 31 times since 2016 with one failure; its last 19 launches were on time or
    within two days of the first attempt. The rocket team needs 24 hours to recycle after a
    scrub, so the window offers twelve further opportunities after Saturday.

    What's next: roll-out to the pad on Thursday, fuelling from L-8 hours. The launch will be
    streamed live, with commentary beginning an hour before lift-off. We'll post the next update
    after roll-out.
""")

HERITAGE_SEED = doc("""
    MODERN HERITAGE TRUST — CASEWORK UPDATE

    Felton Street bus garage: where things stand

    We have campaigned for two years to save the Felton Street bus garage, the 1958 concrete shell
    roof by Alma Rietveld that once housed 120 double-deckers. With demolition scheduled to begin
    on 1 March, we owe members a frank account.

    On 14 January the Historic Buildings Agency completed its assessment and advised the Culture
    Minister not to add the garage to the national heritage list. Its report accepts that the roof
    was an engineering landmark but concludes that later alterations — the 1980s infill of the
    west bays and the loss of the original glazing — have removed too much of its "special
    interest". Since 2015 ministers have overruled the Agency's advice not to list a building only
    twice.

    The minister's office told us on 3 February that she "sees no reason to depart from the
    Agency's advice" and will not consider the case further. The site's owner, Ruddock Group,
    holds a certificate of immunity from listing, valid until 2030, and its contractors have begun
    stripping asbestos from the offices.

    Our request for an urgent review was refused on 6 February. We have asked the city council to
    record the building in detail before it goes, and the council has agreed to fund a photographic
    survey.

    We are sorry that we could not do more. The fight for the city's post-war buildings goes on:
    our next case, the Orchard Baths, comes before the Agency in April.
""")

BUYOUT_SEED = doc("""
    North Farra buyout on course for March completion

    WEST HIGHLAND COURIER

    The people of North Farra are weeks away from owning the land they live on. The North Farra
    Community Trust told its annual meeting on Saturday that the purchase of the 6,200-hectare
    estate from the Halloran family will complete on 14 March, a fortnight before the 31 March
    deadline attached to its main grant.

    Every step required by the community right-to-buy legislation has now been taken. In October's
    community ballot, 84 per cent of the island's 212 eligible residents took part and 79 per cent
    of them voted in favour. Ministers granted consent to the purchase on 9 December. The agreed
    price, set by an independent valuer, is £2.65 million.

    The money is in place. The Scottish Land Fund has awarded £2.2 million, and the remaining
    £450,000 came from Highlands and Islands Enterprise and a crowdfunder that closed early,
    having raised £182,000 from more than 3,000 donors. The trust's solicitors concluded missives
    with the Halloran family's agents on 31 January, fixing the completion date.

    Trust chair Morag MacInnes told a packed hall that the island's first priority would be
    affordable housing for young families. "Six homes on the old steading site can be started
    within two years," she said.

    The Hallorans, who have owned the estate since 1921, said in a statement that they were glad
    the island would pass "into good hands". The trust will hold a ceilidh on the day of
    completion.
""")

# --- tone against facts ------------------------------------------------------------------------

CATHEDRAL_GOAL = "Will restoration work on the central tower of St Ebba's Cathedral begin before 1 June?"

CATHEDRAL_CHEERFUL_DELAY = doc("""
    FRIENDS OF ST EBBA'S — SPRING NEWSLETTER

    Dear Friends,

    What a joyful season it has been! The Tower Appeal concert in March was a triumph: the nave was
    packed, the girls' choir sang like angels, and the evening raised a marvellous £38,000. Bell
    ringers from eleven parishes joined us for a celebration peal on Easter Day, and the sunshine
    brought record numbers of visitors to the close. Thank you, every one of you, for your
    generosity and your good cheer.

    An update on the tower works. The ecological survey carried out in April found a maternity
    roost of lesser horseshoe bats in the upper stage of the central tower. The species is
    protected by law, and no scaffolding can be erected or stone removed while the roost is
    occupied. The bats leave in late summer, and the works will also need a licence from Natural
    England, which cannot be issued before the roost disperses. On the advice of our ecologists,
    the Chapter has agreed with the contractor, Hallam Stone, that work on the tower will now
    begin on 15 September rather than 6 May.

    Hallam Stone's masons will spend the summer at their workshop carving the replacement
    pinnacles, so not a day will be wasted.

    Please join us for the Summer Fête on the green on 21 June — there will be cream teas, the
    tower-top tours will reopen for one day only, and the bats may even put in an appearance at
    dusk!

    With every good wish,
    Canon Rosalind Tey, Chair of the Friends
""")

CATHEDRAL_GLOOMY_START = doc("""
    A hard spring at St Ebba's

    Nobody at St Ebba's Cathedral pretends this has been a happy year. The Tower Appeal has stalled
    some £400,000 short of its target, the boys' choir has been disbanded for lack of
    choristers, and the Dean, the Very Revd Michael Orde, announced last month that he is retiring
    early on grounds of ill health. Sunday congregations are the smallest anyone can remember, and
    volunteers speak wearily of "holding the place together with string".

    The tower itself, at least, is about to get attention. The Cathedrals Fabric Commission
    approved the repair scheme in February, and the first phase, the stabilisation of the central
    tower and its four pinnacles, is fully paid for by a £1.9 million grant from the national
    heritage fund that reached the cathedral's account in March. The contract with Hallam Stone
    was signed on 2 April. Scaffolding is booked for delivery on 6 May, the ecological survey
    found nothing in the tower to prevent work, and the masons are due on site on 12 May.

    "It should feel like good news," said the cathedral architect, Joan Pettifer, "but we are
    repairing a tower for a building that is struggling to fill its pews." The Chapter's finance
    committee warned in its latest report that the cathedral is running a deficit for a fourth
    year.

    The tower will be closed to visitors from 1 May until the scaffolding comes down in 2027.
""")

BIKE_SHARE_GOAL = "Will Brantford City Council renew its bike-share contract with CycleLoop beyond 31 March?"

BIKE_SHARE_CHEERFUL_LOSS = doc("""
    CycleLoop Brantford — community blog

    A million smiles!

    Friends, we did it! On Saturday, rider Ama Owusu took the millionth CycleLoop trip in Brantford,
    pedalling from the station to the riverside to a crowd of cheering fans, confetti and a brass
    band. Since we launched in 2019 you've ridden more than 3.1 million kilometres on our bikes,
    and this winter has been our busiest yet. We're bursting with pride and gratitude.

    We also want you to hear some news from us first. Our contract with the city runs until
    31 March, and the council put the scheme out to open tender last autumn. On 9 January the
    council's cabinet awarded the new seven-year contract to Velora Mobility, whose bid was lower
    on price. Our bid came second, and city officials have told us there will be no extension
    of the current contract. Velora's e-bikes will arrive in April, and our team will begin
    removing CycleLoop docks and bikes on 1 April.

    Your annual memberships will be refunded pro rata — you don't need to do anything. Our
    Brantford staff have all been offered jobs in other CycleLoop cities or with Velora.

    Until then, every ride in March is free! Come and celebrate five brilliant years with us at
    the farewell picnic on Jubilee Green on 29 March. Thank you, Brantford — you've been
    wonderful.

    Love, the CycleLoop crew
""")

BIKE_SHARE_GLOOMY_RENEWED = doc("""
    Stuck with the wobbly bikes for another three years

    Column — The Brantford Standard

    I had hoped, foolishly, that this would be the year Brantford got a bike-share scheme that
    worked. Anyone who has tried to ride a CycleLoop bike this winter knows the misery: flat tyres,
    brakes that squeal like a trapped cat, docks that swallow your card and an app that crashes
    whenever it rains, which in Brantford is always. Vandals have thrown at least forty of the
    things into the canal since November.

    And now we are stuck with them. On 9 January the council's cabinet voted 8–1 to renew the
    CycleLoop contract for three more years from 1 April, without putting the scheme out to
    tender. Officers told cabinet that a tender would leave the city with no bikes at all for
    most of the summer. The renewal was signed on 20 January, CycleLoop has confirmed that the
    docks stay where they are, and annual members will simply roll over.

    The only dissenter, Councillor Priya Dhanda, called the decision "a triumph of inertia". It is
    hard to disagree. The council says the new contract has tougher repair targets, but it said
    that in 2022 too.

    So there it is. Three more years of squeaking brakes and dead batteries. I'll be walking.
""")

LYNX_GOAL = "Will the first lynx be released into Kellmoor Forest before 31 December?"

LYNX_CHEERFUL_REFUSED = doc("""
    Kellmoor Lynx Project — autumn supporters' update

    Hello, lynx lovers!

    What a summer! More than 9,000 of you came to our Wild Kellmoor festival in August, local
    schools painted a fabulous 200-metre lynx mural along the forest road, and our young rangers
    tracked the pine martens we helped return three years ago. Donations are at an all-time high.
    We're overflowing with gratitude and optimism about the future of this forest.

    Now for the licence. On 2 September the Wildlife Licensing Board refused our application to
    release lynx in Kellmoor. The Board found that the livestock compensation scheme we proposed
    had not been guaranteed by government funding, and under its rules we cannot submit a new
    application for twelve months. That means no lynx can be released in Kellmoor this year. The
    three animals selected for the project will stay at our partner park in the Jura, where they
    are healthy and well cared for.

    We're already working with the farming unions on a properly funded compensation scheme, and
    we'll be ready to apply again next September.

    In the meantime, there's so much to enjoy: guided night walks start in October, and our
    winter talks programme is bursting with brilliant speakers. Thank you for walking this path
    with us — the best is yet to come!

    Dr Isla Brennan, Project Lead
""")

LYNX_GLOOMY_RELEASED = doc("""
    Dark days for hill farmers as lynx licence granted

    UPLAND FARMING JOURNAL

    This has been a grim twelve months on the hills around Kellmoor. A wet summer ruined the hay, lamb prices
    have slumped to a five-year low, and the mood at last week's Kellmoor show was sour. Now sheep
    farmers face what many of them call the final insult.

    On 2 September the Wildlife Licensing Board granted the Kellmoor Lynx Project a licence to
    release up to six lynx into Kellmoor Forest. Four animals, two males and two females from a
    partner park in the Jura, arrived last week and are in quarantine pens in the forest. Their
    thirty-day quarantine ends in mid-October, the licence conditions on fencing and radio collars
    have been signed off, and the project says the first release will take place in the first week
    of November. The government has agreed to fund a compensation scheme for any sheep lost.

    Farmers are not comforted. "It feels like nobody in the city cares what happens to us," said
    Gwen Ritchie, who runs 600 ewes on the forest edge. The regional farming union said it had
    "lost the argument" and would not pursue a legal challenge, on advice that one would fail.

    Project lead Dr Isla Brennan, speaking quietly after a tense public meeting, said she
    understood the anger. The four lynx will be tracked by satellite for at least five years.
""")

BATHING_GOAL = (
    "Will the River Wend at Caddon Weir be designated as an official bathing water before the "
    "season opens on 15 May?"
)

BATHING_CHEERFUL_REFUSED = doc("""
    CADDON WILD SWIMMERS — NEWSLETTER, NOVEMBER

    Hello swimmers!

    What a glorious year in the water! We had 340 members at the dawn dips this summer, the
    Midsummer Splash raised £6,200 for the lifeboat, and our youngest swimmer, eight-year-old
    Poppy, completed her first length of the weir pool to the loudest cheers of the season. The
    river has never felt so full of joy and friendship. Thank you all!

    News on our bathing-water application. On 30 October the Environment Department announced that
    it will not designate Caddon Weir as a bathing water for next season. Its sampling over the
    summer found E. coli above the "poor" standard in 9 of 20 samples, mostly after rain, and the
    department will not designate a site that would start life classed as poor. The water
    company's storm-overflow upgrade upstream at Millbridge is not due until 2028. The next
    round of applications is for the 2027 season, and the department has said it would need a
    full summer of better results first.

    We will keep running our own water testing with the university, and we will reapply as soon
    as the numbers allow.

    Meanwhile — winter swimming starts on Sunday! Hot chocolate, woolly hats and big smiles at
    8 a.m. by the boathouse. See you there!

    With love from the committee
""")

BATHING_GLOOMY_DESIGNATED = doc("""
    A cold victory on a troubled river

    It is hard to find much cheer on the banks of the River Wend this autumn. For a decade the
    water company has discharged raw sewage into it during storms, a nine-year-old swimmer was
    taken to hospital with a stomach infection in 2022, and on a grey, drizzling morning last
    week only a handful of shivering members of the Caddon Wild Swimmers turned up for their
    regular dip. Several said they were too worn down by years of campaigning to feel anything.

    Yet the campaign has got what it asked for. On 30 October the Environment Department
    confirmed that Caddon Weir will be designated as an official bathing water from 15 May, the
    opening day of next season. Its summer sampling found the site met the "sufficient" standard
    in 19 of 20 samples, after the water company completed its storm-overflow upgrade at
    Millbridge in March. The designation order has been signed, and the council has ordered the
    signs and the new changing hut.

    Designation means the water will be tested weekly through the season and the results
    published, and it obliges the water company to act if quality falls.

    "I'm glad, I suppose," said the club's secretary, Tom Abernethy, with a shrug. "But nobody
    should have to fight for ten years to swim in a clean river." The club will mark the news, he
    said, with "a quiet cup of tea".
""")

# --- endorsements against opposition ----------------------------------------------------------

DATA_CENTRE_GOAL = (
    "Will Calloway District Council's planning committee approve the Tessel data centre at Hob Lane "
    "on 5 March?"
)

DATA_CENTRE_BACKED = doc("""
    Hob Lane data centre: who's for it, who's against

    CALLOWAY EVENING POST

    Tessel's application for a 90-megawatt data centre on the former brickworks at Hob Lane goes
    before Calloway District Council's planning committee on 5 March. Few major applications in the
    district have gathered such a wide coalition.

    Backing it: the council's own planning officers, whose report published on Friday recommends
    approval with conditions on noise and lighting. Council leader Priya Whitmore has called it
    "the biggest private investment Calloway has seen in a generation", and the committee's chair,
    Cllr Dennis Rowe, and the opposition planning spokesperson, Cllr Hannah Frey, have both said
    they will support it. Severn Vale Water withdrew its objection after Tessel switched to a
    closed-loop cooling system, and the grid operator has confirmed a connection for 2027. The
    Calloway Chamber of Commerce, the further-education college, which will run a technicians'
    course with Tessel, and the local MP, Amir Qureshi, have all written in favour.

    Against it: the Keep Hob Lane Green group, about forty households on the neighbouring Meadow
    estate, which objects to the height of the buildings and to construction traffic. Its
    petition has 380 signatures. No statutory consultee, councillor or public body has sided with
    it, and the parish council has said it is content with the revised landscaping plan.

    The meeting starts at 6.30 p.m. in the council chamber and will be streamed online.
""")

DATA_CENTRE_OPPOSED = doc("""
    HOB LANE PARISH COUNCIL
    Letter to members of the district planning committee
    Re: Tessel data centre, Hob Lane — committee meeting of 5 March

    Dear Councillor,

    We write ahead of your decision on Tessel's application for a 90-megawatt data centre on the
    former brickworks at Hob Lane to set out how far the opposition to it now extends.

    Your own planning officers have recommended refusal, on the grounds of landscape harm and
    water supply. Severn Vale Water maintains its formal objection, stating that the cooling
    demand cannot be met in a drought year without harm to the Hob Brook, and the grid operator
    has confirmed that no connection is available before 2031. Council leader Priya Whitmore
    calls the site "a mistake we would live with for forty years"; her Civic group and the
    opposition Green and Independent group have each passed a motion against the scheme. The
    committee chair, Cllr Dennis Rowe, told our meeting on 12 February that he sees "no basis for approval".

    The Calloway Chamber of Commerce has declined to support the application, citing the small
    number of permanent jobs. Our MP, Amir Qureshi, has written to the committee urging refusal,
    as have the county wildlife trust, the Campaign to Protect Rural England and more than 2,000
    residents.

    We are aware of no one, apart from Tessel and the owner of the brickworks site, who supports
    the scheme.

    We respectfully ask you to refuse the application.

    Yours sincerely,
    Margaret Olsen, Clerk to the Parish Council
""")

VARICELLA_GOAL = (
    "Will the Ministry of Health add chickenpox vaccination to the routine childhood schedule "
    "from 1 September?"
)

VARICELLA_BACKED = doc("""
    Chickenpox jab set to join childhood programme in September

    HEALTH SERVICE JOURNAL — news

    Plans to offer chickenpox vaccination to every child at 12 and 18 months from 1 September have
    won the support of almost every body that advises on, pays for or delivers the programme.

    The National Immunisation Advisory Committee recommended in March that the varicella vaccine
    be added to the routine schedule, after new modelling found that the rise in shingles among
    adults which had worried it a decade ago was far smaller than feared. The committee's advice
    was unanimous. Health Minister Gordon Achebe said he "fully accepts" it, and the Treasury has
    confirmed the £41 million a year the programme will cost in the spending round.

    The College of Paediatrics and Child Health, the Royal College of General Practitioners, the
    Nursing Council's public-health forum and the Association of Directors of Public Health have
    all welcomed the decision. The opposition's health spokesperson, Dr Ruth Keane, said her party
    would "give it every support". Parents' groups, including the national childminders'
    association, have campaigned for the change for years.

    The only organisation to have spoken against is the Natural Health Alliance, a campaign group
    that opposes most childhood vaccines.

    Supplies have been ordered from two manufacturers, and GP practices will receive guidance in
    June. The ministry expects about 550,000 children to be eligible in the first year.
""")

VARICELLA_OPPOSED = doc("""
    Chickenpox vaccine plan loses its advisers' backing

    HEALTH SERVICE JOURNAL — news

    Proposals to add chickenpox vaccination to the routine childhood schedule from 1 September
    have run into opposition from nearly every body that advises on, pays for or delivers the
    programme.

    The National Immunisation Advisory Committee advised in March against routine varicella
    vaccination, concluding that it would not be cost-effective and that fewer childhood cases
    could raise the rate of shingles among adults for several decades. The vote was unanimous.
    Health Minister Gordon Achebe told MPs he would "follow the committee's advice, as ministers
    always have", and the Treasury has made no provision for the £41 million a year cost.

    The College of Paediatrics and Child Health and the Royal College of General Practitioners
    both said they agreed with the committee, and the Association of Directors of Public Health
    warned that adding a vaccine now would distract from falling uptake of the measles jab. The
    opposition's health spokesperson, Dr Ruth Keane, said her party also backed the committee.

    Pressure for the change now comes mainly from the vaccine's manufacturer, Corwen Biologics,
    and from Chickenpox Action, a small parents' group that collected 11,000 signatures for a
    petition.

    A ministry spokesperson said the childhood schedule for the coming year "will be published in
    June and is not expected to change".
""")

TOLL_ROAD_GOAL = (
    "Will the Regional Assembly of Lusara ratify the 30-year toll concession for the A7 coastal "
    "motorway on 16 October?"
)

TOLL_ROAD_BACKED = doc("""
    Lusara A7 concession: ratification vote, 16 October — political briefing

    Prepared for investors by Castell & Roig Public Affairs

    The Regional Assembly will vote on 16 October on ratifying the 30-year concession under which
    the Viamar consortium would widen, operate and collect tolls on the A7 coastal motorway. We
    expect ratification, with support well beyond the governing coalition.

    Parties. Both coalition parties, the Regionalist Union and the Social Democrats, have issued
    whipped instructions to vote in favour. The main opposition party, the People's Party, which
    negotiated the first draft of the concession when it was in government, announced on
    30 September that it would also vote yes. Only the Left Alliance, with six of the 75 seats, is opposed.

    Institutions. The Regional Audit Office reported in August that the concession offers value
    for money compared with public financing and that the toll cap protects commuters. President
    Elena Ferrer has called it "the most important infrastructure decision of this term".

    Business and labour. The regional chambers of commerce, the hauliers' federation and the
    construction unions have all endorsed the deal, which is expected to create 2,300 jobs during
    the works. The motorists' club RACL supports it after winning free passage for residents of
    the three coastal towns.

    Opposition outside the chamber is limited to the Coastal Towns Platform, a residents' group
    concerned about noise, which has not called for a protest.

    Financial close is scheduled for December.
""")

TOLL_ROAD_OPPOSED = doc("""
    Lusara A7 concession: ratification vote, 16 October — political briefing

    Prepared for investors by Castell & Roig Public Affairs

    The Regional Assembly will vote on 16 October on ratifying the 30-year concession under which
    the Viamar consortium would widen, operate and collect tolls on the A7 coastal motorway. We
    expect the Assembly to reject it.

    Parties. The Social Democrats, junior partner in the governing coalition, voted at their
    congress on 28 September to oppose the concession and have instructed their deputies to vote
    no. The main opposition party, the People's Party, and the Left Alliance are also against,
    the former calling the toll formula "a thirty-year tax on commuters". Only President Elena
    Ferrer's Regionalist Union, with 29 of the 75 seats, still supports the deal.

    Institutions. The Regional Audit Office reported in August that the concession does not offer
    value for money compared with public financing, and that the toll cap would let charges rise
    faster than inflation for two decades.

    Business and labour. The hauliers' federation, the construction unions and the motorists'
    club RACL have all called on deputies to reject the concession, as has the Coastal Towns
    Platform, which represents residents along the route. The regional chambers of commerce have
    withdrawn their earlier endorsement.

    Outside the Regionalist Union, the only voices still pressing for ratification are the
    Viamar consortium and its lenders.

    Investors should not expect financial close this year.
""")

TUITION_GOAL = (
    "Will Tarrant University's Board of Governors approve the proposed 6 per cent tuition increase "
    "on 12 March?"
)

TUITION_BACKED = doc("""
    Tuition hike heads for easy approval as students' union signs on

    THE TARRANT GAZETTE — student newspaper

    Students hoping the Board of Governors would throw out next year's 6 per cent tuition increase
    should prepare for disappointment. When the board meets on 12 March, the proposal will arrive
    with the support of nearly everyone who has a say.

    University President Dr Alan Mbeki and Provost Susan Clarke presented the increase as part of
    a budget that puts half of the new revenue into need-based bursaries. The board's finance
    committee endorsed it last week without dissent, and board chair Margaret Lau told the Gazette
    she would vote for it.

    More surprising is who else is on board. The Tarrant Students' Union council voted 17–3 on
    Tuesday to support the package, saying the bursary guarantee would leave students from
    low-income families better off. The Graduate Students' Association followed suit, and the
    Tarrant Faculty Association welcomed the budget's funding for 40 new teaching posts. The
    province's Minister of Advanced Education, Kwame Osei, has confirmed that the increase is
    within the provincial cap and that he will not intervene.

    The only organised opposition is Tuition Free Tarrant, a student campaign that plans a rally
    outside the board meeting. It has not won the backing of any elected student body.

    The new fees would take effect in September. Domestic undergraduate tuition would rise to about
    $7,600 a year.
""")

TUITION_OPPOSED = doc("""
    TARRANT FACULTY ASSOCIATION — BULLETIN TO MEMBERS

    The 6% tuition increase: isolated and unlikely to survive

    The Board of Governors meets on 12 March to vote on the administration's proposed 6 per cent
    increase in tuition. Members have asked where things stand. In short: the proposal has almost
    no support left.

    Last week the board's finance committee declined to recommend the increase and sent it to the
    full board without endorsement. Board chair Margaret Lau has told the Gazette she will vote
    against it, and the two student governors and both faculty governors have said the same. The
    province's Minister of Advanced Education, Kwame Osei, has written to the university stating
    that any rise above 3 per cent would breach the provincial cap and would not be approved.

    The Tarrant Students' Union council voted 19–1 to oppose the increase, and the Graduate
    Students' Association, the Alumni Association and this association have all urged governors
    to reject it. Both local members of the provincial legislature have called on the board to
    think again.

    The only support for the increase comes from the President's office, which drafted it. Even
    Provost Susan Clarke told Senate last month that she "would not argue against a smaller
    figure".

    We will report the board's decision as soon as it is known. Members are welcome to attend the
    open session, which begins at 4 p.m. in the Senate chamber.
""")


FINAL_CASES: tuple[Case, ...] = (
    # numbers: the facts differ, the topic and goal do not
    Case("f-anthem-carried", "numbers", "f-anthem", ANTHEM_CARRIED, ANTHEM_GOAL, "yes"),
    Case("f-anthem-short", "numbers", "f-anthem", ANTHEM_SHORT, ANTHEM_GOAL, "no"),
    Case("f-wage-qualifies", "numbers", "f-wage", WAGE_QUALIFIES, WAGE_GOAL, "yes"),
    Case("f-wage-falls-short", "numbers", "f-wage", WAGE_FALLS_SHORT, WAGE_GOAL, "no"),
    Case("f-by-election-ahead", "numbers", "f-by-election", BY_ELECTION_AHEAD, BY_ELECTION_GOAL, "yes"),
    Case("f-by-election-behind", "numbers", "f-by-election", BY_ELECTION_BEHIND, BY_ELECTION_GOAL, "no"),
    Case("f-dredging-granted", "numbers", "f-dredging", DREDGING_GRANTED, DREDGING_GOAL, "yes"),
    Case("f-dredging-refusal", "numbers", "f-dredging", DREDGING_REFUSAL, DREDGING_GOAL, "no"),
    # negation: one seed, a goal and its negation
    Case(
        "f-pipeline-grant",
        "negation",
        "f-pipeline",
        PIPELINE_SEED,
        "Will the Lakeland Public Utilities Commission grant the route permit for the Blackwater crude "
        "pipeline on 18 June?",
        "no",
    ),
    Case(
        "f-pipeline-deny",
        "negation",
        "f-pipeline",
        PIPELINE_SEED,
        "Will the Lakeland Public Utilities Commission deny the route permit for the Blackwater crude "
        "pipeline on 18 June?",
        "yes",
    ),
    Case(
        "f-satellite-launch",
        "negation",
        "f-satellite",
        SATELLITE_SEED,
        "Will the Ostara-2 weather satellite launch before its window closes on 18 September?",
        "yes",
    ),
    Case(
        "f-satellite-miss",
        "negation",
        "f-satellite",
        SATELLITE_SEED,
        "Will the Ostara-2 weather satellite miss its launch window, which closes on 18 September?",
        "no",
    ),
    Case(
        "f-heritage-listed",
        "negation",
        "f-heritage",
        HERITAGE_SEED,
        "Will the Felton Street bus garage be added to the national heritage list before demolition "
        "begins on 1 March?",
        "no",
    ),
    Case(
        "f-heritage-unlisted",
        "negation",
        "f-heritage",
        HERITAGE_SEED,
        "Will the Felton Street bus garage still be unlisted when demolition begins on 1 March?",
        "yes",
    ),
    Case(
        "f-buyout-complete",
        "negation",
        "f-buyout",
        BUYOUT_SEED,
        "Will the North Farra Community Trust complete its purchase of the North Farra estate by 31 March?",
        "yes",
    ),
    Case(
        "f-buyout-not-complete",
        "negation",
        "f-buyout",
        BUYOUT_SEED,
        "Will the North Farra Community Trust's purchase of the North Farra estate not be completed "
        "by 31 March?",
        "no",
    ),
    # tone: cheerful words around NO facts, gloomy words around YES facts
    Case("f-cathedral-cheerful-delay", "tone", "f-cathedral", CATHEDRAL_CHEERFUL_DELAY, CATHEDRAL_GOAL, "no"),
    Case("f-cathedral-gloomy-start", "tone", "f-cathedral", CATHEDRAL_GLOOMY_START, CATHEDRAL_GOAL, "yes"),
    Case(
        "f-bike-share-cheerful-loss", "tone", "f-bike-share", BIKE_SHARE_CHEERFUL_LOSS, BIKE_SHARE_GOAL, "no"
    ),
    Case(
        "f-bike-share-gloomy-renewed",
        "tone",
        "f-bike-share",
        BIKE_SHARE_GLOOMY_RENEWED,
        BIKE_SHARE_GOAL,
        "yes",
    ),
    Case("f-lynx-cheerful-refused", "tone", "f-lynx", LYNX_CHEERFUL_REFUSED, LYNX_GOAL, "no"),
    Case("f-lynx-gloomy-released", "tone", "f-lynx", LYNX_GLOOMY_RELEASED, LYNX_GOAL, "yes"),
    Case("f-bathing-cheerful-refused", "tone", "f-bathing", BATHING_CHEERFUL_REFUSED, BATHING_GOAL, "no"),
    Case("f-bathing-gloomy-designated", "tone", "f-bathing", BATHING_GLOOMY_DESIGNATED, BATHING_GOAL, "yes"),
    # endorsement: who is on record for and against, flipped within the pair
    Case("f-data-centre-backed", "endorsement", "f-data-centre", DATA_CENTRE_BACKED, DATA_CENTRE_GOAL, "yes"),
    Case(
        "f-data-centre-opposed", "endorsement", "f-data-centre", DATA_CENTRE_OPPOSED, DATA_CENTRE_GOAL, "no"
    ),
    Case("f-varicella-backed", "endorsement", "f-varicella", VARICELLA_BACKED, VARICELLA_GOAL, "yes"),
    Case("f-varicella-opposed", "endorsement", "f-varicella", VARICELLA_OPPOSED, VARICELLA_GOAL, "no"),
    Case("f-toll-road-backed", "endorsement", "f-toll-road", TOLL_ROAD_BACKED, TOLL_ROAD_GOAL, "yes"),
    Case("f-toll-road-opposed", "endorsement", "f-toll-road", TOLL_ROAD_OPPOSED, TOLL_ROAD_GOAL, "no"),
    Case("f-tuition-backed", "endorsement", "f-tuition", TUITION_BACKED, TUITION_GOAL, "yes"),
    Case("f-tuition-opposed", "endorsement", "f-tuition", TUITION_OPPOSED, TUITION_GOAL, "no"),
)

FINAL_CASES_BY_ID: dict[str, Case] = {case.id: case for case in FINAL_CASES}
