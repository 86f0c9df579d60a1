"""Seed passages for LLM agents: chunking, BM25 ranking, the conservative token estimate."""

import re

import pytest

from services.gpu_runner.engine.retrieval import PassageLibrary, chunk_passages, estimate_tokens

SEED = """# Measure T: the Harbor Transit Levy

Measure T would add a half-cent sales tax for 30 years to fund the Harbor Line light rail. It needs
a two-thirds majority of the votes cast on November 5.

## Who supports it
- The Harbor Chamber of Commerce endorsed Measure T in June.
- Mayor Lena Ortiz campaigns for it at every district meeting.

## Who opposes it
The Taxpayers Alliance calls the levy regressive. Its director, Sam Kerr, says families already pay
too much. The Alliance raised 1.2 million dollars for a No campaign.

## Polling
A September poll by the Harbor Institute found 61% of likely voters in favour and 33% against, with
6% undecided. An earlier poll in May had support at 55%.

## Precedent
A similar transit levy, Measure K, failed in 2016 with 64% in favour, short of the two-thirds it
needed. Turnout then was 48%.
"""


def words(text: str) -> list[str]:
    return text.split()


def test_chunking_keeps_every_sentence_once_in_order_within_the_size():
    long_sentence = "The district's budget annex lists " + ", ".join(f"item {k}" for k in range(200)) + "."
    text = SEED + "\n\n## Annex\n" + long_sentence + " It ends here.\n"
    passages = chunk_passages(text, max_chars=300)
    assert len(passages) > 5
    assert all(0 < len(p) <= 300 for p in passages)
    # every word of the seed, once and in order, with only the heading marks gone
    without_marks = re.sub(r"(?m)^#+\s*", "", text)
    assert words(" ".join(passages)) == words(without_marks)
    # a sentence that fits is never split across passages
    for sentence in [
        "It needs a two-thirds majority of the votes cast on November 5.",
        "Turnout then was 48%.",
    ]:
        assert sum(sentence in " ".join(p.split()) for p in passages) == 1
    # a heading opens its passage: the polling passage starts with its heading
    assert any(p.startswith("Polling\nA September poll") for p in passages)
    # only the over-long sentence was cut, into pieces that fill their passages
    pieces = [p for p in passages if "item 1" in p]
    assert len(pieces) > 1


def test_chunking_is_deterministic_and_handles_empty_text():
    assert chunk_passages(SEED) == chunk_passages(SEED)
    assert chunk_passages("") == [] and chunk_passages("\n\n  \n") == []
    # a short seed packs whole paragraphs together, up to the size
    assert len(chunk_passages(SEED, max_chars=10_000)) == 5  # one passage per heading


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ("What did the latest poll show about support for Measure T?", "September poll"),
        ("Has a transit levy like this failed before?", "Measure K"),
        ("Who opposes the levy and how much money do they have?", "Taxpayers Alliance"),
        ("Sam Kerr", "Sam Kerr"),
    ],
)
def test_bm25_ranks_the_passage_that_answers_first(query, answer):
    passages = chunk_passages(SEED, max_chars=400)
    library = PassageLibrary(passages)
    best = library.top(query, 1)
    assert len(best) == 1 and answer in passages[best[0]]


def test_ranking_is_deterministic_with_ties_in_document_order_and_honours_exclude():
    passages = chunk_passages(SEED, max_chars=400)
    twice = [*passages, passages[3]]  # an exact duplicate scores exactly the same
    a, b = PassageLibrary(twice), PassageLibrary(twice)
    query = "poll support undecided"
    assert a.top(query, len(twice)) == b.top(query, len(twice))
    ranked = a.top(query, len(twice))
    assert sorted(ranked) == list(range(len(twice)))  # every passage, once
    # the passage and its copy tie exactly: adjacent, the earlier index first
    assert ranked.index(3) + 1 == ranked.index(len(twice) - 1)
    first = ranked[0]
    assert first not in a.top(query, 3, exclude={first}) and len(a.top(query, 3, exclude={first})) == 3
    assert a.top(query, 0) == []


def test_queries_that_match_nothing_fall_back_to_document_order():
    passages = chunk_passages(SEED, max_chars=400)
    library = PassageLibrary(passages)
    assert library.top("", 3) == [0, 1, 2]
    assert library.top("zebra xylophone", 2) == [0, 1]
    assert library.top("the of and", 2) == [0, 1]  # stopwords only
    assert PassageLibrary([]).top("poll", 3) == []
    assert PassageLibrary(["", "the and"]).top("poll", 5) == [0, 1]  # nothing to index


def test_token_estimate_is_conservative():
    prose = words(SEED)
    text = " ".join(prose)
    # English BPE runs at about 4 characters a token; the estimate stays well above that
    assert estimate_tokens(text) >= len(text.encode()) / 3.5
    # digits count one token each: a price list costs more than its length in characters / 3
    assert estimate_tokens("0.613 0.387 97.50") >= 13
    assert estimate_tokens("") == 0 and estimate_tokens("a") == 1
    # never less for a longer text (the prompt builder relies on sums of parts)
    assert estimate_tokens("ab") + estimate_tokens("cd") >= estimate_tokens("abcd")
    assert estimate_tokens("日本語のテキスト") >= len("日本語のテキスト")  # at least a token per character
