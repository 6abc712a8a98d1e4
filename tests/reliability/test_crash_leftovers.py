"""The crash leftovers of the land stage and the audit log, each proven by a real kill:

* a refused file killed between its refusal note and leaving the inbox (``land.refused``), and a
  resent file killed between its duplicate note and leaving the inbox (``land.duplicate``), are
  recorded once, by the next run, and removed from the inbox (not refused or taken again);
* an audit append killed half-way (``audit.torn``) leaves a torn line the next run seals;
* a pull whose files vanish before they are landed (``vanish:pulled``) is a refusal record, and
  the next pull takes the same rows again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from audit.log import entries, verify
from kernel import contracts, faults
from kernel.config import REPO_ROOT
from kernel.layout import Layout
from sandbox.generate import IssueRates, generate
from stages.feed import run_feed
from tests.pg import clean_schema

FEED = "moi.household_registry"
KEY = "crash-leftovers-test-key-0123456789abcdef"
KILLED = -9


def _runner(root: Path) -> Callable[[str | None], subprocess.CompletedProcess[str]]:
    """``lakehouse run FEED`` on ``root`` as a new process, with a fault point armed or not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
    env.update({"LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_PSEUDONYM_KEY": KEY,
                "LAKEHOUSE_SHUFFLE_PARTITIONS": "1", "LAKEHOUSE_DRIVER_MEMORY": "1g",
                "PYTHONPATH": str(REPO_ROOT)})
    for k in ("LAKEHOUSE_JARS_DIR", "LAKEHOUSE_SPACY_MODEL", "LAKEHOUSE_DRIVER_JAVA_OPTIONS",
              "LAKEHOUSE_CACHE_DIR"):
        if k in os.environ:
            env[k] = os.environ[k]

    def run(fault: str | None) -> subprocess.CompletedProcess[str]:
        armed = {**env, faults.ENV: fault} if fault else env
        return subprocess.run([sys.executable, "-m", "cli.main", "run", FEED], cwd=REPO_ROOT,
                              env=armed, capture_output=True, text=True, timeout=600,
                              check=False)
    return run


def test_refused_and_resent_files_killed_before_leaving_the_inbox_are_recorded_once(
        spark, tmp_path: Path) -> None:
    source = tmp_path / "source"
    generate(source, feeds=[FEED], persons=30, seed=31, days=1)
    inbox = contracts.feed(FEED).delivery.inbox
    (delivered,) = sorted((source / "inbox" / inbox).glob("MOI_HHR_*.csv"))
    root = tmp_path / "lakehouse"
    drop = root / "inbox" / inbox
    shutil.copytree(source / "inbox", root / "inbox")
    run = _runner(root)
    codes = [run(None).returncode]  # lands the delivery
    # A file without its companion (refused), killed before it left the inbox.
    bad = drop / "MOI_HHR_20241102.csv"
    shutil.copy(delivered, bad)
    codes.append(run("land.refused").returncode)
    assert bad.exists() and not drop.joinpath(bad.name + ".sha256").exists()
    # The same delivery resent (a duplicate), killed before it left the inbox.
    shutil.copy(delivered, drop / delivered.name)
    shutil.copy(f"{delivered}.sha256", drop / f"{delivered.name}.sha256")
    codes.append(run("land.duplicate").returncode)
    assert not bad.exists()  # the refusal was recovered, the very file removed
    assert (drop / delivered.name).exists()
    codes.append(run("audit.torn").returncode)  # its first audit append is torn
    last = run(None)
    codes.append(last.returncode)
    assert codes == [0, KILLED, KILLED, KILLED, 0], last.stderr[-2000:]
    assert sorted(p.name for p in drop.iterdir()) == []

    from kernel.records import Records
    from kernel.storage import Storage

    rows = (Records(Storage(spark, str(root))).read("deliveries")
            .where(F.col("feed") == FEED).orderBy("at", "status").collect())
    assert [(r["status"], r["file_name"]) for r in rows] == [
        ("landed", delivered.name), ("refused", bad.name), ("duplicate", delivered.name)]
    assert rows[1]["reason"] == "missing .sha256 companion: the delivery cannot be verified"
    assert (rows[2]["batch_id"], rows[2]["reason"]) == (
        rows[0]["batch_id"], f"resent: identical to batch {rows[0]['batch_id']}")
    assert len({r["run_id"] for r in rows}) == 3

    folder = Layout(str(root)).audit_dir
    result = verify(folder)
    assert (result.ok, result.sealed, result.torn) == (True, 1, None), result.reason
    (seal,) = [e for e in entries(folder) if e.action == "audit_sealed"]
    assert [f["bytes"] > 0 for f in seal.details["fragments"]] == [True]
    recovered = [e.details["deliveries"] for e in entries(folder) if e.action == "recovered"]
    assert [bad.name] in recovered


def test_a_pull_that_vanishes_before_landing_is_a_refusal_and_is_pulled_again(
        spark, root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    feed = "bli.benefit_payments"
    fc = contracts.feed(feed)
    with clean_schema(monkeypatch) as pg:
        generate(Path(root), feeds=[feed], persons=120, seed=32, days=1, rates=IssueRates())
        ((n,),) = pg.rows("SELECT count(*) FROM benefit_payments")
        ctx = pg.context(spark, root)
        monkeypatch.setenv(faults.ENV, "vanish:pulled")
        first = run_feed(ctx, fc)
        monkeypatch.delenv(faults.ENV)
        why = ("the pull's file benefit_payments.jsonl vanished before it was landed; pulled "
               "again next run")
        assert [(p.file, p.reason) for r in first for p in r.problems] == [
            ("pull", f"refused: {why}")]
        (refusal,) = ctx.records.read("deliveries").collect()
        assert (refusal["status"], refusal["reason"], refusal["records"]) == ("refused", why, n)
        assert not ctx.storage.exists("bronze", feed)
        again = pg.context(spark, root, run_id="test-run-2")
        second = run_feed(again, fc)
    assert [p.reason for r in second for p in r.problems] == []
    landed = again.records.read("deliveries").where(F.col("status") == "landed").collect()
    assert [r["records"] for r in landed] == [n]
    assert again.storage.read("bronze", feed).count() == n
    (audited,) = [e for e in entries(again.layout.audit_dir) if e.action == "delivery_refused"]
    assert audited.details["reason"] == why
