"""``lakehouse serve`` as an operator runs it: the installed console script in a new process,
``--demo`` on a lakehouse whose ``gold.coverage_periods`` was published with the demo key (as
``make demo`` publishes), called over HTTP as an agency calls it, audited with ``lakehouse
audit`` as the auditors do, and killed in the middle of a download.

One server process for the module (the machine has two cores). The tests run in file order:
the audit test lists the exchanges made so far (those of the verification test); the versions
test publishes versions 1 and 2 while requests run; the last test kills the server (SIGKILL)
and later tests would need it started again. The module's teardown stops it (SIGTERM) if it
still runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from deltalake import DeltaTable

from analytics import catalog
from masking.keys import PseudonymKey
from sandbox.demo import DEMO_KEY
from services.datasets import BOM
from services.tokens import ISSUER, SigningKey, TokenError, verify_answer
from tests.services.conftest import period_rows, person_id, publish, since

EXE = Path(sys.executable).with_name("lakehouse")
DEMO = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": DEMO_KEY})
LABOR = "taipei-labor-office"
AGENCY = "臺北市政府勞動局"
DATASET = "gold.person_coverage"
"""The dataset downloaded."""
ANSWERS = "gold.coverage_periods"
"""The dataset verifications answer from."""
V0, V1, V2 = date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)
FLAGS = {1: (True, True, False, False), 2: (False, True, True, False),
         3: (False, False, False, True)}
"""Person ``n``: (labor, nhi, farmer, pension) in version 0."""
NATIONAL_ID = re.compile(r"[A-Z][1289]\d{8}")
UNSET = ("LAKEHOUSE_PSEUDONYM_KEY", "LAKEHOUSE_SERVICE_", "LAKEHOUSE_ROLE", "LAKEHOUSE_USER",
         "LAKEHOUSE_DEBUG", "AIRFLOW_CONN_", "AIRFLOW_CTX_")
"""What the server's environment must not hold (prefixes): no key, registry or role given."""


def demo_rows(flags: dict[int, tuple[bool, bool, bool, bool]], snapshot: date) -> pa.Table:
    """``gold.coverage_periods`` rows of persons ``n`` (``person_id(n)``), keyed with the demo
    pseudonymisation key (see ``tests.services.conftest.period_rows``)."""
    return period_rows(flags, snapshot, key=DEMO)


@dataclass(frozen=True)
class Done:
    """A finished ``lakehouse`` process."""

    code: int
    out: str
    err: str


@dataclass
class Server:
    """The ``lakehouse serve --demo`` process, its lakehouse and its environment."""

    root: Path
    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes]
    logs: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def demo_dir(self) -> Path:
        return self.root / "system" / "services"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)

    def secret(self, client_id: str) -> str:
        return str(json.loads((self.demo_dir / "demo-secrets.json").read_text())[client_id])

    def token(self, client_id: str) -> httpx.Response:
        with self.client() as c:
            return c.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, self.secret(client_id)))

    def output(self, name: str) -> str:
        return (self.logs / name).read_text(encoding="utf-8")

    def lakehouse(self, *calls: tuple[tuple[str, ...], dict[str, str]]) -> list[Done]:
        return lakehouse(self.env, *calls)


