"""Which address a request is rate-limited as: the gateway's reading of X-Forwarded-For (only from
trusted proxies) and auth's (only from a caller that proved to be the gateway)."""

from __future__ import annotations

import pytest

from services.auth.ratelimit import Limit, bucket_for
from services.auth.servicer import GatewayCheck
from services.common.clientip import (
    FORWARD_SECRET,
    client_address,
    forwarded_client,
    parse_networks,
    peer_host,
    secret_matches,
)

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


def test_auth_ignores_the_header_of_a_caller_that_is_not_the_gateway() -> None:
    # Loopback or private: no longer enough to be believed.
    for peer in ("ipv4:127.0.0.1:1", "ipv4:10.1.2.3:1"):
        assert forwarded_client(peer, ["198.51.100.1"], vouched=False) == peer[5:].rsplit(":", 1)[0]


def test_auth_believes_the_gateway() -> None:
    assert forwarded_client("ipv4:10.1.2.3:1", ["198.51.100.1"], vouched=True) == "198.51.100.1"
    assert forwarded_client("ipv4:10.1.2.3:1", ["6.6.6.6, 198.51.100.1"], vouched=True) == "198.51.100.1"
    # Garbage or nothing forwarded: the peer.
    assert forwarded_client("ipv4:10.1.2.3:1", ["not an address"], vouched=True) == "10.1.2.3"
    assert forwarded_client("ipv4:10.1.2.3:1", [], vouched=True) == "10.1.2.3"


def test_forward_secret_comparison() -> None:
    assert secret_matches(["s3cret"], "s3cret")
    assert secret_matches(["wrong", "s3cret"], "s3cret")
    assert not secret_matches(["S3cret"], "s3cret")
    assert not secret_matches([], "s3cret")
    # No secret configured: nobody is the gateway, not even a caller sending an empty value.
    assert not secret_matches([""], "")


def test_buckets_are_hashed_and_separate_per_action() -> None:
    a = bucket_for(Limit("login-email", 10, 60), "a@example.com")
    b = bucket_for(Limit("reset-email", 5, 3600), "a@example.com")
    assert a != b and len(a) == 64 and "example" not in a


class _Context:
    """The part of a servicer context GatewayCheck reads."""

    def __init__(self, auth: dict[str, list[bytes]]) -> None:
        self._auth = auth

    def auth_context(self) -> dict[str, list[bytes]]:
        return self._auth


def _tls(common_name: bytes, *sans: bytes) -> _Context:
    return _Context(
        {
            "transport_security_type": [b"ssl"],
            "x509_common_name": [common_name],
            "x509_subject_alternative_name": list(sans),
        }
    )


def test_gateway_check_by_certificate_or_secret() -> None:
    check = GatewayCheck(secret="s3cret", identities=frozenset({"gateway"}))
    assert check.vouches(_tls(b"gateway"), [])
    assert check.vouches(_tls(b"gw-7f", b"gateway"), [])
    assert not check.vouches(_tls(b"jobs", b"jobs"), [])
    # No TLS: certificate names cannot be claimed; only the secret counts.
    plain = _Context({"x509_common_name": [b"gateway"]})
    assert not check.vouches(plain, [])
    assert check.vouches(plain, [(FORWARD_SECRET, "s3cret")])
    assert not check.vouches(plain, [(FORWARD_SECRET, "guess")])
    # Neither configured: nobody is believed.
    assert not GatewayCheck().vouches(_tls(b"gateway"), [(FORWARD_SECRET, "")])
