"""case ids, office codes and audit words without a length limit

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 11:30:00

The contract sets no length to a case id or an office's code, and SQLite never held
the declared lengths; PostgreSQL does: a case numbered as some offices number them
(80 characters, a Chinese prefix) passed validation and failed the night's list there,
and a failed night's audit line (over 32 characters) could not be recorded, which
stopped every later night. These columns become TEXT on a server that keeps lengths
(PostgreSQL: a change of the catalogue only, no rewrite); SQLite is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WIDENED = {
    "risk_list_items": {"case_id": 64, "county_code": 32, "township_code": 32},
    "reviews": {"case_id": 64},
    "api_keys": {"county_code": 32},
    "audit_log": {"target": 200, "result": 32},
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in WIDENED.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in WIDENED.items():
        for column, length in columns.items():
            op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
