"""The independent evaluation set of free-text remarks: its inline markup and its JSONL.

The set has four sources, each written apart by someone who had not read the recognizers:
``independent.txt``, ``independent-2.txt`` and ``independent-3.txt`` (the "train" part: each
later one was the holdout of a round, measured once and then tuned on) and
``independent-4.txt`` (the "holdout" part, written last, never seen by whoever tuned on the
others). Contract of a source, one remark per line:

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

``start``/``end`` are Python string offsets (end exclusive) in the plain text. Ids run across
the sources in order. ``split`` is "holdout" for every record of the last source and "train"
for every record of an earlier one (:func:`parse_sources`; a single source is all "train").
Malformed markup, an unknown entity or kind line, a known name without its span, and a
duplicate text (within a source or across the sources) are refused with :class:`MarkupError`,
which names the line number (and the source); the CLI prints it and exits 1.

``python -m masking.evalset.markup [SRC...] [--out OUT]`` writes the JSONL and prints the counts
per entity and split; without SRC it builds ``independent.jsonl`` from the default sources.
The legacy form ``python -m masking.evalset.markup SRC OUT.jsonl`` still works.
"""

from __future__ import annotations

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
HERE = Path(__file__).resolve().parent
DEFAULT_SRC = HERE / "independent.txt"
DEFAULT_SRCS = (DEFAULT_SRC, *(HERE / f"independent-{n}.txt" for n in (2, 3, 4)))
DEFAULT_HOLDOUT_SRC = DEFAULT_SRCS[-1]
DEFAULT_OUT = HERE / "independent.jsonl"

_KIND = re.compile(r"#\s*kind:\s*([a-z_]+)\s*$")
_KNOWN = re.compile(r"@known=([^\s{}|]+) ")
_MARK = re.compile(r"\{\{([A-Za-z_]*)\|([^{}|]*)\}\}")


class MarkupError(ValueError):
    """A refused source line; the message names its line number."""

    def __init__(self, line_no: int, reason: str, source: str = "") -> None:
        super().__init__(f"line {line_no}: {reason}")
        self.line_no = line_no
        self.source = source


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
    source: str = field(default="")


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


def parse(
    source: str, split: str = "train", seen: dict[str, str] | None = None, name: str = ""
) -> list[Record]:
    """Every remark of ``source`` as a record of ``split``; refuses bad lines.

    ``seen`` maps the texts of sources parsed before to where they stand (``name`` labels this
    source in it), so that a text repeated across sources is refused like one within a source.
    """
    records: list[Record] = []
    seen = {} if seen is None else seen
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
                raise MarkupError(line_no, "malformed kind line", name)
            continue
        if kind is None:
            raise MarkupError(line_no, "remark before the first '# kind:' line", name)
        record = _parse_remark(line, line_no, kind, name)
        if record.text in seen:
            raise MarkupError(line_no, f"duplicate text (first on {seen[record.text]})", name)
        seen[record.text] = f"line {line_no}" + (f" of {name}" if name else "")
        record.split = split
        records.append(record)
    return records


def _parse_remark(line: str, line_no: int, kind: str, name: str) -> Record:
    """One remark line (its ``@known=`` prefix included) as a record."""
    known: list[str] = []
    known_match = _KNOWN.match(line)
    if known_match:
        known = [known_match.group(1)]
        line = line[known_match.end() :]
    elif line.startswith("@"):
        raise MarkupError(line_no, "malformed @known= prefix", name)
    try:
        text, spans = parse_line(line, line_no)
    except MarkupError as err:
        raise MarkupError(line_no, str(err).split(": ", 1)[1], name) from None
    names = {text[s.start : s.end] for s in spans if s.entity == "PERSON"}
    for known_name in known:
        if known_name not in names:
            raise MarkupError(line_no, f"known name {known_name!r} is not a PERSON span", name)
    return Record(line_no, kind, text, spans, known, source=name)


def parse_sources(sources: list[Path]) -> list[Record]:
    """The records of every source in order: the last source's are "holdout", the records of
    every earlier source "train" (one source alone: "train"); a text repeated anywhere across
    the sources is refused."""
    records: list[Record] = []
    seen: dict[str, str] = {}
    for position, path in enumerate(sources):
        split = "holdout" if 0 < position == len(sources) - 1 else "train"
        records += parse(path.read_text("utf-8"), split, seen, path.name)
    return records


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
    """Counts per entity, per split and per entity and split, one line each."""
    entities = Counter(s.entity for r in records for s in r.spans)
    by_split = Counter((r.split, s.entity) for r in records for s in r.spans)
    splits = Counter(r.split for r in records)
    lines = [f"records {len(records)}"]
    lines += [f"split {name} {splits[name]}" for name in ("train", "holdout")]
    lines += [f"entity {name} {entities[name]}" for name in sorted(ENTITIES)]
    lines += [
        f"entity {name} {split} {by_split[split, name]}"
        for split in ("train", "holdout")
        for name in sorted(ENTITIES)
    ]
    lines.append(f"harmless {sum(1 for r in records if not r.spans)}")
    lines.append(f"known_names {sum(1 for r in records if r.known_names)}")
    return lines


USAGE = "usage: python -m masking.evalset.markup [SRC...] [--out OUT]  (legacy: SRC OUT.jsonl)"


def parse_args(args: list[str]) -> tuple[list[Path], Path] | None:
    """The sources and the output of the command line, or None when it is malformed.

    No SRC: :data:`DEFAULT_SRCS`. ``--out OUT`` names the output (default :data:`DEFAULT_OUT`);
    without it, two arguments whose last ends in ``.jsonl`` are the legacy ``SRC OUT``."""
    paths = list(args)
    out = DEFAULT_OUT
    if "--out" in paths:
        at = paths.index("--out")
        if at + 1 >= len(paths) or paths[at + 1].startswith("--"):
            return None
        out = Path(paths[at + 1])
        del paths[at : at + 2]
    elif len(paths) == 2 and paths[1].endswith(".jsonl"):
        out = Path(paths.pop())
    if any(p.startswith("--") for p in paths):
        return None
    return ([Path(p) for p in paths] or list(DEFAULT_SRCS)), out


def main(argv: list[str] | None = None) -> int:
    parsed = parse_args(sys.argv[1:] if argv is None else argv)
    if parsed is None:
        print(USAGE, file=sys.stderr)
        return 2
    sources, out = parsed
    try:
        records = parse_sources(sources)
    except MarkupError as err:
        where = next((p for p in sources if p.name == err.source), sources[0])
        print(f"{where}: {err}", file=sys.stderr)
        return 1
    write_jsonl(records, out)
    print("\n".join(summary(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
