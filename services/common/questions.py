"""What may be asked, and what a seed lets one ask (docs/forecasting.md §0).

:func:`analyze_goal` reads a goal: is it a yes/no question about one event, what is the event, and
does YES mean the event's positive outcome (pass, approve, win, happen) or its negative one (fail,
reject, "not ...")? :func:`suggest_questions` proposes yes/no questions drawn from a seed's own
subject, dated milestones and stakeholders. The seed helpers here (sentences, named spans, dates,
milestones) are shared with the engine's extraction and evidence reader.

Everything is a pure function of its text (no I/O, deterministic). English only, rule-based and
best-effort: the rules are word classes and sentence shapes, never particular documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# -- text -----------------------------------------------------------------------------------------

# Sentences end at . ! ? or a blank line; a single newline is only a hard wrap inside a paragraph.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
# Markdown that seed documents often carry: heading marks, list bullets, emphasis, quote marks.
_MARKDOWN = re.compile(r"(?m)^\s{0,3}(?:#{1,6}|[-*+>]|\d+\.)\s+|\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
# A full stop after these is an abbreviation, not a sentence end.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen gov sen rep inc co corp ltd vs no fig u.s u.k e.g i.e".split()
)


def plain_text(text: str) -> str:
    """The seed without markdown syntax, so names and summaries read as prose."""
    return _MARKDOWN.sub("", text)


def split_sentences(text: str) -> list[str]:
    """Sentences with whitespace collapsed (hard-wrapped lines join; "Dr. Lee" stays whole)."""
    pieces = [" ".join(s.split()) for s in _SENTENCE.split(text) if len(s.strip()) > 2]
    out: list[str] = []
    for piece in pieces:
        last = out[-1].rsplit(" ", 1)[-1].rstrip(".").lower() if out else ""
        # "No." abbreviates only before a number ("No. 5"); elsewhere it ends a sentence ("… no.")
        if out and out[-1].endswith(".") and last in _ABBREVIATIONS and (last != "no" or piece[:1].isdigit()):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


_CONTRACTIONS = (
    (re.compile(r"\bwon['’]t\b", re.I), "will not"),
    (re.compile(r"\bcan['’]t\b|\bcannot\b", re.I), "can not"),
    (re.compile(r"\bshan['’]t\b", re.I), "shall not"),
    (re.compile(r"\b(\w+)n['’]t\b", re.I), r"\1 not"),
)


def expand_contractions(text: str) -> str:
    """ "won't" -> "will not", "doesn't" -> "does not": negation becomes a word of its own."""
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


_PUNCT = ".,;:!?\"'“”‘’()[]{}…"


def _norm(token: str) -> str:
    return token.lower().strip(_PUNCT)


# -- verbs ----------------------------------------------------------------------------------------

# Base forms of verbs that name events or decisions; enough to find where a question's predicate
# starts and which way its outcome points.
VERBS = frozenset(
    """accept achieve acquire adopt advance agree allow amend announce appoint approve arrive attack
    attend authorise authorize avoid award back ban be beat become begin block borrow break bring
    build buy call campaign cancel carry cause certify change charge choose clear close collapse come
    complete confirm continue contract convict crash cross cut debut decide declare decline default
    defeat delay deliver deny deploy derail die dip dismiss divest do double drop earn ease elect end endorse
    enter exceed expand expire extend face fail fall file finalise finalize finish fire fix force form
    fund gain get give go grant greenlight grow halt halve happen have hike hire hit hold host impeach
    implement impose increase introduce invade invest issue join keep kill land launch lay lead leave
    legalise legalize lend license lift list lose lower make manage meet merge miss move name
    negotiate nominate obtain occur offer open oppose order outperform overturn pass pay permit pick
    plan plunge postpone proceed produce publish pull qualify raise rally ratify reach rebound receive
    recover reduce reelect re-elect refuse reject release remain remove renew reopen repeal replace
    report resign resolve restart restore resume retain retire return reverse rise rule run sanction
    scrap secure seek sell send settle shelve ship shrink shut sign sink slip slow slump soar sponsor
    stall start stay step stop strike submit succeed sue support surpass survive suspend sustain take
    terminate tighten top trade triple try turn unveil uphold veto vote walk win withdraw""".split()
)
_IRREGULAR = {
    **dict.fromkeys("is are was were am been being".split(), "be"),
    **dict.fromkeys("has had having".split(), "have"),
    **dict.fromkeys("does did done doing".split(), "do"),
    **dict.fromkeys("went gone goes".split(), "go"),
    **dict.fromkeys("struck stricken".split(), "strike"),
    **dict.fromkeys("began begun".split(), "begin"),
    **dict.fromkeys("took taken".split(), "take"),
    **dict.fromkeys("fell fallen".split(), "fall"),
    **dict.fromkeys("rose risen".split(), "rise"),
    **dict.fromkeys("got gotten".split(), "get"),
    **dict.fromkeys("broke broken".split(), "break"),
    **dict.fromkeys("chose chosen".split(), "choose"),
    **dict.fromkeys("grew grown".split(), "grow"),
    **dict.fromkeys("gave given".split(), "give"),
    **dict.fromkeys("withdrew withdrawn".split(), "withdraw"),
    **dict.fromkeys("sank sunk".split(), "sink"),
    **dict.fromkeys("shrank shrunk".split(), "shrink"),
    "won": "win",
    "lost": "lose",
    "became": "become",
    "held": "hold",
    "met": "meet",
    "ran": "run",
    "sold": "sell",
    "bought": "buy",
    "made": "make",
    "left": "leave",
    "kept": "keep",
    "paid": "pay",
    "built": "build",
    "led": "lead",
    "came": "come",
    "brought": "bring",
    "sent": "send",
    "lent": "lend",
    "upheld": "uphold",
    "beaten": "beat",
    "laid": "lay",
    "fought": "fight",
    "sought": "seek",
}
_IRREGULAR_PAST = frozenset(
    "won lost struck began became held met ran sold bought took made fell rose left got kept broke "
    "chose grew paid built led came gave brought withdrew went was were did had sent upheld sank".split()
)


def lemma(word: str) -> str:
    """The base form of an inflected verb in :data:`VERBS` ("passes" -> "pass"), else the word."""
    w = _norm(word)
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if w in VERBS:
        return w
    stems: list[str] = []
    if w.endswith(("ies", "ied")) and len(w) > 4:
        stems.append(w[:-3] + "y")
    if w.endswith("es"):
        stems.append(w[:-2])
    if w.endswith("s") and not w.endswith("ss"):
        stems.append(w[:-1])
    if w.endswith("ed"):
        stems += [w[:-2], w[:-1]]
        if len(w) > 4 and w[-3] == w[-4]:
            stems.append(w[:-3])  # "stopped"
    if w.endswith("ing") and len(w) > 5:
        stems += [w[:-3], w[:-3] + "e"]
        if w[-4] == w[-5]:
            stems.append(w[:-4])  # "stopping"
    return next((s for s in stems if s in VERBS), w)


def negated_participle(word: str) -> str:
    """The verb an "un-" participle negates ("unlisted" -> "list", "unfunded" -> "fund"), else ""."""
    w = _norm(word)
    if w.startswith("un") and w.endswith(("ed", "en")) and len(w) > 5:
        base = lemma(w[2:])
        if base in VERBS:
            return base
    return ""


def third_person(base: str) -> str:
    """ "pass" -> "passes", "be" -> "is" (for a singular subject)."""
    special = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if base in special:
        return special[base]
    if base.endswith("y") and len(base) > 2 and base[-2] not in "aeiou":
        return base[:-1] + "ies"
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return base + "es"
    return base + "s"


# Outcome verbs whose YES is the negative outcome for the thing asked about (polarity -1).
NEGATIVE_VERBS = frozenset(
    """fail lose collapse miss lapse stall reject defeat block veto cancel abandon scrap shelve
    postpone delay withdraw overturn repeal oppose kill sink derail halt suspend default deny refuse
    decline dismiss""".split()
)
# verb + particle pairs with a negative outcome ("voted down", "fall through")
NEGATIVE_PHRASAL = frozenset(
    {
        ("vote", "down"),
        ("vote", "against"),
        ("vote", "no"),
        ("strike", "down"),
        ("turn", "down"),
        ("shoot", "down"),
        ("call", "off"),
        ("fall", "through"),
        ("fall", "apart"),
        ("fall", "short"),
        ("break", "down"),
        ("pull", "out"),
        ("back", "out"),
        ("drop", "out"),
        ("walk", "away"),
    }
)
# "fail to X" / "refuse to X" negate X; "vote to X" / "agree to X" pass X through.
_NEGATING_CONTROL = frozenset("fail refuse decline".split())
_PASSING_CONTROL = frozenset(
    "vote decide agree move try manage seek choose plan begin start continue".split()
)
_FILLERS = frozenset(
    """be been being get to likely going set about able expected poised due still ever finally
    actually really also even eventually successfully formally officially publicly quickly soon
    already yet just ultimately""".split()
)
_ADVERBS = frozenset(
    """still ever finally actually really also even eventually successfully formally officially
    publicly quickly soon already ultimately""".split()
)
_DETERMINERS = frozenset(
    """the a an this that these those its their his her our my your any each every no some another
    either neither both all several many few one two three first second final new proposed planned
    next last""".split()
)
_PREPOSITIONS = frozenset("of for in on at by with from about into over under between among against".split())
_BE_PREDICATE = frozenset(
    """likely unlikely going set about able expected due ready open closed still over done finished
    complete legal allowed certain poised on in at above below under within ahead behind beyond back
    a an the to""".split()
)
_AUX_MODE = {
    **dict.fromkeys("will would shall should can could may might must do does did".split(), "base"),
    **dict.fromkeys("is are was were am".split(), "be"),
    **dict.fromkeys("has have had".split(), "have"),
}
_WH = ("what", "how", "which", "who", "whom", "whose", "when", "why", "where")
_LEAD_VERBS = frozenset(
    """predict forecast estimate assess determine judge evaluate analyse analyze describe explain
    tell say guess project model simulate gauge summarise summarize show find give list rate
    consider examine""".split()
)
_PLURAL_EXCEPTIONS = ("ss", "us", "is")

# -- goals ----------------------------------------------------------------------------------------

_EXAMPLE = "“Will the council approve the budget by 30 June?”"
_WH_REASONS = {
    "what": "This asks what will happen, not whether one event happens",
    "number": "This asks for a number, not whether one event happens",
    "how": "This asks how things will go, not whether one event happens",
    "which": "This asks which of several possibilities comes true, not whether one event happens",
    "who": "This asks who will do something, not whether one event happens",
    "when": "This asks when something happens, not whether it happens by a set date",
    "why": "This asks why something happens, which no yes/no outcome settles",
    "where": "This asks where something happens, which no yes/no outcome settles",
}
_WH_EXAMPLES = {
    "number": "“Will the Greens win at least 10 seats?”",
    "which": "“Will Dana Okafor win the election?”",
    "who": "“Will Dana Okafor win the election?”",
    "when": "“Will the bridge open by 30 June?”",
}


@dataclass(frozen=True, slots=True)
class GoalAnalysis:
    """What a goal asks (docs/forecasting.md §0).

    ``polarity`` is +1 when YES is the positive outcome of the event (pass, approve, win, adopt,
    happen) and -1 when YES is the negative one (fail, be rejected, lose, "not ..."): each negative
    outcome verb and each negation ("not", "n't", "never", "no longer", "fail to") flips it once.
    """

    text: str
    is_yes_no: bool
    question: str
    proposition: str
    subject: str
    polarity: int
    reason: str


def _refuse(text: str, reason: str, example: str = _EXAMPLE) -> GoalAnalysis:
    return GoalAnalysis(
        text, False, "", "", "", 1, f"{reason}: ask a yes/no question about one event, such as {example}."
    )


_LEAD_WHETHER = re.compile(
    r"^(?:please\s+)?(?:(?:" + "|".join(sorted(_LEAD_VERBS)) + r")\s+(?:me\s+|us\s+)?)"
    r"(?:(?:for\s+me\s+)?(?:whether|if)\s+(?:or\s+not\s+)?)(?P<rest>.+)$",
    re.I,
)
_LEAD_PROBABILITY = re.compile(
    r"^(?:please\s+)?(?:(?:" + "|".join(sorted(_LEAD_VERBS)) + r")\s+|what\s+(?:is|are)\s+)"
    r"(?:the\s+)?(?:probability|likelihood|chances?|odds|risk)\s+(?P<link>that|of)\s+(?P<rest>.+)$",
    re.I,
)
_LEAD_COLON = re.compile(
    r"^(?:please\s+)?(?:" + "|".join(sorted(_LEAD_VERBS)) + r")\s*[:\-–—]\s*(?P<rest>.+)$", re.I
)
_HOW_LIKELY_THAT = re.compile(r"^how\s+(?:likely|probable)\s+is\s+it\s+that\s+(?P<rest>.+)$", re.I)
_HOW_LIKELY_TO = re.compile(
    r"^how\s+(?:likely|probable)\s+(?:is|are)\s+(?P<subject>.+?)\s+to\s+(?P<rest>.+)$", re.I
)
_IS_IT_THAT = re.compile(
    r"^(?:is|was)\s+it\s+(?:likely|true|possible|probable|the\s+case)\s+that\s+(?P<rest>.+)$", re.I
)
_WHETHER = re.compile(r"^whether\s+(?:or\s+not\s+)?(?P<rest>.+)$", re.I)
_OR_NOT = re.compile(r",?\s+or\s+not$", re.I)
# " or " that joins outcomes, not a range ("or more"), a date ("on or before") or "or not"
_ALTERNATIVE = re.compile(
    r"\bor\b(?!\s+(?:not|more|less|higher|lower|above|below|later|earlier|fewer|greater|before|after|so|"
    r"equal|longer|sooner|over|under)\b)|\beither\b",
    re.I,
)
_TOKEN = re.compile(r"\([^)]*\)|\S+")


def analyze_goal(goal: str) -> GoalAnalysis:
    """Read a goal (see :class:`GoalAnalysis`). Accepts "Will/Is/Does/Has/Can … ?", "Predict
    whether …", "Whether …", "How likely is it that …", "What is the probability that …";
    refuses what/how/which/who/when questions, imperatives without a yes/no clause, bare noun
    phrases, and "A or B" alternatives, with a plain reason."""
    text = " ".join((goal or "").split())
    if not text:
        return _refuse(text, "The goal is empty")
    head, mark, tail = text.partition("?")
    if mark and "?" in tail:
        return _refuse(text, "This asks more than one question")
    # Context after the question mark ("Will X pass? Consider the polls.") is not the question.
    core = expand_contractions((head if mark else text).strip().rstrip(".!:; "))
    core = _OR_NOT.sub("", core).strip()
    if not core:
        return _refuse(text, "The goal is empty")
    for _ in range(2):  # "Predict: will X pass" -> "will X pass"
        m = _LEAD_COLON.match(core)
        if m:
            core = m.group("rest").strip()
    clause: str | None = None
    m = (
        _LEAD_WHETHER.match(core)
        or _WHETHER.match(core)
        or _HOW_LIKELY_THAT.match(core)
        or _IS_IT_THAT.match(core)
    )
    if m:
        clause = _OR_NOT.sub("", m.group("rest")).strip()
    elif m := _LEAD_PROBABILITY.match(core):
        rest = m.group("rest").strip()
        clause = rest if m.group("link").lower() == "that" else _gerund_clause(rest)
        if clause is None:
            return _refuse(text, "This does not say which event the probability is about")
    elif m := _HOW_LIKELY_TO.match(core):
        clause = f"{m.group('subject')} will {m.group('rest')}"
    if clause is not None:
        if _ALTERNATIVE.search(clause):
            return _refuse(text, "This asks which of several outcomes happens (it joins them with “or”)")
        return _from_clause(text, clause)
    words = [_norm(t) for t in core.split()]
    first = words[0]
    if first in _LEAD_VERBS and len(words) > 1 and words[1] in _WH:
        words = words[1:]
        first = words[0]
    if first in _PREPOSITIONS and len(words) > 1 and words[1] in _WH:  # "In which year …"
        first = words[1]
        words = words[1:]
    if first in _WH:
        kind = "number" if first == "how" and len(words) > 1 and words[1] in ("many", "much") else first
        kind = {"whom": "who", "whose": "who"}.get(kind, kind)
        return _refuse(text, _WH_REASONS[kind], _WH_EXAMPLES.get(kind, _EXAMPLE))
    if first in _LEAD_VERBS:
        return _refuse(text, "This asks for a description or an estimate, not whether one event happens")
    if first in _AUX_MODE:
        if _ALTERNATIVE.search(core):
            return _refuse(text, "This asks which of several outcomes happens (it joins them with “or”)")
        return _from_inverted(text, core)
    if mark or any(w in _AUX_MODE for w in words[1:]):
        # "Measure T will pass?" - a statement asked as a question
        if _ALTERNATIVE.search(core):
            return _refuse(text, "This asks which of several outcomes happens (it joins them with “or”)")
        return _from_clause(text, core)
    return _refuse(text, "This names a topic but no event that will or will not happen")


def _gerund_clause(rest: str) -> str | None:
    """ "Measure T passing by June" -> "Measure T will pass by June"."""
    tokens = rest.split()
    for i, tok in enumerate(tokens[1:], start=1):
        w = _norm(tok)
        if w.endswith("ing") and lemma(w) in VERBS and tok[0].islower():
            return " ".join([*tokens[:i], "will", lemma(w), *tokens[i + 1 :]])
    return None


def _is_candidate(tokens: Sequence[str], i: int) -> bool:
    """Could token ``i`` start a predicate at all (a lowercase word not right after an article,
    a possessive or a preposition, which would make it a noun of the subject)?"""
    tok = tokens[i]
    if not tok[:1].isalpha() or tok[0].isupper():
        return False
    prev = tokens[i - 1]
    return not (_norm(prev) in _DETERMINERS or _norm(prev) in _PREPOSITIONS or prev.endswith(("'s", "’s")))


def _predicate_start(tokens: Sequence[str], mode: str) -> int | None:
    """Index of the first predicate token after the subject, by the auxiliary's ``mode``."""
    for i in range(1, len(tokens)):
        w = _norm(tokens[i])
        nxt = _norm(tokens[i + 1]) if i + 1 < len(tokens) else ""
        if tokens[i] in ("not", "never") or (tokens[i] == "no" and nxt == "longer"):
            return i  # negation is never part of a subject
        if not _is_candidate(tokens, i):
            continue
        if mode == "base":
            if w in VERBS:
                # "the general strike end": a verb-like noun followed by the real verb
                prev = tokens[i - 1]
                if prev[:1].islower() and nxt in VERBS and nxt not in ("be", "have"):
                    continue
                return i
            if (w in _ADVERBS or w.endswith("ly")) and (nxt in VERBS or nxt in ("not", "be")):
                return i
        elif mode == "be":
            if w in _BE_PREDICATE or w in _ADVERBS or w.endswith(("ed", "en", "ing")) or w in _IRREGULAR:
                return i
        elif mode == "have":
            if w in ("already", "yet", "been", "ever", "just", "finally", "not"):
                return i
            if w.endswith(("ed", "en")) or (w in _IRREGULAR and lemma(w) != w):
                return i
        elif mode == "finite" and lemma(w) in VERBS and lemma(w) != w:
            return i
    return None


