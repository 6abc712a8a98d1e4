"""End to end through Airflow: the six feeds' deliveries -> feed DAGs -> publishing DAGs.

The DAGs run with Airflow's own local runner (``dag.test()``, via ``sandbox.dagrun``, as
``make demo`` runs them) on a SQLite metadata database, with the agency API simulator started
by the pull itself and the benefits database in PostgreSQL. The results are read without a
JVM (``deltalake``) and checked against oracles computed independently from what was
delivered (Python's csv module, the check digits of ``kernel.twid``, Python's ``hmac``).
Then everything is delivered and run again: nothing is duplicated.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from deltalake import DeltaTable

from kernel import contracts
from kernel.config import Settings
from kernel.layout import Layout
from kernel.twid import is_valid_person_id, parse_roc_date
from sandbox.demo import airflow_env, run_dags
from sandbox.generate import generate
from sandbox.generate.household import IssueRates, decode_cp950

pytest_plugins = ["tests.pg"]

KEY = "e2e-test-key-0123456789-abcdefghijklmnop"
HHR = contracts.feed("moi.household_registry")
FEEDS = [c.name for c in contracts.feeds()]
DATASETS = [f"publish.{d.table}" for d in contracts.datasets()]


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().upper()


def _passes(rec: dict[str, str]) -> bool:
    """The household contract's quarantine rules, re-implemented in plain Python."""
    nid = _norm(rec["身分證統一編號"])
    dates = {k: unicodedata.normalize("NFKC", rec[k]).strip()
             for k in ("出生日期", "異動日期", "死亡日期")}  # fmt: skip
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


def _residents_oracle(inbox: Path) -> tuple[set[str], set[str], set[str]]:
    """Valid resident identifiers (expected in gold), and every raw identifier and name."""
    expected, ids, names = set(), set(), set()
    for path in sorted(inbox.glob("*.csv")):
        for rec in csv.DictReader(io.StringIO(decode_cp950(path.read_bytes()), newline="")):
            ids.add(_norm(rec["身分證統一編號"]))
            names.add(unicodedata.normalize("NFKC", rec["姓名"]).strip())
            if _passes(rec):
                expected.add(_norm(rec["身分證統一編號"]))
    return expected, ids, names


def _rows(root: Path, zone: str, name: str) -> list[dict[str, object]]:
    return DeltaTable(str(root / zone / name)).to_pyarrow_table().to_pylist()


def _run(env: dict[str, str], log: Path, dag_ids: list[str]) -> None:
    results = run_dags(dag_ids, env, log)
    failed = {d: r for d, r in results.items() if r[0] != "success"}
    assert not failed, f"{failed}: {log.read_text(errors='replace')[-4000:]}"


def _airflow(tmp_path: Path, root: Path, pg_url: str) -> tuple[dict[str, str], Path]:
    """The environment of the DAG runs on the lakehouse at ``root`` (Airflow's home and its
    migrated SQLite database under ``tmp_path``), and the log the runs append to."""
    env = airflow_env(Settings.from_env({"LAKEHOUSE_ROOT": str(root)}))
    env.update({"AIRFLOW_HOME": str(tmp_path / "airflow"), "LAKEHOUSE_PSEUDONYM_KEY": KEY,
                "LAKEHOUSE_SHUFFLE_PARTITIONS": "2", "LAKEHOUSE_BENEFITS_DB_URL": pg_url})
    log = tmp_path / "airflow.log"
    airflow = str(Path(sys.executable).parent / "airflow")
    with log.open("a") as out:
        assert subprocess.call([airflow, "db", "migrate"], env=env, stdout=out,
                               stderr=subprocess.STDOUT, timeout=600) == 0
    return env, log


