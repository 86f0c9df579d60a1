"""Who may do what on the event bus: per-service NATS users and the server config that enforces it.

Each service connects as its own NATS user (`SWARMCAST_NATS_USER` / `SWARMCAST_NATS_PASSWORD`).
`ROLES` says, from the subject constants of `subjects.py` (so permissions cannot drift from the
subjects), what each service publishes, which subjects it consumes through durable consumers and
which streams it reads single messages from. `authorization_block` turns that into a nats-server
`authorization { users: [...] }` block where a user may:

- publish its own subjects, and create/inspect only the streams it touches (update: only the
  streams it owns, so nobody else can re-point a stream, e.g. add a republish to its own inbox);
- create consumers on a stream only with its own filter subject (the new-style
  `$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>` API), pull from and ack them;
- receive replies only on its own inbox prefix `_INBOX_<user>` (the bus sets it), so no service
  can read the pull deliveries or acks another service receives;
- nothing else. Anonymous connections are refused (every user has a password).

An `admin` user (everything) is for operators, tests and stream teardown, never for a service.

CLI: `python -m services.common.nats_auth --password-env` prints the block with `$NATS_<USER>_PASSWORD`
references (the nats-server substitutes environment variables; deploy/ holds its output);
`--listen`/`--store-dir`/`--passwords FILE` write a complete config for a local server.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.common import subjects
from services.common.subjects import StreamDef, stream_for

ADMIN_USER = "admin"


@dataclass(frozen=True)
class Consume:
    """A durable consumer a service runs: its filter subject and the durable names it may use."""

    subject: str
    # Exact durable names, or ("*",) where the name is per instance or configurable.
    durables: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class Role:
    """What one service does on the bus (logical subjects, without the prefix)."""

    publishes: tuple[str, ...]
    consumes: tuple[Consume, ...] = ()
    # Streams it reads single messages from by sequence or last-by-subject (STREAM.MSG.GET).
    reads: tuple[StreamDef, ...] = ()
    # Subjects it follows through an ordered (ephemeral, unacked) consumer: the token-cutoff
    # replay (services/common/revocation.py). The client names no consumer nor filter in the
    # create request, so this allows ephemeral consumers on the whole stream (see docs/security.md).
    watches: tuple[str, ...] = ()
    # Streams it deletes single messages from (STREAM.MSG.DELETE) or purges by subject.
    deletes: tuple[StreamDef, ...] = ()
    purges: tuple[StreamDef, ...] = ()
    # Core NATS subjects (no stream) it both publishes and subscribes, e.g. jobs' watch fan-out.
    core: tuple[str, ...] = ()
    # Streams it creates and keeps at their definition (STREAM.UPDATE); others only create/inspect.
    owns: tuple[StreamDef, ...] = ()

    def touches(self) -> tuple[StreamDef, ...]:
        """Every stream this role publishes to, consumes from or reads, in `subjects.STREAMS` order."""
        used = {stream_for(s).name for s in self.publishes}
        used |= {stream_for(c.subject).name for c in self.consumes}
        used |= {stream_for(s).name for s in self.watches}
        used |= {s.name for s in (*self.reads, *self.owns, *self.deletes, *self.purges)}
        return tuple(s for s in subjects.STREAMS if s.name in used)


# Every gRPC service (services/common/grpc_server.py) follows the token cutoffs auth publishes.
_GRPC_WATCHES = (subjects.TOKEN_CUTOFF_ALL,)

ROLES: dict[str, Role] = {
    "auth": Role(
        publishes=(
            subjects.EMAIL_REQUESTED,
            subjects.USER_DELETED,
            subjects.TOKEN_CUTOFF_ALL,
            subjects.ERRORS_CAPTURED,
        ),
        # The mail sender's durable name is a setting (SWARMCAST_AUTH_MAIL_CONSUMER).
        consumes=(Consume(subjects.EMAIL_REQUESTED),),
        watches=_GRPC_WATCHES,
        owns=(subjects.AUTH,),
    ),
    "jobs": Role(
        publishes=(subjects.DISPATCH_ALL, subjects.CANCEL_ALL, subjects.ERRORS_CAPTURED),
        consumes=(
            Consume(subjects.RUNNER_PROGRESS_ALL, ("jobs-runner-progress",)),
            Consume(subjects.RUNNER_COMPLETED_ALL, ("jobs-runner-completed",)),
            Consume(subjects.RUNNER_FAILED_ALL, ("jobs-runner-failed",)),
            Consume(subjects.REPORTER_COMPLETED_ALL, ("jobs-reporter-completed",)),
            Consume(subjects.REPORTER_FAILED_ALL, ("jobs-reporter-failed",)),
            Consume(subjects.ERRORS_CAPTURED, ("jobs-errors-captured",)),
            Consume(subjects.USER_DELETED, ("jobs-user-deleted",)),
        ),
        # The stale-job detector checks whether a dispatch is still queued; a deleted user's purge
        # (services/jobs/purge.py) checks for an outcome, unqueues dispatches, purges job events.
        reads=(subjects.JOBS_DISPATCH, subjects.RUNNER),
        watches=_GRPC_WATCHES,
        deletes=(subjects.JOBS_DISPATCH,),
        purges=(subjects.RUNNER, subjects.REPORTER),
        # Interviews: it asks the tier's runners and reads their replies (core NATS).
        core=("jobs.changed.*", subjects.INTERVIEW_REQUEST_ALL, subjects.INTERVIEW_REPLY_ALL),
        owns=(subjects.JOBS_DISPATCH, subjects.JOBS_CONTROL, subjects.ERRORS),
    ),
    "gpu_runner": Role(
        publishes=(
            subjects.RUNNER_PROGRESS_ALL,
            subjects.RUNNER_COMPLETED_ALL,
            subjects.RUNNER_FAILED_ALL,
            subjects.ERRORS_CAPTURED,
        ),
        # runner-<tier> per tier, runner-cancel-<instance> per process.
        consumes=(Consume(subjects.DISPATCH_ALL), Consume(subjects.CANCEL_ALL)),
        # A dispatch checks for a cancel that came first (last message on jobs.cancel.<id>).
        reads=(subjects.JOBS_CONTROL,),
        watches=_GRPC_WATCHES,
        # Interviews: it takes requests of its tiers and publishes the answers (core NATS).
        core=(subjects.INTERVIEW_REQUEST_ALL, subjects.INTERVIEW_REPLY_ALL),
        owns=(subjects.RUNNER,),
    ),
    "reporter": Role(
        publishes=(subjects.REPORTER_COMPLETED_ALL, subjects.REPORTER_FAILED_ALL, subjects.ERRORS_CAPTURED),
        consumes=(Consume(subjects.RUNNER_COMPLETED_ALL, ("reporter-runner-completed",)),),
        watches=_GRPC_WATCHES,
        owns=(subjects.REPORTER,),
    ),
    # The gateway only reports its unhandled errors.
    "gateway": Role(publishes=(subjects.ERRORS_CAPTURED,)),
}

SERVICE_USERS: tuple[str, ...] = tuple(ROLES)


def inbox_prefix(user: str) -> str:
    """The reply-subject prefix of `user`'s connection (its replies are private to it)."""
    return f"_INBOX_{user}"


