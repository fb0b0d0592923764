"""A case system's own database as the source: the tables or queries the mapping file's
``database`` section names, read as an export would show them.

As the database hunt found it: the tables were read one after the other (a case
registered meanwhile lost its contact), in the order the server kept them (which copy
of a duplicate key was kept changed when a row was edited), without a limit on a lock
(a vendor's maintenance held the night), a table named as the vendor writes it
(``XF_DJ``, ``xf.xf_bl``) was not found on PostgreSQL, and a failure named neither
the table nor the query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from earlywarn.ingest.mapping_file import DatabaseTable, MappingFile
from earlywarn.ingest.sources import ROW, SourceError, SourceTable, cleaned, shown_source

# How long a read waits for a table another session locked, and for the server to
# answer at all, before the night fails in one line (PostgreSQL).
SOURCE_LOCK_SECONDS = 60
SOURCE_CONNECT_SECONDS = 30


def read_database(url: str, mapping: MappingFile | None) -> list[SourceTable]:
    """The tables (or queries) the mapping file's ``database`` section names, every value
    as text, read in one snapshot; a table's rows in a stable order (sorted), a query's
    as it returns them."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    places = mapping.database if mapping is not None else {}
    if not places:
        raise SourceError(
            "a database source needs a mapping file with a database section naming the "
            "table or query of cases and contacts (and actions): --mapping FILE, or the "
            "import_mapping setting (EARLYWARN_IMPORT_MAPPING) (数据库来源需要映射文件)"
        )
    shown = shown_source(url)
    _refuse_missing_sqlite_file(url, shown)
    try:
        engine = create_engine(url, connect_args=_source_arguments(url))
    except (SQLAlchemyError, ImportError, ValueError) as error:  # no such dialect or driver
        raise SourceError(f"{shown}: {_first_line(error)}{_spelling(url)}") from error
    tables = []
    where = ""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":  # every table as of one moment
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                for table, place in places.items():
                    where = _place_words(table, place)
                    query = place.query or f"SELECT * FROM {_table_name(connection, place)}"
                    frame = pl.read_database(text(query), connection, infer_schema_length=None)
                    frame = frame.with_columns(as_text(frame[c]) for c in frame.columns)
                    if place.table:  # the server's order is no order: sorted, the same each night
                        frame = frame.sort(frame.columns, nulls_last=True)
                    frame = frame.with_row_index(ROW, offset=1)
                    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
                    origin = f"{shown}, {where}"
                    tables.append(cleaned(SourceTable(origin, frame, name=table, table=table)))
    except SQLAlchemyError as error:
        raise SourceError(
            f"{shown}{', ' + where if where else ''}: {_first_line(error)} (读取数据库失败)"
        ) from error
    except pl.exceptions.PolarsError as error:  # values that are not text, repeated names
        raise SourceError(
            f"{shown}, {where}: the rows cannot be read as text: {_first_line(error)}"
        ) from error
    finally:
        engine.dispose()
    return tables


def _place_words(table: str, place: DatabaseTable) -> str:
    return f"table {place.table} ({table})" if place.table else f"the query of {table}"


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__


def _spelling(url: str) -> str:
    return (
        "; write postgresql+psycopg:// (URL 写法有误)"
        if url.startswith(("postgres://", "postgres+"))
        else ""
    )


def _source_arguments(url: str) -> dict[str, Any]:
    """A lock waited for and a server waited on for a bounded time (PostgreSQL)."""
    if not url.startswith("postgresql"):
        return {}
    return {
        "connect_timeout": SOURCE_CONNECT_SECONDS,
        "options": f"-c lock_timeout={SOURCE_LOCK_SECONDS * 1000}",
    }


def _table_name(connection: Any, place: DatabaseTable) -> str:
    """The table as the server knows it, quoted: ``schema.table`` read as both; a name
    written in capitals (as vendors document them) found in the lower case PostgreSQL
    keeps unquoted names in."""
    from sqlalchemy import inspect

    written = place.table or ""
    schema, _, name = written.rpartition(".")
    known = inspect(connection)
    if schema and schema not in known.get_schema_names():
        folded = [n for n in known.get_schema_names() if n.lower() == schema.lower()]
        schema = folded[0] if len(folded) == 1 else schema
    names = [*known.get_table_names(schema or None), *known.get_view_names(schema or None)]
    if name not in names:
        folded = [n for n in names if n.lower() == name.lower()]
        name = folded[0] if len(folded) == 1 else name
    quote = connection.dialect.identifier_preparer.quote
    return f"{quote(schema)}.{quote(name)}" if schema else quote(name)


def _refuse_missing_sqlite_file(url: str, shown: str) -> None:
    """SQLite creates a database file it is asked to open: a mistyped path would read an
    empty database (and leave the file behind) instead of failing."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return  # said by create_engine, with its reason
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and not in_memory and not Path(database).is_file():
        raise SourceError(f"{shown}: no such database file {database} (数据库文件不存在)")


def as_text(column: pl.Series) -> pl.Series:
    """A database column as the text an office's export would show: a code or count
    stored as REAL/FLOAT or NUMERIC (330213007.0, 330211.00) is written whole, as the
    system shows it; other values as they are."""
    if column.dtype.is_float() or isinstance(column.dtype, pl.Decimal):
        values = column.drop_nulls().cast(pl.Float64)
        if values.len() and bool((values.is_finite() & (values == values.round(0))).all()):
            return column.cast(pl.Int64).cast(pl.String)
    return column.cast(pl.String)
