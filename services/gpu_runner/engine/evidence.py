"""What a seed says about the goal: facts, never tone (docs/forecasting.md §1).

:func:`read_evidence` reads poll shares against the threshold a decision needs, vote counts
against the votes needed, endorsements and opposition by named stakeholders, precedent, and
concrete progress or setbacks. Each fact becomes an :class:`EvidenceItem` whose ``weight`` is in
log-odds *for the positive outcome* (pass, approve, happen); the goal's polarity turns their sum
into the prior for the goal as asked, so "Will X fail?" gets exactly 1 − the prior of "Will X
pass?". Words of mood (delighted, grim, sunny, worried) are in no list here and weigh nothing.

Each kind of evidence is bounded on its own (several polls are averaged, endorsements saturate,
precedent and progress are capped), so a long seed cannot pile up certainty. Pure and
deterministic; English only, best-effort.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from services.common.questions import (
    FACTION_WORDS,
    ORG_WORDS,
    SPAN,
    VOTER_TITLES,
    Milestone,
    analyze_goal,
    clean_span,
    decision_object,
    expand_contractions,
    find_dates,
    find_milestones,
    is_stakeholder_name,
    main_topic,
    parse_number,
    plain_text,
    split_sentences,
)
from services.gpu_runner.engine.outlook import (
    event_sign,
    expectations,
    goal_verb,
    is_timing,
    odds,
    results,
    schedules,
    timing_verb,
)

PRIOR_MIN, PRIOR_MAX = 0.03, 0.97
LOGIT_CAP = 4.0  # bound on the summed log-odds
# Polls: the error of a poll's two-party share beyond its sampling error (house effects, late
# swings, turnout), the margin of error assumed when none is given (95%, in points), and how far
# the undecided may break either way (sd of the share of them that ends up YES).
SIGMA_NONSAMPLING = 0.045
DEFAULT_MOE = 4.0
UNDECIDED_SD = 0.25
# Vote counts: the chance a committed vote changes, as an sd per committed voter.
DEFECTION_SD = 0.05
# Endorsements: the term is ENDORSE_K · tanh(net / ENDORSE_SCALE), net = Σ per-stakeholder stances
# (each in [-1, 1]); a poll already reflects its endorsers, so they count half when there is one.
ENDORSE_K = 1.0
ENDORSE_SCALE = 3.0
ENDORSE_WITH_POLL = 0.5
LEAN_GAIN = 1.5  # a stakeholder's lean = tanh(LEAN_GAIN · its summed stance strengths)
PRECEDENT_CAP = 0.5
PROGRESS_STEP = 0.3
PROGRESS_CAP = 1.0

_STD_NORMAL = NormalDist()


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(PRIOR_MAX, max(PRIOR_MIN, p))
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One fact: ``kind`` in poll | vote | threshold | endorsement | opposition | precedent |
    progress | setback; ``weight`` in log-odds for the positive outcome (before goal polarity)."""

    kind: str
    text: str
    weight: float
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """All the facts read for one goal. ``prior`` is P(goal as asked) =
    sigmoid(polarity · logit_positive) clipped to [0.03, 0.97] (0.5 with no evidence);
    ``leans[name]`` in [-1, 1] is each stakeholder's lean toward the goal as asked. ``deadline``
    is the date the seed gives the goal's decision, as a question phrase ("by 14 March", "" if
    none), and ``milestones`` the other dated events it announces (for derived markets)."""

    polarity: int
    items: tuple[EvidenceItem, ...]
    logit_positive: float
    prior: float
    leans: dict[str, float] = field(default_factory=dict)
    deadline: str = ""
    milestones: tuple[Milestone, ...] = ()

    def lean_of(self, name: str) -> float:
        return self.leans.get(name, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "polarity": self.polarity,
            "items": [
                {"kind": i.kind, "text": i.text, "weight": i.weight, "entity": i.entity} for i in self.items
            ],
            "logit_positive": self.logit_positive,
            "prior": self.prior,
            "leans": dict(self.leans),
            "deadline": self.deadline,
            "milestones": [
                {
                    "question": m.question,
                    "subject": m.subject,
                    "date": m.date,
                    "scheduled": m.scheduled,
                    "sentence": m.sentence,
                }
                for m in self.milestones
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        items = tuple(
            EvidenceItem(str(i["kind"]), str(i["text"]), float(i["weight"]), i.get("entity"))
            for i in d.get("items", [])
        )
        return cls(
            polarity=int(d["polarity"]),
            items=items,
            logit_positive=float(d["logit_positive"]),
            prior=float(d["prior"]),
            leans={str(k): float(v) for k, v in d.get("leans", {}).items()},
            deadline=str(d.get("deadline", "")),
            milestones=tuple(
                Milestone(
                    str(m["question"]),
                    str(m["subject"]),
                    str(m["date"]),
                    bool(m["scheduled"]),
                    str(m["sentence"]),
                )
                for m in d.get("milestones", [])
            ),
        )


# -- patterns -------------------------------------------------------------------------------------

_NUM_WORD = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
)
_NUM = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d{{1,4}}|{_NUM_WORD}(?:-{_NUM_WORD})?)"
_FRACTIONS = {
    "two-thirds": 200 / 3,
    "two thirds": 200 / 3,
    "three-quarters": 75.0,
    "three quarters": 75.0,
    "three-fifths": 60.0,
    "three fifths": 60.0,
    "one-third": 100 / 3,
    "a third": 100 / 3,
    "one-quarter": 25.0,
    "a quarter": 25.0,
    "half": 50.0,
}
_PCT = re.compile(
    r"(?P<num>\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b|pct\b)(?!\s*-?\s*points?\b)"
    rf"|\b(?P<tenths>{_NUM_WORD}|\d)\s+(?:in|out\s+of)\s+(?:ten|10)\b"
    r"|\b(?P<frac>" + "|".join(sorted(_FRACTIONS, key=len, reverse=True)) + r")\b"
    r"(?!\s+(?:of\s+a\s+)?(?:percentage\s+)?(?:point|points|hour|mile|century)\b)",
    re.I,
)
_POLL_CONTEXT = re.compile(
    r"\b(?:polls?|polling|pollsters?|survey(?:s|ed)?|respondents|voters|electorate|ballot|approval\s+rating|"
    r"sample|those\s+asked)\b",
    re.I,
)
_YES_NEXT = re.compile(
    r"^\W*(?:yes\b|for\b|in\s+favou?r\b|pro\b|backing\b|"
    r"(?:support(?:ing)?|approve)\b(?=\s*(?:$|[,.;]|(?:the|it|this|that|them|and|for)\b)))",
    re.I,
)
_NO_NEXT = re.compile(r"^\W*(?:no\b|against\b|oppose[d]?\b|opposing\b|disapprove\b)", re.I)
_UNDECIDED = re.compile(
    r"\b(?:undecided|unsure|uncommitted|not\s+sure|do\s+not\s+know|no\s+opinion|neither)\b", re.I
)
_YES_VERB = re.compile(
    r"\b(?:support(?:s|ed)?|favou?r(?:s|ed)?|back(?:s|ed)?|approve[sd]?|in\s+favou?r|(?:would|will|plan\s+to|intend\s+to)"
    r"\s+vote\s+(?:yes|for))\b",
    re.I,
)
_NO_VERB = re.compile(
    r"\b(?:oppose[sd]?|against|reject(?:s|ed)?|disapprove[sd]?|(?:would|will|plan\s+to|intend\s+to)\s+vote\s+(?:no|against))\b",
    re.I,
)
_YES_BEFORE = re.compile(r"\b(?:support|approval|yes|favou?r|backing)\b", re.I)
_NO_BEFORE = re.compile(r"\b(?:opposition|no|against|oppose[sd]?)\b", re.I)
_THRESHOLD_NEXT = re.compile(
    r"^\W*(?:(?:majority|supermajority|vote|of\s+the\s+vote)\s+)?(?:(?:is|are)\s+)?"
    r"(?:needed|required|threshold|to\s+pass|supermajority|majority\s+(?:needed|required))\b",
    re.I,
)
_THRESHOLD_BEFORE = re.compile(
    r"\b(?:needs?|requires?|requiring|threshold\s+of|at\s+least)\s+(?:a\s+|an?\s+)?$", re.I
)
_MOE = re.compile(
    r"margin\s+of\s+error\s+(?:of\s+)?(?:±|\+/-|plus\s+(?:or|and)\s+minus\s+)?(?P<n>\d+(?:\.\d+)?)", re.I
)
_THRESHOLD_FRAC = re.compile(
    r"\b(?P<frac>two[- ]thirds|three[- ]fifths|three[- ]quarters)\s+"
    r"(?:majority|supermajority|vote|of\s+the\s+vote|approval)\b",
    re.I,
)
_THRESHOLD_PCT = re.compile(
    r"\b(?P<n>\d{2}(?:\.\d+)?)\s*(?:%|per\s*cent|percent)\s+(?:(?:majority|supermajority|approval|of\s+the\s+vote)\s+)?"
    r"(?:(?:is|are)\s+)?(?:needed|required|threshold|to\s+pass)\b"
    r"|\b(?:needs?|requires?|requiring|threshold\s+of)\s+(?:a\s+|at\s+least\s+)?(?P<n2>\d{2}(?:\.\d+)?)\s*(?:%|per\s*cent|percent)",
    re.I,
)
_SUPERMAJORITY = re.compile(r"\bsupermajority\b", re.I)

