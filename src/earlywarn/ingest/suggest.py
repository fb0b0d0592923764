"""``earlywarn import --suggest-mapping``: a mapping file to fill in, from what was found.

Lists every header that maps to no contract column, every value no code was found
for (with its count) and every table whose headers fit two; the office fills in the
right-hand sides and imports with ``--mapping``.
"""

from __future__ import annotations

import json
from pathlib import Path

from earlywarn.contract.names import NAMES_ZH
from earlywarn.contract.personal import echoed_text
from earlywarn.contract.spec import LEVELS, TABLES
from earlywarn.ingest.database_source import read_database
from earlywarn.ingest.mapping import MappingError, classify, map_table
from earlywarn.ingest.mapping_file import MappingFile
from earlywarn.ingest.sources import is_database, read_source, shown_source
from earlywarn.ingest.vocabulary import Vocabulary, is_personal_header


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def suggest_mapping(source: Path | str, mapping: MappingFile | None = None) -> str:
    vocabulary = Vocabulary.of(mapping)
    found_tables = (
        read_database(source, mapping)
        if isinstance(source, str) and is_database(source)
        else read_source(Path(source), vocabulary)
    )
    tables: dict[str, str] = {}
    headers: dict[str, dict[str, int]] = {}
    values: dict[str, dict[str, int]] = {}
    for found in found_tables:
        try:
            table = classify(found, vocabulary)
        except MappingError as error:
            tables[found.name] = str(error)
            continue
        mapped = map_table(found, table, vocabulary)
        for header in mapped.unmapped_headers:
            rows = int(found.frame.get_column(header).is_not_null().sum())
            headers.setdefault(table.name, {})[header] = rows
        for (column, value), count in mapped.unmapped_values.items():
            shown = echoed_text(value)  # an ID, a phone number or a name is no value to map
            values.setdefault(column, {})[shown] = values.get(column, {}).get(shown, 0) + count
    lines = [
        "# earlywarn import mapping: fill in what earlywarn could not map, then run",
        f"#   earlywarn import {shown_source(source)} --mapping THIS_FILE --out DATASET",
        "# Leave out what should stay unmapped. Schema: data/schema/import-mapping.schema.json",
    ]
    lines.append("tables:" + ("" if tables else " {}"))
    for name, why in tables.items():
        lines += [f"  # {why}", f'  {_quoted(name)}: ""  # cases, contacts or actions']
    lines.append("headers:" + ("" if headers else " {}"))
    for table_name, found_headers in headers.items():
        columns = next(t for t in TABLES if t.name == table_name).column_names
        lines += [f"  {table_name}:  # columns: {', '.join(columns)}"]
        for header, rows in found_headers.items():
            if is_personal_header(header):  # never a column: said, not offered to fill in
                lines.append(
                    f"    # {_quoted(header)}: personal data, never read (个人信息，勿映射)"
                )
                continue
            lines.append(f'    {_quoted(header)}: ""  # {rows:,} rows with a value')
    lines.append("values:" + ("" if values else " {}"))
    for column, found_values in values.items():
        codes = LEVELS if column == "level" else tuple(NAMES_ZH[column])
        lines += [f"  {column}:  # codes: {', '.join(codes)}"]
        for value, count in sorted(found_values.items(), key=lambda item: -item[1]):
            lines.append(f'    {_quoted(value)}: ""  # {count:,} rows')
    lines.append("offices: {}  # an office's name -> level, where its name misleads (县级市)")
    return "\n".join(lines) + "\n"
