"""How scoring reads a table's values: only the rows a person will read, a column at a
time as the reasons and steps ask for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import polars as pl

ValueOf = Callable[[int, str], Any]  # (row, feature or case-state column) -> the case's value
# The rows that will be read (row numbers) -> how to read their values
ValuesOf = Callable[[np.ndarray], ValueOf]


class RowValues(Mapping[str, Any]):
    """One row's values by name, read on demand (the steps read a dozen of them)."""

    def __init__(self, value_of: ValueOf, row: int) -> None:
        self._value_of, self._row = value_of, row

    def __getitem__(self, name: str) -> Any:
        return self._value_of(self._row, name)

    def get(self, name: str, default: Any = None) -> Any:  # the hot path: no ABC detour
        try:
            return self._value_of(self._row, name)
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def table_values(features: pl.DataFrame) -> ValuesOf:
    """The values of the rows to read, column by column as they are asked for."""

    def values_of(rows: np.ndarray) -> ValueOf:
        chosen = features[rows]
        position = {row: i for i, row in enumerate(rows.tolist())}
        columns: dict[str, list[Any]] = {}

        def value_of(row: int, name: str) -> Any:
            if name not in columns:
                column = chosen.get_column(name)
                if isinstance(column.dtype, pl.Enum | pl.Categorical):
                    column = column.cast(pl.String)
                columns[name] = column.to_list()
            return columns[name][position[row]]

        return value_of

    return values_of
