"""The data services as one FastAPI application (``lakehouse serve`` runs it on uvicorn).

======================================  ===========================================  ==========
endpoint                                what                                         token
======================================  ===========================================  ==========
``POST /oauth/token``                   an access token by client credentials        client id
                                        (RFC 6749 §4.4; HTTP Basic or form)          and secret
``GET /.well-known/jwks.json``          the public keys that sign tokens and answers none
``POST /v1/verifications``              is this person insured on this date? (JWS)   verify:*
``GET /v1/datasets``                    the datasets this caller may read            optional
``GET /v1/datasets/{name}``             a dataset's description, columns, versions   per scope
``GET /v1/datasets/{name}/versions/{v}``  one version as Parquet or CSV, streamed    per scope
``GET /docs``, ``/redoc``               the interactive OpenAPI documentation        none
``GET /healthz``                        liveness and the version answering           none
======================================  ===========================================  ==========

Open data (zone ``opendata``) needs no token. Every refusal is RFC 9457 problem+json
(:mod:`services.problems`) and never echoes a value sent: FastAPI's own validation errors, which
quote the input, are replaced by one line naming the fields. Bodies over
:attr:`~services.state.ServiceConfig.max_body_bytes` are refused (413) while they are read.
Every request that reaches an endpoint leaves one ``exchange`` audit entry before its response
is sent (:mod:`services.state`). A background thread follows new published versions
(:meth:`services.state.Service.follow_versions`). The documentation's assets are served by the
service itself (``fastapi-offline``): no CDN is reachable from the bureau's network.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import api_datasets, api_verify
from services.problems import MEDIA_TYPE, Problem
from services.state import Service, ServiceConfig, freeze_heap, problem_for

log = logging.getLogger("lakehouse.services")

DESCRIPTION = """The bureau's data services for other agencies: document-free e-verification of
insurance status (answers signed with Ed25519, checkable offline with the keys of
`/.well-known/jwks.json`) and the published datasets by version. Get a token with
`POST /oauth/token` (client credentials), then call with `Authorization: Bearer <token>`. Every
exchange is recorded in the bureau's audit log; refusals are RFC 9457 problem details."""


async def problem_response(service: Service, request: Request, problem: Problem) -> Response:
    """The problem+json response of a refusal, recorded first when the request reached an
    endpoint (a path that matches no endpoint is not an exchange)."""
    body = json.dumps(problem.body(), ensure_ascii=False).encode("utf-8")
    if request.scope.get("route") is not None:
        try:
            await service.record_async(request, problem.status, body, reason=problem.detail)
        except Exception as exc:  # the refusal stands; the failure to record is logged
            log.error("exchange not recorded: %s", type(exc).__name__)
    return Response(body, status_code=problem.status, media_type=MEDIA_TYPE,
                    headers=problem.headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """One line naming the fields at fault and why, never their values."""
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            return "the body is not valid JSON"
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {str(err.get('msg', 'invalid')).split(',')[0]}")
    return "invalid request: " + "; ".join(parts)


def install_handlers(app: FastAPI, service: Service) -> None:
    """Every error as problem+json (see the module docstring)."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return await problem_response(service, request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return await _problem(request, Problem(422, "invalid-request", _validation_detail(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        detail = {404: "no such endpoint (see /docs)",
                  405: "method not allowed on this endpoint"}.get(exc.status_code, "refused")
        return await _problem(request, Problem(exc.status_code, kind, detail,
                                               dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.error("request failed: %s", type(exc).__name__)
        return await _problem(request, problem_for(exc))


class BodyLimit:
    """Refuse a request body over ``max_bytes`` with 413, by its ``Content-Length`` or, for a
    chunked body, as soon as the bytes read pass the limit (never buffering more)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(Problem(413, "too-large", f"the body exceeds {self.max_bytes} bytes")
                          .body()).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", MEDIA_TYPE.encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    """A body passed the limit while it was read."""


def create_app(cfg: ServiceConfig) -> FastAPI:
    """The application: endpoints, handlers, the body limit, the version follower."""
    from fastapi_offline import FastAPIOffline

    service = Service(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            service.coverage.refresh()
        except Exception as exc:  # served as 503 until a readable version is published
            log.warning("coverage not loaded: %s", type(exc).__name__)
        freeze_heap()
        follower = threading.Thread(target=service.follow_versions, daemon=True,
                                    name="lakehouse-coverage-follower")
        follower.start()
        yield
        service.stop()

    app = FastAPIOffline(title="Convergence Lakehouse data services", version="1.0.0",
                         description=DESCRIPTION, lifespan=lifespan,
                         static_url="/static-docs")
    app.state.service = service
    install_handlers(app, service)
    app.include_router(api_verify.router)
    app.include_router(api_datasets.router)

    @app.get("/healthz", tags=["service"], summary="Liveness and the version answering")
    def healthz() -> dict[str, Any]:
        current = service.coverage.served()
        return {"status": "ok", "coverage_version": None if current is None else current.version}

    return _with_body_limit(app, cfg.max_body_bytes)


def from_env() -> FastAPI:
    """The application configured from the environment (:meth:`ServiceConfig.from_env`): the
    factory each uvicorn worker process calls when ``lakehouse serve --workers N``."""
    return create_app(ServiceConfig.from_env())


def _with_body_limit(app: FastAPI, max_bytes: int) -> FastAPI:
    app.add_middleware(BodyLimit, max_bytes=max_bytes)
    return app
