"""Words and number/date formats of the office page: Chinese first, English on request.

The codes' names are here; the interface words are in ``page_words`` (``WORDS``)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from earlywarn.contract.names import ACTION_TYPE_ZH, CATEGORY_ZH, CHANNEL_ZH, LEVEL_ZH, OUTCOME_ZH
from earlywarn.contract.rules import OFFICE_ZONE
from earlywarn.serving.web.page_words import WORDS

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

_CATEGORY_EN: dict[str, str] = {
    "land_requisition": "land requisition",
    "demolition_resettlement": "demolition and resettlement",
    "land_dispute": "land dispute",
    "wage_arrears": "wage arrears",
    "social_security": "social security",
    "cadre_conduct": "cadre conduct",
    "village_affairs": "village affairs",
    "neighbor_dispute": "neighbour dispute",
    "economic_dispute": "economic dispute",
    "law_litigation": "law and litigation",
    "reservoir_migration": "reservoir migration",
    "enterprise_restructuring": "enterprise restructuring",
    "veterans_resettlement": "veterans' resettlement",
    "retiree_benefits": "retiree benefits",
    "environment": "environment",
    "urban_management": "urban management",
    "other": "other",
}
# The Chinese names are the contract's own (``contract/names.py``).
CATEGORY: dict[str, tuple[str, str]] = {c: (CATEGORY_ZH[c], en) for c, en in _CATEGORY_EN.items()}
LEVEL: dict[str, tuple[str, str]] = {level: (zh, level) for level, zh in LEVEL_ZH.items()}
# A case's history in the office's words; in English, the contract's codes as words.
CHANNEL = {code: (zh, code.replace("_", " ")) for code, zh in CHANNEL_ZH.items()}
ACTION = {code: (zh, code.replace("_", " ")) for code, zh in ACTION_TYPE_ZH.items()}
OUTCOME = {code: (zh, code.replace("_", " ")) for code, zh in OUTCOME_ZH.items()}
BAND: dict[str, tuple[str, str]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
DECISION: dict[str, tuple[str, str]] = {
    "acknowledged": ("已知悉", "acknowledged"),
    "action_taken": ("已采取措施", "action taken"),
    "dismissed": ("不予采纳", "dismissed"),
}
ROLE: dict[str, tuple[str, str]] = {
    "case_system": ("案件系统", "case system"),
    "office": ("信访办", "office"),
    "analyst": ("分析员", "analyst"),
    "admin": ("管理员", "admin"),
}
TARGET: dict[str, tuple[str, str]] = {
    "escalation": ("越级访风险", "escalation risk"),
    "collective": ("集体访风险", "collective-petition risk"),
}
STATUS: dict[str, tuple[str, str]] = {
    "ok": ("正常", "ok"),
    "warn": ("注意", "warn"),
    "alert": ("告警", "alert"),
}
CHECK: dict[str, tuple[str, str]] = {
    "backlog_psi": ("在办时长漂移（积压，PSI）", "age of open cases (backlog, PSI)"),
    "precision_shortfall": (
        "到期清单精确率低于承诺（百分点）",
        "matured list: precision below the promise (points)",
    ),
    "input_psi": ("输入漂移（PSI）", "input drift (PSI)"),
    "score_shift": ("评分漂移（标准差）", "score drift (standard deviations)"),
    "share_flagged": ("预警比例", "share flagged"),
    "scoring_population": ("在办事项数", "open cases scored"),
    "mean_probability": ("平均概率", "mean probability"),
    "expected_precision": ("预期精确率（估计）", "expected precision (estimate)"),
    "newest_record_days": ("最新记录距今天数", "age of the newest record (days)"),
    "quarantine_share": ("隔离行比例", "share of rows quarantined"),
    "unmapped_share": ("导入未识别值比例", "share of imported rows with unknown values"),
    "unmapped_headers": ("导入未识别列", "imported columns not read"),
    "matured_precision": ("到期清单精确率", "matured list: precision"),
    "matured_recall": ("到期清单召回率", "matured list: recall"),
    "matured_precision_acted": (
        "到期清单精确率（已采取措施）",
        "matured list: precision, acted on",
    ),
    "matured_precision_not_acted": (
        "到期清单精确率（未采取措施）",
        "matured list: precision, not acted on",
    ),
    "matured_auc": ("到期清单 ROC-AUC", "matured list: ROC-AUC"),
    "calibration_gap": ("校准偏差", "calibration gap"),
    "flag_share_vs_backtest": (
        "预警比例超出回测范围（倍）",
        "share flagged beyond the backtest's range (times)",
    ),
}


def word(key: str, language: Language, **values: object) -> str:
    """A word of ``WORDS`` in one language, its ``{placeholders}`` filled from ``values``."""
    pair = WORDS[key]
    text = pair[0] if language == "zh" else pair[1]
    return text.format(**values) if values else text


def label(table: dict[str, tuple[str, str]], key: str | None, language: Language) -> str:
    if key is None:
        return "-"
    pair = table.get(key)
    if pair is None:
        return key
    return pair[0] if language == "zh" else pair[1]


def date_text(day: dt.date | dt.datetime | None, language: Language) -> str:
    """2025年10月31日 in Chinese, 2025-10-31 in English."""
    if day is None:
        return "-"
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%Y-%m-%d")


def month_text(day: dt.date, language: Language) -> str:
    return f"{day.year}年{day.month}月" if language == "zh" else f"{day:%Y-%m}"


def moment_text(moment: dt.datetime | None, language: Language) -> str:
    if moment is None:
        return "-"
    return f"{date_text(moment, language)} {moment:%H:%M}"


def as_of_text(moment: dt.datetime | None, language: Language) -> str:
    """A list's moment: the end of its day said as that day's 24:00, not the next day's
    00:00 beside the list's own date (清单日期 12月31日, 数据截至 12月31日 24:00)."""
    if moment is not None and moment.time() == dt.time():
        return f"{date_text(moment - dt.timedelta(days=1), language)} 24:00"
    return moment_text(moment, language)


def recorded_text(moment_utc: dt.datetime | None, language: Language) -> str:
    """When the service recorded something (its clock is UTC), in the office's time."""
    if moment_utc is None:
        return "-"
    local = moment_utc.replace(tzinfo=dt.UTC).astimezone(OFFICE_ZONE)
    return f"{moment_text(local, language)} {'北京时间' if language == 'zh' else 'Beijing time'}"


def percent(probability: float | None) -> str:
    if probability is None or math.isnan(probability):
        return "-"
    return f"{probability * 100:.1f}%"


def whole_days(days: float | None) -> str:
    """Whole days gone, as the ledger counts them (down: 22.9 days is 22)."""
    if days is None or math.isnan(days):
        return "-"
    return number(math.floor(days))


def number(value: float | int | None, digits: int = 0) -> str:
    """Thousands grouped with commas in both languages (the Chinese convention too)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"
