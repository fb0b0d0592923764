"""The mapping file (YAML) an office edits when its export says things its own way.

```yaml
tables:                  # a sheet or file whose headers fit two tables, named here
  信访记录2023: contacts
headers:                 # source header -> contract column, per table
  contacts:
    接谈时间: occurred_at
    录入时间: null         # not read: a second header for a column already read
values:                  # source value -> contract code, per column
  category:
    征迁补偿: demolition_resettlement
offices:                 # a receiving office whose level its name does not tell
  江海市信访局: county     # a county-level city (县级市)
database:                # for a database source: a table or a query per contract table
  cases: {table: xf_case}
  contacts: {query: "select * from xf_visit where deleted = 0"}
database_complete: true  # they hold every record: one gone from them was deleted
```

Everything in it is added to the defaults (``vocabulary.py``); `earlywarn import
--suggest-mapping SOURCE` writes one with every header and value it could not map.
Its JSON Schema is ``data/schema/import-mapping.schema.json`` (``make schema``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from earlywarn.contract.names import NAMES_ZH
from earlywarn.contract.spec import LEVELS, TABLES

TableName = Literal["cases", "contacts", "actions"]
Level = Literal["village", "township", "county", "city", "province", "national"]


class MappingFileError(ValueError):
    """A mapping file that cannot be used; the message names the file and the entry."""


class DatabaseTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str | None = Field(None, description="a table (or view) of the case system")
    query: str | None = Field(None, description="a SELECT whose columns are the table's")

    @model_validator(mode="after")
    def _one(self) -> DatabaseTable:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either table or query")
        return self


class MappingFile(BaseModel):
    """How an office's export maps onto the data contract, beyond the defaults."""

    model_config = ConfigDict(extra="forbid")
    tables: dict[str, TableName] = Field(
        default_factory=dict, description="sheet or file name -> contract table"
    )
    headers: dict[TableName, dict[str, str | None]] = Field(
        default_factory=dict,
        description="per table: source header -> contract column, or null: not read",
    )
    values: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="per coded column: source value -> contract code"
    )
    offices: dict[str, Level] = Field(
        default_factory=dict, description="receiving office's name -> level"
    )
    database: dict[TableName, DatabaseTable] = Field(
        default_factory=dict, description="for a database source: where each table is"
    )
    database_complete: bool = Field(
        True,
        description="the database's tables (or queries) hold every record, so one they no "
        "longer hold was deleted and is removed from the dataset; false for queries of a "
        "window of time",
    )

    @model_validator(mode="after")
    def _known(self) -> MappingFile:
        for table, headers in self.headers.items():
            columns = next(t for t in TABLES if t.name == table).column_names
            for header, column in headers.items():
                if column is not None and column not in columns:
                    raise ValueError(f"headers.{table}.{header}: {column!r} is not a column")
        for column, values in self.values.items():
            codes = (*NAMES_ZH.get(column, {}), *(LEVELS if column == "level" else ()))
            if column not in NAMES_ZH:
                raise ValueError(f"values.{column}: not a coded column ({', '.join(NAMES_ZH)})")
            for value, code in values.items():
                if code not in codes:
                    raise ValueError(f"values.{column}.{value}: {code!r} is not a code")
        return self


def read_mapping(path: Path) -> MappingFile:
    try:
        content: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MappingFileError(f"{path}: cannot be read: {error}") from error
    try:
        return MappingFile.model_validate(content)
    except ValidationError as error:  # every problem at once, not one per try
        said = [
            f"{'.'.join(str(part) for part in problem['loc']) or 'the file'}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise MappingFileError(f"{path}: {'; '.join(said)} (映射文件有误)") from error


def mapping_json_schema() -> dict[str, Any]:
    schema = MappingFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "earlywarn import mapping"
    return schema
