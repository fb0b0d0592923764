"""Personal data guard: identity-card and mobile numbers, names where pseudonyms belong.

Detection runs on whole columns (Polars expressions) so that it costs little on
millions of rows; the same expressions serve a single value through
``redact_text`` so there is one rule, not two.
"""

from __future__ import annotations

import polars as pl

# Digits as people type them: ASCII or full-width (an export that was not normalised).
_D = "[0-9０-９]"
_NOT_D = "[^0-9０-９]"
# Between the digits of a number as people type it: up to two spaces, dashes of any
# width, dots, underscores or slashes (138-1234-5678, 138 1234  5678, 138—1234—5678,
# 138.1234.5678, 138_1234_5678), or characters that show nothing (a zero-width space
# between every group hid a number from the check), in any grouping (1381 234 5678;
# an ID as 6-8-4, 6-4-4-4 or 4-4-4-4-2).
_SEP_CHARS = "-\\s－‐‑–—._/\u200b-\u200d\u2060\ufeff"
_SEP = f"[{_SEP_CHARS}]{{0,2}}"
_BETWEEN_DIGITS = f"([0-9])[{_SEP_CHARS}]{{1,2}}([0-9Xx])"
_FULL_WIDTH_DIGITS = "０１２３４５６７８９"

# Resident ID (GB 11643-1999): 6-digit area code, 8-digit birth date, 3-digit
# sequence, check character over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = (
    r"[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"
)
# A mobile number, with or without China's +86 in front of it.
_MOBILE = r"(?:\+?86)?1[3-9][0-9]{9}"
# Cheap pre-filters, so that the exact checks run on the few rows that need them: an ID
# or a mobile number needs 11 digits (separators between them allowed), any redacted
# number 7. The same patterns serve Python's ``re`` (the score API).
DIGIT_RUN = f"{_D}(?:{_SEP}{_D}){{10}}"
REDACTION_CANDIDATE = f"{_D}(?:{_SEP}{_D}){{6}}"
# Two to four Han characters where a pseudonym is expected, alone in the value: spaces
# around them, a space, a middle dot or an invisible joiner between them still count.
_NAME_GAP = "[\\s·・\u200b-\u200d\u2060\ufeff]?"
_HAN_NAME = f"^\\s*\\p{{Han}}(?:{_NAME_GAP}\\p{{Han}}){{1,3}}\\s*$"

# A value that is a person's name alone, wherever a value is echoed (a message, a
# quarantine file, the import's report): one of the hundred commonest surnames (about
# 85% of people) and one or two characters. An office may type the clerk's or the
# petitioner's name into any column; a word of the office's vocabulary that begins
# like a surname (高院) is masked too, and its row still says where to look.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于"
    "杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫段雷龙"
    "黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
)
_SURNAME_NAME = f"^\\s*[{_SURNAMES}]{_NAME_GAP}\\p{{Han}}(?:{_NAME_GAP}\\p{{Han}})?\\s*$"
NAME_MASK = "[疑似人名 masked]"
# A unit's name ends in what it is (县住建局, 信访办, 城关镇, 人民医院, 物业公司); a
# person's name typed where a unit belongs (the clerk's, the handler's) does not.
_UNITS = "局办委院所队站厅部处科室会心司厂社校馆镇乡村区县市道组庭行"
_UNIT_ENDING = f"[{_UNITS}]\\s*$"
# Where a unit belongs, a handler's name in the forms offices write it: a compound
# surname (欧阳建华), a surname and a title (李局, 王主任), or after the unit
# (县信访局张卫东, 住建局 王建国, 县人社局（经办人李秀英）).
_COMPOUND_SURNAMES = (
    "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木|独孤|西门|"
    "南宫|申屠|轩辕|澹台|呼延|闻人"
)
_PERSON = f"(?:[{_SURNAMES}]|{_COMPOUND_SURNAMES}){_NAME_GAP}\\p{{Han}}(?:{_NAME_GAP}\\p{{Han}})?"
_UNIT_PERSONS = (
    f"^\\s*(?:{_COMPOUND_SURNAMES}){_NAME_GAP}\\p{{Han}}(?:{_NAME_GAP}\\p{{Han}})?\\s*$"
    f"|^\\s*[{_SURNAMES}](?:局长?|处长?|科长?|主任|书记|县长|镇长|乡长|村长|所长|院长|部长|经理|总)\\s*$"
)
_AFTER_UNIT = (
    f"[{_UNITS}][\\s（(:：]*(?:经办人|联系人|承办人|负责人|办理人|经手人)?[\\s:：]*{_PERSON}"
    "[)）]?\\s*$"
)
# Where the petitioner's pseudonym belongs: words rather than a code (张卫东等12人,
# 张卫东、李秀英, 买买提·吐尔逊, Zhang Weidong), an e-mail, a landline, or a number of
# an ID card's shape whatever its check character (a typo, or the old 15 digits).
_PERSON_ID_WORDS = (
    # a name, at the start or after a mark, then the end or 等/、/a bracket: not a place
    # written before a code (江北-0001, 鄞州-0001 stay)
    f"(?:^|[^\\p{{Han}}])(?:[{_SURNAMES}]|{_COMPOUND_SURNAMES})\\p{{Han}}{{1,2}}(?:$|[等、（(·\\s])"
    "|\\p{Han}[·・]\\p{Han}|\\p{Han}{5}|等[0-9０-９]+人|\\p{Han}、\\p{Han}"
    "|^\\s*[A-Za-z]+(?:\\s+[A-Za-z]+){1,2}\\s*$"
)
_CONTACT = "[^\\s@]+@[^\\s@]+\\.[A-Za-z]{2,}|^\\s*[(（]?0[0-9]{2,3}[)）]?[-\\s]?[0-9]{7,8}\\s*$"
_ID_ALONE = f"^\\s*(?:{_ID_SHAPE}|[1-8][0-9]{{14}})\\s*$"

