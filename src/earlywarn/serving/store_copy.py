"""Moving an office's store to another database (SQLite to PostgreSQL as a rule): every
list, review, key, monitoring check, nightly run and audit record, with their ids, so
that the audit chain and its anchors hold in the new store as they did in the old.

Pointing ``database_url`` at an empty database lost the whole history (and the chain
check then cried tampering), and a copy by hand left PostgreSQL's id counters at 1:
the next key, review or audit record collided with a copied one. Web sessions are not
copied: reviewers sign in again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, create_engine, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from earlywarn.ingest.sources import shown_source
from earlywarn.serving.store import (
    ApiKey,
    AuditRecord,
    Base,
    DailyRun,
    MonitorCheck,
    Review,
    RiskList,
    RiskListItem,
    migrate,
)
from earlywarn.serving.store_open import StoreError, connect_arguments

# Parents before the rows that name them.
COPIED = [ApiKey, RiskList, RiskListItem, MonitorCheck, DailyRun, Review, AuditRecord]
BATCH_ROWS = 5_000


@dataclass(frozen=True)
class Copied:
    """Rows per table, read from the old store and found in the new."""

    counts: dict[str, int]


def _count(reader: Connection | Session, table: Table) -> int:
    return int(reader.execute(select(func.count()).select_from(table)).scalar_one())


def copy_store(source: Session, target_url: str, busy_seconds: float) -> Copied:
    """Copy every table but the web sessions into ``target_url``, migrated first and
    refused unless empty; one transaction, so a failure leaves the new store empty."""
    migrate(target_url, busy_seconds)
    engine = create_engine(target_url, connect_args=connect_arguments(target_url, busy_seconds))
    tables = [Base.metadata.tables[model.__tablename__] for model in COPIED]
    counts: dict[str, int] = {}
    try:
        with engine.begin() as target:
            held = [table.name for table in tables if _count(target, table)]
            if held:
                raise StoreError(
                    f"the store {shown_source(target_url)} already holds rows ({', '.join(held)}): "
                    "copy into an empty database (目标数据库不为空)"
                )
            for table in tables:
                rows = source.execute(select(table).order_by(table.c.id)).mappings()
                while batch := rows.fetchmany(BATCH_ROWS):
                    target.execute(insert(table), [dict(row) for row in batch])
                counts[table.name] = _count(target, table)
                if counts[table.name] != _count(source, table):
                    raise StoreError(f"{table.name}: the rows copied do not match the rows read")
            if target.dialect.name == "postgresql":
                # The ids were copied as they were: each table's counter follows on.
                for table in tables:
                    target.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                        f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
                    ))  # fmt: skip
    finally:
        engine.dispose()
    return Copied(counts)