def lakehouse(env: dict[str, str], *calls: tuple[tuple[str, ...], dict[str, str]]
              ) -> list[Done]:
    """Run ``lakehouse ARGS`` (each with its extra environment) at once, to their ends, in the
    order of ``calls``; one that does not end in two minutes is killed."""
    procs = [subprocess.Popen([str(EXE), *args], env={**env, **extra}, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
             for args, extra in calls]
    done = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        done.append(Done(proc.returncode, out, err))
    return done


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(UNSET)}
    env.update({"LAKEHOUSE_ROOT": str(root), "COLUMNS": "400", "PYTHONIOENCODING": "utf-8"})
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(server: Server, deadline: float) -> bool:
    """Whether the server answers ``GET /healthz`` before ``deadline`` (while it runs)."""
    while server.proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``lakehouse serve --demo`` on a lakehouse with version 0 published with the demo key,
    answering ``/healthz``; stopped with SIGTERM at the end of the module."""
    root = tmp_path_factory.mktemp("serve") / "lakehouse"
    logs = root.parent / "logs"
    logs.mkdir()
    publish(root, demo_rows(FLAGS, V0), V0, key_id=DEMO.key_id)
    env, port = _environment(root), _free_port()
    with (logs / "stdout").open("wb") as out, (logs / "stderr").open("wb") as err:
        proc = subprocess.Popen([str(EXE), "serve", "--demo", "--port", str(port)], env=env,
                                stdout=out, stderr=err)
    running = Server(root, env, port, proc, logs)
    if not _healthy(running, deadline=time.monotonic() + 60):
        proc.kill()
        proc.wait(timeout=30)
        pytest.fail(f"lakehouse serve did not start: {running.output('stderr')[-2000:]}")
    yield running
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert proc.wait(timeout=30) == -signal.SIGTERM


# ----------------------------------------------------------------------------- refusals
def test_without_demo_each_missing_secret_is_refused_naming_what_to_set(tmp_path: Path) -> None:
    """Without ``--demo`` nothing is filled in: with nothing set the registry is asked for, with
    a registry the signing key, with both the pseudonymisation key; each one line on standard
    error, exit status 2, nothing written under the root."""
    from services.clients import write_demo_registry

    registry = tmp_path / "clients.yaml"
    write_demo_registry(registry, iterations=1000)
    root = tmp_path / "lakehouse"
    base = {"LAKEHOUSE_SERVICE_CLIENTS": str(registry)}
    pem = {**base, "LAKEHOUSE_SERVICE_SIGNING_KEY": SigningKey.generate().to_pem().decode()}
    serve = ("serve", "--port", str(_free_port()))
    done = lakehouse(_environment(root), (serve, {}), (serve, base), (serve, pem))
    assert [(d.code, d.out) for d in done] == [(2, "")] * 3, done
    assert [d.err for d in done] == [
        "✗ serve: no client registry: set LAKEHOUSE_SERVICE_CLIENTS to the registry file\n",
        "✗ serve: no service signing key (LAKEHOUSE_SERVICE_SIGNING_KEY is not set and no "
        "Airflow connection lakehouse_service_signing_key holds one). Set "
        "LAKEHOUSE_SERVICE_SIGNING_KEY to an Ed25519 private key in PKCS#8 PEM (openssl genpkey "
        "-algorithm ed25519), and LAKEHOUSE_SERVICE_SIGNING_KEY_ID to its key id.\n",
        "✗ serve: refusing to answer verifications: no pseudonymisation key "
        "(LAKEHOUSE_PSEUDONYM_KEY is not set and no Airflow connection lakehouse_pseudonym_key "
        "holds one). Set it to the key gold.coverage_periods was published with (each published "
        "version records its key id).\n"]
    assert not root.exists()


@pytest.fixture(scope="module")
def on_a_taken_port(tmp_path_factory: pytest.TempPathFactory) -> tuple[Done, Path]:
    """``serve --demo`` on a port another socket listens on, over a lakehouse whose
    ``demo-secrets.json`` already exists with mode 0644 (copied, restored, an older release):
    the demo files are written, then the port cannot be bound."""
    root = tmp_path_factory.mktemp("taken-port") / "lakehouse"
    secrets = root / "system" / "services" / "demo-secrets.json"
    secrets.parent.mkdir(parents=True)
    secrets.write_text("{}", encoding="utf-8")
    secrets.chmod(0o644)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        serve = ("serve", "--demo", "--port", str(taken.getsockname()[1]))
        (done,) = lakehouse(_environment(root), (serve, {}))
    return done, secrets


def test_fresh_demo_secrets_are_never_left_readable_by_others(
        on_a_taken_port: tuple[Done, Path]) -> None:
    done, secrets = on_a_taken_port
    assert list(json.loads(secrets.read_text(encoding="utf-8"))) == [
        LABOR, "moe-schools", "mohw-research"], done
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600


def test_a_port_in_use_is_one_failure_line_and_no_success_line(
        on_a_taken_port: tuple[Done, Path]) -> None:
    done, _ = on_a_taken_port
    assert [line[:2] for line in done.out.splitlines()] == ["! "] * 3, done
    assert done.code == 1 and done.err.count("\n") == 1 and done.err.startswith("✗ serve: ")


# ----------------------------------------------------------------------------- demo mode
def test_demo_mode_says_what_it_filled_in_and_keeps_the_secrets_private(server: Server) -> None:
    """``--demo`` says, one line each, that it registered the demo clients, signs with the
    demo signing key and looks persons up with the demo pseudonymisation key, then where it
    serves; the three files are mode 0600, the secrets are in ``demo-secrets.json`` only
    (never in the registry nor the output); the JWKS publishes the demo signing key."""
    folder = server.demo_dir
    kid = SigningKey.from_pem((folder / "demo-signing-key.pem").read_bytes()).kid
    assert server.output("stdout").splitlines() == [
        f"! LAKEHOUSE_SERVICE_CLIENTS is not set: demo clients {LABOR}, moe-schools, "
        f"mohw-research registered in {folder}/demo-clients.yaml, their secrets (demo only) in "
        f"{folder}/demo-secrets.json",
        f"! LAKEHOUSE_SERVICE_SIGNING_KEY is not set: signing with the demo key {kid} "
        f"({folder}/demo-signing-key.pem; demo only)",
        f"! LAKEHOUSE_PSEUDONYM_KEY is not set: looking persons up with the demo key "
        f"{DEMO.key_id} (as make demo publishes; demo only)",
        f"✓ serving 3 client(s) on {server.url} (documentation: /docs) from {server.root}, "
        "1 worker(s)"]
    assert server.output("stderr") == ""
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {
        "demo-clients.yaml": 0o600, "demo-secrets.json": 0o600, "demo-signing-key.pem": 0o600}
    secrets = json.loads((folder / "demo-secrets.json").read_text(encoding="utf-8"))
    assert list(secrets) == [LABOR, "moe-schools", "mohw-research"]
    elsewhere = (folder / "demo-clients.yaml").read_text(encoding="utf-8") + \
        server.output("stdout")
    assert [len(s) for s in secrets.values()] == [43] * 3  # secrets.token_urlsafe(32)
    assert [c for c, s in secrets.items() if s in elsewhere] == []
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok", "coverage_version": 0}
        assert [k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]] == [kid]


ASKED = ((1, "LABOR_INSPECTION", "MYDATA-2025-000001"),
         (2, "EMPLOYMENT_SUBSIDY", "MYDATA-2025-000002"))
"""The persons the labor office asks about (labor insurance on 2025-02-15): insured, not."""


@dataclass(frozen=True)
class Asked:
    """The labor office's exchanges: its token, its two answers, the JWKS, and when."""

    token: httpx.Response
    answers: list[httpx.Response]
    jwks: dict[str, Any]
    started: int
    ended: int


