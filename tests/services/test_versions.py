"""A new published version of gold.coverage_periods is answered from without a restart and
without a failed request; a version published with another key is refused rather than answered
wrongly."""

from __future__ import annotations

import threading
from datetime import date

from services.tokens import verify_answer
from tests.services.conftest import FLAGS, Running, period_rows, person_id, publish, since


def _ask(c: object, token: str, n: int, on: str) -> tuple[int, dict]:
    r = c.post("/v1/verifications", headers={"Authorization": f"Bearer {token}"},  # type: ignore[attr-defined]
               json={"id": person_id(n), "scheme": "labor", "date": on,
                     "purpose": "LABOR_INSPECTION", "consent": "MYDATA-2026-000123"})
    return r.status_code, r.json()


def _claims(service: Running, doc: dict) -> dict:
    with service.client() as c:
        jwks = c.get("/.well-known/jwks.json").json()
    return verify_answer(jwks, doc["jws"], audience="labor-office")


def test_a_new_version_is_picked_up_while_requests_run(service: Running) -> None:
    token = service.token()
    statuses: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        with service.client() as c:
            while not stop.is_set():
                statuses.append(_ask(c, token, 2, "2026-12-03")[0])

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    changed = {**FLAGS, 2: (True, True, True, False)}
    publish(service.root, period_rows(changed, date(2026, 12, 2)), date(2026, 12, 2))
    with service.client() as c:
        for _ in range(200):
            code, doc = _ask(c, token, 2, "2026-12-03")
            if _claims(service, doc)["source"]["version"] == 1:
                break
            stop.wait(0.05)
    stop.set()
    for t in threads:
        t.join()
    claims = _claims(service, doc)
    assert (code, claims["source"]["version"], claims["verification"]["insured"],
            claims["verification"]["as_of"]) == (200, 1, True, "2026-12-02")
    assert len(statuses) > 10 and set(statuses) == {200}

    assert claims["verification"]["since"] == since(2, "labor").isoformat()


def test_a_version_published_with_another_key_is_not_answered(service: Running) -> None:
    publish(service.root, period_rows(FLAGS, date(2026, 12, 3)), date(2026, 12, 3),
            key_id="k-another-key")
    assert service.cfg.pseudonym_key.key_id != "k-another-key"
    token = service.token()
    with service.client() as c:
        for _ in range(100):
            code, doc = _ask(c, token, 1, "2026-12-04")
            if code != 200:
                break
            threading.Event().wait(0.05)
    assert (code, doc["type"].rsplit("/", 1)[1]) == (503, "key-mismatch")
    held = service.cfg.pseudonym_key.key_id
    assert doc["detail"] == ("gold.coverage_periods version 2 was published with key id "
                             f"k-another-key; this service holds {held}")
