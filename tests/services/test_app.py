"""The data services over HTTP: tokens, e-verification, refusals, the exchange record.

Each test calls the real application on uvicorn (``conftest.service``) and checks the status,
the problem document and, where it matters, that nothing the caller sent comes back.
"""

from __future__ import annotations

import json
import time

import pytest

from audit.log import entries, verify
from kernel.layout import Layout
from services.exchanges import exchanges
from services.tokens import SigningKey, issue_access_token, verify_answer
from tests.services.conftest import PAST, PSEUDONYM, SECRET, SNAPSHOT, Running, person_id, since

PROBLEM = "application/problem+json"


def ask(service: Running, token: str | None, **body: object) -> tuple[int, dict]:
    request = {"id": person_id(1), "scheme": "labor", "date": "2026-12-01",
               "purpose": "LABOR_INSPECTION", "consent": "MYDATA-2026-000123", **body}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with service.client() as c:
        r = c.post("/v1/verifications", json=request, headers=headers)
    doc = r.json()
    if r.status_code >= 400:
        assert r.headers["content-type"] == PROBLEM
    return r.status_code, doc


def claims_of(service: Running, doc: dict) -> dict:
    """The answer as a receiving office checks it: offline, with the published JWKS only."""
    with service.client() as c:
        jwks = json.loads(c.get("/.well-known/jwks.json").text)
    return verify_answer(jwks, doc["jws"], audience="labor-office")


def test_a_token_by_client_credentials_carries_the_scopes_asked(service: Running) -> None:
    with service.client() as c:
        r = c.post("/oauth/token", data={"grant_type": "client_credentials",
                                         "scope": "verify:labor"}, auth=("labor-office", SECRET))
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        doc = r.json()
        assert (doc["token_type"], doc["expires_in"], doc["scope"]) == ("Bearer", 300,
                                                                         "verify:labor")
        r = c.post("/oauth/token", data={"grant_type": "client_credentials",
                                         "client_id": "labor-office", "client_secret": SECRET})
        assert r.json()["scope"] == "verify:labor verify:nhi"


@pytest.mark.parametrize(("form", "auth", "status", "error", "detail"), [
    ({"grant_type": "client_credentials"}, ("labor-office", "not-the-secret-7f3a"), 401,
     "invalid_client", "unknown client or wrong secret"),
    ({"grant_type": "client_credentials"}, ("nobody", SECRET), 401, "invalid_client",
     "unknown client or wrong secret"),
    ({"grant_type": "password"}, ("labor-office", SECRET), 400, "unsupported_grant_type",
     "grant_type must be client_credentials"),
    ({"grant_type": "client_credentials", "scope": "verify:labor verify:farmer"},
     ("labor-office", SECRET), 400, "invalid_scope",
     "scope not registered for this client: verify:farmer"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client",
     "client authentication required (HTTP Basic or client_id and client_secret)"),
])
def test_the_token_endpoint_refuses_precisely(service: Running, form: dict, auth: tuple | None,
                                              status: int, error: str, detail: str) -> None:
    with service.client() as c:
        r = c.post("/oauth/token", data=form, auth=auth)
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    doc = r.json()
    assert (doc["error"], doc["detail"], doc["status"]) == (error, detail, status)
    assert "not-the-secret-7f3a" not in r.text and SECRET not in r.text


def test_an_insured_person_gets_a_signed_answer_checkable_offline(service: Running) -> None:
    token = service.token()
    status, doc = ask(service, token, request_ref="case-42")
    assert status == 200
    claims = claims_of(service, doc)
    assert claims["verification"] == {"scheme": "labor", "date": "2026-12-01", "insured": True,
                                      "since": since(1, "labor").isoformat(),
                                      "as_of": SNAPSHOT.isoformat()}  # the date is later
    assert claims["source"] == {"dataset": "gold.coverage_periods", "version": 0,
                                "snapshot_date": SNAPSHOT.isoformat()}
    assert (claims["aud"], claims["jti"], claims["request_ref"]) == ("labor-office",
                                                                     doc["exchange_id"], "case-42")
    assert (claims["purpose"], claims["consent"]) == ("LABOR_INSPECTION", "MYDATA-2026-000123")
    assert person_id(1) not in json.dumps(claims)


@pytest.mark.parametrize(("n", "scheme", "insured"), [
    (1, "nhi", True), (2, "labor", False), (2, "nhi", True), (4, "labor", True),
    (4, "nhi", False), (999, "labor", False), (999, "nhi", False),
])
def test_the_answer_is_the_published_flag_and_unknown_is_not_insured(
        service: Running, n: int, scheme: str, insured: bool) -> None:
    status, doc = ask(service, service.token(), id=person_id(n), scheme=scheme)
    assert status == 200
    assert claims_of(service, doc)["verification"]["insured"] is insured