def _fallback_split(tokens: Sequence[str]) -> int | None:
    """Subject = a leading capitalised name, or an article and one word; None when nothing is left."""
    if tokens[0][:1].isupper():
        end = 1
        while end < len(tokens) and (
            tokens[end][:1].isupper()
            or tokens[end][:1].isdigit()
            or tokens[end].startswith("(")
            or (
                _norm(tokens[end]) in ("of", "for", "the", "and", "&")
                and end + 1 < len(tokens)
                and tokens[end + 1][:1].isupper()
            )
        ):
            end += 1
    elif _norm(tokens[0]) in _DETERMINERS:
        end = 2
    else:
        end = 1
    return end if end < len(tokens) else None


def _polarity(subject: Sequence[str], predicate: Sequence[str]) -> int:
    """+1 / -1 from the verb group: each negation and each negative outcome verb flips it."""
    sign = -1 if subject and _norm(subject[0]) in ("no", "nobody", "none", "neither", "nothing") else 1
    words = [_norm(t) for t in predicate]
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if w in ("not", "never"):
            sign, i = -sign, i + 1
            continue
        if w == "no" and nxt == "longer":
            sign, i = -sign, i + 2
            continue
        base = lemma(w)
        if nxt == "to" and base in _NEGATING_CONTROL:
            sign, i = -sign, i + 2
            continue
        if nxt == "to" and base in _PASSING_CONTROL:
            i += 2
            continue
        if w in _FILLERS or w.endswith("ly"):
            i += 1
            continue
        if base in NEGATIVE_VERBS or (base, nxt) in NEGATIVE_PHRASAL or negated_participle(w):
            sign = -sign
        break  # the main verb decides; its objects do not
    return sign


