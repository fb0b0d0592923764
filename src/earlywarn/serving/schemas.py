"""The API's request and response bodies: the contract's columns, validated field by field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
)

from earlywarn.contract.rules import end_of_day, office_time, with_office_offset
from earlywarn.contract.spec import ACTION_OUTCOMES, CHANNELS, LEVELS, NATURES
from earlywarn.models import reasons as reason_data
from earlywarn.models import steps as step_data
from earlywarn.models.scoring import CaseScore

# What no store can keep: a NUL byte, other control characters (tab and line breaks
# pass), a lone surrogate (PostgreSQL rejects NUL, every encoder a lone surrogate); and
# what shows text other than it is: a direction override (C\u202etxt.exe read reversed
# on the page and in the ledger).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# What pydantic's lax mode reads as seconds since 1970 when it is a string: "1735689600",
# "-1", "1735689600.5", and "20240101" (a date in ISO 8601's basic form, read as 1970-08-23).
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def plain_text(value: str) -> str:
    """Refuse what no store can keep (``_UNSTORABLE``)."""
    if _UNSTORABLE.search(value):
        raise ValueError(
            "contains a control character, an unpaired surrogate or a direction override"
        )
    return value


def _moment_as_text(value: object) -> object:
    """A timestamp must be written as one (ISO 8601), not as a number of seconds, nor as
    a number in a string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a timestamp must be an ISO 8601 string, not a number")
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        raise ValueError("a timestamp must be an ISO 8601 string, not a number in a string")
    return value


_DAY_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_as_its_end(value: object) -> object:
    """An ``as_of`` given as a day alone is that day's end, the moment the day's list
    stands at: "2024-12-31" read as its first moment scored the case a day earlier than
    the list of 2024-12-31."""
    value = _moment_as_text(value)
    if isinstance(value, str) and _DAY_ONLY.fullmatch(value.strip()):
        try:
            return end_of_day(dt.date.fromisoformat(value.strip())).isoformat()
        except ValueError:
            return value  # not a day (2024-02-30): said by the parser
    return value


def _as_code(column: str, codes: tuple[str, ...]) -> BeforeValidator:
    """A coded value as offices write it (来访, 申诉求决, 市信访局) read as its code, as the
    import reads it; anything else is left for the code's own check to refuse. A code
    passes at once: the score API's every contact comes this way."""
    known = frozenset(codes)

    def coded(value: object) -> object:
        if not isinstance(value, str) or value in known:
            return value
        from earlywarn.ingest.vocabulary import code_of

        return code_of(column, value) or value

    return BeforeValidator(coded)


Text = Annotated[str, AfterValidator(plain_text)]
# A moment as ISO 8601 text, converted to naive office local time.
Moment = Annotated[dt.datetime, BeforeValidator(_moment_as_text), AfterValidator(office_time)]
AsOf = Annotated[dt.datetime, BeforeValidator(_day_as_its_end), AfterValidator(office_time)]


class _Strict(BaseModel):
    """Every free string field is ``Text`` (checked once, in its own type); the
    ``Literal`` ones are checked by their values. A field the API does not know is
    refused with its name: a misspelt ``contact`` or ``groupsize`` was ignored, and the
    case scored as if it had no contacts."""

    model_config = ConfigDict(extra="forbid", str_min_length=1, str_max_length=200)


class CaseIn(_Strict):
    case_id: Text
    petitioner_id: Text
    registered_at: Moment
    county_code: Text
    township_code: Text | None = None
    category: Text = Field(
        description="a category code, or its name as offices write it (征地补偿); anything "
        "else is read as 'other', and the answer's notes say so"
    )
    nature: Annotated[Literal[NATURES] | None, _as_code("nature", NATURES)] = None  # type: ignore[valid-type]
    responsible_unit: Text | None = None
    summary: str | None = Field(
        default=None,
        max_length=100_000,
        description="accepted as the contract's files carry it, never read: free text is "
        "not scored, stored or logged",
    )


class ContactIn(_Strict):
    contact_id: Text
    case_id: Text | None = Field(
        default=None, description="may be given, as in the contract's files: the case's own"
    )
    occurred_at: Moment
    channel: Annotated[Literal[CHANNELS], _as_code("channel", CHANNELS)]  # type: ignore[valid-type]
    level: Annotated[Literal[LEVELS], _as_code("level", LEVELS)]  # type: ignore[valid-type]
    # Strict: a count, never true (read as 1) nor text ("25"), as the contract's files.
    group_size: int = Field(ge=1, le=100_000, strict=True)


class _ActionBase(_Strict):
    action_id: Text
    case_id: Text | None = Field(
        default=None, description="may be given, as in the contract's files: the case's own"
    )
    occurred_at: Moment
    unit: Text | None = None


# One model per group of action types, so that the OpenAPI document itself says
# which outcome each type may carry (the contract's rule), not only the server.
# A test holds these literals equal to ACTION_OUTCOMES.
_NO_OUTCOME = tuple(t for t, outcomes in ACTION_OUTCOMES.items() if not outcomes)


class PlainAction(_ActionBase):
    action_type: Literal[_NO_OUTCOME]  # type: ignore[valid-type]
    outcome: None = None


