"""The auth service process: gRPC on the port of SWARMCAST_AUTH_ADDR (50051), schema `auth`.

`build()` wires the pieces onto the shared bootstrap (`services.common.grpc_server`): health,
reflection, the standard interceptors (request logging, identity, error capture), the database
and the event bus come from `ServiceRuntime`; on top of that auth opens

- the Ed25519 key ring in `SWARMCAST_SIGNING_KEY_DIR` (a first key is created on first start),
- the use cases (`service.AuthService`) and their gRPC mapping (`servicer.AuthServicer`),
- the mail sender: a durable consumer of `auth.email.requested` running in this process,
- a maintenance loop: expired rate-limit windows and refresh tokens, the event outbox, key re-read.

Identity inside auth: the shared interceptor verifies bearer tokens with `servicer.TokenChecker`
(a full Authenticate against the local key ring and the database), not through GetSigningKeys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.auth.keys import KeyRing
from services.auth.mail import Mailer
from services.auth.mail_sender import MailSender
from services.auth.passwords import PasswordHasher
from services.auth.ratelimit import Limits, RateLimiter, parse_networks
from services.auth.service import AuthService
from services.auth.servicer import SERVICE_NAME, AuthServicer, TokenChecker, add_to_server
from services.auth.settings import AuthSettings
from services.auth.tokens import AccessTokenCodec
from services.common.config import Settings
from services.common.grpc_server import GrpcServer, ServiceRuntime, ServiceSpec, run_service

log = logging.getLogger("swarmcast.auth")


async def build(settings: Settings, auth_settings: AuthSettings | None = None) -> ServiceSpec:
    auth_settings = auth_settings or AuthSettings()
    runtime = ServiceRuntime(settings, "auth", database=True)
    trusted = parse_networks(auth_settings.trusted_proxies)
    holder: dict[str, AuthService] = {}

    def current() -> AuthService:
        return holder["service"]

    servicer = AuthServicer(current, trusted)
    tasks: list[asyncio.Task[None]] = []

    async def maintain(service: AuthService) -> None:
        while True:
            await asyncio.sleep(auth_settings.maintenance_interval_seconds)
            try:
                await asyncio.to_thread(service.keys.reload_if_changed)  # rotations made elsewhere
                await service.maintenance()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("auth maintenance failed; retrying next round")

    async def on_start(server: GrpcServer) -> None:
        await runtime.start()
        assert runtime.sessions is not None and runtime.bus is not None
        ring = await asyncio.to_thread(KeyRing.open, settings.signing_key_dir)
        hasher = PasswordHasher(settings.bcrypt_rounds)
        await hasher.warm_up()  # the dummy hash for unknown-email logins, before the first one
        service = AuthService(
            sessions=runtime.sessions,
            hasher=hasher,
            codec=AccessTokenCodec(
                ring,
                issuer=settings.token_issuer,
                audience=settings.token_audience,
                ttl_seconds=settings.access_token_ttl_seconds,
            ),
            limiter=RateLimiter(runtime.sessions),
            limits=Limits.from_settings(auth_settings),
            mailer=Mailer(runtime.bus, public_url=settings.public_url),
            events=runtime.bus,
            refresh_ttl_seconds=settings.refresh_token_ttl_seconds,
            operator_emails=settings.operator_email_set,
        )
        holder["service"] = service
        server.state["auth"] = service
        smtp = settings.smtp_url.get_secret_value() if settings.smtp_url else None
        sender = MailSender(outbox_dir=settings.mail_outbox_dir, smtp_url=smtp)
        await sender.start(runtime.bus, durable=auth_settings.mail_consumer)
        # Events a crashed predecessor left in the outbox go out now, not a minute from now.
        await service.relay_outbox()
        tasks.append(asyncio.create_task(maintain(service), name="auth-maintenance"))
        log.info(
            "auth ready",
            extra={"signing_kid": ring.active().kid, "mail_mode": sender.mode, "keys": len(ring.all())},
        )

    async def on_stop(server: GrpcServer) -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if "service" in holder:
            await holder["service"].drain()
        await runtime.close()

    return ServiceSpec(
        name="auth",
        service_names=(SERVICE_NAME,),
        add_servicers=lambda server: add_to_server(servicer, server),
        listen_addr=settings.listen_addr(settings.auth_addr),
        on_start=on_start,
        on_stop=on_stop,
        # Auth checks tokens itself (key ring + database), not through GetSigningKeys to itself.
        interceptors=runtime.interceptors(keys=TokenChecker(current)),
    )


def main() -> None:
    run_service("auth", build)


if __name__ == "__main__":
    main()
