"""The jobs service: job lifecycle, routing and error events; owns the `jobs` Postgres schema."""
