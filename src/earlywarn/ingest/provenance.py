"""Problems and quarantined rows named where the office wrote them: the workbook and
sheet (or file), the row as the office sees it, and the source's own header.

The contract's checks run on the mapped tables, whose rows are numbered by ``LINE``;
the lineage kept while mapping (``run._raw_tables``) turns each line back into its
source and row.
"""

from __future__ import annotations

import polars as pl

from earlywarn.contract.cells import neutralised
from earlywarn.contract.personal import echoed_text
from earlywarn.contract.report import Severity, ValidationReport, issue_frame
from earlywarn.ingest.mapping import MappedTable
from earlywarn.ingest.sources import ROW


def in_source_terms(
    issues: pl.DataFrame, provenance: pl.DataFrame, mapped: list[MappedTable]
) -> pl.DataFrame:
    """Issues found on the mapped tables, named by source file, row and header."""
    if issues.is_empty() or provenance.is_empty():
        return issues
    headers = {(m.origin, column): header for m in mapped for column, header in m.headers.items()}
    # A duplicate key says where the key came first: a line of the mapped table, named
    # in source terms too.
    first = provenance.select(
        "file", pl.col("line").alias("_first"), pl.format("{}, row {}", "origin", "row")
        .alias("_first_place"),
    )  # fmt: skip
    issues = (
        issues.with_columns(
            pl.col("detail").str.extract(r"first on line (\d+)$").cast(pl.Int64).alias("_first")
        )
        .join(first, on=["file", "_first"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("_first_place").is_not_null())
            .then(pl.col("detail").str.replace(r"first on line \d+$", "")
                  + pl.lit("first in ") + pl.col("_first_place"))
            .otherwise(pl.col("detail"))
            .alias("detail")
        )
        .drop("_first", "_first_place")
    )  # fmt: skip
    joined = issues.with_row_index("_order").join(provenance, on=["file", "line"], how="left")
    located = joined.with_columns(
        pl.coalesce("origin", "file").alias("file"),
        pl.when(pl.col("origin").is_not_null()).then(pl.col("row")).otherwise(pl.col("line"))
        .alias("line"),
        pl.struct("origin", "column").map_elements(
            lambda item: _named(headers, item["origin"], item["column"]), return_dtype=pl.String
        ).alias("column"),
    )  # fmt: skip
    return located.sort("_order").select(issues.columns)


def _named(
    headers: dict[tuple[str, str], str], origin: str | None, column: str | None
) -> str | None:
    if column is None:
        return None
    header = headers.get((origin or "", column))
    return f"{header} ({column})" if header and header != column else column


def locate_quarantine(report: ValidationReport, provenance: pl.DataFrame) -> None:
    """Quarantined rows with where they came from: the source and its row, first."""
    for summary in report.tables:
        path = summary.quarantine_path
        if path is None or provenance.is_empty():
            continue
        rows = pl.read_csv(path, infer_schema=False).with_columns(pl.col("line").cast(pl.Int64))
        where = provenance.filter(pl.col("file").str.ends_with(f"({summary.table})")).select(
            "line", pl.col("origin").alias("source"), pl.col("row").alias("source_row")
        )
        located = rows.join(where, on="line", how="left")
        located = located.select("source", "source_row", pl.exclude("source", "source_row"))
        neutralised(located).write_csv(path)


def unknown_categories(mapped: list[MappedTable], shown: int = 50) -> pl.DataFrame:
    """Each row whose category names no code (read as 'other', as the contract says), with
    its place: the contract's own warning only counts them."""
    found = []
    for table in mapped:
        for (column, value), _ in table.unmapped_values.items():
            if column != "category":
                continue  # other unmapped values are refused by the contract, row by row
            rows = table.frame.filter(pl.col(column) == value).get_column(ROW).to_list()
            found += [
                {"severity": Severity.WARNING.value, "file": table.origin, "line": row,
                 "column": f"{table.headers[column]} ({column})", "code": "unknown_category",
                 "detail": f"{echoed_text(value)!r} read as 'other'; map it in a mapping file"}
                for row in rows
            ]  # fmt: skip
    return issue_frame(found[:shown]) if found else issue_frame([])
