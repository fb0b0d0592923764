"""What offices write, read the contract's way: headers, values, offices' names, dates."""

from __future__ import annotations

import polars as pl
import pytest

from earlywarn.ingest.moments import iso_moment
from earlywarn.ingest.vocabulary import header_aliases, normalise, office_level, value_aliases


def test_normalise_folds_full_width_and_spaces() -> None:
    assert normalise("  信访件　编号 ") == "信访件 编号"
    assert normalise("ＡＢＣ１２３") == "ABC123"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("国家信访局", "national"),
        ("中央门街道办事处", "township"),  # a street in Nanjing, not the centre
        ("东海省信访局", "province"),
        ("广西壮族自治区信访局", "province"),
        ("北京市信访办", "province"),
        ("江海市信访局", "city"),
        ("江海市北仑区信访局", "county"),
        ("某某县信访局", "county"),
        ("某某自治县信访局", "county"),
        ("某某镇人民政府", "township"),
        ("某某街道办事处", "township"),
        ("某某社区", "village"),
        ("某某村", "village"),
        ("乡/镇/街道", "township"),
        ("city", "city"),
        ("某某局", None),
    ],
)
def test_the_level_of_an_office_is_the_unit_its_name_ends_in(name: str, level: str | None) -> None:
    assert office_level(name) == level


def test_values_and_headers_offices_use() -> None:
    assert value_aliases("nature")["申诉"] == "appeal"
    assert value_aliases("channel")["12345"] == "phone"
    assert value_aliases("channel")["领导信箱"] == "online"
    assert value_aliases("outcome")["调解成功"] == "agreed"
    assert value_aliases("category")["征地补偿"] == "land_requisition"
    assert value_aliases("category")["land_requisition"] == "land_requisition"
    assert header_aliases("contacts")["来访人数"] == "group_size"
    assert header_aliases("cases")[normalise("乡镇（街道）")] == "township_code"


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2025-03-04 09:30:00", "2025-03-04T09:30:00"),
        ("2025-03-04T09:30", "2025-03-04T09:30:00"),
        ("2025/3/4 9:30", "2025-03-04T09:30:00"),
        ("2025/3/4 9:30:05", "2025-03-04T09:30:05"),
        ("2025年3月4日 09:30:00", "2025-03-04T09:30:00"),
        ("2025年3月4日", "2025-03-04T00:00:00"),
        ("2025.3.4", "2025-03-04T00:00:00"),
        ("2025-03-04 09:30:00.000", "2025-03-04T09:30:00"),
        ("45720.395833", "2025-03-04T09:30:00"),
        ("45720", "2025-03-04T00:00:00"),
        ("2023年01月02日15时52分", "2023-01-02T15:52:00"),
        ("2023年1月2日 15时52分30秒", "2023-01-02T15:52:30"),
        ("2023年1月2日15时", "2023-01-02T15:00:00"),
        ("2023/01/03 下午4:26", "2023-01-03T16:26:00"),
        ("2023/01/03 下午12:05", "2023-01-03T12:05:00"),
        ("2023/01/03 上午12:05", "2023-01-03T00:05:00"),
        ("2023/01/03 晚上12:00", "2023-01-04T00:00:00"),  # midnight, not noon
        ("2023/01/03 晚上9:15", "2023-01-03T21:15:00"),
        ("2023/01/03 上午9:05:07", "2023-01-03T09:05:07"),
        ("2023/1/3 4:26 PM", "2023-01-03T16:26:00"),
        ("2023/1/3 上午4:26 下午", None),  # both: no telling which
        ("20230103", "2023-01-03T00:00:00"),
        ("20230103152400", "2023-01-03T15:24:00"),
        ("20231303", None),
        ("1741051800", "2025-03-04T09:30:00"),  # Unix seconds, UTC: 01:30 there
        ("1741051800000", "2025-03-04T09:30:00"),  # milliseconds
        ("9999999999", None),  # 2286: no Unix time an office holds
        ("2023010215", None),  # YYYYMMDDHH, not a second of 2034: quarantined, not misread
        ("2025-02-30", None),
        ("昨天", None),
        ("2024", None),  # a year alone, no Excel serial of 1905
        ("0.5", None),  # a time without its day
        ("2025-03-04 09:30:60", None),  # no such second
    ],
)
def test_moments_in_the_forms_offices_type(written: str, iso: str | None) -> None:
    frame = pl.DataFrame({"t": [normalise(written)]}).select(iso_moment("t"))
    assert frame.item() == iso
