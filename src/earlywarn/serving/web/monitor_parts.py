"""Two parts of the monitoring page read from a day's checks: the precision a matured list
promised against the precision it had (with the gap, the cases it rests on, and whether
chance explains it), and the age of the open cases (the backlog)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from earlywarn.contract.rules import TARGETS
from earlywarn.serving.monitor.checks import SIGNIFICANCE, Check
from earlywarn.serving.monitor.precision import CHECK as SHORTFALL
from earlywarn.serving.web import i18n
from earlywarn.serving.web.monitor_rows import Row, date_words, row_of
from earlywarn.serving.web.monitor_words import word


@dataclass(frozen=True)
class PrecisionRow:
    target: str  # the target in words
    listed: str  # the matured list, in words ("-" when none has matured)
    promised: str
    matured: str
    gap: str  # promised minus matured, in points: the check's shortfall, same sign
    cases: str  # "cases (happened)"
    interval: str
    p_value: str
    reading: str  # below the promise beyond chance, within chance, or not below
    status: str  # the comparison's: ok, warn, alert, or waiting (not judged yet)
    note: str  # what it waits for, the acted-on cases left out, or an older record
    today: str  # today's list: the expected precision of its flags, an estimate


def _listed(day: str, lang: i18n.Language) -> str:
    """The matured list a comparison is about, by its date ("-" when there is none)."""
    return word("list_of", lang, day=date_words(day, lang)) if day else "-"


def _points(value: float) -> str:
    return f"{value * 100:+.1f}".replace("-", "−")


def _reading(detail: dict[str, Any], lang: i18n.Language) -> str:
    """Below the promise beyond chance (the one-sided test's p-value under 5%), within
    chance, or not below it; how large a gap must be to count is the status's matter."""
    if detail["observed"] >= detail["expected"]:
        return word("read_above", lang)
    beyond = detail["p_value"] < SIGNIFICANCE["warn"]
    return word("read_short_sig" if beyond else "read_short_chance", lang)


def _compared(found: Check, row: Row, today: str, lang: i18n.Language) -> PrecisionRow:
    d = found.detail
    target, _, day = found.subject.partition("@")
    listed = _listed(day, lang)
    if found.value is None:  # not judged yet: no matured list, or no flagged case on it
        return PrecisionRow(i18n.label(i18n.TARGET, target, lang), listed, "-", "-", "-", "-", "-",
                            "-", "", "waiting", row.why, today)  # fmt: skip
    acted = int(d.get("acted") or 0)
    return PrecisionRow(
        target=i18n.label(i18n.TARGET, target, lang),
        listed=listed,
        promised=i18n.percent(d["expected"]),
        matured=i18n.percent(d["observed"]),
        gap=word("points", lang, value=_points(d["expected"] - d["observed"])),
        cases=f"{i18n.number(d['cases'])} ({i18n.number(d['hits'])})",
        interval=f"{i18n.percent(d['low'])} – {i18n.percent(d['high'])}",
        p_value=f"{d['p_value']:.3g}",
        reading=_reading(d, lang),
        status=found.status,
        note=word("acted_out", lang, n=acted) if acted else "",
        today=today,
    )


def precision_rows(checks: list[Check], lang: i18n.Language) -> list[PrecisionRow]:
    """One row per target: the matured list's comparison, or what it waits for; a day
    stored before comparisons shows the matured precision alone, said to be uncompared."""
    rows = []
    for target in TARGETS:
        mine = [c for c in checks if c.subject.partition("@")[0] == target]
        expected = next((c for c in mine if c.check == "expected_precision"), None)
        today = i18n.percent(expected.value) if expected else "-"
        found = next((c for c in mine if c.check == SHORTFALL), None)
        if found is not None:
            rows.append(_compared(found, row_of(found, lang), today, lang))
            continue
        matured = next((c for c in mine if c.check == "matured_precision"), None)
        if matured is None and expected is None:
            continue
        listed = _listed(matured.subject.partition("@")[2], lang) if matured else "-"
        value = i18n.percent(matured.value) if matured else "-"
        named = i18n.label(i18n.TARGET, target, lang)
        rows.append(PrecisionRow(named, listed, "-", value, "-", "-", "-", "-", "",
                                 "uncompared", word("no_comparison", lang), today))  # fmt: skip
    return rows


@dataclass(frozen=True)
class BacklogRow:
    row: Row
    median: str
    beyond: str


def backlog_rows(checks: list[Check], lang: i18n.Language) -> list[BacklogRow]:
    """The age clocks' drift, with how much older the open cases are than the reference's
    (days stored before backlog checks existed have the drift alone)."""
    rows = []
    for check in (c for c in checks if c.kind == "backlog"):
        d = check.detail
        median = d.get("median_today")
        beyond = "-"
        if "beyond_p90_today" in d:
            beyond = word("beyond", lang, today=i18n.percent(d["beyond_p90_today"]),
                          reference=i18n.percent(d["beyond_p90_reference"]),
                          p90=i18n.number(d["reference_p90"]))  # fmt: skip
        rows.append(BacklogRow(row_of(check, lang), "-" if median is None else
                               i18n.number(median), beyond))  # fmt: skip
    return rows
