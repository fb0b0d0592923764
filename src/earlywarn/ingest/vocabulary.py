"""What an office's export calls things: headers, values and receiving offices, by default.

Every header and value is compared after ``normalise`` (NFKC: full-width to
half-width; trimmed; inner spaces collapsed). The defaults recognise the
contract's own English names and codes, the Chinese name of every code
(``contract/names.py``) and the variants offices commonly use; a mapping file adds
to them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache

import polars as pl

from earlywarn.contract.names import NAMES_ZH
from earlywarn.contract.spec import TABLES
from earlywarn.ingest.mapping_file import MappingFile

_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to half-width), trimmed, inner spaces collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


_SPACE_BY_CHINESE = re.compile(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+")


def header_key(text: str) -> str:
    """A header as compared: normalised, and without the spaces and line breaks a cell
    holds between Chinese characters (信访\n时间: Alt+Enter wraps a long header)."""
    return _SPACE_BY_CHINESE.sub("", normalise(text))


def normalised(column: str) -> pl.Expr:
    """``normalise`` over a whole column, without a Python call per value."""
    return pl.col(column).str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars()


# contract column -> header names offices use for it (the English name always counts).
HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cases": {
        "case_id": ("信访件编号", "信访事项编号", "事项编号", "件号"),
        "petitioner_id": ("信访人编号", "信访人", "当事人编号"),
        "registered_at": ("登记时间", "登记日期", "受理登记时间"),
        "county_code": (
            "所属县区",
            "问题属地",
            "属地",
            "县区",
            "县区代码",
            "行政区划",
            "行政区划代码",
        ),
        "township_code": ("所属乡镇", "乡镇", "街道", "乡镇(街道)", "乡镇代码"),
        "category": ("问题类别", "问题分类", "信访事项类别", "类别"),
        "nature": ("信访目的", "事项性质", "性质", "信访性质", "问题性质"),
        "responsible_unit": ("承办单位", "责任单位"),
        "summary": ("概况", "信访概况", "主要诉求", "内容摘要"),
    },
    "contacts": {
        "contact_id": ("记录编号", "登记编号"),
        "case_id": ("信访件编号", "信访事项编号", "事项编号", "件号"),
        "occurred_at": ("信访时间", "来访时间", "来信时间", "信访日期"),
        "channel": ("信访形式", "信访方式", "渠道"),
        "level": ("登记机关", "接待机关", "受理机关", "层级", "登记层级"),
        "group_size": ("人数", "来访人数", "信访人数"),
    },
    "actions": {
        "action_id": ("环节编号",),
        "case_id": ("信访件编号", "信访事项编号", "事项编号", "件号"),
        "occurred_at": ("办理时间", "办理日期"),
        "action_type": ("办理环节", "环节", "处理环节"),
        "unit": ("办理单位", "经办单位"),
        "outcome": ("办理结果", "结果", "处理结果"),
    },
}

# Variants beyond the contract's Chinese names: contract column -> code -> names.
_VALUE_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "nature": {
        "appeal": ("申诉", "求决", "申诉求决"),
        "report": ("揭发", "控告", "检举", "揭发控告"),
        "suggestion": ("建议", "意见建议"),
        "inquiry": ("咨询",),
    },
    "channel": {
        "letter": ("来信", "信件"),
        "visit": ("来访", "走访"),
        "online": ("网上信访", "网上投诉", "网信", "领导信箱"),
        "phone": ("电话", "电话信访", "12345"),
    },
    "level": {
        "village": ("村", "社区", "村/社区"),
        "township": ("乡", "镇", "街道", "乡镇", "乡/镇/街道"),
        "county": ("县", "区", "县/区", "县区"),
        "city": ("市",),
        "province": ("省", "自治区", "直辖市", "省/自治区/直辖市"),
        "national": ("国家", "中央", "国家/中央"),
    },
    "outcome": {
        "agreed": ("达成协议", "调解成功"),
        "failed": ("调解不成", "调解失败"),
        "supported": ("支持",),
        "partly_supported": ("部分支持",),
        "not_supported": ("不支持",),
        "satisfied": ("满意", "基本满意"),
        "unsatisfied": ("不满意",),
        "upheld": ("维持",),
        "changed": ("变更", "撤销"),
    },
}


# Words of a header that holds a person's identity, contacts or a sensitive attribute:
# never read (no mapping makes them a column), and said apart, for the office to stop
# exporting them, rather than among the headers merely not used.
PERSONAL_HEADER_WORDS = (
    "姓名", "身份证", "证件号", "电话", "手机", "住址", "地址", "民族", "政治面貌", "党员",
    "宗教", "信仰", "健康", "病史", "残疾", "婚姻", "车牌", "银行卡", "账号", "邮箱", "微信",
    "QQ", "出生", "性别", "年龄", "phone", "mobile", "address", "ethnic", "religio",
    "health", "email",
)  # fmt: skip


def is_personal_header(header: str) -> bool:
    """A header that names a person's data (姓名, 身份证号, 民族, 联系电话, ...)."""
    written = normalise(header).lower()
    return any(word.lower() in written for word in PERSONAL_HEADER_WORDS)


