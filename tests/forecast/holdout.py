"""A second, held-out set of forecast-coherence cases, on topics the first set does not touch.

Written as real documents (news, minutes, analyst notes, bulletins, blog posts) by someone who has
not read how the engine parses text, so they test whether the forecast follows the evidence rather
than the wording of `tests/forecast/seeds.py`. Same four families and conventions as there:

- `numbers`     one topic twice, the figures (polls, counts, money raised, margins against a legal
                threshold) implying YES in one seed and NO in the other;
- `negation`    one seed asked as a goal and as its negation (win/lose, approve/be rejected,
                restart/not restart, grant/be blocked): the two probabilities must sum to 1;
- `tone`        NO facts in cheerful words and YES facts in gloomy ones;
- `endorsement` who is on record for and against, one-sided, flipped within the pair.

Every id starts with `h-`. Not yet run by the coherence test or the benchmark.
"""

from __future__ import annotations

from tests.forecast.seeds import Case
from tests.forecast.seeds import _doc as doc

# --- numbers -----------------------------------------------------------------------------------

RECALL_GOAL = (
    "Will Mayor Gavin Thorne be removed from office in the Port Ellery recall election on 19 August?"
)

RECALL_AHEAD = doc("""
    PORT ELLERY — Mayor Gavin Thorne's chances of surviving the 19 August recall election look
    slim. A KTVE/Bayline poll of 812 registered voters, taken from 28 to 31 July, found 57% in
    favour of removing him and 35% against, with 8% unsure. Under the city charter the mayor is
    recalled if more than half of the ballots cast on the recall question are marked "yes"; a
    successor is chosen on the same ballot.

    The recall drive, launched after last winter's water-billing scandal, turned in 11,840 valid
    signatures in May, nearly double the 6,200 it needed to force the election. Two earlier
    surveys pointed the same way: a June poll for the Ellery Tribune put removal ahead 54 to 39,
    and a mid-July survey by Coastal State University had it at 59 per cent.

    Thorne has lent his own campaign $180,000 and is running television ads arguing that the
    billing errors were made by a contractor hired before he took office. "I'm going to keep
    making my case to every voter in this city," he said on Monday.

    According to county registrar Hollis Amaro, mail ballots returned so far are heaviest in the
    northern wards, where support for the recall runs at close to two to one.

    Four candidates have qualified to replace Thorne if he is recalled. The best known, former
    council president Lena Strand, took 31% in the KTVE poll.
""")

RECALL_BEHIND = doc("""
    Notes from the field: why I expect Gavin Thorne to keep his job
    Posted 3 August by Dana Whitcroft, Bayline Research

    Friends keep asking me whether Port Ellery's mayor will be thrown out in the 19 August recall.
    Short answer: I doubt it.

    Our latest survey for KTVE (812 registered voters, 28–31 July) has 38% saying they will vote
    to remove him and 54% saying they will vote to keep him; the rest haven't decided. Even if
    every undecided voter broke for the recall, it would still fall short of the majority of
    ballots the city charter requires. That isn't a one-off. Coastal State University's mid-July
    poll had removal at 36 per cent, and the Ellery Tribune's June poll found 41 for and 52
    against.

    The recall campaign barely cleared the signature bar in May — 6,390 valid signatures against a
    requirement of 6,200 — and it has struggled since. Its last filing showed $42,000 raised,
    about a quarter of what the mayor's committee has in the bank. Mail-ballot returns are running
    strongest in the southern wards, which Thorne carried two to one in 2022.

    History is on his side as well: the city's last recall, aimed at a council member in 2017,
    won just 44 per cent.

    Nothing in politics is certain, and scandals can move late. But my expectation is that Gavin
    Thorne is still mayor on 20 August.
""")

TAKEOVER_GOAL = (
    "Will Sporting Alvarado's members approve the sale of a majority stake to Meridian Sports Group "
    "at the extraordinary assembly on 22 March?"
)

TAKEOVER_CARRIED = doc("""
    SPORTING ALVARADO — OFFICIAL CLUB STATEMENT
    Postal vote on the Meridian proposal: count published

    The club's independent electoral commission has completed its count of the postal ballots on
    the proposed sale of 51% of Sporting Alvarado SAD to Meridian Sports Group. Of 12,430 valid
    postal votes, 10,120 were in favour and 2,310 against — 81.4 per cent in favour.

    Under Article 27 of the club statutes, the sale must be approved by at least two-thirds of all
    votes cast, postal and in person, at the extraordinary assembly on 22 March. The assembly hall
    at the Estadio Municipal holds 1,800 members. Even if every member in the hall voted against,
    the proposal would still carry roughly 71 per cent of the total, comfortably above the
    two-thirds required.

    Meridian has committed €65 million to clear the club's bank debt and a further €20 million
    over five years for the training ground. Members will keep a 49% stake and the right to veto
    any change to the club's name, crest, colours or stadium.

    Club president Javier Montaño thanked members for a turnout of 68%, the highest in the club's
    history. A group of members opposed to the sale, Alvarado Somos Todos, has said it respects
    the count.

    Accreditation for the assembly opens at 16:00; voting in the hall closes at 19:30.
""")

