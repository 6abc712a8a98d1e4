"""Feed 2, the labour insurance enrolments (``bli.labor_insurance_enrollment``): CP950
fixed-width records of 80 bytes with CRLF line ends, between a header (``HDR`` and the file's
date) and a trailer (``TRL`` and the count of detail records), delivered daily as
``BLI_LIE_<yyyymmdd>.dat`` with its ``.sha256`` companion.

:func:`lie_cases` lists its broken deliveries, one delivery day each from 1 October 2024 in the
order listed (the order fixes each case's file name); the records are synthetic, seeded by the
case's name.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from kernel.twid import make_business_id, make_person_id, roc_date
from tests.reliability.make_corpus.common import LIE, NAMES, Case, with_digest

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
