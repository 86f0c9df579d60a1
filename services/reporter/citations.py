"""Citations in report prose: `[post #12]` and `[trade #34]`, checked against the artifacts.

The canonical form is a bracketed `post #<id>` or `trade #<id>`. Prose from an LLM may stray from
it, so every `#<digits>` in a text counts as a citation: its kind is the nearest "post" or
"trade" word in the few words before it ("posts #3 and #5" cites two posts). A `#<digits>`
with neither word nearby is a citation of nothing, and so invalid.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

_ID = re.compile(r"#(\d+)\b")
_KIND = re.compile(r"\b(post|trade)s?\b", re.IGNORECASE)
# How far back (characters) the kind word may be: "trades #4, #9 and #12" still reads as trades.
_LOOKBACK = 40
# A bracketed group of citations, e.g. "[post #3]" or "[posts #3, #4]" or "[post #3; trade #9]".
_BRACKET = re.compile(r"\s?\[[^\[\]]*#\d+[^\[\]]*\]")


@dataclass(frozen=True)
class Citation:
    kind: str  # "post", "trade" or "" (no kind word in reach)
    id: int
    start: int
    end: int


def find_citations(text: str) -> list[Citation]:
    """Every `#<id>` in `text` with the kind it refers to."""
    out = []
    for match in _ID.finditer(text):
        window = text[max(0, match.start() - _LOOKBACK) : match.start()]
        kinds = _KIND.findall(window)
        kind = kinds[-1].lower() if kinds else ""
        out.append(Citation(kind=kind, id=int(match.group(1)), start=match.start(), end=match.end()))
    return out


def is_valid(citation: Citation, post_ids: Collection[int], trade_ids: Collection[int]) -> bool:
    if citation.kind == "post":
        return citation.id in post_ids
    if citation.kind == "trade":
        return citation.id in trade_ids
    return False


def invalid_citations(text: str, post_ids: Collection[int], trade_ids: Collection[int]) -> list[Citation]:
    return [c for c in find_citations(text) if not is_valid(c, post_ids, trade_ids)]


def cited_ids(text: str) -> tuple[list[int], list[int]]:
    """(post ids, trade ids) cited in `text`, in order of appearance, without repeats."""
    posts: list[int] = []
    trades: list[int] = []
    for c in find_citations(text):
        target = posts if c.kind == "post" else trades if c.kind == "trade" else None
        if target is not None and c.id not in target:
            target.append(c.id)
    return posts, trades


def describe(citation: Citation) -> str:
    return f"{citation.kind} #{citation.id}" if citation.kind else f"#{citation.id}"


def strip_invalid(text: str, post_ids: Collection[int], trade_ids: Collection[int]) -> str:
    """`text` without citations of ids that do not exist.

    A bracket holding only bad ids disappears; inside a bracket with good ids only the bad ones go.
    A bad inline reference ("as post #99 shows") becomes "a post" / "a trade", keeping the sentence.
    """

    def fix_bracket(match: re.Match[str]) -> str:
        group = match.group(0)
        found = find_citations(group)
        good = [c for c in found if is_valid(c, post_ids, trade_ids)]
        if len(good) == len(found):
            return group
        if not good:
            return ""
        lead = " " if group.startswith(" ") else ""
        return lead + " ".join(f"[{describe(c)}]" for c in good)

    text = _BRACKET.sub(fix_bracket, text)
    pieces: list[str] = []
    last = 0
    for c in find_citations(text):
        if is_valid(c, post_ids, trade_ids):
            continue
        # Replace "post #99" (kind word directly before) with "a post"; a bare "#99" just goes.
        head = text[last : c.start]
        word = re.search(r"\b(post|trade)s?\s*$", head, re.IGNORECASE)
        if word is not None:
            pieces.append(head[: word.start()] + f"a {word.group(1).lower()}")
        else:
            pieces.append(head.rstrip())
        last = c.end
    pieces.append(text[last:])
    cleaned = "".join(pieces)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    cleaned = re.sub(r"\(\s*\)", "", cleaned)
    return cleaned.strip()


def canonicalize(text: str) -> str:
    """Every citation in the canonical `post #<id>` / `trade #<id>` form.

    "posts #3 and #5" becomes "post #3 and post #5", so a reader (or a parser) finds each id next
    to its kind. A `#<id>` without a kind in reach is left alone (`strip_invalid` removes those).
    """
    out: list[str] = []
    last = 0
    for c in find_citations(text):
        if not c.kind:
            continue
        head = text[last : c.start]
        if re.search(rf"\b{c.kind}\s$", head, re.IGNORECASE):
            head = head[: -len(c.kind) - 1] + f"{c.kind} "
        elif re.search(rf"\b{c.kind}s\s$", head, re.IGNORECASE):
            head = head[: -len(c.kind) - 2] + f"{c.kind} "
        else:
            head += f"{c.kind} "
        out.append(head + f"#{c.id}")
        last = c.end
    out.append(text[last:])
    return "".join(out)
