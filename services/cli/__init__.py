"""Command-line tools: the local stack manager (`python -m services.cli.stack`), the CLI and the
development certificates for mutual TLS (`python -m services.cli.devcerts`)."""
