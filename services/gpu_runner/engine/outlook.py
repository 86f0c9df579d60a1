"""Facts a seed states about the outcome itself: expectations, quoted odds, and schedules.

Three readers used by :mod:`.evidence`, each returning ``(sentence, weight)`` pairs with the
weight in log-odds *for the positive outcome* of the goal (before the goal's polarity):

- **expectations** - who expects what: "analysts now expect the deal to fail", "31 of 34
  economists expect rates to be held", "the measure is on course to be voted down";
- **odds** - a probability someone quotes: "swaps price a 5 per cent chance of a hike",
  "bookmakers put the odds of a yes at 70 per cent";
- **schedules** - when the event is now expected, against the goal's own deadline: "the launch
  has moved to late January" on "Will it go on sale before 1 October?".

Whether an expected event is the goal's event (or its opposite) is read from verbs, never from
tone: outcome verbs (pass, approve, fail, be voted down …) and, for decisions between
alternatives, verb families (raise / cut / hold). Pure; English only, best-effort.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from services.common.questions import NEGATIVE_VERBS, GoalAnalysis, lemma, negated_participle

EXPECTATION_WEIGHT = 1.0  # one clear expectation, in log-odds
EXPECTATION_CAP = 1.5
EXPECT_WINDOW = 10  # words of an expected clause in which its outcome must be named
ODDS_CAP = 2.5
SCHEDULE_LATE = 1.5  # the event is now expected after the deadline
SCHEDULE_ON_TIME = 0.8  # the event is expected on or before the deadline
SCHEDULE_CAP = 2.0
RESULT_WEIGHT = 1.2  # a recorded vote of some body on the matter ("the committee voted 7-0 to extend")
RESULT_CAP = 2.0

# Decisions between alternatives: an expected "hold" is a NO on "Will they raise?", a vote "to
# keep" the mayor a NO on "Will she be removed?". Each choice is a tuple of exclusive options.
_CHOICES: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(option.split()) for option in options)
    for options in (
        (
            "raise increase hike lift rise tighten",
            "cut lower reduce decrease trim ease slash",
            "hold keep maintain pause freeze unchanged",
        ),
        (
            "remove oust recall unseat dismiss sack fire impeach depose topple",
            "keep retain survive stay remain",
        ),
        ("extend renew prolong continue", "end scrap expire lapse drop"),
    )
)
_NOUN_FORMS = {
    "increase": "increase",
    "hike": "hike",
    "rise": "rise",
    "raise": "raise",
    "cut": "cut",
    "reduction": "reduce",
    "decrease": "decrease",
    "hold": "hold",
    "pause": "pause",
    "freeze": "freeze",
    "approval": "approve",
    "passage": "pass",
    "rejection": "reject",
    "defeat": "defeat",
    "delay": "delay",
    "postponement": "postpone",
    "cancellation": "cancel",
    "collapse": "collapse",
    "failure": "fail",
    "success": "succeed",
    "victory": "win",
    "win": "win",
    "loss": "lose",
    "yes": "yes",
    "no": "no",
    "veto": "veto",
    "launch": "launch",
    "opening": "open",
    "reopening": "reopen",
    "removal": "remove",
    "recall": "recall",
    "extension": "extend",
    "renewal": "renew",
}
POSITIVE_OUTCOMES = frozenset(
    """pass approve adopt ratify succeed win carry prevail proceed enact accept agree sign open reopen
    launch ship complete finish happen go yes endorse back support confirm grant""".split()
)
_NEGATIVE_PARTICLES = {("vote", "down"), ("strike", "down"), ("fall", "through"), ("turn", "down")}
_NEGATORS = re.compile(r"\b(?:not|never|no|none|nobody|neither|rather\s+than|instead\s+of)\b", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_EXPECT = re.compile(
    r"\b(?P<who>[\w-]+)\s+(?:(?:now|still|also|widely|fully|firmly|all)\s+)?"
    r"(?:expects?|expected|predicts?|predicted|forecasts?|anticipates?|anticipated|sees?|see|"
    r"points?\s+to|pointing\s+to)\s+"
    r"(?P<clause>[^.;:]{3,120})",
    re.I,
)
_ON_COURSE = re.compile(
    r"(?:\b(?:is|are|was|were|looks?|seems?|appears?)\s+(?:now\s+|still\s+)?)?\b"
    r"(?P<how>on\s+course|on\s+track|set|poised|likely|unlikely|certain|sure|bound|expected|heading)\s+"
    r"(?:to|for)\s+(?P<clause>[^.;:]{3,100})",
    re.I,
)
_ODDS = re.compile(
    r"(?P<lt>(?:less|more)\s+than\s+(?:a\s+)?|(?:under|below|over|above)\s+(?:a\s+)?)?(?P<n>\d{1,3}(?:\.\d+)?)\s*"
    r"(?:%|per\s*cent|percent)\s+(?:chance|probability|likelihood|odds)\s+(?:of|that|for)\s+"
    r"(?P<clause>[^.;:]{2,80})",
    re.I,
)
_ODDS_TO = re.compile(
    r"\b(?:probability|chances?|odds|likelihood)\s+of\s+(?P<clause>[^.;:]{2,40}?)\s+(?:to|at)\s+"
    r"(?:about\s+|around\s+)?(?P<n>\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent|percent)",
    re.I,
)
_ODDS_AT = re.compile(
    r"\b(?:put|puts|putting|give|gives|giving|price[sd]?|pricing|place[sd]?)\s+(?:the\s+)?"
    r"(?:odds|chances?|probability|likelihood)\s+(?:of|that|for)\s+(?P<clause>[^.;:]{2,80}?)\s+at\s+"
    r"(?:about\s+|around\s+|roughly\s+)?(?P<n>\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent|percent)",
    re.I,
)

# Goals about *when* something happens: only for these does a date after the deadline say NO.
TIMING_VERBS = frozenset(
    """open reopen launch ship complete finish start begin go release deliver arrive return resume
    restart sell debut operate run enter reach end close sign""".split()
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RX = (
    r"(?<![\w-])(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)(?![\w-])\.?"
)
_DATE = re.compile(
    rf"(?:(?P<part>early|mid|late|the\s+end\s+of|the\s+start\s+of|the\s+beginning\s+of)[\s-]+)?"
    rf"(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m1>{_MONTH_RX})|(?P<m2>{_MONTH_RX})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|(?P<m3>{_MONTH_RX}))(?:,?\s+(?P<y>(?:19|20)\d\d))?",
)
_LATE_CUE = re.compile(
    r"\b(?:moved|pushed(?:\s+back)?|postponed|delayed|rescheduled|slipped|put\s+back|deferred|"
    r"not\s+(?:\w+\s+){0,8}?(?:before|until)|no\s+earlier\s+than|until|not\s+before|cannot\s+(?:\w+\s+){0,8}?before)\b",
    re.I,
)
_PLAN_CUE = re.compile(
    r"\b(?:will|would|expects?|expected|due|scheduled|planned|set|on\s+track|confirmed|plans?|"
    r"is\s+to|are\s+to|now)\b",
    re.I,
)


def goal_verb(analysis: GoalAnalysis) -> str:
    """The base form of the goal's main verb ("raise" in "the bank will raise its rate"); for a
    negated participle, the verb it negates ("still be unlisted" -> "list")."""
    words = _WORD.findall(analysis.proposition)
    lowered = [w.lower() for w in words]
    for k, w in enumerate(lowered):
        if w in ("will", "would", "to", "does", "do", "did", "can", "could", "shall"):
            for nxt in lowered[k + 1 :]:
                if nxt in ("not", "be", "been", "get", "finally", "actually", "still", "ever"):
                    continue
                return negated_participle(nxt) or lemma(nxt)
    for w in lowered:
        base = lemma(w)
        if base in CHOICE_WORDS or base in POSITIVE_OUTCOMES or base in NEGATIVE_VERBS:
            return base
    return ""


def _choice_of(verb: str) -> tuple[frozenset[str], ...] | None:
    return next((c for c in _CHOICES if any(verb in option for option in c)), None)


def _option_sign(choice: tuple[frozenset[str], ...], verb: str, word: str) -> int:
    """+1 if ``word`` is the goal verb's own option of ``choice``, -1 another option, 0 neither."""
    mine = next(option for option in choice if verb in option)
    if word in mine:
        return 1
    return -1 if any(word in option for option in choice) else 0


