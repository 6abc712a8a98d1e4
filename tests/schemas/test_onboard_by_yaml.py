"""A new CSV feed is onboarded by a YAML contract alone: no code change.

The test writes a brand-new contract (a fictitious 教育部 student-loan feed, pipe separated,
UTF-8 without a byte-order mark, Gregorian file dates) into a fresh contracts folder, drops one
delivery for it into a fresh lakehouse inbox, and runs land, bronze and silver with the generic
pipeline: the file is verified and landed, read by the existing CSV reader, typed, checked and
quarantined by the contract's rules, deduplicated and merged into the feed's entity. The DAG
file then builds the feed's ingestion DAG from the same folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import runpy
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.testing import assertDataFrameEqual

from jobs import readers
from kernel import contracts
from kernel.context import Context
from quality.ids import CHECK_BRONZE, CHECK_LANDED, CHECK_SILVER
from stages.feed import run_feed

NAME = "moe.student_loans"
ENTITY = "moe.student_loan_accounts"
DAGS = Path(__file__).resolve().parents[2] / "dags"

CONTRACT = r"""
kind: feed
name: moe.student_loans
version: 0.1.0
title: 就學貸款 撥款與餘額 (student loans)
description: Weekly extract of student loans, one row per loan and week.
owner: {agency: 教育部 (Ministry of Education), steward: moe-data-steward}
cadence: weekly
delivery:
  kind: file_drop
  inbox: moe/student_loans
  file_pattern: 'MOE_SL_(?P<file_date>\d{8})\.txt'
  file_date_format: yyyyMMdd
  format: csv
  encoding: utf-8
  delimiter: "|"
  quote: '"'
  header: true
entity: moe.student_loan_accounts
primary_key: [loan_no]
order_by: [_file_date, _source_row]
fields:
  - {name: loan_no, wire: 貸款編號, type: string, required: true, parse: [nfkc, trim, upper],
     pii: indirect_identifier, masking: drop,
     rules: [{id: loan_no.format, check: regex, pattern: '^L[0-9]{6}$', action: quarantine}]}
  - {name: national_id, wire: 身分證號, type: string, required: true, parse: [nfkc, trim, upper],
     pii: direct_identifier, masking: pseudonymize,
     rules: [{id: national_id.check_digit, check: tw_person_id, action: quarantine}]}
  - {name: granted_on, wire: 撥款日期, type: date, required: true, parse: [nfkc, trim, roc_date],
     pii: none, masking: keep,
     rules: [{id: granted_on.valid, check: valid_date, action: quarantine}]}
  - {name: balance, wire: 貸款餘額, type: long, required: true, parse: [nfkc, trim, digits],
     pii: quasi_identifier, masking: generalize_band,
     rules: [{id: balance.valid, check: valid_value, action: quarantine}]}
  - {name: status, wire: 狀態, type: string, required: false, parse: [nfkc, trim, empty_to_null],
     pii: none, masking: keep,
     rules: [{id: status.code, check: in_set, values: [A, C], action: warn}]}
