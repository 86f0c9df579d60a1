"""What every route needs: the caller (bearer token, real client address) and one gRPC call helper."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import grpc
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.common.clientip import FORWARDED_FOR, client_address
from services.common.clients import ServiceClients
from services.gateway.errors import ApiError, from_rpc_error
from services.gateway.settings import GatewaySettings

R = TypeVar("R")

# A JWT is base64url segments and dots; anything else cannot be a token of ours, and non-ASCII
# would not even fit in gRPC metadata.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9._~+/=-]{1,8192}")

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <access_token>` from login")


@dataclass(frozen=True)
class Caller:
    """The HTTP caller, as the gRPC services should see it."""

    client_ip: str
    token: str | None = None

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        md = [(FORWARDED_FOR, self.client_ip)]
        if self.token:
            md.append(("authorization", f"Bearer {self.token}"))
        return tuple(md)


def gateway_settings(request: Request) -> GatewaySettings:
    return request.app.state.gateway_settings


def clients(request: Request) -> ServiceClients:
    return request.app.state.clients


def request_client_ip(request: Request) -> str:
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.getlist(FORWARDED_FOR), gateway_settings(request).trusted_networks
    )


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message, headers={"WWW-Authenticate": "Bearer"})


def anonymous_caller(request: Request) -> Caller:
    return Caller(client_ip=request_client_ip(request))


def signed_in_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None:
        raise _unauthenticated("sign in required: send `Authorization: Bearer <access_token>`")
    token = credentials.credentials.strip()
    if not _TOKEN_SHAPE.fullmatch(token):
        raise _unauthenticated("invalid access token")
    return Caller(client_ip=request_client_ip(request), token=token)


Anonymous = Annotated[Caller, Depends(anonymous_caller)]
SignedIn = Annotated[Caller, Depends(signed_in_caller)]
Clients = Annotated[ServiceClients, Depends(clients)]


async def rpc(
    method: Callable[..., Awaitable[R]],
    message: Any,
    caller: Caller,
    request: Request,
) -> R:
    """Calls a unary RPC as `caller` (within the gateway's deadline); failures become ApiErrors."""
    seconds = gateway_settings(request).gateway_rpc_timeout_seconds
    try:
        return await method(message, metadata=caller.metadata, timeout=seconds)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from None
