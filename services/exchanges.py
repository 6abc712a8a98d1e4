"""Every exchange of the data services, in the hash-chained audit log.

One ``exchange`` entry per request that reached an endpoint (answered or refused), written
**before** the response leaves: who asked (client, agency), what (endpoint, scope, dataset and
version, or the ``person_key`` of the person asked about, never the identifier), why (purpose,
consent reference), the outcome and HTTP status, a refusal's reason, and the SHA-256 of the
response body, so that an auditor holding a response can prove it is the one that was sent.
The audit log refuses any value that looks like an identifier or a mobile number
(:func:`audit.log.check_no_personal_values`), so a request value that does is never recorded.

:func:`exchanges` answers the auditor's question "who asked what about whom, why, under which
consent" for an agency, a client or a ``person_key`` over a period (``lakehouse audit
exchanges``), reading the log and nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from audit.log import AuditLog, Checked, checked, entries

ACTION = "exchange"
ACTOR_PREFIX = "client:"


@dataclass(frozen=True)
class Exchange:
    """What one exchange recorded (the fields the auditor's listing shows)."""

    client: str
    agency: str
    endpoint: str
    outcome: str
    """``answered`` or ``refused``."""
    status: int
    exchange_id: str
    details: dict[str, Any] = field(default_factory=dict)
    """The rest: scope, purpose, consent, person_key, dataset, version, reason, digest."""

    def audit_details(self) -> dict[str, Any]:
        """The ``details`` of the audit entry (``None`` values left out)."""
        body = {"exchange_id": self.exchange_id, "client": self.client, "agency": self.agency,
                "endpoint": self.endpoint, "outcome": self.outcome, "status": self.status,
                **self.details}
        return {k: v for k, v in body.items() if v is not None}


def digest(body: bytes) -> str:
    """The SHA-256 (hex) of a response body, as recorded."""
    return hashlib.sha256(body).hexdigest()


class _Ticket:
    """One exchange waiting for its batch to be written."""

    __slots__ = ("done", "error", "future", "item", "loop")

    def __init__(self, item: Checked,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.item = item
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.loop = loop
        self.future: asyncio.Future[None] | None = loop.create_future() if loop else None

    def finish(self, error: BaseException | None) -> None:
        """Wake the caller (a thread waiting, or a coroutine awaiting on its loop)."""
        self.error = error
        self.done.set()
        if self.loop is not None and self.future is not None:
            self.loop.call_soon_threadsafe(_settle, self.future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class ExchangeLog:
    """Appends exchanges to the audit log in ``folder`` by group commit.

    :meth:`record` checks the entry at once (a personal-looking value is refused in the
    caller's thread), queues it and waits until a writer thread has appended it with the
    others queued meanwhile (:meth:`audit.log.AuditLog.append_many`: one lock, one ``fsync``
    per batch). So an answer still leaves only after its entry is on disk, and the log keeps
    pace with many requests a second: the batch grows with the load instead of the wait.
    Across worker processes the audit folder's file lock orders the batches.
    """

    def __init__(self, folder: str | Path, max_batch: int = 512) -> None:
        self._log = AuditLog(folder)
        self._max_batch = max_batch
        self._queue: list[_Ticket] = []
        self._ready = threading.Condition()
        self._writer: threading.Thread | None = None

    def record(self, exchange: Exchange) -> None:
        """Append one exchange, returning once it is written; raises ``ValueError`` if a detail
        looks like a personal value, or the writer's error if the batch could not be written
        (the caller answers 500 then: nothing leaves unrecorded)."""
        ticket = self._enqueue(exchange, None)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error

    async def record_async(self, exchange: Exchange) -> None:
        """:meth:`record` for a coroutine: awaits the write without holding a thread."""
        ticket = self._enqueue(exchange, asyncio.get_running_loop())
        assert ticket.future is not None
        await ticket.future

    def _enqueue(self, exchange: Exchange, loop: asyncio.AbstractEventLoop | None) -> _Ticket:
        """Check the exchange and queue it for the writer (started on first use)."""
        actor = ACTOR_PREFIX + (exchange.client or "anonymous")
        ticket = _Ticket(checked(ACTION, actor, exchange.audit_details()), loop)
        with self._ready:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_batches, daemon=True,
                                                name="lakehouse-exchange-log")
                self._writer.start()
            self._queue.append(ticket)
            self._ready.notify()
        return ticket

    def _write_batches(self) -> None:
        """The writer: take what is queued (up to ``max_batch``), append it, wake its callers."""
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            error: BaseException | None = None
            try:
                self._log.append_many([t.item for t in batch])
            except BaseException as exc:  # every waiting caller hears of it
                error = exc
            for t in batch:
                t.finish(error)


@dataclass(frozen=True)
class Listed:
    """One exchange as the auditor's listing shows it."""

    at: str
    seq: int
    details: dict[str, Any]


def exchanges(folder: str | Path, *, agency: str | None = None, client: str | None = None,
              person_key: str | None = None, since: date | None = None,
              until: date | None = None) -> Iterator[Listed]:
    """The recorded exchanges matching every filter given, in log order. ``since`` and
    ``until`` are inclusive UTC days."""
    first = since.isoformat() if since else ""
    last = until.isoformat() if until else "9999-12-31"
    for entry in entries(folder, action=ACTION):
        day = entry.at[:10]
        d = entry.details
        if day < first or day > last:
            continue
        if agency is not None and d.get("agency") != agency:
            continue
        if client is not None and d.get("client") != client:
            continue
        if person_key is not None and d.get("person_key") != person_key:
            continue
        yield Listed(entry.at, entry.seq, d)