def _check_every_record_accounted_for(root: Path) -> list[dict[str, object]]:
    """Every delivered record of every feed is in silver, in quarantine, or a counted duplicate;
    the reconciliation holds and every feed landed. The deliveries recorded."""
    batches = _rows(root, "system", "batches")
    deliveries = _rows(root, "system", "deliveries")
    for feed in FEEDS:
        landed = sorted(str(d["batch_id"]) for d in deliveries
                        if d["feed"] == feed and d["status"] == "landed")
        silver = [b for b in batches if b["feed"] == feed and b["stage"] == "silver"]
        # Every landed batch went through silver, once, and reconciles.
        assert landed and sorted(str(b["batch_id"]) for b in silver) == landed, feed
        assert all(b["status"] == "ok" for b in silver), feed
        for b in silver:
            assert b["rows_in"] == b["rows_out"] + b["duplicates"] + b["quarantined"], feed
        rows = DeltaTable(str(root / "silver" / feed)).to_pyarrow_table().num_rows
        assert rows == sum(int(b["rows_out"]) for b in silver), feed
    checks = _rows(root, "system", "reconciliation")
    assert {c["feed"] for c in checks} == set(FEEDS)
    assert all(c["holds"] for c in checks)
    return deliveries


def _check_person_coverage(root: Path, expected: set[str], raw_ids: set[str],
                           raw_names: set[str]) -> None:
    """gold.person_coverage: every valid resident, keyed by the HMAC of the normalised ID."""
    gold = _rows(root, "gold", "person_coverage")
    keys = {str(r["person_key"]) for r in gold}
    # A superset: the dataset holds every person known to any feed, the oracle the residents.
    assert {hmac.new(KEY.encode(), i.encode(), hashlib.sha256).hexdigest()
            for i in expected} <= keys  # fmt: skip
    assert len(keys) == len(gold)
    cells = {str(v) for r in gold for v in r.values() if v is not None}
    assert not cells & raw_ids and not cells & raw_names
    assert any(r["in_labor_insurance"] for r in gold) and any(r["is_farmer"] for r in gold)
    assert all("台" not in str(r["county"] or "") for r in gold)


def _check_case_lists_and_open_data(root: Path) -> None:
    """The restricted case list, the dual enrolments and the open data are all published, the
    gold tables with the key, run, audit anchor and quality results in their metadata."""
    deceased = _rows(root, "gold", "deceased_with_active_payments")
    assert deceased and all(r["payment_month"] > r["death_month"] for r in deceased)
    assert _rows(root, "gold", "dual_enrollment")
    files = root / "opendata" / "files" / "insured_by_county_age_sex"
    pointer = json.loads((files / "latest.json").read_text(encoding="utf-8"))
    folder = files / str(pointer["folder"])  # relative to the export's root
    assert pointer["metadata"]["key_id"] and pointer["rows"] > 0
    csv_file = next(folder.glob("*.csv"))
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")
    assert next(folder.glob("*.parquet")).stat().st_size > 0
    for table in ("person_coverage", "deceased_with_active_payments", "dual_enrollment"):
        meta = json.loads(DeltaTable(str(root / "gold" / table)).history(1)[0]["userMetadata"])
        assert meta["key_id"] and meta["run_id"] and meta["audit_anchor"]
        assert meta["quality_results"]["count"] > 0 and len(meta["quality_results"]["sha256"]) == 64


Sizes = tuple[dict[str, int], dict[str, int], dict[str, int]]
"""Rows of each feed's bronze and silver table, and the version of each dataset."""


def _sizes(root: Path) -> Sizes:
    """The :data:`Sizes` of the lakehouse at ``root``."""
    counts = {f: DeltaTable(str(root / "bronze" / f)).to_pyarrow_table().num_rows for f in FEEDS}
    silver = {f: DeltaTable(str(root / "silver" / f)).to_pyarrow_table().num_rows for f in FEEDS}
    versions = {d: DeltaTable(str(root / d.split(".")[0] / d.split(".")[1])).version()
                for d in (c.name for c in contracts.datasets())}  # fmt: skip
    return counts, silver, versions