TAKEOVER_SHORT = doc("""
    The numbers are in, and the Meridian deal is in trouble

    Blog post, La Grada Norte supporters' site

    The club finally published the postal count last night, and whatever the board says in public,
    the sums don't work for them. Of 10,830 valid postal ballots on selling 51% of the club to
    Meridian Sports Group, 5,870 were yes and 4,960 were no. That's 54 per cent.

    Article 27 of the statutes is clear: the sale needs two-thirds of all votes cast, postal plus
    in person, at the extraordinary assembly on 22 March. Only 1,800 members fit in the hall. Even
    if every one of them voted yes, the total would be 7,670 yes out of 12,630 — about 61 per
    cent. It can't happen.

    Nor is the mood in the stands shifting their way. Both of the big peñas, Peña Sur and the
    Veteranos, told members to vote no after Meridian refused to put the stadium guarantee in
    writing, and the 2019 vote on moving to a new ground — which needed the same two-thirds — got
    48 per cent.

    President Javier Montaño says he will "respect the members' decision". The smart money at the
    club now is on what the board does after the assembly, because the sale itself looks dead.
""")

SHARE_OFFER_GOAL = (
    "Will the Kettleby community share offer to buy the Plough Inn reach its £450,000 target by 31 May?"
)

SHARE_OFFER_FUNDED = doc("""
    KETTLEBY VILLAGE NEWS — May edition

    Save the Plough: almost there!

    The community share offer to buy the Plough Inn has now raised £441,300 from 612 investors,
    98 per cent of the £450,000 target, with just over three weeks left before it closes on
    31 May. New applications have been arriving at around £12,000 a week since the Easter fair.

    On top of that, the parish council voted 7–0 on 2 May to invest £25,000 from its reserves,
    which will be added to the total as soon as the paperwork is signed — taking the offer past
    its target even if no one else invests. The Plunkett Foundation has confirmed that the
    £100,000 match-funding package it offered is unaffected, and the brewery selling the pub has
    agreed to hold its price of £520,000 until 30 June.

    Steering group chair Anita Crowe said the response had been extraordinary: "Two hundred of our
    investors live within a mile of the pub. People want their local back."

    Shares cost £1 each, with a minimum investment of £100. Application forms are in the post
    office and on the society's website. The society's first general meeting, where members will
    elect a management committee, is pencilled in for 14 June in the village hall.
""")

SHARE_OFFER_STALLED = doc("""
    Kettleby Community Pub Society — steering group
    Notes of the meeting held on 19 May, Kettleby village hall
    Present: A. Crowe (chair), R. Desai (treasurer), M. Pollard, J. Finch

    1. Share offer. The treasurer reported that the offer to buy the Plough Inn had raised
    £171,300 from 244 investors, 38 per cent of the £450,000 target, with twelve days left before
    it closes on 31 May. Applications have slowed to about £4,000 a week since March. No single
    investor larger than £10,000 has come forward.

    2. Other funding. The parish council declined on 12 May to invest from its reserves. The
    Plunkett Foundation's match funding depends on the share offer reaching its target, so it
    cannot close the gap. The Ecclesiastical bank's loan offer lapsed in April.

    3. Discussion. The chair said that, on these figures, the offer would not reach its target by
    31 May. Members agreed that extending the closing date was not possible, because the brewery
    has said it will sell the pub to another buyer from 1 June.

    4. Resolved that investors' money be returned in full if the target is not reached, and that
    the treasurer write to all investors before 25 May.

    Next meeting: 2 June.
""")

TARIFF_GOAL = (
    "Will the Trade Remedies Commission impose anti-dumping duties on aluminium extrusions from "
    "Veridia in its final determination on 15 October?"
)

TARIFF_IMPOSED = doc("""
    CLIENT ALERT — Aluminium extrusions from Veridia: final determination due 15 October

    Hallworth & Ames LLP, International Trade Group

    The Trade Remedies Commission's provisional determination, published on 12 June, found
    dumping margins of 18.7% to 31.2% for the three Veridian exporters it examined, far above the
    2% de minimis threshold below which an investigation must be ended. Provisional duties at those
    rates have been collected on every shipment since 13 June.

    The injury findings are equally strong. Imports from Veridia rose from 14,000 tonnes in 2021
    to 52,000 tonnes in 2023 — close to a fourfold increase — while domestic producers' share of
    the market fell from 68 per cent to 49 per cent and two extrusion plants closed. The
    Commission's on-site verification visits in August confirmed the exporters' cost data without
    material changes.

    In eleven of the Commission's last twelve investigations, the final determination confirmed
    definitive duties within two percentage points of the provisional rates. We see nothing in the
    file that would make this case the exception: the exporters' written submissions repeat
    arguments the Commission has already rejected.

    Importers should therefore plan on definitive anti-dumping duties being imposed on 15 October,
    most likely for five years, and should budget for the provisional deposits to be converted
    into final duties.
""")

