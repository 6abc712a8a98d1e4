"""Evaluate the Presidio recognizers on the labelled remarks: the independent set
(``masking/evalset/independent.jsonl``, written without reading the recognizers: the headline)
and the original one (``masking/evalset/remarks.jsonl``, generated from templates).

A finding is a true positive when it overlaps a labelled span of the same entity; for
``PERSON`` and ``TW_ADDRESS`` the overlap must cover at least half of the longer of the two
(names and addresses have fuzzy edges: ``住臺北市…`` vs ``臺北市…``). Precision counts the
findings that match a label, recall the labels that some finding matches.

``lakehouse eval-pii [PATH] [--errors]`` (:func:`run`) prints, for each set of
:func:`shipped_sets` (or for ``PATH`` alone), a table for the whole set and one for the holdout
part, and exits non-zero when a target of :data:`TARGETS` is missed on any of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from masking.recognizers import (
    EMAIL_ADDRESS,
    ENTITIES,
    PERSON,
    SOCIAL_HANDLE,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    analyze,
)

DEFAULT_PATH: Final = Path(__file__).with_name("evalset") / "remarks.jsonl"
"""The original set, generated from templates (``masking/evalset/build.py``)."""
INDEPENDENT_PATH: Final = Path(__file__).with_name("evalset") / "independent.jsonl"
"""The independent set, written by someone who had not read the recognizers (the headline)."""
FUZZY: Final = frozenset({PERSON, TW_ADDRESS})
"""Entities whose findings must overlap a label by at least :data:`MIN_OVERLAP`."""
MIN_OVERLAP: Final = 0.5

TARGETS: Final[dict[str, tuple[float, float]]] = {
    TW_NATIONAL_ID: (0.95, 0.99),
    TW_PHONE: (0.95, 0.99),
    EMAIL_ADDRESS: (0.95, 0.99),
    TW_BANK_ACCOUNT: (0.95, 0.99),
    TW_BUSINESS_ID: (0.90, 0.95),
    PERSON: (0.95, 0.97),
    TW_ADDRESS: (0.95, 0.97),
    SOCIAL_HANDLE: (0.95, 0.97),
}
"""Minimum (precision, recall) per entity (issue 20; business IDs, which are not personal data,
keep their earlier targets)."""
SPLITS: Final = ("all", "holdout")
"""The parts of the set reported: the whole set, and the holdout part apart."""


@dataclass(frozen=True)
class Scores:
    """Precision and recall of one entity, with the counts they come from.

    ``tp`` labels found, ``fn`` labels missed, ``fp`` findings matching no label.
    """

    precision: float
    recall: float
    tp: int
    fp: int
    fn: int

    def meets(self, target: tuple[float, float]) -> bool:
        """True when precision and recall reach ``(min_precision, min_recall)``."""
        return self.precision >= target[0] and self.recall >= target[1]


@dataclass(frozen=True)
class Span:
    """A labelled or found span of one entity."""

    start: int
    end: int
    entity: str


@dataclass(frozen=True)
class Record:
    """One labelled text of the evaluation set."""

    id: int
    text: str
    spans: tuple[Span, ...]
    known_names: tuple[str, ...]
    split: str


def load(path: Path | str = DEFAULT_PATH) -> list[Record]:
    """The records of a JSON-lines evaluation set."""
    records = []
    with Path(path).open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            raw = json.loads(line)
            records.append(
                Record(
                    id=int(raw.get("id", i)),
                    text=raw["text"],
                    spans=tuple(Span(s["start"], s["end"], s["entity"]) for s in raw["spans"]),
                    known_names=tuple(raw.get("known_names", ())),
                    split=raw.get("split", "train"),
                )
            )
    return records


def matches(found: Span, label: Span) -> bool:
    """True when ``found`` counts for ``label``: same entity and enough overlap."""
    if found.entity != label.entity:
        return False
    overlap = min(found.end, label.end) - max(found.start, label.start)
    if overlap <= 0:
        return False
    if found.entity in FUZZY:
        longer = max(found.end - found.start, label.end - label.start)
        return overlap >= MIN_OVERLAP * longer
    return True


@dataclass
class _Counts:
    found: int = 0
    found_ok: int = 0
    labels: int = 0
    labels_ok: int = 0


def score(pairs: Iterable[tuple[Sequence[Span], Sequence[Span]]]) -> dict[str, Scores]:
    """Scores per entity from ``(labels, findings)`` pairs, one pair per text."""
    counts: dict[str, _Counts] = {}
    for labels, findings in pairs:
        for f in findings:
            c = counts.setdefault(f.entity, _Counts())
            c.found += 1
            c.found_ok += any(matches(f, lab) for lab in labels)
        for lab in labels:
            c = counts.setdefault(lab.entity, _Counts())
            c.labels += 1
            c.labels_ok += any(matches(f, lab) for f in findings)
    return {
        entity: Scores(
            precision=c.found_ok / c.found if c.found else 1.0,
            recall=c.labels_ok / c.labels if c.labels else 1.0,
            tp=c.labels_ok,
            fp=c.found - c.found_ok,
            fn=c.labels - c.labels_ok,
        )
        for entity, c in sorted(counts.items(), key=lambda kv: _order(kv[0]))
    }


def _order(entity: str) -> int:
    return ENTITIES.index(entity) if entity in ENTITIES else len(ENTITIES)


def find(record: Record) -> list[Span]:
    """The findings of the analyzer on one record."""
    return [Span(r.start, r.end, r.entity_type) for r in analyze(record.text, record.known_names)]


def evaluate(path: Path | str = DEFAULT_PATH, split: str | None = None) -> dict[str, Scores]:
    """Scores per entity on the evaluation set at ``path`` (only ``split`` when given)."""
    records = [r for r in load(path) if split is None or r.split == split]
    return score((r.spans, find(r)) for r in records)


def shipped_sets() -> list[Path]:
    """The labelled sets shipped with the code, the headline first: the independent set (when
    present), then the original one."""
    return [p for p in (INDEPENDENT_PATH, DEFAULT_PATH) if p.exists()]


def missed_targets(scores: dict[str, Scores]) -> list[str]:
    """The entities of ``scores`` that miss their target."""
    return [e for e, s in scores.items() if e in TARGETS and not s.meets(TARGETS[e])]


@dataclass(frozen=True)
class Evaluation:
    """The analyzer's findings on every record of an evaluation set, and how long it took."""

    path: Path
    records: tuple[Record, ...]
    found: tuple[tuple[Span, ...], ...]
    seconds: float

    def texts(self, split: str = "all") -> int:
        """The number of records of ``split`` (``all``: every record)."""
        return sum(split in ("all", r.split) for r in self.records)

    def scores(self, split: str = "all") -> dict[str, Scores]:
        """Scores per entity on the records of ``split`` (``all``: every record)."""
        return score((r.spans, f) for r, f in zip(self.records, self.found, strict=True)
                     if split in ("all", r.split))

    def errors(self) -> list[tuple[str, Record, Span]]:
        """``("FN", record, label)`` for every label no finding matches and ``("FP", record,
        finding)`` for every finding matching no label, record by record."""
        out: list[tuple[str, Record, Span]] = []
        for r, f in zip(self.records, self.found, strict=True):
            out += [("FN", r, s) for s in r.spans if not any(matches(x, s) for x in f)]
            out += [("FP", r, x) for x in f if not any(matches(x, s) for s in r.spans)]
        return out


def run(path: Path | str = DEFAULT_PATH) -> Evaluation:
    """The analyzer on every record of the evaluation set at ``path``, timed
    (``lakehouse eval-pii`` prints its scores for :data:`SPLITS`)."""
    records = tuple(load(path))
    started = time.perf_counter()
    found = tuple(tuple(find(r)) for r in records)
    return Evaluation(Path(path), records, found, time.perf_counter() - started)
