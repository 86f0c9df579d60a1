"""Gateway-only settings; the shared ones are in services/common/config.py (prefix `SWARMCAST_`).

- `SWARMCAST_TRUSTED_PROXIES` (`127.0.0.1/32,::1/128`): comma-separated CIDRs of reverse proxies in
  front of the gateway. `X-Forwarded-For` is believed only when the direct peer is one of them
  (like uvicorn's `--forwarded-allow-ips`, whose default is also loopback). Empty: never believed.
  See services/common/clientip.py.
- `SWARMCAST_GATEWAY_FORWARD_SECRET` (unset): a secret shared with auth, sent on every auth call so
  auth believes the client address the gateway forwards (without it, and without a mutual-TLS
  certificate naming the gateway, auth counts every sign-in as coming from the gateway itself).
  `swarmcast up` and the test stacks generate one.
- `SWARMCAST_GATEWAY_MAX_BODY_BYTES` (1 MiB): larger request bodies are answered 413.
- `SWARMCAST_GATEWAY_MAX_JSON_FIELDS` (256): a JSON body with more object fields and array items in
  all is answered 422 before it is validated (no request needs more than a few dozen).
- `SWARMCAST_GATEWAY_RPC_TIMEOUT_SECONDS` (30): deadline of each unary gRPC call.
- `SWARMCAST_GATEWAY_SSE_KEEPALIVE_SECONDS` (15): comment lines on an idle progress stream, so
  proxies don't time it out.
"""

from __future__ import annotations

from functools import cached_property, lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.clientip import NetworkList, Networks, parse_networks

DEFAULT_TRUSTED_PROXIES = "127.0.0.1/32,::1/128"


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWARMCAST_", extra="ignore")

    trusted_proxies: NetworkList = DEFAULT_TRUSTED_PROXIES
    gateway_forward_secret: SecretStr | None = None
    gateway_max_body_bytes: int = 1024 * 1024
    gateway_max_json_fields: int = 256
    gateway_rpc_timeout_seconds: float = 30.0
    gateway_sse_keepalive_seconds: float = 15.0

    @cached_property
    def trusted_networks(self) -> Networks:
        return parse_networks(self.trusted_proxies)


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