@pytest.fixture(scope="module")
def asked(server: Server) -> Asked:
    started = int(time.time())
    token = server.token(LABOR)
    assert token.status_code == 200, token.text
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with server.client() as c:
        answers = [c.post("/v1/verifications", headers=bearer, json={
            "id": person_id(n), "scheme": "labor", "date": "2025-02-15", "purpose": purpose,
            "consent": consent, "request_ref": f"case-{n}"}) for n, purpose, consent in ASKED]
        jwks = c.get("/.well-known/jwks.json").json()
    return Asked(token, answers, jwks, started, int(time.time()))


def test_a_demo_client_verifies_and_checks_the_answers_offline(asked: Asked) -> None:
    """With its secret from ``demo-secrets.json`` the labor office gets a token for its two
    scopes and two signed answers (insured, not insured) that verify offline with the JWKS,
    addressed to it, from version 0; the identifier never comes back."""
    assert {k: v for k, v in asked.token.json().items() if k != "access_token"} == {
        "token_type": "Bearer", "expires_in": 300, "scope": "verify:labor verify:nhi"}
    for (n, purpose, consent), r in zip(ASKED, asked.answers, strict=True):
        assert r.status_code == 200, r.text
        doc = r.json()
        claims = verify_answer(asked.jwks, doc["jws"], audience=LABOR, issuer=ISSUER)
        assert asked.started <= claims.pop("iat") <= asked.ended
        assert claims == {
            "verification": {"scheme": "labor", "date": "2025-02-15", "insured": FLAGS[n][0],
                             "since": since(n, "labor").isoformat() if FLAGS[n][0] else None,
                             "as_of": V0.isoformat()},
            "source": {"dataset": ANSWERS, "version": 0, "snapshot_date": V0.isoformat()},
            "purpose": purpose,
            "consent": consent, "request_ref": f"case-{n}", "iss": ISSUER, "aud": LABOR,
            "jti": doc["exchange_id"]}
        assert person_id(n) not in r.text
        with pytest.raises(TokenError, match=r"^token audience invalid$"):
            verify_answer(asked.jwks, doc["jws"], audience="moe-schools")
    assert [FLAGS[n][0] for n, _, _ in ASKED] == [True, False]


