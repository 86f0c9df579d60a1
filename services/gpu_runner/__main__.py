"""`python -m services.gpu_runner` starts the gpu_runner server."""

from services.gpu_runner.server import main

main()
