"""End to end through Airflow: generated deliveries -> feed DAG -> publishing DAG -> gold.

The DAGs run with ``airflow dags test`` on a SQLite metadata database, exactly as ``make demo``
runs them. The gold table is then read without a JVM (``deltalake``) and checked against an
oracle computed independently from the delivered files (Python's csv module, the
identifier check digits of ``convergence.twid``, Python's ``hmac``).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from deltalake import DeltaTable

from convergence import contracts
from convergence.cli import airflow_env
from convergence.config import Settings
from convergence.generate import generate
from convergence.generate.household import decode_cp950
from convergence.twid import is_valid_person_id, parse_roc_date

KEY = "e2e-test-key-0123456789-abcdefghijklmnop"
FEED = contracts.feed("moi.household_registry")


def _airflow(args: list[str], env: dict[str, str], log: Path) -> None:
    airflow = str(Path(sys.executable).parent / "airflow")
    with log.open("a") as out:
        rc = subprocess.call([airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                             timeout=900)
    assert rc == 0, f"airflow {' '.join(args)} failed: {log.read_text()[-3000:]}"


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().upper()


def _passes(rec: dict[str, str]) -> bool:
    """The contract's quarantine rules, re-implemented in plain Python (the oracle)."""
    nid = _norm(rec["身分證統一編號"])
    date_fields = ("出生日期", "異動日期", "死亡日期")
    dates = {k: unicodedata.normalize("NFKC", rec[k]).strip() for k in date_fields}
    change = unicodedata.normalize("NFKC", rec["異動類別"]).strip()
    name = unicodedata.normalize("NFKC", rec["姓名"]).strip()
    return (
        is_valid_person_id(nid)
        and 1 <= len(name) <= 20
        and unicodedata.normalize("NFKC", rec["性別"]).strip() in {"1", "2"}
        and parse_roc_date(dates["出生日期"]) is not None
        and rec["戶籍地址"].strip() != ""
        and change in {"01", "02", "03", "04", "05"}
        and parse_roc_date(dates["異動日期"]) is not None
        and (dates["死亡日期"] == "" or parse_roc_date(dates["死亡日期"]) is not None)
        and (change == "04") == (dates["死亡日期"] != "")
    )


def _oracle(inbox: Path) -> tuple[set[str], set[str], set[str]]:
    """Valid identifiers expected in gold, and every raw identifier and name delivered."""
    expected, ids, names = set(), set(), set()
    for path in sorted(inbox.glob("*.csv")):
        text = decode_cp950(path.read_bytes())
        for rec in csv.DictReader(io.StringIO(text, newline="")):
            ids.add(_norm(rec["身分證統一編號"]))
            names.add(unicodedata.normalize("NFKC", rec["姓名"]).strip())
            if _passes(rec):
                expected.add(_norm(rec["身分證統一編號"]))
    return expected, ids, names


@pytest.mark.e2e
def test_dags_publish_a_pseudonymised_person_coverage(tmp_path):
    root = tmp_path / "lakehouse"
    generate(root, feeds=["moi.household_registry"], persons=400, seed=11, days=3)
    inbox = root / "inbox" / FEED.delivery.inbox
    expected, raw_ids, raw_names = _oracle(inbox)
    assert len(expected) > 350

    env = airflow_env(Settings.from_env({"LAKEHOUSE_ROOT": str(root)}))
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "LAKEHOUSE_PSEUDONYM_KEY": KEY,
                "LAKEHOUSE_SHUFFLE_PARTITIONS": "2"})
    log = tmp_path / "airflow.log"
    _airflow(["db", "migrate"], env, log)
    _airflow(["dags", "test", FEED.name], env, log)
    _airflow(["dags", "test", "publish.person_coverage"], env, log)

    gold = DeltaTable(str(root / "gold" / "person_coverage"))
    assert (root / "gold" / "person_coverage" / "_delta_log" / "00000000000000000000.json").exists()
    rows = gold.to_pyarrow_table().to_pylist()
    assert len(rows) == len(expected)
    keys = {hmac.new(KEY.encode(), i.encode(), hashlib.sha256).hexdigest() for i in expected}
    assert {r["person_key"] for r in rows} == keys
    cells = {str(v) for r in rows for v in r.values() if v is not None}
    assert not cells & raw_ids and not cells & raw_names
    assert {r["sex"] for r in rows} <= {"1", "2"}
    assert all(r["county"] is None or r["county"].endswith(("市", "縣")) for r in rows)
    assert all("台" not in (r["county"] or "") for r in rows)
    first_version = gold.version()

    # Reconciliation: every bronze record is in silver, quarantine, or counted as a duplicate.
    batches = DeltaTable(str(root / "system" / "batches")).to_pyarrow_table().to_pylist()
    silver = [b for b in batches if b["stage"] == "silver"]
    assert len(silver) == 3 and all(b["status"] == "ok" for b in silver)
    for b in silver:
        assert b["rows_in"] == b["rows_out"] + b["duplicates"] + b["quarantined"]

    # The same deliveries again, and the DAGs again: nothing is duplicated.
    bronze_rows = DeltaTable(str(root / "bronze" / FEED.name)).to_pyarrow_table().num_rows
    generate(root, feeds=["moi.household_registry"], persons=400, seed=11, days=3)
    _airflow(["dags", "test", FEED.name], env, log)
    _airflow(["dags", "test", "publish.person_coverage"], env, log)
    assert DeltaTable(str(root / "bronze" / FEED.name)).to_pyarrow_table().num_rows == bronze_rows
    gold = DeltaTable(str(root / "gold" / "person_coverage"))
    assert gold.version() == first_version
    assert gold.to_pyarrow_table().num_rows == len(expected)
    deliveries = DeltaTable(str(root / "system" / "deliveries")).to_pyarrow_table().to_pylist()
    assert sorted(d["status"] for d in deliveries) == ["duplicate"] * 3 + ["landed"] * 3
