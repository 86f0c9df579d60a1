"""gateway: REST/JSON + SSE for web clients, the web UI and OpenAPI, over the gRPC services (DESIGN §8)."""