def _sha256(r: httpx.Response) -> str:
    return hashlib.sha256(r.content).hexdigest()


def test_the_auditor_lists_exactly_those_exchanges_without_an_identifier(
        server: Server, asked: Asked) -> None:
    """``audit exchanges --json`` (auditor) lists the token and the two verifications, each
    with its client, endpoint, person_key, outcome, status and the digest of the response
    sent; ``--person-key`` keeps one; an analyst is refused, as is an identifier given for a
    person_key (never echoed); ``audit verify`` is ok. No identifier is in any output nor in
    any file of the audit folder."""
    keys = {n: DEMO.person_key(person_id(n)) for n, _, _ in ASKED}
    auditor = {"LAKEHOUSE_ROLE": "auditor", "LAKEHOUSE_USER": "auditor-serve-test"}
    lines, listed, one, analyst, malformed, verified = server.lakehouse(
        (("audit", "exchanges", "--client", LABOR), auditor),
        (("audit", "exchanges", "--json"), auditor),
        (("audit", "exchanges", "--json", "--person-key", keys[2]), auditor),
        (("audit", "exchanges", "--json"), {"LAKEHOUSE_ROLE": "analyst"}),
        (("audit", "exchanges", "--person-key", person_id(1)), auditor),
        (("audit", "verify"), auditor))
    assert (listed.code, listed.err) == (0, ""), listed
    entries = json.loads(listed.out)
    stamps = [e.pop("at") for e in entries]
    assert stamps == sorted(stamps) and all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", s) for s in stamps)
    assert re.fullmatch(r"[0-9a-f]{32}", entries[0]["exchange_id"])
    who = {"client": LABOR, "agency": AGENCY, "outcome": "answered", "status": 200}
    expected = [{"seq": 1, "exchange_id": entries[0]["exchange_id"], **who,
                 "endpoint": "POST /oauth/token", "scope": "verify:labor verify:nhi",
                 "response_sha256": _sha256(asked.token)}]
    for i, ((n, purpose, consent), r) in enumerate(zip(ASKED, asked.answers, strict=True)):
        expected.append({"seq": 2 + i, "exchange_id": r.json()["exchange_id"], **who,
                         "endpoint": "POST /v1/verifications", "scope": "verify:labor",
                         "purpose": purpose, "consent": consent, "person_key": keys[n],
                         "dataset": ANSWERS, "version": 0, "response_sha256": _sha256(r)})
    assert entries == expected
    day_time = [s[:19].replace("T", " ") for s in stamps]
    assert (lines.code, lines.err, lines.out.splitlines()) == (0, "", [
        f"{day_time[0]}  {LABOR}  verify:labor verify:nhi  -  -  answered 200",
        *(f"{day_time[1 + i]}  {LABOR}  verify:labor  {purpose}/{consent}  "
          f"person_key {keys[n][:12]}…  answered 200" for i, (n, purpose, consent) in
          enumerate(ASKED)),
        "3 exchange(s)"])
    assert (one.code, one.err) == (0, "") and [
        {k: v for k, v in e.items() if k != "at"} for e in json.loads(one.out)] == [expected[2]]
    assert (analyst.code, analyst.out, analyst.err) == (2, "", "✗ refused: role analyst may "
                                                        "not list the exchanges (roles: "
                                                        "auditor, steward)\n")
    assert (malformed.code, malformed.out, malformed.err) == (
        2, "", "✗ audit exchanges: --person-key must be 64 lowercase hex digits (a person_key, "
        "never an identifier)\n")
    assert (verified.code, verified.out, verified.err) == (0, "audit log ok: 3 entries\n", "")
    audit = sorted(p for p in (server.root / "system" / "audit").rglob("*") if p.is_file())
    assert [p.name for p in audit if p.suffix == ".jsonl"] == sorted(
        {f"audit-{s[:10]}.jsonl" for s in stamps})
    texts = [p.read_bytes().decode("utf-8", "replace") for p in audit] + [
        t for d in (lines, listed, one, analyst, malformed, verified) for t in (d.out, d.err)]
    assert [i for i, t in enumerate(texts) if NATIONAL_ID.search(t)] == []


