"""Feed ranking: follows, replies, engagement, recency and repetition change the order."""

from services.gpu_runner.engine import feed
from services.gpu_runner.engine.types import Post


def rank(posts, viewer=0, follows=(), last_feed=(), replies_to_me=(), now=5, size=10):
    scores = feed.score_window(posts, now)
    pool = feed.top_pool(scores)
    recent = {}
    for p in posts:
        recent.setdefault(p.author, []).append(p.id)
    return feed.personal_feed(
        viewer,
        dict.fromkeys(follows),
        tuple(last_feed),
        scores,
        pool,
        posts,
        recent,
        list(replies_to_me),
        [],
        size,
    )


def test_followed_authors_post_outranks_an_identical_unfollowed_one():
    posts = [Post(0, 4, 1, "post", "same", 0.2), Post(1, 4, 2, "post", "same", 0.2)]
    assert rank(posts, follows=[2]) == [1, 0]
    assert rank(posts, follows=[1]) == [0, 1]


def test_engagement_and_recency_order_the_feed():
    liked = Post(0, 4, 1, "post", "a", 0.0, likes=10)
    plain = Post(1, 4, 2, "post", "b", 0.0)
    assert rank([liked, plain]) == [0, 1]
    older = Post(0, 2, 1, "post", "old", 0.0)
    newer = Post(1, 4, 2, "post", "new", 0.0)
    assert rank([older, newer]) == [1, 0]


def test_dislikes_push_a_post_down_and_replies_push_it_up():
    a = Post(0, 4, 1, "post", "a", 0.0, dislikes=5)
    b = Post(1, 4, 2, "post", "b", 0.0)
    c = Post(2, 4, 3, "post", "c", 0.0, replies=3)
    assert rank([a, b, c]) == [2, 1, 0]


def test_reply_to_me_outranks_and_own_posts_and_old_posts_are_excluded():
    mine = Post(0, 4, 0, "post", "mine", 0.0, likes=50)
    other = Post(1, 4, 2, "post", "x", 0.0, likes=3)
    reply = Post(2, 4, 3, "reply", "@me", 0.0, parent_id=0)
    stale = Post(3, 5 - feed.WINDOW - 1, 4, "post", "stale", 0.0, likes=100)
    assert rank([mine, other, reply, stale], replies_to_me=[2]) == [2, 1]


def test_posts_seen_last_round_are_penalised():
    posts = [Post(0, 4, 1, "post", "a", 0.0), Post(1, 4, 2, "post", "b", 0.0)]
    assert rank(posts) == [1, 0]  # tie: newer id first
    assert rank(posts, last_feed=[1]) == [0, 1]


def test_feed_size_caps_the_result_and_pool_is_bounded():
    posts = [Post(i, 5, i + 1, "post", "p", 0.0, likes=i) for i in range(200)]
    scores = feed.score_window(posts, 5)
    assert len(feed.top_pool(scores)) == feed.POOL_SIZE
    assert rank(posts, size=5) == [199, 198, 197, 196, 195]
