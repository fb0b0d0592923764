"""Hostile and awkward exports: what an import rejects is kept, keys stay unique across
nights, and a file that cannot be read is named, never a traceback."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.contract import ContractError, Mode, load_dataset
from earlywarn.ingest.run import ExportShrankError, SourceError, import_source

runner = CliRunner()
CASES = "case_id,petitioner_id,registered_at,county_code,category"
CONTACTS = "contact_id,case_id,occurred_at,channel,level,group_size"


def export(folder: Path, cases: list[str], contacts: list[str]) -> Path:
    """An office's export as UTF-8 CSV files with the contract's own headers."""
    folder.mkdir(parents=True)
    (folder / "cases.csv").write_text("\n".join([CASES, *cases]) + "\n", "utf-8")
    (folder / "contacts.csv").write_text("\n".join([CONTACTS, *contacts]) + "\n", "utf-8")
    return folder


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_what_an_import_quarantined_outlives_the_loads_and_imports_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    first = export(tmp_path / "night1", [
        "C1,P1,2024-01-05T10:00:00,330211,other",
        "C2,P2,2024-02-30T10:00:00,330211,other",  # no such day
    ], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    out = tmp_path / "dataset"
    invoke("import", str(first), "--out", str(out), "--mode", "lenient")
    rejected = list((tmp_path / "work" / "quarantine" / "dataset").glob("import-*/cases.csv"))
    assert len(rejected) == 1
    # A lenient load of the imported dataset rejects nothing and must not remove it,
    # nor may the next night's clean import.
    invoke("validate", str(out), "--mode", "lenient")
    second = export(tmp_path / "night2", ["C3,P3,2024-03-01T10:00:00,330211,other"],
                    ["K3,C3,2024-03-01T10:00:00,visit,county,1"])  # fmt: skip
    invoke("import", str(second), "--out", str(out), "--mode", "lenient")
    assert rejected[0].is_file()
    assert pl.read_csv(rejected[0])["case_id"].to_list() == ["C2"]


def test_a_contact_moved_to_another_case_is_kept_once(tmp_path: Path) -> None:
    first = export(tmp_path / "night1", [
        "C1,P1,2024-01-05T10:00:00,330211,other",
    ], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    out = tmp_path / "dataset"
    import_source(first, out)
    second = export(tmp_path / "night2", [
        "C2,P2,2024-01-06T10:00:00,330211,other",
    ], ["K1,C2,2024-01-06T10:00:00,visit,city,9"])  # fmt: skip
    result = import_source(second, out)
    contacts = result.merged["contacts"]
    assert (contacts.added, contacts.changed, contacts.kept) == (0, 1, 0)
    merged = load_dataset(out)  # strict: unique keys
    assert merged.contacts.select("contact_id", "case_id").rows() == [("K1", "C2")]
    assert merged.cases["case_id"].to_list() == ["C1", "C2"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "cases.csv: the file is empty"),
        (f'{CASES}\nC1,P1,2024-01-05T10:00:00,330211,"other\nC2,P2,2024-01-05,330211,other\n'
         .encode(), "cases.csv, line 2: unexpected end of data"),
        (b"\xef\xbb\xbf" + f"{CASES}\nC1,P1,2024-01-05T10:00:00,330211,拖欠工资\n".encode("gbk"),
         "cases.csv, line 2: not UTF-8, while the file starts with UTF-8's mark"),
        (f"{CASES}\nC1,P1,2024-01-05T10:00:00,330211,其他\n".encode()
         + "C2,P2,2024-01-05T10:00:00,330211,拖欠工资\n".encode("gbk"),
         "cases.csv, line 3: not UTF-8, while the lines before are"),
        (f"{CASES}\n".encode() + "C2,P2,2024-01-05T10:00:00,330211,拖欠工资\n".encode("gbk")
         + "C3,P3,2024-01-05T10:00:00,330211,其他\n".encode(),
         "cases.csv, line 3: UTF-8 in a GB18030/GBK file"),
    ],
)  # fmt: skip
def test_a_csv_file_that_cannot_be_read_is_named_by_its_line(
    tmp_path: Path, content: bytes, said: str
) -> None:
    folder = export(tmp_path / "export", [], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])
    (folder / "cases.csv").write_bytes(content)
    result = runner.invoke(app, ["import", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert said in result.output


def test_gbk_lines_that_are_valid_utf8_too_are_read_as_gbk(tmp_path: Path) -> None:
    """卢/陆/路 in GBK are two-byte UTF-8 letters byte for byte: the line is valid in
    both encodings, and reads as Chinese only in GBK (it was refused as mixed)."""
    line = "C1,P1,2024-01-05T10:00:00,330211,芦陆路"
    assert line.encode("gbk").decode("utf-8")  # valid UTF-8: Cyrillic and Greek letters
    folder = export(tmp_path / "export", [], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])
    (folder / "cases.csv").write_bytes(
        f"{CASES}\n{line}\nC2,P2,2024-01-05T10:00:00,330211,拖欠工资\n".encode("gbk")
    )
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    assert ("cases.csv", "cases", 2, "GB18030/GBK") in result.sources


@pytest.mark.parametrize(("encoding", "said"), [("utf-16", "UTF-16"), ("utf-8", "UTF-8")])
def test_tab_separated_text_saved_as_csv_is_read(tmp_path: Path, encoding: str, said: str) -> None:
    """Excel's "Unicode text" is UTF-16 with a mark and tabs between the fields; saved
    under a .csv name it was refused as neither UTF-8 nor GBK."""
    folder = export(tmp_path / "export", [], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])
    rows = [CASES, "C1,P1,2024-01-05T10:00:00,330211,拖欠工资", "C2,P2,2024-01-06,330211,other"]
    text = "\r\n".join(row.replace(",", "\t") for row in rows) + "\r\n"
    (folder / "cases.csv").write_bytes(text.encode(encoding))
    result = import_source(folder, tmp_path / "out")
    assert ("cases.csv", "cases", 2, said) in result.sources
    assert result.dataset.cases["case_id"].to_list() == ["C1", "C2"]


def test_a_gbk_file_valid_as_utf8_throughout_is_read_as_gbk(tmp_path: Path) -> None:
    """约谈 and 也 in GBK are valid UTF-8 byte for byte: the whole file was read as UTF-8
    and stored as mojibake (Լ̸, Ҳ) without a word."""
    rows = [CASES, "C1,P1,2024-01-05T10:00:00,330211,约谈", "C2,P2,2024-01-06,330211,也"]
    content = ("\n".join(rows) + "\n").encode("gbk")
    content.decode("utf-8")  # valid UTF-8 throughout
    folder = export(tmp_path / "export", [], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])
    (folder / "cases.csv").write_bytes(content)
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    assert ("cases.csv", "cases", 2, "GB18030/GBK") in result.sources
    assert ("category", "约谈") in result.unmapped_values  # read as written, not as Լ̸


def test_rows_keep_the_line_an_editor_shows_across_quoted_line_breaks(tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [
        'C1,P1,2024-01-05T10:00:00,330211,"other\nwith\nbreaks"',
        "",  # a blank line
        "C2,P2,2024-13-05T10:00:00,330211,other",
    ], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    rejected = pl.read_csv(tmp_path / "q" / "cases.csv", infer_schema=False)
    assert rejected.select("source", "source_row").rows() == [("cases.csv", "6")]
    assert result.dataset.cases["case_id"].to_list() == ["C1"]


def test_text_after_a_closing_quote_sets_that_row_aside_not_the_file(tmp_path: Path) -> None:
    """A summary typed as "王某"反映… (a quote closed, then text) refused the whole file,
    lenient or not. The row is set aside with its line, the reader resumes on the next;
    a quote never closed still refuses the file (where the records resume is unknown)."""
    folder = export(tmp_path / "export", [
        'C1,P1,2024-01-05T10:00:00,330211,"other"反映',
        "C2,P2,2024-01-05T10:00:00,330211,other",
    ], ["K2,C2,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    assert result.dataset.cases["case_id"].to_list() == ["C2"]
    rejected = pl.read_csv(tmp_path / "q" / "cases.csv", infer_schema=False)
    assert rejected.select("source_row").to_series().to_list() == ["2"]
    assert "text after a field's closing quote" in rejected["reason"][0]
    with pytest.raises(ContractError) as refused:
        import_source(folder, tmp_path / "strict")
    assert "cases.csv, line 2" in " ".join(refused.value.report.error_lines(5))
    (folder / "cases.csv").write_text(
        f'{CASES}\nC1,P1,2024-01-05T10:00:00,330211,"never closed\nC2,P2,2024,330211,x\n'
    )
    with pytest.raises(SourceError, match=r"cases.csv, line 2: .*never closed"):
        import_source(folder, tmp_path / "never")


def test_a_database_that_cannot_be_read_is_named_without_its_password(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("database:\n  cases: {table: cases}\n  contacts: {table: contacts}\n")
    for url, said in [
        ("nosuch://user:secret@host/db", "nosuch://user:***@host/db"),
        ("sqlite://user:secret@/x.sqlite", "user:***@"),
    ]:
        result = runner.invoke(
            app, ["import", url, "--mapping", str(mapping), "--out", str(tmp_path / "out")]
        )
        assert result.exit_code == 1 and said in result.output, result.output
        assert "secret" not in result.output
    suggested = runner.invoke(
        app, ["import", "sqlite://user:secret@/x.sqlite", "--suggest-mapping"]
    )
    assert "secret" not in suggested.output


def test_unmapped_values_never_show_personal_data(tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [
        "C1,P1,2024-01-05T10:00:00,330211,电话13812345678",
    ], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    result = import_source(folder, tmp_path / "out")
    assert result.unmapped_values == {("category", "电话[手机号]"): 1}
    said = "\n".join(result.dataset.report.warning_lines())
    assert "13812345678" not in said


def test_a_key_repeated_across_files_names_where_it_came_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    folder = export(tmp_path / "export", [
        "C1,P1,2024-01-05T10:00:00,330211,other",
    ], [
        "K1,C1,2024-01-05T10:00:00,visit,county,1",
        "K2,C1,2024-01-06T10:00:00,visit,county,1",
    ])  # fmt: skip
    (folder / "contacts-2025.csv").write_text(
        f"{CONTACTS}\nK3,C1,2025-01-05T10:00:00,visit,county,1\n"
        "K2,C1,2025-01-06T10:00:00,visit,county,1\n",
        "utf-8",
    )
    result = runner.invoke(app, ["import", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    # Files are read in name order: K2 came first in the 2025 file, on its row 3.
    assert "first in contacts-2025.csv, row 3" in result.output
    saved = pl.read_csv(tmp_path / "work" / "reports" / "import-out.csv")
    assert saved.height >= 1  # every problem is saved, not only the ones on screen
    refused = runner.invoke(app, ["import", str(folder), "--out", str(folder / "cases.csv")])
    assert refused.exit_code == 2 and "is a file, not a dataset directory" in refused.output


def test_a_row_of_the_wrong_width_is_quarantined_or_refused_never_read_padded(
    tmp_path: Path,
) -> None:
    folder = export(tmp_path / "export", [
        "C1,P1,2024-01-05T10:00:00,330211,other",
        "C2,P2,2024-01-05T10:00:00,330211",  # a field short: Polars would pad it with null
        "C3,P3,2024-01-05T10:00:00,330211,other,extra",
    ], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])  # fmt: skip
    refused = runner.invoke(app, ["import", str(folder), "--out", str(tmp_path / "strict")])
    assert refused.exit_code == 1
    assert "cases.csv, line 3: row has the wrong number of fields" in refused.output
    assert "cases.csv, line 4: row has the wrong number of fields" in refused.output
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    cases = {s.table: s for s in result.dataset.report.tables}["cases"]
    assert (cases.rows_read, cases.rows_kept, cases.rows_quarantined) == (3, 1, 2)
    rejected = pl.read_csv(tmp_path / "q" / "cases.csv", infer_schema=False)
    assert rejected.select("source", "source_row").rows() == [
        ("cases.csv", "3"),
        ("cases.csv", "4"),
    ]
    assert rejected["raw"].to_list()[1] == "C3,P3,2024-01-05T10:00:00,330211,other,extra"


def test_a_dataset_folder_without_its_cases_is_named_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet files of the contract's tables, the cases left out: the contract's loader
    says which table is missing, instead of the folder being read as an office's export
    with "no table in it"."""
    monkeypatch.setenv("EARLYWARN_WORK_DIR", str(tmp_path / "work"))
    folder = tmp_path / "dataset"
    folder.mkdir()
    pl.DataFrame({"contact_id": ["K1"], "case_id": ["C1"]}).write_parquet(
        folder / "contacts.parquet"
    )
    result = runner.invoke(
        app, ["features", "--data", str(folder), "--as-of", "2025-01-01", "--out", "x.parquet"]
    )
    assert result.exit_code != 0
    assert "cases.parquet | cases.csv" in result.output and "no CSV file" not in result.output


