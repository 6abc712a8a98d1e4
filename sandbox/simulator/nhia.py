"""The NHIA insured-status API (feed 4 of ``shared/specs/agencies.md``), simulated on localhost.

A real HTTP server (:class:`http.server.ThreadingHTTPServer`) serving the records the generator
wrote (:mod:`sandbox.generate.nhi`) under ``<root>/sources/nhia/insured_status/``:

``records.jsonl``
    One line per record: ``{"changed": "YYYY-MM-DD", "record": {...}}``. ``record`` is what the
    API serves, exactly; ``changed`` is the source's internal change date, used to answer
    ``changed_since`` and never served.
``simulator.json``
    The server's settings (:class:`SimulatorConfig`): seed, client credentials, the rates of
    throttling and outages (``IssueRates.api_throttle`` / ``api_unavailable``), how many
    requests a token is good for.

Endpoints:

``POST /v1/token``
    Client credentials, accepted as HTTP Basic authentication (``client_id:client_secret``, the
    OAuth 2 way), as a form body (``grant_type=client_credentials&client_id=…&client_secret=…``)
    or as a JSON body (``{"client_id": …, "client_secret": …}``). Wrong or missing credentials:
    ``401 {"error": "invalid_client"}``. Else ``200 {"access_token", "token_type": "Bearer",
    "expires_in"}``. A token is good for ``token_requests`` data requests; the next one is
    answered ``401`` (``WWW-Authenticate: Bearer error="invalid_token"``) and the client fetches
    a new token, as with a token expiring during a long pull.
``GET /v1/insured-status?changed_since=YYYY-MM-DD&page=N&page_size=M``
    ``Authorization: Bearer <token>``. The records changed on or after ``changed_since`` (all of
    them without it), in file order, ``page_size`` (default 1000, at most ``max_page_size``) a
    page: ``{"page", "page_size", "total_pages", "records"}`` (``total_pages`` is 0 when no
    record matches; page 1 is then empty). A page is a pure function of the data and the
    query: requested again, it comes back byte for byte the same. Bad parameters: ``400``; a
    page past the last: ``404``.

Faults, in front of the data endpoint as an API gateway would put them: the ``n``-th data
request (counted from 1 since the server started) is answered ``429 Too Many Requests`` with
``Retry-After: <retry_after_seconds>`` or ``503 Service Unavailable`` by a draw of
``random.Random(f"{seed}:{n}")`` against ``api_throttle`` and ``api_unavailable``: the same
request sequence meets the same faults. The token endpoint is not throttled. Two drills for
the tests and the runbook: pages in ``down_pages`` always answer ``503``, pages in
``html_pages`` answer ``200`` with an HTML page (a proxy's maintenance page).

Command line (the demo): ``python -m sandbox.simulator.nhia --data DIR --port P``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import dataclasses
import datetime
import json
import os
import random
import re
import secrets
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

RECORDS_FILE = "records.jsonl"
CONFIG_FILE = "simulator.json"
ENDPOINT = "/v1/insured-status"
TOKEN_ENDPOINT = "/v1/token"
DEFAULT_PAGE_SIZE = 1000
_CHANGED = re.compile(rb'"changed"\s*:\s*"(\d{4}-\d{2}-\d{2})"')
_SELECTIONS = 8  # changed_since selections kept in memory
_HTML = (b"<!DOCTYPE html>\n<html><head><title>\xe7\xb3\xbb\xe7\xb5\xb1\xe7\xb6\xad\xe8\xad\xb7"
         b"</title></head><body><h1>Service maintenance</h1><p>Please try again later.</p>"
         b"</body></html>\n")


@dataclass(frozen=True)
class SimulatorConfig:
    """The server's settings, from ``simulator.json`` (every key optional but the credentials).
    """

    client_id: str
    client_secret: str = field(repr=False)
    seed: int = 0
    api_throttle: float = 0.0
    """Share of data requests answered ``429`` (with ``Retry-After``)."""
    api_unavailable: float = 0.0
    """Share of data requests answered ``503``."""
    retry_after_seconds: int = 1
    token_requests: int = 500
    """Data requests a token is good for; the next one is answered ``401``."""
    expires_in: int = 3600
    """What the token response states (seconds); expiry is by request count (deterministic)."""
    max_page_size: int = 5000
    records: str = RECORDS_FILE
    down_pages: tuple[int, ...] = ()
    """Drill: pages always answered ``503``."""
    html_pages: tuple[int, ...] = ()
    """Drill: pages answered ``200`` with an HTML page instead of JSON."""

    def __post_init__(self) -> None:
        for name in ("api_throttle", "api_unavailable"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value} is not between 0 and 1")
        if self.api_throttle + self.api_unavailable > 1.0:
            raise ValueError("api_throttle + api_unavailable exceed 1")
        if self.token_requests < 1 or self.max_page_size < 1 or self.retry_after_seconds < 0:
            raise ValueError("token_requests and max_page_size must be positive, "
                             "retry_after_seconds not negative")

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> SimulatorConfig:
        """The settings of ``data_dir/simulator.json``, with ``overrides`` on top."""
        path = data_dir / CONFIG_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no simulator settings {path} (run the generator)") from None
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted((set(raw) | set(overrides)) - known)
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {', '.join(unknown)}")
        values = {**raw, **overrides}
        for key in ("down_pages", "html_pages"):
            values[key] = tuple(int(p) for p in values.get(key, ()))
        return cls(**values)


class _Records:
    """The record file, indexed once: line offsets and change dates (small arrays), so that a
    million records are served without holding them in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offsets = array("q")
        self.changed = array("i")  # date ordinals
        pos = 0
        with path.open("rb") as fh:
            for n, line in enumerate(fh, start=1):
                m = _CHANGED.search(line, 0, 96)
                if m is None:
                    raise ValueError(f"{path}: line {n}: no change date")
                self.offsets.append(pos)
                self.changed.append(datetime.date.fromisoformat(m[1].decode()).toordinal())
                pos += len(line)
        self.offsets.append(pos)
        self._fd = os.open(path, os.O_RDONLY)
        self._lock = threading.Lock()
        self._selections: OrderedDict[int, array[int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.changed)

    def select(self, since: datetime.date | None) -> array[int]:
        """Indices of the records changed on or after ``since`` (all without it), file order."""
        key = 0 if since is None else since.toordinal()
        with self._lock:
            hit = self._selections.get(key)
            if hit is not None:
                self._selections.move_to_end(key)
                return hit
        chosen = array("i", (i for i, d in enumerate(self.changed) if d >= key))
        with self._lock:
            self._selections[key] = chosen
            while len(self._selections) > _SELECTIONS:
                self._selections.popitem(last=False)
        return chosen

    def records(self, indices: Sequence[int]) -> list[Any]:
        """The served part (``record``) of the lines at ``indices``."""
        out = []
        for i in indices:
            start, end = self.offsets[i], self.offsets[i + 1]
            out.append(json.loads(os.pread(self._fd, end - start, start))["record"])
        return out

    def close(self) -> None:
        os.close(self._fd)


class NhiaSimulator:
    """The simulated API on ``host:port`` (port 0: a free port), serving ``data_dir``.

    >>> with NhiaSimulator(root / "sources/nhia/insured_status") as sim:  # doctest: +SKIP
    ...     url = sim.base_url

    ``overrides`` replace settings of ``simulator.json`` (``api_throttle=0``, ``down_pages=(3,)``
    …). ``stats`` counts the responses by status; ``history`` lists ``(method, path and query,
    status)`` of every request, in order (no credentials: tokens travel in headers).
    """

    def __init__(self, data_dir: Path | str, port: int = 0, host: str = "127.0.0.1",
                 **overrides: Any) -> None:
        self.data_dir = Path(data_dir)
        self.config = SimulatorConfig.load(self.data_dir, **overrides)
        self.host = host
        self.port = port
        self.stats: Counter[int] = Counter()
        self.history: list[tuple[str, str, int]] = []
        self._tokens: dict[str, int] = {}
        self._sequence = 0
        self._lock = threading.Lock()
        self._records: _Records | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def _bind(self) -> ThreadingHTTPServer:
        self._records = _Records(self.data_dir / self.config.records)
        sim = self

        class Handler(_Handler):
            simulator = sim

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        return server

    def start(self) -> NhiaSimulator:
        """Index the data and serve it from a background thread."""
        server = self._bind()
        self._thread = threading.Thread(target=server.serve_forever, name="nhia-simulator",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port and the data file."""
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._close()

    def _close(self) -> None:
        if self._server is not None:
            self._server.server_close()
            self._server = None
        if self._records is not None:
            self._records.close()
            self._records = None
        self._thread = None

    def __enter__(self) -> NhiaSimulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------ behaviour
    def _record(self, method: str, target: str, status: int) -> None:
        with self._lock:
            self.stats[status] += 1
            self.history.append((method, target, status))

    def fault(self, n: int) -> int | None:
        """The fault met by the ``n``-th data request: 429, 503 or None."""
        roll = random.Random(f"{self.config.seed}:{n}").random()
        if roll < self.config.api_throttle:
            return 429
        if roll < self.config.api_throttle + self.config.api_unavailable:
            return 503
        return None

    def _next_fault(self) -> int | None:
        with self._lock:
            self._sequence += 1
            n = self._sequence
        return self.fault(n)

    def issue_token(self) -> str:
        """A new bearer token, good for ``token_requests`` data requests."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self.config.token_requests
        return token

    def _use_token(self, token: str) -> bool:
        with self._lock:
            left = self._tokens.get(token, 0)
            if left <= 0:
                self._tokens.pop(token, None)
                return False
            self._tokens[token] = left - 1
            return True

    def credentials_ok(self, client_id: str | None, secret: str | None) -> bool:
        """True for the configured client id and secret (compared in constant time)."""
        return (client_id is not None and secret is not None
                and secrets.compare_digest(client_id.encode(), self.config.client_id.encode())
                and secrets.compare_digest(secret.encode(), self.config.client_secret.encode()))

    def page(self, since: datetime.date | None, page: int, size: int) -> bytes | None:
        """The body of a page, or None past the last page."""
        assert self._records is not None
        chosen = self._records.select(since)
        total = -(-len(chosen) // size)
        if page > max(total, 1):
            return None
        records = self._records.records(chosen[(page - 1) * size : page * size])
        doc = {"page": page, "page_size": size, "total_pages": total, "records": records}
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


Simulator = NhiaSimulator
"""The bundled simulator of this agency (the API puller's embedded default looks it up)."""


class _Handler(BaseHTTPRequestHandler):
    """One request to the simulator (a class attribute binds the simulator)."""

    simulator: NhiaSimulator
    server_version = "NHIA-API-Simulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator's history records every request."""

    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        # Recorded before the answer goes out: a client that has the answer finds it in the
        # history (no race with the server's thread).
        self.simulator._record(self.command, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, error: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": error, "status": status}).encode("utf-8")
        self._send(status, body, headers=headers)

    def do_POST(self) -> None:
        """The token endpoint."""
        if urlsplit(self.path).path != TOKEN_ENDPOINT:
            self._error(404, "not_found")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        client_id, secret = self._credentials(body)
        sim = self.simulator
        if not sim.credentials_ok(client_id, secret):
            self._error(401, "invalid_client", {"WWW-Authenticate": 'Basic realm="nhia"'})
            return
        doc = {"access_token": sim.issue_token(), "token_type": "Bearer",
               "expires_in": sim.config.expires_in}
        self._send(200, json.dumps(doc).encode("utf-8"),
                   headers={"Cache-Control": "no-store"})

    def _credentials(self, body: bytes) -> tuple[str | None, str | None]:
        """Client id and secret from HTTP Basic, a JSON body or a form body, in that order."""
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                text = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            cid, sep, secret = text.partition(":")
            return (cid, secret) if sep else (None, None)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype == "application/json":
                doc = json.loads(body or b"{}")
                if isinstance(doc, dict):
                    return _str(doc.get("client_id")), _str(doc.get("client_secret"))
                return None, None
            form = parse_qs(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None, None
        return _first(form, "client_id"), _first(form, "client_secret")

    def do_GET(self) -> None:
        """The data endpoint: fault, authentication, parameters, then the page."""
        url = urlsplit(self.path)
        sim = self.simulator
        if url.path != ENDPOINT:
            self._error(404, "not_found")
            return
        fault = sim._next_fault()
        if fault == 429:
            self._error(429, "too_many_requests",
                        {"Retry-After": str(sim.config.retry_after_seconds)})
            return
        if fault == 503:
            self._error(503, "service_unavailable")
            return
        auth = self.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token or not sim._use_token(token):
            self._error(401, "invalid_token", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        try:
            since, page, size = _query(parse_qs(url.query, keep_blank_values=True),
                                       sim.config.max_page_size)
        except ValueError as exc:
            self._error(400, str(exc))
            return
        if page in sim.config.down_pages:
            self._error(503, "service_unavailable")
            return
        if page in sim.config.html_pages:
            self._send(200, _HTML, "text/html; charset=utf-8")
            return
        body = sim.page(since, page, size)
        if body is None:
            self._error(404, "page_out_of_range")
            return
        self._send(200, body)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _first(form: dict[str, list[str]], key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _query(q: dict[str, list[str]], max_size: int) -> tuple[datetime.date | None, int, int]:
    """``changed_since``, ``page`` and ``page_size`` of a query; ValueError names the bad one."""
    since: datetime.date | None = None
    raw = _first(q, "changed_since")
    if raw:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError("invalid_changed_since")
        try:
            since = datetime.date.fromisoformat(raw)
        except ValueError:
            raise ValueError("invalid_changed_since") from None
    numbers = []
    for key, default, upper in (("page", 1, None), ("page_size", DEFAULT_PAGE_SIZE, max_size)):
        text = _first(q, key) or str(default)
        if not text.isdigit() or int(text) < 1 or (upper is not None and int(text) > upper):
            raise ValueError(f"invalid_{key}")
        numbers.append(int(text))
    return since, numbers[0], numbers[1]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandbox.simulator.nhia --data DIR [--port P] [--host H]``."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.simulator.nhia",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True,
                        help="the generator's data: <root>/sources/nhia/insured_status")
    parser.add_argument("--port", type=int, default=8081, help="0: a free port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    with NhiaSimulator(args.data, port=args.port, host=args.host) as sim:
        cfg = sim.config
        print(f"NHIA API simulator on {sim.base_url} (client id {cfg.client_id}; "
              f"{HTTPStatus.TOO_MANY_REQUESTS.value} at {cfg.api_throttle:.0%}, "
              f"{HTTPStatus.SERVICE_UNAVAILABLE.value} at {cfg.api_unavailable:.0%}); "
              "Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
