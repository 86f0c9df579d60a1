"""The real client address of an HTTP request, for auth's per-address rate limits.

`X-Forwarded-For` is attacker-controlled unless a proxy we trust wrote it, so it is read only when
the direct peer is in `SWARMCAST_TRUSTED_PROXIES`, and then walked from the right (the entries our
proxies appended) to the first hop that is not itself a trusted proxy. The result travels to the
auth service as `x-forwarded-for` gRPC metadata (the key `services/auth/servicer.py` reads; auth
trusts it because the gateway is its trusted peer).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Networks = tuple[Network, ...]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The metadata key auth's rate limiter reads.
CLIENT_ADDRESS_METADATA = "x-forwarded-for"
# Longest X-Forwarded-For we look at: a chain of hundreds of hops is an attack, not a network.
MAX_FORWARDED_HOPS = 32


def parse_networks(spec: str) -> Networks:
    """`"127.0.0.1/32, 10.0.0.0/8"` → networks; raises ValueError on a malformed entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


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
    return any(ip.version == net.version and ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The address a request is counted against: the peer unless a trusted proxy names another.

    `forwarded_for` holds every X-Forwarded-For header value (a proxy may add its own header
    instead of appending to the existing one; both are read in order).
    """
    direct = parse_ip(peer or "")
    if direct is None:
        return peer or "unknown"
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
