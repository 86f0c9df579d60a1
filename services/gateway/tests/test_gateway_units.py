"""Pure pieces of the gateway: client address, gRPC → HTTP mapping, proto → JSON, request models."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from pydantic import ValidationError
from swarmcast.jobs.v1 import jobs_pb2

from services.common.clientip import client_address, parse_networks
from services.gateway.convert import enum_name, enum_number, message_to_json, model_for
from services.gateway.errors import GRPC_TO_HTTP, from_rpc_error
from services.gateway.models import DraftBody, JobBody
from services.gateway.settings import GatewaySettings

LOOPBACK = parse_networks("127.0.0.1/32,::1/128")
PROXIES = parse_networks("10.0.0.0/8")

# --- client address ----------------------------------------------------------------------------


def test_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    assert client_address("203.0.113.9", ["1.2.3.4"], LOOPBACK) == "203.0.113.9"
    assert client_address("203.0.113.9", ["1.2.3.4"], ()) == "203.0.113.9"


def test_trusted_proxy_names_the_client() -> None:
    assert client_address("127.0.0.1", ["198.51.100.7"], LOOPBACK) == "198.51.100.7"


def test_forged_hops_left_of_the_proxy_are_ignored() -> None:
    # The client sent "X-Forwarded-For: 6.6.6.6"; our proxy appended the real address.
    assert client_address("10.0.0.2", ["6.6.6.6, 198.51.100.7"], PROXIES) == "198.51.100.7"


def test_chain_of_trusted_proxies_is_walked() -> None:
    assert client_address("10.0.0.2", ["198.51.100.7, 10.0.0.9"], PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.2", ["198.51.100.7", "10.0.0.9"], PROXIES) == "198.51.100.7"


def test_garbage_in_the_chain_stops_at_the_last_good_hop() -> None:
    assert client_address("10.0.0.2", ["198.51.100.7, not-an-ip"], PROXIES) == "10.0.0.2"
    assert client_address("127.0.0.1", [], LOOPBACK) == "127.0.0.1"


def test_ipv6_and_mapped_addresses() -> None:
    assert client_address("::ffff:203.0.113.9", [], LOOPBACK) == "203.0.113.9"
    assert client_address("::1", ["2001:db8::1"], LOOPBACK) == "2001:db8::1"
    assert client_address(None, [], LOOPBACK) == "unknown"


def test_settings_reject_a_bad_cidr() -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(trusted_proxies="10.0.0.0/33")
    assert GatewaySettings(trusted_proxies="").trusted_networks == ()


# --- gRPC → HTTP --------------------------------------------------------------------------------


def rpc_error(
    code: grpc.StatusCode, details: str = "boom", trailing: tuple[tuple[str, str | bytes], ...] = ()
) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422),
        (grpc.StatusCode.OUT_OF_RANGE, 422),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.FAILED_PRECONDITION, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNKNOWN, 500),
        (grpc.StatusCode.DATA_LOSS, 500),
    ],
)
def test_status_mapping(code: grpc.StatusCode, status: int) -> None:
    error = from_rpc_error(rpc_error(code, "it went wrong"))
    assert error.status == status
    assert error.body()["error"]["code"] == code.name
    assert error.body()["error"]["status"] == status


def test_every_failure_code_is_mapped() -> None:
    assert set(GRPC_TO_HTTP) == set(grpc.StatusCode) - {grpc.StatusCode.OK}


def test_invalid_argument_carries_field_violations() -> None:
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="tier", description="unknown tier")
        ]
    )
    detail = any_pb2.Any()
    detail.Pack(bad)
    status = status_pb2.Status(
        code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message="bad tier", details=[detail]
    )
    trailing = tuple(rpc_status.to_status(status).trailing_metadata)
    error = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "bad tier", trailing))
    assert error.body()["error"]["fields"] == {"tier": "unknown tier"}


def test_a_refused_goal_carries_its_suggested_questions() -> None:
    details = []
    for message in (
        error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field="goal", description="why")]
        ),
        jobs_pb2.GoalSuggestions(suggestions=["Will A pass?", "Will B win?"]),
    ):
        packed = any_pb2.Any()
        packed.Pack(message)
        details.append(packed)
    code = grpc.StatusCode.INVALID_ARGUMENT.value[0]
    status = status_pb2.Status(code=code, message="refused", details=details)
    trailing = tuple(rpc_status.to_status(status).trailing_metadata)
    body = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "refused", trailing)).body()["error"]
    assert body["fields"] == {"goal": "why"} and body["suggestions"] == ["Will A pass?", "Will B win?"]
    # Other refusals carry no suggestions key at all.
    assert "suggestions" not in from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT)).body()["error"]


def test_resource_exhausted_sets_retry_after() -> None:
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", (("retry-after", "17"),))
    )
    assert error.headers["Retry-After"] == "17"
    assert "Retry-After" not in from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED)).headers


def test_unauthenticated_asks_for_a_bearer_token() -> None:
    assert from_rpc_error(rpc_error(grpc.StatusCode.UNAUTHENTICATED)).headers["WWW-Authenticate"] == "Bearer"


def test_unavailable_hides_transport_details() -> None:
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; ipv4:...")
    )
    assert "ipv4" not in error.message
    assert error.headers["Retry-After"] == "1"


def test_upstream_internal_error_keeps_its_error_id() -> None:
    error = from_rpc_error(
        rpc_error(
            grpc.StatusCode.INTERNAL, "internal error (error id 0123456789abcdef); it has been reported"
        )
    )
    assert error.error_id == "0123456789abcdef"


# --- proto → JSON ---------------------------------------------------------------------------------


def test_job_json_uses_column_names_and_plain_values() -> None:
    job = jobs_pb2.Job(id=2**40, user_id="7", seed_text="s", status=jobs_pb2.JOB_STATUS_COMPLETED, goal="g")
    job.created_at.FromDatetime(dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    job.live_status.update({"round": 3, "prices": {"m1": 0.5}})
    data = message_to_json(job)
    assert data["id"] == 2**40  # a number, not MessageToDict's string
    assert data["status"] == "COMPLETED"
    assert data["goal"] == "g"
    assert data["tier"] is None  # unset optional column → null, so every job has every key
    assert data["completed_at"] is None
    assert data["created_at"] == "2025-01-02T03:04:05Z"
    assert data["live_status"] == {"round": 3, "prices": {"m1": 0.5}}
    assert data["credits_charged"] == 0
    assert set(data) == {f.name for f in jobs_pb2.Job.DESCRIPTOR.fields}
    model_for(jobs_pb2.Job.DESCRIPTOR).model_validate(data)  # the documented schema accepts it


def test_enum_names_round_trip() -> None:
    enum = jobs_pb2.JobStatus.DESCRIPTOR
    assert enum_name(enum, jobs_pb2.JOB_STATUS_RUNNING) == "RUNNING"
    assert enum_number(enum, "running") == jobs_pb2.JOB_STATUS_RUNNING
    assert enum_number(enum, "JOB_STATUS_FAILED") == jobs_pb2.JOB_STATUS_FAILED
    with pytest.raises(KeyError):
        enum_number(enum, "NOPE")


# --- request models -------------------------------------------------------------------------------


def test_text_that_protobuf_cannot_encode_is_rejected() -> None:
    with pytest.raises(ValidationError):
        JobBody(seed_text="a\ud800b", goal="g", tier="small")


def test_bounds_and_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        JobBody(seed_text="s", goal="g", tier="small", forecast_days=366)
    with pytest.raises(ValidationError):
        JobBody.model_validate({"seed_text": "s", "goal": "g", "tier": "small", "colour": "red"})
    assert DraftBody().model_dump(exclude_none=True) == {}
