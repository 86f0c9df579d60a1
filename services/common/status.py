"""gRPC status with structured details: ending an RPC with a domain error, reading details back.

Server side, `abort_with_error` (called by the shared `DomainErrorInterceptor`) ends the RPC with
the error's canonical code and message and packs its `status_details()` as google.rpc.Status
details (grpcio-status); a RESOURCE_EXHAUSTED with a retry delay also sets the plain `retry-after`
trailing metadata, in whole seconds, which the gateway passes through as HTTP's Retry-After.
Client side, `field_violations` and `status_detail` read those details from a failed call.
"""

from __future__ import annotations

import math
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.errors import DomainError, ResourceExhausted

RETRY_AFTER_METADATA = "retry-after"
M = TypeVar("M", bound=Message)


async def abort_with_error(context: grpc.aio.ServicerContext, error: DomainError) -> NoReturn:
    """Ends the RPC with `error`'s code and message, and its details as google.rpc.Status."""
    metadata: list[tuple[str, str | bytes]] = []
    if isinstance(error, ResourceExhausted) and error.retry_after_seconds is not None:
        # Whole seconds, rounded up, like HTTP's Retry-After.
        metadata.append((RETRY_AFTER_METADATA, str(math.ceil(max(0.0, error.retry_after_seconds)))))
    packed = []
    for detail in error.status_details():
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)
        packed.append(any_msg)
    if packed:
        status = status_pb2.Status(code=error.code.value[0], message=error.message, details=packed)
        metadata.extend(rpc_status.to_status(status).trailing_metadata)
    await context.abort(error.code, error.message, trailing_metadata=tuple(metadata))
    raise AssertionError("context.abort returned")  # unreachable: abort raises


def _details(error: grpc.aio.AioRpcError | grpc.RpcError) -> list[any_pb2.Any]:
    metadata = error.trailing_metadata() or ()
    for key, value in metadata:
        if key == rpc_status.GRPC_DETAILS_METADATA_KEY:
            return list(status_pb2.Status.FromString(value).details)
    return []


def field_violations(error: grpc.aio.AioRpcError | grpc.RpcError) -> dict[str, str]:
    """Client side: the BadRequest field violations carried by a failed call (empty if none)."""
    out: dict[str, str] = {}
    for any_msg in _details(error):
        bad = error_details_pb2.BadRequest()
        if any_msg.Unpack(bad):
            out.update({v.field: v.description for v in bad.field_violations})
    return out


def retry_delay(error: grpc.aio.AioRpcError | grpc.RpcError) -> float | None:
    """Client side: how long a refused call (RESOURCE_EXHAUSTED) asks to wait, from its RetryInfo
    detail; None when it names no delay."""
    info = status_detail(error, error_details_pb2.RetryInfo)
    if info is None or not info.HasField("retry_delay"):
        return None
    return max(0.0, info.retry_delay.ToTimedelta().total_seconds())


def status_detail(error: grpc.aio.AioRpcError | grpc.RpcError, message_type: type[M]) -> M | None:
    """Client side: the first status detail of ``message_type`` a failed call carries, or None."""
    for any_msg in _details(error):
        found = message_type()
        if any_msg.Unpack(found):
            return found
    return None
