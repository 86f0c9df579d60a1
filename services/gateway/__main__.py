"""`python -m services.gateway` serves the gateway (`server.py`)."""

from services.gateway.server import main

main()