def test_a_past_period_answers_a_past_date_with_its_start(service: Running) -> None:
    """Person 2 is not in labor insurance now but was in 2015: a date then is answered from the
    same version, with the period's first day; a date between periods is not insured."""
    answers = {}
    for day in ("2015-06-30", "2016-01-01", "2026-11-29"):
        status, doc = ask(service, service.token(), id=person_id(2), date=day)
        assert status == 200
        v = claims_of(service, doc)["verification"]
        answers[day] = (v["insured"], v["since"], v["as_of"])
    assert answers == {"2015-06-30": (True, PAST[0].isoformat(), "2015-06-30"),
                       "2016-01-01": (False, None, "2016-01-01"),   # the end is exclusive
                       "2026-11-29": (False, None, "2026-11-29")}


def test_full_width_and_lower_case_forms_find_the_same_person(service: Running) -> None:
    written = person_id(4).lower().translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    status, doc = ask(service, service.token(), id=f" {written} ")
    assert status == 200 and claims_of(service, doc)["verification"]["insured"] is True


@pytest.mark.parametrize(("body", "status", "kind", "detail"), [
    ({"id": "A123456788"}, 422, "invalid-request",
     "id is not a national ID or resident certificate number with a valid check digit"),
    ({"scheme": "farmer"}, 403, "missing-scope",
     "the token does not hold the scope verify:farmer"),
    ({"purpose": "MARKETING"}, 403, "purpose-not-allowed",
     "the purpose is not registered for this client (registered: LABOR_INSPECTION)"),
    ({"date": "2999-01-01"}, 422, "invalid-request", "date must not be in the future"),
    ({"date": "2026-13-01"}, 422, "invalid-request", "date must be an ISO date (YYYY-MM-DD)"),
    ({"consent": "A123456789"}, 422, "invalid-request",
     "consent must be a consent reference of 4 to 64 letters, digits and . _ : / - (not a "
     "personal value)"),
    ({"consent": "'; DROP TABLE x; --"}, 422, "invalid-request",
     "consent must be a consent reference of 4 to 64 letters, digits and . _ : / - (not a "
     "personal value)"),
    ({"scheme": "../../etc/passwd"}, 422, "invalid-request",
     "invalid request: scheme: Input should be 'labor'"),
    ({"extra": "A123456789"}, 422, "invalid-request",
     "invalid request: extra: Extra inputs are not permitted"),
])
def test_refusals_name_the_field_never_the_value(service: Running, body: dict, status: int,
                                                 kind: str, detail: str) -> None:
    code, doc = ask(service, service.token(), **body)
    assert (code, doc["type"].rsplit("/", 1)[1], doc["detail"]) == (status, kind, detail)
    sent = [v for v in body.values() if isinstance(v, str)]
    assert not any(v in json.dumps(doc) for v in sent if len(v) > 6)


def test_malformed_and_oversize_bodies_are_refused(service: Running) -> None:
    token = service.token()
    with service.client() as c:
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        r = c.post("/v1/verifications", content=b'{"id": "A1234', headers=h)
        assert (r.status_code, r.json()["detail"]) == (422, "the body is not valid JSON")
        r = c.post("/v1/verifications", content=b"x" * 20_000, headers=h)
        assert (r.status_code, r.json()["detail"]) == (413, "the body exceeds 16384 bytes")
        assert r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(("token", "detail"), [
    (None, "a bearer token is required (POST /oauth/token)"),
    ("garbage", "token malformed"),
])
def test_no_or_a_malformed_token_is_a_401(service: Running, token: str | None,
                                          detail: str) -> None:
    status, doc = ask(service, token)
    assert (status, doc["detail"]) == (401, detail)


def test_forged_expired_and_escalated_tokens_are_refused(service: Running) -> None:
    client = service.cfg.registry.get("labor-office")
    assert client is not None
    current = service.cfg.keyring.current
    forged = SigningKey.generate(kid=current.kid)
    token, _ = issue_access_token(forged, client, frozenset({"verify:labor"}))
    assert ask(service, token)[1]["detail"] == "token signature invalid"
    old, _ = issue_access_token(current, client, frozenset({"verify:labor"}),
                                now=time.time() - 3600)
    assert ask(service, old)[1]["detail"] == "token expired"
    nhi_only = service.token(scope="verify:nhi")
    status, doc = ask(service, nhi_only)
    assert (status, doc["detail"]) == (403, "the token does not hold the scope verify:labor")


