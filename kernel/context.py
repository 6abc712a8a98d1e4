"""The context of one job run: settings, storage, run records, run id and time, who runs it.

Every stage, publish and steward action takes a :class:`Context`; it is created once per run
(one Spark session per process) and carries what the lineage and the audit log need to name the
run: its id, the actor and, under Airflow, the task that runs it.
"""

from __future__ import annotations

import getpass
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kernel.config import Settings
from kernel.layout import Layout
from kernel.records import Records
from kernel.storage import Storage


def current_actor() -> str:
    """Who runs this job: ``LAKEHOUSE_USER`` (set by the identity provider or Airflow), else the
    operating-system user."""
    return os.environ.get("LAKEHOUSE_USER") or f"os:{getpass.getuser()}"


def new_run_id(prefix: str = "run") -> str:
    """A fresh run id: ``<prefix>-<12 hex digits>``."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Context:
    """One job run: settings, the run's Spark session, storage and records, run id and time."""

    settings: Settings
    storage: Storage
    records: Records
    run_id: str
    now: datetime
    actor: str = field(default_factory=current_actor)
    parent: Any = None  # lineage.events.ParentRef of the Airflow task running this job

    @property
    def layout(self) -> Layout:
        """The zone layout of the run's storage root."""
        return self.storage.layout

    def audit(self, action: str, details: dict[str, Any]) -> None:
        """Append an entry to the hash-chained audit log (``<root>/system/audit``: daily files
        on a local root, objects on an object store), tagged with the run id."""
        from audit.log import AuditLog

        AuditLog(self.layout.audit_dir).append(
            action, self.actor, {"run_id": self.run_id, **details})

    @classmethod
    def create(cls, run_id: str | None = None, settings: Settings | None = None) -> Context:
        """The context of a job run (one Spark session per run)."""
        from kernel.spark import session

        s = settings or Settings.from_env()
        storage = Storage(session(s), s.root)
        return cls(
            settings=s,
            storage=storage,
            records=Records(storage),
            run_id=run_id or new_run_id(),
            now=datetime.now(UTC).replace(tzinfo=None),
        )
