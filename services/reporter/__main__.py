"""`python -m services.reporter` starts the reporter server."""

from services.reporter.server import main

main()
