"""check id counter

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Where SQLite reserves blocks of check ids (service.check_ids); PostgreSQL uses the
    # table's sequence, but the table exists on both so that one schema serves both. The row
    # is made by the first reservation.
    op.create_table(
        "check_id_counter",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("next_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("check_id_counter")
