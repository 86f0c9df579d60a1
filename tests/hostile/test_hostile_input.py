"""Hostile-input suite (issue 10): fuzzed requests, malformed bytes, oversized messages, odd Unicode.

One private stack for the module (bench/harness.py: own database, NATS prefix, moto_server,
services on free ports, heuristic backend). Every RPC of JobsService and AuthService gets
hypothesis-generated requests (each field from its protobuf type: huge and control-character
strings, NUL, extreme and negative integers, unknown enum values), plus raw bytes that are not a
valid message at all (invalid UTF-8 in string fields, truncated varints). The services must answer
with a deliberate status, never INTERNAL or UNKNOWN, and a rejected request must write nothing
(row counts of auth.users, auth.refresh_tokens, jobs.simulation_jobs, jobs.outbox unchanged).
The HTTP routes are fuzzed by services/gateway/tests/test_gateway_fuzz.py (Schemathesis, OpenAPI-driven).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2

from bench.harness import Infra, PrivateStack, create_request, run_async, wait_terminal
from services.common.clients import MAX_MESSAGE_BYTES
from tests.fixtures.db import asyncpg_dsn
from tests.fixtures.tally import TALLY

pytestmark = [pytest.mark.timeout(600)]

JOBS = jobs_pb2.DESCRIPTOR.services_by_name["JobsService"]
AUTH = auth_pb2.DESCRIPTOR.services_by_name["AuthService"]
FORBIDDEN = (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
COUNTED = ("auth.users", "auth.refresh_tokens", "jobs.simulation_jobs", "jobs.outbox")
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


class Target:
    """The running stack, a blocking channel per service, and a user's credentials."""

    def __init__(self, stack: PrivateStack, infra: Infra) -> None:
        self.stack = stack
        self.infra = infra
        big = [("grpc.max_send_message_length", 64 * 2**20), ("grpc.max_receive_message_length", 64 * 2**20)]
        self.channels = {
            name: grpc.insecure_channel(stack.addr(name), options=big) for name in ("jobs", "auth")
        }
        self.md = run_async(stack.register)
        self.db = psycopg.connect(asyncpg_dsn(infra.database_url), autocommit=True)

    def rows(self) -> dict[str, int]:
        counts = {}
        for table in COUNTED:
            row = self.db.execute(f"SELECT count(*) FROM {table}").fetchone()
            counts[table] = int(row[0]) if row else -1
        return counts

    def call(self, service: str, method: MethodDescriptor, payload: bytes) -> tuple[grpc.StatusCode, str]:
        """Sends raw request bytes; (status code, details)."""
        full = f"/{method.containing_service.full_name}/{method.name}"
        channel = self.channels[service]
        try:
            if method.server_streaming:
                stream = channel.unary_stream(full)(payload, metadata=self.md, timeout=5)
                for _ in stream:
                    break  # the first message is enough: the request was accepted
                stream.cancel()
                return grpc.StatusCode.OK, ""
            channel.unary_unary(full)(payload, metadata=self.md, timeout=30)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as err:
            code = err.code()  # type: ignore[attr-defined]
            if code == grpc.StatusCode.CANCELLED and method.server_streaming:
                return grpc.StatusCode.OK, ""
            return code, err.details() or ""  # type: ignore[attr-defined]

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()
        self.db.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    work = tmp_path_factory.mktemp("hostile")
    with Infra(work / "infra") as infra:
        stack = PrivateStack(infra.env(work / "run"), work / "logs")
        try:
            run_async(lambda: stack.launch("auth", "jobs", "reporter", "gpu_runner"))
            value = Target(stack, infra)
            try:
                yield value
            finally:
                value.close()
        finally:
            stack.stop_all()


# --- strategies from the protobuf descriptors ----------------------------------------------------

NASTY_TEXT = st.one_of(
    st.text(max_size=64),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=512),
    st.sampled_from(["", "\x00", "a\x00b", "\u202e\u200b\ufeff", "../../etc/passwd", "' OR 1=1 --", "%s%n"]),
    st.integers(min_value=10_000, max_value=300_000).map(lambda n: "x" * n),
    st.integers(min_value=1, max_value=20_000).map(lambda n: "\U0001f600\u0301" * n),
)
INT64 = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, -(2**31), 2**63 - 1, -(2**63)]),
)
INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
UINT = st.integers(min_value=0, max_value=2**32 - 1)


def field_strategy(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any] | None:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return NASTY_TEXT
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=256)
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64):
        return INT64
    if kind in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
        return st.integers(min_value=0, max_value=2**64 - 1)
    if kind in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32):
        return INT32
    if kind in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
        return UINT
    if kind == FieldDescriptor.TYPE_ENUM:
        return INT32  # unknown enum numbers included (open enums)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(
            allow_nan=True, allow_infinity=True, width=32 if kind == FieldDescriptor.TYPE_FLOAT else 64
        )
    if kind == FieldDescriptor.TYPE_MESSAGE and depth < 2 and not field.message_type.GetOptions().map_entry:
        return message_strategy(field.message_type, depth + 1).map(lambda m: m.SerializeToString())
    return None


