"""The daily list as the ledger (每日风险清单台账) an office prints and forwards.

One layout for the job's files, the API's export and the page's export: a title
(county, date, data as of, model versions), Chinese values (征地补偿, 高, 是/否),
percentages with one decimal, whole days, reasons in words, the recommended steps,
the review state, and two empty columns the office fills in by hand (包案领导,
处置结果); a frozen header with a filter, sensible widths, wrapped reasons, landscape
print fitted to the page width, and a second sheet that explains the columns and
the bands. English on request. CSV: the same columns, UTF-8 with BOM.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

import polars as pl
import xlsxwriter

from earlywarn.contract.cells import neutralised
from earlywarn.models.reasons import Language, describe, from_json
from earlywarn.models.steps import from_json as steps_from_json
from earlywarn.serving.list_changes import change_words
from earlywarn.serving.web import i18n


@dataclass(frozen=True)
class LedgerInfo:
    list_date: dt.date
    as_of: dt.datetime
    model_versions: str
    county: str | None  # None: every county the reader may see
    # The filters the rows were chosen by, besides the county: (name, value) as asked
    # (township, category, band, flag, reviewed); the subtitle names them, so that a
    # filtered file printed and forwarded does not pass for the whole list.
    filters: tuple[tuple[str, object], ...] = ()
    # The rows of a day's work (the list's first ranks), marked 今日 as on the page;
    # None: not known (a list stored before it was kept), the column left empty.
    capacity: int | None = None


# key, Chinese header, English header, width, what it holds.
COLUMNS: tuple[tuple[str, str, str, int, str], ...] = (
    ("rank", "排名", "rank", 6, "the list's order: band, then how far past the alert threshold"),
    ("today", "今日", "today", 6,
     "among the list's first ranks up to the office's capacity for the day: handled first"),
    ("case_id", "事项编号", "case", 14, "the case-management system's number"),
    ("county_code", "县区", "county", 10, "the county that owns the case"),
    ("township_code", "乡镇", "township", 12, "the township or street"),
    ("category", "问题类别", "category", 12, "the case's category"),
    ("risk_band", "风险等级", "band", 8, "高 high / 中 medium / 低 low: the higher of the two"),
    ("escalation_probability", "越级访风险", "escalation risk", 10,
     "calibrated probability of a contact above every level reached, within 30 days"),
    ("collective_probability", "集体访风险", "collective risk", 10,
     "calibrated probability of a contact of 5 or more people, within 30 days"),
    ("escalation_flag", "越级访预警", "escalation flag", 9, "at or above the alert threshold"),
    ("collective_flag", "集体访预警", "collective flag", 9, "at or above the alert threshold"),
    ("days_since_last_contact", "距上次信访天数", "days since last contact", 9,
     "whole days from the last letter, visit or call to the list's moment"),
    ("reasons", "主要原因", "reasons", 48, "what raised the score most, strongest first"),
    ("steps", "建议措施", "recommended steps", 30,
     "handling steps the case's state asks for, with the unit concerned"),
    ("changes", "较上期变化", "since the last list", 24,
     "new on the list, risk up or down, and the events since the previous list"),
    ("review", "核查状态", "review", 10, "the latest review recorded for the case"),
    ("leader", "包案领导", "senior owner", 12, "filled in by the office"),
    ("result", "处置结果", "outcome of handling", 20, "filled in by the office"),
)  # fmt: skip
# What each column holds, in the Chinese ledger's explanation sheet.
_MEANING_ZH: dict[str, str] = {
    "rank": "清单顺序：先按风险等级，再按超出预警阈值的程度",
    "today": "全清单排名在当日处理能力以内的事项，先处理（与页面上的“今日”标记相同）",
    "case_id": "信访业务系统中的事项编号",
    "county_code": "事项所属县区",
    "township_code": "事项所属乡镇（街道）",
    "category": "问题类别",
    "risk_band": "高 / 中 / 低：两类风险中较高的一级",
    "escalation_probability": "30 天内到超过以往所到层级信访的校准概率",
    "collective_probability": "30 天内 5 人及以上集体信访的校准概率",
    "escalation_flag": "达到或超过预警阈值",
    "collective_flag": "达到或超过预警阈值",
    "days_since_last_contact": "从上次来信、来访或来电到清单时点的整天数",
    "reasons": "抬高评分最多的因素，按影响从大到小",
    "steps": "依事项办理状态建议的办理措施及责任单位",
    "changes": "新进入清单、风险升降，以及上期清单以来发生的事件",
    "review": "该事项最近一次核查记录",
    "leader": "由信访部门填写",
    "result": "由信访部门填写",
}
_BANDS: dict[Language, list[tuple[str, str]]] = {
    "zh": [
        ("高", "达到或超过任一类风险的预警阈值（阈值按通常一天的处理能力设定）；"
         "当天高风险事项多于处理能力时，先处理标“今日”的事项"),
        ("中", "超过五倍处理能力对应的阈值：持续关注"),
        ("低", "低于两个阈值：每日台账文件不含此类事项（从页面导出全部等级时列出）"),
    ],
    "en": [
        ("high", "at or above a target's alert threshold (set to fill the office's capacity "
         "on a typical day); on a day with more high cases than that, those marked today "
         "come first"),
        ("medium", "above the threshold for five times that capacity: watch"),
        ("low", "below both; the day's ledger file leaves them out (an export of every band "
         "from the page lists them)"),
    ],
}  # fmt: skip
_PERCENT = {"escalation_probability", "collective_probability"}
_WRAPPED = ("reasons", "steps", "changes")
_LINE_POINTS = 16  # one line of the default 11-point font, Chinese glyphs included
_WIDE = re.compile("[\u2e80-\U0010ffff]")  # CJK and beyond: two units wide


def _wrapped_lines(text: str, width: int) -> int:
    """Lines a cell of ``width`` characters needs: a Chinese character is two wide."""
    total = 0
    for line in text.split("\n"):
        wide = len(line) + len(_WIDE.findall(line))  # a regex: per character in C
        total += max(1, -(-wide // max(int(width * 0.9), 1)))  # fonts run wider than units
    return total


_TITLE = {"zh": "每日风险清单台账", "en": "Daily risk list (ledger)"}
_NOTES = {"zh": "说明", "en": "Notes"}


def _header(key: str, lang: Language) -> str:
    zh, en = next((zh, en) for k, zh, en, _, _ in COLUMNS if k == key)
    return zh if lang == "zh" else en


def _reasons(text: str | None, lang: Language) -> str:
    reasons = from_json(text)
    return "\n".join(f"{i}. {describe(r, lang)}" for i, r in enumerate(reasons, start=1))


def _steps(text: str | None, lang: Language) -> str:
    return "\n".join(step.text(lang) for step in steps_from_json(text))


def ledger_frame(
    frame: pl.DataFrame, lang: Language = "zh", capacity: int | None = None
) -> pl.DataFrame:
    """Stored list rows (reasons and steps as JSON) as the ledger's columns and words;
    ``capacity``: the rows of a day's work, marked today."""
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    today = (
        pl.when(pl.col("rank") <= capacity).then(pl.lit(i18n.word("today_mark", lang)))
        if capacity is not None
        else pl.lit(None, dtype=pl.String)
    )
    rows = frame.with_columns(
        today.alias("today"),
        pl.col("category").map_elements(
            lambda c: i18n.label(i18n.CATEGORY, c, lang), return_dtype=pl.String
        ),
        pl.col("risk_band").map_elements(
            lambda b: i18n.label(i18n.BAND, b, lang), return_dtype=pl.String
        ),
        *(
            pl.when(pl.col(flag)).then(pl.lit(yes)).otherwise(pl.lit(no)).alias(flag)
            for flag in ("escalation_flag", "collective_flag")
        ),
        pl.col("days_since_last_contact").floor().cast(pl.Int64),
        pl.col("reasons").map_elements(lambda t: _reasons(t, lang), return_dtype=pl.String),
        pl.col("steps").map_elements(lambda t: _steps(t, lang), return_dtype=pl.String),
        (
            pl.col("changes").map_elements(
                lambda t: "\n".join(change_words(t, lang)), return_dtype=pl.String
            )
            if "changes" in frame.columns
            else pl.lit(None, dtype=pl.String).alias("changes")
        ),
        (
            pl.col("review").map_elements(
                lambda d: i18n.label(i18n.DECISION, d, lang), return_dtype=pl.String
            )
            if "review" in frame.columns
            else pl.lit(None, dtype=pl.String).alias("review")
        ),
        pl.lit(None, dtype=pl.String).alias("leader"),
        pl.lit(None, dtype=pl.String).alias("result"),
    )
    return rows.select(key for key, *_ in COLUMNS)