def _join(tokens: Iterable[str]) -> str:
    return " ".join(tokens).strip()


def _question_text(aux: str, subject: Sequence[str], predicate: Sequence[str]) -> str:
    pred = list(predicate)
    if pred:
        pred[-1] = pred[-1].rstrip(_PUNCT.replace("(", "").replace(")", "")) or pred[-1]
    body = _join([*subject, *pred])
    return f"{aux[:1].upper()}{aux[1:].lower()} {body}?"


def _subject_name(subject: Sequence[str]) -> str:
    return _join(t for t in subject if not t.startswith("(")).strip(_PUNCT)


def _accept(text: str, aux: str, subject: list[str], predicate: list[str], prop_aux: str) -> GoalAnalysis:
    if not predicate or not subject:
        return _refuse(text, "This does not say what should happen")
    question = _question_text(aux, subject, predicate)
    proposition = _join([*subject, prop_aux, *predicate]).rstrip(_PUNCT.replace(")", ""))
    return GoalAnalysis(
        text, True, question, proposition, _subject_name(subject), _polarity(subject, predicate), ""
    )


def _from_inverted(text: str, core: str) -> GoalAnalysis:
    tokens = _TOKEN.findall(core)
    aux, rest = _norm(tokens[0]), tokens[1:]
    negated = bool(rest) and _norm(rest[0]) == "not"  # "Won't the mayor veto …" = "Will the mayor not veto …"
    if negated:
        rest = rest[1:]
    if not rest:
        return _refuse(text, "This does not say what should happen")
    start = _predicate_start(rest, _AUX_MODE[aux]) or _fallback_split(rest)
    if start is None:
        return _refuse(text, "This does not say what should happen")
    prop_aux = {"do": "will", "does": "will"}.get(aux, aux)
    predicate = ["not", *rest[start:]] if negated else rest[start:]
    return _accept(text, aux, rest[:start], predicate, prop_aux)


