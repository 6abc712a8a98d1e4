"""Emitting RunEvents to files and to a real HTTP endpoint (no mocks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lineage.emit import (
    Emitter,
    FileEmitter,
    HttpEmitter,
    LineageEmitError,
    emitter_from_env,
)
from lineage.events import dataset, run_event
from lineage.validate import validate_event
from tests.lineage.spec import openlineage_spec


def _event(event_type: str = "START", day: int = 27) -> dict[str, Any]:
    return run_event(
        event_type,  # type: ignore[arg-type]
        run_id="run-0123456789ab",
        job_namespace="convergence-lakehouse",
        job_name="bronze.moi.household_registry",
        event_time=datetime(2026, 11, day, 23, 59, 59, tzinfo=UTC),
        inputs=[dataset("file:///lh", "landing/moi.household_registry", input_stats=(5, 100))],
        outputs=[dataset("file:///lh", "bronze/moi.household_registry", output_stats=(5, None))],
        engine_version="4.0.1",
    )


class _Endpoint:
    """A real OpenLineage-like endpoint on 127.0.0.1 that answers from a script of statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests.append((self.path, dict(self.headers), body))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 201
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint_factory() -> Iterator[Any]:
    started: list[_Endpoint] = []

    def make(statuses: list[int]) -> _Endpoint:
        ep = _Endpoint(statuses).__enter__()
        started.append(ep)
        return ep

    yield make
    for ep in started:
        ep.__exit__()


def test_file_emitter_writes_one_line_per_event(root: str) -> None:
    emitter = FileEmitter(root)
    assert isinstance(emitter, Emitter)
    for event_type in ("START", "COMPLETE"):
        emitter.emit(_event(event_type))
    emitter.emit(_event("START", day=28))
    folder = Path(root) / "system" / "lineage"
    assert sorted(p.name for p in folder.glob("*.jsonl")) == [
        "events-2026-11-27.jsonl", "events-2026-11-28.jsonl"]
    lines = (folder / "events-2026-11-27.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"]
    spec = openlineage_spec()  # skips here when the schemas are missing
    assert all(validate_event(e, spec) == [] for e in events)


@pytest.mark.parametrize("form", ["file:{}", "file://{}"])
def test_file_emitter_of_a_file_uri_root(tmp_path: Path, form: str) -> None:
    emitter = FileEmitter(form.format(tmp_path))
    emitter.emit(_event())
    assert emitter.path_for(_event()) == \
        tmp_path / "system" / "lineage" / "events-2026-11-27.jsonl"
    assert emitter.path_for(_event()).is_file()


def test_file_emitter_of_an_object_store_root_writes_one_object_per_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On ``s3a://`` (versitygw on loopback) each event is one object, named by day and time;
    :func:`event_lines` reads them back in time order, as from local daily files."""
    from lineage.emit import event_lines
    from tests.s3 import versitygw

    with versitygw(tmp_path) as s3:
        for key, value in s3.env.items():
            monkeypatch.setenv(key, value)
        emitter = FileEmitter(f"s3a://{s3.bucket}/lakehouse")
        for event in (_event("COMPLETE", 28), _event("START", 27)):
            emitter.emit(event)
        stored = sorted((s3.data / s3.bucket / "lakehouse/system/lineage").iterdir())
        assert [p.name[:18] for p in stored] == ["events-2026-11-27.", "events-2026-11-28."]
        lines = list(event_lines(f"s3a://{s3.bucket}/lakehouse"))
    assert [json.loads(x)["eventType"] for x in lines] == ["START", "COMPLETE"]
    assert json.loads(lines[0]) == _event("START", 27)


def test_file_emitter_reports_unwritable_root(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(LineageEmitError, match="cannot write"):
        FileEmitter(str(blocker)).emit(_event())


def test_http_emitter_posts_and_retries_once_on_503(endpoint_factory: Any) -> None:
    ep = endpoint_factory([503, 200])
    event = _event("COMPLETE")
    HttpEmitter(ep.url, api_key="s3cret-key", retries=2, backoff=0.01).emit(event)
    assert len(ep.requests) == 2
    path, headers, body = ep.requests[-1]
    assert path == "/api/v1/lineage"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Bearer s3cret-key"
    assert json.loads(body) == event
    assert ep.requests[0][2] == body  # the retry resends the same event


def test_http_emitter_gives_up_after_bounded_retries(endpoint_factory: Any) -> None:
    ep = endpoint_factory([503, 503, 503, 503])
    with pytest.raises(LineageEmitError, match=r"after 3 attempt\(s\): HTTP 503") as err:
        HttpEmitter(ep.url, api_key="s3cret-key", retries=2, backoff=0.01).emit(_event())
    assert len(ep.requests) == 3
    assert "s3cret-key" not in str(err.value)


def test_http_emitter_does_not_retry_client_errors(endpoint_factory: Any) -> None:
    ep = endpoint_factory([422])
    with pytest.raises(LineageEmitError, match="HTTP 422"):
        HttpEmitter(ep.url, retries=3, backoff=0.01).emit(_event())
    assert len(ep.requests) == 1


def test_http_emitter_unreachable_endpoint() -> None:
    ep = _Endpoint([])  # bound, then closed without serving: nobody listens on the port
    url = ep.url
    ep.server.server_close()
    with pytest.raises(LineageEmitError, match="after 2 attempt"):
        HttpEmitter(url, retries=1, backoff=0.01, timeout=1).emit(_event())


def test_emitter_from_env(monkeypatch: pytest.MonkeyPatch, root: str,
                          endpoint_factory: Any) -> None:
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    assert isinstance(emitter_from_env(root), FileEmitter)
    ep = endpoint_factory([])
    monkeypatch.setenv("OPENLINEAGE_URL", ep.url + "/")
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", "custom/lineage")
    emitter = emitter_from_env(root)
    assert isinstance(emitter, HttpEmitter)
    emitter.emit(_event())
    assert ep.requests[0][0] == "/custom/lineage"