@cache
def header_aliases(table: str) -> dict[str, str]:
    """Normalised header -> contract column, for one table."""
    found: dict[str, str] = {}
    contract = next(t for t in TABLES if t.name == table)
    for column in contract.column_names:
        for name in (column, *HEADER_ALIASES[table].get(column, ())):
            found[header_key(name)] = column
    return found


@cache
def value_aliases(column: str) -> dict[str, str]:
    """Normalised value -> contract code, for one enumerated column."""
    found: dict[str, str] = {}
    for code, zh in NAMES_ZH.get(column, {}).items():
        found[normalise(code)] = code
        found[normalise(zh)] = code
    for code, names in _VALUE_VARIANTS.get(column, {}).items():
        for name in names:
            found[normalise(name)] = code
    return found


_DEFAULT_ALIASES: dict[str, dict[str, str]] = {}  # per column, built once


def code_of(column: str, value: str) -> str | None:
    """The contract's code of a value as offices write it (来访, 征地补偿, 某某市信访局),
    by the default vocabulary (the mapping file aside): what the score API reads as the
    import does. None when no code is found."""
    if column == "level":  # a level's name, or an office's whose name ends in a unit
        return office_level(value)
    if column not in _DEFAULT_ALIASES:
        _DEFAULT_ALIASES[column] = value_aliases(column)
    return _DEFAULT_ALIASES[column].get(normalise(value))


# The most local administrative unit an office's name ends in (a "XX市XX区信访局" is a
# district's office: its last unit decides); longer endings are tried first, so that
# 社区 is not read as 区 nor 自治区 as 区.
_UNIT_LEVELS: tuple[tuple[str, str], ...] = (
    ("村", "village"),
    ("社区", "village"),
    ("村委会", "village"),
    ("居委会", "village"),
    ("街道", "township"),
    ("镇", "township"),
    ("乡", "township"),
    ("县", "county"),
    ("区", "county"),
    ("旗", "county"),
    ("市", "city"),
    ("州", "city"),
    ("盟", "city"),
    ("省", "province"),
    ("自治区", "province"),
)
_BY_LENGTH = sorted(_UNIT_LEVELS, key=lambda pair: -len(pair[0]))
_OFFICE_SUFFIX = re.compile(
    r"(人民政府|政府|办事处)?(信访局|信访办公室|信访办|信访室|信访科|信访接待中心|接待中心|办公室)?$"
)
_NATIONAL = ("国家信访局", "中央", "国家")
_MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


def office_level(name: str) -> str | None:
    """The level of a receiving office named in full ("XX县信访局" -> county), or None
    when its name ends in no administrative unit we know."""
    text = normalise(name)
    if text in value_aliases("level"):
        return value_aliases("level")[text]
    place = _OFFICE_SUFFIX.sub("", text)
    if place in _MUNICIPALITIES:  # a municipality's own office is provincial
        return "province"
    # The unit a name ends in decides before a national prefix: 中央门街道 is a street.
    for unit, level in _BY_LENGTH:
        if place.endswith(unit):
            return level
    if any(text.startswith(national) for national in _NATIONAL):
        return "national"
    return None


@dataclass(frozen=True)
class Vocabulary:
    """The defaults, with an office's mapping file on top (its entries win)."""

    # None: a header the office asked not to read (a second one for a column).
    headers_added: dict[str, dict[str, str | None]] = field(default_factory=dict)
    values_added: dict[str, dict[str, str]] = field(default_factory=dict)
    offices: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # sheet or file name -> table

    @classmethod
    def of(cls, mapping: MappingFile | None) -> Vocabulary:
        if mapping is None:
            return cls()
        return cls(
            {t: {header_key(h): c for h, c in m.items()} for t, m in mapping.headers.items()},
            {c: {normalise(v): k for v, k in m.items()} for c, m in mapping.values.items()},
            {normalise(name): level for name, level in mapping.offices.items()},
            {normalise(name): table for name, table in mapping.tables.items()},
        )

    def headers(self, table: str) -> dict[str, str | None]:
        return header_aliases(table) | self.headers_added.get(table, {})

    def values(self, column: str) -> dict[str, str]:
        return value_aliases(column) | self.values_added.get(column, {})

    def level(self, value: str) -> str | None:
        name = normalise(value)
        return self.values("level").get(name) or self.offices.get(name) or office_level(name)

    def knows_header(self, text: str) -> bool:
        name = header_key(text)
        return any(name in self.headers(table) for table in HEADER_ALIASES)
