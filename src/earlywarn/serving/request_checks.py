"""What a posted case must satisfy beyond its field types, checked before it is scored.

The contract's rules, applied to one case as ``validate`` applies them to a file: no
blank identifier or code (the loader reads a blank as a missing value), no personal
data where a pseudonym or a code belongs (the same detection as the loader's), unique
contact and action ids, nothing dated after the moment scored, and no moment
scored before the case was registered. Each problem names its field and never echoes
the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import polars as pl

from earlywarn.contract.cells import FORMULA_LIKE
from earlywarn.contract.personal import DIGIT_RUN, personal_data_code
from earlywarn.serving.schemas import ScoreRequest

Loc = list[str | int]
_DIGITS = re.compile(DIGIT_RUN)  # the loader's own pre-filter: 11 digits, maybe grouped
_FORMULA_LIKE = re.compile(FORMULA_LIKE)
# Two to four characters from U+2E80 up (below it no Han character; the exact test asks
# for Han only), maybe spaced or dotted: what a name looks like where a pseudonym belongs.
_HAN_LIKE = "[\u2e80-\U0010ffff]"
_WORDS = re.compile(r"[\u3400-\u9fff]|@|[A-Za-z]\s+[A-Za-z]|^\s*[(（]?0\d{2,3}")
_SHORT_CJK = re.compile(
    f"\\s*{_HAN_LIKE}(?:[\\s·\u200b-\u200d\u2060\ufeff]?{_HAN_LIKE}){{1,3}}\\s*"
)
SHOWN = 20  # problems listed at most, so that a hostile body cannot grow the answer
PERSONAL_TARGET = "(personal data refused)"  # an audit record's target in place of the id
_WHAT = {
    "personal_id_number": "looks like a resident ID number",
    "personal_mobile": "looks like a mobile number",
    "personal_contact": "looks like an e-mail address or a landline number",
    "personal_name": "looks like a personal name",
}
# What an identifier is, for the checks the loader runs on its column: a pseudonym, the
# petitioner's pseudonym, a unit's name, another code.
PSEUDONYM, PERSON, UNIT, CODE = "pseudonym", "person", "unit", "code"


class RequestRejectedError(ValueError):
    """A posted case that cannot be scored as it is; ``errors`` in FastAPI's 422 shape."""

    def __init__(self, errors: list[dict[str, Any]], personal_data: bool = False) -> None:
        super().__init__("; ".join(str(e["msg"]) for e in errors))
        self.errors = errors
        self.personal_data = personal_data  # then no posted value may be kept, not even the id