ID_TOKEN = "[身份证号]"
MOBILE_TOKEN = "[手机号]"
PHONE_TOKEN = "[电话]"
CARD_TOKEN = "[银行卡号]"

# Redaction is deliberately wider than detection: any 18-character ID shape, with
# or without a valid check digit, old 15-digit IDs, mobiles with a +86 prefix and
# landlines with an area code; in ASCII or full-width digits, with separators between
# the digits in whatever groups people write them.
_REDACTIONS: tuple[tuple[str, str], ...] = (
    (f"(^|{_NOT_D}){_D}(?:{_SEP}{_D}){{16}}{_SEP}[0-9０-９XxＸｘ]({_NOT_D}|$)", ID_TOKEN),
    (
        f"(^|{_NOT_D})(?:[+＋]?[8８][6６]{_SEP})?[1１]{_SEP}[3-9３-９](?:{_SEP}{_D}){{9}}"
        f"({_NOT_D}|$)",
        MOBILE_TOKEN,
    ),
    # A bank card's number, 16 to 19 digits whole or in groups (a review's reason may
    # say where money was paid); before the 15-digit ID, which took a grouped card's
    # last 15 digits and left its first group. A long case or order number goes too.
    (f"(^|{_NOT_D}){_D}(?:{_SEP}{_D}){{15,18}}({_NOT_D}|$)", CARD_TOKEN),
    (f"(^|{_NOT_D}){_D}(?:{_SEP}{_D}){{14}}({_NOT_D}|$)", ID_TOKEN),
    (
        f"(^|[^0-9０-９(（])[(（]?[0０]{_D}{{2,3}}[)）]?{_SEP}{_D}{{7,8}}({_NOT_D}|$)",
        PHONE_TOKEN,
    ),
    # A landline's number in two groups (0571 8765 4321, (0571)-8765 4321), or with
    # China's +86 and no leading 0 (+86 571 8765 4321).
    (
        f"(^|[^0-9０-９(（+＋])(?:[(（]?[0０]{_D}{{2,3}}[)）]?|[+＋][8８][6６]{_SEP}[1-9１-９]"
        f"{_D}{{1,2}}){_SEP}{_D}{{3,4}}{_SEP}{_D}{{4}}({_NOT_D}|$)",
        PHONE_TOKEN,
    ),
)


def _ascii_digits(value: pl.Expr) -> pl.Expr:
    full_width = [*_FULL_WIDTH_DIGITS, "Ｘ", "ｘ"]
    return value.str.replace_many(full_width, [*(str(d) for d in range(10)), "X", "x"])


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


def may_hold_personal_data(
    column: str | pl.Expr,
    *,
    check_names: bool,
    unit_names: bool = False,
    person_id: bool = False,
    also: str = "",
) -> pl.Expr:
    """Cheap test: true wherever ``personal_data_code`` may find something, on blanks, and
    where the pattern ``also`` matches: one pass of one regex over the column (a second
    pattern in a pass of its own cost the loader about as much again)."""
    pattern = DIGIT_RUN + r"|^\s+$" + (f"|{_HAN_NAME}" if check_names else "")
    pattern += f"|{_SURNAME_NAME}|{_UNIT_PERSONS}|{_AFTER_UNIT}" if unit_names else ""
    pattern += f"|{_PERSON_ID_WORDS}|{_CONTACT}" if person_id else ""
    pattern += f"|{also}" if also else ""
    return _expr(column).str.contains(pattern)


