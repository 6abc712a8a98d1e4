"""Where the audit log's bytes live: a local folder of daily files, or immutable objects.

:mod:`audit.log` keeps the chain (entries, hashes, seals, verification); this module holds
every byte of its I/O, behind one interface (:class:`Files`), chosen by :func:`files_for` from
the folder's URI:

* **a local folder** (:class:`LocalFiles`): one file per UTC day, ``audit-YYYY-MM-DD.jsonl``,
  appended line by line and flushed to disk; appends from several processes of one host are
  serialised by an exclusive ``fcntl.flock`` on ``.audit.lock``. A crash mid-append can leave a
  torn last line (the log seals it: see :mod:`audit.log`). ``LAKEHOUSE_FAULT=audit.torn`` makes
  an append write half its bytes and kill the process (the crash-safety tests).
* **an object store** (:class:`ObjectFiles`, ``s3a://bucket/…/system/audit``): object stores
  cannot append, so each append (one entry or a batch) is one immutable object
  ``audit-<seq of its first entry, 12 digits>.jsonl``, created only if absent
  (:meth:`audit.objects.Folder.create`). Two writers that read the same tail, on one host or
  on two, race for the same name and exactly one wins; the other re-reads the tail and tries
  again, so the chain never forks without a lock. An object is written whole: no torn lines.

Both list their files in chain order (:meth:`Files.names`) and read them as lines, so the chain
is read and verified the same way on both.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Protocol

from audit.objects import Folder, folder, is_object_uri

FAULT_ENV = "LAKEHOUSE_FAULT"
TORN_POINT = "audit.torn"
LOCK_NAME = ".audit.lock"
DAY_FILE_RE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
"""A local daily file's name; group 1 is the UTC day of every entry in it."""
OBJECT_RE = re.compile(r"^audit-(\d{12})\.jsonl$")
"""An object's name; group 1 is the seq of its first entry."""


class Files(Protocol):
    """What the chain needs of its storage."""

    def names(self) -> list[str]:
        """The file (object) names in chain order."""

    def read_lines(self, name: str) -> list[str]:
        """The lines of a file, without terminators (torn UTF-8 replaced)."""

    def last_line(self, name: str) -> str | None:
        """The last line of a file, or ``None`` if it is empty."""

    def ends_with_newline(self, name: str) -> bool:
        """Whether a file is empty or ends with a line terminator."""

    def append(self, name: str, line: str) -> None:
        """Add text at the end of a file (local folders only: a torn line's terminator)."""

    def add_entries(self, day: str, first_seq: int, text: str) -> bool:
        """Store the lines of entries ``first_seq``… (all stamped on ``day``) after the
        tail: ``False`` if another writer stored entries after that tail first."""

    def locked(self, exclusive: bool = True) -> AbstractContextManager[None]:
        """Hold what serialises appends (exclusive) or steadies reads (shared)."""


class LocalFiles:
    """The audit folder on a local disk: one file per day, appended line by line."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def names(self) -> list[str]:
        """The audit file names, in chain (date) order."""
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if DAY_FILE_RE.match(p.name))

    def read_lines(self, name: str) -> list[str]:
        """The lines of a file, without line terminators (a trailing newline adds no line)."""
        text = (self.folder / name).read_bytes().decode("utf-8", errors="replace")
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")

    def last_line(self, name: str) -> str | None:
        """The last line of a file (read from the end), or ``None`` if it is empty."""
        with open(self.folder / name, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            chunk = 4096
            while True:
                start = max(0, size - chunk)
                f.seek(start)
                data = f.read(size - start)
                body = data[:-1] if data.endswith(b"\n") else data
                cut = body.rfind(b"\n")
                if cut >= 0 or start == 0:
                    line = body[cut + 1 :]
                    return line.decode("utf-8", errors="replace") if line or data else None
                chunk *= 2

    def append(self, name: str, line: str) -> None:
        """Append one line to a file and flush it to disk (with ``LAKEHOUSE_FAULT=audit.torn``:
        half of it, then the process is killed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = line.encode("utf-8")
        with open(self.folder / name, "ab") as f:
            torn = os.environ.get(FAULT_ENV) == TORN_POINT and len(data) > 1
            f.write(data[: len(data) // 2] if torn else data)
            f.flush()
            os.fsync(f.fileno())
            if torn:
                os.kill(os.getpid(), signal.SIGKILL)

    def ends_with_newline(self, name: str) -> bool:
        """Whether a file is empty or ends with a line terminator."""
        with open(self.folder / name, "rb") as f:
            if f.seek(0, os.SEEK_END) == 0:
                return True
            f.seek(-1, os.SEEK_END)
            return f.read(1) == b"\n"

    @contextmanager
    def locked(self, exclusive: bool = True) -> Iterator[None]:
        """Hold the folder's lock file (exclusive for appends, shared for reading).

        Reading a log that does not exist creates nothing (and needs no lock).
        """
        if not exclusive and not self.folder.is_dir():
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / LOCK_NAME, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


    def add_entries(self, day: str, first_seq: int, text: str) -> bool:
        """Append the entries to the day's file (under :meth:`locked`: never loses a race)."""
        self.append(f"audit-{day}.jsonl", text)
        return True


class ObjectFiles:
    """The audit folder on an object store: one immutable object per append."""

    def __init__(self, where: Folder) -> None:
        self.where = where

    def names(self) -> list[str]:
        """The objects' names, in chain order (their names sort by seq)."""
        return [n for n in self.where.names() if OBJECT_RE.match(n)]

    def read_lines(self, name: str) -> list[str]:
        """The lines of an object (a missing object has none)."""
        text = (self.where.get(name) or b"").decode("utf-8", errors="replace")
        return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")

    def last_line(self, name: str) -> str | None:
        """The last line of an object (objects are small: one append each)."""
        lines = self.read_lines(name)
        return lines[-1] if lines else None

    def ends_with_newline(self, name: str) -> bool:
        """Always: an object is written whole, ending with its last entry's newline."""
        return True

    def append(self, name: str, line: str) -> None:
        """Refused: objects are immutable (only :meth:`add_entries` writes)."""
        raise OSError(f"{self.where.uri}/{name}: objects of the audit log are never changed")

    def add_entries(self, day: str, first_seq: int, text: str) -> bool:
        """Create ``audit-<first_seq>.jsonl`` unless another writer created it first."""
        return self.where.create(f"audit-{first_seq:012d}.jsonl", text.encode("utf-8"))

    def locked(self, exclusive: bool = True) -> AbstractContextManager[None]:
        """Nothing to hold: the create of :meth:`add_entries` decides a race."""
        return nullcontext()


def files_for(where: str | Path) -> Files:
    """The storage of the audit folder ``where``: objects for ``s3://``/``s3a://``, daily files
    on a local disk otherwise."""
    if is_object_uri(where):
        return ObjectFiles(folder(where))
    return LocalFiles(str(where))