def _check_nothing_duplicated(root: Path, before: Sizes, deliveries: list[dict[str, object]],
                              boundary: int) -> None:
    """After everything was delivered and run again: no silver table gained a row, no dataset
    a version. Each resent file is recorded as a duplicate (a refused one refused again); the
    API, asked for the changes since the day of the first pull, has none (an empty pull); the
    database, asked for the rows at or after the first pull's watermark (``>=``: rows committed
    in the same instant are not missed), gives back the ``boundary`` rows at that instant, which
    land in bronze and are duplicates in silver."""
    counts, silver, versions = before
    pulled = {"nhia.insured_status": 0, "bli.benefit_payments": boundary}
    for f in FEEDS:
        assert (DeltaTable(str(root / "bronze" / f)).to_pyarrow_table().num_rows
                == counts[f] + pulled.get(f, 0)), f
        assert DeltaTable(str(root / "silver" / f)).to_pyarrow_table().num_rows == silver[f], f
    for d, v in versions.items():
        assert DeltaTable(str(root / d.split(".")[0] / d.split(".")[1])).version() == v, d
    first_runs = {x["run_id"] for x in deliveries}
    resent = [d for d in _rows(root, "system", "deliveries") if d["run_id"] not in first_runs]
    for f in FEEDS:
        now = sorted((str(d["status"]), d["records"]) for d in resent if d["feed"] == f)
        if f == "nhia.insured_status":
            assert now == [("empty", 0)], now
        elif f == "bli.benefit_payments":
            assert now == [("landed", boundary)], now
        else:
            first = sorted("duplicate" if d["status"] == "landed" else str(d["status"])
                           for d in deliveries if d["feed"] == f)
            assert [status for status, _ in now] == first, f


def _check_audit_and_lineage(root: Path) -> None:
    """The audit log's chain verifies; every lineage event is valid, the Airflow provider's
    among them."""
    from audit.log import verify
    from lineage.validate import validate_event
    from tests.lineage.spec import openlineage_spec

    assert verify(Layout(str(root)).audit_dir).ok
    events = [json.loads(line) for p in sorted((root / "system" / "lineage").rglob("*.jsonl"))
              for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert any(e["job"]["namespace"] == "airflow" for e in events)  # the provider's events
    spec = openlineage_spec()  # the last check: skipped, saying why, without the schemas
    bad = [(e["job"]["name"], problems) for e in events if (problems := validate_event(e, spec))]
    assert not bad, bad[:3]


@pytest.mark.e2e
def test_six_feeds_and_four_datasets_through_airflow(tmp_path, pg):
    root = tmp_path / "lakehouse"
    # The cross-agency anomalies raised, so that 400 persons give both case lists.
    rates = IssueRates.parse(["payment_after_death=1", "dual_enrollment=0.5"])
    generate(root, persons=400, seed=11, days=3, rates=rates)
    expected, raw_ids, raw_names = _residents_oracle(root / "inbox" / HHR.delivery.inbox)
    assert len(expected) > 350

    env, log = _airflow(tmp_path, root, pg.url)
    _run(env, log, FEEDS + DATASETS)

    deliveries = _check_every_record_accounted_for(root)
    _check_person_coverage(root, expected, raw_ids, raw_names)
    _check_case_lists_and_open_data(root)

    # The same deliveries again (files resent, API re-pulled, database rows re-pulled) and
    # every DAG again: no table gains a row, no dataset a version.
    before = _sizes(root)
    generate(root, persons=400, seed=11, days=3, rates=rates)
    _run(env, log, FEEDS + DATASETS)
    ((boundary,),) = pg.rows("SELECT count(*) FROM benefit_payments WHERE updated_at = "
                             "(SELECT max(updated_at) FROM benefit_payments)")
    assert boundary > 0
    _check_nothing_duplicated(root, before, deliveries, boundary)

    _check_audit_and_lineage(root)
