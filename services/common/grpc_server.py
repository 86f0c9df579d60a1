"""The one gRPC server bootstrap every swarmcast service uses.

A service describes itself with a `ServiceSpec` (names, servicers, address, hooks, interceptors)
and calls `run_service()` from its `main()`. The bootstrap adds what every server must have:

- `grpc.health.v1.Health`: NOT_SERVING while starting, SERVING for "" and each service once
  `on_start` has finished (unless the spec defers readiness, e.g. the runner until its LLM is
  loaded: it calls `server.set_serving(True)` itself), NOT_SERVING again on shutdown.
- dependency probes (`services/common/dependencies.py`, from `spec.dependencies`): every
  `SWARMCAST_HEALTH_PROBE_INTERVAL_SECONDS` the database, NATS and object storage the service
  uses are checked; each is reported under its own health name (`swarmcast.dependency.<name>`)
  and the overall status is SERVING only while the service is ready and every probe passes.
  `swarmcast.liveness` is SERVING from the end of start-up to shutdown whatever the dependencies
  do: liveness probes use it, so an outage of PostgreSQL or NATS does not restart every pod.
- server reflection listing the service(s), health and reflection.
- 8 MiB message limits in both directions, no SO_REUSEPORT (a second server on a taken port
  fails loudly instead of silently sharing it), except between the worker processes of one
  service (`spec.reuse_port`, `run_workers`).
- a startup gate: until `on_start` has finished, domain RPCs get UNAVAILABLE "starting".
- domain errors (`services.common.errors`) raised by a handler end the call with their own status
  (`DomainErrorInterceptor`, innermost); `spec.translate_error` may name more (auth: its database
  down → UNAVAILABLE). Anything else is error capture's INTERNAL.
- graceful shutdown on SIGTERM/SIGINT: NOT_SERVING, stop accepting, let in-flight calls finish
  within the grace period, then `on_stop`.
- transport security (`services/common/tls.py`): with `spec.tls` the port requires mutual TLS;
  without it the server binds in plaintext only on loopback unless `spec.allow_insecure`.
  `run_service` fills both from `SWARMCAST_TLS_*` / `SWARMCAST_ALLOW_INSECURE`.
- optionally (`spec.health_listen_addr`, from `SWARMCAST_HEALTH_PORT`) a second, plaintext server
  answering only grpc.health.v1 from the same health state: kubelet `grpc:` probes cannot present
  a client certificate. It exposes nothing but SERVING/NOT_SERVING.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.bus import EventBus
from services.common.clients import MAX_MESSAGE_BYTES, ServiceClients
from services.common.config import Settings, get_settings
from services.common.db import make_engine, make_session_factory
from services.common.dependencies import (
    NATS,
    OBJECT_STORAGE,
    POSTGRES,
    DependencyProbes,
    health_name,
    nats_probe,
    object_storage_probe,
    postgres_probe,
)
from services.common.identity import SigningKeyCache, TokenAuthenticator
from services.common.interceptors import (
    DEFAULT_PUBLIC_METHODS,
    AroundInterceptor,
    DomainErrorInterceptor,
    ErrorReporter,
    ErrorTranslator,
    is_infrastructure_method,
    standard_interceptors,
)
from services.common.logging import configure_logging
from services.common.periodic import PeriodicTask
from services.common.retry import retry_async
from services.common.revocation import RevocationCheckedKeys, RevocationList
from services.common.tls import TlsMaterial, check_plaintext_allowed, load_tls

log = logging.getLogger("swarmcast.server")

DEFAULT_GRACE_SECONDS = 10.0
# The health name that says only "this process has started and its event loop answers".
LIVENESS_NAME = "swarmcast.liveness"

Hook = Callable[["GrpcServer"], Awaitable[None]]


MAX_METADATA_BYTES = 16 * 1024


def server_options(
    max_message_bytes: int = MAX_MESSAGE_BYTES, *, reuse_port: bool = False
) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        # Request metadata (a bearer token is ~1 KiB): gRPC rejects at random between its soft and
        # hard limits; equal limits make an oversized header a deterministic RESOURCE_EXHAUSTED.
        ("grpc.max_metadata_size", MAX_METADATA_BYTES),
        ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
        # Without this two processes can bind the same port and split the traffic; only worker
        # processes of one service (`ServiceSpec.reuse_port`) share a port on purpose.
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        # Accept the clients' keepalive pings (see clients.channel_options) without GOAWAY.
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]


@dataclass
class ServiceSpec:
    """Everything the bootstrap needs to know about one service process."""

    # Short name for logs and error events, e.g. "jobs".
    name: str
    # Fully qualified gRPC service names, e.g. ("swarmcast.jobs.v1.JobsService",).
    service_names: Sequence[str]
    # Adds the servicers, e.g. `lambda s: add_JobsServiceServicer_to_server(JobsService(), s)`.
    add_servicers: Callable[[grpc.aio.Server], None]
    # host:port to bind; port 0 picks a free port (see GrpcServer.port).
    listen_addr: str
    on_start: Hook | None = None
    on_stop: Hook | None = None
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
    # The service's own exceptions answered as domain errors (say, its database down → Unavailable).
    translate_error: ErrorTranslator | None = None
    # False: the service flips itself to SERVING later with `GrpcServer.set_serving(True)`.
    ready_on_start: bool = True
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    max_message_bytes: int = MAX_MESSAGE_BYTES
    extra_options: Sequence[tuple[str, Any]] = field(default_factory=tuple)
    # Mutual TLS for the port; None: plaintext (loopback only unless allow_insecure).
    tls: TlsMaterial | None = None
    allow_insecure: bool = False
    # host:port of a plaintext server answering only grpc.health.v1 (probes); None: none.
    health_listen_addr: str | None = None
    # What the service stands on (database, NATS, object storage), probed while it runs.
    dependencies: DependencyProbes | None = None
    dependency_interval: float = 5.0
    # SO_REUSEPORT on the port (and the health-only port): set only in the worker processes of one
    # service (`run_workers`), which the kernel then balances connections across.
    reuse_port: bool = False


def apply_transport_settings(spec: ServiceSpec, settings: Settings) -> ServiceSpec:
    """`spec` with TLS, the insecure-bind permission and the health port taken from `settings`.

    What the spec already sets wins; `run_service` calls this for every service process.
    """
    health_addr = spec.health_listen_addr
    if health_addr is None and settings.health_port:
        health_addr = f"{settings.bind_host}:{settings.health_port}"
    return replace(
        spec,
        tls=spec.tls if spec.tls is not None else load_tls(settings),
        allow_insecure=spec.allow_insecure or settings.allow_insecure,
        health_listen_addr=health_addr,
        dependency_interval=settings.health_probe_interval_seconds,
    )


class _StartupGate(AroundInterceptor):
    """Answers UNAVAILABLE to domain RPCs until on_start has opened what handlers use."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    def applies_to(self, method: str) -> bool:
        return not is_infrastructure_method(method)

    @contextlib.asynccontextmanager
    async def around(self, method: str, request: Any, context: grpc.aio.ServicerContext):
        if not self.open.is_set():
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the service is starting; retry shortly")
        yield


