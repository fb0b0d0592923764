"""list rows indexed by list, county and rank instead of by county alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 07:20:00

An office key's page reads one list's rows of its county in rank order. The county
index held every stored list's rows: the page read all of the county's rows of the
whole history and sorted what was left, so a county view grew slower with every night
(a 5,000-case city after a year of daily lists: 126 ms a page, against 1.3 ms through
(list_id, county_code, rank), which gives the rows already in order). Storing a night's
rows costs about 5 to 13% more (bench/bench_list_history.py, BENCHMARKS.md).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_risk_list_items_list_county_rank",
        "risk_list_items",
        ["list_id", "county_code", "rank"],
    )
    op.drop_index("ix_risk_list_items_county_code", table_name="risk_list_items")


def downgrade() -> None:
    op.create_index("ix_risk_list_items_county_code", "risk_list_items", ["county_code"])
    op.drop_index("ix_risk_list_items_list_county_rank", table_name="risk_list_items")