TARIFF_BELOW_THRESHOLD = doc("""
    Veridian extrusions case set to close without duties

    METALS TRADE WEEKLY

    The anti-dumping investigation into aluminium extrusions from Veridia looks certain to end
    without duties when the Trade Remedies Commission issues its final determination on
    15 October. In its provisional findings on 12 June the Commission calculated a dumping margin
    of 1.4% for Alvera Metals, the largest exporter, and 0.9% for the second, Norvik. Under the
    trade remedies regulations, any margin below 2% is de minimis and the investigation must be
    terminated for that exporter.

    The import volumes are also small. Veridian extrusions made up 2.1 per cent of domestic
    consumption last year, under the 3 per cent level at which imports from a single country are
    treated as negligible. The Commission declined to impose provisional duties in June, and its
    August verification visits lowered Alvera's margin slightly.

    The domestic industry's trade body, the Extruders' Federation, which brought the complaint,
    has acknowledged that "the figures have not gone our way" and is considering a fresh case
    focused on another supplier country. Importers have stopped paying deposits.

    The Commission has not imposed duties in any of the four cases since 2015 in which it found
    provisional margins below the de minimis level.
""")

# --- negation ----------------------------------------------------------------------------------

CONFIDENCE_SEED = doc("""
    Achard faces defeat in Thursday's confidence vote after Greens quit coalition

    VALMONT — Prime Minister Mireille Achard is expected to lose the
    confidence vote she has called for Thursday 11 February, after the Green Party withdrew from
    her coalition on Sunday and said its 27 deputies would vote against the government.

    To survive, Achard needs the backing of an absolute majority of the Chamber of Deputies: 151
    of its 301 members. Her Union for Renewal holds 118 seats and its remaining partner, the
    Agrarian League, 14, giving her 132. All four opposition parties, with 163 deputies between
    them, have said they will vote no, and the six independents are split. Even with every
    independent on her side, the government would be thirteen votes short.

    The crisis began when Achard's cabinet approved the extension of the Serren lignite mine over
    the objections of the Green environment minister, Paulo Teixeira, who resigned on Saturday.
    Green leader Ana Brandt said there was "no path back" for her party into the coalition.

    Achard, who has led the government since 2021, told reporters she had called the vote "so that
    everyone takes responsibility". Constitutional lawyers note that if she loses, the president
    must invite another leader to try to form a government within 30 days before calling an early
    election.

    Bond yields rose on Monday, and the Valmont stock index fell 1.8 per cent.
""")

DRUG_SEED = doc("""
    Halvora (ribesotide): we raise our probability of approval to 90%

    Equity research — Corvane Therapeutics (CRVN), 28 April

    The National Medicines Agency must decide on Corvane's marketing application for Halvora in
    chronic migraine by its statutory decision date of 14 May. Everything we have seen points to
    approval.

    Efficacy. Both phase 3 trials met their primary endpoint. In VESPER-1 (n=1,106) patients on
    Halvora had 4.1 fewer monthly migraine days against 1.9 on placebo; VESPER-2 (n=982) showed
    4.4 against 2.0, both with p<0.001. The effect held across every pre-specified subgroup.

    Advisory committee. On 9 April the agency's neurology advisory committee voted 14–1 that
    Halvora's benefits outweigh its risks, with members describing the safety database of more
    than 2,300 patients as "reassuring". The agency has followed a positive committee vote in
    every neurology application of the past decade.

    Process. Corvane disclosed on 22 April that label negotiations with the agency have begun, and
    the pre-approval inspection of its Limerick manufacturing plant closed in March with no
    observations. The agency has not asked for any further data.

    Risks. The single dissenting committee member raised a small imbalance in liver-enzyme
    elevations; we expect it to appear in the label's warnings section rather than to block
    approval. We model launch in the third quarter.
""")

FERRY_SEED = doc("""
    CULLEN ISLANDS COUNCIL — TRANSPORT AND HARBOURS COMMITTEE
    Minutes, 3 March

    Item 2: Cullen Sound ferry service. The Head of Marine Services, Mr Ruaridh Campbell, reported
    on the suspended service between Port Cullen and Rona, which has not sailed since the MV Skerry
    Lass failed in November.

    The vessel remains in dry dock at Ardmore. The replacement gearbox is now due from the
    manufacturer in the week of 21 April, and fitting it is expected to take five to six weeks.
    After that the Maritime Safety Agency must witness sea trials and reissue the passenger
    certificate; the Agency has confirmed that it cannot schedule trials earlier than the second
    week of June. No other certified vessel of suitable size is available for charter.

    Crewing also remains a constraint: of the fourteen posts needed to operate the service, six
    are filled. Recruitment for the remaining eight closes on 28 March.

    The operator, Sound Ferries Ltd, has cancelled all bookings up to and including 30 June and is
    offering refunds. Members expressed frustration on behalf of Rona residents, who continue to
    rely on the council's eight-seat emergency water taxi.

    Resolved: that officers report in May with a revised restart date, expected to fall in early
    July; and that the water taxi timetable be extended to weekends.
""")

