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

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from audit.log import AuditLog, entries

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


class ExchangeLog:
    """Appends exchanges to the audit log in ``folder`` (thread-safe: the log locks)."""

    def __init__(self, folder: str | Path) -> None:
        self._log = AuditLog(folder)

    def record(self, exchange: Exchange) -> None:
        """Append one exchange; raises ``ValueError`` if a detail looks like a personal value
        (the caller answers 500 then: nothing leaves unrecorded)."""
        actor = ACTOR_PREFIX + (exchange.client or "anonymous")
        self._log.append(ACTION, actor, exchange.audit_details())


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