def test_a_name_typed_into_a_code_column_is_never_echoed(tmp_path: Path) -> None:
    """A clerk's or petitioner's name where a level or a county belongs is rejected
    like any unknown value, but neither the screen, the issues file, the quarantine
    nor the import's report repeats it; a word of the vocabulary still shows."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "cases.csv").write_text(
        "信访件编号,信访人编号,登记时间,所属县区,问题类别\n"
        "C1,P1,2024-01-05 10:00,330211,拖欠工资\nC2,P2,2024-01-05 10:00,330211,其他\n",
        "utf-8",
    )
    (folder / "contacts.csv").write_text(
        "记录编号,信访件编号,信访时间,信访形式,登记机关,人数\n"
        "K1,C1,2024-01-05 10:00,来访,王建国,1\nK2,C2,2024-01-05 10:00,来访,居委,1\n"
        "K3,C2,2024-01-06 10:00,来访,县信访局,1\nK4,C2,2024-01-07 10:00,来访,李四,1,接待人\n",
        "utf-8",
    )
    out = tmp_path / "out"
    done = runner.invoke(app, ["import", str(folder), "--out", str(out), "--mode", "lenient"])
    assert done.exit_code == 0, done.output
    assert "王建国" not in done.output and "[疑似人名 masked]" in done.output
    assert "李四" not in done.output  # in a row of the wrong width, set aside whole
    assert "'居委'" in done.output  # an unknown word of the office's, shown to be mapped
    written = [p for p in tmp_path.rglob("*") if p.is_file() and folder not in p.parents]
    for path in written:
        if path.suffix in (".csv", ".json", ".md", ".txt", ".jsonl"):
            text = path.read_text(encoding="utf-8-sig")
            assert "王建国" not in text and "李四" not in text, path
    quarantine = next(
        path for path in written if path.name == "contacts.csv" and "quarantine" in str(path)
    )
    rows = pl.read_csv(quarantine, infer_schema=False)
    assert rows["level"].to_list()[:2] == ["[疑似人名 masked]", "居委"]
    assert "[疑似人名 masked],1,接待人" in rows["raw"].to_list()[-1]


def test_an_export_older_than_the_dataset_is_refused(tmp_path: Path) -> None:
    """Yesterday's export arriving late (or left in the drop folder) took back what was
    recorded since, replaced the day's list and exited 0 (a nightly operator's report)."""
    newer = export(tmp_path / "newer", [
        "C1,P1,2024-01-05T10:00:00,330211,other", "C2,P2,2024-01-06T10:00:00,330211,other",
    ], [
        "K1,C1,2024-01-05T10:00:00,visit,county,1", "K2,C1,2024-01-20T10:00:00,visit,city,1",
        "K3,C2,2024-01-06T10:00:00,visit,county,1",
    ])  # fmt: skip
    older = export(tmp_path / "older", [
        "C1,P1,2024-01-05T10:00:00,330211,other", "C2,P2,2024-01-06T10:00:00,330211,other",
    ], [
        "K1,C1,2024-01-05T10:00:00,visit,county,1", "K3,C2,2024-01-06T10:00:00,visit,county,1",
    ])  # fmt: skip
    out = tmp_path / "dataset"
    import_source(newer, out)
    written = (out / "contacts.parquet").read_bytes()
    with pytest.raises(ExportShrankError, match=r"older than the dataset's \(2024-01-20 10:00"):
        import_source(older, out)
    assert (out / "contacts.parquet").read_bytes() == written  # nothing written
    said = runner.invoke(app, ["import", str(older), "--out", str(out)])
    assert said.exit_code == 1 and "arrived late" in said.output
    import_source(older, out, accept_removals=True)  # asked for: merged
    assert load_dataset(out).contacts["contact_id"].to_list() == ["K1", "K3"]
    # Only the tables the export holds count: a step recorded last, in a table this
    # export leaves out, made it "older"; and a moment typed in the future (2032 for
    # 2023) locked out every later export.
    (newer / "actions.csv").write_text(
        "action_id,case_id,occurred_at,action_type\nA1,C1,2024-01-25T10:00:00,accepted\n"
        "A2,C2,2032-01-06T10:00:00,accepted\n",
        "utf-8",
    )
    again = tmp_path / "again"
    import_source(newer, again)
    (newer / "actions.csv").write_text(
        "action_id,case_id,occurred_at,action_type\nA1,C1,2024-01-25T10:00:00,accepted\n"
        "A2,C2,2024-01-06T10:00:00,accepted\n",
        "utf-8",
    )
    import_source(newer, again)  # the typo corrected: not "older" than 2032
    (newer / "actions.csv").unlink()
    import_source(newer, again)  # the same cases and contacts, no steps: not older


def test_a_renamed_header_is_said_once_by_its_file_with_the_headers_not_used(
    tmp_path: Path,
) -> None:
    """信访时间 renamed 接谈时间: said twice (once as "export (contacts)"), without the
    header that was not read, and a lenient import was told to import leniently."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "信访事项.csv").write_text(
        "信访件编号,信访人编号,登记时间,所属县区,问题类别\nC1,P1,2024-01-05 10:00,330211,其他\n",
        "utf-8",
    )
    (folder / "信访记录.csv").write_text(
        "记录编号,信访件编号,接谈时间,信访形式,登记机关,人数\n"
        "K1,C1,2024-01-05 10:00,来访,县信访局,1\n",
        "utf-8",
    )
    args = ["import", str(folder), "--out", str(tmp_path / "out"), "--mode", "lenient"]
    said = runner.invoke(app, args)
    assert said.exit_code == 1
    errors = [line for line in said.output.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("error 错误: 信访记录.csv, column occurred_at")
    assert "headers not used: 接谈时间" in errors[0]
    assert "import with --mode lenient" not in said.output


def test_a_persons_name_where_a_unit_belongs_is_never_stored(tmp_path: Path) -> None:
    """冯巩 typed into 办理单位 (the handler's name) was stored as the unit without a word
    (a tester's report); units are named as units are (县住建局, 城关镇, 高新区)."""
    folder = export(tmp_path / "export", [
        "C1,P1,2024-01-05T10:00:00,330211,other", "C2,P2,2024-01-05T10:00:00,330211,other",
    ], [
        "K1,C1,2024-01-05T10:00:00,visit,county,1", "K2,C2,2024-01-05T10:00:00,visit,county,1",
    ])  # fmt: skip
    (folder / "actions.csv").write_text(
        "action_id,case_id,occurred_at,action_type,unit\n"
        "A1,C1,2024-01-06T10:00:00,accepted,冯巩\nA2,C2,2024-01-06T10:00:00,accepted,县住建局\n"
        "A3,C2,2024-01-07T10:00:00,assigned,高新区\n",
        "utf-8",
    )
    result = import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    assert result.dataset.actions is not None
    assert sorted(result.dataset.actions["unit"].to_list()) == ["县住建局", "高新区"]
    rejected = pl.read_csv(tmp_path / "q" / "actions.csv", infer_schema=False)
    assert rejected["unit"].to_list() == ["[已屏蔽 masked]"]
    assert "looks like a personal name" in rejected["reason"][0]


def test_an_export_cut_short_mid_row_or_mid_character_is_refused(tmp_path: Path) -> None:
    """A GBK file copied half-way was merged: its cut last row quarantined, the rows after
    it counted as no longer exported, and the newest handling steps of cases still in the
    export taken back. A file that ends in the middle of a row, or of a character, is
    refused with its line; a whole last row without a line end is read as before."""
    rows = [f"C{i},P{i},2024-01-05T10:00:00,330211,征地补偿" for i in range(1, 4)]
    whole = ("\n".join([CASES, *rows]) + "\n").encode("gbk")
    folder = export(tmp_path / "export", [], ["K1,C1,2024-01-05T10:00:00,visit,county,1"])
    (folder / "cases.csv").write_bytes(whole[: whole.rindex(b"2024") + 4])  # mid-row, no line end
    with pytest.raises(
        SourceError, match=r"cases.csv, line 4: the file ends in the middle of a row"
    ):
        import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    (folder / "cases.csv").write_bytes(whole[:-2])  # the last character's bytes cut
    with pytest.raises(SourceError, match=r"ends in the middle of a character"):
        import_source(folder, tmp_path / "out", Mode.LENIENT, tmp_path / "q")
    (folder / "cases.csv").write_bytes(whole[:-1])  # whole, no final line end: read
    assert import_source(folder, tmp_path / "out").dataset.cases.height == 3
    assert not (tmp_path / "out" / "q").exists()
