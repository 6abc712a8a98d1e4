"""Endpoints: access tokens (client credentials), the signing keys (JWKS), e-verification.

``POST /oauth/token`` takes ``grant_type=client_credentials`` and an optional ``scope``
(form-encoded, RFC 6749 §4.4), the client authenticated by HTTP Basic (§2.3.1) or by
``client_id``/``client_secret`` in the form. A scope the client is not registered for is refused
naming it; without ``scope`` the token carries every registered scope. Secrets are checked in
constant time against their PBKDF2 hashes, and attempts count against the client's rate limit.

``POST /v1/verifications`` answers with ``{"exchange_id", "jws"}``: the compact JWS (Ed25519)
of the claims of :func:`services.verification.answer` plus ``iss``, ``aud`` (the client),
``iat`` and ``jti`` (the exchange id, the key of its audit entry).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from kernel.twid import today
from services.problems import Problem
from services.state import Service, exchange_of
from services.tokens import issue_access_token, sign_answer
from services.verification import VerificationRequest, answer, check

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _json(service: Service, request: Request, payload: object, status: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    """The JSON response, its exchange recorded first."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    service.record(request, status, body)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _oauth_error(status: int, error: str, detail: str) -> Problem:
    """A token-endpoint refusal: problem+json carrying RFC 6749 §5.2's ``error`` code too."""
    headers = {"WWW-Authenticate": 'Basic realm="lakehouse"'} if status == 401 else None
    return Problem(status, error.replace("_", "-"), detail, headers, {"error": error})


def _credentials(request: Request, form: dict[str, list[str]]) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic or the form (not both)."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _oauth_error(401, "invalid_client", "malformed Basic credentials") from None
        client_id, sep, secret = raw.partition(":")
        if not sep or "client_secret" in form:
            raise _oauth_error(401, "invalid_client", "malformed Basic credentials")
        return client_id, secret
    ids, secrets = form.get("client_id", []), form.get("client_secret", [])
    if len(ids) != 1 or len(secrets) != 1:
        raise _oauth_error(401, "invalid_client",
                           "client authentication required (HTTP Basic or client_id and "
                           "client_secret)")
    return ids[0], secrets[0]


def _grant(service: Service, request: Request, form: dict[str, list[str]]) -> Response:
    """Check the grant (in a worker thread: PBKDF2 takes tens of milliseconds)."""
    if form.get("grant_type") != ["client_credentials"]:
        raise _oauth_error(400, "unsupported_grant_type",
                           "grant_type must be client_credentials")
    client_id, secret = _credentials(request, form)
    client = service.cfg.registry.get(client_id)
    if client is not None:
        ex = exchange_of(request)
        ex.client, ex.agency = client.client_id, client.agency
        service.limit(client, bucket="token:")
    if client is None or not client.check_secret(secret):
        raise _oauth_error(401, "invalid_client", "unknown client or wrong secret")
    asked = form.get("scope", [" ".join(sorted(client.scopes))])[0].split()
    extra = sorted(set(asked) - client.scopes)
    if extra or not asked:
        raise _oauth_error(400, "invalid_scope", "scope not registered for this client: "
                           f"{' '.join(extra) or '(none asked)'}")
    scopes = frozenset(asked)
    token, expires_in = issue_access_token(service.cfg.keyring.current, client, scopes,
                                           issuer=service.cfg.issuer)
    exchange_of(request).details["scope"] = " ".join(sorted(scopes))
    return _json(service, request, {"access_token": token, "token_type": "Bearer",
                                    "expires_in": expires_in, "scope": " ".join(sorted(scopes))},
                 headers=NO_STORE)


@router.post("/oauth/token", tags=["authorization"],
             summary="An access token by client credentials (RFC 6749 §4.4)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": {
                     "type": "object", "required": ["grant_type"],
                     "properties": {"grant_type": {"type": "string",
                                                   "enum": ["client_credentials"]},
                                    "scope": {"type": "string"},
                                    "client_id": {"type": "string"},
                                    "client_secret": {"type": "string"}}}}}}})
