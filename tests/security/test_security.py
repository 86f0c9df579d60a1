"""Security suite (issue 10): cross-user access, token forgery, share tokens, secrets in logs.

One private stack for the module (bench/harness.py: its own database, NATS prefix, moto_server,
services on free ports, heuristic backend).

Covered elsewhere, not repeated here: a service's database role cannot read or write another
service's schema — tests/test_schema.py (`test_roles_cannot_touch_other_schemas` and friends).

Share-token guessing: tokens are 32 bytes from `secrets` (256 bits); a guess is answered
NOT_FOUND like a revoked token. There is no per-client rate limit on GetSharedJob in the jobs
service (nor in the gateway at the time of writing), so none is asserted here; with 2^256 tokens a
limiter adds nothing to the odds of a guess.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from swarmcast.auth.v1 import auth_pb2
from swarmcast.jobs.v1 import jobs_pb2
from swarmcast.reporter.v1 import reporter_pb2, reporter_pb2_grpc

from bench.harness import Infra, Metadata, PrivateStack, create_request, evidence_seed, wait_terminal
from services.common.clients import auth_stub, bearer, insecure_channel, jobs_stub

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(300)]

PASSWORD = "correct horse battery staple 7731"
SEED = evidence_seed("Confidential seed 5b1d: the Harbor Bay levy negotiation, internal memo number 8812.")


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Infra(tmp_path_factory.mktemp("security-infra")) as value:
        yield value


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PrivateStack]:
    work = tmp_path_factory.mktemp("security-stack")
    value = PrivateStack(infra.env(work / "run"), work / "logs")
    try:
        await value.launch("auth", "jobs", "reporter", "gpu_runner")
        yield value
    finally:
        await asyncio.to_thread(value.stop_all)


async def login(stack: PrivateStack, email: str, password: str = PASSWORD) -> auth_pb2.LoginResponse:
    async with insecure_channel(stack.addr("auth")) as ch:
        return await auth_stub(ch).Login(auth_pb2.LoginRequest(email=email, password=password), timeout=15)


async def completed_job(stack: PrivateStack, md: Metadata, seed: str = SEED) -> int:
    async with insecure_channel(stack.addr("jobs")) as ch:
        job_id = (await jobs_stub(ch).CreateJob(create_request(seed), metadata=md, timeout=30)).job.id
    statuses = await wait_terminal(stack.addr("jobs"), md, [job_id], within=120)
    assert statuses[job_id] == "JOB_STATUS_COMPLETED", f"{statuses}\n{stack.tails()}"
    return job_id


async def expect(code: grpc.StatusCode, call: Awaitable[Any]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, (err.value.code(), err.value.details())


# --- cross-user access --------------------------------------------------------------------------


async def test_another_users_job_is_not_found_through_every_job_rpc(stack: PrivateStack) -> None:
    owner, intruder = await stack.register(), await stack.register()
    done = await completed_job(stack, owner)
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        draft = (
            await stub.CreateDraft(jobs_pb2.CreateDraftRequest(seed_text="draft seed"), metadata=owner)
        ).job
        share = (
            await stub.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=done), metadata=owner)
        ).share_token
        before = {
            j: await stub.GetJob(jobs_pb2.GetJobRequest(job_id=j), metadata=owner) for j in (done, draft.id)
        }
        calls: list[Callable[[int], Awaitable[Any]]] = [
            lambda j: stub.GetJob(jobs_pb2.GetJobRequest(job_id=j), metadata=intruder),
            lambda j: stub.DeleteJob(jobs_pb2.DeleteJobRequest(job_id=j), metadata=intruder),
            lambda j: stub.CancelJob(jobs_pb2.CancelJobRequest(job_id=j), metadata=intruder),
            lambda j: stub.RetryJob(jobs_pb2.RetryJobRequest(job_id=j), metadata=intruder),
            lambda j: stub.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=j), metadata=intruder),
            lambda j: stub.RevokeShareLink(jobs_pb2.RevokeShareLinkRequest(job_id=j), metadata=intruder),
            lambda j: stub.GetSimData(jobs_pb2.GetSimDataRequest(job_id=j), metadata=intruder),
            lambda j: stub.GetGraph(jobs_pb2.GetGraphRequest(job_id=j), metadata=intruder),
            lambda j: stub.UpdateDraft(
                jobs_pb2.UpdateDraftRequest(job_id=j, seed_text="x"), metadata=intruder
            ),
            lambda j: stub.LaunchDraft(jobs_pb2.LaunchDraftRequest(job_id=j), metadata=intruder),
            lambda j: stub.WatchJob(jobs_pb2.WatchJobRequest(job_id=j), metadata=intruder).read(),
        ]
        for job_id in (done, draft.id):
            for call in calls:
                await expect(grpc.StatusCode.NOT_FOUND, call(job_id))
        listed = await stub.ListJobs(jobs_pb2.ListJobsRequest(), metadata=intruder)
        assert listed.total == 0 and not listed.jobs
        after = {
            j: await stub.GetJob(jobs_pb2.GetJobRequest(job_id=j), metadata=owner) for j in (done, draft.id)
        }
        assert after == before
        # The share link the owner made still works (the intruder could not revoke it).
        shared = await stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(share_token=share), metadata=intruder)
        assert shared.job.id == done
    async with insecure_channel(stack.addr("reporter")) as ch:
        reporter = reporter_pb2_grpc.ReporterServiceStub(ch)
        # Both reporter RPCs are operator-only: the reporter does not know job owners.
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            reporter.RegenerateReport(reporter_pb2.RegenerateReportRequest(job_id=done), metadata=intruder),
        )
        await expect(
            grpc.StatusCode.PERMISSION_DENIED,
            reporter.GetReportStatus(reporter_pb2.GetReportStatusRequest(job_id=done), metadata=intruder),
        )


# --- token forgery --------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _signing_key(stack: PrivateStack) -> tuple[str, Ed25519PrivateKey]:
    """auth's current signing key, from its key folder (kid = file stem)."""
    key_dir = Path(stack.env["SWARMCAST_SIGNING_KEY_DIR"])
    path = max(key_dir.glob("*.pem"), key=lambda p: p.stat().st_mtime)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return path.stem, key