_VOTERS = (
    r"(?:councill?ors|council\s+members|councilmembers|members|senators|legislators|lawmakers|"
    r"representatives|delegates|MPs|MEPs|supervisors|directors|commissioners|trustees|justices|judges|"
    r"votes|seats|shareholders|aldermen|assemblymembers|board\s+members)"
)
_OF_TOTAL = re.compile(
    rf"\b(?P<n>{_NUM})\s+(?:of|out\s+of)\s+(?:the\s+|its\s+|their\s+)?(?:[\w-]+['’]s?\s+)?(?P<total>{_NUM})\s+"
    rf"(?:[\w-]+\s+)?{_VOTERS}\b",
    re.I,
)
_COUNT = re.compile(rf"\b(?P<n>{_NUM})\s+(?:(?:other|more|further|remaining)\s+)?{_VOTERS}\b", re.I)
_BARE_COUNT = re.compile(
    rf"\b(?P<n>{_NUM})\s+(?=(?:have|has|are|will|would|said|say|plan|pledged|oppose|support|back)\b)", re.I
)
# "4,215 nurses voted for …": a count of any voters, told by the verb
_VOTED_COUNT = re.compile(rf"\b(?P<n>{_NUM})\s+(?:[A-Za-z-]+\s+){{0,2}}?(?=vot(?:ed|ing|es)\b)", re.I)
_DIRECT_COUNT = re.compile(rf"\b(?P<n>{_NUM})\s+(?=(?:against|in\s+favou?r|for)\b)", re.I)
_VOTE_CONTEXT = re.compile(r"\b(?:vot\w*|ballot\w*|referend\w*|tally|count)\b", re.I)
_TOTAL_BEFORE = re.compile(r"\b(?:of|out\s+of)\s+(?:the\s+|its\s+|their\s+)?(?:[\w-]+['’]s?\s+)?$", re.I)
# Stakes committed in a vote by share ("holders of 82 per cent of its shares … vote in favour").
_STAKE = re.compile(
    r"\b(?:holders?\s+of|holding|holds?|own(?:s|ing)?|control(?:s|ling)?|representing)\s+"
    r"(?:about\s+|around\s+|some\s+|nearly\s+|almost\s+|over\s+|more\s+than\s+)?"
    r"(?P<n>\d{1,2}(?:\.\d+)?)\s*(?:%|per\s*cent|percent)",
    re.I,
)
# Turnout and participation rates are not vote shares.
_TURNOUT = re.compile(r"\b(?:turnout|participation|turned\s+out|quorum)\b", re.I)
_NEEDED = re.compile(
    rf"\b(?P<a>{_NUM})\s+(?:votes?\s+)?(?:(?:are|is)\s+)?(?:needed|required)\b"
    rf"|\b(?:needs?|requires?|requiring)\s+(?:at\s+least\s+)?(?P<b>{_NUM})\s+(?:votes|{_VOTERS})\b"
    rf"|\bmajority\s+of\s+(?P<c>{_NUM})\b(?!\s*(?:%|per))"
    rf"|\b(?P<d>{_NUM})-vote\s+(?:majority|threshold)\b",
    re.I,
)
_BODY_SIZE = re.compile(
    rf"\b(?P<a>{_NUM})-(?:member|seat|strong)\b|\b(?:has|of|with)\s+(?P<b>{_NUM})\s+(?:members|seats)\b", re.I
)
_VOTE_PRO = re.compile(
    r"\b(?:vote[sd]?\s+(?:for|yes|in\s+favou?r)|voting\s+(?:for|yes|in\s+favou?r)|support(?:s|ed|ing)?|back(?:s|ed|ing)?|"
    r"favou?r(?:s|ed)?|in\s+favou?r|yes)\b",
    re.I,
)
_VOTE_CON = re.compile(
    r"\b(?:vote[sd]?\s+(?:against|no)|voting\s+(?:against|no)|oppose[sd]?|opposing|against|reject(?:s|ed)?|no)\b",
    re.I,
)