def ledger_files(
    frame: pl.DataFrame, info: LedgerInfo, printed: int, lang: Language = "zh"
) -> tuple[bytes, bytes]:
    """The CSV of the rows and the XLSX of the first ``printed`` of them, their words made
    once."""
    rows = ledger_frame(frame, lang, info.capacity)
    return _csv(rows, lang), _xlsx(rows.head(printed), info, lang)


def ledger_csv(frame: pl.DataFrame, lang: Language = "zh", capacity: int | None = None) -> bytes:
    """The ledger's columns as CSV, UTF-8 with BOM (Excel opens it in Chinese)."""
    return _csv(ledger_frame(frame, lang, capacity), lang)


def ledger_xlsx(frame: pl.DataFrame, info: LedgerInfo, lang: Language = "zh") -> bytes:
    """The printed ledger: a title, a frozen header with a filter, wrapped rows, A4."""
    return _xlsx(ledger_frame(frame, lang, info.capacity), info, lang)


def _csv(rows: pl.DataFrame, lang: Language) -> bytes:
    rows = rows.with_columns(pl.col(c).round(4) for c in _PERCENT)
    shown = neutralised(rows.rename({key: _header(key, lang) for key in rows.columns}))
    buffer = io.BytesIO()
    shown.write_csv(buffer)
    return "\ufeff".encode() + buffer.getvalue()


