"""Endpoints: the published datasets, their descriptions and versions (:mod:`services.datasets`).

A token is optional: without one the caller sees open data only; with one, open data and the
datasets its scopes (``datasets:<zone>.<name>``) grant. A version is read from the Delta table
by time travel (never from a copy) and streamed as Parquet (default) or CSV (``?format=csv``)
with a strong ``ETag`` (a version never changes: ``If-None-Match`` gets a 304). The exchange is
recorded when the stream starts, with the dataset, version, format and ETag in place of a body
digest; a client that loses the connection gets a truncated body (a spliced Parquet download
carries its ``Content-Length``; an encoded one is chunked and ends without its last chunk),
never a different version.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from analytics.catalog import Table
from services import datasets
from services.problems import Problem
from services.state import Caller, Service, exchange_of

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _scopes(caller: Caller | None) -> frozenset[str] | None:
    return None if caller is None else caller.scopes


def problem_of(exc: datasets.DatasetError) -> Problem:
    """The HTTP refusal of a dataset error (its message never repeats what was sent)."""
    if isinstance(exc, datasets.NotEntitled):
        if exc.anonymous:
            return Problem(401, "unauthorized", f"{exc} (get a token: POST /oauth/token)",
                           {"WWW-Authenticate": 'Bearer realm="lakehouse"'})
        return Problem(403, "missing-scope", str(exc))
    status = {"unknown-dataset": 404, "unknown-version": 404, "version-unavailable": 410,
              "unsupported-format": 422}.get(exc.kind, 400)
    return Problem(status, exc.kind, str(exc))


def _json(service: Service, request: Request, payload: Any,
          headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    service.record(request, 200, body)
    return Response(body, media_type="application/json", headers=headers)


@router.get("", summary="The datasets this caller may read")
def list_datasets(request: Request) -> Response:
    """Open data for anyone; with a token, also the datasets its scopes grant."""
    service = _service(request)
    exchange_of(request)
    caller = service.caller(request, required=False)
    tables = datasets.entitled(service.cfg.root, _scopes(caller), service.cfg.contracts_dir)
    return _json(service, request, {"datasets": [
        {"name": t.name, "title": t.title, "open": datasets.is_open(t),
         "scope": None if datasets.is_open(t) else datasets.scope_of(t),
         "href": f"/v1/datasets/{t.zone}.{t.table}"} for t in tables]})


def _granted(service: Service, request: Request, name: str) -> Table:
    """The dataset ``name`` if the caller (a token or none) may read it, recorded on the
    exchange; raises :class:`datasets.DatasetError` (mapped by :func:`problem_of`)."""
    caller = service.caller(request, required=False)
    table = datasets.dataset(service.cfg.root, name, _scopes(caller), service.cfg.contracts_dir)
    exchange_of(request).details.update(dataset=table.name, scope=datasets.scope_of(table))
    return table


@router.get("/{name}", summary="A dataset: description, columns, versions")
def describe_dataset(request: Request, name: str) -> Response:
    """The contract's description and columns, and every version with its snapshot date."""
    service = _service(request)
    exchange_of(request)
    try:
        table = _granted(service, request, name)
        return _json(service, request, datasets.describe(service.cfg.root, table))
    except datasets.DatasetError as exc:
        raise problem_of(exc) from None


@router.get("/{name}/versions/{version}", summary="One version, streamed as Parquet or CSV",
            responses={200: {"content": {"application/vnd.apache.parquet": {},
                                         "text/csv": {}}}, 304: {"description": "unchanged"}})
def download(request: Request, name: str, version: int,
             format: str = Query("parquet", description="parquet or csv")) -> Response:
    """The version's rows (Delta time travel), streamed with bounded memory."""
    service = _service(request)
    ex = exchange_of(request)
    try:
        table = _granted(service, request, name)
        if version < 0:
            raise datasets.UnknownVersion(f"{table.name} versions are numbered from 0", ())
        ex.details["version"] = version
        got = datasets.stream(service.cfg.root, table, version, format)
    except datasets.DatasetError as exc:
        raise problem_of(exc) from None
    ex.details.update(format=format.strip().lower(), etag=got.etag.strip('"'))
    headers = {"ETag": got.etag, "Cache-Control": "private, max-age=86400, immutable",
               "Content-Disposition": f'attachment; filename="{got.filename}"'}
    if request.headers.get("if-none-match") == got.etag:
        service.record(request, 304, None)
        return Response(status_code=304, headers=headers)
    service.record(request, 200, None)
    if got.size is not None:  # a spliced Parquet download: its size is known before it starts
        headers["Content-Length"] = str(got.size)
    return StreamingResponse(iterate_in_threadpool(got.chunks), media_type=got.media_type,
                             headers=headers)