def _outcome_sign(base: str, nxt: str, verb: str) -> int:
    if (base, nxt) in _NEGATIVE_PARTICLES or base in NEGATIVE_VERBS or base == "no":
        return -1
    return 1 if base == verb or base in POSITIVE_OUTCOMES else 0


def event_sign(clause: str, verb: str, window: int = 16) -> int:
    """+1 if ``clause`` describes the goal's positive outcome, -1 its opposite, 0 if unrelated.

    The first outcome word decides: an outcome verb (pass / fail …) or noun (approval, delay …),
    or for a goal whose verb chooses between alternatives (raise / cut / hold), its option.
    A negation before it (not, no, none, rather than) flips it.
    """
    words = _WORD.findall(clause)
    choice = _choice_of(verb)
    for k, raw in enumerate(words[:window]):
        w = raw.lower()
        base = _NOUN_FORMS.get(w) or lemma(w)
        nxt = words[k + 1].lower() if k + 1 < len(words) else ""
        sign = _option_sign(choice, verb, base) if choice is not None else 0
        if not sign:
            sign = _outcome_sign(base, nxt, verb)
        if sign:
            lead = " ".join(words[max(0, k - 3) : k])
            return -sign if _NEGATORS.search(lead) else sign
    return 0


CHOICE_WORDS = frozenset(w for c in _CHOICES for option in c for w in option)


