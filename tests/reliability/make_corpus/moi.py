"""Feed 1, the household registry (``moi.household_registry``): a CP950 CSV with CRLF line
ends, delivered daily as ``MOI_HHR_<yyyymmdd>.csv`` with its ``.sha256`` companion.

:func:`moi_cases` lists its broken deliveries, one delivery day each from 1 October 2024 in the
order listed (the order fixes each case's file name), by kind: encoding and truncation, the
companion, empty files and headers, records, file names. The rows are synthetic, seeded by the
case's name.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from kernel.twid import make_person_id, roc_date
from tests.reliability.make_corpus.common import (
    ADDRESSES,
    BOM,
    EUDC,
    MOI,
    NAMES,
    Case,
    csv_field,
    digest_line,
    first_bad_line,
    with_digest,
)

MOI_WIRES = ["身分證統一編號", "姓名", "性別", "出生日期", "戶籍地址", "戶號", "異動類別",
             "異動日期", "死亡日期"]


def moi_rows(seed: str, n: int, day: dt.date) -> list[list[str]]:
    """``n`` valid change events (move-ins) of distinct synthetic persons."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        pid = make_person_id(rng)
        born = dt.date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        household = "".join(rng.choice("ABCDEFGHJK") for _ in range(2)) + \
            f"{rng.randrange(10**6):06d}"
        rows.append([pid, rng.choice(NAMES), pid[1], roc_date(born), rng.choice(ADDRESSES),
                     household, "02", roc_date(day - dt.timedelta(days=1)), ""])
    return rows


def moi_bytes(header: list[str], rows: list[list[str]], eol: str = "\r\n") -> bytes:
    lines = [",".join(csv_field(v) for v in r) for r in [header, *rows]]
    return "".join(line + eol for line in lines).encode("cp950")


DRIFTED = ["姓名", "身分證統一編號", "備註", *[w for w in MOI_WIRES[2:] if w != "戶號"]]
"""The registry's columns with schema drift: 姓名 first, a new column 備註, 戶號 left out."""


def _drifted(x: list[str], i: int) -> list[str]:
    return [x[1], x[0], f"備註{i}", *x[2:5], *x[6:]]


def moi_record_errors(r: list[list[str]]) -> tuple[bytes, dict[str, Any]]:
    """Twenty good rows made into a delivery with schema drift (:data:`DRIFTED`) and broken
    records among good ones, and what must become of each (record numbers counted as the CSV
    reader counts records)."""
    rules: dict[str, list[int]] = {}
    lines: list[bytes] = [",".join(DRIFTED).encode("cp950")]
    n = 0  # records so far

    def put(data: bytes, records: int = 1, *broken: str) -> None:
        nonlocal n
        lines.append(data)
        for k in range(records):
            for rule in broken:
                rules.setdefault(rule, []).append(n + 1 + k)
        n += records

    def line(x: list[str]) -> bytes:
        return ",".join(csv_field(v) for v in _drifted(x, n + 1)).encode("cp950")

    for i, x in enumerate(r):
        if i == 2:
            x[0] = x[0][:-1] + str((int(x[0][-1]) + 1) % 10)
            put(line(x), 1, "national_id.check_digit")
        elif i == 4:
            x[3] = "1080230"
            put(line(x), 1, "birth_date.required", "birth_date.valid")
        elif i == 6:
            x[1] = "王" * 5000
            put(line(x), 1, "name.length")
        elif i == 8:
            put(line(x).replace(b",", b",,", 1), 1, "record.malformed")
        elif i == 10:
            x[4] = x[4][:3] + "\r\n" + x[4][3:]
            put(",".join(_drifted(x, n + 1)).encode("cp950"), 2, "record.malformed")
        elif i == 12:
            x[1] = x[1][:1] + "\x07" + x[1][1:]
            put(line(x), 1, "record.malformed")
        elif i == 14:
            x[4] = "臺北市中正區\r\n忠孝東路一段12號"
            put(line(x))
        elif i == 15:
            x[1] = x[1][:1] + "##"  # then a CP950 user-defined character (## never a 2nd byte)
            put(line(x).replace(b"##", EUDC))
        elif i == 16:
            x[4] = x[4] + "\x00"
            put(line(x), 1, "record.malformed")
        elif i == 17:
            x[0] = x[0][0] + "".join(chr(ord(c) + 0xFEE0) for c in x[0][1:])  # full width
            put(line(x))
        else:
            put(line(x))
    data = b"".join(x + (b"\n" if i % 2 else b"\r\n") for i, x in enumerate(lines))
    bad = {row for rows in rules.values() for row in rows}
    expect = {"outcome": "quarantined", "records": n, "silver": n - len(bad),
              "quarantined": rules,
              "drift": ["new column 備註", "column 戶號 (household_no) missing from the header",
                        "another order"], "extra": ["備註"]}
    return data, expect