def _from_clause(text: str, clause: str) -> GoalAnalysis:
    """A declarative clause ("Measure T will pass", "the act passes") as a question, then read as
    that question, so a goal and its normalised question always agree."""
    first = _clause_as_question(text, clause)
    if not first.is_yes_no:
        return first
    return _from_inverted(text, expand_contractions(first.question.rstrip("?")))


def _clause_as_question(text: str, clause: str) -> GoalAnalysis:
    tokens = _TOKEN.findall(clause.rstrip("?.! "))
    if len(tokens) < 2:
        return _refuse(text, "This names a topic but no event that will or will not happen")
    for i in range(1, len(tokens)):
        w = _norm(tokens[i])
        if w in _AUX_MODE and _is_candidate(tokens, i):
            aux = {"do": "will", "does": "will"}.get(w, w)
            return _accept(text, aux, tokens[:i], tokens[i + 1 :], aux)
    finite = _predicate_start(tokens, "finite")
    if finite is None:
        base = _predicate_start(tokens, "base")  # a plural subject: "the unions strike"
        if base is None:
            return _refuse(text, "This names a topic but no event that will or will not happen")
        return _accept(text, "will", tokens[:base], tokens[base:], "will")
    i = finite
    w = _norm(tokens[i])
    past = w.endswith("ed") or w in _IRREGULAR_PAST
    predicate = [lemma(w), *tokens[i + 1 :]]
    if past:
        return _accept(text, "did", tokens[:i], predicate, "did")
    return _accept(text, "will", tokens[:i], predicate, "will")


def present_clause(analysis: GoalAnalysis) -> str:
    """The event as a present-tense clause for a resolution criterion: "Measure T passes on 14 March"."""
    if not analysis.is_yes_no:
        return ""
    tokens = _TOKEN.findall(analysis.question.rstrip("?"))
    aux, rest = _norm(tokens[0]), tokens[1:]
    mode = _AUX_MODE.get(aux)
    if mode == "base" and aux != "did":
        start = _predicate_start(rest, "base") or _fallback_split(rest)
        if start is None:
            return analysis.proposition
        subject, predicate = rest[:start], list(rest[start:])
    elif mode == "be":
        # "Is X likely to fail" resolves on X failing
        start = _predicate_start(rest, "be") or _fallback_split(rest)
        if (
            start is None
            or start + 2 >= len(rest)
            or _norm(rest[start]) not in ("likely", "going", "expected", "set", "poised", "due")
            or _norm(rest[start + 1]) != "to"
        ):
            return analysis.proposition
        subject, predicate = rest[:start], list(rest[start + 2 :])
    else:
        return analysis.proposition
    head = _norm(subject[-1]) if subject else ""
    plural = " and " in f" {_join(subject)} " or (
        (subject[-1][:1].islower() or subject[-1] in FACTION_WORDS)
        and head.endswith("s")
        and not head.endswith(_PLURAL_EXCEPTIONS)
    )
    lead: list[str] = []
    while len(predicate) > 1 and (_norm(predicate[0]) in _ADVERBS or _norm(predicate[0]).endswith("ly")):
        lead.append(predicate.pop(0))  # "publicly endorse" -> "publicly endorses"
    if predicate and _norm(predicate[0]) in ("not", "never"):
        neg = _norm(predicate[0])
        nxt = lemma(predicate[1]) if len(predicate) > 1 else ""
        if neg == "not" and nxt == "be":
            predicate = ["are" if plural else "is", "not", *predicate[2:]]
        elif neg == "not":
            predicate = ["do" if plural else "does", "not", *predicate[1:]]
    elif predicate and lemma(predicate[0]) in VERBS:
        base = _norm(predicate[0])
        if base == "be":
            predicate[0] = "are" if plural else "is"
        elif not plural:
            predicate[0] = third_person(base)
    return _join([*subject, *lead, *predicate])


