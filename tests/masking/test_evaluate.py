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
SETS = ev.shipped_sets()


def test_evalset_is_large_labelled_and_split() -> None:
    assert len(RECORDS) >= 300
    holdout = [r for r in RECORDS if r.split == "holdout"]
    assert len(holdout) == round(len(RECORDS) * 0.2)
    assert sum(1 for r in RECORDS if not r.spans) >= 100  # texts without personal data
    for r in RECORDS:
        for s in r.spans:
            assert 0 <= s.start < s.end <= len(r.text)
            assert r.text[s.start : s.end].strip() == r.text[s.start : s.end]


def test_both_sets_are_shipped_and_cover_every_entity() -> None:
    """The independent set is shipped and comes first (the headline); together the sets label
    every entity the recognizers find."""
    assert SETS == [ev.INDEPENDENT_PATH, ev.DEFAULT_PATH]
    independent = ev.load(ev.INDEPENDENT_PATH)
    assert len(independent) >= 500 and {r.split for r in independent} == {"train", "holdout"}
    labelled = {s.entity for path in SETS for r in ev.load(path) for s in r.spans}
    assert labelled == set(ENTITIES)


def test_evalset_file_is_what_the_script_builds(tmp_path: Path) -> None:
    out = tmp_path / "remarks.jsonl"
    build.write(build.build(), out)
    assert out.read_bytes() == ev.DEFAULT_PATH.read_bytes()


def test_prefilter_covers_every_positive() -> None:
    """Every labelled text of the original set passes the prefilter (on the independent set
    the prefilter is measured with the recognizers: a text it rules out is a miss there)."""
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


@pytest.mark.parametrize("split", ev.SPLITS)
def test_targets_met_on_the_original_set(split: str) -> None:
    """Every target of ``TARGETS`` met on the original set, whole and holdout."""
    scores = ev.evaluate(ev.DEFAULT_PATH, split=None if split == "all" else split)
    assert ev.missed_targets(scores) == [], scores


def test_targets_met_on_the_independent_training_part() -> None:
    """Every target met on the independent set's training part (independent.txt, -2 and -3),
    but PERSON's recall: 2161 of 2233 names (0.968; the 72 left are rare surnames with no cue,
    transliterations with no surname, names that are common words: masking/README.md), a
    floor here."""
    scores = ev.evaluate(ev.INDEPENDENT_PATH, split="train")
    assert ev.missed_targets(scores) == ["PERSON"], scores
    assert scores["PERSON"].tp >= 2161 and scores["PERSON"].fp <= 8, scores["PERSON"]


HOLDOUT_FLOOR = {"PERSON": (1115, 19), "SOCIAL_HANDLE": (100, 4), "TW_PHONE": (256, 0),
                 "TW_BANK_ACCOUNT": (120, 0), "TW_BUSINESS_ID": (86, 0),
                 "TW_NATIONAL_ID": (173, 7), "TW_ADDRESS": (229, 2)}
"""(labels found, false findings) measured once on the fresh holdout (independent-4.txt, 961
remarks) after the third round of tuning (masking/README.md; recall 1115/1195, 100/107,
256/261, 120/139, 86/100, 173/173, 229/229): below target for the first five, #20 still open.
A floor, so that a change cannot make the honest figures worse unnoticed; raise it when they
improve."""


@pytest.mark.xfail(strict=True, reason="#20 open: the fresh holdout misses PERSON, SOCIAL_HANDLE, "
                   "TW_PHONE, TW_BANK_ACCOUNT and TW_BUSINESS_ID recall (masking/README.md); "
                   "strict: when every target is met this fails until the mark is removed")
def test_targets_met_on_the_fresh_holdout() -> None:
    scores = ev.evaluate(ev.INDEPENDENT_PATH, split="holdout")
    assert ev.missed_targets(scores) == [], scores


def test_the_fresh_holdout_does_not_fall_below_its_measured_floor() -> None:
    scores = ev.evaluate(ev.INDEPENDENT_PATH, split="holdout")
    for entity, (found, false) in HOLDOUT_FLOOR.items():
        got = scores[entity]
        assert got.tp >= found and got.fp <= false, (entity, got)
    others = {e: s for e, s in scores.items() if e not in HOLDOUT_FLOOR}
    assert all(s.meets(ev.TARGETS[e]) for e, s in others.items()), others


def test_targets_cover_every_entity() -> None:
    assert set(ev.TARGETS) == set(ENTITIES)
    assert all(p >= 0.95 for e, (p, _) in ev.TARGETS.items() if e != "TW_BUSINESS_ID")


def test_main_exits_zero_and_nonzero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval-pii", str(ev.DEFAULT_PATH)]) == 0
    out = capsys.readouterr().out
    assert "texts/s" in out and "independent.jsonl" not in out  # a PATH alone
    bad = tmp_path / "bad.jsonl"
    record = {"text": "本案已結案", "spans": [{"start": 0, "end": 2, "entity": "PERSON"}]}
    bad.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["eval-pii", str(bad)]) == 1
