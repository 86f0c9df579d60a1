"""`python -m services.common.healthcheck ADDR`: exit 0 when the gRPC server at ADDR is SERVING.

For container health checks (compose) and exec probes. It speaks grpc.health.v1 `Check` over a
channel secured like the service's own clients (`SWARMCAST_TLS_*`; plaintext only to loopback
unless `SWARMCAST_ALLOW_INSECURE=true`). `--plaintext` forces plaintext, for a server's
health-only port (`SWARMCAST_HEALTH_PORT`).

Exit status: 0 SERVING; 1 anything else (NOT_SERVING, unknown service, unreachable, refused
handshake), with the reason on stderr; 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from services.common.clients import channel, check_health, insecure_channel
from services.common.config import Settings
from services.common.tls import InsecureTransportError, TlsConfigError


async def probe(addr: str, settings: Settings, *, service: str, rpc_timeout: float, plaintext: bool) -> str:
    """The serving status name of `service` at `addr` ("SERVING", "NOT_SERVING", "UNREACHABLE", ...)."""
    ch = insecure_channel(addr) if plaintext else channel(addr, settings)
    async with ch:
        return await check_health(ch, service, rpc_timeout=rpc_timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.common.healthcheck", description=__doc__.split("\n")[0]
    )
    parser.add_argument("addr", help="host:port of the gRPC server")
    parser.add_argument("--service", default="", help='service name to check (default "": the server)')
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    parser.add_argument("--plaintext", action="store_true", help="no TLS (a health-only port)")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
        check = probe(
            args.addr, settings, service=args.service, rpc_timeout=args.timeout, plaintext=args.plaintext
        )
        status = asyncio.run(check)
    except (ValidationError, InsecureTransportError, TlsConfigError) as exc:
        print(f"healthcheck {args.addr}: {exc}", file=sys.stderr)
        return 2
    if status == "SERVING":
        return 0
    print(f"healthcheck {args.addr}: {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