def decision_object(analysis: GoalAnalysis) -> str:
    """What stakeholders would back or oppose: the subject when it is a measure, a plan, a project
    or a candidate ("Will Okafor win?"), else the object of a decision verb ("approve the levy");
    "" when the goal has no such thing ("Will inflation fall below 3%?")."""
    if not analysis.is_yes_no:
        return ""
    subject = analysis.subject
    subject_tokens = _TOKEN.findall(subject) if subject else []
    head = _norm(subject_tokens[-1]) if subject_tokens else ""
    if head in _ENDORSABLE_HEADS or (subject and _BALLOT.search(subject)):
        return subject
    if not subject:
        return ""
    tokens = _TOKEN.findall(analysis.proposition)
    predicate = tokens[len(_TOKEN.findall(analysis.proposition.split(subject, 1)[0] + subject)) + 1 :]
    words = [_norm(t) for t in predicate]
    i = 0
    while i < len(words):
        w, nxt = words[i], words[i + 1] if i + 1 < len(words) else ""
        if nxt == "to" and lemma(w) in _NEGATING_CONTROL | _PASSING_CONTROL:
            i += 2
            continue
        if w in _FILLERS or w in ("not", "never") or w.endswith("ly"):
            i += 1
            continue
        base = lemma(w)
        if base in ("win", "prevail", "succeed") and any(t[:1].isupper() for t in subject_tokens):
            return subject  # a candidate or a side
        if base in _TRANSITIVE_DECISIONS:
            obj: list[str] = []
            for tok in predicate[i + 1 :]:
                nw = _norm(tok)
                if nw in _PREPOSITIONS - {"of", "for"} or nw in (
                    "before",
                    "within",
                    "until",
                    "after",
                    "during",
                ):
                    break
                obj.append(tok)
                if tok.endswith((",", ";")):
                    break
            name = _join(obj).strip(_PUNCT)
            if name and _norm(obj[0]) not in ("to", "that", "it", "them"):
                return name
        break
    return ""


_TRANSITIVE_DECISIONS = frozenset(
    "approve adopt ratify sign enact back endorse reject block veto pass authorise authorize ban repeal "
    "confirm elect reelect re-elect appoint nominate fund greenlight complete finalise finalize".split()
)
# topics one can endorse or oppose (a strike or a summit is not "endorsed")
_ENDORSABLE_VERBS = frozenset(
    {"pass", "be approved", "be adopted", "be signed", "be completed", "go ahead", "open", "launch"}
)

# -- seeds: topics, stakeholders, dates, milestones -----------------------------------------------

# Head nouns of things a seed's event can be about, with the verb of their positive outcome.
TOPIC_HEADS = {
    **dict.fromkeys(
        """measure proposition prop initiative amendment referendum bill act law ordinance resolution
        motion levy budget""".split(),
        "pass",
    ),
    **dict.fromkeys("plan proposal programme program scheme".split(), "be approved"),
    **dict.fromkeys("policy strategy directive regulation rule".split(), "be adopted"),
    **dict.fromkeys("treaty agreement accord deal contract pact".split(), "be signed"),
    **dict.fromkeys("merger acquisition takeover buyout".split(), "be completed"),
    **dict.fromkeys(
        """line bridge tunnel station railway pipeline stadium airport highway plant factory store
        mall route terminal hospital""".split(),
        "open",
    ),
    **dict.fromkeys("project expansion launch".split(), "go ahead"),
    **dict.fromkeys("mission rocket satellite".split(), "launch"),
    **dict.fromkeys("strike shutdown lockout blockade war dispute".split(), "end"),
    **dict.fromkeys("summit hearing trial talks".split(), "take place"),
}
_ENDORSABLE_HEADS = frozenset(h for h, v in TOPIC_HEADS.items() if v in _ENDORSABLE_VERBS)
_BALLOT = re.compile(
    r"\b(?:Measure|Proposition|Prop\.?|Question|Initiative|Amendment|Referendum|Bill|Ordinance|Resolution|"
    r"Issue)\s+(?:No\.\s*)?(?:[A-Z]{1,3}-?\d*|\d+[A-Z]?)\b"
)
SPAN = re.compile(r"\b[A-Z][\w&'’-]*(?:(?:\s+(?:of|for|de|la|von|van))?\s+[A-Z][\w&'’-]*)*")
_POSSESSIVE = re.compile(r"['’]s\b")
# documents and plans are what stakeholders argue about, not stakeholders
TOPIC_WORDS = frozenset(
    "Act Bill Law Treaty Directive Regulation Agreement Accord Plan Program Programme "
    "Proposal Strategy Policy Report Measure Proposition Initiative Amendment Ordinance Levy".split()
)
STOP = frozenset(
    "A An And As At But By For From He Her His How However I If In Is It Its Many Most No Not "
    "Of On Or Our She So Some That The Their Them There These They This Those To We What When Where "
    "Which While Who Why Will With Yet You Also After Before During Since Although Because Meanwhile "
    "Moreover Furthermore Today Yesterday Tomorrow Monday Tuesday Wednesday Thursday Friday Saturday "
    "Sunday January February March April May June July August September October November December "
    "Predict Forecast Whether Would Could Should Can Does Do Did Has Have Had Was Were Are Be "
    "Key Polling Past Critics Support".split()
)
ORG_WORDS = frozenset(
    "Inc Corp Corporation Company Co Ltd LLC Group Bank Party Ministry Department Agency Authority "
    "University Institute Council Commission Committee Union Association Foundation Fund Board "
    "Court Parliament Congress Senate Government Office Bureau Organization Organisation Federation "
    "Network Labs Technologies Systems Holdings Partners Club League Times News Post Reserve Chamber "
    "Assembly Legislature Cabinet Gazette Tribune Journal Herald Local".split()
)
FACTION_WORDS = frozenset(
    "Democrats Republicans Conservatives Liberals Greens Socialists Unions Supporters Critics "
    "Opposition Coalition Movement Alliance Activists Investors Voters Workers Farmers Students "
    "Progressives Nationalists Loyalists Rebels Protesters Regulators Lobby Taxpayers Residents "
    "Opponents Proponents".split()
)
# Bodies whose members vote, and titles of people who cast votes.
DECISION_BODIES = frozenset(
    "Council Board Commission Committee Parliament Senate Congress Assembly Legislature Cabinet House "
    "Shareholders Supervisors Commissioners Trustees Directors".split()
)
VOTER_TITLES = frozenset(
    "Councillor Councilor Councilmember Councilwoman Councilman Senator Representative Rep MP MEP "
    "Assemblymember Alderman Commissioner Supervisor Trustee Delegate".split()
)


