"""A day's list rows handed to the store before their list's header exists, then filed
under it by one statement.

On SQLite the rows go through the driver's own executemany with plain tuples
(SQLAlchemy's per-row parameter handling was most of a million-row list's storing
time) into temporary tables without keys. Filing them into the items table is one
``INSERT ... SELECT``: the keys' upkeep, over half of the work, runs inside SQLite,
which holds no Python lock, so other Python (the list's files) runs beside it. Handing
the rows over is the part that needs the interpreter: the rows of the low band, most of
a list, carry no reasons, steps or changes, so they are staged without those three
columns, which the filing writes as constants. Elsewhere (PostgreSQL) the rows are
inserted by Core's executemany when filed.

A million rows, stored while the files were made: 19 to 20 s in one table, about 10 s
staged (``BENCHMARKS.md``, bench_daily of 2026-12-02).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import cast

import polars as pl
from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from earlywarn.serving.store import RiskListItem

ITEMS_TABLE = cast(Table, RiskListItem.__table__)
INSERT_CACHE_KIB = 64 * 1024  # SQLite's page cache while a list's rows are filed
STAGED = "temp.risk_list_items_staged"  # rows with something to read
STAGED_PLAIN = "temp.risk_list_items_staged_plain"  # rows with nothing to read
PLAIN = {"reasons": "[]", "steps": "[]", "changes": "{}"}  # what a low row carries

FileUnder = Callable[[int], None]  # files the staged rows under a list's id


@contextlib.contextmanager
def staged_items(session: Session, rows: pl.DataFrame) -> Iterator[FileUnder]:
    """Stage ``rows`` (the items' columns but ``list_id``) in the session's transaction;
    yield what files them under a list id. Whatever is not filed is dropped on exit."""
    connection = session.connection()
    if rows.is_empty():
        yield lambda _: None
        return
    if connection.dialect.name != "sqlite":

        def file_with_core(list_id: int) -> None:
            with_id = rows.with_columns(pl.lit(list_id).alias("list_id"))
            session.execute(insert(ITEMS_TABLE), with_id.to_dicts())

        yield file_with_core
        return
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection of an open session
    if not driver.in_transaction:
        # The driver opens a transaction before its first INSERT, not before DDL: the
        # staging tables' CREATE would be committed on its own, and a list that failed
        # would leave them on the pooled connection (the next list then failed on them).
        driver.execute("BEGIN")
    plain = pl.all_horizontal(pl.col(c).eq_missing(v) for c, v in PLAIN.items() if c in rows)
    parts = {STAGED: rows.filter(~plain), STAGED_PLAIN: rows.filter(plain).drop(*PLAIN)}
    # A million rows' (list, case) key is about 30 MB, reached at random places: beyond
    # SQLite's page cache it read the same pages again and again (a million real rows:
    # 12.9 to 15.5 s with the default 2 MB, 8.7 to 10.0 s with 64 MB, in two runs each).
    cache = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size=-{INSERT_CACHE_KIB}")
    try:
        for table, part in parts.items():
            driver.execute(f"CREATE TEMP TABLE {table} ({', '.join(part.columns)})")
            marks = ", ".join("?" * part.width)
            driver.executemany(f"INSERT INTO {table} VALUES ({marks})", part.iter_rows())

        def file_staged(list_id: int) -> None:
            named = ", ".join(rows.columns)
            for table, part in parts.items():
                chosen = ", ".join("?" if c not in part.columns else c for c in rows.columns)
                constants = [PLAIN[c] for c in rows.columns if c not in part.columns]
                driver.execute(
                    f"INSERT INTO {ITEMS_TABLE.name} (list_id, {named}) "
                    f"SELECT ?, {chosen} FROM {table}",
                    (list_id, *constants),
                )

        yield file_staged
    finally:
        for table in parts:
            driver.execute(f"DROP TABLE IF EXISTS {table}")
        driver.execute(f"PRAGMA cache_size={int(cache)}")
