"""gateway: REST/JSON + SSE for web clients, the web UI and OpenAPI, over the gRPC services.

See docs/architecture.md §1 and this folder's README.
"""
