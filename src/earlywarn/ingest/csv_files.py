"""An office's CSV file as text, with the line each record starts on.

Encodings are tried strictly: UTF-8 (with or without BOM), else GB18030 (which contains
GBK). A file that mixes them (one row pasted from another system) is refused with the
line where the second encoding starts: decoded either way, some of its rows would be
stored as mojibake without a word.

Most exports hold one record a line, read by Polars at its speed. A file with quoted
line breaks, blank lines or a broken row is read again record by record (Python's
``csv``), so that every row keeps the line an office sees in its editor, and a row
that cannot be read is named by that line instead of failing with a traceback.
"""

from __future__ import annotations

import csv
import io

import polars as pl

_BOM = b"\xef\xbb\xbf"
FIELD_LIMIT = 64 * 1024 * 1024  # a summary may be long; csv's default limit is 128 KiB


class CsvError(ValueError):
    """A CSV file that cannot be read; the message names the file and the line."""


def decode(content: bytes, name: str) -> tuple[str, str]:
    """Text and the encoding it was in: UTF-8 (with or without BOM), else GB18030."""
    body, bom = (content[len(_BOM) :], True) if content.startswith(_BOM) else (content, False)
    try:
        return body.decode("utf-8"), "UTF-8 with BOM" if bom else "UTF-8"
    except UnicodeDecodeError as error:
        utf8_before = bom or any(byte >= 0x80 for byte in body[: error.start])
        if utf8_before:  # UTF-8 text up to here, something else from here on
            before = "the file starts with UTF-8's mark (BOM)" if bom else "the lines before are"
            raise CsvError(
                f"{name}, line {_line_at(body, error.start)}: not UTF-8, while {before}: "
                "the file mixes encodings; save it again in one "
                "(文件混用了多种编码，请统一编码后重新保存)"
            ) from error
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError as error:
        raise CsvError(
            f"{name}, line {_line_at(body, error.start)}: neither UTF-8 nor GB18030/GBK"
        ) from error
    for number, line in enumerate(body.split(b"\n"), start=1):
        # Chinese text in GBK is almost never valid UTF-8: a line that is, with
        # characters beyond ASCII, was written in UTF-8 into a GBK file.
        if any(byte >= 0x80 for byte in line) and _is_utf8(line):
            raise CsvError(
                f"{name}, line {number}: UTF-8 in a GB18030/GBK file: the file mixes "
                "encodings; save it again in one (文件混用了多种编码，请统一编码后重新保存)"
            )
    return text, "GB18030/GBK"


def _line_at(content: bytes, position: int) -> int:
    return content[:position].count(b"\n") + 1


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def records(text: str, name: str) -> tuple[list[str], pl.DataFrame, list[int]]:
    """(header, one text column per header position, the line each row starts on)."""
    if not text.strip():
        raise CsvError(f"{name}: the file is empty (文件为空)")
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        frame = pl.read_csv(io.StringIO(text), has_header=False, infer_schema=False)
    except pl.exceptions.PolarsError:
        frame = None
    if frame is not None and frame.height == lines:  # one record a line, nothing blank
        header = [value or "" for value in frame.row(0)]
        return header, frame.slice(1), list(range(2, frame.height + 1))
    return _record_by_record(text, name)


def _record_by_record(text: str, name: str) -> tuple[list[str], pl.DataFrame, list[int]]:
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    end = 0
    try:
        for record in reader:
            start, end = end + 1, reader.line_num
            if record:  # a blank line holds no record
                rows.append(record)
                starts.append(start)
    except csv.Error as error:
        raise CsvError(
            f"{name}, line {end + 1}: {error} (a quoted field that is never closed?) "
            "(引号未闭合或格式错误)"
        ) from error
    header, body = rows[0], rows[1:]
    for record, start in zip(body, starts[1:], strict=True):
        # Trailing empty fields (a spreadsheet's export often adds them) are harmless.
        while len(record) > len(header) and record[-1] == "":
            record.pop()
        if len(record) != len(header):
            raise CsvError(
                f"{name}, line {start}: {len(record)} field(s), the header has {len(header)} "
                "(该行字段数与表头不符)"
            )
    columns = {f"column_{i + 1}": [r[i] for r in body] for i in range(len(header))}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return header, frame, starts[1:]