def test_past_the_rate_limit_a_429_says_when_to_retry(service: Running) -> None:
    token = service.token("slow")
    codes = []
    for _ in range(4):
        codes.append(ask(service, token)[0])
    assert codes[:2] == [200, 200] and codes[2] == 429
    with service.client() as c:
        r = c.post("/v1/verifications", headers={"Authorization": f"Bearer {token}"},
                   json={"id": person_id(1), "scheme": "labor", "date": "2026-12-01",
                         "purpose": "LABOR_INSPECTION", "consent": "MYDATA-1"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_every_exchange_is_audited_with_the_person_key_never_the_id(service: Running) -> None:
    token = service.token()
    status, doc = ask(service, token, id=person_id(2), scheme="nhi")
    assert status == 200
    folder = Layout(str(service.root)).audit_dir
    key = PSEUDONYM.person_key(person_id(2))
    mine = [e for e in exchanges(folder, person_key=key)
            if e.details["exchange_id"] == doc["exchange_id"]]
    assert len(mine) == 1
    d = mine[0].details
    assert (d["client"], d["agency"], d["endpoint"], d["scope"], d["purpose"], d["consent"],
            d["outcome"], d["status"], d["dataset"], d["version"]) == (
        "labor-office", "臺北市政府勞動局", "POST /v1/verifications", "verify:nhi",
        "LABOR_INSPECTION", "MYDATA-2026-000123", "answered", 200, "gold.coverage_periods", 0)
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    import hashlib
    assert d["response_sha256"] == hashlib.sha256(body).hexdigest()
    log_text = "".join(json.dumps(e.to_dict()) for e in entries(folder))
    assert person_id(2) not in log_text and person_id(1) not in log_text
    assert verify(folder).ok


def test_refusals_are_audited_too(service: Running) -> None:
    token = service.token()
    ask(service, token, scheme="farmer")
    folder = Layout(str(service.root)).audit_dir
    last = [e for e in exchanges(folder, client="labor-office") if e.details["status"] == 403][-1]
    assert (last.details["outcome"], last.details["reason"]) == (
        "refused", "the token does not hold the scope verify:farmer")


def test_the_documentation_is_served_without_a_cdn(service: Running) -> None:
    with service.client() as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "/static-docs/swagger-ui-bundle.js" in page.text
        assert "cdn" not in page.text.lower()
        assert c.get("/static-docs/swagger-ui-bundle.js").status_code == 200
        spec = c.get("/openapi.json").json()
    assert {"/oauth/token", "/.well-known/jwks.json", "/v1/verifications", "/v1/datasets",
            "/v1/datasets/{name}", "/v1/datasets/{name}/versions/{version}"} <= set(spec["paths"])


def test_the_readme_client_example_runs_as_written(service: Running) -> None:
    """The README's Python example (token, verification, offline check with PyJWT) against the
    running service: only the address, the client and its secret are this test's."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("import httpx, jwt")
    code = readme[start:readme.index("```", start)]
    code = (code.replace('"http://127.0.0.1:8400"', repr(service.url))
            .replace('secret = "..."', f"secret = {SECRET!r}")
            .replace('"taipei-labor-office"', '"labor-office"')
            .replace('"A123456789"', repr(person_id(1)))
            .replace("print(claims", "result = (claims"))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["result"] == {"scheme": "labor", "date": "2026-12-01", "insured": True,
                               "since": since(1, "labor").isoformat(),
                               "as_of": SNAPSHOT.isoformat()}


def test_a_token_for_another_audience_or_an_answer_used_as_a_token_is_refused(
        service: Running) -> None:
    import jwt

    key = service.cfg.keyring.current
    now = int(time.time())
    claims = {"iss": service.cfg.issuer, "sub": "labor-office", "client_id": "labor-office",
              "aud": "another-service", "scope": "verify:labor", "iat": now, "nbf": now,
              "exp": now + 300, "jti": "x" * 32}
    foreign = jwt.encode(claims, key.private_key, algorithm="EdDSA",
                         headers={"typ": "at+jwt", "kid": key.kid})
    assert ask(service, foreign)[1]["detail"] == "token audience invalid"
    status, doc = ask(service, service.token())
    assert status == 200
    assert ask(service, doc["jws"])[1]["detail"] == "token type invalid"


HOSTILE = ["' OR '1'='1", "1; DROP TABLE audit; --", "../../../../etc/passwd",
           "..\\\\..\\\\windows\\\\win.ini", "%00", "${jndi:ldap://x/a}", "<script>x</script>"]


@pytest.mark.parametrize("field", ["id", "scheme", "date", "purpose", "consent", "request_ref"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_in_every_field_are_refused_without_echo(
        service: Running, field: str, value: str) -> None:
    status, doc = ask(service, service.token(), **{field: value})
    assert status in (403, 422), doc
    assert value not in json.dumps(doc, ensure_ascii=False)
    assert doc["type"].rsplit("/", 1)[1] in ("invalid-request", "purpose-not-allowed")


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_in_dataset_paths_are_refused_without_echo(
        service: Running, value: str) -> None:
    from urllib.parse import quote

    token = service.token("research")
    with service.client() as c:
        for path in (f"/v1/datasets/{quote(value, safe='')}",
                     f"/v1/datasets/gold.person_coverage/versions/{quote(value, safe='')}",
                     f"/v1/datasets/gold.person_coverage/versions/0?format={quote(value)}"):
            r = c.get(path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code in (404, 422), (path, r.status_code)
            assert r.headers["content-type"] == PROBLEM
            assert value not in r.text


def test_today_in_taiwan_is_not_in_the_future(service: Running) -> None:
    """The bureau's day is Taiwan's: from 16:00 UTC, Taiwan's date is UTC's tomorrow, and a
    verification for that day (the demo's snapshot date) must be answered."""
    from kernel.twid import today

    status, doc = ask(service, service.token(), date=today().isoformat())
    assert status == 200, doc
    assert claims_of(service, doc)["verification"]["as_of"] == SNAPSHOT.isoformat()
