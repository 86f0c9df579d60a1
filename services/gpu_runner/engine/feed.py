"""Feed ranking without an all-pairs step.

Once per round every recent post (a window of WINDOW rounds, so retained state is bounded) gets a
global score from engagement and recency; the top POOL_SIZE form a shared pool: O(P log P) for P
recent posts. Each agent's feed is then the best ``feed_size`` of a *bounded* candidate set: the
pool, the recent posts of the authors it follows, replies to its own posts and a few random recent
posts for exploration - re-scored with personal bonuses (follows, replies to me) and a penalty for
what it saw last round. Per agent this is O(k log k) for k candidates, independent of the
population size.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

from .types import Post

WINDOW = 3  # rounds a post stays eligible for feeds
POOL_SIZE = 32  # shared top posts every agent considers
AUTHOR_RECENT = 2  # recent posts remembered per author (follow candidates)
EXPLORE = 4  # random recent posts added per agent
RECENCY_DECAY = 0.6  # score lost per round of age
FOLLOW_BONUS = 1.5
REPLY_TO_ME_BONUS = 2.0
SEEN_PENALTY = 2.5


def base_score(post: Post, now: int) -> float:
    """Global score: engagement (likes, reposts, replies; dislikes subtract) minus age."""
    engagement = math.log1p(post.likes + 2.0 * post.reposts + 1.5 * post.replies)
    return engagement - 0.5 * math.log1p(post.dislikes) - RECENCY_DECAY * (now - post.round)


def score_window(posts: Iterable[Post], now: int) -> dict[int, float]:
    """Base scores of the posts still inside the window, keyed by post id (id order)."""
    return {p.id: base_score(p, now) for p in posts if now - p.round <= WINDOW}


def top_pool(scores: Mapping[int, float], size: int = POOL_SIZE) -> list[int]:
    """The ``size`` best post ids; ties go to the newer post (higher id)."""
    return [pid for _, pid in heapq.nlargest(size, ((s, pid) for pid, s in scores.items()))]


def personal_feed(
    viewer: int,
    follows: Mapping[int, None],
    last_feed: Sequence[int],
    scores: Mapping[int, float],
    pool: Sequence[int],
    posts: Sequence[Post],
    recent_by_author: Mapping[int, Sequence[int]],
    replies_to_me: Sequence[int],
    explore: Sequence[int],
    feed_size: int,
) -> list[int]:
    """Rank one agent's feed from its bounded candidate set; returns post ids, best first.

    ``posts`` is indexed by post id; candidates outside the window (absent from ``scores``) and the
    viewer's own posts are skipped.
    """
    # Personal candidates first, with their bonuses; then the shared pool and exploration picks.
    cand: dict[int, float] = {}
    for author in follows:
        for pid in recent_by_author.get(author, ()):
            s = scores.get(pid)
            if s is not None:
                cand[pid] = s + FOLLOW_BONUS
    for pid in replies_to_me:
        s = scores.get(pid)
        if s is not None and posts[pid].author != viewer:
            cand[pid] = s + REPLY_TO_ME_BONUS + (FOLLOW_BONUS if posts[pid].author in follows else 0.0)
    for source in (pool, explore):
        for pid in source:
            if pid not in cand:
                s = scores.get(pid)
                if s is not None:
                    author = posts[pid].author
                    if author == viewer:
                        continue
                    cand[pid] = s + FOLLOW_BONUS if author in follows else s
    for pid in last_feed:
        if pid in cand:
            cand[pid] -= SEEN_PENALTY
    return heapq.nlargest(feed_size, cand, key=lambda pid: (cand[pid], pid))