def _wire(prefix: str, logical: str) -> str:
    return f"{prefix}.{logical}" if prefix else logical


def _stream(prefix: str, stream: StreamDef) -> str:
    return f"{prefix}_{stream.name}" if prefix else stream.name


def permissions(user: str, prefix: str = "") -> dict[str, dict[str, list[str]]]:
    """The nats-server permissions of service `user` for subject/stream prefix `prefix`."""
    role = ROLES[user]
    api = "$JS.API"
    pub: list[str] = [_wire(prefix, s) for s in (*role.publishes, *role.core)]
    pub.append(f"{api}.INFO")  # account info: the /health dependency check
    for stream in role.touches():
        name = _stream(prefix, stream)
        pub += [f"{api}.STREAM.CREATE.{name}", f"{api}.STREAM.INFO.{name}"]
    pub += [f"{api}.STREAM.UPDATE.{_stream(prefix, s)}" for s in role.owns]
    pub += [f"{api}.STREAM.MSG.GET.{_stream(prefix, s)}" for s in role.reads]
    pub += [f"{api}.STREAM.MSG.DELETE.{_stream(prefix, s)}" for s in role.deletes]
    pub += [f"{api}.STREAM.PURGE.{_stream(prefix, s)}" for s in role.purges]
    for watched in role.watches:
        name = _stream(prefix, stream_for(watched))
        pub += [
            f"{api}.CONSUMER.CREATE.{name}",  # ephemeral, unnamed: all the client sends
            f"{api}.CONSUMER.CREATE.{name}.*.{_wire(prefix, watched)}",
            f"{api}.CONSUMER.INFO.{name}.*",
            f"$JS.FC.{name}.>",  # flow-control replies of the push consumer
        ]
    for consume in role.consumes:
        name = _stream(prefix, stream_for(consume.subject))
        for durable in consume.durables:
            pub += [
                # Only with this filter subject: no consumer over the rest of a shared stream.
                f"{api}.CONSUMER.CREATE.{name}.{durable}.{_wire(prefix, consume.subject)}",
                f"{api}.CONSUMER.INFO.{name}.{durable}",
                f"{api}.CONSUMER.MSG.NEXT.{name}.{durable}",
                f"$JS.ACK.{name}.{durable}.>",
            ]
    sub = [f"{inbox_prefix(user)}.>", *(_wire(prefix, s) for s in role.core)]
    return {"publish": {"allow": _unique(pub)}, "subscribe": {"allow": _unique(sub)}}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class EnvRef:
    """A password the nats-server reads from its environment (`$NAME`, unquoted in the config)."""

    name: str