VARIANCE_SEED = doc("""
    Orchard Street tower set to clear its last hurdle

    HARWICK — The five-storey limit on Orchard Street looks set to give way. At a hearing that ran
    past 11 p.m. on Tuesday, four of the five members of the Harwick Zoning Board of Appeals said
    they were prepared to grant the height variance that the six-storey, 48-apartment building at
    40 Orchard Street needs. The board votes on 2 July; a variance requires four votes.

    The developer, Corliss Homes, argued that a wetland covering the rear third of the lot makes a
    building within the limit uneconomic. Town counsel Eleanor Pryce told the board that the
    wetland was "a textbook example" of the hardship the state zoning act requires, and the
    Planning Board voted 6–1 in May to recommend approval. The conservation commission has already
    signed off on the stormwater plan.

    Board chair Thomas Greaves said the case was "about as clear as these get". Member Rita
    Osei-Bonsu, who voted against the last two height variances on the street, said the wetland
    made this one different. The fifth member, Gary Lund, said he was undecided.

    About 30 neighbours attended, most to oppose the project. The Orchard Street Neighbours
    Association said it would consider an appeal to Land Court if the variance is granted, but
    its lawyer conceded such appeals rarely succeed.

    Eight of the 48 apartments would be set aside as affordable units.
""")

# --- tone against facts ------------------------------------------------------------------------

FESTIVAL_GOAL = "Will the Brackenfield Music Festival go ahead at Hollins Park on 15–17 August?"

FESTIVAL_CHEERFUL_REFUSED = doc("""
    PRESS RELEASE — Brackenfield Music Festival: thank you, and see you in 2026!

    What a journey it has been! Ten years of Brackenfield, thousands of wonderful memories, and a
    family of fans who are simply the best in the world. Our team is buzzing after the most
    amazing spring we've ever had, and we are thrilled by the love pouring in from every corner of
    the county.

    We do have some news to share. On 4 June the council's licensing sub-committee refused the
    premises licence for Hollins Park, citing the noise complaints of last summer and the police
    objection over crowd exits. Without a licence we cannot hold the festival there on 15–17
    August, and no other site of the right size is available this summer. We have lodged an
    appeal with the magistrates' court, which has listed it for 21 October. This year's festival
    will therefore not take place.

    Every ticket holder will receive a full refund automatically within 14 days — there's nothing
    you need to do. Our traders and crew have already been told.

    We're bursting with ideas for next year and we can't wait to share them. Keep the sunshine in
    your hearts, keep dancing, and we'll see you in the fields in 2026!

    With love and gratitude,
    Hattie Brennan, Festival Director
""")

FESTIVAL_GLOOMY_LICENSED = doc("""
    Brackenfield festival limps towards August

    It has been a miserable run-up for the Brackenfield Music Festival. Ticket sales are a third
    below last year's, the headline act withdrew in May after its singer fell ill, and festival
    director Hattie Brennan admits the mood in the organising team is "pretty low". Weather
    forecasters are warning of a wet August, and local traders fear another loss-making weekend
    after last year's washout.

    Still, the festival will happen. The council's licensing sub-committee granted the premises
    licence for Hollins Park on 4 June, with conditions on noise and crowd exits that the
    organisers have accepted. Police withdrew their objection after a new exit route was agreed,
    and the safety advisory group signed off the site plan on 1 July. Staging went up this week,
    and gates open at noon on Friday 15 August for three days.

    Brennan, sounding weary, said the replacement headliner would be announced on Monday. "We'll
    get through it," she said. "We always do, even when it feels like everything is against us."

    Some residents on Park Road, who complained about last year's late finishes, remain
    unhappy about the decision. The licence requires amplified music to stop at 10.30 p.m.
""")

RELEASE_GOAL = "Will version 5.0 of the Pellucid database be released before 1 March?"

RELEASE_CHEERFUL_SLIP = doc("""
    Pellucid project blog — What a year it's been!

    Hi everyone! As we head into the new year, the whole core team wanted to say a huge thank you.
    Pellucid's community has never been more vibrant: we welcomed 140 first-time contributors,
    our Discord passed 20,000 members, and the talks at PelluConf in Lisbon were fantastic. We're
    genuinely excited about where this project is heading.

    A quick note on 5.0 timing. Testing of the release candidate turned up a data-corruption bug in
    the new storage engine that can lose writes after a crash under heavy concurrent load. We will
    not ship a database release with a known corruption bug, so 5.0.0 is now planned for late
    April. The fix needs a second release candidate, and our policy is two clean RC cycles of four
    weeks each before a final release; RC2 will not be cut before 10 March. Distribution
    packagers have been told to keep shipping 4.9 until then.

    In the meantime, 4.9.3 lands next week with the planner improvements many of you asked for.

    Thank you for being part of this joyful, brilliant community. Here's to an amazing 2025!

    — The Pellucid core team
""")

RELEASE_GLOOMY_ON_TIME = doc("""
    A tired maintainer's note on Pellucid 5.0

    I'll be honest: this has been the hardest year I've had on the project. Our main sponsor
    pulled its funding in the summer, two long-time core developers burned out and left, and the
    issue tracker has become a depressing place to spend an evening. Some weeks it felt like the
    whole thing was falling apart.

    But 5.0 is done. The third release candidate went out on 20 January and has passed the full
    test suite, the crash-recovery torture tests and three weeks of production trials at two of our
    largest users without a single blocking bug. The release manager has tagged 5.0.0 for
    Tuesday 18 February, the binaries are built and signed, and the Debian, Fedora and Homebrew
    packagers have the release in their queues for that day. The announcement post is written.

    I don't feel like celebrating. I feel like sleeping for a week, and I'm worried about who will
    maintain the new storage engine once the people who wrote it have gone. We will need to talk
    about the project's future in the spring.

    For now: 5.0 ships on the 18th. Thanks to the handful of you who carried it over the line.
""")

