"""The risk-list routes' bodies: a stored list's page of rows, what changed since the
previous list, and the review a reviewer posts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    field_serializer,
    model_validator,
)

from earlywarn.contract.rules import OFFICE_ZONE, with_office_offset
from earlywarn.contract.spec import CATEGORIES
from earlywarn.serving.list_changes import EVENTS
from earlywarn.serving.schemas import ReasonOut, Step, Text

BANDS: list[JsonValue] = ["high", "medium", "low"]
Decision = Literal["acknowledged", "action_taken", "dismissed"]
DECISIONS: list[JsonValue] = list(get_args(Decision))


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(value: object) -> object:
    """A list's date as the lists name it, YYYY-MM-DD: pydantic also read a number of
    seconds (1735603200) and a midnight timestamp as a date, and answered that day."""
    if isinstance(value, str) and not _DAY.fullmatch(value):
        raise ValueError("a date as YYYY-MM-DD, e.g. 2024-12-31 (日期应为 年-月-日，如 2024-12-31)")
    return value


ListDay = Annotated[
    dt.date,
    BeforeValidator(_day),
    Path(description="the list's date, YYYY-MM-DD", examples=["2024-12-31"]),
]


def stored_moment(value: dt.datetime) -> str:
    """A moment the store keeps in UTC, answered in office time as every moment is."""
    return value.replace(tzinfo=dt.UTC).astimezone(OFFICE_ZONE).isoformat()


def listed_values(values: list[JsonValue], description: str, **field: Any) -> Any:
    """A field whose values the OpenAPI document lists for clients, without refusing a
    stored value outside them in an answer (a list stored by an earlier version)."""
    return Field(description=description, json_schema_extra={"enum": values}, **field)


class ChangeEvent(BaseModel):
    event: str = listed_values([*EVENTS], "what happened since the previous list")
    n: int


class ListChange(BaseModel):
    """What changed since the previous stored list (medium and high rows only)."""

    since: dt.date = Field(description="the date of the previous list")
    new: bool = Field(description="low or absent on the previous list")
    band_before: str | None = listed_values(
        [*BANDS, None], "the band on the previous list; null: absent"
    )
    delta: dict[str, float] | None = Field(description="probability now minus then, by target")
    events: list[ChangeEvent]
    text_zh: list[str]
    text_en: list[str]


class ListItem(BaseModel):
    rank: int
    case_id: str
    county_code: str
    township_code: str | None
    category: str = listed_values([*CATEGORIES], "the matter's category (contract codes)")
    escalation_probability: float
    collective_probability: float
    escalation_flag: bool
    collective_flag: bool
    risk_band: str = listed_values(BANDS, "the higher of the two targets' bands")
    reasons: list[ReasonOut]
    recommended_steps: list[Step]
    days_since_last_contact: float | None
    review: str | None = listed_values(
        [*DECISIONS, None],
        "the latest review's decision on this list; null: not reviewed",
        default=None,
    )
    changes: ListChange | None = None


class ListPage(BaseModel):
    list_date: dt.date
    as_of: dt.datetime
    model_versions: str
    total: int
    page: int
    page_size: int
    items: list[ListItem]

    _as_of = field_serializer("as_of")(lambda self, value: with_office_offset(value))


class StoredList(BaseModel):
    """One stored day's list, without its rows (``GET /v1/risk-lists/{list_date}``)."""

    list_date: dt.date
    as_of: dt.datetime
    model_versions: str
    created_at: dt.datetime = Field(description="when the list was stored")

    _as_of = field_serializer("as_of")(lambda self, value: with_office_offset(value))
    _created = field_serializer("created_at")(lambda self, value: stored_moment(value))


class StoredLists(BaseModel):
    lists: list[StoredList] = Field(description="the stored days, newest first")


class ReviewIn(BaseModel):
    # A field the route does not know is refused by name, as a query parameter is: a
    # "reasons" for "reason" was answered 200 and the reason lost.
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    step: Text | None = Field(
        default=None, max_length=64, description="required for action_taken: a step key"
    )
    reason: Text | None = Field(
        default=None,
        max_length=2000,
        description="required for dismissed; ID and phone numbers are redacted before storing",
    )

    @model_validator(mode="after")
    def _complete(self) -> ReviewIn:
        # Spaces alone say nothing: a dismissal with a reason of "  " was stored.
        self.reason = self.reason.strip() or None if self.reason is not None else None
        self.step = self.step.strip() or None if self.step is not None else None
        if self.decision == "action_taken" and not self.step:
            raise ValueError("action_taken needs the step that was taken")
        if self.decision != "action_taken" and self.step:
            raise ValueError("a step is recorded with action_taken only: leave it out")
        if self.decision == "dismissed" and not self.reason:
            raise ValueError("dismissed needs a reason")
        return self


class ReviewOut(BaseModel):
    list_date: dt.date
    case_id: str
    decision: str
    step: str | None
    reason: str | None
    created_at: dt.datetime  # stored in UTC, answered in office time as every moment is

    _created = field_serializer("created_at")(lambda self, value: stored_moment(value))
