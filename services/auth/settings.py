"""Auth-only settings; the shared ones are in services/common/config.py.

Prefix `SWARMCAST_AUTH_`:
- `REGISTER_LIMIT` / `REGISTER_WINDOW_SECONDS` (5 / 60): sign-ups per client address per window.
- `LOGIN_LIMIT` / `LOGIN_WINDOW_SECONDS` (10 / 60): logins per address, and per email, per window
  (password checks in ChangePassword/DeleteAccount count per email too).
- `RESET_LIMIT` / `RESET_WINDOW_SECONDS` (5 / 3600): reset mails (and, separately, verification
  mails) per email per window.
- `TRUSTED_PROXIES` (loopback + private ranges): peers whose `x-forwarded-for` metadata names the
  real client (the gateway); see services/common/clientip.py.
- `MAINTENANCE_INTERVAL_SECONDS` (60): expired-row cleanup, outbox relay, key re-read.
- `MAIL_CONSUMER` (`auth-mail-sender`): durable consumer of the in-process mail sender.

A limit of 0 or less disables that limit.

Also here, under names without the `AUTH_` part (each field's `validation_alias`):
`SWARMCAST_SIGNING_KEY_DIR`, `..._ACCESS_TOKEN_TTL_SECONDS`, `..._REFRESH_TOKEN_TTL_SECONDS`,
`..._BCRYPT_ROUNDS`, `..._OPERATOR_EMAILS`, `..._SMTP_URL` and `..._MAIL_OUTBOX_DIR`.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.clientip import NetworkList, Networks, parse_networks
from services.common.config import REPO_ROOT

# Where the gateway (the only intended client of auth) runs: same host, or a container/pod network.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


class AuthSettings(BaseSettings):
    # populate_by_name: a field with its own env name (validation_alias) is still set by field name.
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_AUTH_", extra="ignore", populate_by_name=True)

    register_limit: int = 5
    register_window_seconds: float = 60.0
    login_limit: int = 10
    login_window_seconds: float = 60.0
    reset_limit: int = 5
    reset_window_seconds: float = 3600.0
    trusted_proxies: NetworkList = DEFAULT_TRUSTED_PROXIES
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

    @property
    def operator_email_set(self) -> set[str]:
        return {e.strip().lower() for e in self.operator_emails.split(",") if e.strip()}

    @cached_property
    def trusted_networks(self) -> Networks:
        return parse_networks(self.trusted_proxies)


@lru_cache(maxsize=1)
def get_auth_settings() -> AuthSettings:
    return AuthSettings()