def password_env(user: str) -> str:
    """The nats-server's environment variable holding `user`'s password in deploy/ configs."""
    return f"NATS_{user.upper()}_PASSWORD"


def _value(value: str | EnvRef) -> str:
    return f"${value.name}" if isinstance(value, EnvRef) else json.dumps(value)


def authorization_block(passwords: Mapping[str, str | EnvRef], prefix: str = "") -> str:
    """The `authorization { users: [...] }` block for the users in `passwords` (services + admin)."""
    unknown = set(passwords) - {*ROLES, ADMIN_USER}
    if unknown:
        raise ValueError(f"unknown NATS users: {sorted(unknown)}")
    lines = ["authorization {", "  users: ["]
    for user, password in passwords.items():
        if user == ADMIN_USER:
            perms = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
        else:
            perms = permissions(user, prefix)
        lines += ["    {", f"      user: {json.dumps(user)}", f"      password: {_value(password)}"]
        lines.append("      permissions: {")
        for kind in ("publish", "subscribe"):
            allow = perms[kind]["allow"]
            lines.append(f"        {kind}: {{allow: [")
            lines += [
                f"          {json.dumps(subject)}" + ("," if i < len(allow) - 1 else "")
                for i, subject in enumerate(allow)
            ]
            lines.append("        ]}")
        lines += ["      }", "    }"]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def server_config(
    passwords: Mapping[str, str | EnvRef],
    *,
    prefix: str = "",
    listen: str | None = None,
    store_dir: Path | None = None,
    http: str | None = None,
) -> str:
    """A whole nats-server config: listen address, JetStream store, the authorization block."""
    head: list[str] = []
    if listen:
        head.append(f"listen: {json.dumps(listen)}")
    if http:
        head.append(f"http: {json.dumps(http)}")
    if store_dir is not None:
        head.append(f"jetstream {{ store_dir: {json.dumps(str(store_dir))} }}")
    return "\n".join(head) + ("\n" if head else "") + authorization_block(passwords, prefix)


@dataclass
class Credentials:
    """Generated passwords for every service user and admin (a local stack's or a test's)."""

    passwords: dict[str, str] = field(
        default_factory=lambda: {u: secrets.token_urlsafe(24) for u in (*SERVICE_USERS, ADMIN_USER)}
    )

    def env(self, user: str) -> dict[str, str]:
        """The SWARMCAST_NATS_USER/PASSWORD a process connecting as `user` needs."""
        return {"SWARMCAST_NATS_USER": user, "SWARMCAST_NATS_PASSWORD": self.passwords[user]}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)
        path.write_text(json.dumps(self.passwords, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load_or_create(cls, path: Path) -> Credentials:
        if path.exists():
            stored = json.loads(path.read_text(encoding="utf-8"))
            creds = cls()
            creds.passwords.update({k: v for k, v in stored.items() if k in creds.passwords})
            if creds.passwords != stored:
                creds.save(path)  # a user added since: keep the old passwords, add the new one
            return creds
        creds = cls()
        creds.save(path)
        return creds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.common.nats_auth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--prefix", default="", help="SWARMCAST_NATS_PREFIX of the stack")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--password-env", action="store_true", help="reference $NATS_<USER>_PASSWORD (deploy)"
    )
    source.add_argument("--passwords", type=Path, help="JSON file user -> password (created if absent)")
    parser.add_argument("--listen", help="host:port to listen on (whole config)")
    parser.add_argument("--store-dir", type=Path, help="JetStream store folder (whole config)")
    args = parser.parse_args(argv)
    users = (*SERVICE_USERS, ADMIN_USER)
    passwords: dict[str, str | EnvRef]
    if args.password_env:
        passwords = {u: EnvRef(password_env(u)) for u in users}
    else:
        passwords = dict(Credentials.load_or_create(args.passwords).passwords)
    sys.stdout.write(
        server_config(passwords, prefix=args.prefix, listen=args.listen, store_dir=args.store_dir)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
