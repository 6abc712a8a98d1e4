"""scan-pii: tables by name, Delta/CSV/Parquet paths, one line per finding, exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.main import main
from masking.leak import Finding
from masking.scan import ScanInputError, resolve, scan_path

KEY = "0123456789abcdef" * 4


def _candidate(spark):
    return spark.createDataFrame(
        [(KEY, "臺北市", "受款人陳大文來電0912-345-678"), (KEY, "新北市", "資料正常")],
        "person_key string, county string, remark string",
    )


def test_resolve_table_names_and_paths(tmp_path):
    assert resolve("gold.person_coverage", "/r/") == ("delta", "/r/gold/person_coverage")
    assert resolve("silver.moi.residents", "/r") == ("delta", "/r/silver/moi.residents")
    csv = tmp_path / "x.csv"
    csv.write_text("a\n1\n", encoding="utf-8")
    assert resolve(str(csv), "/r") == ("csv", str(csv))
    with pytest.raises(ScanInputError):
        resolve(str(tmp_path / "missing"), "/r")


def test_scan_a_delta_table_by_name(spark, root):
    _candidate(spark).write.format("delta").save(f"{root}/gold/test_table")
    assert scan_path(spark, "gold.test_table", root) == [
        Finding("gold.test_table", "remark", "PERSON", 1),
        Finding("gold.test_table", "remark", "TW_PHONE", 1),
    ]


def test_scan_csv_and_parquet_paths(spark, root, tmp_path: Path):
    csv = tmp_path / "open.csv"
    csv.write_text("\ufeffcounty,note\n臺北市,ok\n新北市,mail ming@example.com.tw\n", "utf-8")
    assert scan_path(spark, str(csv), root) == [Finding(str(csv), "note", "EMAIL", 1)]
    parquet = str(tmp_path / "clean.parquet")
    _candidate(spark).drop("remark").write.parquet(parquet)
    assert scan_path(spark, parquet, root) == []


def test_main_prints_findings_without_values_and_exits_1(spark, root, capsys, monkeypatch):
    _candidate(spark).write.format("delta").save(f"{root}/gold/test_main")
    monkeypatch.setattr("kernel.spark.session", lambda *a, **k: spark)
    assert main(["scan-pii", "gold.test_main", "--root", root]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["gold.test_main\tremark\tPERSON\t1", "gold.test_main\tremark\tTW_PHONE\t1"]
    assert not any("陳大文" in line or "0912" in line for line in out)


def test_main_clean_and_missing(spark, root, capsys, monkeypatch):
    _candidate(spark).drop("remark").write.format("delta").save(f"{root}/gold/test_clean")
    monkeypatch.setattr("kernel.spark.session", lambda *a, **k: spark)
    assert main(["scan-pii", "gold.test_clean", "--root", root]) == 0
    assert capsys.readouterr().out == ""
    assert main(["scan-pii", "gold.nothing_here", "--root", root]) == 2
