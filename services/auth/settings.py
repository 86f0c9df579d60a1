"""Auth-only settings; the shared ones are in services/common/config.py.

Prefix `SWARMCAST_AUTH_`:
- `REGISTER_LIMIT` / `REGISTER_WINDOW_SECONDS` (5 / 60): sign-ups per client address per window.
- `LOGIN_LIMIT` / `LOGIN_WINDOW_SECONDS` (10 / 60): sign-in attempts per client address per window
  (password checks in ChangePassword/DeleteAccount count per account with the same numbers).
- Failed sign-ins (services/auth/ratelimit.py, "Sign-in abuse" in docs/security.md):
  `LOGIN_PAIR_FREE_FAILURES` (3) failures per (account, address) before exponential backoff from
  `LOGIN_PAIR_BACKOFF_SECONDS` (1) doubling up to `LOGIN_PAIR_MAX_BACKOFF_SECONDS` (900); the pair
  is forgotten after `LOGIN_PAIR_MEMORY_SECONDS` (3600) without failures, or at a successful
  sign-in. Per account and `LOGIN_ACCOUNT_WINDOW_SECONDS` (3600): `LOGIN_ACCOUNT_FAILURE_LIMIT`
  (50) failures from addresses the account never signed in from, `LOGIN_KNOWN_FAILURE_LIMIT` (40)
  from addresses it did (remembered `LOGIN_KNOWN_ADDRESS_SECONDS`, 30 days).
- `RESET_LIMIT` / `RESET_WINDOW_SECONDS` (5 / 3600): reset mails (and, separately, verification
  mails) per email per window; `RESET_ADDRESS_LIMIT` (10): reset requests per client address per
  the same window.
- `HASH_CONCURRENCY` (0: the CPU count, at least 2), `HASH_QUEUE_LIMIT` (32),
  `HASH_QUEUE_TIMEOUT_SECONDS` (2): bcrypt runs at most that many at once; beyond that many
  waiting, or after that long waiting, a request is answered RESOURCE_EXHAUSTED with a retry delay.
- `VERIFICATION_TOKEN_TTL_SECONDS` (172800, 48 h): lifetime of an email verification link.
- `GATEWAY_IDENTITIES` (`gateway`): client-certificate names (CN or DNS SAN, mutual TLS) of the
  gateway, whose `x-forwarded-for` metadata names the real client; without TLS the gateway proves
  itself with `SWARMCAST_GATEWAY_FORWARD_SECRET` instead (see services/common/clientip.py). Any
  other caller is counted as its own peer address.
- `MAINTENANCE_INTERVAL_SECONDS` (60): expired-row cleanup, outbox relay, key re-read.
- `MAIL_CONSUMER` (`auth-mail-sender`): durable consumer of the in-process mail sender.

A limit of 0 or less disables that limit.

Also here, under names without the `AUTH_` part (each field's `validation_alias`):
`SWARMCAST_GATEWAY_FORWARD_SECRET`, `SWARMCAST_SIGNING_KEY_DIR`, `..._ACCESS_TOKEN_TTL_SECONDS`,
`..._REFRESH_TOKEN_TTL_SECONDS`, `..._BCRYPT_ROUNDS`, `..._OPERATOR_EMAILS`, `..._SMTP_URL`,
`..._MAIL_OUTBOX_DIR` and `..._MAIL_KEY`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.config import REPO_ROOT


class AuthSettings(BaseSettings):
    # populate_by_name: a field with its own env name (validation_alias) is still set by field name.
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_AUTH_", extra="ignore", populate_by_name=True)

    register_limit: int = 5
    register_window_seconds: float = 60.0
    login_limit: int = 10
    login_window_seconds: float = 60.0
    reset_limit: int = 5
    reset_window_seconds: float = 3600.0
    login_pair_free_failures: int = 3
    login_pair_backoff_seconds: float = 1.0
    login_pair_max_backoff_seconds: float = 900.0
    login_pair_memory_seconds: float = 3600.0
    login_account_failure_limit: int = 50
    login_known_failure_limit: int = 40
    login_account_window_seconds: float = 3600.0
    login_known_address_seconds: float = 30 * 24 * 3600.0
    reset_address_limit: int = 10
    # 0: the CPU count (at least 2).
    hash_concurrency: int = 0
    hash_queue_limit: int = 32
    hash_queue_timeout_seconds: float = 2.0
    verification_token_ttl_seconds: float = 48 * 3600.0
    # Comma-separated certificate names (CN or DNS SAN) of the gateway under mutual TLS.
    gateway_identities: str = "gateway"
    # Shared with the gateway (same variable): its proof on plaintext gRPC.
    gateway_forward_secret: SecretStr | None = Field(
        default=None, validation_alias="SWARMCAST_GATEWAY_FORWARD_SECRET"
    )
    maintenance_interval_seconds: float = 60.0
    # Durable consumer name of the in-process mail sender (one per deployment, shared by replicas).
    mail_consumer: str = "auth-mail-sender"

    # Folder holding Ed25519 signing keys (PEM, one per key id); created on first start.
    signing_key_dir: Path = Field(
        default=REPO_ROOT / ".run" / "keys", validation_alias="SWARMCAST_SIGNING_KEY_DIR"
    )
    access_token_ttl_seconds: int = Field(default=900, validation_alias="SWARMCAST_ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_seconds: int = Field(
        default=30 * 24 * 3600, validation_alias="SWARMCAST_REFRESH_TOKEN_TTL_SECONDS"
    )
    bcrypt_rounds: int = Field(default=12, validation_alias="SWARMCAST_BCRYPT_ROUNDS")
    # Comma-separated emails that get the operator role.
    operator_emails: str = Field(default="", validation_alias="SWARMCAST_OPERATOR_EMAILS")
    # SMTP URL (smtp://user:pass@host:port); when unset, mail goes to the outbox folder.
    smtp_url: SecretStr | None = Field(default=None, validation_alias="SWARMCAST_SMTP_URL")
    mail_outbox_dir: Path = Field(
        default=REPO_ROOT / ".run" / "outbox", validation_alias="SWARMCAST_MAIL_OUTBOX_DIR"
    )
    # AES-256-GCM key (base64, 32 bytes) sealing email requests on the bus (services/auth/mailseal.py);
    # unset: `mail-seal.key` in signing_key_dir, created on first start. All replicas must share it.
    mail_key: SecretStr | None = Field(default=None, validation_alias="SWARMCAST_MAIL_KEY")

    @property
    def operator_email_set(self) -> set[str]:
        return {e.strip().lower() for e in self.operator_emails.split(",") if e.strip()}

    @property
    def gateway_identity_set(self) -> frozenset[str]:
        return frozenset(n.strip().lower() for n in self.gateway_identities.split(",") if n.strip())


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()
