"""The gateway's proof, on its calls to auth, that the client address it forwards is believable.

auth believes `x-forwarded-for` metadata only from the gateway (services/common/clientip.py): a
mutual-TLS client certificate naming it, or — on plaintext stacks — the shared secret
`SWARMCAST_GATEWAY_FORWARD_SECRET` in `x-swarmcast-forward-secret` metadata. The secret is added by
a client interceptor on the auth channel only, so it never reaches the other services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from pydantic import SecretStr
from swarmcast.auth.v1 import auth_pb2_grpc

from services.common.clientip import FORWARD_SECRET
from services.common.clients import ServiceClients, auth_stub, channel
from services.common.config import Settings


class ForwardSecretInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds the forward secret to every unary call on its channel."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        metadata = grpc.aio.Metadata(*(client_call_details.metadata or ()))
        metadata.add(FORWARD_SECRET, self._secret)
        details = grpc.aio.ClientCallDetails(
            client_call_details.method,
            client_call_details.timeout,
            metadata,
            client_call_details.credentials,
            client_call_details.wait_for_ready,
        )
        return await continuation(details, request)


class ForwardingClients(ServiceClients):
    """`ServiceClients` whose auth channel carries the forward secret (when one is configured)."""

    def __init__(self, settings: Settings, secret: SecretStr | None) -> None:
        super().__init__(settings)
        self._secret = secret.get_secret_value() if secret else ""
        self._auth: grpc.aio.Channel | None = None

    @property
    def auth(self) -> auth_pb2_grpc.AuthServiceStub:
        if not self._secret:
            return super().auth
        if self._auth is None:
            self._auth = channel(
                self.settings.auth_addr, self.settings, interceptors=[ForwardSecretInterceptor(self._secret)]
            )
        return auth_stub(self._auth)

    async def close(self) -> None:
        auth, self._auth = self._auth, None
        if auth is not None:
            await auth.close()
        await super().close()