MUSEUM_GOAL = (
    "Will the state budget passed in June include funding for the Harrowgate Museum of Science's "
    "new east wing?"
)

MUSEUM_CHEERFUL_CUT = doc("""
    Dear Friends of the Harrowgate Museum of Science,

    What a glorious season! Spring brought record crowds — more than 61,000 visitors in April
    alone — and our new dinosaur hall has had families beaming from opening to closing time. The
    Starlight Gala raised a wonderful $410,000 for school visits, and our volunteers have been
    nothing short of magnificent. We are so proud of this museum and so grateful to you.

    We also want to be open with you about the east wing. The legislature's budget conference
    committee released its final agreement on 20 June, and it contains no funding for the east
    wing expansion. The governor's budget office has confirmed that the line will not be added,
    and under the chamber rules the final votes on 27 June are up-or-down on the agreement, with
    no amendments allowed. Our request for $38 million will therefore not be in this year's
    budget, and the construction tender we had planned for the autumn is postponed.

    The board will look at private fundraising and will make the case again next session.

    In the meantime, there is so much to enjoy: the summer science camps start on 7 July, and the
    rooftop telescope nights are back. Come and see us — bring everyone!

    With warmest wishes,
    Dr Lucia Ferrante, Director
""")

MUSEUM_GLOOMY_FUNDED = doc("""
    A gloomy year at the science museum, but the east wing is in the budget

    For the staff of the Harrowgate Museum of Science, it has been a dispiriting twelve months.
    Twenty-two jobs were cut in January, attendance is down 15 per cent, and buckets still catch
    the rain in the old mineral gallery. Director Lucia Ferrante, looking drawn, called it "the
    most difficult period in the museum's history".

    The legislature, however, has come through. The final budget agreement released by the
    conference committee on 20 June includes the full $38 million the museum requested for its
    east wing expansion. Leaders of both chambers have said the agreement has the votes to pass
    in the up-or-down floor votes on 27 June, and Governor Ruth Adler has said she will sign it
    without line-item vetoes. The museum's construction tender is due to go out in the autumn.

    Ferrante did not sound relieved. "A new wing does not fix the roof we already have, or bring
    back the people we lost," she said. Staff union representative Owen Marsh said morale was
    "at rock bottom".

    The museum's trustees meet in July to approve the construction timetable.
""")

FARES_GOAL = "Will the Alder Valley Transit board extend the fare freeze into 2026 at its 9 December meeting?"

FARES_CHEERFUL_RISE = doc("""
    ALDER VALLEY TRANSIT — RIDER NEWSLETTER, DECEMBER

    Season's greetings from all of us at AVT! The Holiday Lights Trolley is back, sparkling its
    way downtown every evening, and our drivers have been spreading cheer with candy canes on
    Route 4. November was our busiest month since 2019, and we're thrilled to welcome so many new
    riders aboard. Thank you for making this a fantastic year.

    Fares in 2026. As many of you know, fares have been frozen for the past two years. The freeze
    ends on 31 December. At its 18 November meeting the board's finance committee voted 6 to 1
    against extending it, and the board's adopted 2026 financial plan assumes that the basic adult
    fare rises from $2.00 to $2.25 on 1 January. Board chair Marisol Vega has said the freeze "has
    done its job" and that the board will confirm the new fares at its 9 December meeting. The
    county has declined to cover the $4.2 million a further freeze would cost.

    Reduced fares for seniors, students and riders with disabilities will stay at $1.00.

    Don't miss our Winter Wonderland Ride on 20 December, with free hot chocolate at Central
    Station. Happy holidays, and see you on board!
""")

FARES_GLOOMY_FREEZE = doc("""
    Waiting in the cold: another grim month on Alder Valley Transit

    Riders' Voice blog

    I don't have much good to say about our buses this month. Route 7 was cut back to one bus an
    hour, two more of the old diesel fleet broke down on the hill, and anyone who has stood at the
    Fairview stop in the sleet knows how miserable the winter service has become. The agency is
    short of drivers and nobody seems to have a plan.

    The one piece of news that won't cost riders money: the fare freeze is staying. The board's
    finance committee voted 7–0 on 18 November to extend it through 2026, keeping the basic adult
    fare at $2.00, and the county commission has agreed to cover the $4.2 million gap. Board
    chair Marisol Vega called the final vote at the 9 December meeting "a formality", and no board
    member has spoken against it.

    Frankly, it is hard to feel grateful. A frozen fare for a bus that doesn't come is cold
    comfort, and I worry the money would have been better spent on drivers.

    Our next riders' meeting is on 12 January at the Eastside library. Bring your complaints.
""")

# --- endorsements against opposition ----------------------------------------------------------

HOSPITAL_GOAL = (
    "Will the Westmere Health Board approve the closure of Hallam Community Hospital at its "
    "9 October meeting?"
)

