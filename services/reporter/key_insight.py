"""The key insight: one plain sentence of at most 200 characters that a job list can show.

`deterministic_key_insight` builds it from the facts, leading with the goal's forecast and its
interval; `clean_key_insight` accepts a writer's
candidate only if, once markdown is stripped, it is still a real sentence within the limit and
carries no citations.
"""

from __future__ import annotations

import re

from services.reporter import fmt
from services.reporter.facts import ReportFacts

MAX_CHARS = 200

_MARKDOWN = re.compile(r"[*_`#>|~]|\[|\]|\(http[^)]*\)")
_SENTENCE = re.compile(r"^[A-Z0-9“\"'].*[^\s][.!?]$", re.DOTALL)


def is_sentence(text: str) -> bool:
    """Starts with a capital (or a digit or quote), ends with . ! or ?, no markdown, one line."""
    return (
        0 < len(text) <= MAX_CHARS
        and "\n" not in text
        and not _MARKDOWN.search(text)
        and bool(_SENTENCE.match(text))
        and len(text.split()) >= 5
    )


_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s?%")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)(?![\w.])")


def _same(raw: str, fraction: float) -> bool:
    """'63%' may round 63.4%; '63.0%' may not."""
    return abs(float(raw) - fraction * 100) <= (0.11 if "." in raw else 0.51)


def states_forecast(
    text: str, probability: float, interval: list[float] | None = None, *, leads: bool = False
) -> bool:
    """Whether `text` gives the forecast (as its first percentage when `leads`) and, when an
    interval is passed, both its ends ("55–70%" counts)."""
    figures = _PERCENT.findall(text)
    if leads:
        if not figures or not _same(figures[0], probability):
            return False
    elif not any(_same(f, probability) for f in figures):
        return False
    if interval is None:
        return True
    numbers = _NUMBER.findall(text)
    return all(any(_same(n, end) for n in numbers) for end in interval)


def clean_key_insight(candidate: str) -> str | None:
    """The candidate without markdown and extra whitespace, or None if it is not a usable sentence."""
    text = re.sub(r"\[(?:post|trade)s?\s*#\d+[^\]]*\]", "", candidate, flags=re.IGNORECASE)
    if re.search(r"#\d", text):
        return None  # an inline citation: the key insight stands without evidence ids
    text = re.sub(r"\*\*|__|`|^#+\s*|^>\s*", "", text.strip(), flags=re.MULTILINE)
    text = " ".join(text.split())
    if text and text[-1] not in ".!?":
        text += "."
    return text if is_sentence(text) else None


def replicate_phrase(n: int) -> str:
    return "from a single run" if n == 1 else f"across {n} replicate runs"


_UNSAFE = re.compile(r"[*_`#>|~\[\]]")


def _headline_for_insight(text: str, limit: int) -> str:
    """A news headline safe inside the key insight (no markdown, no '#12'), cut at a word."""
    flat = " ".join(_UNSAFE.sub("", text).split())
    if len(flat) > limit:
        flat = flat[: max(limit - 1, 1)].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return flat


def branch_key_insight(facts: ReportFacts) -> str:
    """A what-if branch's key insight: the injected news and the move it makes, from the facts
    ("What-if: “Port reopens” moves the forecast from 62.0% to 71.0% (+9.0 pts).")."""
    b = facts.branch
    assert b is not None
    after = fmt.pct(b.after.probability)
    if b.before is None or b.delta is None:
        tail = f"puts the forecast at {after}; the parent's forecast is unknown."
    elif round(abs(b.delta) * 100, 1) == 0.0:
        tail = f"leaves the forecast at {after}, where job {b.parent_job_id} had it."
    else:
        tail = f"moves the forecast from {fmt.pct(b.before.probability)} to {after} ({fmt.pts(b.delta)})."
    if not b.events:
        return f"What-if without new news: resuming job {b.parent_job_id} after round {b.round} {tail}"
    more = len(b.events) - 1
    suffix = f" and {more} more event{'s' if more != 1 else ''}" if more else ""
    verb_tail = tail if not more else tail.replace("moves", "move", 1).replace("puts", "put", 1)
    verb_tail = verb_tail.replace("leaves", "leave", 1) if more else verb_tail
    room = MAX_CHARS - len(f"What-if: “”{suffix} {verb_tail}")
    headline = _headline_for_insight(b.events[0].headline, max(room, 10))
    return f"What-if: “{headline}”{suffix} {verb_tail}"[:MAX_CHARS]


def deterministic_key_insight(facts: ReportFacts) -> str:
    """Leads with the goal's forecast and its interval, then the label; shortened to fit 200 characters.
    A what-if branch's states the move instead (`branch_key_insight`)."""
    if facts.branch is not None:
        return branch_key_insight(facts)
    f, v = facts.forecast, facts.verdict
    head = fmt.estimate(f.probability, f.interval, f.level)
    label = v.label + (" but on low evidence" if v.low_evidence else "")
    runs = replicate_phrase(f.replicates)
    candidates = [
        f"{head}: {label}, {runs}; the market ends near {fmt.pct(f.market)} and the agents' stated "
        f"beliefs near {fmt.pct(f.belief)}.",
        f"{head}: {label}, {runs}.",
        f"{head}: {label}.",
    ]
    for text in candidates:
        if len(text) <= MAX_CHARS:
            return text
    return candidates[-1][:MAX_CHARS]