class MediationAction(_ActionBase):
    action_type: Literal["mediation"]
    outcome: Literal["agreed", "failed"] | None = None


class AnswerAction(_ActionBase):
    action_type: Literal["responded"]
    outcome: Literal["supported", "partly_supported", "not_supported"] | None = None


class RatingAction(_ActionBase):
    action_type: Literal["satisfaction"]
    outcome: Literal["satisfied", "unsatisfied"] | None = None


class DecisionAction(_ActionBase):
    action_type: Literal["review_decided", "re_review_decided"]
    outcome: Literal["upheld", "changed"] | None = None


ActionIn = Annotated[
    PlainAction | MediationAction | AnswerAction | RatingAction | DecisionAction,
    Field(discriminator="action_type"),
]


# The README's example: what an integrator can send as it is.
_EXAMPLE: dict[str, Any] = {
    "case": {"case_id": "C-1", "petitioner_id": "P-1", "registered_at": "2024-10-02T09:30:00",
             "county_code": "330211", "category": "land_requisition"},
    "contacts": [{"contact_id": "K1", "occurred_at": "2024-11-20T10:00:00", "channel": "visit",
                  "level": "city", "group_size": 25}],
    "actions": [{"action_id": "A1", "occurred_at": "2024-10-05T10:00:00",
                 "action_type": "accepted"}],
    "as_of": "2025-01-01T00:00:00",
}  # fmt: skip


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    case: CaseIn
    contacts: list[ContactIn] = Field(default_factory=list, max_length=5000)
    actions: list[ActionIn] | None = Field(
        default=None,
        max_length=5000,
        description="the case's handling steps up to as_of; [] when none has been taken "
        "yet. Omitted, the handling history is unknown (as for a system that keeps none): "
        "the case is scored without it, and the answer's notes say so",
    )
    as_of: AsOf | None = Field(
        default=None,
        description="the moment scored, office local time (default: now); a day alone "
        "(2024-12-31) is that day's end, the moment the day's list stands at",
    )


class ErrorOut(BaseModel):
    detail: str


class ReasonOut(BaseModel):
    """A reason behind a score: the feature, the case's value, its signed contribution,
    its kind and its sentence in both languages."""

    feature: str
    kind: Literal["handling", "activity", "calendar", "background"]
    label_zh: str
    label_en: str
    value: float | str | None
    contribution: float
    text_zh: str
    text_en: str


class TargetScore(BaseModel):
    probability: float = Field(
        description="calibrated probability, 0 to 1, that the case has the event within "
        "the horizon (30 days): for escalation a contact above every level it reached, "
        "for collective a contact of 5 or more people"
    )
    flag: bool = Field(
        description="at or above the target's alert threshold, set when the model was "
        "trained so that the flagged cases fill the office's daily capacity"
    )
    band: Literal["high", "medium", "low"] = Field(
        description="high: flagged; medium: above the threshold for five times the "
        "capacity; low: below both"
    )
    reasons: list[ReasonOut] = Field(description="what raised this target's score most")


class Step(BaseModel):
    key: str
    unit: str | None = Field(default=None, description="the unit the step is about, if known")
    zh: str
    en: str


def reason_out(reason: reason_data.Reason) -> ReasonOut:
    return ReasonOut(
        feature=reason.feature,
        kind=reason.kind,  # type: ignore[arg-type]
        label_zh=reason.label_zh,
        label_en=reason.label_en,
        value=reason.value,
        contribution=reason.contribution,
        text_zh=reason_data.describe(reason, "zh"),
        text_en=reason_data.describe(reason, "en"),
    )


def step_out(step: step_data.Step) -> Step:
    return Step(key=step.key, unit=step.unit, zh=step.text("zh"), en=step.text("en"))


def target_out(scored: CaseScore, target: str) -> TargetScore:
    return TargetScore(
        probability=scored.probability[target],
        flag=scored.flag(target),
        band=scored.band[target],  # type: ignore[arg-type]
        reasons=[reason_out(r) for r in scored.reasons_by_target[target]],
    )


class ScoreResponse(BaseModel):
    case_id: str
    as_of: dt.datetime
    escalation: TargetScore
    collective: TargetScore
    risk_band: Literal["high", "medium", "low"] = Field(
        description="the higher of the two targets' bands: the daily list's band"
    )
    reasons: list[ReasonOut] = Field(
        description="the strongest reasons across both targets: what the daily list shows"
    )
    recommended_steps: list[Step] = Field(
        description="handling steps the case's state asks for, with the unit concerned"
    )
    model_versions: dict[str, str] = Field(
        description="per target, the registered model that scored it (name/version)"
    )
    notes: list[str] = Field(
        default_factory=list,
        description="what the answer must be read with, English then Chinese: a category "
        "read as 'other', actions not given, a case the daily list leaves out",
    )

    _as_of = field_serializer("as_of")(lambda self, value: with_office_offset(value))


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field beside "cases" refused, not ignored

    cases: list[ScoreRequest] = Field(min_length=1)


class BatchResponse(BaseModel):
    results: list[ScoreResponse]