HOSPITAL_BACKED = doc("""
    Hallam hospital closure: who is backing the plan?

    The Westmere Health Board meets on 9 October to decide whether to close Hallam Community
    Hospital and move its 24 beds and outpatient clinics to the new Westmere Health Hub, four
    miles away. Here is where the key players stand.

    The board's leadership. Chair Fiona McAllister and chief executive David Osei are proposing
    the closure, and medical director Dr Priya Nair has told board members the move is "clinically
    the right thing to do".

    Clinicians. Hallam's own consultant geriatricians signed a joint letter in support, and the
    Westmere GP Federation, representing 31 practices, has endorsed the plan. The Royal College of
    Nursing's regional branch says it is content after staff were guaranteed posts at the hub.

    Patients and politicians. The Westmere Patients' Council voted to back the move, as did the
    district council's health scrutiny committee. The local MP, Sian Howell, who campaigned to keep
    Hallam open five years ago, now supports it, and the health minister has said she will not
    intervene.

    Against. The Save Hallam campaign, a residents' group, has collected 2,100 signatures and
    argues that older patients will struggle to reach the hub by bus. No board member, clinical
    body or elected representative has joined its call.

    The meeting is open to the public and begins at 10 a.m.
""")

HOSPITAL_OPPOSED = doc("""
    UNISON WESTMERE HEALTH BRANCH — MEMBERS' BULLETIN

    Hallam: the closure plan is falling apart

    The Westmere Health Board meets on 9 October to decide whether to close Hallam Community
    Hospital and move its 24 beds to the Westmere Health Hub. The case for closure now has almost
    nobody left to make it.

    Last week the board's medical director, Dr Priya Nair, withdrew her support, telling board
    members she could "no longer recommend" the move while the hub's beds are still being used
    for overflow from the acute hospital. Board chair Fiona McAllister has said she will vote
    against, and four of the board's six non-executive members have written to say the same.

    Hallam's consultant geriatricians, the Westmere GP Federation and the Royal College of
    Nursing's regional branch have all come out against closure. The Westmere Patients' Council
    and the district council's health scrutiny committee have passed motions opposing it. Local MP
    Sian Howell has written to the health minister, who has said she expects the board to keep
    the hospital open.

    Apart from chief executive David Osei and the board's finance team, who wrote the proposal, we
    are not aware of a single clinician, patient group or elected representative who supports it.

    Come to the meeting: 10 a.m., 9 October, Westmere Civic Centre.
""")

AG_GOAL = (
    "Will the state Senate confirm Miriam Castellanos as Attorney General before the session ends "
    "on 30 April?"
)

AG_BACKED = doc("""
    OFFICE OF THE GOVERNOR — PRESS RELEASE

    Broad bipartisan support for Judge Miriam Castellanos as Attorney General

    Governor Paul Whitaker today welcomed the growing list of endorsements for his nominee for
    Attorney General, Judge Miriam Castellanos, ahead of the Senate's confirmation vote, expected
    in the week of 14 April, two weeks before the session ends on 30 April.

    On 2 April the Senate Judiciary Committee voted unanimously to recommend confirmation.
    Committee chair Sen. Alan Brooks and the committee's senior Republican, Sen. Lorraine Dufresne,
    have both said they will speak for her on the floor, and the majority and minority leaders
    have each announced their support.

    The State Bar Association has rated Judge Castellanos "highly qualified", its top rating. She
    has been endorsed by the State Association of Chiefs of Police, the Public Defenders' Council,
    the state chapter of the American Civil Liberties Union, the Prosecutors' Association and all
    four living former attorneys general, two from each party.

    No senator has announced opposition to the nomination.

    Judge Castellanos has served on the Court of Appeals since 2016 and previously spent eleven
    years as a county prosecutor. "She has the trust of the people who enforce the law and of
    the people who defend against it," the governor said.
""")

AG_OPPOSED = doc("""
    THE CAPITOL LEDGER — Statehouse newsletter

    Castellanos nomination in serious trouble

    Governor Paul Whitaker's nominee for Attorney General, Judge Miriam Castellanos, has lost
    almost all of her support in the Senate, and statehouse aides now describe the nomination as
    "finished". The session ends on 30 April.

    On 2 April the Senate Judiciary Committee voted to report the nomination without a
    recommendation after reports that she failed to disclose consulting fees from a private
    prison operator. Committee chair Sen. Alan Brooks said he will vote against her, as will the
    committee's senior Republican, Sen. Lorraine Dufresne. Both the majority and minority leaders
    have announced their opposition.

    Outside the chamber the picture is the same. The State Bar Association has downgraded its
    rating to "not qualified". The State Association of Chiefs of Police withdrew its
    endorsement, and the Public Defenders' Council, the state chapter of the American Civil
    Liberties Union and the Prosecutors' Association have urged senators to reject her. All four
    living former attorneys general have called on the governor to withdraw the nomination.

    Whitaker, who appointed her to the Court of Appeals in 2016, still stands by his nominee, and
    his office says she will not withdraw. He appears to be alone.
""")

PARK_GOAL = (
    "Will the Environment Minister designate the Carrow Hills as a national park before the end of the year?"
)

