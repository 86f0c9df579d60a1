"""Command-line tools: the local stack manager (`python -m services.cli.stack`) and the CLI."""
