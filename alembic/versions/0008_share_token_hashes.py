"""Share tokens stored hashed: jobs.simulation_jobs.share_token holds the token's SHA-256 (issue 17).

Like auth's refresh, reset and verification tokens, a share link's token is no longer kept in
the clear: the column (the seed's `share_token varchar(64)`, unique index unchanged) holds the
64-hex SHA-256 of the token (`services.jobs.domain.sharing.share_token_digest`). The upgrade
hashes every plain token in place, so links already handed out keep working. A plain token is
43 URL-safe base64 characters and can never look like a 64-hex digest, which is what the WHERE
clause relies on (a second run changes nothing).

The downgrade cannot turn a digest back into its token: it clears every share instead (the
links stop working; their owners share again after the downgrade). Documented in
docs/security.md ("Health and shares").

Revision ID: 0008_share_token_hashes
Revises: 0007_outbox_columns
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008_share_token_hashes"
down_revision: str | None = "0007_outbox_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIGEST_SHAPE = "^[0-9a-f]{64}$"


def upgrade() -> None:
    # sha256() is built into PostgreSQL (11+); convert_to gives the token's UTF-8 bytes, the
    # same bytes Python's hashlib sees.
    op.execute(
        "UPDATE jobs.simulation_jobs "
        "SET share_token = encode(sha256(convert_to(share_token, 'UTF8')), 'hex') "
        f"WHERE share_token IS NOT NULL AND share_token !~ '{DIGEST_SHAPE}'"
    )


def downgrade() -> None:
    # A digest cannot be un-hashed, and the old code would compare links against it: clear shares.
    op.execute("UPDATE jobs.simulation_jobs SET share_token = NULL WHERE share_token IS NOT NULL")