@dataclass(frozen=True, slots=True)
class NamedSpan:
    """A capitalised name in a seed that is not the thing being forecast: a possible stakeholder."""

    name: str
    kind: str  # person | organisation | faction
    mentions: int
    first_sentence: int


def _span_kind(span: str) -> str:
    tokens = span.split()
    if any(t in ORG_WORDS for t in tokens) or (len(tokens) == 1 and span.isupper() and len(span) >= 2):
        return "organisation"
    if any(t in FACTION_WORDS for t in tokens):
        return "faction"
    if 2 <= len(tokens) <= 4 and all(t[0].isupper() and t[1:].islower() for t in tokens if len(t) > 1):
        return "person"
    return "organisation"


def clean_span(span: str) -> str | None:
    tokens = _POSSESSIVE.sub("", span).split()  # "the Chamber's president" names the Chamber
    while tokens and tokens[0] in STOP:
        tokens.pop(0)
    while tokens and tokens[-1] in {"of", "the", "for", "and", "de", "la", "von", "van"}:
        tokens.pop()
    if not tokens or (len(tokens) == 1 and (tokens[0] in STOP or len(tokens[0]) < 2)):
        return None
    return " ".join(tokens)


def _is_topic_span(span: str) -> bool:
    return span.split()[-1] in TOPIC_WORDS or bool(_BALLOT.fullmatch(span))


def named_spans(sentences: Sequence[str], goal: str = "") -> list[NamedSpan]:
    """Possible stakeholders: capitalised spans, ranked by mentions (multi-word names count half as
    much again), without sentence-initial common words, the goal's own names or documents/measures."""
    topic_spans = {clean_span(m.group(0)) for m in SPAN.finditer(goal)} - {None}
    counts: dict[str, int] = {}
    first_sentence: dict[str, int] = {}
    inner: set[str] = set()
    for n, sentence in enumerate(sentences):
        for match in SPAN.finditer(sentence):
            span = clean_span(match.group(0))
            if span is None or _is_topic_span(span) or span in topic_spans:
                continue
            if match.start() > 0 or " " in span or span.isupper():
                inner.add(span)  # seen somewhere a capital letter is not just sentence case
            counts[span] = counts.get(span, 0) + 1
            first_sentence.setdefault(span, n)
    for span in [s for s in counts if s not in inner and s.split()[0] not in FACTION_WORDS]:
        del counts[span]  # a lone capitalised word only ever opening a sentence is no name
    # Fold a lone surname / short form into the longer span that contains it ("Smith" -> "Jane Smith").
    for span in sorted(counts, key=len):
        if " " in span:
            continue
        longer = [o for o in counts if o != span and span in o.split()]
        if longer:
            target = min(longer, key=lambda o: (-counts[o], o))
            counts[target] += counts.pop(span)
    ranked = sorted(counts, key=lambda s: (-counts[s] * (1.5 if " " in s else 1.0), first_sentence[s], s))
    return [NamedSpan(s, _span_kind(s), counts[s], first_sentence[s]) for s in ranked]


_MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH = rf"(?:{_MONTH_NAMES}|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+\d{4})?"
_DATE_CORE = (
    rf"(?P<day>{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}|{_MONTH}\s+{_DAY}\b{_YEAR}|\d{{4}}-\d{{2}}-\d{{2}})"
    rf"|(?P<end>(?i:the\s+end\s+of\s+)(?:{_MONTH}(?:\s+\d{{4}})?|(?i:the\s+)?(?i:year|month|quarter)|\d{{4}}))"
    rf"|(?P<month>(?:(?i:early|mid|late)[\s-]+)?{_MONTH_NAMES}(?:\s+\d{{4}})?)"
)
_DATED = re.compile(rf"\b(?P<prep>(?i:on|by|before|until|till|in|no\s+later\s+than))\s+(?:{_DATE_CORE})")
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_WITHIN = re.compile(
    r"\b(?i:within|in(?:\s+the\s+next)?|over\s+the\s+next)\s+(?P<n>\d+|[a-z]+)\s+(?P<unit>(?i:days?|weeks?|months?))\b"
)


def parse_number(word: str) -> int | None:
    """ "31" -> 31, "thirty-one" -> 31, "six" -> 6; None for anything else."""
    w = _norm(word).replace(",", "")
    if w.isdigit():
        return int(w)
    if w in _NUMBER_WORDS:
        return _NUMBER_WORDS[w]
    tens, _, unit = w.partition("-")
    if tens in _NUMBER_WORDS and unit in _NUMBER_WORDS and _NUMBER_WORDS[tens] >= 20:
        return _NUMBER_WORDS[tens] + _NUMBER_WORDS[unit]
    return None


@dataclass(frozen=True, slots=True)
class DateRef:
    """A date in a seed: ``phrase`` is how a question says it ("by 14 March")."""

    phrase: str
    start: int
    end: int
    precise: bool


def find_dates(sentence: str) -> list[DateRef]:
    """Dates with a preposition ("on 14 March", "by June", "within 60 days"), as question phrases."""
    found: list[DateRef] = []
    for m in _DATED.finditer(sentence):
        prep = m.group("prep").lower()
        if m.group("day"):
            found.append(DateRef(f"by {m.group('day')}", m.start(), m.end(), True))
        elif m.group("end"):
            found.append(DateRef(f"by {m.group('end')}", m.start(), m.end(), False))
        elif m.group("month"):
            month = m.group("month")
            phrase = f"by {month}" if prep in ("by", "before", "until", "till") else f"by the end of {month}"
            found.append(DateRef(phrase, m.start(), m.end(), False))
    for m in _WITHIN.finditer(sentence):
        n = parse_number(m.group("n"))
        if n:
            unit = m.group("unit").lower().rstrip("s") + ("s" if n != 1 else "")
            found.append(DateRef(f"within {n} {unit}", m.start(), m.end(), False))
    return sorted(found, key=lambda d: d.start)


def _horizon(days: int) -> str:
    return f"within {max(1, days)} days"


@dataclass(frozen=True, slots=True)
class Topic:
    """The thing a seed's main event is about: "Measure T", with the verb of its positive outcome."""

    name: str
    verb: str
    date: str  # "by 14 March" (the decision's date), or ""


