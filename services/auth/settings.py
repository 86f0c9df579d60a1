"""Auth-only settings that the shared `Settings` does not carry (env prefix `SWARMCAST_AUTH_`).

- `SWARMCAST_AUTH_REGISTER_LIMIT` / `..._REGISTER_WINDOW_SECONDS` (5 / 60): sign-ups per client
  address per window.
- `SWARMCAST_AUTH_LOGIN_LIMIT` / `..._LOGIN_WINDOW_SECONDS` (10 / 60): logins per address, and per
  email, per window (password checks in ChangePassword/DeleteAccount count per email too).
- `SWARMCAST_AUTH_RESET_LIMIT` / `..._RESET_WINDOW_SECONDS` (5 / 3600): reset mails (and, separately,
  verification mails) per email per window.
- `SWARMCAST_AUTH_TRUSTED_PROXIES` (loopback + private ranges): peers whose `x-forwarded-for`
  metadata names the real client (the gateway).
- `SWARMCAST_AUTH_MAINTENANCE_INTERVAL_SECONDS` (60): expired-row cleanup, outbox relay, key re-read.

A limit of 0 or less disables that limit.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

# Where the gateway (the only intended client of auth) runs: same host, or a container/pod network.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_AUTH_", extra="ignore")

    register_limit: int = 5
    register_window_seconds: float = 60.0
    login_limit: int = 10
    login_window_seconds: float = 60.0
    reset_limit: int = 5
    reset_window_seconds: float = 3600.0
    trusted_proxies: str = DEFAULT_TRUSTED_PROXIES
    maintenance_interval_seconds: float = 60.0
    # Durable consumer name of the in-process mail sender (one per deployment, shared by replicas).
    mail_consumer: str = "auth-mail-sender"
