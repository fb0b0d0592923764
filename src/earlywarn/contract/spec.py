"""The data contract (shared/spec/data-contract.md, version 1.0) as data.

Everything that checks, documents or renders the contract reads these
definitions: the loader, the JSON Schema in ``data/schema/`` and the docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CONTRACT_VERSION = "1.0"
OFFICE_TIME_ZONE = "Asia/Shanghai"

LEVELS: tuple[str, ...] = ("village", "township", "county", "city", "province", "national")
CHANNELS: tuple[str, ...] = ("letter", "visit", "online", "phone")
NATURES: tuple[str, ...] = ("appeal", "report", "suggestion", "inquiry")
CATEGORIES: tuple[str, ...] = (
    "land_requisition",
    "demolition_resettlement",
    "land_dispute",
    "wage_arrears",
    "social_security",
    "cadre_conduct",
    "village_affairs",
    "neighbor_dispute",
    "economic_dispute",
    "law_litigation",
    "reservoir_migration",
    "enterprise_restructuring",
    "veterans_resettlement",
    "retiree_benefits",
    "environment",
    "urban_management",
    "other",
)
FALLBACK_CATEGORY = "other"

# Categories whose petitioners compare themselves with each other (攀比): a
# settlement or a group visit in one raises claims in the others nearby.
CATEGORY_FAMILY: dict[str, str] = {
    "land_requisition": "land",
    "land_dispute": "land",
    "reservoir_migration": "land",
    "demolition_resettlement": "urban",
    "environment": "urban",
    "urban_management": "urban",
    "wage_arrears": "money",
    "social_security": "money",
    "enterprise_restructuring": "money",
    "retiree_benefits": "money",
    "cadre_conduct": "conduct",
    "village_affairs": "conduct",
    "neighbor_dispute": "dispute",
    "economic_dispute": "dispute",
    "law_litigation": "dispute",
    "veterans_resettlement": "veterans",
    "other": "other",
}

# action_type -> the outcomes it may carry (empty: the type carries no outcome).
ACTION_OUTCOMES: dict[str, tuple[str, ...]] = {
    "accepted": (),
    "rejected": (),
    "assigned": (),
    "transferred": (),
    "leader_reception": (),
    "mediation": ("agreed", "failed"),
    "responded": ("supported", "partly_supported", "not_supported"),
    "satisfaction": ("satisfied", "unsatisfied"),
    "review_requested": (),
    "review_decided": ("upheld", "changed"),
    "re_review_requested": (),
    "re_review_decided": ("upheld", "changed"),
    "relief_granted": (),
    "closed": (),
    "reopened": (),
    "terminated": (),
}
ACTION_TYPES: tuple[str, ...] = tuple(ACTION_OUTCOMES)
OUTCOMES: tuple[str, ...] = tuple(
    dict.fromkeys(outcome for outcomes in ACTION_OUTCOMES.values() for outcome in outcomes)
)


class Kind(StrEnum):
    """How a column's values are written and checked."""

    IDENTIFIER = "identifier"  # opaque pseudonym: checked for personal data
    CODE = "code"  # area or unit code: checked for personal data
    TIMESTAMP = "timestamp"
    ENUM = "enum"
    POSITIVE_INT = "positive_int"
    FREE_TEXT = "free_text"  # redacted before it is kept


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    required: bool
    meaning: str
    values: tuple[str, ...] = ()
    # Unknown values of an open enumeration are replaced by this one, with a warning.
    fallback: str | None = None


@dataclass(frozen=True)
class Table:
    """One table of a dataset directory."""

    name: str
    required: bool
    key: str
    columns: tuple[Column, ...]
    references_cases: bool

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


CASES = Table(
    name="cases",
    required=True,
    key="case_id",
    references_cases=False,
    columns=(
        Column("case_id", Kind.IDENTIFIER, True, "unique key of the petition matter"),
        Column("petitioner_id", Kind.IDENTIFIER, True, "pseudonym of the petitioner or group"),
        Column("registered_at", Kind.TIMESTAMP, True, "when the matter was first registered"),
        Column("county_code", Kind.CODE, True, "county-level area that owns the case"),
        Column("township_code", Kind.CODE, False, "township or street within the county"),
        Column(
            "category",
            Kind.ENUM,
            True,
            "case category code",
            values=CATEGORIES,
            fallback=FALLBACK_CATEGORY,
        ),
        Column("nature", Kind.ENUM, False, "nature of the petition", values=NATURES),
        Column("responsible_unit", Kind.CODE, False, "department that owns the handling"),
        Column("summary", Kind.FREE_TEXT, False, "free text of the grievance, redacted"),
    ),
)

CONTACTS = Table(
    name="contacts",
    required=True,
    key="contact_id",
    references_cases=True,
    columns=(
        Column("contact_id", Kind.IDENTIFIER, True, "unique key of the contact"),
        Column("case_id", Kind.IDENTIFIER, True, "the case the contact belongs to"),
        Column("occurred_at", Kind.TIMESTAMP, True, "when the contact was received"),
        Column("channel", Kind.ENUM, True, "letter, visit, online or phone", values=CHANNELS),
        Column("level", Kind.ENUM, True, "government level that received it", values=LEVELS),
        Column("group_size", Kind.POSITIVE_INT, True, "people present or signatories"),
    ),
)

ACTIONS = Table(
    name="actions",
    required=False,
    key="action_id",
    references_cases=True,
    columns=(
        Column("action_id", Kind.IDENTIFIER, True, "unique key of the handling step"),
        Column("case_id", Kind.IDENTIFIER, True, "the case the step belongs to"),
        Column("occurred_at", Kind.TIMESTAMP, True, "when the step happened"),
        Column("action_type", Kind.ENUM, True, "kind of handling step", values=ACTION_TYPES),
        Column("unit", Kind.CODE, False, "department that took the step"),
        Column("outcome", Kind.ENUM, False, "outcome, for the types that name one", OUTCOMES),
    ),
)

TABLES: tuple[Table, ...] = (CASES, CONTACTS, ACTIONS)
# The moment each table's row records (when a case was registered, a contact or step made).
MOMENTS: dict[str, str] = {
    "cases": "registered_at",
    "contacts": "occurred_at",
    "actions": "occurred_at",
}


class Mode(StrEnum):
    """How a dataset is loaded: strict refuses it on any error, lenient quarantines the
    rows that cannot be used."""

    STRICT = "strict"
    LENIENT = "lenient"
