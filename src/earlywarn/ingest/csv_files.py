"""An office's CSV file as text, with the line each record starts on.

Encodings are tried strictly: UTF-8 (with or without BOM), else GB18030 (which contains
GBK). A file that mixes them (one row pasted from another system) is refused with the
line where the second encoding starts: decoded either way, some of its rows would be
stored as mojibake without a word. A GBK line whose bytes happen to be valid UTF-8 too
is told apart by which reading gives common Chinese characters.

Most exports hold one record a line, read by Polars at its speed. A file with quoted
line breaks, blank lines or a broken row is read again record by record (Python's
``csv``), so that every row keeps the line an office sees in its editor. A row with
more or fewer fields than the header is set aside whole, with its line, for the import
to quarantine (lenient) or refuse (strict); a file that cannot be split into records
(a quote never closed) is named by its line instead of failing with a traceback.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import polars as pl

_BOM = b"\xef\xbb\xbf"
# Punctuation either encoding writes alike (，。、“” full-width forms): no evidence.
_NEUTRAL = re.compile("[\u2018-\u201d\u3000-\u303f\uff00-\uffef]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the line ends csv counts
FIELD_LIMIT = 64 * 1024 * 1024  # a summary may be long; csv's default limit is 128 KiB


class CsvError(ValueError):
    """A CSV file that cannot be read; the message names the file and the line."""


def decode(content: bytes, name: str) -> tuple[str, str]:
    """Text and the encoding it was in: UTF-8 (with or without BOM), UTF-16 with its
    mark (Excel's "Unicode text"), else GB18030."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise CsvError(
                f"{name}: starts with UTF-16's mark but is not UTF-16 (byte {error.start}) "
                "(文件标记为 UTF-16 编码，但内容不是)"
            ) from error
    body, bom = (content[len(_BOM) :], True) if content.startswith(_BOM) else (content, False)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        # UTF-8 text on the lines before (not GBK that happens to be valid UTF-8 too;
        # the error's own line, cut at the error, proves nothing)?
        whole_lines = body[: error.start].split(b"\n")[:-1]
        utf8_before = bom or any(_utf8_chinese(line) for line in whole_lines)
        if utf8_before and error.reason == "unexpected end of data":
            raise _cut_character(name, body, error) from error
        if utf8_before:  # UTF-8 text up to here, something else from here on
            before = "the file starts with UTF-8's mark (BOM)" if bom else "the lines before are"
            raise CsvError(
                f"{name}, line {_line_at(body, error.start)}: not UTF-8, while {before}: "
                "the file mixes encodings; save it again in one "
                "(文件混用了多种编码，请统一编码后重新保存)"
            ) from error
    else:
        # A GBK file may be valid UTF-8 byte for byte throughout (约谈, 也): read as
        # the encoding in which it is more like Chinese.
        if bom or not any(byte >= 0x80 for byte in body) or not _reads_as_gbk(body):
            return text, "UTF-8 with BOM" if bom else "UTF-8"
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError as error:
        if error.end >= len(body):  # the last character's bytes cut off: a copy stopped
            raise _cut_character(name, body, error) from error
        raise CsvError(
            f"{name}, line {_line_at(body, error.start)}: neither UTF-8 nor GB18030/GBK "
            "(既不是 UTF-8 也不是 GBK 编码，请检查该行或重新导出)"
        ) from error
    for number, line in enumerate(body.split(b"\n"), start=1):
        if _utf8_chinese(line):
            raise CsvError(
                f"{name}, line {number}: UTF-8 in a GB18030/GBK file: the file mixes "
                "encodings; save it again in one (文件混用了多种编码，请统一编码后重新保存)"
            )
    return text, "GB18030/GBK"


def _cut_character(name: str, body: bytes, error: UnicodeDecodeError) -> CsvError:
    return CsvError(
        f"{name}, line {_line_at(body, error.start)}: the file ends in the middle of a "
        "character: still being copied? copy it again (文件末尾不完整，可能尚未复制完整)"
    )


def cut_short(text: str, header_width: int, name: str) -> None:
    """Refuse a file that ends in the middle of a row (no line end after a last line
    shorter than the header): a copy still running, or one that stopped. Read, its last
    row was set aside and the rows it would have brought counted as no longer exported,
    and the merge took back the newest records of cases still in the export."""
    if not text or text.endswith(("\n", "\r")):
        return
    last = text.rsplit("\n", 1)[-1]
    fields = next(csv.reader([last], delimiter=separator_of(text)), [])
    if 0 < len(fields) < header_width:
        line = text.count("\n") + 1
        raise CsvError(
            f"{name}, line {line}: the file ends in the middle of a row ({len(fields)} of the "
            f"header's {header_width} fields, no line end): still being copied? copy it again "
            "(文件在一行中间结束，可能尚未复制完整，请重新复制)"
        )


def _line_at(content: bytes, position: int) -> int:
    return content[:position].count(b"\n") + 1


_SAMPLE_BYTES = 256 * 1024  # enough lines to tell the two readings apart, read quickly


def _reads_as_gbk(body: bytes) -> bool:
    """Whether text valid in UTF-8 is Chinese in GBK rather than in UTF-8, judged on its
    first lines (a character at a time: a whole large file would take seconds)."""
    sample = body[:_SAMPLE_BYTES]
    if len(body) > _SAMPLE_BYTES:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    return _chinese_likeness(sample.decode("gb18030", "replace")) > _chinese_likeness(
        sample.decode("utf-8", "replace")
    )