# Stances: (pattern, sign, strength). Active forms need the stakeholder before them.
_STANCE_ACTIVE: tuple[tuple[re.Pattern[str], int, float], ...] = tuple(
    (re.compile(p, re.I), sign, strength)
    for p, sign, strength in (
        (r"\bcampaign(?:s|ed|ing)?\s+(?:for|in\s+favou?r\s+of|in\s+support\s+of)\b", 1, 1.0),
        (r"\bcampaign(?:s|ed|ing)?\s+against\b", -1, 1.0),
        (r"\bvot(?:es|ed|ing|e)\s+(?:for|yes|in\s+favou?r)\b", 1, 1.0),
        (r"\bvot(?:es|ed|ing|e)\s+(?:against|no)\b", -1, 1.0),
        (
            r"\burg(?:es|ed|ing|e)\s+(?:\w+\s+){0,3}?(?:a\s+yes\s+vote|to\s+(?:approve|back|support|vote\s+(?:yes|for)))",
            1,
            1.0,
        ),
        (
            r"\burg(?:es|ed|ing|e)\s+(?:\w+\s+){0,3}?(?:a\s+no\s+vote|to\s+(?:reject|defeat|oppose|vote\s+(?:no|against)))",
            -1,
            1.0,
        ),
        (r"\bcame\s+out\s+(?:for|in\s+favou?r\s+of|in\s+support\s+of)\b", 1, 1.0),
        (r"\bcame\s+out\s+against\b", -1, 1.0),
        (r"\b(?:is|are|was|were)\s+in\s+favou?r\s+of\b", 1, 1.0),
        (r"\b(?:is|are|was|were)\s+(?:opposed\s+to|against)\b", -1, 1.0),
        (r"\bwithdr(?:ew|awn|aws)\s+(?:its|his|her|their)\s+(?:support|endorsement|backing)\b", -1, 0.5),
        (r"\bpulled\s+(?:its|his|her|their)\s+(?:support|endorsement|backing)\b", -1, 0.5),
        (r"\bendors(?:es|ed|ing|e|ement\s+of)\b", 1, 1.0),
        (r"\bsupport(?:s|ed|ing)?\b(?!\s+(?:from|of|among|is|was|for\s+(?:it|them)\s+is))", 1, 1.0),
        (
            r"(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)(?<!\bwere\s)(?<!\bbe\s)"
            r"\bback(?:s|ed|ing)?\b(?!\s+(?:down|out|away|off|to|in|from|then|when|on|home|again))",
            1,
            1.0,
        ),
        (r"\bchampion(?:s|ed|ing)?\b", 1, 1.0),
        (r"\bfavou?r(?:s|ed)?\b", 1, 1.0),
        (r"\b(?:co-?)?sponsor(?:s|ed|ing)?\b", 1, 1.0),
        (r"\bpledged?\s+(?:its|his|her|their)\s+support\b", 1, 1.0),
        (r"\blobb(?:y|ies|ied|ying)\s+for\b", 1, 1.0),
        (r"\blobb(?:y|ies|ied|ying)\s+against\b", -1, 1.0),
        (r"\boppos(?:es|ed|ing|e)\b", -1, 1.0),
        (r"\breject(?:s|ed|ing)?\b", -1, 1.0),
        (r"\b(?:fights?|fought|fighting)\s+(?:against|to\s+(?:stop|block|defeat|kill))\b", -1, 1.0),
        (r"\b(?:threaten(?:s|ed)?\s+to\s+)?veto(?:es|ed)?\b", -1, 1.0),
        (
            r"\bsued\s+to\s+(?:block|stop)\b|\bfiled\s+(?:a\s+)?(?:suit|lawsuit)\s+(?:to\s+block|against)\b",
            -1,
            1.0,
        ),
        (r"\bobject(?:s|ed)?\s+to\b", -1, 1.0),
        (r"\b(?:runs?|ran|running)\s+(?:\w+\s+)?ads\s+(?:against|attacking)\b", -1, 1.0),
        (r"\bdenounc(?:es|ed|e)\b|\bcondemn(?:s|ed)?\b", -1, 0.5),
        (r"\bcritici[sz](?:es|ed|e|ing)\b", -1, 0.5),
        (r"\bwarn(?:s|ed|ing)?\s+(?:that|against|of)\b", -1, 0.5),
        (r"\b(?:praised|welcomed|defended)\b", 1, 0.5),
    )
)
# Passive / noun forms: the stakeholder comes after ("backed by X", "opposition from X").
_STANCE_PASSIVE: tuple[tuple[re.Pattern[str], int, float], ...] = tuple(
    (re.compile(p, re.I), sign, strength)
    for p, sign, strength in (
        (r"\b(?:backed|supported|endorsed|championed|sponsored|favou?red)\s+by\b", 1, 1.0),
        (r"\b(?:support|backing|endorsement)\s+(?:from|of)\b", 1, 1.0),
        (r"\b(?:opposed|rejected|fought|attacked)\s+by\b", -1, 1.0),
        (r"\b(?:opposition|objections?)\s+(?:from|of)\b", -1, 1.0),
        (r"\b(?:criticised|criticized|condemned|denounced)\s+by\b", -1, 0.5),
    )
)
# "may" is a modal only in lower case ("in May" is a month)
_HEDGE = re.compile(
    r"\b(?:[Ww]hether|[Ii]f|[Uu]nless|[Mm]ight|may|[Cc]ould|[Ss]hould|[Cc]onsidering|[Ww]eighing|[Mm]ulling)\b"
)
_CANCEL = re.compile(
    r"\b(?:not|never|without|refused\s+to|declined\s+to|yet\s+to|stopped\s+short\s+of|fail(?:s|ed)?\s+to)"
    r"\s+(?:[\w-]+\s+){0,3}$",
    re.I,
)
_DISMISSED = re.compile(
    r"\s+(?:the\s+|these\s+|such\s+)?(?:claims?|criticisms?|suggestions?|accusations?|allegations?|"
    r"concerns?|reports?|idea|arguments?|charges?|rumou?rs?)\b",
    re.I,
)
_NEGATIVE_OUTCOME = re.compile(
    r"\b(?:fail\w*|without|not\s+pass\w*|reject\w*|delay\w*|block\w*|defeat\w*|collapse\w*)\b", re.I
)
_SHARE_IN_GAP = re.compile(
    r"\d\s*(?:%|per\s*cent|percent)|\b(?:voters|respondents|residents|those\s+asked)\b", re.I
)
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s+or\s+)\s*(?:the\s+)?", re.I)
_DECISION_OBJECT = re.compile(
    r"\s+(?:the\s+|this\s+|that\s+|its\s+|their\s+)?(?:it|plan|proposals?|measures?|bill|scheme|deal|"
    r"merger|levy|motion|resolution|project|decision|treaty|agreement|referendum|initiative|ordinance)\b",
    re.I,
)
_NO_LONGER = re.compile(r"\bno\s+longer\s+(?:\w+\s+)?$", re.I)
_WOULD = re.compile(r"\bwould\s+(?:\w+\s+)?$", re.I)
_CLAUSE_BREAK = re.compile(r";|\s(?:but|while|whereas|although|however)\s|\.\s", re.I)
_PRONOUN_START = re.compile(r"^(?:It|She|He|They|The\s+(?:group|union|company|firm|party|board|council))\b")
_NAME_STANCE = (
    (re.compile(r"\b(?:Opponents|Critics)\b|^(?:No\s+on|Vote\s+No|Stop)\b"), -1),
    (re.compile(r"\b(?:Supporters|Proponents)\b|^(?:Yes\s+on|Vote\s+Yes|Friends\s+of)\b"), 1),
)

