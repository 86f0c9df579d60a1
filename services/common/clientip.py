"""The real client address of a request, for per-address rate limits.

`X-Forwarded-For` is attacker-controlled unless a proxy we trust wrote it, so it is read only when
the direct peer is a trusted proxy, and then walked from the right (the entries our proxies
appended) to the first hop that is not itself a trusted proxy: a client cannot dodge a limit by
sending its own forged header.

Two readers, one rule:
- the gateway, with the HTTP peer and header (trusted: `SWARMCAST_TRUSTED_PROXIES`, the reverse
  proxies in front of it); it passes the result on to auth as `x-forwarded-for` gRPC metadata;
- auth, with the gRPC peer and that metadata (`forwarded_client`). There the network a caller sits
  in proves nothing (any process on the gateway's host or pod network could write the header), so
  auth believes the header only from a caller that proved to be the gateway: its mutual-TLS client
  certificate names the gateway, or it sent the shared secret `SWARMCAST_GATEWAY_FORWARD_SECRET` in
  `x-swarmcast-forward-secret` metadata (`secret_matches`). Anyone else counts as its own peer.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Annotated

from pydantic import AfterValidator

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = tuple[Network, ...]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The HTTP header proxies append to, and the gRPC metadata key the gateway sends the address in.
FORWARDED_FOR = "x-forwarded-for"
# Longest X-Forwarded-For we look at: a chain of hundreds of hops is an attack, not a network.
MAX_FORWARDED_HOPS = 32
# gRPC metadata carrying the gateway's shared secret (auth believes x-forwarded-for only with it,
# or from a client certificate that names the gateway).
FORWARD_SECRET = "x-swarmcast-forward-secret"


def parse_networks(spec: str) -> Networks:
    """`"127.0.0.1/32, 10.0.0.0/8"` → networks; raises ValueError on a malformed entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _checked_networks(spec: str) -> str:
    parse_networks(spec)  # fail at startup on a typo, not per request
    return spec


# A settings field holding comma-separated CIDRs, validated when the settings are read.
NetworkList = Annotated[str, AfterValidator(_checked_networks)]


def peer_host(peer: str | None) -> str:
    """The host of a peer: a gRPC peer string (`ipv4:1.2.3.4:5678` → `1.2.3.4`, `ipv6:[::1]:5678`
    → `::1`) or an HTTP client host (returned as is). Empty when there is no peer."""
    if not peer:
        return ""
    if peer.startswith("ipv4:"):
        return peer[5:].rsplit(":", 1)[0]
    if peer.startswith("ipv6:"):
        rest = peer[5:]
        if rest.startswith("["):
            return rest[1 : rest.find("]")]
        return rest
    return peer  # an HTTP host, a unix socket and the like: the whole string identifies the caller


def parse_ip(value: str) -> IPAddress | None:
    """An address, or None for anything else (ports and brackets are not accepted)."""
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4-mapped IPv6 address is the IPv4 client (dual-stack sockets report them so).
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: IPAddress, trusted: Sequence[Network]) -> bool:
    # `in` is False across IP versions, so an IPv6 network never vouches for an IPv4 address.
    return any(ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The address a request is counted against: the peer unless a trusted proxy names another.

    `peer` is a gRPC peer string or an HTTP client host (see `peer_host`). `forwarded_for` holds
    every X-Forwarded-For value (a proxy may add its own header instead of appending to the
    existing one; all are read in order). A peer that is not an IP address (a unix socket) is
    returned as is; no peer at all is `unknown`.
    """
    host = peer_host(peer)
    direct = parse_ip(host)
    if direct is None:
        return host or "unknown"
    if not _trusted(direct, trusted):
        return str(direct)
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = direct
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        ip = parse_ip(hop)
        if ip is None:
            break  # garbage in the chain: stop at the last address a trusted proxy vouched for
        client = ip
        if not _trusted(ip, trusted):
            break
    return str(client)


def secret_matches(presented: Iterable[str], secret: str) -> bool:
    """True when one of the `presented` values is `secret` (constant-time comparison; an empty
    secret never matches, so an unconfigured secret vouches for nobody)."""
    if not secret:
        return False
    expected = secret.encode("utf-8")
    found = False
    for value in presented:
        # Compare every value (no early exit), so timing says nothing about which one matched.
        found |= hmac.compare_digest(value.encode("utf-8", "surrogatepass"), expected)
    return found


def forwarded_client(peer: str | None, forwarded_for: Iterable[str], *, vouched: bool) -> str:
    """auth's reading of the client address: the peer, unless the caller is the gateway
    (`vouched`); then the last address of its `x-forwarded-for` (the gateway sends exactly one, the
    client it worked out with `client_address`). Garbage there falls back to the peer."""
    host = peer_host(peer)
    direct = parse_ip(host)
    fallback = str(direct) if direct is not None else (host or "unknown")
    if not vouched:
        return fallback
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return fallback
    ip = parse_ip(hops[-1])
    return str(ip) if ip is not None else fallback