def expectations(sentences: Sequence[str], verb: str, timing: bool) -> list[tuple[str, float]]:
    """Stated expectations about the outcome (see the module docstring). For a goal about *when*
    something happens, a dated expectation is the schedule reader's ("expects it to reopen in
    March" says NO to "by 1 December")."""
    found: list[tuple[str, float]] = []
    for sentence in sentences:
        signs: list[float] = []
        for m in _EXPECT.finditer(sentence):
            if timing and _DATE.search(m.group("clause")):
                continue
            # "points to approval" names the outcome at once; "points to the streetcar, which
            # opened late" is about something else
            pointing = m.group(0).lower().split()[1:2] in (["points"], ["pointing"], ["point"])
            sign = event_sign(m.group("clause"), verb, window=3 if pointing else EXPECT_WINDOW)
            if sign and m.group("who").lower() in ("none", "nobody", "not", "never", "no"):
                sign = -sign  # "none expect an increase", "does not see a need for tightening"
            if sign:
                signs.append(sign)
        for m in _ON_COURSE.finditer(sentence):
            if timing and _DATE.search(m.group("clause")):
                continue
            sign = event_sign(m.group("clause"), verb)
            if m.group("how").lower() == "unlikely":
                sign = -sign
            if sign:
                signs.append(sign)
        if signs:
            found.append((sentence, EXPECTATION_WEIGHT * sum(signs) / len(signs)))
    return _saturate(found, EXPECTATION_CAP)


def odds(sentences: Sequence[str], verb: str) -> list[tuple[str, float]]:
    """Quoted probabilities of the outcome (or of its opposite)."""
    found: list[tuple[str, float]] = []
    for sentence in sentences:
        for rx in (_ODDS, _ODDS_AT, _ODDS_TO):
            for m in rx.finditer(sentence):
                sign = event_sign(m.group("clause"), verb)
                n = float(m.group("n"))
                if not sign or not 0.0 <= n <= 100.0:
                    continue
                lead = (m.groupdict().get("lt") or "").lower()
                if lead.startswith(("less", "under", "below")):
                    n /= 2.0
                elif lead:
                    n = (n + 100.0) / 2.0
                p = min(0.97, max(0.03, n / 100.0 if sign > 0 else 1.0 - n / 100.0))
                found.append((sentence, math.log(p / (1.0 - p))))
                break
    return _saturate(found, ODDS_CAP)


_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_RESULT = re.compile(
    rf"\b(?:vot(?:ed|es|e|ing)|passed|approved|backed|rejected|carried)\s+(?:it\s+|the\s+\w+\s+)?(?:by\s+)?"
    rf"(?P<a>{_NUMBER})\s*(?:[-–—]|\s+(?:votes?\s+)?to\s+)\s*(?P<b>{_NUMBER})(?:\s+votes?)?"
    r"(?P<rest>[^.;]{0,80})"
    rf"|\bby\s+(?P<a2>{_NUMBER})\s+votes?\s+to\s+(?P<b2>{_NUMBER})(?P<rest2>[^.;]{{0,80}})",
    re.I,
)
_WORD_NUMBERS = {
    w: i + 1 for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split())
}


def _count(text: str) -> int | None:
    t = text.lower().replace(",", "")
    return int(t) if t.isdigit() else _WORD_NUMBERS.get(t)


