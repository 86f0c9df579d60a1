"""`python -m services.auth` starts the auth server."""

from services.auth.server import main

main()
