"""Personal data guard: identity-card and mobile numbers, names where pseudonyms belong.

Detection runs on whole columns (Polars expressions) so that it costs little on
millions of rows; the same expressions serve a single value through
``redact_text`` so there is one rule, not two.
"""

from __future__ import annotations

import polars as pl

# Resident ID (GB 11643-1999): 6-digit area code, 8-digit birth date, 3-digit
# sequence, check character over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = (
    r"[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
)
_MOBILE = r"1[3-9][0-9]{9}"
# Cheap pre-filters, so that the exact checks run on the few rows that need them:
# an ID or a mobile number needs 11 digits in a row, any redacted number 7.
_DIGIT_RUN = r"[0-9]{11}"
_REDACTION_CANDIDATE = r"[0-9]{7}"
# A bare run of two to four Han characters where a pseudonym is expected.
_HAN_NAME = r"^\p{Han}{2,4}$"

ID_TOKEN = "[身份证号]"
MOBILE_TOKEN = "[手机号]"
PHONE_TOKEN = "[电话]"

# Redaction is deliberately wider than detection: any 18-character ID shape, with
# or without a valid check digit, old 15-digit IDs, mobiles with a +86 prefix and
# landlines with an area code.
_REDACTIONS: tuple[tuple[str, str], ...] = (
    (r"(^|[^0-9])[0-9]{17}[0-9Xx]([^0-9]|$)", ID_TOKEN),
    (r"(^|[^0-9])(?:\+?86[- ]?)?1[3-9][0-9]{9}([^0-9]|$)", MOBILE_TOKEN),
    (r"(^|[^0-9])[0-9]{15}([^0-9]|$)", ID_TOKEN),
    (r"(^|[^0-9])0[0-9]{2,3}-[0-9]{7,8}([^0-9]|$)", PHONE_TOKEN),
)


def _has_valid_id_check(candidate: pl.Expr) -> pl.Expr:
    """True where an 18-character string carries a correct ID check character."""
    weighted = pl.sum_horizontal(
        candidate.str.slice(i, 1).cast(pl.Int32, strict=False) * weight
        for i, weight in enumerate(_ID_WEIGHTS)
    )
    expected = weighted.mod(11).replace_strict(
        dict(enumerate(_ID_CHECK_CHARS)), return_dtype=pl.String
    )
    return expected == candidate.str.slice(17, 1).str.to_uppercase()


def may_hold_personal_data(column: str, *, check_names: bool) -> pl.Expr:
    """Cheap test: true wherever ``personal_data_code`` may find something, or on blanks."""
    pattern = _DIGIT_RUN + r"|^\s+$" + (f"|{_HAN_NAME}" if check_names else "")
    return pl.col(column).str.contains(pattern)


def personal_data_code(column: str, *, check_names: bool) -> pl.Expr:
    """Problem code where a value in ``column`` is personal data, else null.

    Codes: ``personal_id_number``, ``personal_mobile``, ``personal_name``.
    Exact but slow: run it on the rows ``may_hold_personal_data`` selects.
    """
    value = pl.col(column)
    id_candidate = value.str.extract(f"({_ID_SHAPE})", 1)
    is_id = id_candidate.is_not_null() & _has_valid_id_check(id_candidate)
    is_mobile = value.str.contains(f"(^|[^0-9]){_MOBILE}([^0-9]|$)")
    is_name = value.str.contains(_HAN_NAME) & pl.lit(check_names)
    return (
        pl.when(is_id)
        .then(pl.lit("personal_id_number"))
        .when(is_mobile)
        .then(pl.lit("personal_mobile"))
        .when(is_name)
        .then(pl.lit("personal_name"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def may_need_redaction(column: str) -> pl.Expr:
    """A cheap test that is true wherever ``redact_expr`` could change the text."""
    return pl.col(column).str.contains(_REDACTION_CANDIDATE)


def redact_expr(column: str) -> pl.Expr:
    """The column's text with ID and phone numbers replaced by tokens."""
    expression = pl.col(column)
    for pattern, token in _REDACTIONS:
        # Two passes: neighbouring numbers share one separator, which the first
        # pass consumes as the right boundary of the first number.
        for _ in range(2):
            expression = expression.str.replace_all(pattern, f"${{1}}{token}${{2}}")
    return expression


def redact_text(text: str) -> str:
    """Redact one string with exactly the rule used for whole columns."""
    frame = pl.DataFrame({"text": [text]}).select(redact_expr("text"))
    return str(frame.item())