Build = Callable[[str, dt.date], tuple[str, dict[str, bytes]]]
"""Makes a case's delivery from the day's file name and the day: the file the outcome is recorded
under, and the files to drop into the inbox."""


class _Days:
    """The cases listed so far; each new case is delivered the day after the previous one."""

    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.day = dt.date(2024, 10, 1)

    def add(self, name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            build: Build) -> None:
        """List the case ``name`` on the next delivery day."""
        file_name = f"MOI_HHR_{self.day:%Y%m%d}.csv"
        file, files = build(file_name, self.day)
        self.cases.append(Case(MOI, name, issue, description, file, expect, files))
        self.day += dt.timedelta(days=1)


def _rows(name: str, d: dt.date, n: int = 5) -> list[list[str]]:
    """The case ``name``'s good rows, delivered on ``d``."""
    return moi_rows(f"{MOI}:{name}", n, d)


def _simple(name: str, mutate: Callable[[list[list[str]]], bytes]) -> Build:
    """A delivery of the bytes ``mutate`` makes of the case's rows, with a matching companion."""
    def build(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        return f, with_digest(f, mutate(_rows(name, d)))
    return build


def _utf8(r: list[list[str]]) -> bytes:
    """The rows as the registry's CSV, written in UTF-8 instead of CP950."""
    return moi_bytes(MOI_WIRES, r).decode("cp950").encode("utf-8")


def _cut_in_quotes(r: list[list[str]]) -> bytes:
    """The file cut inside the fifth record's quoted address."""
    r[4][4] = "臺北市大安區,和平東路二段106號"
    data = moi_bytes(MOI_WIRES, r)
    return data[: data.index("和平".encode("cp950"))]


def _encoding_and_truncation(days: _Days) -> None:
    """Files that are not CP950 text, or end before their last record does."""
    utf8_line = first_bad_line(_utf8(_rows("wrong_encoding_utf8", dt.date(2024, 10, 1))),
                               "cp950")
    days.add("wrong_encoding_utf8", "wrong encoding",
             "the registry's CSV written in UTF-8 instead of CP950",
             {"outcome": "refused", "stage": "bronze",
              "message": "not valid cp950 text (the whole file reads as UTF-8: delivered in "
                         "another encoding?)",
              "line": utf8_line}, _simple("wrong_encoding_utf8", _utf8))
    days.add("compressed_file", "wrong encoding",
             "a gzip archive delivered under the CSV's name (binary, not text)",
             {"outcome": "refused", "stage": "bronze", "message": "not valid cp950 text",
              "line": 1},
             _simple("compressed_file", lambda r: bytes.fromhex("1f8b0800000000000003") +
                     bytes(range(0x80, 0x100)) + b"\x00\x01\x02\xff\xfe"))
    days.add("truncated_mid_record", "truncated file",
             "the file ends in the middle of the fifth record (no line break after it)",
             {"outcome": "refused", "stage": "bronze", "message": "incomplete file", "line": 6},
             _simple("truncated_mid_record", lambda r: moi_bytes(MOI_WIRES, r)[:-15]))
    days.add("truncated_in_quoted_field", "truncated file",
             "the file is cut inside a quoted address of the fifth record",
             {"outcome": "refused", "stage": "bronze", "message": "never closed", "line": 6},
             _simple("truncated_in_quoted_field", _cut_in_quotes))


def _companions(days: _Days) -> None:
    """The ``.sha256`` companion missing, wrong, naming another file, or alone."""
    def no_companion(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        return f, {f: moi_bytes(MOI_WIRES, _rows("missing_sha256", d))}
    days.add("missing_sha256", "missing .sha256", "the file arrives without its companion",
             {"outcome": "refused", "stage": "land", "message": "missing .sha256 companion"},
             no_companion)

    def wrong_digest(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, _rows("wrong_sha256", d))
        return f, {f: data, f"{f}.sha256": digest_line(f, data + b"x")}
    days.add("wrong_sha256", "wrong .sha256",
             "the companion's digest is not the file's (a damaged transfer)",
             {"outcome": "refused", "stage": "land", "message": "SHA-256 mismatch"},
             wrong_digest)

    def other_name(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, _rows("sha256_names_another_file", d))
        return f, {f: data, f"{f}.sha256": digest_line("MOI_HHR_20240101.csv", data)}
    days.add("sha256_names_another_file", "wrong .sha256",
             "the companion holds the right digest but names another file",
             {"outcome": "refused", "stage": "land", "message": "names another file"},
             other_name)

    def not_a_digest(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, _rows("sha256_not_a_digest", d))
        return f, {f: data, f"{f}.sha256": b"<html>404 Not Found</html>\n"}
    days.add("sha256_not_a_digest", "wrong .sha256", "the companion holds no SHA-256 digest",
             {"outcome": "refused", "stage": "land",
              "message": "does not hold a SHA-256 digest"},
             not_a_digest)

    def orphan(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, _rows("sha256_without_file", d))
        return f"{f}.sha256", {f"{f}.sha256": digest_line(f, data)}
    days.add("sha256_without_file", "missing .sha256",
             "a companion arrives without its file (the file is still on its way, or lost)",
             {"outcome": "held", "message": "digest companion without its file"}, orphan)


def _empty_files_and_headers(days: _Days) -> None:
    """Files without records, and headers missing, renaming, repeating or adding columns."""
    days.add("empty_file", "empty file", "a 0-byte file with a matching companion",
             {"outcome": "refused", "stage": "land", "message": "empty file (0 bytes)"},
             _simple("empty_file", lambda r: b""))
    days.add("blank_line_only", "empty file", "a file holding one empty line",
             {"outcome": "refused", "stage": "bronze", "message": "empty header", "line": 1},
             _simple("blank_line_only", lambda r: b"\r\n"))
    days.add("header_only", "header only",
             "a day without changes: the header and no record (the contract allows it)",
             {"outcome": "ok", "records": 0, "silver": 0},
             _simple("header_only", lambda r: moi_bytes(MOI_WIRES, [])))
    days.add("missing_required_column", "missing columns", "the column 姓名 (name) is left out",
             {"outcome": "refused", "stage": "bronze",
              "message": "missing required column(s) 姓名 (name)", "line": 1},
             _simple("missing_required_column", lambda r: moi_bytes(
                 [w for w in MOI_WIRES if w != "姓名"], [x[:1] + x[2:] for x in r])))
    days.add("renamed_required_column", "missing columns",
             "身分證統一編號 renamed to 身分證號 (a missing column and an unknown one)",
             {"outcome": "refused", "stage": "bronze",
              "message": "missing required column(s) 身分證統一編號 (national_id); the header "
                         "has unknown column(s) 身分證號 (renamed?)", "line": 1},
             _simple("renamed_required_column",
                     lambda r: moi_bytes(["身分證號", *MOI_WIRES[1:]], r)))
    days.add("column_named_twice", "unknown columns", "the header names 性別 twice",
             {"outcome": "refused", "stage": "bronze", "message": "性別 named more than once",
              "line": 1},
             _simple("column_named_twice", lambda r: moi_bytes(
                 [*MOI_WIRES, "性別"], [[*x, x[2]] for x in r])))
    days.add("header_extra_delimiter", "extra delimiter",
             "a delimiter after the header's last name: a column without a name",
             {"outcome": "refused", "stage": "bronze",
              "message": "header column 10 has no name", "line": 1},
             _simple("header_extra_delimiter", lambda r: moi_bytes([*MOI_WIRES, ""], r)))


def _unbalanced(r: list[list[str]]) -> bytes:
    """The registry's CSV with a quote opened in record 2 and never closed."""
    data = moi_bytes(MOI_WIRES, r).split(b"\r\n")
    data[2] = data[2].replace(b",", b',"', 1)  # record 2 (line 3): a quote never closed
    return b"\r\n".join(data)


def _records(days: _Days) -> None:
    """Records the reader cannot split, a stray byte-order mark, and records broken among good
    ones (with schema drift: :func:`moi_record_errors`)."""
    days.add("unbalanced_quotes", "unbalanced quotes",
             "record 2 opens a quote that is never closed (the rest of the file would be one "
             "value)",
             {"outcome": "refused", "stage": "bronze", "message": "never closed", "line": 3},
             _simple("unbalanced_quotes", _unbalanced))
    days.add("bom_not_expected", "BOM where none is expected",
             "a UTF-8 byte-order mark in front of the CP950 file",
             {"outcome": "refused", "stage": "bronze", "message": "byte-order mark", "line": 1},
             _simple("bom_not_expected", lambda r: BOM + moi_bytes(MOI_WIRES, r)))

    def broken_records(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data, _ = moi_record_errors(_rows("broken_records", d, 20))
        return f, with_digest(f, data)
    _, record_errors = moi_record_errors(_rows("broken_records", days.day, 20))
    days.add("broken_records", ["unknown columns", "missing columns",
                                "identifiers with invalid check digits", "impossible dates",
                                "very long fields", "extra delimiter", "embedded line breaks",
                                "control characters", "private-use characters",
                                "CRLF and LF mixed"],
             "schema drift: a new column 備註 (kept in bronze), the optional column 戶號 "
             "(household_no) left out (read as no value), 姓名 before the ID (columns read by "
             "name); the run goes on and the steward is told. "
             "20 change events, lines ending alternately with CRLF and LF: a wrong check digit, "
             "an impossible date (1080230), a name of 5,000 characters, an extra delimiter, an "
             "address broken over two lines without quotes (two broken records), a BEL in a "
             "name, a NUL in an address; and three good ones that look odd: an address with a "
             "line break inside quotes, a name with a CP950 user-defined character (EUDC, "
             "U+E000), full-width digits in an ID",
             record_errors, broken_records)


def _file_names(days: _Days) -> None:
    """File names with an impossible date or outside the interface's pattern."""
    def bad_name_date(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        name = "MOI_HHR_20241340.csv"
        return name, with_digest(name, moi_bytes(MOI_WIRES, _rows("file_name_impossible_date",
                                                                    d)))
    days.add("file_name_impossible_date", "impossible dates",
             "the file name carries the 40th of the 13th month",
             {"outcome": "refused", "stage": "land", "message": "impossible date"}, bad_name_date)

    def bad_name(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        name = f"MOI_HHR_{d:%Y-%m-%d}.csv"
        return name, with_digest(name, moi_bytes(MOI_WIRES, _rows("file_name_unexpected", d)))
    days.add("file_name_unexpected", "wrong file name",
             "a file name outside the interface's pattern",
             {"outcome": "refused", "stage": "land", "message": "file name does not match"},
             bad_name)


def moi_cases() -> list[Case]:
    """The household registry's cases, in delivery order."""
    days = _Days()
    _encoding_and_truncation(days)
    _companions(days)
    _empty_files_and_headers(days)
    _records(days)
    _file_names(days)
    return days.cases
