"""Feed 5, the farmer registry (``moa.farmer_registry``): a UTF-8 XML document of ``<農民>``
records, delivered monthly as ``MOA_FHI_<roc yyymm>.xml`` with its ``.sha256`` companion.

:func:`moa_cases` lists its broken deliveries, one delivery month each from ROC 111/01 in the
order listed (the order fixes each case's file name), by kind: documents that do not read as
the declared XML, documents refused or failed whole, and broken records among good ones. The
records are synthetic, seeded by the case's name.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from kernel.twid import make_person_id, roc_date
from tests.reliability.make_corpus.common import (
    BOM,
    MOA,
    NAMES,
    Case,
    first_bad_line,
    with_digest,
)

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


Records = list[dict[str, str | None]]
"""A document's records: element name -> text (``None``: an empty element)."""


class _Months:
    """The cases listed so far; each new case is delivered the month after the previous one."""

    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.month = [111, 1]

    def add(self, name: str, issue: str | list[str], description: str, expect: dict[str, Any],
            make: Callable[[Records], bytes], n: int = 6) -> None:
        """List the case ``name`` for the next month: the bytes ``make`` makes of ``n`` records,
        with a matching companion."""
        month = self.month
        f = f"MOA_FHI_{month[0]:03d}{month[1]:02d}.xml"
        data = make(moa_records(f"{MOA}:{name}", n))
        self.cases.append(Case(MOA, name, issue, description, f, expect, with_digest(f, data)))
        month[1] += 1
        if month[1] > 12:
            month[0], month[1] = month[0] + 1, 1


def _mismatched(r: Records) -> bytes:
    """The document with a closing tag that does not match its opening one."""
    text = moa_xml(r)
    lines = text.split("\n")
    n = next(i for i, x in enumerate(lines) if "<姓名>" in x and i > 20)
    lines[n] = lines[n].replace("</姓名>", "</名>")
    return "\n".join(lines).encode("utf-8")


def _unreadable(months: _Months) -> None:
    """Documents that do not read as the XML they declare: a mismatched tag, cut short, Big5."""
    mismatch_line = next(i for i, x in enumerate(moa_xml(moa_records("x", 6)).split("\n"),
                                                 start=1) if "<姓名>" in x and i > 21)
    months.add("not_well_formed", "XML not well formed", "a closing tag that does not match",
               {"outcome": "refused", "stage": "bronze",
                "message": f"not well-formed XML: line {mismatch_line}", "line": mismatch_line},
               _mismatched)
    cut_line = moa_xml(moa_records("x", 6))[:400].count("\n") + 1  # where the file ends
    months.add("truncated", "truncated file",
               "the document is cut short, inside its second record",
               {"outcome": "refused", "stage": "bronze", "message": "not well-formed XML",
                "line": cut_line},
               lambda r: moa_xml(r)[:400].encode("utf-8"))
    big5 = moa_xml(moa_records("x", 6)).encode("cp950")
    months.add("wrong_encoding_big5", "wrong encoding",
               "the document written in Big5 while its declaration says UTF-8",
               {"outcome": "refused", "stage": "bronze", "message": "not valid utf-8 text",
                "line": first_bad_line(big5, "utf-8")},
               lambda r: moa_xml(r).encode("cp950"))


def _renamed(r: Records) -> bytes:
    """The document with ``<身分證號>`` renamed to ``<身分證字號>`` in every record."""
    return moa_xml([{("身分證字號" if k == "身分證號" else k): v for k, v in x.items()}
                    for x in r]).encode("utf-8")


def _control(r: Records) -> bytes:
    """The document with a BEL in the third record's name."""
    r[2]["姓名"] = "王\x07明"
    return moa_xml(r).encode("utf-8")


def _refused_whole(months: _Months) -> None:
    """Documents refused or failed as a whole: the required element renamed, a control
    character, a DOCTYPE declaring entities, no record."""
    months.add("renamed_required_element", "missing columns",
               "<身分證號> renamed to <身分證字號> in every record",
               {"outcome": "failed",
                "message": "rule national_id.required (quarantine): 6 of 6 rows",
                "drift": ["<身分證字號> in <農民> (not a field of the contract)"]}, _renamed)
    control_line = 3 + 2 * 10 + 2  # record 3 starts on line 23: <農民>, <身分證號>, <姓名>
    months.add("control_character", "control characters",
               "a BEL inside the third record's name",
               {"outcome": "refused", "stage": "bronze",
                "message": "not well-formed (invalid token)", "line": control_line}, _control)
    months.add("doctype_entities", "XML not well formed",
               "a DOCTYPE declaring entities (an entity expansion attack)",
               {"outcome": "refused", "stage": "bronze", "message": "DOCTYPE", "line": 2},
               lambda r: moa_xml(r, MOA_DECL + '<!DOCTYPE 農民資料 [<!ENTITY a "aaaaaaaaaa">'
                                 '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n')
               .encode("utf-8"))
    months.add("no_records", "header only", "the document element and no record",
               {"outcome": "failed", "message": "gate.min_rows: 0 records"},
               lambda r: moa_xml([]).encode("utf-8"))


def _broken(r: Records) -> bytes:
    """Sixteen records after a byte-order mark, a new element in each, some broken."""
    for x in r:
        x["手機"] = "0912000000"  # a new element in every record
    r[2]["資格取得日期"] = "1100230"  # record 3: eligible from 30 February
    pid = str(r[4]["身分證號"])  # record 5: a wrong check digit
    r[4]["身分證號"] = pid[:-1] + str((int(pid[-1]) + 1) % 10)
    r[6]["姓名"] = "林\ue000"  # record 7: a private-use character (a rare name): kept
    r[8]["姓名"] = "林" * 2000  # record 9: a name of 2,000 characters
    r[10]["農地面積公頃"] = "０．３５"  # record 11: full-width digits: kept as 0.35
    return BOM + moa_xml(r).encode("utf-8")


def _broken_records(months: _Months) -> None:
    """Broken records among good ones, with schema drift: the batch goes on."""
    months.add("broken_records", ["unknown columns", "impossible dates",
                                  "identifiers with invalid check digits",
                                  "private-use characters", "very long fields",
                                  "BOM where none is expected"],
               "16 records after a UTF-8 byte-order mark (XML allows one), each with a new "
               "element <手機>: eligible from 30 February, a wrong check digit, a name of 2,000 "
               "characters; and a private-use character in a name and full-width digits, both "
               "kept",
               {"outcome": "quarantined", "records": 16, "silver": 13,
                "quarantined": {"eligible_from.required": [3], "eligible_from.valid": [3],
                                "national_id.check_digit": [5], "name.length": [9]},
                "drift": ["<手機> in <農民> (not a field of the contract): 16 time(s), first at "
                          "line 12"]},
               _broken, n=16)


def moa_cases() -> list[Case]:
    """The farmer registry's cases, in delivery order."""
    months = _Months()
    _unreadable(months)
    _refused_whole(months)
    _broken_records(months)
    return months.cases