class GrpcServer:
    """One running gRPC server built from a spec; `serve()` drives it from signals."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.health = HealthServicer()
        self._gate = _StartupGate()
        self._server: grpc.aio.Server | None = None
        self._health_server: grpc.aio.Server | None = None
        self._started = False
        self._stopped = False
        # Overall health = the service says it is ready AND every dependency probe passes.
        self._ready = False
        self._dependencies_ok = True
        self._probing: PeriodicTask | None = None
        self.port: int = 0
        # The plaintext health-only port (0 when spec.health_listen_addr is None).
        self.health_port: int = 0
        # Free-form slot for the service's resources (bus, engine, ...) set up in on_start.
        self.state: dict[str, Any] = {}

    @property
    def server(self) -> grpc.aio.Server:
        if self._server is None:
            raise RuntimeError("server not started")
        return self._server

    @property
    def address(self) -> str:
        host = self.spec.listen_addr.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    async def start(self) -> None:
        """Binds, starts answering health (NOT_SERVING), runs on_start, then goes SERVING."""
        spec = self.spec
        if spec.tls is None:
            # Before anything is bound: a refused plaintext bind must leave nothing behind.
            check_plaintext_allowed(spec.listen_addr, allow_insecure=spec.allow_insecure, action="bind")
        await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.health.set(LIVENESS_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
        server = grpc.aio.server(
            interceptors=[*spec.interceptors, self._gate, DomainErrorInterceptor(spec.translate_error)],
            options=[
                *server_options(spec.max_message_bytes, reuse_port=spec.reuse_port),
                *spec.extra_options,
            ],
        )
        spec.add_servicers(server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            [*spec.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        # Raises RuntimeError when the port is taken: fail before doing any startup work.
        if spec.tls is not None:
            self.port = server.add_secure_port(spec.listen_addr, spec.tls.server_credentials())
        else:
            self.port = server.add_insecure_port(spec.listen_addr)
        self._server = server
        if spec.health_listen_addr is not None:
            health_server = grpc.aio.server(
                options=server_options(spec.max_message_bytes, reuse_port=spec.reuse_port)
            )
            health_pb2_grpc.add_HealthServicer_to_server(self.health, health_server)
            self.health_port = health_server.add_insecure_port(spec.health_listen_addr)
            self._health_server = health_server
            await health_server.start()
        await server.start()
        self._started = True
        log.info(
            "%s listening on %s (%s)%s",
            spec.name,
            self.address,
            "mutual TLS" if spec.tls is not None else "plaintext",
            f", health-only plaintext port {self.health_port}" if self._health_server is not None else "",
            extra={"service": spec.name},
        )
        if spec.on_start is not None:
            await spec.on_start(self)
        self._gate.open.set()
        await self.health.set(LIVENESS_NAME, _status(True))
        if spec.dependencies is not None and spec.dependencies.names:
            await self.check_dependencies()
            self._probing = PeriodicTask(
                f"{spec.name} dependency probes",
                spec.dependency_interval,
                self.check_dependencies,
                initial_delay=spec.dependency_interval,
            )
            self._probing.start()
        if spec.ready_on_start:
            await self.set_serving(True)
        log.info("%s started", spec.name, extra={"service": spec.name})

    async def check_dependencies(self) -> None:
        """Probes every dependency once and updates their health names and the overall status."""
        probes = self.spec.dependencies
        if probes is None or self._stopped:
            return
        verdicts = await probes.check()
        if self._stopped:
            return  # shutdown has set NOT_SERVING for good
        for name, up in verdicts.items():
            await self.health.set(health_name(name), _status(up))
        self._dependencies_ok = all(verdicts.values())
        await self._apply()

    async def set_serving(self, serving: bool, service: str | None = None) -> None:
        """Flips health for one service name, or marks the whole server ready (or not) when
        `service` is None: "" and every service are then SERVING only if the dependencies are up."""
        if service is None:
            self._ready = serving
            await self._apply()
        else:
            await self.health.set(service, _status(serving))

    async def _apply(self) -> None:
        if not self._stopped:
            await self._set_all(_status(self._ready and self._dependencies_ok))

    async def _set_all(self, status: int) -> None:
        for name in ("", *self.spec.service_names):
            await self.health.set(name, status)

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, stop accepting, finish in-flight calls within `grace`, then on_stop."""
        if self._stopped:
            return
        self._stopped = True
        spec = self.spec
        grace = spec.grace_seconds if grace is None else grace
        log.info("%s stopping (grace %.1fs)", spec.name, grace, extra={"service": spec.name})
        if self._probing is not None:
            await self._probing.stop()
        await self.health.enter_graceful_shutdown()
        if self._server is not None and self._started:
            await self._server.stop(grace)
        if self._health_server is not None:
            # Last: probes keep seeing NOT_SERVING (not "refused") while calls drain.
            await self._health_server.stop(0)
        if spec.on_stop is not None:
            try:
                await spec.on_stop(self)
            except Exception:
                log.exception("%s: on_stop failed", spec.name)
        log.info("%s stopped", spec.name, extra={"service": spec.name})

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


