"""Settings shared by several swarmcast processes, read from `SWARMCAST_*` environment variables.

Here: what two or more processes read (database, NATS, S3, the addresses services dial, TLS,
logging, token issuer/audience, the public URL, the runner tiers the stack starts, the run folder).
A key only one service reads lives in that service's `settings.py`, in the same pattern: a
pydantic-settings class on `SWARMCAST_*` names and a cached `get_<service>_settings()`.
The table in README.md documents every variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_", extra="ignore")

    # --- infrastructure
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/swarmcast"
    # Connection pool size per process.
    database_pool_size: int = 10
    nats_url: str = "nats://127.0.0.1:4222"
    # Prefix for every NATS subject and stream name; isolates tests and side-by-side stacks.
    nats_prefix: str = ""
    # Replicas of every JetStream stream the bus creates (num_replicas): 1 on a single server,
    # 3 on a 3-node JetStream cluster (deploy/k8s). JetStream allows at most 5.
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    # This process's NATS user and password (per-service permissions: services/common/nats_auth.py);
    # unset: anonymous, for an open server. A `user:pass@` in nats_url works too.
    nats_user: str = ""
    nats_password: SecretStr | None = None
    # A NATS .creds file (JWT + nkey seed, for operator-mode servers) instead of a password.
    nats_creds_file: Path | None = None
    s3_endpoint: str = "http://127.0.0.1:9000"
    s3_access_key: SecretStr = SecretStr("swarmcast")
    s3_secret_key: SecretStr = SecretStr("swarmcast-secret")
    s3_bucket: str = "swarmcast"
    s3_region: str = "us-east-1"

    # --- service addresses (what clients dial; a server listens on its own address's port)
    auth_addr: str = "127.0.0.1:50051"
    jobs_addr: str = "127.0.0.1:50052"
    runner_addr: str = "127.0.0.1:50053"
    reporter_addr: str = "127.0.0.1:50054"
    gateway_addr: str = "127.0.0.1:8080"
    # Host a server binds to; 0.0.0.0 in containers.
    bind_host: str = "127.0.0.1"

    # --- transport security between services (services/common/tls.py)
    # PEM files for mutual TLS on gRPC. All three set: servers present tls_cert and accept only
    # clients whose certificate tls_ca signed; clients present tls_cert and verify the server
    # against tls_ca. None set: plaintext. Setting only some of them is an error.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    # Name clients check in the server certificate instead of the host they dial; empty: that host.
    tls_server_name: str = ""
    # Plaintext gRPC to or on a non-loopback address (binding 0.0.0.0, dialling `auth:50051`) is
    # refused unless this is true: set it only on a network you trust (compose, a dev cluster).
    allow_insecure: bool = False
    # > 0: each gRPC server also answers grpc.health.v1 (nothing else) in plaintext on
    # bind_host:health_port, for probes that cannot do mutual TLS (kubelet `grpc:` probes). 0: off.
    health_port: int = Field(default=0, ge=0, le=65535)
    # How often each service re-checks its database, NATS and object storage (services/common/
    # dependencies.py); a failed check turns its grpc.health.v1 status NOT_SERVING until one passes.
    health_probe_interval_seconds: float = Field(default=5.0, gt=0, le=300)

    # --- logging
    log_level: str = "INFO"
    # "json" (default) or "text".
    log_format: str = "json"

    # --- identity: every service checks access tokens (services/common/identity.py)
    token_issuer: str = "swarmcast-auth"
    token_audience: str = "swarmcast"
    # Base URL of the web UI: links in auth's emails, the gateway's share links, CLI output.
    public_url: str = "http://127.0.0.1:8080"

    # --- the local stack
    # Tiers whose dispatch queue a runner consumes; the CLI's stack reads them to start runners.
    runner_tiers: str = "small,medium,large"
    # Run folder of the local stack (pid files, logs); the runner's default weights cache is in it.
    run_dir: Path = REPO_ROOT / ".run"

    @property
    def s3_secure(self) -> bool:
        return urlparse(self.s3_endpoint).scheme == "https"

    @property
    def s3_host(self) -> str:
        """host:port of the S3 endpoint, as the minio client wants it."""
        return urlparse(self.s3_endpoint).netloc

    @property
    def runner_tier_list(self) -> list[str]:
        return [t.strip() for t in self.runner_tiers.split(",") if t.strip()]

    @property
    def tls_enabled(self) -> bool:
        """True when mutual TLS is configured (the validator guarantees all three files or none)."""
        return self.tls_cert is not None

    def listen_addr(self, service_addr: str) -> str:
        """The address a server for `service_addr` binds: bind_host plus that address's port."""
        port = service_addr.rsplit(":", 1)[1]
        return f"{self.bind_host}:{port}"

    @field_validator("tls_cert", "tls_key", "tls_ca", mode="before")
    @classmethod
    def _blank_path_is_unset(cls, value: object) -> object:
        # `SWARMCAST_TLS_CERT=` (compose passes unset variables through as empty) means "not set",
        # not the current directory.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _tls_all_or_nothing(self) -> Settings:
        given = {name: getattr(self, name) is not None for name in ("tls_cert", "tls_key", "tls_ca")}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(f"SWARMCAST_{n.upper()}" for n, ok in given.items() if not ok)
            raise ValueError(f"mutual TLS needs SWARMCAST_TLS_CERT, _KEY and _CA together; missing {missing}")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