_DECISION_CUES = re.compile(
    r"\b(?:vote[sd]?|voting|ballot|referendum|election|decide[sd]?|decision|ruling|verdict|deadline|"
    r"meeting|session|hearing|sign(?:s|ed|ing)?|launch(?:es|ed)?|open(?:s|ing)?|clos(?:e|es|ing)|"
    r"complet(?:e|es|ion)|due|scheduled|set\s+for|expected|takes?\s+effect)\b",
    re.I,
)
_LOWER_TOPIC = re.compile(r"\b[Tt]he\s+(?:[a-z][\w-]+\s+){0,2}?(" + "|".join(sorted(TOPIC_HEADS)) + r")\b")


def main_topic(text: str, goal: str = "") -> Topic | None:
    """The seed's main subject: a named measure/bill/plan/project, else "the levy"-like phrases;
    names that the goal uses come first. None when the seed names nothing decidable."""
    sentences = split_sentences(plain_text(text))
    goal_lower = goal.lower()
    scores: dict[str, float] = {}
    order: dict[str, int] = {}
    heads: dict[str, str] = {}
    for n, sentence in enumerate(sentences):
        decision = bool(_DECISION_CUES.search(sentence))
        named: list[tuple[str, str]] = [
            (m.group(0), m.group(0).split()[0].lower()) for m in _BALLOT.finditer(sentence)
        ]
        for m in SPAN.finditer(sentence):
            span = clean_span(m.group(0))
            if span and span.split()[-1].lower() in TOPIC_HEADS and not _BALLOT.search(span):
                named.append((span, span.split()[-1].lower()))
        for name, head in named:
            bonus = 2.0 if _BALLOT.fullmatch(name) else 1.0
            scores[name] = scores.get(name, 0.0) + 1.0 + (bonus if decision else 0.0)
            order.setdefault(name, n)
            heads[name] = "measure" if _BALLOT.fullmatch(name) else head
    for name in scores:
        if name.lower() in goal_lower:
            scores[name] += 5.0
    if not scores:
        for n, sentence in enumerate(sentences):
            for m in _LOWER_TOPIC.finditer(sentence):
                name = f"the {m.group(1)}"
                scores[name] = scores.get(name, 0.0) + 1.0
                order.setdefault(name, n)
                heads[name] = m.group(1)
    if not scores:
        return None
    best = min(scores, key=lambda s: (-scores[s], order[s], s))
    verb = TOPIC_HEADS.get(heads[best], "pass")
    date = ""
    last = best.split()[-1]
    for sentence in sentences:
        if (best in sentence or last in sentence) and _DECISION_CUES.search(sentence):
            dates = [d for d in find_dates(sentence) if d.precise] or find_dates(sentence)
            if dates:
                date = dates[0].phrase
                break
    if not date:
        goal_dates = find_dates(goal)
        date = goal_dates[0].phrase if goal_dates else ""
    return Topic(best, verb, date)


@dataclass(frozen=True, slots=True)
class Milestone:
    """A dated event a seed announces, as a yes/no question ("Will the state auditor publish …?")."""

    question: str
    subject: str
    date: str  # "by 1 March"
    scheduled: bool  # due / scheduled / set (True) or only intended / planned (False)
    sentence: str


_REPORT_HEADS = {
    **dict.fromkeys(
        "report study audit review analysis findings results forecast estimate recommendation opinion "
        "inquiry investigation assessment survey".split(),
        "publish",
    ),
    **dict.fromkeys("ruling decision verdict judgment judgement".split(), "issue"),
    **dict.fromkeys("plan budget proposal".split(), "release"),
}
_REPORT_DUE = re.compile(
    r"\b(?P<np>(?:[Aa]n?|[Tt]he|[Ii]ts|[Tt]heir)\s+(?:[\w'’-]+\s+){0,4}?(?P<head>"
    + "|".join(sorted(_REPORT_HEADS))
    + r")(?:\s+(?:on|into|about|of)\s+[^,;:()]{3,80}?)?)"
    r"\s*,?\s*(?:(?:is|are|was)\s+)?(?:due|expected|scheduled)"
    r"(?:\s+(?:from|by)\s+(?P<by>[^,;:()]{3,60}?))?\s+(?=(?:on|by|before|in)\s)"
)
_FUTURE = re.compile(
    r"\b(?P<marker>will|(?:is|are)\s+(?:expected|scheduled|set|due|slated|poised|planned)\s+to|"
    r"plans?\s+to|aims?\s+to|intends?\s+to|(?:has|have)\s+(?:promised|pledged|vowed)\s+to|promised\s+to|"
    r"pledged\s+to|vowed\s+to|hopes?\s+to)\s+(?P<verb>[a-z][\w-]*)"
)
_CLAUSE_END = re.compile(r"[,;:()]|\s(?:and|but|while|which|because|although|whereas|so|as)\s")
_SUBJECT_BREAK = re.compile(
    r"[;:(]|\b(?:that|and|but|while|because|although|says|said|argues|argued|warns|warned|whether|if)\s"
)
_PRONOUNS = frozenset("it they he she this we i you which who that there these those its".split())
_SCHEDULED = ("expected", "scheduled", "set", "due", "slated", "planned", "will")


def _subject_before(text: str) -> str | None:
    """The noun phrase just before a verb: "Harbor City, a port town of 410,000 people," -> "Harbor City"."""
    text = text[-400:].rstrip()
    relative = re.search(r",\s*(?:which|who)$", text)
    if relative:  # "the Authority, which is expected to …": the noun before the comma
        text = text[: relative.start()]
    elif text.endswith(","):  # an appositive: drop ", … ," back to the comma that opened it
        cut = text[:-1].rfind(", ")
        if cut <= 0:
            return None
        text = text[:cut]
    text = text[-200:]  # a subject is a few words: never scan a whole run-on sentence
    breaks = [b.end() for b in _SUBJECT_BREAK.finditer(text)]
    text = text[breaks[-1] if breaks else 0 :].strip().strip(",")
    text = text.split(", ")[-1].strip()
    words = text.split()
    # "The deal needs approval from the Competition Authority" -> "the Competition Authority"
    cuts = [i for i in range(1, len(words)) if words[i] in ("the", "a", "an") and _norm(words[i - 1]) != "of"]
    if cuts:
        words = words[cuts[-1] :]
    if not words or len(words) > 8 or (_norm(words[0]) in _PRONOUNS and len(words) == 1):
        return None
    if not (words[0][:1].isupper() or _norm(words[0]) in _DETERMINERS):
        return None
    if _norm(words[0]) in ("the",) and words[0][0] == "T":
        words[0] = "the"
    return " ".join(words)


