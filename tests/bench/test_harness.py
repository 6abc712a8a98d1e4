"""A smoke run of the benchmark harness (``make bench``) on a tiny population.

Not a benchmark: it checks that one run of every measurement produces the JSON and Markdown
results, with every figure, ratio and target present and plausible.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from bench.run import Config, parse, run

FIGURES = {
    "pipeline_vs_bare": (1.5, "max"),
    "freetext_speedup": (20.0, "min"),
    "freetext_same_output": (1.0, "min"),
    "freetext_speedup_evalset": (None, "min"),
    "validation_vs_scan": (None, "max"),
    "incremental_vs_full": (0.1, "max"),
    "scaling_4n": (4.4, "max"),
    "scaling_4n_bare": (None, "max"),
    "freetext_recall": (1.0, "min"),
}


def test_parse_defaults_and_refusals():
    cfg = parse([])
    assert (cfg.persons, cfg.repeat, cfg.warmup) == (1_000_000, 3, True)
    assert parse(["--persons", "300", "--repeat", "1", "--no-warmup"]).persons == 300
    with pytest.raises(SystemExit):
        parse(["--persons", "0"])


def test_smoke_run_writes_every_figure(spark, tmp_path: Path):
    key_before = os.environ.get("LAKEHOUSE_PSEUDONYM_KEY")
    cfg = Config(persons=300, repeat=1, texts=300, out=tmp_path / "results", work=tmp_path / "w",
                 name="smoke", warmup=False)
    js, md, figures = run(cfg, spark)

    doc = json.loads(js.read_text(encoding="utf-8"))
    got = {f["key"]: f for f in doc["figures"]}
    assert set(got) == set(FIGURES)
    for key, (target, direction) in FIGURES.items():
        f = got[key]
        assert (f["target"], f["direction"]) == (target, direction), key
        assert f["ours"] > 0 and f["baseline"] > 0 and math.isfinite(f["ratio"]), key
        assert len(f["runs_ours"]) == len(f["runs_baseline"]) == cfg.repeat, key
        assert f["met"] is None if target is None else isinstance(f["met"], bool), key
    ratio = {k: f["ours"] / f["baseline"] for k, f in got.items()}
    assert got["pipeline_vs_bare"]["ratio"] == pytest.approx(ratio["pipeline_vs_bare"])
    assert got["freetext_speedup"]["ratio"] == pytest.approx(1 / ratio["freetext_speedup"])
    # The masked outputs agree and both find every labelled span of the evaluation set.
    assert got["freetext_same_output"]["ours"] == 1.0
    assert doc["freetext"]["recall_ours"]["recall"] == doc["freetext"]["recall_naive"]["recall"]
    assert doc["freetext"]["recall_ours"]["labels"] > 1000

    d = doc["deliveries"]
    assert 0 < d["incremental_rows"] < d["full_rows"] < d["full_rows_4n"]
    assert d["published_rows"] > 0 and d["published_rows_4n"] > d["published_rows"]
    for scenario in ("full load N", "incremental N", "full load 4N"):
        stages = [r for r in doc["stages"][scenario] if r["kind"] == "stage"]
        assert [r["name"] for r in stages] == ["land", "bronze", "silver", "publish"]
        assert all(r["seconds"] > 0 and r["jobs"] > 0 for r in stages), scenario
    parts = doc["governance_parts_total"]["full load N"]
    assert parts["quality gate (Great Expectations)"] > 0
    assert parts["masking + leak gate"] > 0 and parts["lineage events"] > 0
    assert doc["validation"]["spark_jobs_validate"] > doc["validation"]["spark_jobs_scan"] > 0
    assert doc["machine"]["cpus"] and doc["machine_load"]["wall_seconds"] > 0

    text = md.read_text(encoding="utf-8")
    assert "| figure | ours | baseline | ratio | target | met? |" in text
    for f in figures:
        assert f.label in text
    assert "≤ 1.5" in text and "≥ 20" in text and "≤ 4.4" in text and "≤ 0.1" in text
    assert not (tmp_path / "w").exists()  # the scratch folder is removed
    assert os.environ.get("LAKEHOUSE_PSEUDONYM_KEY") == key_before  # the environment is kept
