"""The independent evaluation set of free-text remarks: its inline markup and its JSONL.

Contract of the source (``independent.txt``), one remark per line:

* ``# kind: <kind>`` sets the kind of every following remark until the next such line; any
  other line starting with ``#`` is a comment; blank lines are ignored. A remark before the
  first ``# kind:`` line is refused.
* Personal data is marked inline as ``{{ENTITY|value}}``; ENTITY is one of :data:`ENTITIES`,
  value is non-empty and holds none of ``{``, ``}``, ``|``. Markup does not nest.
* A remark may start with ``@known=<name> `` (the insured person's name carried by the
  record's structured columns); the name holds no whitespace and must be the value of a
  PERSON span of the remark.

Each remark becomes one record (:func:`to_json` keeps the key order)::

    {"id": 0, "kind": "call_note", "split": "train", "text": "...", "spans":
     [{"start": 3, "end": 6, "entity": "PERSON"}], "known_names": ["潘美玲"]}

``start``/``end`` are Python string offsets (end exclusive) in the plain text. ``split`` is
"holdout" for the :data:`HOLDOUT_SHARE` of records whose SHA-256 of the text ranks lowest,
taken separately among remarks with spans and harmless remarks; it depends on the set of texts
and not on their order. Malformed markup, an unknown entity or
kind line, a known name without its span, and a duplicate text are refused with
:class:`MarkupError`, which names the line number; the CLI prints it and exits 1.

``python -m masking.evalset.markup [SRC] [OUT]`` writes the JSONL and prints the counts.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENTITIES = frozenset(
    {
        "PERSON",
        "TW_NATIONAL_ID",
        "TW_PHONE",
        "EMAIL_ADDRESS",
        "TW_BANK_ACCOUNT",
        "TW_BUSINESS_ID",
        "TW_ADDRESS",
        "SOCIAL_HANDLE",
    }
)
HOLDOUT_SHARE = 0.2
HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE / "independent.txt"
DEFAULT_OUT = HERE / "independent.jsonl"

_KIND = re.compile(r"#\s*kind:\s*([a-z_]+)\s*$")
_KNOWN = re.compile(r"@known=([^\s{}|]+) ")
_MARK = re.compile(r"\{\{([A-Za-z_]*)\|([^{}|]*)\}\}")


class MarkupError(ValueError):
    """A refused source line; the message names its line number."""

    def __init__(self, line_no: int, reason: str) -> None:
        super().__init__(f"line {line_no}: {reason}")
        self.line_no = line_no


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entity: str


@dataclass
class Record:
    line_no: int
    kind: str
    text: str
    spans: list[Span]
    known_names: list[str]
    split: str = field(default="train")


def parse_line(body: str, line_no: int) -> tuple[str, list[Span]]:
    """The plain text of one marked-up remark and its spans."""
    parts: list[str] = []
    spans: list[Span] = []
    length = pos = 0
    for match in _MARK.finditer(body):
        parts.append(body[pos : match.start()])
        length += match.start() - pos
        entity, value = match.group(1), match.group(2)
        if entity not in ENTITIES:
            raise MarkupError(line_no, f"unknown entity {entity!r}")
        if not value or value != value.strip():
            raise MarkupError(line_no, f"empty or padded value in {match.group(0)!r}")
        spans.append(Span(length, length + len(value), entity))
        parts.append(value)
        length += len(value)
        pos = match.end()
    parts.append(body[pos:])
    text = "".join(parts)
    if any(mark in text for mark in ("{{", "}}", "{", "}")):
        raise MarkupError(line_no, "malformed markup (unbalanced or nested braces)")
    if not text.strip():
        raise MarkupError(line_no, "empty remark")
    return text, spans


def parse(source: str) -> list[Record]:
    """Every remark of ``source`` as a record, splits assigned; refuses bad lines."""
    records: list[Record] = []
    seen: dict[str, int] = {}
    kind: str | None = None
    for line_no, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = _KIND.match(line)
            if match:
                kind = match.group(1)
            elif re.match(r"#\s*kind\b", line):
                raise MarkupError(line_no, "malformed kind line")
            continue
        if kind is None:
            raise MarkupError(line_no, "remark before the first '# kind:' line")
        known: list[str] = []
        known_match = _KNOWN.match(line)
        if known_match:
            known = [known_match.group(1)]
            line = line[known_match.end() :]
        elif line.startswith("@"):
            raise MarkupError(line_no, "malformed @known= prefix")
        text, spans = parse_line(line, line_no)
        names = {text[s.start : s.end] for s in spans if s.entity == "PERSON"}
        for name in known:
            if name not in names:
                raise MarkupError(line_no, f"known name {name!r} is not a PERSON span")
        if text in seen:
            raise MarkupError(line_no, f"duplicate text (first on line {seen[text]})")
        seen[text] = line_no
        records.append(Record(line_no, kind, text, spans, known))
    assign_splits(records)
    return records


def assign_splits(records: list[Record], share: float = HOLDOUT_SHARE) -> None:
    """Mark as holdout the ``share`` of records whose text hash ranks lowest, separately among
    the remarks with spans and the harmless ones (so both keep the share)."""
    for harmless in (False, True):
        group = [r for r in records if (not r.spans) == harmless]
        ranked = sorted(group, key=lambda r: hashlib.sha256(r.text.encode("utf-8")).hexdigest())
        cut = round(len(group) * share)
        for position, record in enumerate(ranked):
            record.split = "holdout" if position < cut else "train"


def to_json(record_id: int, record: Record) -> str:
    """One JSONL line, keys in the contract's order."""
    obj: dict[str, Any] = {
        "id": record_id,
        "kind": record.kind,
        "split": record.split,
        "text": record.text,
        "spans": [{"start": s.start, "end": s.end, "entity": s.entity} for s in record.spans],
        "known_names": record.known_names,
    }
    return json.dumps(obj, ensure_ascii=False)


def write_jsonl(records: list[Record], out: Path) -> None:
    out.write_text("".join(to_json(i, r) + "\n" for i, r in enumerate(records)), "utf-8")


def summary(records: list[Record]) -> list[str]:
    """Counts per entity and per split, one line each."""
    entities = Counter(s.entity for r in records for s in r.spans)
    splits = Counter(r.split for r in records)
    lines = [f"records {len(records)}"]
    lines += [f"split {name} {splits[name]}" for name in ("train", "holdout")]
    lines += [f"entity {name} {entities[name]}" for name in sorted(ENTITIES)]
    lines.append(f"harmless {sum(1 for r in records if not r.spans)}")
    lines.append(f"known_names {sum(1 for r in records if r.known_names)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 2:
        print("usage: python -m masking.evalset.markup [SRC] [OUT]", file=sys.stderr)
        return 2
    src = Path(args[0]) if args else DEFAULT_SRC
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUT
    try:
        records = parse(src.read_text("utf-8"))
    except MarkupError as err:
        print(f"{src}: {err}", file=sys.stderr)
        return 1
    write_jsonl(records, out)
    print("\n".join(summary(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
