"""Aborting an RPC with a canonical status code and a message a person can act on.

Every helper raises (through `context.abort`), so handlers can write `await abort_not_found(...)`
as the last statement of a branch. Where a client can use structure, the status also carries
`google.rpc.Status` details (grpcio-status): field violations for INVALID_ARGUMENT, RetryInfo for
RESOURCE_EXHAUSTED (which also sets the plain `retry-after` trailing metadata, in seconds).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

RETRY_AFTER_METADATA = "retry-after"
M = TypeVar("M", bound=Message)
FieldViolations = Mapping[str, str] | Iterable[tuple[str, str]]


async def abort(
    context: grpc.aio.ServicerContext,
    code: grpc.StatusCode,
    message: str,
    *,
    details: Iterable[object] = (),
    trailing_metadata: Iterable[tuple[str, str | bytes]] = (),
) -> NoReturn:
    """Ends the RPC with `code` and `message`, packing any protobuf `details` as google.rpc.Status."""
    metadata = list(trailing_metadata)
    packed = []
    for detail in details:
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)  # type: ignore[arg-type]
        packed.append(any_msg)
    if packed:
        status = status_pb2.Status(code=code.value[0], message=message, details=packed)
        metadata.extend(rpc_status.to_status(status).trailing_metadata)
    await context.abort(code, message, trailing_metadata=tuple(metadata))
    raise AssertionError("context.abort returned")  # unreachable: abort raises


def _violations(fields: FieldViolations | None) -> list[error_details_pb2.BadRequest.FieldViolation]:
    if not fields:
        return []
    items = fields.items() if isinstance(fields, Mapping) else fields
    return [error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in items]


async def abort_invalid(
    context: grpc.aio.ServicerContext, message: str, *, fields: FieldViolations | None = None
) -> NoReturn:
    """INVALID_ARGUMENT; `fields` (field → what is wrong) become BadRequest field violations."""
    violations = _violations(fields)
    details = [error_details_pb2.BadRequest(field_violations=violations)] if violations else []
    await abort(context, grpc.StatusCode.INVALID_ARGUMENT, message, details=details)


async def abort_unauthenticated(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    await abort(context, grpc.StatusCode.UNAUTHENTICATED, message)


async def abort_permission_denied(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    await abort(context, grpc.StatusCode.PERMISSION_DENIED, message)


async def abort_not_found(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    await abort(context, grpc.StatusCode.NOT_FOUND, message)


async def abort_already_exists(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    await abort(context, grpc.StatusCode.ALREADY_EXISTS, message)


async def abort_failed_precondition(
    context: grpc.aio.ServicerContext, message: str, *, violations: FieldViolations | None = None
) -> NoReturn:
    """FAILED_PRECONDITION; `violations` (subject → description) become PreconditionFailure details."""
    details = []
    if violations:
        items = violations.items() if isinstance(violations, Mapping) else violations
        details.append(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(type="STATE", subject=s, description=d)
                    for s, d in items
                ]
            )
        )
    await abort(context, grpc.StatusCode.FAILED_PRECONDITION, message, details=details)


async def abort_resource_exhausted(
    context: grpc.aio.ServicerContext, message: str, *, retry_after_seconds: float | None = None
) -> NoReturn:
    """RESOURCE_EXHAUSTED; with `retry_after_seconds`, a RetryInfo detail and `retry-after` metadata."""
    details = []
    metadata: list[tuple[str, str | bytes]] = []
    if retry_after_seconds is not None:
        seconds = max(0.0, retry_after_seconds)
        whole = int(seconds)
        delay = duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
        # Whole seconds, rounded up, like HTTP's Retry-After; the gateway passes it through.
        metadata.append((RETRY_AFTER_METADATA, str(math.ceil(seconds))))
    await abort(
        context, grpc.StatusCode.RESOURCE_EXHAUSTED, message, details=details, trailing_metadata=metadata
    )


async def abort_unavailable(context: grpc.aio.ServicerContext, message: str) -> NoReturn:
    await abort(context, grpc.StatusCode.UNAVAILABLE, message)


def _details(error: grpc.aio.AioRpcError | grpc.RpcError) -> list[any_pb2.Any]:
    metadata = error.trailing_metadata() or ()  # type: ignore[attr-defined]
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


def status_detail(error: grpc.aio.AioRpcError | grpc.RpcError, message_type: type[M]) -> M | None:
    """Client side: the first status detail of ``message_type`` a failed call carries, or None."""
    for any_msg in _details(error):
        found = message_type()
        if any_msg.Unpack(found):
            return found
    return None
