"""Operator commands for the signing keys: `python -m services.auth keys {list,rotate,remove KID}`.

They act on `SWARMCAST_SIGNING_KEY_DIR`, the folder the auth replicas share. Running servers pick
changes up by themselves (they re-read the folder when it changes: on a token with an unknown
`kid`, on GetSigningKeys, and every maintenance round), so no restart is needed.

Rotation without logging anyone out: `rotate`, then wait at least one access-token lifetime
(`SWARMCAST_ACCESS_TOKEN_TTL_SECONDS`) before `remove`-ing the previous key.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.auth.keys import KeyRing
from services.auth.settings import AuthSettings, get_auth_settings


def main(argv: Sequence[str], settings: AuthSettings | None = None) -> int:
    settings = settings or get_auth_settings()
    parser = argparse.ArgumentParser(prog="python -m services.auth keys", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the keys, newest (active) first")
    sub.add_parser("rotate", help="add a new active key; older keys keep verifying")
    remove = sub.add_parser("remove", help="retire an old key: tokens it signed stop verifying")
    remove.add_argument("kid")
    args = parser.parse_args(list(argv))

    ring = KeyRing.open(settings.signing_key_dir)
    if args.command == "rotate":
        key = ring.rotate()
        print(f"new active key {key.kid}")
    elif args.command == "remove":
        if ring.get(args.kid) is None:
            print(f"no key {args.kid!r} in {settings.signing_key_dir}", file=sys.stderr)
            return 1
        try:
            ring.remove(args.kid)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(f"removed key {args.kid}")
    active = ring.active().kid
    for key in ring.all():
        print(f"{key.kid}\t{key.created_at.isoformat()}\t{'active' if key.kid == active else 'verify-only'}")
    return 0
