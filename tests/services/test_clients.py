"""The client registry: secret hashes, the YAML format and each of its refusals, the demo."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.clients import (
    DEMO_CLIENTS,
    REGISTRY_ENV,
    VERIFY_SCHEMES,
    Client,
    Registry,
    RegistryError,
    hash_secret,
    is_purpose,
    is_scope,
    load_registry,
    write_demo_registry,
)

FAST = 1_000
"""PBKDF2 iterations in the tests (production: 100,000)."""
SALT = b"0123456789abcdef"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _client(secret_hash: str) -> Client:
    return Client(client_id="c", agency="A", secret_hash=secret_hash,
                  scopes=frozenset({"verify:labor"}), purposes=frozenset({"AUDIT"}),
                  rate_limit=1.0, burst=2)


def test_constants() -> None:
    assert VERIFY_SCHEMES == ("labor", "nhi", "farmer", "pension")
    assert REGISTRY_ENV == "LAKEHOUSE_SERVICE_CLIENTS"


def test_hash_secret_is_pbkdf2_sha256_in_its_published_form() -> None:
    digest = hashlib.pbkdf2_hmac("sha256", "s3cret-秘密".encode(), SALT, FAST)
    assert hash_secret("s3cret-秘密", iterations=FAST, salt=SALT) == (
        f"pbkdf2-sha256$1000$MDEyMzQ1Njc4OWFiY2RlZg${_b64(digest)}")
    one, two = hash_secret("x", iterations=FAST), hash_secret("x", iterations=FAST)
    assert one != two  # a fresh 16-byte salt each time
    assert len(base64.urlsafe_b64decode(one.split("$")[2] + "==")) == 16
    assert hash_secret("x").split("$")[1] == "100000"


def test_hash_secret_refuses_an_empty_secret_or_salt_and_no_iterations() -> None:
    with pytest.raises(ValueError, match=r"^refusing to hash an empty secret$"):
        hash_secret("")
    with pytest.raises(ValueError, match=r"^iterations must be from 1 to 10000000, not 0$"):
        hash_secret("x", iterations=0)
    with pytest.raises(ValueError, match=r"^iterations must be from 1 to 10000000, not 10000001$"):
        hash_secret("x", iterations=10_000_001)
    with pytest.raises(ValueError, match=r"^the salt must not be empty$"):
        hash_secret("x", salt=b"")


def test_check_secret_right_wrong_and_malformed() -> None:
    client = _client(hash_secret("right", iterations=FAST))
    assert client.check_secret("right") is True
    assert client.check_secret("wrong") is False
    assert client.check_secret("right ") is False
    assert client.check_secret("") is False
    good = hash_secret("right", iterations=FAST, salt=SALT)
    scheme, iterations, salt, digest = good.split("$")
    malformed = [
        "", "right", f"pbkdf2-sha1${iterations}${salt}${digest}",
        f"{scheme}${salt}${digest}", f"{scheme}$x{iterations}${salt}${digest}",
        f"{scheme}$0${salt}${digest}", f"{scheme}$-5${salt}${digest}",
        f"{scheme}$01000${salt}${digest}", f"{scheme}$10000001${salt}${digest}",
        f"{scheme}${iterations}${salt}+/${digest}", f"{scheme}${iterations}${salt}${digest}=",
        f"{scheme}${iterations}${salt}${digest[:-4]}", f"{scheme}${iterations}$${digest}",
        f"{good}$extra",
    ]
    for bad in malformed:
        assert _client(bad).check_secret("right") is False, bad
    assert _client(good).check_secret("right") is True


def test_the_hash_never_shows_in_a_client_repr() -> None:
    secret_hash = hash_secret("right", iterations=FAST, salt=SALT)
    client = _client(secret_hash)
    assert repr(client) == (
        "Client(client_id='c', agency='A', scopes=frozenset({'verify:labor'}), "
        "purposes=frozenset({'AUDIT'}), rate_limit=1.0, burst=2)")
    assert secret_hash.split("$")[3] not in str(client)


def test_scope_and_purpose_syntax() -> None:
    for scope in ("verify:labor", "verify:nhi", "verify:farmer", "verify:pension",
                  "datasets:gold.person_coverage", "datasets:_z.n_1"):
        assert is_scope(scope), scope
    for scope in ("verify:", "verify:Labor", "verify:health", "datasets:gold",
                  "datasets:Gold.x", "datasets:gold.1x", "datasets:gold.x.y", "gold.x",
                  "datasets:gold.x ", "verify:labor\n", ""):
        assert not is_scope(scope), scope
    for purpose in ("SCHOLARSHIP", "AB", "A1_B", "A" + "B" * 31):
        assert is_purpose(purpose), purpose
    for purpose in ("A", "scholarship", "1AB", "_AB", "A-B", "A" + "B" * 32, "AB\n"):
        assert not is_purpose(purpose), purpose


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "client_id": "moe-schools", "agency": "教育部",
        "secret_hash": hash_secret("s", iterations=FAST, salt=SALT),
        "scopes": ["verify:labor", "datasets:gold.person_coverage"],
        "purposes": ["SCHOLARSHIP"], "rate_limit": 50, "burst": 100}
    for key, value in changes.items():
        if value is ...:
            del entry[key]
        else:
            entry[key] = value
    return entry


def _write(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"clients": list(entries)}, allow_unicode=True),
                    encoding="utf-8")
    return path


def test_a_registry_round_trip(tmp_path: Path) -> None:
    path = _write(tmp_path / "clients.yaml", _entry(),
                  _entry(client_id="labor.tp_01", agency="臺北市政府勞動局", scopes=["verify:nhi"],
                         purposes=["LABOR_INSPECTION", "AUDIT"], rate_limit=2.5, burst=...))
    registry = load_registry(str(path))
    assert len(registry) == 2
    moe = registry.get("moe-schools")
    assert moe == Client(
        client_id="moe-schools", agency="教育部",
        secret_hash=hash_secret("s", iterations=FAST, salt=SALT),
        scopes=frozenset({"verify:labor", "datasets:gold.person_coverage"}),
        purposes=frozenset({"SCHOLARSHIP"}), rate_limit=50.0, burst=100)
    assert moe is not None and moe.check_secret("s") and not moe.check_secret("t")
    labor = registry.get("labor.tp_01")
    assert labor is not None and (labor.rate_limit, labor.burst) == (2.5, 5)
    assert registry.clients == (moe, labor)
    assert registry.get("nobody") is None


@pytest.mark.parametrize(("rate", "burst"), [(50, 100), (2.5, 5), (0.1, 1), (1, 2)])
def test_the_default_burst_is_twice_the_rate_rounded_up(tmp_path: Path, rate: float,
                                                        burst: int) -> None:
    path = _write(tmp_path / "c.yaml", _entry(rate_limit=rate, burst=...))
    client = load_registry(path).get("moe-schools")
    assert client is not None and client.burst == burst


@pytest.mark.parametrize(("entry", "problem"), [
    (_entry(secret="hunter2"), "client moe-schools: unknown key 'secret'"),
    (_entry(scope="x", extra=1), "client moe-schools: unknown keys 'extra', 'scope'"),
    (_entry(agency=...), "client moe-schools: missing agency"),
    (_entry(scopes=..., purposes=...), "client moe-schools: missing scopes, purposes"),
    (_entry(client_id=...), "client #1: missing client_id"),
    (_entry(client_id="bad id"), "client #1: client_id: must be 1 to 64 letters, digits, '.', "
                                 "'_' or '-' (a letter or digit first)"),
    (_entry(client_id=7), "client #1: client_id: must be 1 to 64 letters, digits, '.', '_' or "
                          "'-' (a letter or digit first)"),
    (_entry(agency=" "), "client moe-schools: agency: must be a non-empty string"),
    (_entry(secret_hash="hunter2"), "client moe-schools: secret_hash: not a pbkdf2-sha256 "
                                    "hash (pbkdf2-sha256$<iterations>$<salt>$<digest>)"),
    (_entry(scopes=["verify:health"]), "client moe-schools: scopes: 'verify:health' is not a "
                                       "scope (verify:<labor|nhi|farmer|pension> or "
                                       "datasets:<zone>.<name>)"),
    (_entry(scopes=["datasets:gold"]), "client moe-schools: scopes: 'datasets:gold' is not a "
                                       "scope (verify:<labor|nhi|farmer|pension> or "
                                       "datasets:<zone>.<name>)"),
    (_entry(scopes=[]), "client moe-schools: scopes: must be a non-empty list of scopes"),
    (_entry(scopes="verify:labor"), "client moe-schools: scopes: must be a non-empty list of "
                                    "scopes"),
    (_entry(scopes=[1]), "client moe-schools: scopes: must be a list of scopes (strings)"),
    (_entry(purposes=["scholarship"]), "client moe-schools: purposes: 'scholarship' is not a "
                                       "purpose code (2 to 32 of A-Z, 0-9, _; a letter first)"),
    (_entry(purposes=[]), "client moe-schools: purposes: must be a non-empty list of purpose "
                          "codes"),
    (_entry(rate_limit=0), "client moe-schools: rate_limit: must be a positive number of "
                           "requests per second, not 0"),
    (_entry(rate_limit=-1.5), "client moe-schools: rate_limit: must be a positive number of "
                              "requests per second, not -1.5"),
    (_entry(rate_limit=True), "client moe-schools: rate_limit: must be a positive number of "
                              "requests per second, not True"),
    (_entry(rate_limit=float("inf")), "client moe-schools: rate_limit: must be a positive "
                                      "number of requests per second, not inf"),
    (_entry(rate_limit="50"), "client moe-schools: rate_limit: must be a positive number of "
                              "requests per second, not '50'"),
    (_entry(burst=0), "client moe-schools: burst: must be a positive whole number of "
                      "requests, not 0"),
    (_entry(burst=1.5), "client moe-schools: burst: must be a positive whole number of "
                        "requests, not 1.5"),
    ("moe-schools", "client #1: must be a mapping of client_id, agency, secret_hash, scopes, "
                    "purposes, rate_limit"),
])
def test_each_refusal_names_the_file_the_client_and_the_field(
        tmp_path: Path, entry: Any, problem: str) -> None:
    path = tmp_path / "clients.yaml"
    path.write_text(yaml.safe_dump({"clients": [entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError) as refused:
        load_registry(path)
    assert str(refused.value) == f"{path}: {problem}"
    assert "\n" not in str(refused.value) and "hunter2" not in str(refused.value)


def test_a_duplicate_client_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.yaml", _entry(), _entry(agency="other"))
    with pytest.raises(RegistryError) as refused:
        load_registry(path)
    assert str(refused.value) == f"{path}: client moe-schools: client_id: duplicate (entry #2)"


@pytest.mark.parametrize(("text", "problem"), [
    ("clients:\n  - client_id: a\n    client_id: b\n", "duplicate key 'client_id' (line 3)"),
    ("clients: [\n", "not valid YAML (line 2, column 1)"),
    ("? [a]\n: 1\n", "not valid YAML (line 1, column 3)"),
    ("- a\n", "must be a mapping with the key clients"),
    ("", "must be a mapping with the key clients"),
    ("clients: []\nversion: 2\n", "unknown top-level key 'version'"),
    ("clients: {a: 1}\n", "clients: must be a list"),
    ("clients: !!python/object:os.system {}\n", "not valid YAML (line 1, column 10)"),
])
def test_a_malformed_file_is_refused_without_its_content(tmp_path: Path, text: str,
                                                         problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as refused:
        load_registry(path)
    assert str(refused.value) == f"{path}: {problem}"


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as refused:
        load_registry(tmp_path / "missing.yaml")
    assert str(refused.value) == f"{tmp_path / 'missing.yaml'}: cannot be read (No such file " \
                                 "or directory)"
    (tmp_path / "latin1.yaml").write_bytes(b"clients: [\xe9]")
    with pytest.raises(RegistryError) as refused:
        load_registry(tmp_path / "latin1.yaml")
    assert str(refused.value) == f"{tmp_path / 'latin1.yaml'}: not UTF-8 text"


def test_an_empty_registry_loads(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("clients: []\n", encoding="utf-8")
    assert len(load_registry(path)) == 0


def test_registry_in_code_refuses_a_duplicate() -> None:
    client = _client(hash_secret("x", iterations=FAST))
    assert Registry((client,)).get("c") is client
    with pytest.raises(ValueError, match=r"^duplicate client c$"):
        Registry((client, client))


def test_the_demo_registry_holds_only_hashes_and_shows_each_secret_once(tmp_path: Path) -> None:
    path = tmp_path / "services" / "clients.yaml"
    path.parent.mkdir()
    path.write_text("old", encoding="utf-8")
    path.chmod(0o644)
    secrets = write_demo_registry(path, iterations=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(secrets) == ["moe-schools", "mohw-research", "taipei-labor-office"]
    text = path.read_text(encoding="utf-8")
    assert all(len(s) == 43 and s not in text for s in secrets.values())
    assert [p.name for p in path.parent.iterdir()] == ["clients.yaml"]  # no temporary left
    registry = load_registry(path)
    assert [c.client_id for c in registry.clients] == [d.client_id for d in DEMO_CLIENTS]
    for client_id, secret in secrets.items():
        client = registry.get(client_id)
        assert client is not None and client.check_secret(secret)
        assert not client.check_secret(secrets["moe-schools" if client_id != "moe-schools"
                                                else "mohw-research"])
    labor, moe, mohw = registry.clients
    assert (labor.agency, labor.scopes, labor.purposes, labor.rate_limit, labor.burst) == (
        "臺北市政府勞動局", frozenset({"verify:labor", "verify:nhi"}),
        frozenset({"LABOR_INSPECTION", "EMPLOYMENT_SUBSIDY"}), 50.0, 100)
    assert moe.scopes == frozenset({"datasets:gold.person_coverage"})
    assert mohw.scopes == frozenset({
        "verify:labor", "verify:nhi", "verify:farmer", "verify:pension",
        "datasets:gold.person_coverage", "datasets:gold.dual_enrollment"})
    assert "教育部" in text  # written as text, not as \u escapes
    again = write_demo_registry(path, iterations=FAST)
    assert set(again.values()).isdisjoint(secrets.values())