def _xlsx(rows: pl.DataFrame, info: LedgerInfo, lang: Language) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    # Created "at" the list's moment, not now: the same list gives the same bytes, and a
    # rerun that changed nothing leaves the file and its checksum as they were.
    book.set_properties({"created": info.as_of})
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "subtitle": book.add_format({"italic": True, "font_color": "#555555"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "percent": book.add_format({"num_format": "0.0%", "valign": "top"}),
        "days": book.add_format({"num_format": "0", "valign": "top"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "text": book.add_format({"valign": "top"}),
    }
    sheet = book.add_worksheet(_TITLE[lang][:31])
    last = len(COLUMNS) - 1
    county = info.county or ("全部县区" if lang == "zh" else "all counties")
    title = f"{county} {_TITLE[lang]} {i18n.date_text(info.list_date, lang)}"
    as_of = "数据截至" if lang == "zh" else "data as of"
    models = "模型" if lang == "zh" else "models"
    subtitle = f"{as_of} {i18n.as_of_text(info.as_of, lang)} · {models} {info.model_versions}"
    if info.filters:
        subtitle += f" · {filter_words(info.filters, lang)}"
    # merge_range writes its text as write() would: "=..." (a county code) as a formula.
    sheet.merge_range(0, 0, 0, last, "", formats["title"])
    sheet.write_string(0, 0, title, formats["title"])
    sheet.merge_range(1, 0, 1, last, "", formats["subtitle"])
    sheet.write_string(1, 0, subtitle, formats["subtitle"])
    for column, (key, zh, en, width, _) in enumerate(COLUMNS):
        sheet.write_string(2, column, zh if lang == "zh" else en, formats["header"])
        wrap = key in (*_WRAPPED, "result")
        sheet.set_column(column, column, width, formats["wrap"] if wrap else None)
    widths = {key: width for key, _, _, width, _ in COLUMNS}
    for number, values in enumerate(rows.iter_rows(), start=3):
        # Spreadsheets do not grow a row for wrapped text on their own (LibreOffice prints
        # the first line only): the row is as tall as its longest wrapped cell.
        lines = max(
            (_wrapped_lines(str(v), widths[k]) for k, v in zip(rows.columns, values, strict=True)
             if k in _WRAPPED and v),
            default=1,
        )  # fmt: skip
        if lines > 1:
            sheet.set_row(number, _LINE_POINTS * lines)
        for column, (key, value) in enumerate(zip(rows.columns, values, strict=True)):
            if value is None:
                continue
            if key in _PERCENT:
                sheet.write_number(number, column, float(value), formats["percent"])
            elif key in ("rank", "days_since_last_contact"):
                sheet.write_number(number, column, int(value), formats["days"])
            elif key in _WRAPPED:
                sheet.write_string(number, column, str(value), formats["wrap"])
            else:
                sheet.write_string(number, column, str(value), formats["text"])
    sheet.freeze_panes(3, 0)
    sheet.autofilter(2, 0, 2 + rows.height, last)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # the page's width, as many pages down as it takes
    sheet.repeat_rows(2)
    _notes(book, lang, formats)
    book.close()
    return buffer.getvalue()


def filter_words(filters: tuple[tuple[str, object], ...], lang: Language) -> str:
    """筛选：乡镇 330211001，风险等级 高 / filtered: township 330211001, band high."""
    tables = {"category": i18n.CATEGORY, "band": i18n.BAND}
    yes_no = {"flag": ("flagged", "not_flagged"), "reviewed": ("yes_reviewed", "not_reviewed")}
    words = []
    for name, value in filters:
        if name in yes_no:
            words.append(i18n.word(yes_no[name][0 if value else 1], lang))
        else:
            shown = i18n.label(tables[name], str(value), lang) if name in tables else value
            words.append(f"{i18n.word(name, lang).lower()} {shown}")
    return ("筛选：" + "，".join(words)) if lang == "zh" else "filtered: " + ", ".join(words)


def _notes(book: xlsxwriter.Workbook, lang: Language, formats: dict[str, object]) -> None:
    notes = book.add_worksheet(_NOTES[lang])
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 90, formats["wrap"])
    header = ["列", "含义"] if lang == "zh" else ["column", "meaning"]
    notes.write_row(0, 0, header, formats["header"])
    for number, (key, zh, en, _, meaning) in enumerate(COLUMNS, start=1):
        notes.write_string(number, 0, zh if lang == "zh" else en)
        notes.write_string(number, 1, _MEANING_ZH[key] if lang == "zh" else meaning)
    bands = [
        *_BANDS[lang],
        ("", "Scores are advice to the person who reviews the case, never a decision about "
         "people. 评分仅供核查人员参考，不作为对人的判断。"),
    ]  # fmt: skip
    start = len(COLUMNS) + 2
    for number, (band, meaning) in enumerate(bands, start=start):
        notes.write_string(number, 0, band)
        notes.write_string(number, 1, meaning)