# ----------------------------------------------------------------------------- new versions
VERSIONS = {0: (V0, False), 1: (V1, True), 2: (V2, False)}
"""Per version: its snapshot date and whether person 3 is in labor insurance."""


def _ask_until(server: Server, token: str, stop: threading.Event, out: list[httpx.Response]
               ) -> None:
    """Ask about person 3 (labor, on a date after every snapshot) until ``stop``, about 20 a
    second (the labor office's rate limit is 50)."""
    with server.client() as c:
        while not stop.is_set():
            out.append(c.post("/v1/verifications", headers={"Authorization": f"Bearer {token}"},
                              json={"id": person_id(3), "scheme": "labor", "date": "2025-04-15",
                                    "purpose": "LABOR_INSPECTION",
                                    "consent": "MYDATA-2025-000003"}))
            stop.wait(0.05)


def _wait(test: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_versions_published_while_requests_run_are_answered_in_order(server: Server) -> None:
    """Versions 1 and 2 published while two threads of the labor office keep asking: every
    request is answered 200, from version 0, 1 or 2 with that version's snapshot and flag
    (never a mix), each thread's answers never go back to an older version, and the last
    answers (those sent once ``/healthz`` says version 2) come from version 2: the service
    follows the table without a restart."""
    token = server.token(LABOR).json()["access_token"]
    stop = threading.Event()
    seen: list[list[httpx.Response]] = [[], []]
    threads = [threading.Thread(target=_ask_until, args=(server, token, stop, out))
               for out in seen]
    for t in threads:
        t.start()

    def answered_each(n: int) -> bool:
        return min(len(s) for s in seen) >= n

    def serves(version: int) -> bool:
        with server.client() as c:
            return bool(c.get("/healthz").json()["coverage_version"] == version)

    try:
        for version in (1, 2):
            snapshot, insured = VERSIONS[version]
            _wait(partial(answered_each, 5 * version), "answers")
            rows = demo_rows({**FLAGS, 3: (insured, False, False, True)}, snapshot)
            publish(server.root, rows, snapshot, key_id=DEMO.key_id)
            _wait(partial(serves, version), f"version {version} served")
        counts = [len(s) for s in seen]
        _wait(lambda: all(len(s) >= n + 5 for s, n in zip(seen, counts, strict=True)),
              "answers after version 2")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    with server.client() as c:
        jwks = c.get("/.well-known/jwks.json").json()
    answered: list[list[int]] = []
    for responses in seen:
        assert {r.status_code for r in responses} == {200}, {r.text for r in responses}
        versions = []
        for r in responses:
            claims = verify_answer(jwks, r.json()["jws"], audience=LABOR, issuer=ISSUER)
            version = claims["source"]["version"]
            snapshot, insured = VERSIONS[version]
            assert (claims["verification"]["as_of"], claims["verification"]["insured"]) == (
                snapshot.isoformat(), insured), claims
            versions.append(version)
        answered.append(versions)
    assert {v for versions in answered for v in versions} == {0, 1, 2}
    assert [versions == sorted(versions) for versions in answered] == [True, True]
    # Once the service says it serves version 2, every request sent after the one then in
    # flight is answered from version 2.
    after = [versions[n + 1:] for versions, n in zip(answered, counts, strict=True)]
    assert [set(versions) for versions in after] == [{2}, {2}], answered


# ----------------------------------------------------------------------------- a crash (last)
def big_rows(n: int, snapshot: date) -> pa.Table:
    """``n`` persons with made-up person keys (64 hex digits) and varied flags."""
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    return pa.table({
        "person_key": keys,
        **{name: pa.array([(i >> bit) & 1 == 1 for i in range(n)], pa.bool_()) for bit, name in
           enumerate(("in_labor_insurance", "in_nhi", "is_farmer", "pension_contrib_last_12m"))},
        "snapshot_date": pa.array([snapshot] * n, pa.date32()),
    })


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")
            if p.is_file()}


