"""reasons stored as data (JSON) and the recommended steps with each list row

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:00:00

Rows written before this revision hold their reasons as text
("标签 / label: value; ..."). They are rewritten as JSON with the feature found by
its Chinese label and the value as shown; their contributions were never stored
and read as 0. Their steps are left empty: the rules that made them have moved on.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ITEMS = sa.table(
    "risk_list_items",
    sa.column("id", sa.Integer),
    sa.column("reasons", sa.Text),
)


def _as_data(text: str, features: dict[str, str]) -> str:
    reasons = []
    for piece in filter(None, (p.strip() for p in text.split(";"))):
        head, _, value = piece.rpartition(": ")
        label = (head or piece).partition(" / ")[0]
        if label in features:
            reasons.append({"feature": features[label], "value": value, "contribution": 0.0})
    return json.dumps(reasons, ensure_ascii=False, separators=(",", ":"))


def upgrade() -> None:
    with op.batch_alter_table("risk_list_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("steps", sa.Text(), nullable=False, server_default="[]"))
    from earlywarn.features.catalogue import BY_NAME

    features = {spec.label_zh: name for name, spec in BY_NAME.items()}
    connection = op.get_bind()
    rows = connection.execute(sa.select(_ITEMS.c.id, _ITEMS.c.reasons)).all()
    for row_id, text in rows:
        if text and not text.startswith("["):
            connection.execute(
                _ITEMS.update()
                .where(_ITEMS.c.id == row_id)
                .values(reasons=_as_data(text, features))
            )


def downgrade() -> None:
    with op.batch_alter_table("risk_list_items", schema=None) as batch_op:
        batch_op.drop_column("steps")
