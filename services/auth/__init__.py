"""The auth service: users, credentials and tokens; owns the `auth` Postgres schema."""