PARK_BACKED = doc("""
    Carrow Hills national park: consultation closes with wide support

    Countryside and Heritage Agency — summary for stakeholders

    The public consultation on designating the Carrow Hills as the country's eleventh national
    park closed on 30 September. The Agency's board has formally recommended designation to the
    Environment Minister, who must decide before the end of the year.

    Support for designation comes from all three county councils whose areas it covers —
    Carrowshire, Lisfield and Upper Tane — and from the National Farmers' Union, whose county
    branches endorsed it after agreeing a grazing and land-management protocol with the Agency.
    The regional tourism board, both water companies and the Carrow Hills Walkers' Federation
    have written in support, as have the MPs for all four constituencies in the proposed park,
    from three different parties.

    Environment Minister Clare Ashdown told the Carrowshire Show in August that she was "minded
    to confirm" the designation if the consultation raised no new objections, and her department
    has begun drafting the designation order.

    The Carrow Estates Landowners' Group, representing eleven large estates, remains opposed and
    has asked for more time. No council, national body or elected representative has supported
    its request.

    The Agency expects the designation order to be laid before Parliament in December.
""")

PARK_OPPOSED = doc("""
    Carrow Hills park plan loses its last allies

    FARMERS' WEEKLY REVIEW

    The proposal to designate the Carrow Hills as a national park, out for consultation until
    30 September, appears to have run out of friends.

    All three county councils whose land it would cover — Carrowshire, Lisfield and Upper Tane —
    have now voted to oppose designation, citing the planning powers they would lose to a new
    park authority. The National Farmers' Union's county branches have come out against it after
    talks on grazing rules broke down, and the regional tourism board has said it sees no need for
    a park. The MPs for all four constituencies, from three different parties, wrote jointly to
    Environment Minister Clare Ashdown urging her to reject it.

    Ms Ashdown, who must decide before the end of the year, told the Carrowshire Show in August
    that she was "not persuaded the case has been made" and would not "impose a park on people
    who do not want one". Even the Countryside and Heritage Agency, which proposed the park, has
    paused its recommendation pending a review.

    Only the Carrow Hills Walkers' Federation is still campaigning for designation, and it
    admits the support of local people has not materialised.
""")

BLOWER_GOAL = (
    "Will the Marlowe County Board of Supervisors adopt the ban on gas-powered leaf blowers at its "
    "14 January meeting?"
)

BLOWER_BACKED = doc("""
    Marlowe County Board of Supervisors — agenda preview, 14 January

    Item 7: Ordinance banning the sale and use of gas-powered leaf blowers

    The ordinance would phase out gas-powered leaf blowers in unincorporated Marlowe County from
    1 July, with a rebate of up to $250 per battery-powered replacement for residents and up to
    $1,500 for landscaping businesses.

    The ordinance is co-sponsored by Supervisors Hana Ortiz, Ben Calloway, Grace Whitford and
    Luis Ramírez, four of the board's five members. County Health Officer Dr Naomi Park has
    recommended adoption, citing emissions and noise data, and the regional air district has
    endorsed it and committed $600,000 towards the rebates.

    After the phase-in date was moved from January to July, the Marlowe Landscape Contractors
    Association voted to support the ordinance. The League of Women Voters, the county's
    neighbourhood councils and the Marlowe Hispanic Chamber of Commerce, which represents many
    small landscaping firms, have also written in favour.

    The fifth supervisor, Tom Keating, has said he has "questions about enforcement" but has not
    said how he will vote. A petition against the ban on a neighbourhood website has around 300
    signatures.

    Staff recommendation: adopt the ordinance as amended.
""")

BLOWER_OPPOSED = doc("""
    MARLOWE LANDSCAPE CONTRACTORS ASSOCIATION — MEMBER ALERT

    Leaf blower ban: where things stand before 14 January

    Members have asked where the county's proposed ban on gas-powered leaf blowers stands ahead of
    the Board of Supervisors' vote on 14 January. In short, the proposal has very little support.

    The ordinance has a single sponsor, Supervisor Hana Ortiz. Supervisors Ben Calloway, Grace
    Whitford and Tom Keating have each told this association that they will vote no, and
    Supervisor Luis Ramírez has said he cannot support it without a rebate programme, which the
    county has not funded.

    County Health Officer Dr Naomi Park has declined to recommend the ordinance, and the regional
    air district has said it will not contribute to rebates. The Marlowe Hispanic Chamber of
    Commerce, the county Farm Bureau and the neighbourhood councils have all written in
    opposition, as has this association, on the grounds that battery equipment costs small firms
    up to four times as much and lasts half as long.

    Apart from Supervisor Ortiz, the only organisation we know of that supports the ban is the
    Quiet Marlowe campaign, a residents' group.

    Members who wish to speak at the meeting should register with the clerk by 10 January.
""")


