"""list rows without their own list_id index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:00:00

The unique (list_id, case_id) index already begins with list_id: it serves every
lookup of a list's rows and the cascade from a list to its rows. The second index on
list_id alone cost about a seventh of storing a million-row list and served nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_risk_list_items_list_id", table_name="risk_list_items")


def downgrade() -> None:
    op.create_index("ix_risk_list_items_list_id", "risk_list_items", ["list_id"])