_PRECEDENT = re.compile(
    r"\b(?:similar|previous(?:ly)?|past|prior|last\s+time|history|historically|precedents?|in\s+(?:19|20)\d\d|"
    r"(?:once|twice|\w+\s+times)\s+before)\b",
    re.I,
)
_OUTCOME = re.compile(
    r"\b(?:(?P<neg>failed|rejected|defeated|lost|collapsed|(?:was|were)\s+voted\s+down|(?:was|were)\s+struck\s+down|"
    r"fell\s+through)|(?P<pos>passed|approved|adopted|succeeded|won|carried|prevailed))\b"
    r"(?:\s+(?P<times>once|twice|thrice|(?:\w+|\d+)\s+times))?",
    re.I,
)
_EVERY = re.compile(r"\b(?:every|all|each)\b", re.I)
_PROGRESS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(p, re.I), sign)
    for p, sign in (
        (
            r"\b(?:secured|obtained|received|raised|won)\s+(?:(?:the|its|their|full|all|final|federal|state|its\s+final)\s+)*"
            r"(?:funding|financing|permits?|approvals?|licen[cs]es?)\b",
            1,
        ),
        (
            r"\b(?:funding|financing|permits?|approvals?|licen[cs]es?)\b"
            r"(?:\s+(?:for|from|of)\s+(?:[\w'’-]+\s+){0,3}?[\w'’-]+)?\s+(?:(?:has|have)\s+been|was|were|is|are)\s+"
            r"(?:secured|granted|approved|issued|obtained|finali[sz]ed)\b",
            1,
        ),
        (r"\bfully\s+funded\b", 1),
        (
            r"\b(?:granted|issued|approved|awarded)\s+(?:the|a|an|its|their)\s+(?:[\w-]+\s+){0,2}"
            r"(?:licen[cs]e|permit|consent|certificate|approval|funding)\b",
            1,
        ),
        (r"\bwithdr(?:ew|awn)\s+(?:its|their|his|her|all)\s+(?:\w+\s+)?objections?\b", 1),
        (r"\b(?:on|ahead\s+of)\s+schedule\b|\bon\s+track\b|\bon\s+budget\b", 1),
        (
            r"\b(?:construction|testing|work|trials?)\s+(?:is|was|has\s+been)\s+(?:complete|completed|finished)\b",
            1,
        ),
        (r"\bcompleted\s+(?:construction|testing|trials?)\b", 1),
        (r"\bpassed\s+(?:its\s+|the\s+)?(?:\w+\s+)?(?:committee|reading|house|senate|assembly)\b", 1),
        (r"\bcleared\s+(?:a|the|its)\s+(?:\w+\s+)?(?:hurdle|committee|review)\b", 1),
        (r"\bapproved\s+by\s+(?:the\s+)?(?:\w+\s+){0,2}(?:committee|board|regulators?|commission)\b", 1),
        (r"\bsigned\s+(?:the|a)\s+(?:contract|deal|agreement)\b", 1),
        (r"\b(?:delayed|postponed|pushed\s+back|put\s+on\s+hold|stalled|halted|suspended|paused)\b", -1),
        (r"\bbehind\s+schedule\b|\bover\s+budget\b|\bcost\s+overruns?\b", -1),
        (r"\bfunding\s+(?:gap|shortfall)\b|\bshortfall\b", -1),
        (r"\b(?:blocked|struck\s+down)\s+by\s+(?:a|the)\s+(?:\w+\s+)?(?:court|judge)\b|\binjunction\b", -1),
        (r"\b(?:lawsuit|legal\s+challenge)\b", -1),
        (r"\bpermits?\s+(?:was|were|(?:has|have)\s+been)\s+(?:denied|refused|revoked|rejected)\b", -1),
        (r"\bfailed\s+(?:an?\s+|its\s+)?(?:\w+\s+)?(?:inspection|test|review|check)\b", -1),
    )
)
_CONTEST = re.compile(r"\b(?:win|prevail|beat|defeat|lead)\b(?!\s+to\b)", re.I)
_TITLES = frozenset(
    "Mayor Dr Prof President Chair Chairman Chairwoman Governor Minister Judge Justice Sir".split()
)


