"""The key insight: one plain sentence of at most 200 characters that a job list can show.

`deterministic_key_insight` builds it from the facts; `clean_key_insight` accepts a writer's
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


def deterministic_key_insight(facts: ReportFacts) -> str:
    """The verdict, both probabilities and the split, shortened until it fits in 200 characters."""
    v = facts.verdict
    g = facts.goal
    label = v.label[0].upper() + v.label[1:]
    yes, no = g.camps["yes"], g.camps["no"]
    split = (
        f"{yes} agent{'s' if yes != 1 else ''} back{'s' if yes == 1 else ''} it and "
        f"{no} oppose{'s' if no == 1 else ''} it"
    )
    if v.basis == "belief":
        candidates = [
            f"{label} by the agents' own belief of {fmt.pct(g.probability)}, while {split}; nobody traded "
            "the goal market.",
            f"{label} by the agents' own belief of {fmt.pct(g.probability)}; nobody traded the goal market.",
        ]
    else:
        candidates = []
    candidates += [
        f"{label}: the goal market closed at {fmt.pct(v.probability)} and agents put the goal at "
        f"{fmt.pct(g.probability)}, while {split} over the {facts.scale.forecast_days}-day horizon.",
        f"{label}: the goal market closed at {fmt.pct(v.probability)} and agents put the goal at "
        f"{fmt.pct(g.probability)}, while {split}.",
        f"{label}: the goal market closed at {fmt.pct(v.probability)} and agents put the goal at "
        f"{fmt.pct(g.probability)}.",
        f"{label}: the goal market closed at {fmt.pct(v.probability)}.",
    ]
    for text in candidates:
        if len(text) <= MAX_CHARS:
            return text
    return candidates[-1][:MAX_CHARS]
