"""the office's capacity stored with each list

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

The page marked a list's first N rows as today's work with N from the capacity setting
of the day it was read: a list of last month changed its "today" rows when the setting
changed. The list now keeps the N it was made with; lists stored before this revision
keep none, and are read with the setting, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_lists") as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_lists") as batch_op:
        batch_op.drop_column("capacity")