def _status(serving: bool) -> int:
    return health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING


class ServiceRuntime:
    """The plumbing every domain service process shares, opened in on_start, closed in on_stop.

    - `clients`: channels/stubs to the other services (auth's is used for signing keys);
    - `keys`: the signing-key cache behind the identity interceptor;
    - `revocations`: the token cutoffs auth publishes (`common/revocation.py`), checked after
      `keys`, kept current from `start()` on;
    - `errors`: the reporter behind error capture, attached to `bus` once it is connected;
    - `bus`: the EventBus (NATS JetStream), connected in `start()`;
    - `engine`/`sessions`: the database, for services that own a schema (`database=True`);
    - `dependencies`: the probes of what this process uses (database, NATS, and object storage
      with `storage=True`), for `ServiceSpec.dependencies`.

    Create it inside the running event loop (it opens grpc.aio channels).
    """

    def __init__(
        self,
        settings: Settings,
        name: str,
        *,
        error_source: str = "api",
        database: bool = False,
        storage: bool = False,
    ) -> None:
        self.settings = settings
        self.name = name
        self.clients = ServiceClients(settings)
        self.keys = SigningKeyCache.from_channel(
            self.clients.channel(settings.auth_addr),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
        )
        self.revocations = RevocationList()
        self.errors = ErrorReporter(name, error_source)
        self.bus: EventBus | None = None
        self.engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        if database:
            # Lazy: no connection is made until start() checks the database answers.
            self.engine = make_engine(settings.database_url)
            self.sessions = make_session_factory(self.engine)
        self.dependencies = DependencyProbes()
        if self.engine is not None:
            self.dependencies.add(POSTGRES, postgres_probe(self.engine))
        self.dependencies.add(NATS, nats_probe(lambda: self.bus))
        if storage:
            self.dependencies.add(OBJECT_STORAGE, object_storage_probe(settings))

    def interceptors(
        self,
        public_methods: Iterable[str] = DEFAULT_PUBLIC_METHODS,
        *,
        keys: TokenAuthenticator | None = None,
    ) -> Sequence[grpc.aio.ServerInterceptor]:
        """The standard chain; `keys` replaces the signing-key cache and the revocation check
        (auth checks tokens itself, against its database)."""
        checked = keys or RevocationCheckedKeys(self.keys, self.revocations)
        return standard_interceptors(
            self.name, keys=checked, errors=self.errors, public_methods=public_methods
        )

    async def start(self) -> None:
        """Checks the database (if any) and connects the event bus; raises if either is down."""
        if self.engine is not None:
            engine = self.engine

            async def ping() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))

            await retry_async(
                ping, attempts=10, base_delay=0.5, max_delay=3.0, describe=f"{self.name}: database check"
            )
        self.bus = await EventBus.connect(self.settings, name=f"swarmcast-{self.name}")
        await self.bus.ensure_streams()
        self.errors.attach(self.bus)
        await self.revocations.start(self.bus)

    async def close(self) -> None:
        """Releases everything `start()` opened; tolerates a start that failed half-way."""
        await self.errors.drain()
        self.errors.attach(None)
        await self.revocations.stop()
        if self.bus is not None:
            bus, self.bus = self.bus, None
            try:
                await bus.close(5.0)  # grace for in-flight handlers
            except Exception:
                log.exception("%s: closing the event bus failed", self.name)
        if self.engine is not None:
            await self.engine.dispose()
        await self.clients.close()


