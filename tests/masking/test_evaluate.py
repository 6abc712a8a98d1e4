"""The evaluation set and the scores of the recognizers on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main
from masking import evaluate as ev
from masking.evalset import build
from masking.recognizers import ENTITIES, PREFILTER, needs_analysis

RECORDS = ev.load(ev.DEFAULT_PATH)


def test_evalset_is_large_labelled_and_split() -> None:
    assert len(RECORDS) >= 300
    holdout = [r for r in RECORDS if r.split == "holdout"]
    assert len(holdout) == round(len(RECORDS) * 0.2)
    assert {s.entity for r in RECORDS for s in r.spans} == set(ENTITIES)
    assert sum(1 for r in RECORDS if not r.spans) >= 100  # texts without personal data
    for r in RECORDS:
        for s in r.spans:
            assert 0 <= s.start < s.end <= len(r.text)
            assert r.text[s.start : s.end].strip() == r.text[s.start : s.end]


def test_evalset_file_is_what_the_script_builds(tmp_path: Path) -> None:
    out = tmp_path / "remarks.jsonl"
    build.write(build.build(), out)
    assert out.read_bytes() == ev.DEFAULT_PATH.read_bytes()


def test_prefilter_covers_every_positive() -> None:
    for r in RECORDS:
        if r.spans:
            assert needs_analysis(r.text, r.known_names), r.text
            if not r.known_names:
                assert PREFILTER.search(r.text), r.text


def test_matching_rules() -> None:
    label = ev.Span(0, 4, "PERSON")
    assert ev.matches(ev.Span(0, 2, "PERSON"), label)  # half of the longer
    assert not ev.matches(ev.Span(0, 1, "PERSON"), label)
    assert not ev.matches(ev.Span(0, 4, "TW_PHONE"), label)
    assert ev.matches(ev.Span(3, 9, "TW_PHONE"), ev.Span(0, 4, "TW_PHONE"))  # any overlap
    scores = ev.score([([label], [ev.Span(0, 3, "PERSON"), ev.Span(5, 7, "PERSON")])])
    assert scores["PERSON"] == ev.Scores(precision=0.5, recall=1.0, tp=1, fp=1, fn=0)


@pytest.mark.parametrize("split", [None, "holdout"])
def test_targets_met(split: str | None) -> None:
    scores = ev.evaluate(ev.DEFAULT_PATH, split=split)
    assert set(scores) == set(ENTITIES)
    assert ev.missed_targets(scores) == [], scores


def test_main_exits_zero_and_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval-pii", str(ev.DEFAULT_PATH)]) == 0
    assert "texts/s" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    record = {"text": "本案已結案", "spans": [{"start": 0, "end": 2, "entity": "PERSON"}]}
    bad.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["eval-pii", str(bad)]) == 1
