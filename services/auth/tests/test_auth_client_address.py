"""Which address a request is rate-limited as: x-forwarded-for only from trusted proxies."""

from __future__ import annotations

import pytest

from services.auth.ratelimit import Limit, bucket_for
from services.auth.settings import DEFAULT_TRUSTED_PROXIES
from services.common.clientip import client_address, parse_networks, peer_host

TRUSTED = parse_networks("127.0.0.0/8,::1/128,10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "host"),
    [
        ("ipv4:127.0.0.1:5555", "127.0.0.1"),
        ("ipv6:[::1]:5555", "::1"),
        ("ipv6:[2001:db8::7]:443", "2001:db8::7"),
        ("unix:/tmp/sock", "unix:/tmp/sock"),
    ],
)
def test_peer_host(peer: str, host: str) -> None:
    assert peer_host(peer) == host


def test_untrusted_peer_cannot_choose_its_address() -> None:
    assert client_address("ipv4:203.0.113.9:1234", ["198.51.100.1"], TRUSTED) == "203.0.113.9"


def test_trusted_proxy_forwards_the_client() -> None:
    assert client_address("ipv4:10.1.2.3:1234", ["198.51.100.1"], TRUSTED) == "198.51.100.1"


def test_forged_left_entries_are_ignored() -> None:
    # The client sent "x-forwarded-for: 1.2.3.4" itself; the gateway appended the real address.
    assert client_address("ipv4:127.0.0.1:1", ["1.2.3.4, 198.51.100.1"], TRUSTED) == "198.51.100.1"


def test_chain_of_trusted_proxies_is_walked() -> None:
    assert client_address("ipv4:127.0.0.1:1", ["198.51.100.1, 10.0.0.5"], TRUSTED) == "198.51.100.1"


def test_garbage_in_the_header_stops_the_walk() -> None:
    assert client_address("ipv4:127.0.0.1:1", ["'; DROP TABLE x; --"], TRUSTED) == "127.0.0.1"


def test_no_header_means_the_peer() -> None:
    assert client_address("ipv4:127.0.0.1:1", [], TRUSTED) == "127.0.0.1"


def test_ipv4_mapped_ipv6_counts_as_ipv4() -> None:
    assert client_address("ipv6:[::ffff:203.0.113.9]:1", [], TRUSTED) == "203.0.113.9"


def test_default_trusted_proxies_parse() -> None:
    assert len(parse_networks(DEFAULT_TRUSTED_PROXIES)) == 6


def test_buckets_are_hashed_and_separate_per_action() -> None:
    a = bucket_for(Limit("login-email", 10, 60), "a@example.com")
    b = bucket_for(Limit("reset-email", 5, 3600), "a@example.com")
    assert a != b and len(a) == 64 and "example" not in a
