"""queue counts index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 03:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

QUEUE_WHERE = (
    "decision IN ('unsure', 'spam') AND NOT discard AND label IS NULL AND deleted_at IS NULL"
)


def upgrade() -> None:
    # The queue page counts waiting checks per decision (and per site): this index answers
    # that without reading the rows, which are large (fields and explanation JSON).
    op.create_index(
        "ix_checks_queue_decision",
        "checks",
        ["decision", "site_id"],
        unique=False,
        sqlite_where=sa.text(QUEUE_WHERE),
        postgresql_where=sa.text(QUEUE_WHERE),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_checks_queue_decision",
        table_name="checks",
        sqlite_where=sa.text(QUEUE_WHERE),
        postgresql_where=sa.text(QUEUE_WHERE),
    )
