"""Write the bad-input corpus: broken deliveries of the six feeds, each with its expected outcome.

``python -m tests.reliability.make_corpus`` (re)writes ``tests/reliability/corpus/``;
``--check`` only compares the committed corpus with what this script writes (the test suite
runs that too). The corpus files are committed: they are the corpus. They are written by a
script because most of them are bytes an editor would not keep: CP950 text, 80-byte records
cut by bytes, a UTF-8 byte-order mark, control characters, and ``.sha256`` companions that
must match their files.

Layout: ``corpus/<feed>/<case>/`` holds the delivery exactly as it would arrive (the file and
its ``.sha256`` companion, unless the case is about the companion; for the API feed, the page
bodies the agency's server answers) and ``case.yaml``:

``feed``, ``issue`` (the kind of bad input, as the issue lists them), ``description``,
``file`` (the delivered file the outcome is recorded under; ``pull`` for a pulled feed),
``files`` (what to drop into the inbox, or what the server serves), optionally ``serve``
(the API's answer: content type, delay) and ``options`` / ``env`` (the puller's settings), and
``expect``:

- ``outcome``: ``refused`` (the delivery is not ingested; ``stage`` land, bronze or pull),
  ``held`` (a companion without its file waits in the inbox, reported on every run),
  ``failed`` (a quality gate refuses the whole batch), ``quarantined`` (the batch goes on; the
  records of ``quarantined`` go to quarantine: rule id -> record numbers) or ``ok``;
- ``message``: a fragment the reason must hold; ``line``: the line the reason must name;
  ``within_seconds``: the run ends within this time (a source that does not answer);
- ``records`` (delivered records = bronze rows), ``silver`` (records reaching silver),
  ``drift`` (fragments of the ``schema.drift`` warnings), ``extra`` (the new columns bronze
  keeps in ``_extra``).

Every record value is synthetic (generated identifiers with valid check digits unless a case
breaks them on purpose).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kernel.twid import make_business_id, make_person_id, roc_date

CORPUS = Path(__file__).resolve().parent / "corpus"
MOI = "moi.household_registry"
LPC = "bli.labor_pension_contributions"
LIE = "bli.labor_insurance_enrollment"
MOA = "moa.farmer_registry"
NHIA = "nhia.insured_status"
BENEFITS = "bli.benefit_payments"

NAMES = ["王小明", "林美玲", "陳志豪", "張雅婷", "李建宏", "黃淑芬", "吳俊傑", "劉怡君", "蔡宗翰"]
ADDRESSES = ["臺北市中正區忠孝東路一段12號", "新北市板橋區文化路二段3號", "臺中市西區民生路5號",
             "高雄市苓雅區四維三路2號", "臺南市東區大學路1號", "桃園市桃園區中正路100號"]
EUDC = b"\xfa\x40"  # the first CP950 user-defined character (U+E000 in Java's MS950)
BOM = b"\xef\xbb\xbf"


@dataclass
class Case:
    """One broken delivery and what must become of it."""

    feed: str
    name: str
    issue: str | list[str]
    description: str
    file: str
    expect: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def yaml(self) -> bytes:
        doc: dict[str, Any] = {"feed": self.feed, "issue": self.issue,
                               "description": self.description, "file": self.file,
                               "files": sorted(self.files)}
        doc.update(self.extra)
        doc["expect"] = self.expect
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
        return text.encode("utf-8")


def digest_line(name: str, data: bytes) -> bytes:
    """The ``.sha256`` companion as ``sha256sum`` writes it."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n".encode("ascii")


def with_digest(name: str, data: bytes) -> dict[str, bytes]:
    """A file and its companion."""
    return {name: data, f"{name}.sha256": digest_line(name, data)}


def first_bad_line(data: bytes, codec: str) -> int:
    """The first line (1-based) that does not decode with ``codec`` (no EUDC in these files,
    so Python's cp950 agrees with Java's MS950)."""
    for i, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode(codec)
        except UnicodeDecodeError:
            return i
    raise ValueError("every line decodes")


# --------------------------------------------------------------------------- feed 1: CSV CP950
MOI_WIRES = ["身分證統一編號", "姓名", "性別", "出生日期", "戶籍地址", "戶號", "異動類別",
             "異動日期", "死亡日期"]