def message_strategy(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.is_repeated:
            continue
        strategy = field_strategy(field, depth)
        if strategy is not None:
            parts[field.name] = st.one_of(st.none(), strategy)

    def build(values: dict[str, Any]) -> Message:
        message = cls()
        for name, value in values.items():
            if value is None:
                continue
            field = descriptor.fields_by_name[name]
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                getattr(message, name).MergeFromString(value)
            else:
                setattr(message, name, value)
        return message

    return st.fixed_dictionaries(parts).map(build)


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def raw_string_fields(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """A request whose string fields carry arbitrary bytes (invalid UTF-8 included)."""
    numbers = [f.number for f in descriptor.fields if f.type == FieldDescriptor.TYPE_STRING] or [1]

    def encode(items: list[tuple[int, bytes]]) -> bytes:
        return b"".join(varint(n << 3 | 2) + varint(len(v)) + v for n, v in items)

    bad = st.one_of(
        st.binary(max_size=64), st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"a\x00\xfe"])
    )
    return st.lists(st.tuples(st.sampled_from(numbers), bad), min_size=1, max_size=4).map(encode)


RAW_GARBAGE = st.one_of(
    st.binary(max_size=512),
    st.sampled_from(
        [b"\x08", b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x0a\xff\xff\xff\x0f", b"\xff" * 16]
    ),
)


# --- the fuzz tests --------------------------------------------------------------------------------


def check(target: Target, service: str, method: MethodDescriptor, payload: bytes) -> None:
    before = target.rows()
    code, details = target.call(service, method, payload)
    TALLY.record_grpc(code.name)
    assert code not in FORBIDDEN, f"{method.name}: {code.name} {details!r} for {payload[:200]!r}"
    if code != grpc.StatusCode.OK:
        assert target.rows() == before, f"{method.name} wrote rows although it answered {code.name}"


JOB_METHODS = [m for m in JOBS.methods]
AUTH_METHODS = [m for m in AUTH.methods]


@pytest.mark.parametrize("method", JOB_METHODS, ids=lambda m: m.name)
def test_fuzzed_jobs_requests_never_fail_internally(target: Target, method: MethodDescriptor) -> None:
    @FUZZ
    @given(message=message_strategy(method.input_type))
    def run(message: Message) -> None:
        check(target, "jobs", method, message.SerializeToString())

    run()


@pytest.mark.parametrize("method", AUTH_METHODS, ids=lambda m: m.name)
def test_fuzzed_auth_requests_never_fail_internally(target: Target, method: MethodDescriptor) -> None:
    @FUZZ
    @given(message=message_strategy(method.input_type))
    def run(message: Message) -> None:
        check(target, "auth", method, message.SerializeToString())

    run()


@pytest.mark.parametrize(
    ("service", "method"),
    [("jobs", m) for m in JOB_METHODS] + [("auth", m) for m in AUTH_METHODS],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_malformed_request_bytes_are_rejected_not_internal(
    target: Target, service: str, method: MethodDescriptor
) -> None:
    @FUZZ
    @given(payload=st.one_of(raw_string_fields(method.input_type), RAW_GARBAGE))
    def run(payload: bytes) -> None:
        check(target, service, method, payload)

    run()


def test_oversized_messages_are_refused(target: Target) -> None:
    huge = "x" * (MAX_MESSAGE_BYTES + 1024)
    create = JOBS.methods_by_name["CreateJob"]
    register = AUTH.methods_by_name["Register"]
    before = target.rows()
    for service, method, message in (
        ("jobs", create, create_request(huge)),
        ("auth", register, auth_pb2.RegisterRequest(email="big@example.test", password=huge)),
    ):
        code, details = target.call(service, method, message.SerializeToString())
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, (method.name, code, details)
    assert target.rows() == before


UNUSUAL = (
    "e\u0301\u0302\u0303",  # combining marks
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",  # Hebrew, Arabic (RTL)
    "\u202e\u202d\u2066\u2069",  # bidi overrides and isolates
    "\U0001f469\u200d\U0001f4bb\U0001f1fa\U0001f1e6\U0001f3f3\ufe0f\u200d\U0001f308",  # ZWJ emoji, flags
    "\u200b\u200c\u200d\u2060\ufeff",  # zero-width
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u4e2d\u6587 \ud55c\uad6d\uc5b4 \U00010348",
)


def unusual_seed(length: int = 50_000) -> str:
    base = "The harbour workers' strike enters its third week; the council votes on the levy in June. "
    parts: list[str] = []
    i = 0
    while sum(map(len, parts)) < length:
        parts.append(base if i % 2 == 0 else UNUSUAL[i // 2 % len(UNUSUAL)] + " ")
        i += 1
    return "".join(parts)[:length]


def test_a_50000_character_unusual_unicode_seed_goes_through_to_completed(target: Target) -> None:
    seed = unusual_seed()
    assert len(seed) == 50_000
    create = JOBS.methods_by_name["CreateJob"]
    reply = target.channels["jobs"].unary_unary(
        f"/{JOBS.full_name}/{create.name}",
        request_serializer=jobs_pb2.CreateJobRequest.SerializeToString,
        response_deserializer=jobs_pb2.CreateJobResponse.FromString,
    )(create_request(seed), metadata=target.md, timeout=30)
    job_id = reply.job.id
    statuses = run_async(lambda: wait_terminal(target.stack.addr("jobs"), target.md, [job_id], within=180))
    assert statuses[job_id] == "JOB_STATUS_COMPLETED", f"{statuses}\n{target.stack.tails()}"
    get = target.channels["jobs"].unary_unary(
        f"/{JOBS.full_name}/GetJob",
        request_serializer=jobs_pb2.GetJobRequest.SerializeToString,
        response_deserializer=jobs_pb2.GetJobResponse.FromString,
    )
    job = get(jobs_pb2.GetJobRequest(job_id=job_id), metadata=target.md, timeout=30).job
    assert job.seed_text == seed and job.result_report