def _error(loc: Loc, message: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": message, "type": "value_error"}


def _identifiers(request: ScoreRequest) -> Iterator[tuple[Loc, str, str]]:
    """(where, value, what it is) for every identifier and code of the case."""
    case = request.case
    yield ["case", "case_id"], case.case_id, PSEUDONYM
    yield ["case", "petitioner_id"], case.petitioner_id, PERSON
    for name in ("county_code", "township_code", "responsible_unit"):
        value = getattr(case, name)
        if value is not None:
            yield ["case", name], value, UNIT if name == "responsible_unit" else CODE
    for i, contact in enumerate(request.contacts):
        yield ["contacts", i, "contact_id"], contact.contact_id, PSEUDONYM
    for i, action in enumerate(request.actions or []):
        yield ["actions", i, "action_id"], action.action_id, PSEUDONYM
        if action.unit is not None:
            yield ["actions", i, "unit"], action.unit, UNIT


def _may_be_personal(value: str, kind: str, digits: bool = True) -> bool:
    """A cheap test, wider than the exact one: 11 digits in a row (an ID or a mobile
    number; ``digits`` False when no value of the case has them), a short run of CJK
    characters where a pseudonym belongs, any Han, ``@`` or space where the petitioner's
    pseudonym or a unit's name belongs. (A blank is refused on its own, ``_blanks``.)"""
    if digits and _DIGITS.search(value):
        return True
    if kind in (PERSON, UNIT):
        return _WORDS.search(value) is not None
    return kind == PSEUDONYM and _SHORT_CJK.fullmatch(value) is not None


def _blanks(identifiers: list[tuple[Loc, str, str]]) -> list[dict[str, Any]]:
    """Identifiers and codes made only of white space: the loader reads them as missing
    (a required one refuses the row), so they are no value to score on. An optional
    code is left out rather than sent blank."""
    return [
        _error(loc, "is blank: give a value, or leave out an optional code")
        for loc, value, _ in identifiers
        if value.isspace()
    ]


def personal_data(
    request: ScoreRequest, identifiers: list[tuple[Loc, str, str]] | None = None
) -> list[dict[str, Any]]:
    """Identifiers that are personal data, found by the loader's own expressions. Only
    the few values the cheap test picks reach them (one small frame per request, and
    none for an ordinary one: a frame per request would cost milliseconds)."""
    if identifiers is None:
        identifiers = list(_identifiers(request))
    # One pass of the digit test over all the values (a line break between them, so no
    # run spans two) tells whether any value needs it.
    digits = _DIGITS.search("\n".join(value for _, value, _ in identifiers)) is not None
    found = [(loc, v, p) for loc, v, p in identifiers if _may_be_personal(v, p, digits)]
    if not found:
        return []
    frame = pl.DataFrame(
        {"value": [v for _, v, _ in found], "kind": [k for _, _, k in found]},
        schema={"value": pl.String, "kind": pl.String},
    )
    kind = pl.col("kind")
    codes = frame.select(  # the loader's own expressions, per kind of column
        pl.when(kind == PERSON)
        .then(personal_data_code("value", check_names=True, person_id=True))
        .when(kind == PSEUDONYM)
        .then(personal_data_code("value", check_names=True))
        .when(kind == UNIT)
        .then(personal_data_code("value", check_names=False, unit_names=True))
        .otherwise(personal_data_code("value", check_names=False))
    ).to_series()
    return [
        _error(loc, f"{_WHAT[code]}: personal data is not accepted here")
        for (loc, _, _), code in zip(found, codes.to_list(), strict=True)
        if code is not None
    ]


FORMULA_TARGET = "(formula-like id refused)"  # an audit record's target in place of the id


def audit_target(request: ScoreRequest) -> str:
    """The case id as an audit record may keep it: never when the case holds personal
    data (a name posted as the id), whatever refused the call first (its role, the
    calendar), nor when it would run as a formula in the spreadsheet an audit export
    is read in."""
    if personal_data(request):
        return PERSONAL_TARGET
    if _FORMULA_LIKE.match(request.case.case_id):
        return FORMULA_TARGET
    return request.case.case_id


def _duplicates(ids: list[str], where: str, field: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    errors = []
    for i, value in enumerate(ids):
        if value in seen:
            errors.append(_error([where, i, field], f"{field} appears twice in {where}"))
        seen.add(value)
    return errors


def _formula_like(identifiers: list[tuple[Loc, str, str]]) -> list[dict[str, Any]]:
    """Identifiers and codes that a spreadsheet would run, as the loader refuses them."""
    return [
        _error(loc, "begins like a spreadsheet formula (= + - @): not an identifier or a code")
        for loc, value, _ in identifiers
        if _FORMULA_LIKE.match(value)
    ]


def check_request(request: ScoreRequest, as_of: dt.datetime) -> None:
    """Raise ``RequestRejectedError`` listing every problem (up to ``SHOWN``)."""
    identifiers = list(_identifiers(request))
    personal = personal_data(request, identifiers)
    errors = _blanks(identifiers) + personal + _formula_like(identifiers)
    errors += _duplicates([c.contact_id for c in request.contacts], "contacts", "contact_id")
    errors += _duplicates([a.action_id for a in request.actions or []], "actions", "action_id")
    own = request.case.case_id
    for where, rows in (("contacts", request.contacts), ("actions", request.actions or [])):
        errors += [
            _error([where, i, "case_id"], "is not case.case_id: leave it out, or give the case's")
            for i, row in enumerate(rows)
            if row.case_id is not None and row.case_id != own
        ]
    if as_of < request.case.registered_at:
        errors.append(_error(["as_of"], "is before the case's registered_at"))
    for where, rows in (("contacts", request.contacts), ("actions", request.actions or [])):
        errors += [
            _error(
                [where, i, "occurred_at"],
                "is after as_of: only the history up to as_of may be posted",
            )
            for i, row in enumerate(rows)
            if row.occurred_at > as_of
        ]
    if errors:
        raise RequestRejectedError(errors[:SHOWN], personal_data=bool(personal))
