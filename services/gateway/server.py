"""The gateway process: uvicorn serving the FastAPI app (`app.py`) on SWARMCAST_GATEWAY_ADDR's port."""

from __future__ import annotations

import logging

import uvicorn

from services.common.config import get_settings
from services.common.logging import configure_logging
from services.gateway.app import create_app


def main() -> None:
    settings = get_settings()
    configure_logging("gateway", settings)
    # One line per artifact download (with a presigned URL) is noise next to our request log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    port = int(settings.gateway_addr.rsplit(":", 1)[1])
    uvicorn.run(
        create_app(settings),
        host=settings.bind_host,
        port=port,
        # Our JSON logging (configured above) handles uvicorn's records; the app logs requests
        # itself by route template, so uvicorn's access log (raw paths) stays off.
        log_config=None,
        access_log=False,
        # The gateway resolves X-Forwarded-For itself, against SWARMCAST_TRUSTED_PROXIES
        # (services/common/clientip.py); uvicorn must not rewrite the peer address first.
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
