"""The auth service process: gRPC on the port of SWARMCAST_AUTH_ADDR (50051), schema `auth`.

`build()` wires the pieces onto the shared bootstrap (`services.common.grpc_server`): health,
reflection, the standard interceptors (request logging, identity, error capture), the database
and the event bus come from `ServiceRuntime`; on top of that auth opens

- the Ed25519 key ring in `SWARMCAST_SIGNING_KEY_DIR` (a first key is created on first start),
- the use cases (`service.AuthService`) and their gRPC mapping (`servicer.AuthServicer`),
- the mail sender: a durable consumer of `auth.email.requested` running in this process,
- a maintenance task (`services.common.periodic`): expired rate-limit windows and refresh tokens,
  the event outbox (`services.common.outbox`; rows are deleted once published), key re-read.

Identity inside auth: the shared interceptor verifies bearer tokens with `servicer.TokenChecker`
(a full Authenticate against the local key ring and the database), not through GetSigningKeys.
"""

from __future__ import annotations

import asyncio
import logging

from swarmcast.auth.v1 import auth_pb2_grpc

from services.auth.handlers import MailSender
from services.auth.keys import KeyRing
from services.auth.mail import Mailer
from services.auth.mailseal import MailSeal
from services.auth.passwords import PasswordHasher
from services.auth.ratelimit import Limits, RateLimiter
from services.auth.service import AuthService
from services.auth.servicer import (
    SERVICE_NAME,
    AuthServicer,
    GatewayCheck,
    TokenChecker,
    dependency_unavailable,
)
from services.auth.settings import AuthSettings, get_auth_settings
from services.auth.token_models import OutboxEvent
from services.auth.tokens import AccessTokenCodec
from services.common.config import Settings
from services.common.grpc_server import GrpcServer, ServiceRuntime, ServiceSpec, run_service
from services.common.outbox import OutboxRelay
from services.common.periodic import PeriodicTask

log = logging.getLogger("swarmcast.auth")


async def build(settings: Settings, auth_settings: AuthSettings | None = None) -> ServiceSpec:
    auth_settings = auth_settings or get_auth_settings()
    runtime = ServiceRuntime(settings, "auth", database=True)
    holder: dict[str, AuthService] = {}

    def current() -> AuthService:
        return holder["service"]

    forward_secret = auth_settings.gateway_forward_secret
    gateway = GatewayCheck(
        secret=forward_secret.get_secret_value() if forward_secret else "",
        identities=auth_settings.gateway_identity_set,
    )
    servicer = AuthServicer(current, gateway)

    async def maintain() -> None:
        service = current()
        await asyncio.to_thread(service.keys.reload_if_changed)  # rotations made elsewhere
        await service.maintenance()

    # The first round one interval after start-up (start-up itself relays the outbox).
    interval = auth_settings.maintenance_interval_seconds
    maintenance = PeriodicTask("auth maintenance", interval, maintain, initial_delay=interval)

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.sessions is not None and runtime.bus is not None
        ring = await asyncio.to_thread(KeyRing.open, auth_settings.signing_key_dir)
        mail_key = auth_settings.mail_key.get_secret_value() if auth_settings.mail_key else None
        seal = await asyncio.to_thread(
            MailSeal.load, key_text=mail_key, key_dir=auth_settings.signing_key_dir
        )
        hasher = PasswordHasher(
            auth_settings.bcrypt_rounds,
            auth_settings.hash_concurrency or None,
            max_waiting=auth_settings.hash_queue_limit,
            max_wait_seconds=auth_settings.hash_queue_timeout_seconds,
        )
        await hasher.warm_up()  # the dummy hash for unknown-email logins, before the first one
        service = AuthService(
            sessions=runtime.sessions,
            hasher=hasher,
            codec=AccessTokenCodec(
                ring,
                issuer=settings.token_issuer,
                audience=settings.token_audience,
                ttl_seconds=auth_settings.access_token_ttl_seconds,
            ),
            limiter=RateLimiter(runtime.sessions),
            limits=Limits.from_settings(auth_settings),
            mailer=Mailer(runtime.bus, public_url=settings.public_url, seal=seal),
            # Auth's own maintenance sweeps the outbox; the relay's loop is not started.
            outbox_relay=OutboxRelay(runtime.sessions, runtime.bus, OutboxEvent, keep_published=False),
            refresh_ttl_seconds=auth_settings.refresh_token_ttl_seconds,
            operator_emails=auth_settings.operator_email_set,
            verification_ttl_seconds=auth_settings.verification_token_ttl_seconds,
        )
        holder["service"] = service
        server.state["auth"] = service
        smtp = auth_settings.smtp_url.get_secret_value() if auth_settings.smtp_url else None
        sender = MailSender(outbox_dir=auth_settings.mail_outbox_dir, smtp_url=smtp, seal=seal)
        await sender.start(runtime.bus, durable=auth_settings.mail_consumer)
        # Events a crashed predecessor left in the outbox go out now, not a minute from now.
        await service.outbox_relay.flush()
        maintenance.start()
        log.info(
            "auth ready",
            extra={"signing_kid": ring.active().kid, "mail_mode": sender.mode, "keys": len(ring.all())},
        )

    async def on_stop(server: GrpcServer) -> None:
        await maintenance.stop()
        if "service" in holder:
            await holder["service"].drain()
        await runtime.close()

    return ServiceSpec(
        name="auth",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.auth_addr),
        on_start=on_start,
        on_stop=on_stop,
        # Auth checks tokens itself (key ring + database), not through GetSigningKeys to itself.
        interceptors=runtime.interceptors(keys=TokenChecker(current)),
        translate_error=dependency_unavailable,
        dependencies=runtime.dependencies,
    )


def main() -> None:
    run_service("auth", build)


if __name__ == "__main__":
    main()