async def token(request: Request) -> Response:
    """Issue a short-lived access token (``expires_in`` seconds) for the scopes asked."""
    service = _service(request)
    exchange_of(request)
    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        raise Problem(415, "unsupported-media-type",
                      "the body must be application/x-www-form-urlencoded")
    raw = await request.body()
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=8,
                        strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError):
        raise _oauth_error(400, "invalid_request", "the form is malformed") from None
    return await run_in_threadpool(_grant, service, request, form)


@router.get("/.well-known/jwks.json", tags=["authorization"],
            summary="The public keys of tokens and answers (RFC 7517)")
def jwks(request: Request) -> Response:
    """Every signing key in use (the current one and those being rotated out)."""
    body = json.dumps(_service(request).cfg.keyring.jwks()).encode()
    return Response(body, media_type="application/jwk-set+json",
                    headers={"Cache-Control": "public, max-age=300"})


class VerificationIn(BaseModel):
    """A verification request."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "id": "A123456789", "scheme": "labor", "date": "2026-11-30",
        "purpose": "SCHOLARSHIP", "consent": "MYDATA-2026-000123",
        "request_ref": "case-2026-0042"}]})

    id: str = Field(min_length=1, max_length=32,
                    description="national ID or resident certificate number (never echoed)")
    scheme: Literal["labor", "nhi", "farmer", "pension"]
    date: str = Field(min_length=10, max_length=10, description="the date asked about")
    purpose: str = Field(min_length=1, max_length=32,
                         description="a purpose code registered for the client")
    consent: str = Field(min_length=1, max_length=64, description="the consent reference")
    request_ref: str | None = Field(None, max_length=64,
                                    description="the agency's reference, echoed signed")


class VerificationOut(BaseModel):
    """A signed answer."""

    exchange_id: str
    jws: str = Field(description="compact JWS (EdDSA); verify with /.well-known/jwks.json")


def _verify(service: Service, request: Request, body: VerificationIn) -> bytes:
    """The answer's body (CPU only: a few hundred microseconds, run on the event loop)."""
    caller = service.caller(request)
    assert caller is not None
    ex = exchange_of(request)
    req = VerificationRequest(body.id, body.scheme, body.date, body.purpose, body.consent,
                              body.request_ref)
    ex.details["scope"] = f"verify:{body.scheme}"
    checked = check(req, caller.client, caller.scopes, today(), service.cfg.pseudonym_key)
    ex.details.update(purpose=checked.purpose, consent=checked.consent,
                      person_key=checked.person_key)
    claims = answer(checked, service.coverage, service.cfg.pseudonym_key)
    ex.details.update(dataset=claims["source"]["dataset"], version=claims["source"]["version"])
    claims.update(iss=service.cfg.issuer, aud=caller.client.client_id, iat=int(time.time()),
                  jti=ex.exchange_id)
    jws = sign_answer(service.cfg.keyring.current, claims)
    return json.dumps({"exchange_id": ex.exchange_id, "jws": jws},
                      separators=(",", ":")).encode("ascii")


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for refusals (problem+json)."""
    from services.problems import MEDIA_TYPE, TITLES

    return {s: {"description": TITLES[s], "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}
            for s in statuses}


PROBLEM_SCHEMA = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}}}


@router.post("/v1/verifications", tags=["e-verification"], response_model=VerificationOut,
             summary="Is this person insured on this date? (a signed answer)",
             responses=_problems(401, 403, 413, 422, 429, 503))
async def verifications(request: Request, body: VerificationIn) -> Response:
    """Whether the person is covered by the scheme on the date, since when, and the day the
    answer holds for, signed with the bureau's key (EdDSA; the keys are at
    /.well-known/jwks.json). The identifier is checked (check digit), hashed and never
    echoed; the exchange is recorded in the bureau's audit log before the answer leaves."""
    service = _service(request)
    answer_body = _verify(service, request, body)
    await service.record_async(request, 200, answer_body)
    return Response(answer_body, media_type="application/json")
