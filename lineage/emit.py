"""Where RunEvents go: JSON lines in the system zone, or an OpenLineage HTTP endpoint.

:func:`emitter_from_env` picks the HTTP endpoint when ``OPENLINEAGE_URL`` is set (with the
OpenLineage client's ``OPENLINEAGE_API_KEY`` and ``OPENLINEAGE_ENDPOINT`` conventions), else
files under ``<root>/system/lineage/``. Emitting raises :class:`LineageEmitError` on failure;
whether a failed emission stops a run is the caller's decision.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from audit.objects import folder
from kernel.layout import Layout

DEFAULT_ENDPOINT = "api/v1/lineage"
_RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class LineageEmitError(RuntimeError):
    """An event could not be delivered."""


@runtime_checkable
class Emitter(Protocol):
    """Anything that delivers a JSON-able OpenLineage event."""

    def emit(self, event: Mapping[str, Any]) -> None:
        """Deliver one event (raise :class:`LineageEmitError` on failure)."""
        ...


def _event_day(event: Mapping[str, Any]) -> str:
    """The UTC day of the event's ``eventTime`` (today if it has none that parses)."""
    try:
        at = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    except (KeyError, ValueError):
        at = datetime.now(UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d")


class FileEmitter:
    """The events kept under ``<root>/system/lineage/``, one JSON line each.

    On a local root, one file per UTC day of the event's ``eventTime``
    (``events-YYYY-MM-DD.jsonl``); appends are serialised across processes by an exclusive
    ``flock`` on a lock file in the folder, so lines never interleave. On an object store
    (``s3a://``), which cannot append, each event is one immutable object
    ``events-YYYY-MM-DD.<eventTime>.<random>.jsonl`` holding its line: the names sort by time, and
    readers (:func:`event_files`) read both forms the same way.
    """

    def __init__(self, root: str) -> None:
        self.layout = Layout(root)
        self.folder = self.layout.lineage_dir if self.layout.is_local else None

    def path_for(self, event: Mapping[str, Any]) -> Path:
        """The local file an event is written to (local roots)."""
        if self.folder is None:
            raise LineageEmitError(f"{self.layout.root} is not a local root")
        return self.folder / f"events-{_event_day(event)}.jsonl"

    def emit(self, event: Mapping[str, Any]) -> None:
        """Write the event: one line appended (local root) or one object (object store)."""
        line = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        data = (line + "\n").encode("utf-8")
        try:
            if self.folder is None:
                stamp = "".join(c for c in str(event.get("eventTime", "")) if c.isalnum())
                folder(self.layout.lineage_uri).put(
                    f"events-{_event_day(event)}.{stamp}.{uuid.uuid4().hex[:12]}.jsonl", data)
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / ".lineage.lock", "a+b") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    with open(self.path_for(event), "ab") as f:
                        f.write(data)
                        f.flush()
                        os.fsync(f.fileno())
                finally:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
        except OSError as e:
            raise LineageEmitError(f"cannot write lineage event: {e.strerror or e}") from e


def event_lines(root: str) -> Iterator[str]:
    """Every stored event's JSON line under ``<root>/system/lineage/``, file by file in name
    order (local daily files, or an object store's objects: :class:`FileEmitter`)."""
    layout = Layout(root)
    if layout.is_local:
        for path in sorted(layout.lineage_dir.glob("*.jsonl")):
            yield from path.read_text(encoding="utf-8").splitlines()
        return
    where = folder(layout.lineage_uri)
    for name in where.names():
        if name.endswith(".jsonl"):
            yield from (where.get(name) or b"").decode("utf-8").splitlines()


class HttpEmitter:
    """POSTs each event to an OpenLineage endpoint (Marquez: ``{url}/api/v1/lineage``).

    Retries ``retries`` times (exponential back-off from ``backoff`` seconds) on a connection
    error, a timeout or HTTP 408/429/5xx; any other 4xx fails at once. The API key is sent as a
    bearer token and never appears in errors.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.target = f"{url.rstrip('/')}/{endpoint.lstrip('/')}"
        self._api_key = api_key
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff

    def emit(self, event: Mapping[str, Any]) -> None:
        """Deliver the event; raise :class:`LineageEmitError` when every attempt failed."""
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.target, data=body, headers=headers,
                                             method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                return
            except urllib.error.HTTPError as e:
                problem = f"HTTP {e.code}"
                if e.code not in _RETRYABLE:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                problem = f"{type(reason).__name__}: {reason}"
        attempts = attempt + 1
        raise LineageEmitError(
            f"lineage endpoint {self.target} refused the event after {attempts} attempt(s): "
            f"{problem}"
        )


def emitter_from_env(root: str) -> Emitter:
    """``HttpEmitter`` if ``OPENLINEAGE_URL`` is set, else ``FileEmitter(root)``."""
    url = os.environ.get("OPENLINEAGE_URL", "").strip()
    if url:
        return HttpEmitter(
            url,
            api_key=os.environ.get("OPENLINEAGE_API_KEY") or None,
            endpoint=os.environ.get("OPENLINEAGE_ENDPOINT") or DEFAULT_ENDPOINT,
        )
    return FileEmitter(root)