def forgeries(stack: PrivateStack, genuine: str) -> dict[str, str]:
    header_b64, payload_b64, signature = genuine.split(".")
    header = json.loads(_unb64(header_b64))
    claims = json.loads(_unb64(payload_b64))
    kid, real_key = _signing_key(stack)
    assert header.get("kid") == kid
    elevated = {**claims, "sub": "1", "roles": ["operator"]}
    public_pem = real_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())

    def sign(values: dict[str, Any], key: Ed25519PrivateKey = real_key) -> str:
        return jwt.encode(values, key, algorithm="EdDSA", headers={"kid": kid})

    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    hs_payload = _b64(json.dumps(elevated).encode())
    hs_sig = _b64(hmac.new(public_pem, f"{hs_header}.{hs_payload}".encode(), hashlib.sha256).digest())
    none_header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    return {
        "tampered claims": f"{header_b64}.{hs_payload}.{signature}",
        "tampered signature": f"{header_b64}.{payload_b64}.{flipped}",
        "other key, same kid": sign(elevated, Ed25519PrivateKey.generate()),
        "alg none": f"{none_header}.{hs_payload}.",
        "HS256 keyed with the public key": f"{hs_header}.{hs_payload}.{hs_sig}",
        "expired": sign({**claims, "iat": now - 7200, "exp": now - 3600}),
        "wrong audience": sign({**claims, "aud": "someone-else"}),
        "wrong issuer": sign({**claims, "iss": "evil"}),
        "not yet valid": sign({**claims, "iat": now + 3600, "nbf": now + 3600, "exp": now + 7200}),
        "empty": "",
        "garbage": "a.b.c",
    }