def _csv_field(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"\r\n') \
        else value


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
    lines = [",".join(_csv_field(v) for v in r) for r in [header, *rows]]
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
        return ",".join(_csv_field(v) for v in _drifted(x, n + 1)).encode("cp950")

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


def moi_cases() -> list[Case]:
    cases: list[Case] = []
    day = dt.date(2024, 10, 1)

    def add(name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            build: Callable[[str, dt.date], tuple[str, dict[str, bytes]]]) -> None:
        nonlocal day
        file_name = f"MOI_HHR_{day:%Y%m%d}.csv"
        file, files = build(file_name, day)
        cases.append(Case(MOI, name, issue, description, file, expect, files))
        day += dt.timedelta(days=1)

    def rows(name: str, d: dt.date, n: int = 5) -> list[list[str]]:
        return moi_rows(f"{MOI}:{name}", n, d)

    def simple(name: str, mutate: Callable[[list[list[str]]], bytes]
               ) -> Callable[[str, dt.date], tuple[str, dict[str, bytes]]]:
        def build(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
            return f, with_digest(f, mutate(rows(name, d)))
        return build

    def utf8(r: list[list[str]]) -> bytes:
        return moi_bytes(MOI_WIRES, r).decode("cp950").encode("utf-8")

    utf8_line = first_bad_line(utf8(rows("wrong_encoding_utf8", dt.date(2024, 10, 1))), "cp950")
    add("wrong_encoding_utf8", "wrong encoding",
        "the registry's CSV written in UTF-8 instead of CP950",
        {"outcome": "refused", "stage": "bronze",
         "message": "not valid cp950 text (the whole file reads as UTF-8: delivered in another "
                    "encoding?)",
         "line": utf8_line}, simple("wrong_encoding_utf8", utf8))
    add("compressed_file", "wrong encoding",
        "a gzip archive delivered under the CSV's name (binary, not text)",
        {"outcome": "refused", "stage": "bronze", "message": "not valid cp950 text",
         "line": 1},
        simple("compressed_file", lambda r: bytes.fromhex("1f8b0800000000000003") +
               bytes(range(0x80, 0x100)) + b"\x00\x01\x02\xff\xfe"))
    add("truncated_mid_record", "truncated file",
        "the file ends in the middle of the fifth record (no line break after it)",
        {"outcome": "refused", "stage": "bronze", "message": "incomplete file", "line": 6},
        simple("truncated_mid_record", lambda r: moi_bytes(MOI_WIRES, r)[:-15]))

    def cut_in_quotes(r: list[list[str]]) -> bytes:
        r[4][4] = "臺北市大安區,和平東路二段106號"
        data = moi_bytes(MOI_WIRES, r)
        return data[: data.index("和平".encode("cp950"))]
    add("truncated_in_quoted_field", "truncated file",
        "the file is cut inside a quoted address of the fifth record",
        {"outcome": "refused", "stage": "bronze", "message": "never closed", "line": 6},
        simple("truncated_in_quoted_field", cut_in_quotes))

    def no_companion(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        return f, {f: moi_bytes(MOI_WIRES, rows("missing_sha256", d))}
    add("missing_sha256", "missing .sha256", "the file arrives without its companion",
        {"outcome": "refused", "stage": "land", "message": "missing .sha256 companion"},
        no_companion)

    def wrong_digest(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, rows("wrong_sha256", d))
        return f, {f: data, f"{f}.sha256": digest_line(f, data + b"x")}
    add("wrong_sha256", "wrong .sha256",
        "the companion's digest is not the file's (a damaged transfer)",
        {"outcome": "refused", "stage": "land", "message": "SHA-256 mismatch"}, wrong_digest)

    def other_name(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, rows("sha256_names_another_file", d))
        return f, {f: data, f"{f}.sha256": digest_line("MOI_HHR_20240101.csv", data)}
    add("sha256_names_another_file", "wrong .sha256",
        "the companion holds the right digest but names another file",
        {"outcome": "refused", "stage": "land", "message": "names another file"}, other_name)

    def not_a_digest(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, rows("sha256_not_a_digest", d))
        return f, {f: data, f"{f}.sha256": b"<html>404 Not Found</html>\n"}
    add("sha256_not_a_digest", "wrong .sha256", "the companion holds no SHA-256 digest",
        {"outcome": "refused", "stage": "land", "message": "does not hold a SHA-256 digest"},
        not_a_digest)

    def orphan(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data = moi_bytes(MOI_WIRES, rows("sha256_without_file", d))
        return f"{f}.sha256", {f"{f}.sha256": digest_line(f, data)}
    add("sha256_without_file", "missing .sha256",
        "a companion arrives without its file (the file is still on its way, or lost)",
        {"outcome": "held", "message": "digest companion without its file"}, orphan)
    add("empty_file", "empty file", "a 0-byte file with a matching companion",
        {"outcome": "refused", "stage": "land", "message": "empty file (0 bytes)"},
        simple("empty_file", lambda r: b""))
    add("blank_line_only", "empty file", "a file holding one empty line",
        {"outcome": "refused", "stage": "bronze", "message": "empty header", "line": 1},
        simple("blank_line_only", lambda r: b"\r\n"))
    add("header_only", "header only",
        "a day without changes: the header and no record (the contract allows it)",
        {"outcome": "ok", "records": 0, "silver": 0},
        simple("header_only", lambda r: moi_bytes(MOI_WIRES, [])))

    add("missing_required_column", "missing columns", "the column 姓名 (name) is left out",
        {"outcome": "refused", "stage": "bronze",
         "message": "missing required column(s) 姓名 (name)", "line": 1},
        simple("missing_required_column", lambda r: moi_bytes(
            [w for w in MOI_WIRES if w != "姓名"], [x[:1] + x[2:] for x in r])))
    add("renamed_required_column", "missing columns",
        "身分證統一編號 renamed to 身分證號 (a missing column and an unknown one)",
        {"outcome": "refused", "stage": "bronze",
         "message": "missing required column(s) 身分證統一編號 (national_id); the header has "
                    "unknown column(s) 身分證號 (renamed?)", "line": 1},
        simple("renamed_required_column",
               lambda r: moi_bytes(["身分證號", *MOI_WIRES[1:]], r)))
    add("column_named_twice", "unknown columns", "the header names 性別 twice",
        {"outcome": "refused", "stage": "bronze", "message": "性別 named more than once",
         "line": 1},
        simple("column_named_twice", lambda r: moi_bytes(
            [*MOI_WIRES, "性別"], [[*x, x[2]] for x in r])))
    add("header_extra_delimiter", "extra delimiter",
        "a delimiter after the header's last name: a column without a name",
        {"outcome": "refused", "stage": "bronze", "message": "header column 10 has no name",
         "line": 1},
        simple("header_extra_delimiter", lambda r: moi_bytes([*MOI_WIRES, ""], r)))

    def unbalanced(r: list[list[str]]) -> bytes:
        data = moi_bytes(MOI_WIRES, r).split(b"\r\n")
        data[2] = data[2].replace(b",", b',"', 1)  # record 2 (line 3): a quote never closed
        return b"\r\n".join(data)
    add("unbalanced_quotes", "unbalanced quotes",
        "record 2 opens a quote that is never closed (the rest of the file would be one value)",
        {"outcome": "refused", "stage": "bronze", "message": "never closed", "line": 3},
        simple("unbalanced_quotes", unbalanced))
    add("bom_not_expected", "BOM where none is expected",
        "a UTF-8 byte-order mark in front of the CP950 file",
        {"outcome": "refused", "stage": "bronze", "message": "byte-order mark", "line": 1},
        simple("bom_not_expected", lambda r: BOM + moi_bytes(MOI_WIRES, r)))

    def broken_records(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        data, _ = moi_record_errors(rows("broken_records", d, 20))
        return f, with_digest(f, data)
    _, record_errors = moi_record_errors(rows("broken_records", day, 20))
    add("broken_records", ["unknown columns", "missing columns",
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

    def bad_name_date(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        name = "MOI_HHR_20241340.csv"
        return name, with_digest(name, moi_bytes(MOI_WIRES, rows("file_name_impossible_date",
                                                                   d)))
    add("file_name_impossible_date", "impossible dates",
        "the file name carries the 40th of the 13th month",
        {"outcome": "refused", "stage": "land", "message": "impossible date"}, bad_name_date)

    def bad_name(f: str, d: dt.date) -> tuple[str, dict[str, bytes]]:
        name = f"MOI_HHR_{d:%Y-%m-%d}.csv"
        return name, with_digest(name, moi_bytes(MOI_WIRES, rows("file_name_unexpected", d)))
    add("file_name_unexpected", "wrong file name",
        "a file name outside the interface's pattern",
        {"outcome": "refused", "stage": "land", "message": "file name does not match"},
        bad_name)
    return cases


# --------------------------------------------------------------------------- feed 3: CSV UTF-8
LPC_WIRES = ["提繳年月", "雇主統一編號", "身分證號", "月提繳工資", "雇主提繳率", "個人自提率",
             "提繳金額"]


def lpc_rows(seed: str, n: int, month: str) -> list[list[str]]:
    rng = random.Random(seed)
    ubn = make_business_id(rng)
    out = []
    for _ in range(n):
        wage = rng.choice([27470, 30300, 36300, 45800])
        own = rng.choice(["0.00", "6.00"])
        amount = round(wage * (6 + float(own)) / 100)
        out.append([month, ubn, make_person_id(rng), str(wage), "6.00", own, str(amount)])
    return out


def lpc_bytes(header: list[str], rows: list[list[str]], eol: str = "\n",
              bom: bool = True) -> bytes:
    lines = [",".join(_csv_field(v) for v in r) for r in [header, *rows]]
    return (BOM if bom else b"") + "".join(x + eol for x in lines).encode("utf-8")


def lpc_cases() -> list[Case]:
    cases: list[Case] = []
    month = [113, 1]

    def add(name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            make: Callable[[list[list[str]]], bytes], n: int = 10) -> None:
        roc = f"{month[0]:03d}{month[1]:02d}"
        f = f"BLI_LPC_{roc}.csv"
        data = make(lpc_rows(f"{LPC}:{name}", n, roc))
        cases.append(Case(LPC, name, issue, description, f, expect, with_digest(f, data)))
        month[1] += 1
        if month[1] > 12:
            month[0], month[1] = month[0] + 1, 1

    add("missing_bom", "BOM where none is expected",
        "the UTF-8 file without the byte-order mark the contract requires",
        {"outcome": "refused", "stage": "bronze", "message": "no UTF-8 byte-order mark",
         "line": 1}, lambda r: lpc_bytes(LPC_WIRES, r, bom=False))
    big5 = lpc_bytes(LPC_WIRES, lpc_rows("x", 10, "11301"), bom=False).decode("utf-8") \
        .encode("cp950")
    add("wrong_encoding_big5", "wrong encoding", "the UTF-8 file written in Big5 (CP950)",
        {"outcome": "refused", "stage": "bronze",
         "message": "not valid utf-8-sig text (the whole file reads as cp950 (Big5)",
         "line": first_bad_line(big5, "utf-8")},
        lambda r: lpc_bytes(LPC_WIRES, r, bom=False).decode("utf-8").encode("cp950"))
    add("header_only", "header only",
        "a month without a contribution: the contract requires at least one record",
        {"outcome": "failed", "message": "gate.min_rows: 0 records"},
        lambda r: lpc_bytes(LPC_WIRES, []))
    add("renamed_required_column", "missing columns",
        "提繳金額 (amount) renamed to 金額",
        {"outcome": "refused", "stage": "bronze",
         "message": "missing required column(s) 提繳金額 (amount); the header has unknown "
                    "column(s) 金額 (renamed?)", "line": 1},
        lambda r: lpc_bytes([*LPC_WIRES[:-1], "金額"], r))

    def broken(r: list[list[str]]) -> bytes:
        r[4][2] = r[4][2][:5] + "\ue000" + r[4][2][6:]  # record 5: a private-use character
        u = r[11][1]
        r[11][1] = u[:-1] + str((int(u[-1]) + 1) % 10)  # record 12: a wrong check digit
        r[18][0] = "11313"  # record 19: month 13
        r[25][3] = "9" * 400  # record 26: a wage of 400 digits
        r[32][5] = "0.0\x000"  # record 33: a NUL
        order = [2, 0, 1, 6, 5, 4, 3]  # the columns in another order, and a new one
        header = [*[LPC_WIRES[i] for i in order], "備註"]
        rows = [[*[x[i] for i in order], "調整"] for x in r]
        return lpc_bytes(header, [*rows[:39], header, *rows[39:]], eol="\r\n")
    add("broken_records", ["unknown columns", "private-use characters",
                           "identifiers with invalid check digits", "impossible dates",
                           "very long fields", "control characters", "header only",
                           "CRLF and LF mixed"],
        "the seven columns in another order and an eighth column 備註 the contract does not "
        "know (read by name, the new one kept in bronze); "
        "44 contributions, CRLF line ends where the contract says LF: a private-use "
        "character (U+E000) in an ID, an employer business ID with a wrong check digit, month "
        "13 (11313), a wage of 400 digits, a NUL in a rate, and the header again as record 40 "
        "(two extracts concatenated)",
        {"outcome": "quarantined", "records": 45, "silver": 39,
         "quarantined": {"national_id.check_digit": [5], "employer_ubn.check_digit": [12],
                         "contribution_month.required": [19],
                         "contribution_month.valid": [19], "wage.required": [26],
                         "wage.valid": [26], "record.malformed": [33],
                         "record.repeated_header": [40]},
         "drift": ["new column 備註", "another order"], "extra": ["備註"]},
        broken, n=44)
    return cases


# --------------------------------------------------------------------------- feed 2: fixed width
RECORD = 80


def _pad(data: bytes, width: int) -> bytes:
    if len(data) > width:
        raise ValueError(f"{len(data)} bytes do not fit {width}")
    return data + b" " * (width - len(data))


def lie_record(rng: random.Random, day: dt.date) -> bytes:
    born = dt.date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
    fields = [f"{rng.randrange(10**8):08d}".encode(), make_business_id(rng).encode(),
              make_person_id(rng).encode(), _pad(rng.choice(NAMES).encode("cp950"), 12),
              roc_date(born).encode(), b"1", roc_date(day - dt.timedelta(days=1)).encode(),
              b"045800", b"1"]
    return _pad(b"".join(fields), RECORD)


def lie_file(day: dt.date, records: list[bytes], count: int | None = None,
             eol: bytes = b"\r\n") -> bytes:
    head = _pad(b"HDR" + f"{day:%Y%m%d}".encode(), RECORD)
    trail = _pad(b"TRL" + f"{len(records) if count is None else count:010d}".encode(), RECORD)
    return b"".join(r + eol for r in [head, *records, trail])


def lie_cases() -> list[Case]:
    cases: list[Case] = []
    day = dt.date(2024, 10, 1)

    def add(name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            make: Callable[[dt.date, list[bytes]], bytes], n: int = 5) -> None:
        nonlocal day
        f = f"BLI_LIE_{day:%Y%m%d}.dat"
        rng = random.Random(f"{LIE}:{name}")
        records = [lie_record(rng, day) for _ in range(n)]
        cases.append(Case(LIE, name, issue, description, f, expect,
                          with_digest(f, make(day, records))))
        day += dt.timedelta(days=1)

    add("trailer_count_wrong", "trailer count wrong",
        "the trailer declares 6 detail records, the file holds 5",
        {"outcome": "refused", "stage": "bronze",
         "message": "trailer declares 6 detail records, the file holds 5", "line": 7},
        lambda d, r: lie_file(d, r, count=6))
    add("truncated_killed_job", "truncated file",
        "the job writing the file was killed: the last record is cut and there is no trailer",
        {"outcome": "refused", "stage": "bronze", "message": "incomplete file: no trailer record",
         "line": 6},
        lambda d, r: lie_file(d, r)[: 5 * (RECORD + 2) + 40])
    add("lf_line_ends", "CRLF and LF mixed", "records end with LF where CRLF is required",
        {"outcome": "refused", "stage": "bronze", "message": "a line break that is not CRLF",
         "line": 1}, lambda d, r: lie_file(d, r, eol=b"\n"))

    def crlf_lf(d: dt.date, r: list[bytes]) -> bytes:
        data = lie_file(d, r).split(b"\r\n")
        return b"\r\n".join(data[:3]) + b"\n" + b"\r\n".join(data[3:])
    add("crlf_and_lf_mixed", "CRLF and LF mixed", "line 3 ends with LF, the others with CRLF",
        {"outcome": "refused", "stage": "bronze", "message": "a line break that is not CRLF",
         "line": 3}, crlf_lf)
    add("header_date_mismatch", "impossible dates",
        "the header's file date is not the file name's date",
        {"outcome": "refused", "stage": "bronze", "message": "differs from the file name's date",
         "line": 1}, lambda d, r: lie_file(d - dt.timedelta(days=1), r))

    def utf8_name(d: dt.date, r: list[bytes]) -> bytes:
        r[1] = r[1][:26] + _pad("王小明".encode(), 12) + r[1][38:]
        return lie_file(d, r)
    add("wrong_encoding_utf8_name", "wrong encoding", "line 3's name is written in UTF-8",
        {"outcome": "refused", "stage": "bronze", "message": "not valid cp950 text",
         "line": 3}, utf8_name)

    def broken(d: dt.date, r: list[bytes]) -> bytes:
        r[1] = r[1][:-1]  # line 3: 79 bytes
        ubn = r[3][8:16]  # line 5: the business ID's check digit
        r[3] = r[3][:15] + str((int(ubn[-1:]) + 1) % 10).encode() + r[3][16:]
        rec = bytearray(r[5])  # line 7: the name runs one byte into the birth date
        rec[26:38] = b" " + "王小明大同".encode("cp950") + b"\xa4"
        rec[38:45] = b"\xfd" + rec[39:45]
        r[5] = bytes(rec)
        r[7] = r[7][:32] + b"\x1b" + r[7][33:]  # line 9: an ESC after the name, in its field
        r[9] = r[9][:60] + b"\x00" * 20  # line 11: NUL filler (COBOL low-values), no field
        r[11] = r[11][:46] + b"1130230" + r[11][53:]  # line 13: action date 30 February
        return lie_file(d, r)
    add("broken_records", ["fixed-width record of the wrong length",
                           "identifiers with invalid check digits", "control characters",
                           "impossible dates"],
        "14 detail records: one of 79 bytes, a business ID with a wrong check digit, a name "
        "cut inside a two-byte character (the field boundary falls in it), an ESC in a name, "
        "NULs in the filler (no field: harmless), an action date of 30 February",
        {"outcome": "quarantined", "records": 14, "silver": 9,
         "quarantined": {"record.malformed": [3, 7, 9], "employer_ubn.check_digit": [5],
                         "action_date.required": [13], "action_date.valid": [13]}},
        broken, n=14)
    add("empty_file", "empty file", "a 0-byte file",
        {"outcome": "refused", "stage": "land", "message": "empty file (0 bytes)"},
        lambda d, r: b"")
    add("header_and_trailer_only", "header only",
        "a day without changes: a header and a zero trailer (the contract allows it)",
        {"outcome": "ok", "records": 0, "silver": 0}, lambda d, r: lie_file(d, []))
    return cases


# --------------------------------------------------------------------------- feed 5: XML
MOA_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def moa_records(seed: str, n: int) -> list[dict[str, str | None]]:
    rng = random.Random(seed)
    out: list[dict[str, str | None]] = []
    for _ in range(n):
        born = dt.date(1940 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
        since = dt.date(2000 + rng.randrange(20), 1 + rng.randrange(12), 1)
        out.append({"身分證號": make_person_id(rng), "姓名": rng.choice(NAMES),
                    "出生日期": roc_date(born), "農會代號": f"60{rng.randrange(10**5):05d}",
                    "資格取得日期": roc_date(since), "資格喪失日期": None,
                    "農地面積公頃": f"0.{rng.randrange(10, 99)}", "老農津貼": rng.choice("YN")})
    return out


def moa_xml(records: list[dict[str, str | None]], decl: str = MOA_DECL) -> str:
    body = "".join(
        "  <農民>\n" + "".join(f"    <{k}/>\n" if v is None else f"    <{k}>{v}</{k}>\n"
                             for k, v in r.items()) + "  </農民>\n"
        for r in records)
    return f'{decl}<農民資料 產製日期="1131105">\n{body}</農民資料>\n'


def moa_cases() -> list[Case]:
    cases: list[Case] = []
    month = [111, 1]

    def add(name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            make: Callable[[list[dict[str, str | None]]], bytes], n: int = 6) -> None:
        f = f"MOA_FHI_{month[0]:03d}{month[1]:02d}.xml"
        data = make(moa_records(f"{MOA}:{name}", n))
        cases.append(Case(MOA, name, issue, description, f, expect, with_digest(f, data)))
        month[1] += 1
        if month[1] > 12:
            month[0], month[1] = month[0] + 1, 1

    def mismatched(r: list[dict[str, str | None]]) -> bytes:
        text = moa_xml(r)
        lines = text.split("\n")
        n = next(i for i, x in enumerate(lines) if "<姓名>" in x and i > 20)
        lines[n] = lines[n].replace("</姓名>", "</名>")
        return "\n".join(lines).encode("utf-8")
    mismatch_line = next(i for i, x in enumerate(moa_xml(moa_records("x", 6)).split("\n"),
                                                 start=1) if "<姓名>" in x and i > 21)
    add("not_well_formed", "XML not well formed", "a closing tag that does not match",
        {"outcome": "refused", "stage": "bronze",
         "message": f"not well-formed XML: line {mismatch_line}", "line": mismatch_line},
        mismatched)
    cut_line = moa_xml(moa_records("x", 6))[:400].count("\n") + 1  # where the file ends
    add("truncated", "truncated file", "the document is cut short, inside its second record",
        {"outcome": "refused", "stage": "bronze", "message": "not well-formed XML",
         "line": cut_line},
        lambda r: moa_xml(r)[:400].encode("utf-8"))
    big5 = moa_xml(moa_records("x", 6)).encode("cp950")
    add("wrong_encoding_big5", "wrong encoding",
        "the document written in Big5 while its declaration says UTF-8",
        {"outcome": "refused", "stage": "bronze", "message": "not valid utf-8 text",
         "line": first_bad_line(big5, "utf-8")},
        lambda r: moa_xml(r).encode("cp950"))

    def renamed(r: list[dict[str, str | None]]) -> bytes:
        return moa_xml([{("身分證字號" if k == "身分證號" else k): v for k, v in x.items()}
                        for x in r]).encode("utf-8")
    add("renamed_required_element", "missing columns",
        "<身分證號> renamed to <身分證字號> in every record",
        {"outcome": "failed", "message": "rule national_id.required (quarantine): 6 of 6 rows",
         "drift": ["<身分證字號> in <農民> (not a field of the contract)"]}, renamed)

    def control(r: list[dict[str, str | None]]) -> bytes:
        r[2]["姓名"] = "王\x07明"
        return moa_xml(r).encode("utf-8")
    control_line = 3 + 2 * 10 + 2  # record 3 starts on line 23: <農民>, <身分證號>, <姓名>
    add("control_character", "control characters", "a BEL inside the third record's name",
        {"outcome": "refused", "stage": "bronze", "message": "not well-formed (invalid token)",
         "line": control_line}, control)

    add("doctype_entities", "XML not well formed",
        "a DOCTYPE declaring entities (an entity expansion attack)",
        {"outcome": "refused", "stage": "bronze", "message": "DOCTYPE", "line": 2},
        lambda r: moa_xml(r, MOA_DECL + '<!DOCTYPE 農民資料 [<!ENTITY a "aaaaaaaaaa">'
                          '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n').encode("utf-8"))

    add("no_records", "header only", "the document element and no record",
        {"outcome": "failed", "message": "gate.min_rows: 0 records"},
        lambda r: moa_xml([]).encode("utf-8"))


    def broken(r: list[dict[str, str | None]]) -> bytes:
        for x in r:
            x["手機"] = "0912000000"  # a new element in every record
        r[2]["資格取得日期"] = "1100230"  # record 3: eligible from 30 February
        pid = str(r[4]["身分證號"])  # record 5: a wrong check digit
        r[4]["身分證號"] = pid[:-1] + str((int(pid[-1]) + 1) % 10)
        r[6]["姓名"] = "林\ue000"  # record 7: a private-use character (a rare name): kept
        r[8]["姓名"] = "林" * 2000  # record 9: a name of 2,000 characters
        r[10]["農地面積公頃"] = "０．３５"  # record 11: full-width digits: kept as 0.35
        return BOM + moa_xml(r).encode("utf-8")
    add("broken_records", ["unknown columns", "impossible dates",
                           "identifiers with invalid check digits", "private-use characters",
                           "very long fields", "BOM where none is expected"],
        "16 records after a UTF-8 byte-order mark (XML allows one), each with a new element "
        "<手機>: eligible from 30 February, a wrong check digit, a name of 2,000 characters; "
        "and a private-use character in a name and full-width digits, both kept",
        {"outcome": "quarantined", "records": 16, "silver": 13,
         "quarantined": {"eligible_from.required": [3], "eligible_from.valid": [3],
                         "national_id.check_digit": [5], "name.length": [9]},
         "drift": ["<手機> in <農民> (not a field of the contract): 16 time(s), first at line 12"]},
        broken, n=16)
    return cases


# --------------------------------------------------------------------------- feed 4: API
def nhia_records(seed: str, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"idNo": make_person_id(rng), "name": rng.choice(NAMES), "insuredCategory": "1",
             "unitName": "大同股份有限公司", "startDate": f"2019-{1 + rng.randrange(12):02d}-01",
             "endDate": None, "premiumSalary": rng.choice([25250, 30300, 45800])}
            for _ in range(n)]


def page(records: list[Any], number: int = 1, total: int = 1, size: int = 1000) -> bytes:
    doc = {"page": number, "page_size": size, "total_pages": total, "records": records}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


HTML = ("<!DOCTYPE html>\n<html><head><title>系統維護</title></head><body><h1>Service "
        "maintenance</h1><p>Please try again later.</p></body></html>\n").encode()
JSON_TYPE = "application/json; charset=utf-8"


def nhia_cases() -> list[Case]:
    cases: list[Case] = []

    def add(name: str, issue: str, description: str, expect: dict[str, Any],
            pages: dict[str, bytes], content_type: str = JSON_TYPE, delay: float = 0.0,
            options: dict[str, Any] | None = None) -> None:
        extra: dict[str, Any] = {"serve": {"content_type": content_type,
                                           "delay_seconds": delay}}
        if options:
            extra["options"] = options
        cases.append(Case(NHIA, name, issue, description, "pull", expect, pages, extra))

    add("html_instead_of_json", "API returning HTML instead of JSON",
        "a proxy's maintenance page (text/html, status 200) instead of page 1",
        {"outcome": "refused", "stage": "pull", "message": "page 1: not JSON (content-type "
                                                           "text/html)"},
        {"page-00001.json": HTML}, content_type="text/html; charset=utf-8")
    add("html_labelled_json", "API returning HTML instead of JSON",
        "the same HTML page, labelled application/json",
        {"outcome": "refused", "stage": "pull", "message": "page 1: not JSON (Expecting value "
                                                           "at byte 1)"},
        {"page-00001.json": HTML})
    add("timing_out", "API timing out",
        "the API answers after 3 s; the puller waits 1 s per request, 2 attempts",
        {"outcome": "refused", "stage": "pull",
         "message": "page 1: connection failed (timed out) after 2 attempts",
         "within_seconds": 60},
        {"page-00001.json": page(nhia_records(f"{NHIA}:timing_out", 5))}, delay=3.0,
        options={"timeout_seconds": 1, "max_retries": 2, "backoff_seconds": 0.01})
    add("truncated_json", "truncated file", "page 1 cut in the middle of a record",
        {"outcome": "refused", "stage": "pull",
         "message": "page 1: not JSON (Expecting ',' delimiter at byte 301)"},
        {"page-00001.json": page(nhia_records(f"{NHIA}:truncated_json", 5)).decode("utf-8")
         [:300].encode("utf-8")})

    def bad_records() -> bytes:
        r = nhia_records(f"{NHIA}:bad_records", 15)
        pid = r[2]["idNo"]
        r[2]["idNo"] = pid[:-1] + str((int(pid[-1]) + 1) % 10)
        r[6]["startDate"] = "2024-02-30"
        r[9]["name"] = "王\u0007明"
        r[11]["mobile"] = "0912000000"
        return page(r)
    add("bad_records", "identifiers with invalid check digits",
        "15 records: record 3's ID has a wrong check digit, record 7 starts on 30 February, "
        "record 10's name holds a BEL (escaped \\u0007), record 12 carries a new field",
        {"outcome": "quarantined", "records": 15, "silver": 12,
         "quarantined": {"national_id.check_digit": [3], "start_date.required": [7],
                         "start_date.valid": [7],
                         "record.malformed": [10]},
         "drift": ["new field mobile: in 1 of 15 record(s), first in record 12"]},
        {"page-00001.json": bad_records()})

    def renamed() -> bytes:
        return page([{("id" if k == "idNo" else k): v for k, v in x.items()}
                     for x in nhia_records(f"{NHIA}:renamed", 5)])
    add("renamed_required_field", "missing columns",
        "idNo renamed to id in every record",
        {"outcome": "refused", "stage": "bronze",
         "message": "required field(s) idNo (national_id) in none of the 5 records; the "
                    "records carry unknown field(s) id (renamed?)"},
        {"page-00001.json": renamed()})
    return cases


def benefits_cases() -> list[Case]:
    return [Case(BENEFITS, "database_unreachable", "database unreachable",
                 "the benefits database does not answer (nothing listens on the port)", "pull",
                 {"outcome": "refused", "stage": "pull", "message": "database unreachable: no "
                  "connection to jdbc:postgresql://localhost:1/benefits"},
                 extra={"env": {"LAKEHOUSE_BENEFITS_DB_URL": "postgresql://localhost:1/benefits"}})]


# --------------------------------------------------------------------------- the corpus
def cases() -> list[Case]:
    """Every case of the corpus."""
    return [*moi_cases(), *lpc_cases(), *lie_cases(), *moa_cases(), *nhia_cases(),
            *benefits_cases()]


def build() -> dict[str, bytes]:
    """The corpus as relative path -> bytes."""
    out: dict[str, bytes] = {}
    seen: set[tuple[str, str]] = set()
    for c in cases():
        if (c.feed, c.name) in seen:
            raise ValueError(f"case {c.feed}/{c.name} twice")
        seen.add((c.feed, c.name))
        folder = f"{c.feed}/{c.name}"
        for name, data in c.files.items():
            out[f"{folder}/{name}"] = data
        out[f"{folder}/case.yaml"] = c.yaml()
    return out


def differences(root: Path = CORPUS) -> list[str]:
    """How the corpus under ``root`` differs from what :func:`build` writes (empty: none)."""
    wanted = build()
    found = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    out = [f"missing: {k}" for k in sorted(set(wanted) - set(found))]
    out += [f"not written by make_corpus: {k}" for k in sorted(set(found) - set(wanted))]
    out += [f"differs: {k}" for k in sorted(set(wanted) & set(found)) if wanted[k] != found[k]]
    return out


def write(root: Path = CORPUS) -> int:
    """(Re)write the corpus under ``root``; returns the number of files."""
    import shutil

    if root.exists():
        shutil.rmtree(root)
    files = build()
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    """Write the corpus, or with ``--check`` compare it with the committed one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences()
        for line in diff:
            print(line)
        return 1 if diff else 0
    n = write()
    print(f"{n} files, {len(cases())} cases in {CORPUS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
