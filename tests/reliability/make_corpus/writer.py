"""The corpus as a whole: every feed's cases in a fixed order (:func:`cases`), their files and
``case.yaml`` as relative path -> bytes (:func:`build`), and the writing (:func:`write`) or the
comparison with the committed corpus (:func:`differences`) behind the command line
(:func:`main`).

:func:`build` is deterministic: two calls give the same bytes. Only :func:`write` touches the
file system, replacing the whole folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tests.reliability.make_corpus.common import CORPUS, Case
from tests.reliability.make_corpus.lie import lie_cases
from tests.reliability.make_corpus.lpc import lpc_cases
from tests.reliability.make_corpus.moa import moa_cases
from tests.reliability.make_corpus.moi import moi_cases
from tests.reliability.make_corpus.pulled import benefits_cases, nhia_cases


def cases() -> list[Case]:
    """Every case of the corpus."""
    return [*moi_cases(), *lpc_cases(), *lie_cases(), *moa_cases(), *nhia_cases(),
            *benefits_cases()]


def build() -> dict[str, bytes]:
    """The corpus as relative path -> bytes."""
    out: dict[str, bytes] = {}
    seen: set[tuple[str, str]] = set()
    for c in cases():
        if (c.feed, c.name) in seen:
            raise ValueError(f"case {c.feed}/{c.name} twice")
        seen.add((c.feed, c.name))
        folder = f"{c.feed}/{c.name}"
        for name, data in c.files.items():
            out[f"{folder}/{name}"] = data
        out[f"{folder}/case.yaml"] = c.yaml()
    return out


def differences(root: Path = CORPUS) -> list[str]:
    """How the corpus under ``root`` differs from what :func:`build` writes (empty: none)."""
    wanted = build()
    found = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    out = [f"missing: {k}" for k in sorted(set(wanted) - set(found))]
    out += [f"not written by make_corpus: {k}" for k in sorted(set(found) - set(wanted))]
    out += [f"differs: {k}" for k in sorted(set(wanted) & set(found)) if wanted[k] != found[k]]
    return out


def write(root: Path = CORPUS) -> int:
    """(Re)write the corpus under ``root``; returns the number of files."""
    import shutil

    if root.exists():
        shutil.rmtree(root)
    files = build()
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return len(files)


def main(argv: list[str] | None = None) -> int:
    """Write the corpus, or with ``--check`` compare it with the committed one."""
    from tests.reliability import make_corpus

    summary = (make_corpus.__doc__ or "").split("\n", 1)[0]
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.make_corpus",
                                     description=summary)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    if args.check:
        diff = differences()
        for line in diff:
            print(line)
        return 1 if diff else 0
    n = write()
    print(f"{n} files, {len(cases())} cases in {CORPUS}")
    return 0