async def test_forged_tokens_are_unauthenticated_by_jobs_and_reporter(stack: PrivateStack) -> None:
    md = await stack.register()
    genuine = md[0][1].removeprefix("Bearer ")
    kid, real_key = _signing_key(stack)
    # Sanity: a token we sign with auth's own key is accepted, so the rejections below are about
    # the forgery, not about how we build tokens.
    claims = json.loads(_unb64(genuine.split(".")[1]))
    resigned = jwt.encode(claims, real_key, algorithm="EdDSA", headers={"kid": kid})
    async with insecure_channel(stack.addr("jobs")) as jch, insecure_channel(stack.addr("reporter")) as rch:
        jobs, reporter = jobs_stub(jch), reporter_pb2_grpc.ReporterServiceStub(rch)
        await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=bearer(resigned))
        for name, token in forgeries(stack, genuine).items():
            rows_before = (await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=md)).total
            for call in (
                jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=bearer(token)),
                jobs.CreateJob(create_request("forged"), metadata=bearer(token)),
                jobs.ListRoutes(jobs_pb2.ListRoutesRequest(), metadata=bearer(token)),
                reporter.GetReportStatus(
                    reporter_pb2.GetReportStatusRequest(job_id=1), metadata=bearer(token)
                ),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await call
                assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, (name, err.value.details())
            assert (await jobs.ListJobs(jobs_pb2.ListJobsRequest(), metadata=md)).total == rows_before


# --- share tokens -----------------------------------------------------------------------------------


async def test_share_tokens_are_256_bit_random_and_guesses_are_not_found(stack: PrivateStack) -> None:
    md = await stack.register()
    job_id = await completed_job(stack, md, seed=evidence_seed("share token entropy seed"))
    tokens: list[str] = []
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        for _ in range(20):
            reply = await stub.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=job_id), metadata=md)
            tokens.append(reply.share_token)
            await stub.RevokeShareLink(jobs_pb2.RevokeShareLinkRequest(job_id=job_id), metadata=md)
        live = (
            await stub.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=job_id), metadata=md)
        ).share_token
        assert len(set(tokens)) == len(tokens), "share tokens repeat"
        for token in tokens:
            assert len(_unb64(token)) >= 32, token  # >= 256 bits
        # A revoked token, random well-formed guesses and malformed input are all NOT_FOUND.
        guesses = tokens[:3] + [secrets.token_urlsafe(32) for _ in range(100)]
        guesses += ["", "x", live[:-1], live + "A", "'; DROP TABLE jobs; --", "\u202e" * 43, "A" * 10_000]
        for guess in guesses:
            await expect(
                grpc.StatusCode.NOT_FOUND,
                stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(share_token=guess), metadata=md),
            )
        shared = await stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(share_token=live), metadata=md)
        assert shared.job.id == job_id


# --- secrets in logs (last: it reads every log the module produced) --------------------------------


async def test_passwords_tokens_share_tokens_and_seed_text_never_reach_the_logs(stack: PrivateStack) -> None:
    email = f"secret-{secrets.token_hex(4)}@example.test"
    password = f"pw-{secrets.token_hex(12)}"
    seed = evidence_seed(f"Seed marker {secrets.token_hex(8)}: the secret negotiation over the harbour levy.")
    async with insecure_channel(stack.addr("auth")) as ch:
        registered = await auth_stub(ch).Register(auth_pb2.RegisterRequest(email=email, password=password))
        bad = auth_stub(ch).Login(auth_pb2.LoginRequest(email=email, password=password + "-wrong"))
        await expect(grpc.StatusCode.UNAUTHENTICATED, bad)
    logged_in = await login(stack, email, password)
    md = bearer(logged_in.access_token)
    job_id = await completed_job(stack, md, seed=seed)
    async with insecure_channel(stack.addr("jobs")) as ch:
        stub = jobs_stub(ch)
        share = (
            await stub.CreateShareLink(jobs_pb2.CreateShareLinkRequest(job_id=job_id), metadata=md)
        ).share_token
        await stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(share_token=share), metadata=md)
        await expect(
            grpc.StatusCode.NOT_FOUND,
            stub.GetSharedJob(jobs_pb2.GetSharedJobRequest(share_token=share[::-1]), metadata=md),
        )
    await asyncio.sleep(1.0)  # let buffered log lines land
    logs = stack.log_text()
    assert logs, "no logs were written"
    secrets_used = {
        "password": password,
        "wrong password": password + "-wrong",
        "access token (register)": registered.access_token,
        "refresh token (register)": registered.refresh_token,
        "access token (login)": logged_in.access_token,
        "refresh token (login)": logged_in.refresh_token,
        "token signature": logged_in.access_token.rsplit(".", 1)[1],
        "share token": share,
        "seed text": seed,
        "seed marker": seed.split(":")[0],
    }
    leaked = [name for name, value in secrets_used.items() if value in logs]
    assert not leaked, f"secrets in the logs: {leaked}"