async def serve(spec: ServiceSpec, *, stop: asyncio.Event | None = None) -> None:
    """Runs `spec` until SIGTERM/SIGINT (or `stop` is set), then shuts down gracefully."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    server = GrpcServer(spec)
    starting = asyncio.create_task(server.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        # A signal during a slow on_start (say NATS still coming up) must not wait for it.
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raises if startup failed
            await stopping
        else:
            log.info("%s: stop requested while starting", spec.name, extra={"service": spec.name})
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    finally:
        stopping.cancel()
        await server.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)


class StartupError(Exception):
    """A service cannot start for a reason its operator must fix (a missing or corrupt model file,
    say): logged as one line, no traceback, exit status 1."""


def run_service(
    name: str,
    build: Callable[[Settings], Awaitable[ServiceSpec]],
    settings: Settings | None = None,
) -> None:
    """Process entry point: logging, build the spec inside the loop, serve; exit 1 on failure."""
    settings = settings or get_settings()
    configure_logging(name, settings)

    async def main() -> None:
        spec = apply_transport_settings(await build(settings), settings)
        if worker_index() is not None:
            spec = replace(spec, reuse_port=True)
        await serve(spec)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except StartupError as exc:
        log.error("%s cannot start: %s", name, exc, extra={"service": name})
        sys.exit(1)
    except Exception:
        log.exception("%s failed", name, extra={"service": name})
        sys.exit(1)


# --------------------------------------------------------------------------------------------
# Worker processes: one service's port served by several processes (a 2-core box, one GIL each).

WORKER_ENV = "SWARMCAST_WORKER_INDEX"
_PR_SET_PDEATHSIG = 1


def worker_index() -> int | None:
    """This process's index among its service's workers; None when it was not started as one."""
    value = os.environ.get(WORKER_ENV, "")
    return int(value) if value.isdigit() else None


def _claim_port(host: str, port: int) -> int:
    """Fails now if the port is taken (as a lone server would), else the port (a free one for 0).

    Bound without SO_REUSEPORT, so neither a foreign server nor another worker set passes."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host.strip("[]"), port))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # A worker must not outlive a SIGKILLed parent and keep serving the port on its own.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_workers(
    name: str, module: str, listen_addr: str, count: int, *, addr_env: str, settings: Settings | None = None
) -> None:
    """Runs `count` worker processes of `python -m <module>` on `listen_addr`'s port (SO_REUSEPORT:
    the kernel spreads connections across them) and supervises them until SIGTERM/SIGINT.

    Each worker is a full replica of the service (as separate pods would be); `addr_env` gives
    them the port (the one picked here when it is 0). SIGTERM is passed on and the workers stop
    gracefully; if one exits on its own the others are stopped and this process exits 1, so a
    supervisor restarts the whole set. Workers die with this process (PR_SET_PDEATHSIG).
    """
    settings = settings or get_settings()
    configure_logging(name, settings)
    host, _, port_text = listen_addr.rpartition(":")
    try:
        port = _claim_port(host, int(port_text))
    except OSError as exc:
        log.error("%s cannot start: %s is taken (%s)", name, listen_addr, exc, extra={"service": name})
        sys.exit(1)
    client_host = os.environ.get(addr_env, listen_addr).rpartition(":")[0] or host
    workers: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(signum: int = signal.SIGTERM, _frame: Any = None) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(count):
        env = {**os.environ, WORKER_ENV: str(index), addr_env: f"{client_host}:{port}"}
        workers.append(subprocess.Popen([sys.executable, "-m", module], env=env, preexec_fn=_die_with_parent))
    log.info("%s: %d worker processes on port %d", name, count, port, extra={"service": name})
    failed = False
    while any(worker.poll() is None for worker in workers):
        if not stopping and any(worker.poll() is not None for worker in workers):
            log.error("%s: a worker exited; stopping the others", name, extra={"service": name})
            failed = True
            stop()
        time.sleep(0.2)
    sys.exit(1 if failed else 0)
