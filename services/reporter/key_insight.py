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


def deterministic_key_insight(facts: ReportFacts) -> str:
    """Leads with the goal's forecast and its interval, then the label; shortened to fit 200 characters."""
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
