"""``bench.cluster`` (``make bench-cluster``): its page and its refusal without the profile.

The measurement itself runs the nightly full load twice at a realistic size (minutes to an
hour): it is run by hand and its results are kept in ``bench/results/*-cluster.*``; here are the
parts that need no cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster import cluster_env, markdown


def _side(run: float, publish: float) -> dict[str, object]:
    return {"run_seconds": run, "publish_seconds": publish, "total_seconds": run + publish,
            "gold_rows": 1990, "gold_digest": "d" * 64}


def test_the_page_gives_both_sides_the_ratio_and_whether_gold_is_the_same() -> None:
    result = {
        "persons": 2000, "records": 2010, "delivery_bytes": 250_000,
        "local": _side(30.0, 20.0),
        "cluster": {**_side(60.0, 40.0), "upload_seconds": 0.5,
                    "spark_master": "spark://127.0.0.1:7077", "cluster_worker_cores": "2",
                    "cluster_worker_memory": "5g", "cluster_executor_memory": "4g"},
        "same_gold": True, "cluster_over_local": 2.0,
        "machine": {"cpus": 2, "cpu_model": "x", "memory_gib": 24.0, "os": "Linux"},
        "cpu": {"load_average_mean": 1.9, "load_average_max": 2.1},
    }
    page = markdown(result)
    assert "| total | 50.0 s | 100.0 s |" in page
    assert "| per record | 24.876 ms | 49.751 ms |" in page
    assert "Cluster over local: **2.0×**" in page
    assert "Same gold (rows and person keys): **yes**" in page
    assert "worker cores 2, worker memory 5g, executor memory 4g" in page
    assert "load average meanwhile 1.9 (max 2.1" in page
    assert "NO" in markdown({**result, "same_gold": False})


def test_without_the_profile_it_says_how_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="make cluster-up"):
        cluster_env(tmp_path / "env")
    (tmp_path / "env").write_text("export SPARK_MASTER=spark://127.0.0.1:7077\n"
                                  "export LAKEHOUSE_ROOT=s3a://lakehouse/demo\n")
    assert cluster_env(tmp_path / "env")["LAKEHOUSE_ROOT"] == "s3a://lakehouse/demo"