def find_milestones(text: str, skip: Iterable[str] = ()) -> list[Milestone]:
    """Dated events a seed announces - a report due from someone on a date, an actor that will /
    is scheduled to / plans to do something by a date - as yes/no questions. Questions mentioning
    any of ``skip`` (the goal's own subject) are left out."""
    skip_terms = [s.lower() for s in skip if s]
    out: list[Milestone] = []
    seen: set[str] = set()
    for sentence in split_sentences(plain_text(text)):
        dates = find_dates(sentence)
        if not dates:
            continue
        for m in _REPORT_DUE.finditer(sentence):
            date = next((d for d in dates if d.start >= m.end() - 1), None)
            if date is None:
                continue
            np = m.group("np").strip()
            np_words = np.split()
            np_words[0] = np_words[0].lower()
            head = m.group("head").lower()
            by = (m.group("by") or "").strip()
            if by and not (by.split()[0][:1].isupper() or _norm(by.split()[0]) in _DETERMINERS):
                by = ""
            if by:
                if _norm(np_words[0]) in ("a", "an"):
                    np_words[0] = "its"
                question = f"Will {by} {_REPORT_HEADS[head]} {' '.join(np_words)} {date.phrase}?"
                subject = by
            else:
                question = f"Will {' '.join(np_words)} be {_REPORT_HEADS[head]}ed {date.phrase}?"
                subject = " ".join(np_words)
            _add_milestone(
                out, seen, question, subject, date.phrase, True, _window(sentence, m.start()), skip_terms
            )
        for m in _FUTURE.finditer(sentence):
            verb = m.group("verb")
            if verb not in VERBS or verb in ("be", "have", "do"):
                continue
            subject = _subject_before(sentence[: m.start()])
            if subject is None:
                continue
            end = _CLAUSE_END.search(sentence, m.end("verb"))
            clause = sentence[m.start("verb") : end.start() if end else len(sentence)].strip(" .")
            in_clause = [d for d in dates if m.end("verb") <= d.start < m.end("verb") + len(clause) + 2]
            date = in_clause[0] if in_clause else None
            if date is None:
                continue
            # Drop the date from the clause and say it once at the end: "… by 14 March".
            rel = date.start - m.start("verb")
            predicate = (clause[:rel] + clause[rel + (date.end - date.start) :]).strip()
            predicate = " ".join(predicate.split()).strip(" ,.")
            if len(predicate.split()) > 14 or (
                lemma(predicate.split()[0]) == "vote" and any(t in predicate.lower() for t in skip_terms)
            ):
                continue
            scheduled = any(w in m.group("marker") for w in _SCHEDULED)
            question = f"Will {subject} {predicate} {date.phrase}?"
            _add_milestone(
                out, seen, question, subject, date.phrase, scheduled, _window(sentence, m.start()), skip_terms
            )
    return out


def _window(sentence: str, at: int, width: int = 240) -> str:
    """Up to ``width`` characters of ``sentence`` starting a little before position ``at``."""
    start = 0 if at < 80 else sentence.rfind(" ", 0, at - 60) + 1
    return sentence[start : start + width]


def _add_milestone(
    out: list[Milestone],
    seen: set[str],
    question: str,
    subject: str,
    date: str,
    scheduled: bool,
    sentence: str,
    skip_terms: Sequence[str],
) -> None:
    question = " ".join(question.split())
    key = question.lower()
    if key in seen or any(t in key for t in skip_terms) or not analyze_goal(question).is_yes_no:
        return
    seen.add(key)
    out.append(Milestone(question, subject, date, scheduled, sentence))


def with_article(name: str, text: str) -> str:
    """ "Harbor City Chamber of Commerce" -> "the Harbor City Chamber of Commerce" when the seed
    writes it with "the" (as it does for most bodies), else the name as it is."""
    hits = len(re.findall(rf"\b[Tt]he\s+{re.escape(name)}\b", text))
    total = len(re.findall(rf"\b{re.escape(name)}\b", text))
    if total and hits * 2 >= total:
        return f"the {name}"
    if not total and _span_kind(name) == "organisation" and any(t in ORG_WORDS for t in name.split()):
        return f"the {name}"
    return name


PLACE_WORDS = frozenset(
    "City County Town Village Street Avenue Road Park Valley Hills Heights River Lake Bay Island Beach "
    "Port Hollow Ridge District State Province Region Square Coast Mountains".split()
)


def is_stakeholder_name(name: str) -> bool:
    """A name that can take a position: a body, a group, a titled or full personal name, not a
    place or a product (a best guess from the words of the name)."""
    tokens = name.split()
    if any(t in ORG_WORDS or t in FACTION_WORDS or t in VOTER_TITLES for t in tokens):
        return True
    return _span_kind(name) == "person" and not any(t in PLACE_WORDS for t in tokens)


def is_decision_maker(name: str) -> bool:
    """A body that votes (a council, a board) or a person who votes (a councillor, a senator)."""
    tokens = name.replace(".", "").split()
    return any(t in DECISION_BODIES for t in tokens) or bool(tokens and tokens[0] in VOTER_TITLES)


def suggest_questions(seed_text: str, goal: str = "", forecast_days: int = 30, limit: int = 3) -> list[str]:
    """Up to ``limit`` distinct yes/no questions about events in the seed: its main subject's
    decision (by the seed's date for it, else within the horizon), dated milestones it announces,
    and key stakeholders' decisions on the subject; generic but valid questions about the subject
    fill the rest. Every suggestion passes :func:`analyze_goal`. Deterministic."""
    if limit <= 0:
        return []
    text = plain_text(seed_text or "")
    topic = main_topic(text, goal)
    when = _horizon(forecast_days)
    main: list[str] = []
    stakeholders: list[str] = []
    generic: list[str] = []
    if topic is not None:
        main.append(f"Will {topic.name} {topic.verb} {topic.date or when}?")
        deadline = topic.date or when
        spans = [s for s in named_spans(split_sentences(text), goal) if is_stakeholder_name(s.name)]
        for span in spans[:6]:
            if span.name in topic.name or topic.name in span.name:
                continue
            name = with_article(span.name, text)
            if is_decision_maker(span.name):
                stakeholders.append(f"Will {name} vote to approve {topic.name} {deadline}?")
            else:
                stakeholders.append(f"Will {name} publicly endorse {topic.name} {deadline}?")
        generic += [
            f"Will a formal decision on {topic.name} be made {when}?",
            f"Will {topic.name} be delayed beyond {max(1, forecast_days)} days?",
        ]
    milestones = [m.question for m in find_milestones(text, skip=[topic.name] if topic else [])]
    # one of each kind first, so three suggestions show the seed's subject, a milestone and a stakeholder
    candidates = [*main, *milestones[:1], *stakeholders[:1], *milestones[1:], *stakeholders[1:], *generic]
    out: list[str] = []
    seen: set[str] = set()
    for question in candidates:
        question = " ".join(question.split())
        if question.lower() in seen or not analyze_goal(question).is_yes_no:
            continue
        seen.add(question.lower())
        out.append(question)
        if len(out) >= limit:
            break
    return out
