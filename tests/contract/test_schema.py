"""The JSON Schema in data/schema/ and the loader say the same thing about every row."""

from __future__ import annotations

import json

import jsonschema
import polars as pl
import pytest

from earlywarn.contract import ContractError, load_dataset
from earlywarn.contract.json_schema import render_json_schema
from earlywarn.contract.spec import CONTRACT_VERSION, TABLES
from earlywarn.resources import schema_file
from tests.conftest import DatasetWriter, action_row, case_row, contact_row


def test_committed_schema_is_the_rendered_contract() -> None:
    committed = json.loads(schema_file(CONTRACT_VERSION).read_text(encoding="utf-8"))
    assert committed == render_json_schema(), "run `make schema` after changing the contract"


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(render_json_schema())


def test_schema_names_every_column_and_requirement() -> None:
    definitions = render_json_schema()["$defs"]
    for table in TABLES:
        row = definitions[f"{table.name}_row"]
        assert list(row["properties"]) == list(table.column_names)
        assert row["required"] == [c.name for c in table.columns if c.required]


# (table, row) pairs: valid rows and rows with one defect each, that JSON Schema can express.
ROWS: list[tuple[str, dict[str, str]]] = [
    ("cases", case_row(5)),
    ("cases", case_row(5, registered_at="2025-03-04T09:30:00+08:00")),
    ("cases", case_row(5, registered_at="2025-03-04 09:30")),
    ("cases", case_row(5, registered_at="04.03.2025")),
    ("cases", case_row(5, nature="complaint")),
    ("cases", case_row(5, nature="")),
    ("cases", case_row(5, county_code="")),
    ("cases", case_row(5, county_code="   ")),
    ("cases", case_row(5, category="unknown_code_kept_as_other")),
    ("contacts", contact_row(5, 0)),
    ("contacts", contact_row(5, 0, group_size="0")),
    ("contacts", contact_row(5, 0, group_size="7")),
    ("contacts", contact_row(5, 0, group_size="x")),
    ("contacts", contact_row(5, 0, level="County")),
    ("contacts", contact_row(5, 0, channel="")),
    ("actions", action_row(5, 0)),
    ("actions", action_row(5, 0, action_type="mediation", outcome="agreed")),
    ("actions", action_row(5, 0, action_type="mediation", outcome="satisfied")),
    ("actions", action_row(5, 0, action_type="closed", outcome="agreed")),
    ("actions", action_row(5, 0, action_type="responded", outcome="")),
    ("actions", action_row(5, 0, action_type="nap")),
]


def _schema_accepts(table: str, row: dict[str, str]) -> bool:
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/$defs/{table}_row", "$defs": render_json_schema()["$defs"]}
    )
    return validator.is_valid(row)


def _loader_accepts(write_dataset: DatasetWriter, table: str, row: dict[str, str]) -> bool:
    tables: dict[str, list[dict[str, str]]] = {
        "cases": [case_row(0)],
        "contacts": [contact_row(0, 0)],
        "actions": [action_row(0, 0)],
    }
    tables[table].append(row)
    try:
        load_dataset(write_dataset(**tables))
    except ContractError:
        return False
    return True


@pytest.mark.parametrize(("table", "row"), ROWS)
def test_loader_and_schema_agree(
    write_dataset: DatasetWriter, table: str, row: dict[str, str]
) -> None:
    assert _schema_accepts(table, row) == _loader_accepts(write_dataset, table, row)


def test_the_examples_cover_both_answers(write_dataset: DatasetWriter) -> None:
    answers = {_schema_accepts(table, row) for table, row in ROWS}
    assert answers == {True, False}
    assert pl.DataFrame  # polars is what the loader returns; nothing else to check here


def test_docs_show_the_current_contract() -> None:
    from pathlib import Path

    from earlywarn.contract.markdown import BEGIN_MARK, END_MARK, contract_markdown

    docs = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"
    section = docs.read_text(encoding="utf-8").split(BEGIN_MARK)[1].split(END_MARK)[0]
    assert section.strip() == contract_markdown().strip(), "run `make docs`"