HOLDOUT_CASES: tuple[Case, ...] = (
    # numbers: the facts differ, the topic and goal do not
    Case("h-recall-ahead", "numbers", "h-recall", RECALL_AHEAD, RECALL_GOAL, "yes"),
    Case("h-recall-behind", "numbers", "h-recall", RECALL_BEHIND, RECALL_GOAL, "no"),
    Case("h-takeover-carried", "numbers", "h-takeover", TAKEOVER_CARRIED, TAKEOVER_GOAL, "yes"),
    Case("h-takeover-short", "numbers", "h-takeover", TAKEOVER_SHORT, TAKEOVER_GOAL, "no"),
    Case("h-share-offer-funded", "numbers", "h-share-offer", SHARE_OFFER_FUNDED, SHARE_OFFER_GOAL, "yes"),
    Case("h-share-offer-stalled", "numbers", "h-share-offer", SHARE_OFFER_STALLED, SHARE_OFFER_GOAL, "no"),
    Case("h-tariff-imposed", "numbers", "h-tariff", TARIFF_IMPOSED, TARIFF_GOAL, "yes"),
    Case("h-tariff-de-minimis", "numbers", "h-tariff", TARIFF_BELOW_THRESHOLD, TARIFF_GOAL, "no"),
    # negation: one seed, a goal and its negation
    Case(
        "h-confidence-win",
        "negation",
        "h-confidence",
        CONFIDENCE_SEED,
        "Will Prime Minister Mireille Achard's government win the confidence vote on 11 February?",
        "no",
    ),
    Case(
        "h-confidence-lose",
        "negation",
        "h-confidence",
        CONFIDENCE_SEED,
        "Will Prime Minister Mireille Achard's government lose the confidence vote on 11 February?",
        "yes",
    ),
    Case(
        "h-drug-approve",
        "negation",
        "h-drug",
        DRUG_SEED,
        "Will the National Medicines Agency approve Halvora for chronic migraine by its 14 May "
        "decision date?",
        "yes",
    ),
    Case(
        "h-drug-rejected",
        "negation",
        "h-drug",
        DRUG_SEED,
        "Will Halvora's application for chronic migraine be rejected by the National Medicines Agency "
        "by its 14 May decision date?",
        "no",
    ),
    Case(
        "h-ferry-restart",
        "negation",
        "h-ferry",
        FERRY_SEED,
        "Will the Cullen Sound ferry service restart before 1 May?",
        "no",
    ),
    Case(
        "h-ferry-not-restart",
        "negation",
        "h-ferry",
        FERRY_SEED,
        "Will the Cullen Sound ferry service not restart before 1 May?",
        "yes",
    ),
    Case(
        "h-variance-grant",
        "negation",
        "h-variance",
        VARIANCE_SEED,
        "Will the Harwick Zoning Board of Appeals grant the height variance for 40 Orchard Street on 2 July?",
        "yes",
    ),
    Case(
        "h-variance-blocked",
        "negation",
        "h-variance",
        VARIANCE_SEED,
        "Will the six-storey building at 40 Orchard Street be blocked by the Harwick Zoning Board of "
        "Appeals on 2 July?",
        "no",
    ),
    # tone: cheerful words around NO facts, gloomy words around YES facts
    Case("h-festival-cheerful-refused", "tone", "h-festival", FESTIVAL_CHEERFUL_REFUSED, FESTIVAL_GOAL, "no"),
    Case("h-festival-gloomy-licensed", "tone", "h-festival", FESTIVAL_GLOOMY_LICENSED, FESTIVAL_GOAL, "yes"),
    Case("h-release-cheerful-slip", "tone", "h-release", RELEASE_CHEERFUL_SLIP, RELEASE_GOAL, "no"),
    Case("h-release-gloomy-on-time", "tone", "h-release", RELEASE_GLOOMY_ON_TIME, RELEASE_GOAL, "yes"),
    Case("h-museum-cheerful-cut", "tone", "h-museum", MUSEUM_CHEERFUL_CUT, MUSEUM_GOAL, "no"),
    Case("h-museum-gloomy-funded", "tone", "h-museum", MUSEUM_GLOOMY_FUNDED, MUSEUM_GOAL, "yes"),
    Case("h-fares-cheerful-rise", "tone", "h-fares", FARES_CHEERFUL_RISE, FARES_GOAL, "no"),
    Case("h-fares-gloomy-freeze", "tone", "h-fares", FARES_GLOOMY_FREEZE, FARES_GOAL, "yes"),
    # endorsement: who is on record for and against, flipped within the pair
    Case("h-hospital-backed", "endorsement", "h-hospital", HOSPITAL_BACKED, HOSPITAL_GOAL, "yes"),
    Case("h-hospital-opposed", "endorsement", "h-hospital", HOSPITAL_OPPOSED, HOSPITAL_GOAL, "no"),
    Case("h-attorney-general-backed", "endorsement", "h-attorney-general", AG_BACKED, AG_GOAL, "yes"),
    Case("h-attorney-general-opposed", "endorsement", "h-attorney-general", AG_OPPOSED, AG_GOAL, "no"),
    Case("h-national-park-backed", "endorsement", "h-national-park", PARK_BACKED, PARK_GOAL, "yes"),
    Case("h-national-park-opposed", "endorsement", "h-national-park", PARK_OPPOSED, PARK_GOAL, "no"),
    Case("h-leaf-blower-backed", "endorsement", "h-leaf-blower", BLOWER_BACKED, BLOWER_GOAL, "yes"),
    Case("h-leaf-blower-opposed", "endorsement", "h-leaf-blower", BLOWER_OPPOSED, BLOWER_GOAL, "no"),
)

HOLDOUT_CASES_BY_ID: dict[str, Case] = {case.id: case for case in HOLDOUT_CASES}