def results(
    sentences: Sequence[str], verb: str, subject_terms: Sequence[re.Pattern[str]]
) -> list[tuple[str, float]]:
    """Recorded votes on the matter: "voted 7-0 to extend it", "voted 6 to 1 against", "backed it
    by 4 votes to 3". The larger side carries the motion; what the motion was decides the sign. A
    sentence that does not name the goal's subject is about another motion (an amendment, a
    procedural vote)."""
    found: list[tuple[str, float]] = []
    for sentence in sentences:
        if not any(t.search(sentence) for t in subject_terms):
            continue
        for m in _RESULT.finditer(sentence):
            a, b = _count(m.group("a") or m.group("a2") or ""), _count(m.group("b") or m.group("b2") or "")
            if a is None or b is None or a == b or a + b > 100_000:
                continue
            rest = (m.group("rest") if m.group("rest") is not None else m.group("rest2")) or ""
            head = m.group(0).split()[0].lower()
            if re.match(r"\W*against\b", rest, re.I):
                motion = -1  # "voted 6 to 1 against": the first count is against
            else:
                motion = event_sign(re.sub(r"^\W*(?:in\s+favou?r\s+)?(?:of\s+)?", "", rest), verb) or 1
                if head.startswith("reject"):
                    motion = -motion
            margin = (a - b) / (a + b)
            found.append(
                (sentence, RESULT_WEIGHT * motion * math.copysign(min(1.0, 2 * abs(margin)), margin))
            )
            break
    return _saturate(found, RESULT_CAP)


def _month_day(m: re.Match[str]) -> tuple[int, int, int | None]:
    month_word = (m.group("m1") or m.group("m2") or m.group("m3")).rstrip(".").lower()
    month = _MONTHS[month_word[:4] if month_word == "sept" else month_word[:3]]
    day_text = m.group("d1") or m.group("d2")
    if day_text:
        day = int(day_text)
    else:
        part = (m.group("part") or "").lower()
        day = (
            1
            if part.startswith(("early", "the start", "the beginning"))
            else 25
            if part.startswith(("late", "the end"))
            else 15
        )
    year = int(m.group("y")) if m.group("y") else None
    return month, day, year


def _after(date: tuple[int, int, int | None], deadline: tuple[int, int, int | None]) -> bool:
    """Is ``date`` later than ``deadline``? Without years, within half a year either way."""
    (m, d, y), (dm, dd, dy) = date, deadline
    if y is not None and dy is not None and y != dy:
        return y > dy
    months = (m - dm) % 12 if y is None or dy is None else m - dm
    if months == 0:
        return d > dd
    return 0 < months <= 6 if y is None or dy is None else months > 0


def deadline_of(goal: str) -> tuple[int, int, int | None] | None:
    """The date a goal's event must happen by ("before 1 October", "by 1 December", "on 24 July")."""
    m = _DATE.search(goal)
    return _month_day(m) if m else None


def timing_verb(analysis: GoalAnalysis) -> str:
    """The event whose date a goal asks about ("reopen" in "reopen by 1 December", "launch" in
    "miss its launch window"); "" when the goal is not about *when* something happens."""
    for w in _WORD.findall(analysis.proposition):
        base = _NOUN_FORMS.get(w.lower()) or lemma(w)
        if base in TIMING_VERBS:
            return base
    return ""


def is_timing(analysis: GoalAnalysis) -> bool:
    return bool(timing_verb(analysis))


def schedules(
    sentences: Sequence[str], goal: str, event: str, subject_terms: Sequence[re.Pattern[str]]
) -> list[tuple[str, float]]:
    """When the seed now expects ``event`` (the goal's :func:`timing_verb`), against the goal's
    deadline. A plan dated after the deadline counts only in a sentence naming the goal's subject
    (another launch booked later is not this one)."""
    deadline = deadline_of(goal)
    if deadline is None or not event:
        return []
    found: list[tuple[str, float]] = []
    for sentence in sentences:
        named = any(t.search(sentence) for t in subject_terms)
        if not named and not any(
            (_NOUN_FORMS.get(w.lower()) or lemma(w)) == event for w in _WORD.findall(sentence)
        ):
            continue
        for m in _DATE.finditer(sentence):
            lead = sentence[max(0, m.start() - 120) : m.start()]
            date = _month_day(m)
            late_cue = _LATE_CUE.search(lead)
            if late_cue and _after(date, deadline):
                found.append((sentence, -SCHEDULE_LATE))
                break
            if _PLAN_CUE.search(lead) and not late_cue:
                if _after(date, deadline):
                    if named:
                        found.append((sentence, -SCHEDULE_LATE * 0.8))
                else:
                    found.append((sentence, SCHEDULE_ON_TIME))
                break
    return _saturate(found, SCHEDULE_CAP)


def _saturate(found: list[tuple[str, float]], cap: float) -> list[tuple[str, float]]:
    """Keep the items' proportions; their sum saturates at ``cap`` (many sentences, one fact)."""
    total = sum(w for _, w in found)
    if abs(total) < 1e-9:
        return found
    scale = cap * math.tanh(total / cap) / total
    return [(s, w * scale) for s, w in found]
