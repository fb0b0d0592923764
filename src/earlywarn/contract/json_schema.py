"""Render the contract as JSON Schema (draft 2020-12) for other systems to validate against.

The committed file ``data/schema/contract-<version>.schema.json`` is this
function's output; a test holds the two equal, and ``earlywarn schema`` rewrites
it after a contract change. Rows are described as JSON objects with the CSV's
text values (timestamps as ISO 8601 strings).
"""

from __future__ import annotations

from typing import Any

from earlywarn.contract.spec import ACTION_OUTCOMES, CONTRACT_VERSION, TABLES, Column, Kind

# ISO 8601 as the loader accepts it: a date, or date and time (a space for the
# "T" is tolerated), optional seconds and fraction, optional offset.
TIMESTAMP_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
# A whole number of at least 1, as text (CSV) may carry it.
POSITIVE_INTEGER_PATTERN = r"^\s*\+?0*[1-9]\d{0,8}\s*$"
_ABSENT: list[dict[str, Any]] = [{"type": "null"}, {"const": ""}]  # "not given"


def _column_schema(column: Column) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": column.meaning}
    if column.kind is Kind.TIMESTAMP:
        schema |= {"type": "string", "pattern": TIMESTAMP_PATTERN}
    elif column.kind is Kind.POSITIVE_INT:
        schema |= {
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": POSITIVE_INTEGER_PATTERN},
            ]
        }
        schema["x-earlywarn-minimum"] = 1
    elif column.kind is Kind.ENUM and column.fallback is None:
        schema |= {"type": "string", "enum": list(column.values)}
    elif column.kind is Kind.ENUM:
        # Open enumeration: unknown codes are read as the fallback, with a warning.
        schema |= {
            "type": "string",
            "minLength": 1,
            "x-earlywarn-known-values": list(column.values),
        }
        schema["x-earlywarn-fallback"] = column.fallback
    else:
        schema |= {"type": "string"}
        if column.required:
            schema["pattern"] = r"\S"
    if column.kind in (Kind.IDENTIFIER, Kind.CODE):
        schema["x-earlywarn-personal-data-guard"] = (
            "identity-card numbers, mobile numbers"
            + (" and bare personal names" if column.kind is Kind.IDENTIFIER else "")
            + " are rejected"
        )
    if column.kind is Kind.FREE_TEXT:
        schema["x-earlywarn-redacted"] = "ID and phone numbers are replaced before storage"
    if not column.required:
        # An empty field means "not given" for an optional column.
        schema = {
            "anyOf": [schema, *_ABSENT],
            "description": column.meaning,
        }
    return schema


def _outcome_rules() -> list[dict[str, Any]]:
    """An outcome only for the action types that name one, from their own list."""
    rules = []
    for action_type, outcomes in ACTION_OUTCOMES.items():
        choices: list[dict[str, Any]] = [{"enum": list(outcomes)}] if outcomes else []
        allowed = {"anyOf": [*choices, *_ABSENT]}
        rules.append(
            {
                "if": {
                    "properties": {"action_type": {"const": action_type}},
                    "required": ["action_type"],
                },
                "then": {"properties": {"outcome": allowed}},
            }
        )
    return rules


def render_json_schema() -> dict[str, Any]:
    """The whole contract: one row schema per table, and a dataset of the tables."""
    definitions: dict[str, Any] = {}
    for table in TABLES:
        row: dict[str, Any] = {
            "type": "object",
            "description": f"one row of {table.name}; key {table.key}",
            "required": [c.name for c in table.columns if c.required],
            "properties": {c.name: _column_schema(c) for c in table.columns},
            "additionalProperties": True,
            "x-earlywarn-key": table.key,
        }
        if table.references_cases:
            row["x-earlywarn-references"] = "case_id must exist in cases"
        if table.name == "actions":
            row["allOf"] = _outcome_rules()
        definitions[f"{table.name}_row"] = row
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:earlywarn:contract:{CONTRACT_VERSION}",
        "title": f"earlywarn data contract {CONTRACT_VERSION}",
        "description": "Tables of a dataset directory: cases, contacts, optional actions.",
        "type": "object",
        "required": [t.name for t in TABLES if t.required],
        "properties": {
            t.name: {"type": "array", "items": {"$ref": f"#/$defs/{t.name}_row"}} for t in TABLES
        },
        "$defs": definitions,
    }