def personal_data_code(
    column: str | pl.Expr, *, check_names: bool, unit_names: bool = False, person_id: bool = False
) -> pl.Expr:
    """Problem code where a value in ``column`` is personal data, else null.

    Codes: ``personal_id_number``, ``personal_mobile``, ``personal_contact``,
    ``personal_name``. Names are looked for where a pseudonym belongs (``check_names``:
    any two to four characters alone), where the petitioner's pseudonym belongs
    (``person_id``: words, an e-mail or a landline, a number of an ID card's shape) and
    where a unit's name belongs (``unit_names``: a common surname and one or two
    characters not ending as a unit's name does, a compound surname, a surname and a
    title, a name after the unit).
    Exact but slow: run it on the rows ``may_hold_personal_data`` selects.
    """
    value = _ascii_digits(_expr(column))
    # A number written in groups (C-138 1234 5678, +86-138-..., an ID as 6-4-4-4) is
    # also read without the separators between its digits: the forms the redaction
    # knows, so that whatever is found here is redacted in text. Each pass joins every
    # other gap; three join groups of any length people use.
    compact = value
    for _ in range(3):
        compact = compact.str.replace_all(_BETWEEN_DIGITS, "${1}${2}")
    id_candidate = value.str.extract(f"({_ID_SHAPE})", 1).fill_null(
        compact.str.extract(f"({_ID_SHAPE})", 1)
    )
    is_id = id_candidate.is_not_null() & _has_valid_id_check(id_candidate)
    is_id = is_id | (compact.str.contains(_ID_ALONE) & pl.lit(person_id))
    is_contact = _expr(column).str.contains(_CONTACT) & pl.lit(person_id)
    mobile = f"(^|[^0-9]){_MOBILE}([^0-9]|$)"
    is_mobile = value.str.contains(mobile) | compact.str.contains(mobile)
    is_name = _expr(column).str.contains(_HAN_NAME) & pl.lit(check_names)
    written = _expr(column)
    unit_person = (
        written.str.contains(_SURNAME_NAME) | written.str.contains(_AFTER_UNIT)
    ) & ~written.str.contains(_UNIT_ENDING) | written.str.contains(_UNIT_PERSONS)
    is_name = is_name | (unit_person & pl.lit(unit_names))
    is_name = is_name | (written.str.contains(_PERSON_ID_WORDS) & pl.lit(person_id))
    return (
        pl.when(is_id)
        .then(pl.lit("personal_id_number"))
        .when(is_mobile)
        .then(pl.lit("personal_mobile"))
        .when(is_contact)
        .then(pl.lit("personal_contact"))
        .when(is_name)
        .then(pl.lit("personal_name"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def may_need_redaction(column: str | pl.Expr) -> pl.Expr:
    """A cheap test that is true wherever ``redact_expr`` could change the text."""
    return _expr(column).str.contains(REDACTION_CANDIDATE)


def redact_expr(column: str | pl.Expr) -> pl.Expr:
    """The column's text with ID and phone numbers replaced by tokens."""
    expression = _expr(column)
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


def echoed_expr(column: str | pl.Expr) -> pl.Expr:
    """Values as a message or a file may show them: ID and phone numbers redacted, a
    value that is a person's name alone masked."""
    value = _expr(column)
    after_unit = value.str.contains(_AFTER_UNIT) & ~value.str.contains(_UNIT_ENDING)
    named = value.str.contains(_SURNAME_NAME) | value.str.contains(_UNIT_PERSONS) | after_unit
    return pl.when(named).then(pl.lit(NAME_MASK)).otherwise(redact_expr(value))


def echoed_line(column: str | pl.Expr) -> pl.Expr:
    """A row's raw text (fields between commas or tabs) as a quarantine file may show it:
    ID and phone numbers redacted, a field that is a person's name alone masked."""
    name = _SURNAME_NAME.removeprefix("^").removesuffix("$")
    field = f"(^|[,\t]){name}([,\t]|$)"
    expression = redact_expr(column)
    for _ in range(2):  # neighbouring fields share the separator between them
        expression = expression.str.replace_all(field, f"${{1}}{NAME_MASK}${{2}}")
    return expression


def echoed_text(text: str) -> str:
    """``echoed_expr`` for one string."""
    return str(pl.DataFrame({"text": [text]}).select(echoed_expr("text")).item())


def _expr(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column
