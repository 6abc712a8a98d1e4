"""Every known data issue of feed 1, injected by the generator, ends where the contract says:
each bad record in quarantine with exactly the rules it breaks, every good one in silver.

The expected rule ids per record come from an oracle written independently in plain Python
(``unicodedata`` NFKC, the check digits of ``kernel.twid``, ``parse_roc_date``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from pathlib import Path

from pyspark.sql import functions as F

from kernel import contracts
from kernel.config import Settings
from kernel.context import Context
from kernel.records import Records
from kernel.storage import Storage
from kernel.twid import is_valid_person_id, parse_roc_date
from sandbox.generate import generate
from sandbox.generate.household import IssueRates, decode_cp950
from stages.feed import run_feed

FEED = contracts.feed("moi.household_registry")


def _n(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def expected_rules(rec: dict[str, str]) -> set[str]:
    """The quarantine rules a delivered record breaks, by the contract's definitions."""
    out = set()
    nid = _n(rec["身分證統一編號"]).upper()
    if not nid:
        out.add("national_id.required")
    elif not is_valid_person_id(nid):
        out.add("national_id.check_digit")
    name = _n(rec["姓名"])
    if not name:
        out.add("name.required")
    elif len(name) > 20:
        out.add("name.length")
    sex = _n(rec["性別"])
    if not sex:
        out.add("sex.required")
    elif sex not in {"1", "2"}:
        out.add("sex.code")
    parsed = {}
    for wire, col in (("出生日期", "birth_date"), ("異動日期", "change_date"),
                      ("死亡日期", "death_date")):
        raw = _n(rec[wire])
        parsed[col] = parse_roc_date(raw) if raw else None
        if raw and parsed[col] is None:
            out.add(f"{col}.valid")
        if col != "death_date" and parsed[col] is None:
            out.add(f"{col}.required")
    if not _n(rec["戶籍地址"]):
        out.add("address.required")
    change = _n(rec["異動類別"])
    if not change:
        out.add("change_type.required")
    elif change not in {"01", "02", "03", "04", "05"}:
        out.add("change_type.code")
    if (change == "04") != (parsed["death_date"] is not None):
        out.add("death_date.only_on_death")
    return out


def test_each_bad_record_is_quarantined_with_the_right_rules(spark, root):
    rates = IssueRates.parse(["impossible_date=0.08", "invalid_check_digit=0.05",
                              "fullwidth_id=0.1", "padded_spaces=0.1", "six_digit_date=0.1",
                              "tai_variant=0.1", "duplicate_within=0.05", "eudc_name=0.05"])
    generate(Path(root), feeds=["moi.household_registry"], persons=300, seed=31, days=1,
             rates=rates)
    path = Path(root) / "inbox" / FEED.delivery.inbox / "MOI_HHR_20241101.csv"
    records = list(csv.DictReader(io.StringIO(decode_cp950(path.read_bytes()), newline="")))
    expected = {i: expected_rules(r) for i, r in enumerate(records, start=1)}
    assert sum(1 for v in expected.values() if v) >= 20  # the issues really were injected

    storage = Storage(spark, root)
    ctx = Context(settings=Settings.from_env({"LAKEHOUSE_ROOT": root}),
                           storage=storage, records=Records(storage), run_id="issues",
                           now=dt.datetime(2024, 11, 2), actor="test")
    stages = run_feed(ctx, FEED)
    assert not [p for s in stages for p in s.problems]

    quarantined = {
        r["_source_row"]: set(r["_rule_ids"])
        for r in storage.read("quarantine", FEED.name).select("_source_row", "_rule_ids").collect()
    }
    assert quarantined == {i: rules for i, rules in expected.items() if rules}
    reasons = storage.read("quarantine", FEED.name).select("_reason").collect()
    assert all(r["_reason"] for r in reasons)

    silver_rows = {r["_source_row"] for r in storage.read("silver", FEED.name)
                   .select("_source_row").collect()}
    good = {i for i, rules in expected.items() if not rules}
    assert silver_rows <= good
    batch = ctx.records.read("batches").where(F.col("stage") == "silver").first()
    assert batch["duplicates"] == len(good) - len(silver_rows)
    assert batch["rows_in"] == len(records)