def test_a_server_killed_during_a_download_truncates_it_and_changes_nothing(
        server: Server) -> None:
    """A 300,000-row version downloaded as CSV by the ministry of education (``moe-schools``,
    scope ``datasets:gold.person_coverage``); after the first chunk the server is killed
    (SIGKILL): the client sees a truncated chunked transfer (``RemoteProtocolError``), every
    byte it got is the version's own, and the Delta table is as it was (same version, rows and
    files: a download publishes nothing). The download was recorded before its first byte and
    the audit log still verifies. Last of the module: the server is gone."""
    snapshot = date(2025, 4, 30)
    publish(server.root, big_rows(300_000, snapshot), snapshot, key_id=DEMO.key_id)
    folder = Path(catalog.table_uri(str(server.root), "gold", "person_coverage"))
    table = DeltaTable(str(folder))
    version, rows, files = table.version(), table.to_pyarrow_table(), _files(folder)
    assert (rows.num_rows, len(table.file_uris())) == (300_000, 1)
    whole = io.BytesIO()
    pa_csv.write_csv(rows, whole)
    expected = BOM + whole.getvalue()
    token = server.token("moe-schools").json()["access_token"]
    got = bytearray()
    with server.client() as c, c.stream(
            "GET", f"/v1/datasets/{DATASET}/versions/{version}", params={"format": "csv"},
            headers={"Authorization": f"Bearer {token}"}) as r:
        assert (r.status_code, r.headers["transfer-encoding"]) == (200, "chunked")
        etag = r.headers["etag"]
        chunks = r.iter_raw()
        got += next(chunks)
        server.proc.kill()
        assert server.proc.wait(timeout=30) == -signal.SIGKILL
        with pytest.raises(httpx.TransportError) as cut:
            for chunk in chunks:
                got += chunk
    assert type(cut.value) is httpx.RemoteProtocolError
    assert 0 < len(got) < len(expected) and bytes(got) == expected[:len(got)]
    after = DeltaTable(str(folder))
    assert (after.version(), _files(folder)) == (version, files)
    assert after.to_pyarrow_table().equals(rows)

    auditor = {"LAKEHOUSE_ROLE": "auditor"}
    listed, verified = server.lakehouse(
        (("audit", "exchanges", "--json", "--client", "moe-schools"), auditor),
        (("audit", "verify"), auditor))
    entries = json.loads(listed.out)
    assert [(e["endpoint"], e["outcome"], e["status"]) for e in entries] == [
        ("POST /oauth/token", "answered", 200),
        ("GET /v1/datasets/{name}/versions/{version}", "answered", 200)]
    assert {k: entries[1][k] for k in ("dataset", "version", "format", "etag", "scope")} == {
        "dataset": DATASET, "version": version, "format": "csv", "etag": etag.strip('"'),
        "scope": "datasets:gold.person_coverage"}
    lines = sum(len(p.read_text(encoding="utf-8").splitlines())
                for p in (server.root / "system" / "audit").glob("audit-*.jsonl"))
    assert (verified.code, verified.out) == (0, f"audit log ok: {lines} entries\n"), verified
