"""Passages of the seed for LLM agents: chunking, BM25 retrieval, and a token estimate.

The full (enriched) seed is cut into passages at paragraph and sentence boundaries; a
:class:`PassageLibrary` ranks them for a query with BM25 (the ``bm25s`` library, English stopwords;
the PyStemmer stemmer when it is installed, never a download at run time). Prompts
(:mod:`.prompts`) pick passages from it inside a per-agent token budget measured with
:func:`estimate_tokens`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence

import bm25s
import numpy as np

try:  # optional: folds inflections ("approves" ~ "approval"); ranking works without it
    import Stemmer

    _STEMMER = Stemmer.Stemmer("english")
except ImportError:  # pragma: no cover - depends on the environment
    _STEMMER = None

# bm25s sets its own logger to DEBUG; keep its per-index chatter out of the services' logs.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DIGITS = b"0123456789"
_RANK_CACHE = 4096  # rankings kept per library (one per persona query, plus the shared one)


def estimate_tokens(text: str) -> int:
    """An upper-bound-minded token count without a tokenizer.

    BPE tokenizers average about 4 bytes of English per token, so ``bytes / 3`` overestimates prose
    by about a third; digits are counted one token each because common tokenizers (Qwen, Llama 2)
    split numbers digit by digit, which prompts full of prices and counts would otherwise make us
    undercount. Non-Latin scripts take 2-3 bytes per character, so they too stay at or above one
    token per character. Being over rather than under is what keeps a prompt inside the budget.
    """
    raw = text.encode("utf-8")
    other = len(raw.translate(None, _DIGITS))  # one C pass (prompt building calls this a lot)
    return len(raw) - other + -(-other // 3)


def _sentences(line: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(line.strip()) if s]


def _paragraphs(text: str) -> list[tuple[bool, list[list[str]]]]:
    """``(starts_with_heading, units)`` per paragraph, each unit a line's sentences.

    A heading or a list item is a unit of its own (it never runs into the next line's sentence);
    other lines of a paragraph are joined into one prose unit. Heading marks are dropped, every
    word is kept.
    """
    out: list[tuple[bool, list[list[str]]]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines: list[str] = []
        prose: list[str] = []
        heading = False
        for raw in block.split("\n"):
            line = " ".join(raw.split())
            if not line:
                continue
            structural = _HEADING.match(raw) or _ITEM.match(raw)
            if structural and prose:
                lines.append(" ".join(prose))
                prose = []
            if _HEADING.match(raw):
                heading = heading or not lines
                line = " ".join(_HEADING.sub("", raw).split())
                if line:
                    lines.append(line)
            elif structural:
                lines.append(line)
            else:
                prose.append(line)
        if prose:
            lines.append(" ".join(prose))
        units = [s for s in (_sentences(line) for line in lines) if s]
        if units:
            out.append((heading, units))
    return out


def _cut(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than ``max_chars`` in pieces, cut at spaces where possible."""
    pieces = []
    rest = sentence
    while len(rest) > max_chars:
        cut = rest.rfind(" ", 0, max_chars + 1)
        if cut <= max_chars // 2:
            cut = max_chars
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def chunk_passages(text: str, max_chars: int = 600) -> list[str]:
    """Split a seed into passages of at most ``max_chars`` characters, in document order.

    Whole paragraphs are packed together while they fit; a heading starts a new passage; a longer
    paragraph is packed sentence by sentence, and only a sentence longer than ``max_chars`` is cut.
    Every sentence lands in exactly one passage (or, cut, in consecutive ones). Deterministic.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    passages: list[str] = []
    current = ""

    def flush() -> None:
        nonlocal current
        if current:
            passages.append(current)
            current = ""

    def add(piece: str, sep: str) -> None:
        nonlocal current
        if current and len(current) + len(sep) + len(piece) <= max_chars:
            current += sep + piece
        else:
            flush()
            current = piece

    for heading, units in _paragraphs(text):
        if heading:
            flush()
        whole = "\n".join(" ".join(unit) for unit in units)
        if len(whole) <= max_chars:
            add(whole, "\n")
            continue
        for unit in units:
            sep = "\n"
            for sentence in unit:
                for piece in _cut(sentence, max_chars) if len(sentence) > max_chars else [sentence]:
                    add(piece, sep)
                    sep = " "
    flush()
    return passages


def _tokenize(texts: Sequence[str]) -> list[list[str]]:
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )


class PassageLibrary:
    """BM25 over a fixed list of passages.

    Rankings are cached per query string (a persona asks the same every round), so this object is
    meant to live as long as its passages - one per run.
    """

    def __init__(self, passages: Sequence[str]) -> None:
        self.passages = list(passages)
        self.tokens = [estimate_tokens(p) for p in self.passages]  # prompt cost of each passage
        self._index: bm25s.BM25 | None = None
        corpus = _tokenize(self.passages) if self.passages else []
        if any(corpus):
            self._index = bm25s.BM25()
            self._index.index(corpus, show_progress=False)
        self._rankings: dict[str, tuple[tuple[int, ...], int]] = {}

    def __len__(self) -> int:
        return len(self.passages)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every passage for ``query`` (all zero when nothing matches)."""
        n = len(self.passages)
        if self._index is None or not query.strip():
            return np.zeros(n, dtype=np.float32)
        words = [w for w in _tokenize([query])[0] if w in self._index.vocab_dict]
        if not words:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._index.get_scores(words), dtype=np.float32)

    def _ranked(self, query: str) -> tuple[tuple[int, ...], int]:
        """Every passage index best first (ties in document order), and how many match at all."""
        hit = self._rankings.get(query)
        if hit is None:
            scores = self.scores(query)
            # lexsort: last key is primary - score descending, then index ascending on ties
            order = tuple(int(i) for i in np.lexsort((np.arange(len(scores)), -scores)))
            hit = (order, int(np.count_nonzero(scores > 0)))
            if len(self._rankings) >= _RANK_CACHE:
                self._rankings.clear()
            self._rankings[query] = hit
        return hit

    def ranking(self, query: str) -> tuple[int, ...]:
        """Every passage index, best first; ties (and passages that do not match) in document order."""
        return self._ranked(query)[0]

    def relevant(self, query: str) -> tuple[int, ...]:
        """The passages that match ``query``, best first - or, when none does, all in document order."""
        order, matched = self._ranked(query)
        return order[:matched] if matched else order

    def top(self, query: str, k: int, exclude: Collection[int] = ()) -> list[int]:
        """The ``k`` best passage indices for ``query`` not in ``exclude``, best first.

        Deterministic; an empty query (or one that matches nothing) yields passages in document order.
        """
        if k <= 0:
            return []
        skip = exclude if isinstance(exclude, (set, frozenset, dict)) else set(exclude)
        out = []
        for i in self.ranking(query):
            if i not in skip:
                out.append(i)
                if len(out) == k:
                    break
        return out
