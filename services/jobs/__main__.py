"""`python -m services.jobs` starts the jobs server."""

from services.jobs.server import main

main()
