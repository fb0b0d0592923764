"""what changed since the last list, with each list row

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00

Rows written before this revision read ``{}``: nothing was compared for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_list_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("risk_list_items", schema=None) as batch_op:
        batch_op.drop_column("changes")