gates: {max_quarantine_share: 0.5, min_rows: 1, freshness_hours: 252}
"""

# The delivery: a header, then records (source rows 1..9), LF line ends, no byte-order mark.
DELIVERY = [
    "貸款編號|身分證號|撥款日期|貸款餘額|狀態",
    "L000001|A123456789|1130105|120,000|A",  # 1: thousands separator
    "ｌ000002|Ａ２２３４５６７８１|1120910|85000|A",  # 2: full-width letters and digits
    "L000003|A123456780|1130105|1000|A",  # 3: wrong check digit
    "L000004|B123456780|1130230|5000|A",  # 4: impossible date
    "L000005|C123456781| 1130301 |\"1,234,567\"|",  # 5: padded, quoted, no status
    "L000001|A123456789|1130105|120,000|A",  # 6: a repeat of row 1: a duplicate
    "L000001|A123456789|1130105|110000|C",  # 7: the same loan, a later state
    "X12|D123456782|1130105|9x9|Z",  # 8: bad loan number, balance not a number, unknown status
    "L000006|E123456783|1130105|700|Z",  # 9: unknown status: a warning only
]


def _write_delivery(root: Path) -> Path:
    inbox = root / "inbox" / "moe" / "student_loans"
    inbox.mkdir(parents=True)
    data = ("\n".join(DELIVERY) + "\n").encode("utf-8")
    path = inbox / "MOE_SL_20241104.txt"
    path.write_bytes(data)
    (inbox / f"{path.name}.sha256").write_text(
        f"{hashlib.sha256(data).hexdigest()}  {path.name}\n", encoding="ascii")
    return path


@pytest.fixture
def contracts_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts"
    (folder / "moe").mkdir(parents=True)
    (folder / "moe" / "student_loans.yaml").write_text(CONTRACT, encoding="utf-8")
    return folder


def test_a_new_csv_feed_runs_from_its_yaml_alone(
    ctx: Context, root: str, contracts_dir: Path, spark: SparkSession
) -> None:
    (contract,) = contracts.feeds(contracts_dir)
    assert contract.name == NAME and contracts.feed(NAME, contracts_dir) is contract
    with pytest.raises(KeyError):
        contracts.feed(NAME)  # nothing about this feed exists in the repository
    assert readers.reader(contract.delivery.format) is readers.reader("csv")

    _write_delivery(Path(root))
    land, bronze, silver = run_feed(ctx, contract)
    assert [s.problems for s in (land, bronze, silver)] == [[], [], []]
    assert land.counts == {"landed_files": 1} and bronze.rows == 9
    assert silver.counts == {"silver_rows": 5, "duplicates": 1, "duplicates_in_batch": 1,
                             "quarantined": 3, "warnings": 2}  # fmt: skip

    st = ctx.storage
    schema = T.StructType([
        T.StructField("loan_no", T.StringType()), T.StructField("national_id", T.StringType()),
        T.StructField("granted_on", T.DateType()), T.StructField("balance", T.LongType()),
        T.StructField("status", T.StringType()), T.StructField("_source_row", T.LongType()),
    ])  # fmt: skip
    cols = schema.fieldNames()
    want = spark.createDataFrame([
        ("L000001", "A123456789", dt.date(2024, 1, 5), 120000, "A", 1),
        ("L000002", "A223456781", dt.date(2023, 9, 10), 85000, "A", 2),
        ("L000005", "C123456781", dt.date(2024, 3, 1), 1234567, None, 5),
        ("L000001", "A123456789", dt.date(2024, 1, 5), 110000, "C", 7),
        ("L000006", "E123456783", dt.date(2024, 1, 5), 700, "Z", 9),
    ], schema)  # fmt: skip
    assertDataFrameEqual(st.read("silver", NAME).select(*cols), want)
    # The entity: the latest state per loan (row 7 replaces row 1).
    assertDataFrameEqual(st.read("silver", ENTITY).select(*cols),
                         want.where(F.col("_source_row") != 1))  # fmt: skip

    quarantined = {r["_source_row"]: set(r["_rule_ids"]) for r in st.read("quarantine", NAME)
                   .select("_source_row", "_rule_ids").collect()}  # fmt: skip
    assert quarantined == {
        3: {"national_id.check_digit"},
        4: {"granted_on.required", "granted_on.valid"},
        8: {"loan_no.format", "balance.required", "balance.valid"},
    }
    checks = ctx.records.read("reconciliation").where(F.col("feed") == NAME).collect()
    assert {c["check"] for c in checks} == {
        CHECK_LANDED, CHECK_BRONZE, CHECK_SILVER}
    assert all(c["holds"] for c in checks)


def test_the_dag_factory_builds_the_new_feeds_dag(
    contracts_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The DAG file builds one DAG per contract of the contracts folder: point it at ours.
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", contracts_dir)
    namespace = runpy.run_path(str(DAGS / "feeds.py"))
    dag = namespace[NAME.replace(".", "__")]
    assert dag.dag_id == NAME and dag.schedule == "@weekly"
    assert [t.task_id for t in dag.topological_sort()] == ["land", "bronze", "silver", "check"]
    assert [a.name for a in dag.get_task("silver").outlets] == [f"silver.{ENTITY}"]
    assert set(dag.tags) == {"feed", "agency:moe", "zone:silver", "weekly"}
    assert dag.default_args["owner"] == "moe-data-steward"
    assert dt.datetime(2024, 1, 1) <= dag.start_date.replace(tzinfo=None)