def _utf8_chinese(line: bytes) -> bool:
    """A line beyond ASCII, valid UTF-8 and read better so than as GBK."""
    return any(byte >= 0x80 for byte in line) and _is_utf8(line) and _reads_as_utf8(line)


def _reads_as_utf8(line: bytes) -> bool:
    """Whether a line valid in both encodings is Chinese in UTF-8 rather than in GBK.

    GBK's common characters are often valid UTF-8 byte for byte (a first byte C2-D7
    and a second A1-BF make a two-byte UTF-8 letter: Greek, Cyrillic, Arabic), so being
    valid UTF-8 proves nothing. The reading that looks more like Chinese (more of the
    3,755 common characters of GB2312's first level, fewer of anything else beyond ASCII)
    is the one the line was written in; a tie stays with GBK, the file's encoding."""
    return _chinese_likeness(line.decode("utf-8")) > _chinese_likeness(
        line.decode("gb18030", "replace")
    )


def _chinese_likeness(text: str) -> int:
    score = 0
    for character in text:
        if character < "\x80" or _NEUTRAL.match(character):
            continue
        try:
            first = character.encode("gb2312")[0] if "\u4e00" <= character <= "\u9fff" else 0
        except UnicodeEncodeError:
            first = 0
        score += 1 if 0xB0 <= first <= 0xD7 else -1
    return score


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class CsvRecords:
    header: list[str]
    frame: pl.DataFrame  # one text column per header position (empty fields null)
    lines: list[int]  # the line each row of ``frame`` starts on
    # Rows whose fields cannot be told apart: (line, text, code, detail), set aside whole:
    # a field count not the header's, or a quote closed before its field ends.
    set_aside: list[tuple[int, str, str, str]] = field(default_factory=list)


def separator_of(text: str) -> str:
    """Comma, or a tab when the first line holds tabs and no comma (Excel's "Unicode
    text" and "text (tab delimited)" saved under a .csv name)."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","


def records(text: str, name: str, above: int = 0) -> CsvRecords:
    """The file's rows as text, each with its line; rows of the wrong width set aside.
    ``above``: how many lines of the file stand above the text (a title), so that line
    numbers are the file's."""
    if not text.strip():
        raise CsvError(f"{name}: the file is empty (文件为空)")
    separator = separator_of(text)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        frame = pl.read_csv(
            io.StringIO(text), has_header=False, infer_schema=False, separator=separator
        )
    except pl.exceptions.PolarsError:
        frame = None
    # One record a line, nothing blank, and every line as wide as the header (Polars
    # fills a short row with nulls without a word).
    if frame is not None and frame.height == lines and _all_as_wide(text, frame.width, separator):
        header = [value or "" for value in frame.row(0)]
        first = above + 2
        return CsvRecords(header, frame.slice(1), list(range(first, first + frame.height - 1)))
    return _record_by_record(text, name, separator, above)


def _all_as_wide(text: str, width: int, separator: str) -> bool:
    rows = pl.Series(text.splitlines(), dtype=pl.String)
    quoted = rows.str.contains('"', literal=True)
    if not (quoted | (rows.str.count_matches(separator, literal=True) == width - 1)).all():
        return False
    return all(
        len(next(csv.reader([row], delimiter=separator), [])) == width
        for row in rows.filter(quoted)
    )


def _record_by_record(text: str, name: str, separator: str, above: int) -> CsvRecords:
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=separator)
    physical = _LINE_BREAK.split(text)
    rows: list[list[str]] = []
    starts: list[int] = []
    set_aside: list[tuple[int, str, str, str]] = []
    end = above
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            start, end = end + 1, above + reader.line_num
            if not rows or "unexpected end of data" in str(error):
                # In the header, or a quote never closed: the rest of the file is one
                # field, and where the records resume cannot be told.
                raise CsvError(
                    f"{name}, line {start}: {error} (a quoted field that is never closed?) "
                    "(引号未闭合或格式错误)"
                ) from error
            # Text after a closing quote ("王某"反映): the reader resumes on the next line.
            lines = "\n".join(physical[start - above - 1 : end - above])
            detail = "text after a closing quote" + (
                f", lines {start} to {end} (a quote opened on line {start} and closed on "
                f"line {end}?)" if end > start else ""
            )  # fmt: skip
            set_aside.append((start, lines, "bad_quoting", detail))
            continue
        start, end = end + 1, above + reader.line_num
        if record:  # a blank line holds no record
            rows.append(record)
            starts.append(start)
    header, kept, lines_kept = rows[0], [], []
    for record, start in zip(rows[1:], starts[1:], strict=True):
        # Trailing empty fields (a spreadsheet's export often adds them) are harmless.
        while len(record) > len(header) and record[-1] == "":
            record.pop()
        if len(record) == len(header):
            kept.append(record)
            lines_kept.append(start)
        else:  # its fields cannot be told apart: the row is set aside whole
            detail = f"{len(record)} field(s), not the header's"
            set_aside.append((start, separator.join(record), "wrong_field_count", detail))
    columns = {f"column_{i + 1}": [r[i] or None for r in kept] for i in range(len(header))}
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String))
    return CsvRecords(header, frame, lines_kept, sorted(set_aside))