# -- reading --------------------------------------------------------------------------------------


def _aliases(names: Sequence[str]) -> list[tuple[re.Pattern[str], str]]:
    """Ways a seed refers to each stakeholder: its full name, a personal name without a title or
    by surname, a body by its distinctive word ("the Chamber"); only forms unique to one name."""
    forms: dict[str, set[str]] = {}
    for name in names:
        tokens = name.split()
        own = {name}
        if len(tokens) > 1 and (tokens[0] in _TITLES or tokens[0] in VOTER_TITLES):
            own.add(" ".join(tokens[1:]))
        is_body = any(t in ORG_WORDS or t in FACTION_WORDS for t in tokens)
        if not is_body and 2 <= len(tokens) <= 4 and len(tokens[-1]) >= 3:
            own.add(tokens[-1])
        if is_body:
            own.update(t for t in tokens if t in ORG_WORDS and t != "Local")
        for form in own:
            forms.setdefault(form, set()).add(name)
    unique = [(form, next(iter(owners))) for form, owners in forms.items() if len(owners) == 1]
    unique.sort(key=lambda fn: -len(fn[0]))
    return [(re.compile(rf"(?<![\w-]){re.escape(form)}(?![\w-])"), name) for form, name in unique]


def _mentions(sentence: str, aliases: Sequence[tuple[re.Pattern[str], str]]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, name) mentions, longest forms first."""
    taken: list[tuple[int, int, str]] = []
    for pattern, name in aliases:
        for m in pattern.finditer(sentence):
            if all(m.end() <= s or m.start() >= e for s, e, _ in taken):
                taken.append((m.start(), m.end(), name))
    return sorted(taken)


def _subject_terms(goal: str) -> list[re.Pattern[str]]:
    """Words by which a sentence is about the goal's subject ("Measure T", "the measure"). The
    names the goal mentions anywhere count too, so a goal and its rephrased negation ("Will the
    board grant the variance?" / "Will the building be blocked by the board?") read the same
    sentences."""
    analysis = analyze_goal(goal)
    terms: set[str] = set()
    names = [span for m in SPAN.finditer(goal) if (span := clean_span(m.group(0))) and " " in span]
    for phrase in (analysis.subject, decision_object(analysis), *names):
        words = [
            w for w in re.findall(r"[\w-]+", phrase) if w.lower() not in ("the", "a", "an", "its", "their")
        ]
        if words:
            terms.add(" ".join(words))
            terms.update(w for w in words if len(w) >= 4)
    return [re.compile(rf"\b{re.escape(t)}\b", re.I) for t in sorted(terms)]


def _poll_threshold(text: str) -> tuple[float, str | None]:
    """The share a YES needs (0.5 unless the seed says two-thirds, 55% needed, supermajority …)."""
    if m := _THRESHOLD_FRAC.search(text):
        key = m.group("frac").lower().replace(" ", "-")
        return _FRACTIONS[key] / 100.0, m.group(0)
    if m := _THRESHOLD_PCT.search(text):
        value = float(m.group("n") or m.group("n2")) / 100.0
        if 0.5 <= value < 1.0:
            return value, m.group(0)
    if m := _SUPERMAJORITY.search(text):
        return 2.0 / 3.0, m.group(0)
    return 0.5, None


def _pct_value(m: re.Match[str]) -> float | None:
    if m.group("num"):
        return float(m.group("num"))
    if m.group("tenths"):
        n = parse_number(m.group("tenths"))
        return None if n is None or n > 10 else n * 10.0
    return _FRACTIONS.get(m.group("frac").lower())


def _read_poll(
    sentence: str,
    subject_terms: Sequence[re.Pattern[str]],
    others: Sequence[tuple[re.Pattern[str], str]],
    verb: str = "",
) -> tuple[float, float, float] | None:
    """(yes, no, undecided) percentages of a poll sentence, or None."""
    matches = list(_PCT.finditer(sentence))
    if not matches:
        return None
    context = bool(_POLL_CONTEXT.search(sentence))
    shares: dict[str, float] = {}
    explicit = False
    for k, m in enumerate(matches):
        value = _pct_value(m)
        if value is None or value > 100:
            continue
        nxt = matches[k + 1].start() if k + 1 < len(matches) else len(sentence)
        after = re.split(r"[;:.]", sentence[m.end() : min(nxt, m.end() + 60)])[0]
        prev_end = matches[k - 1].end() if k else max(0, m.start() - 50)
        before = sentence[max(prev_end, m.start() - 50) : m.start()]
        if _THRESHOLD_NEXT.search(after) or _THRESHOLD_BEFORE.search(before):
            continue  # "55% needed", "needs two-thirds": a threshold, not a share
        if _TURNOUT.search(before[-30:]) or _TURNOUT.search(" ".join(after.split()[:2])):
            continue  # "a turnout of 74 per cent": participation, not a share
        label = None
        if _YES_NEXT.search(after):
            label, explicit = "yes", True
        elif _NO_NEXT.search(after):
            label, explicit = "no", True
        elif _UNDECIDED.match(after.strip()) or re.match(r"^\W*(?:were\s+|are\s+)?undecided", after, re.I):
            label = "undecided"
        elif context:
            window = " ".join(after.split()[:7])
            cues = [
                (c.start(), lab)
                for lab, rx in (("yes", _YES_VERB), ("no", _NO_VERB), ("undecided", _UNDECIDED))
                for c in [rx.search(window)]
                if c
            ]
            said = event_sign(" ".join(after.split()[:8]), verb) if verb else 0
            if cues and not said:
                label = min(cues)[1]
            elif said:
                label = "yes" if said > 0 else "no"  # "38% saying they will vote to remove him"
            elif verb and (named := event_sign(" ".join(before.split()[-3:]), verb)):
                label = "yes" if named > 0 else "no"  # "had removal at 36 per cent"
            else:
                tail = " ".join(before.split()[-5:])
                if _UNDECIDED.search(tail):
                    label = "undecided"
                elif _NO_BEFORE.search(tail):
                    label = "no"
                elif _YES_BEFORE.search(tail):
                    label = "yes"
                elif any(t.search(tail) for t in subject_terms):
                    label = "yes"  # "Okafor 48%": the goal's candidate
                elif any(p.search(tail) for p, _ in others):
                    label = "no"  # a rival's share
        if label and label not in shares:
            shares[label] = value
    if not context and not (explicit and len(shares) >= 2):
        return None  # "51% yes, 42% no" reads as a poll anywhere; a lone "5% for …" does not
    yes, no, und = shares.get("yes"), shares.get("no"), shares.get("undecided", 0.0)
    if yes is None and no is None:
        return None
    if yes is None:
        assert no is not None
        yes = max(0.0, 100.0 - no - und)
    if no is None:
        no = max(0.0, 100.0 - yes - und)
    if yes + no <= 0 or yes + no + und > 101:
        return None
    return yes, no, und


def _poll_probability(polls: Sequence[tuple[float, float, float]], threshold: float, moe: float) -> float:
    """P(YES share ≥ threshold): the mean two-party share against a normal model of poll error."""
    shares = [y / (y + n) for y, n, _ in polls]
    undecided = [u / (y + n + u) for y, n, u in polls]
    share = sum(shares) / len(shares)
    und = sum(undecided) / len(undecided)
    sigma = math.sqrt(SIGMA_NONSAMPLING**2 + (moe / 196.0) ** 2 + (UNDECIDED_SD * und) ** 2)
    return _STD_NORMAL.cdf((share - threshold) / sigma)


@dataclass(slots=True)
class _Votes:
    yes: int | None = None
    no: int | None = None
    total: int | None = None
    needed: int | None = None
    sentences: list[str] = field(default_factory=list)

    def probability(self, threshold: float) -> float | None:
        if self.yes is None and self.no is None:
            return None
        yes, no = self.yes or 0, self.no or 0
        total = self.total
        needed = self.needed
        if needed is None and total is not None:
            needed = math.ceil(threshold * total) if threshold > 0.5 else total // 2 + 1
        if needed is None:
            if self.yes is None or self.no is None:
                return None
            needed = (yes + no) // 2 + 1
        undecided = max(0, total - yes - no) if total is not None else 0
        expected = yes + 0.5 * undecided
        sd = math.sqrt(0.25 * undecided + (DEFECTION_SD * yes) ** 2 + (DEFECTION_SD * no) ** 2 + 0.25)
        return _STD_NORMAL.cdf((expected - needed + 0.5) / sd)


def _count_direction(after: str, words: int = 10) -> int:
    window = " ".join(after.split()[:words])
    pro, con = _VOTE_PRO.search(window), _VOTE_CON.search(window)
    if pro and (not con or pro.start() < con.start()):
        return 1
    if con:
        return -1
    return 0


def _read_votes(sentence: str, votes: _Votes) -> bool:
    """Fold a sentence's vote counts into ``votes``; True if it had any."""
    found = False
    used: list[tuple[int, int]] = []
    for m in _NEEDED.finditer(sentence):
        n = parse_number(next(g for g in m.group("a", "b", "c", "d") if g))
        if n:
            votes.needed = n
            used.append(m.span())
            found = True
    for m in _BODY_SIZE.finditer(sentence):
        n = parse_number(m.group("a") or m.group("b"))
        if n and votes.total is None:
            votes.total = n
            found = True
    for m in _OF_TOTAL.finditer(sentence):
        n, total = parse_number(m.group("n")), parse_number(m.group("total"))
        direction = _count_direction(sentence[m.end() :])
        if n is None or total is None or not direction or n > total:
            continue
        votes.total = total
        if direction > 0:
            votes.yes = n
        else:
            votes.no = n
        used.append(m.span())
        found = True
    tally = bool(_VOTE_CONTEXT.search(sentence))
    for rx in (_COUNT, _VOTED_COUNT, _BARE_COUNT, _DIRECT_COUNT):
        if rx is _DIRECT_COUNT and not tally:
            continue
        for m in rx.finditer(sentence):
            if any(s <= m.start() < e for s, e in used):
                continue
            if _TOTAL_BEFORE.search(sentence[max(0, m.start() - 30) : m.start()]):
                continue  # "19 of the 60 councillors": 60 is the body, not a side
            n = parse_number(m.group("n"))
            direction = _count_direction(sentence[m.end() :])
            # a count named by voters ("3,412 members") may be large; "in 2019 …" is a year
            year = n is not None and 1900 <= n < 2100 and m.group("n").isdigit()
            if (
                n is None
                or not direction
                or (rx is not _COUNT and (year or (n >= 1000 and rx is _BARE_COUNT)))
            ):
                continue
            if direction > 0 and votes.yes is None:
                votes.yes = n
            elif direction < 0 and votes.no is None:
                votes.no = n
            else:
                continue
            used.append(m.span())
            found = True
    if found:
        votes.sentences.append(sentence)
    return found


def _read_stakes(sentence: str, stakes: _Votes) -> bool:
    """Fold shares of the vote committed one way ("holders of 31 per cent … will vote against")
    into ``stakes`` (a body of 100); the first stake of a sentence speaks for the sentence."""
    m = _STAKE.search(sentence)
    if m is None:
        return False
    direction = _count_direction(sentence[m.end() :], words=40)
    share = float(m.group("n"))
    if direction > 0:
        stakes.yes = max(stakes.yes or 0, round(share))
    elif direction < 0:
        stakes.no = max(stakes.no or 0, round(share))
    else:
        return False
    stakes.sentences.append(sentence)
    return True


def _read_stances(
    sentence: str,
    aliases: Sequence[tuple[re.Pattern[str], str]],
    previous_subject: str | None,
    goal_names: Sequence[str],
    contest: bool = False,
    subject_terms: Sequence[re.Pattern[str]] = (),
) -> list[tuple[str, int, float]]:
    """(stakeholder, sign, strength) for each stance cue whose subject is a named stakeholder. A
    cue aimed at another stakeholder is a relation, not a stance on the goal - except in a
    ``contest`` (an election: backing the rival is opposing the goal's candidate)."""
    mentions = _mentions(sentence, aliases)
    out: list[tuple[str, int, float]] = []
    seen: set[tuple[str, int]] = set()
    for pattern, sign, strength in _STANCE_PASSIVE:
        for m in pattern.finditer(sentence):
            after = [x for x in mentions if m.end() <= x[0] <= m.end() + 40]
            if not after or _HEDGE.search(sentence[max(0, m.start() - 40) : m.start()]):
                continue
            name = after[0][2]
            if (name, m.start()) not in seen:
                seen.add((name, m.start()))
                out.append((name, sign, strength))
    covered: list[tuple[int, int]] = []
    for pattern, sign, strength in _STANCE_ACTIVE:
        for m in pattern.finditer(sentence):
            if any(s <= m.start() < e for s, e in covered) or re.match(r"\s+by\b", sentence[m.end() :]):
                continue
            covered.append(m.span())
            clause_start = max([0, *(b.end() for b in _CLAUSE_BREAK.finditer(sentence, 0, m.start()))])
            before = [
                x for x in mentions if clause_start <= x[0] and x[1] <= m.start() and m.start() - x[1] <= 90
            ]
            if before:
                start, end, name = before[-1]
                # "ISS and Glass Lewis have recommended …": every stakeholder of the listed subject
                listed = [name]
                for prev in reversed(before[:-1]):
                    if not _LIST_JOIN.fullmatch(sentence[prev[1] : start]):
                        break
                    listed.append(prev[2])
                    start = prev[0]
            elif previous_subject and _PRONOUN_START.match(sentence[clause_start:].lstrip()):
                start, end, name = clause_start, clause_start, previous_subject
            else:
                continue
            # the object of the cue: another stakeholder (not the goal's) makes it a relation, not a stance
            obj = [x for x in mentions if m.end() <= x[0] <= m.end() + 6]
            rival = bool(obj) and not any(obj[0][2] in g or g in obj[0][2] for g in goal_names)
            if rival and not contest:
                continue
            gap = sentence[end : m.start()]
            lead = sentence[max(clause_start, start - 25) : start]
            if _HEDGE.search(gap) or re.search(r"\b(?:whether|if|unless)\s+(?:\w+\s+)?$", lead, re.I):
                continue
            if _SHARE_IN_GAP.search(gap):
                continue  # "X found 52% of voters in favour": a poll's respondents, not X's stance
            if _CANCEL.search(gap):
                continue  # "did not endorse": silence is not opposition
            tail = sentence[m.end() : m.end() + 80]
            if _DISMISSED.match(tail):
                continue  # "rejects the claims that …" is about an argument, not the goal
            if (
                strength < 1.0
                and not m.group(0).lower().startswith(("warn", "withdr", "pulled"))
                and not (_DECISION_OBJECT.match(tail) or any(t.search(tail[:60]) for t in subject_terms))
            ):
                continue  # "praised the joyful spirit of the neighbourhood" is not about the goal
            s, k = (-sign if rival else sign), strength
            if m.group(0).lower().startswith("warn") and _NEGATIVE_OUTCOME.search(tail):
                s = -s  # warning that the measure could fail is an argument for it
            if _NO_LONGER.search(gap):
                s, k = -sign, strength * 0.5
            elif _WOULD.search(gap):
                k = strength * 0.8
            for who in listed if before else [name]:
                if (who, m.start()) not in seen:
                    seen.add((who, m.start()))
                    out.append((who, s, k))
    return out


def _precedent_counts(sentence: str) -> tuple[int, int] | None:
    if not _PRECEDENT.search(sentence):
        return None
    pos = neg = 0
    for m in _OUTCOME.finditer(sentence):
        times = (m.group("times") or "").lower()
        count = {"once": 1, "twice": 2, "thrice": 3}.get(times)
        if count is None and times:
            count = parse_number(times.split()[0])
        if count is None:
            count = 3 if _EVERY.search(sentence[max(0, m.start() - 60) : m.start()]) else 1
        if m.group("pos"):
            pos += count
        else:
            neg += count
    return (pos, neg) if pos or neg else None


def _names_something_else(sentence: str, subject_terms: Sequence[re.Pattern[str]]) -> bool:
    """Does the sentence name a thing (a project, a place, a product) other than the goal's subject
    - so its progress or setback is about that, not the goal? Stakeholders and the sentence's
    opening word do not count."""
    for m in SPAN.finditer(sentence):
        span = clean_span(m.group(0))
        opening = m.start() == 0 and m.group(0).split()[0] == span.split()[0] if span else False
        if span is None or (opening and " " not in span) or is_stakeholder_name(span):
            continue
        if not any(t.search(span) for t in subject_terms):
            return True
    return False


def fact_sign(sentence: str) -> int:
    """Net direction of the progress (+) and setback (-) facts a sentence states."""
    return sum(_read_progress(expand_contractions(sentence)))


def _read_progress(sentence: str) -> list[int]:
    signs: list[int] = []
    for pattern, sign in _PROGRESS:
        for m in pattern.finditer(sentence):
            lead = sentence[max(0, m.start() - 40) : m.start()]
            if _HEDGE.search(lead) or re.search(r"\b(?:risk|threat|fears?|concerns?|warn\w*)\b", lead, re.I):
                continue  # a possibility or a warning is not an event
            if re.search(r"\b(?:not|never|no)\s+(?:\w+\s+)?$", lead, re.I):
                continue
            signs.append(sign)
            break
    return signs


def read_evidence(text: str, goal: str, entity_names: Sequence[str]) -> Evidence:
    """Read ``text`` for facts about ``goal`` (see the module docstring); ``entity_names`` are the
    stakeholders whose endorsements and opposition count and who get a lean."""
    analysis = analyze_goal(goal)
    polarity = analysis.polarity if analysis.is_yes_no else 1
    names = list(dict.fromkeys(n for n in entity_names if n and n.strip()))
    aliases = _aliases(names)
    subject_terms = _subject_terms(goal)
    goal_names = [n for n in names if n.lower() in goal.lower()] + [analysis.subject] * bool(analysis.subject)
    contest = bool(_CONTEST.search(analysis.proposition))
    plain = expand_contractions(plain_text(text))
    sentences = split_sentences(plain)
    threshold, threshold_text = _poll_threshold(plain)
    moe_match = _MOE.search(plain)
    moe = float(moe_match.group("n")) if moe_match else DEFAULT_MOE

    verb = goal_verb(analysis)
    timing = is_timing(analysis)  # a goal about when: dated expectations are schedules
    items: list[EvidenceItem] = []
    polls: list[tuple[str, tuple[float, float, float]]] = []
    votes = _Votes()
    stakes = _Votes(total=100)
    stances: list[tuple[str, int, float, str]] = []
    precedents: list[tuple[str, int, int]] = []
    progress: list[tuple[str, int]] = []
    previous_subject: str | None = None
    for sentence in sentences:
        if counts := _precedent_counts(sentence):
            precedents.append((sentence, *counts))
            continue
        poll = (
            None
            if _read_stakes(sentence, stakes)
            else _read_poll(sentence, subject_terms, [a for a in aliases if a[1] not in goal_names], verb)
        )
        if poll:
            polls.append((sentence, poll))
        elif sentence not in stakes.sentences:
            _read_votes(sentence, votes)
        for name, sign, strength in _read_stances(
            sentence, aliases, previous_subject, goal_names, contest, subject_terms
        ):
            stances.append((name, sign, strength, sentence))
        if any(t.search(sentence) for t in subject_terms) or not _names_something_else(
            sentence, subject_terms
        ):
            progress += [(sentence, sign) for sign in _read_progress(sentence)]
        mentioned = _mentions(sentence, aliases)
        previous_subject = mentioned[0][2] if mentioned else None

    if threshold_text and (polls or votes.sentences):
        items.append(EvidenceItem("threshold", f"YES needs {threshold:.0%}: “{threshold_text}”", 0.0))
    if polls:
        w = _logit(_poll_probability([p for _, p in polls], threshold, moe))
        items += [EvidenceItem("poll", s[:240], w / len(polls)) for s, _ in polls]
    for tally in (votes, stakes):
        p_votes = tally.probability(threshold)
        if p_votes is not None:
            w = _logit(p_votes)
            items += [EvidenceItem("vote", s[:240], w / len(tally.sentences)) for s in tally.sentences]
    for kind, found in (
        ("vote", results(sentences, verb, subject_terms)),
        ("expectation", expectations(sentences, verb, timing)),
        ("odds", odds(sentences, verb)),
        ("schedule", schedules(sentences, goal, timing_verb(analysis), subject_terms)),
    ):
        items += [EvidenceItem(kind, sentence[:240], w) for sentence, w in found]

    per_entity: dict[str, float] = {}
    for name, sign, strength, _ in stances:
        per_entity[name] = per_entity.get(name, 0.0) + sign * strength
    clipped = {n: max(-1.0, min(1.0, v)) for n, v in per_entity.items()}
    net = sum(clipped.values())
    k = ENDORSE_K * (ENDORSE_WITH_POLL if polls else 1.0)
    gain = k / ENDORSE_SCALE if abs(net) < 1e-9 else k * math.tanh(net / ENDORSE_SCALE) / net
    for name, sign, strength, sentence in stances:
        raw = per_entity[name]
        share = (sign * strength / raw) * clipped[name] if abs(raw) > 1e-9 else 0.0
        kind = "endorsement" if sign > 0 else "opposition"
        items.append(EvidenceItem(kind, sentence[:240], gain * share, name))

    if precedents:
        pos = sum(p for _, p, _ in precedents)
        neg = sum(n for _, _, n in precedents)
        w = max(-PRECEDENT_CAP, min(PRECEDENT_CAP, math.log((pos + 1) / (neg + 1))))
        items += [EvidenceItem("precedent", s[:240], w / len(precedents)) for s, _, _ in precedents]
    if progress:
        net_progress = sum(PROGRESS_STEP * sign for _, sign in progress)
        # bounded like endorsements: the items keep their proportions, their sum saturates at the cap
        scale = (
            1.0
            if abs(net_progress) < 1e-9
            else PROGRESS_CAP * math.tanh(net_progress / PROGRESS_CAP) / net_progress
        )
        for sentence, sign in progress:
            kind = "progress" if sign > 0 else "setback"
            items.append(EvidenceItem(kind, sentence[:240], PROGRESS_STEP * sign * scale))

    items = [EvidenceItem(i.kind, i.text, round(i.weight, 6), i.entity) for i in items]
    logit_positive = max(-LOGIT_CAP, min(LOGIT_CAP, sum(i.weight for i in items)))
    weighed = any(i.weight != 0.0 for i in items)
    p_positive = min(PRIOR_MAX, max(PRIOR_MIN, _sigmoid(logit_positive))) if weighed else 0.5
    prior = p_positive if polarity > 0 else 1.0 - p_positive

    leans: dict[str, float] = {}
    for name in names:
        if name in per_entity:
            lean = math.tanh(LEAN_GAIN * per_entity[name])
        else:
            lean = next((0.5 * sign for rx, sign in _NAME_STANCE if rx.search(name)), 0.0)
        leans[name] = round(polarity * lean, 4) + 0.0  # + 0.0: no "-0.0" in artifacts
    skip = [t for t in (analysis.subject, decision_object(analysis)) if t]
    return Evidence(
        polarity,
        tuple(items),
        logit_positive,
        prior,
        leans,
        _deadline(text, goal),
        tuple(find_milestones(text, skip)),
    )


def _deadline(text: str, goal: str) -> str:
    """The goal's own date, else the date the seed gives a decision on the goal's subject."""
    goal_dates = find_dates(goal)
    if goal_dates:
        return goal_dates[0].phrase
    topic = main_topic(text, goal)
    if topic is None:
        return ""
    words = [w.lower() for w in re.findall(r"[\w-]{4,}", topic.name)]
    return topic.date if any(w in goal.lower() for w in words) else ""
