"""Evaluate the Presidio recognizers on the labelled remarks (``masking/evalset/remarks.jsonl``).

A finding is a true positive when it overlaps a labelled span of the same entity; for
``PERSON`` and ``TW_ADDRESS`` the overlap must cover at least half of the longer of the two
(names and addresses have fuzzy edges: ``住臺北市…`` vs ``臺北市…``). Precision counts the
findings that match a label, recall the labels that some finding matches.

``python -m masking.evaluate [PATH] [--errors]`` prints a table for the whole set and one for the
holdout part, and exits non-zero when a target of :data:`TARGETS` is missed on either.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.table import Table

from masking.recognizers import (
    EMAIL_ADDRESS,
    ENTITIES,
    PERSON,
    TW_ADDRESS,
    TW_BANK_ACCOUNT,
    TW_BUSINESS_ID,
    TW_NATIONAL_ID,
    TW_PHONE,
    analyze,
)

DEFAULT_PATH: Final = Path(__file__).with_name("evalset") / "remarks.jsonl"
FUZZY: Final = frozenset({PERSON, TW_ADDRESS})
"""Entities whose findings must overlap a label by at least :data:`MIN_OVERLAP`."""
MIN_OVERLAP: Final = 0.5

TARGETS: Final[dict[str, tuple[float, float]]] = {
    TW_NATIONAL_ID: (0.90, 0.99),
    TW_PHONE: (0.90, 0.99),
    EMAIL_ADDRESS: (0.90, 0.99),
    TW_BANK_ACCOUNT: (0.90, 0.99),
    TW_BUSINESS_ID: (0.90, 0.95),
    PERSON: (0.90, 0.95),
    TW_ADDRESS: (0.90, 0.95),
}
"""Minimum (precision, recall) per entity."""


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


def missed_targets(scores: dict[str, Scores]) -> list[str]:
    """The entities of ``scores`` that miss their target."""
    return [e for e, s in scores.items() if e in TARGETS and not s.meets(TARGETS[e])]


def _table(title: str, scores: dict[str, Scores]) -> Table:
    table = Table(title=title)
    for col in ("entity", "precision", "recall", "tp", "fp", "fn", "target P/R", "ok"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    for entity, s in scores.items():
        target = TARGETS.get(entity)
        ok = "—" if target is None else ("yes" if s.meets(target) else "[red]NO[/red]")
        table.add_row(
            entity,
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            str(s.tp),
            str(s.fp),
            str(s.fn),
            f"{target[0]:.2f}/{target[1]:.2f}" if target else "",
            ok,
        )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the scores (all and holdout); 1 when a target is missed."""
    parser = argparse.ArgumentParser(description="Evaluate the Taiwanese PII recognizers.")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--errors", action="store_true", help="list missed and wrong findings")
    args = parser.parse_args(argv)

    console = Console()
    records = load(args.path)
    started = time.perf_counter()
    found = [find(r) for r in records]
    elapsed = time.perf_counter() - started

    results: dict[str, dict[str, Scores]] = {}
    for split in ("all", "holdout"):
        pairs = [
            (r.spans, f) for r, f in zip(records, found, strict=True) if split in ("all", r.split)
        ]
        results[split] = score(pairs)
        n = len(pairs)
        console.print(_table(f"{args.path.name}: {split} ({n} texts)", results[split]))

    console.print(
        f"analyzed {len(records)} texts in {elapsed:.2f} s "
        f"({len(records) / elapsed if elapsed else float('inf'):.0f} texts/s)"
    )
    if args.errors:
        for r, f in zip(records, found, strict=True):
            fns = [s for s in r.spans if not any(matches(x, s) for x in f)]
            fps = [x for x in f if not any(matches(x, s) for s in r.spans)]
            for kind, spans in (("FN", fns), ("FP", fps)):
                for s in spans:
                    console.print(
                        f"{kind} #{r.id} {s.entity} {r.text[s.start : s.end]!r} in {r.text!r}",
                        markup=False,
                    )

    failed = {split: missed_targets(s) for split, s in results.items()}
    if any(failed.values()):
        for split, entities in failed.items():
            if entities:
                console.print(f"[red]targets missed ({split}): {', '.join(entities)}[/red]")
        return 1
    console.print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
