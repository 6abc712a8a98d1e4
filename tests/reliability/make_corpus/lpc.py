"""Feed 3, the labour pension contributions (``bli.labor_pension_contributions``): a UTF-8 CSV
with a byte-order mark and LF line ends, delivered monthly as ``BLI_LPC_<roc yyymm>.csv`` with
its ``.sha256`` companion.

:func:`lpc_cases` lists its broken deliveries, one delivery month each from ROC 113/01 in the
order listed (the order fixes each case's file name); the rows are synthetic, seeded by the
case's name.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from kernel.twid import make_business_id, make_person_id
from tests.reliability.make_corpus.common import (
    BOM,
    LPC,
    Case,
    csv_field,
    first_bad_line,
    with_digest,
)

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
    lines = [",".join(csv_field(v) for v in r) for r in [header, *rows]]
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
