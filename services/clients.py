"""The registry of the agencies' clients of the data services (OAuth 2.0 client credentials,
RFC 6749 §4.4).

Each agency system that calls ``lakehouse serve`` is a *client*: a ``client_id``, the agency it
belongs to, the hash of its secret, the scopes it was granted, the purpose codes it may state,
and its rate limit. The registry is a YAML file (its path in production comes from
:data:`REGISTRY_ENV`)::

    clients:
      - client_id: moe-schools
        agency: 教育部
        secret_hash: pbkdf2-sha256$100000$<salt>$<digest>
        scopes: [verify:labor, datasets:gold.person_coverage]
        purposes: [SCHOLARSHIP]
        rate_limit: 50      # requests per second
        burst: 100          # optional, default 2 × rate_limit rounded up

Design:

- **No secret at rest.** The file holds only a salted PBKDF2-HMAC-SHA256 hash of each secret
  (:func:`hash_secret`); :meth:`Client.check_secret` recomputes it and compares in constant time.
  Secrets are 256-bit random strings (:func:`write_demo_registry`), so the hash protects them
  fully and the file may be read by the service account without further custody. The hash
  itself never appears in a repr or a message either.
- **Refuse, never guess.** :func:`load_registry` refuses the whole file on the first fault — a
  duplicate client or key, an unknown or missing key, a malformed scope, purpose, hash or rate
  — with a :class:`RegistryError` of one line naming the file, the client and the field. A
  service must not start with a registry it half understood: a typo in a scope would otherwise
  silently withhold, or grant, access.
- **Scopes** are ``verify:<scheme>`` (:data:`VERIFY_SCHEMES`, the document-free e-verification
  of an insurance scheme) or ``datasets:<zone>.<name>`` (a published dataset). **Purpose
  codes** (``SCHOLARSHIP``, ``LABOR_INSPECTION`` …) are what a client must state with each
  request; the registry lists the ones its legal basis covers.

The token endpoint's cost is one PBKDF2 (about 100,000 iterations of HMAC-SHA256, tens of
milliseconds) per token, not per request: a client asks for a token every few minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

REGISTRY_ENV = "LAKEHOUSE_SERVICE_CLIENTS"
"""The environment variable holding the registry's path in production."""

VERIFY_SCHEMES = ("labor", "nhi", "farmer", "pension")
"""The insurance schemes of e-verification: the scopes ``verify:<scheme>``."""

HASH_SCHEME = "pbkdf2-sha256"
DEFAULT_ITERATIONS = 100_000
MAX_ITERATIONS = 10_000_000
"""Above this a stored hash is refused: it would make each token request a denial of service."""

_NAME = r"[a-z_][a-z0-9_]*"
_DATASET_SCOPE = re.compile(rf"datasets:{_NAME}\.{_NAME}")
_PURPOSE = re.compile(r"[A-Z][A-Z0-9_]{1,31}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_B64 = re.compile(r"[A-Za-z0-9_-]+")

REQUIRED_KEYS = ("client_id", "agency", "secret_hash", "scopes", "purposes", "rate_limit")
OPTIONAL_KEYS = ("burst",)


def is_scope(scope: str) -> bool:
    """True when ``scope`` is ``verify:<scheme>`` of :data:`VERIFY_SCHEMES` or
    ``datasets:<zone>.<name>`` (zone and name ``[a-z_][a-z0-9_]*``)."""
    if scope.startswith("verify:"):
        return scope[len("verify:"):] in VERIFY_SCHEMES
    return _DATASET_SCOPE.fullmatch(scope) is not None


def is_purpose(purpose: str) -> bool:
    """True when ``purpose`` is a purpose code: ``^[A-Z][A-Z0-9_]{1,31}$``."""
    return _PURPOSE.fullmatch(purpose) is not None


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict URL-safe base64 without padding; ValueError on anything else."""
    if not _B64.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, *, iterations: int = DEFAULT_ITERATIONS,
                salt: bytes | None = None) -> str:
    """The registry's form of ``secret``: ``pbkdf2-sha256$<iterations>$<salt>$<digest>``, the
    salt (16 random bytes unless given) and the PBKDF2-HMAC-SHA256 digest of the secret's UTF-8
    bytes in URL-safe base64 without padding. ValueError for an empty secret or salt, or
    iterations out of 1 to :data:`MAX_ITERATIONS`."""
    if not secret:
        raise ValueError("refusing to hash an empty secret")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"iterations must be from 1 to {MAX_ITERATIONS}, not {iterations}")
    salt = secrets.token_bytes(16) if salt is None else salt
    if not salt:
        raise ValueError("the salt must not be empty")
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, iterations)
    return f"{HASH_SCHEME}${iterations}${_b64encode(salt)}${_b64encode(digest)}"


def _parse_hash(secret_hash: str) -> tuple[int, bytes, bytes] | None:
    """(iterations, salt, digest) of a well-formed hash of :func:`hash_secret`; None otherwise."""
    parts = secret_hash.split("$")
    if len(parts) != 4 or parts[0] != HASH_SCHEME or not parts[1].isdigit():
        return None
    iterations = int(parts[1])
    if not 1 <= iterations <= MAX_ITERATIONS or parts[1] != str(iterations):
        return None
    try:
        salt, digest = _b64decode(parts[2]), _b64decode(parts[3])
    except ValueError:
        return None
    if len(digest) != hashlib.sha256().digest_size:
        return None
    return iterations, salt, digest


@dataclass(frozen=True)
class Client:
    """A registered client of an agency. ``rate_limit`` is in requests per second, ``burst`` the
    number of requests it may send at once (the token bucket's size). The secret's hash never
    shows in the repr."""

    client_id: str
    agency: str
    secret_hash: str = field(repr=False)
    scopes: frozenset[str]
    purposes: frozenset[str]
    rate_limit: float
    burst: int

    def check_secret(self, secret: str) -> bool:
        """True when ``secret`` is this client's secret: the PBKDF2 digest is recomputed with
        the stored salt and iterations and compared in constant time (``hmac.compare_digest``).
        False for a malformed stored hash (never an exception)."""
        parsed = _parse_hash(self.secret_hash)
        if parsed is None:
            return False
        iterations, salt, expected = parsed
        actual = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, iterations)
        return hmac.compare_digest(actual, expected)


class RegistryError(ValueError):
    """A registry file refused: one line naming the file, and the client and field at fault
    (``<path>: client <id>: <field>: <problem>``). Never carries a secret nor a hash."""


@dataclass(frozen=True)
class Registry:
    """The registered clients, looked up by ``client_id`` (unique: a duplicate is refused)."""

    clients: tuple[Client, ...]
    _by_id: Mapping[str, Client] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Client] = {}
        for client in self.clients:
            if client.client_id in by_id:
                raise ValueError(f"duplicate client {client.client_id}")
            by_id[client.client_id] = client
        object.__setattr__(self, "_by_id", by_id)

    def get(self, client_id: str) -> Client | None:
        """The client ``client_id``; None when it is not registered."""
        return self._by_id.get(client_id)

    def __len__(self) -> int:
        return len(self.clients)


class _DuplicateKey(yaml.YAMLError):
    """A mapping of the registry repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a mapping that repeats a key (PyYAML keeps the last)."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise _DuplicateKey(f"duplicate key {key!r} (line {line})")
        seen.add(key)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def _read_yaml(path: Path) -> Any:
    """The YAML document of ``path``; a :class:`RegistryError` without the file's content (a
    parse error's snippet could show a line of it) when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RegistryError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from None
    except UnicodeDecodeError:
        raise RegistryError(f"{path}: not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: no arbitrary objects
    except _DuplicateKey as e:
        raise RegistryError(f"{path}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise RegistryError(f"{path}: not valid YAML{where}") from None


def _is_positive_number(value: Any) -> bool:
    """True for a finite int or float above zero (a YAML ``true`` is not a number)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _strings(value: Any, fail: Callable[[str], NoReturn], what: str) -> list[str]:
    """``value`` as a non-empty list of strings, or ``fail(message)``."""
    if not isinstance(value, list) or not value:
        fail(f"must be a non-empty list of {what}")
    if not all(isinstance(v, str) for v in value):
        fail(f"must be a list of {what} (strings)")
    return list(value)


def _client(entry: Any, index: int, path: Path) -> Client:
    """The client of the registry's ``index``-th entry (from 1), or a :class:`RegistryError`."""
    label = f"#{index}"
    client_id = entry.get("client_id") if isinstance(entry, dict) else None
    if isinstance(client_id, str) and _CLIENT_ID.fullmatch(client_id):
        label = client_id

    def fail(problem: str, key: str = "") -> NoReturn:
        where = f"{key}: " if key else ""
        raise RegistryError(f"{path}: client {label}: {where}{problem}")

    if not isinstance(entry, dict):
        fail("must be a mapping of " + ", ".join(REQUIRED_KEYS))
    unknown = sorted(repr(k) for k in entry if k not in REQUIRED_KEYS + OPTIONAL_KEYS)
    if unknown:
        fail("unknown key" + ("s " if len(unknown) > 1 else " ") + ", ".join(unknown))
    missing = [k for k in REQUIRED_KEYS if k not in entry]
    if missing:
        fail("missing " + ", ".join(missing))
    client_id, agency = entry["client_id"], entry["agency"]
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        fail("must be 1 to 64 letters, digits, '.', '_' or '-' (a letter or digit first)",
             "client_id")
    if not isinstance(agency, str) or not agency.strip():
        fail("must be a non-empty string", "agency")
    if not isinstance(entry["secret_hash"], str) or _parse_hash(entry["secret_hash"]) is None:
        fail(f"not a {HASH_SCHEME} hash ({HASH_SCHEME}$<iterations>$<salt>$<digest>)",
             "secret_hash")
    scopes = _strings(entry["scopes"], lambda p: fail(p, "scopes"), "scopes")
    for scope in scopes:
        if not is_scope(scope):
            fail(f"{scope!r} is not a scope (verify:<{'|'.join(VERIFY_SCHEMES)}> or "
                 "datasets:<zone>.<name>)", "scopes")
    purposes = _strings(entry["purposes"], lambda p: fail(p, "purposes"), "purpose codes")
    for purpose in purposes:
        if not is_purpose(purpose):
            fail(f"{purpose!r} is not a purpose code (2 to 32 of A-Z, 0-9, _; a letter first)",
                 "purposes")
    rate = entry["rate_limit"]
    if not _is_positive_number(rate):
        fail(f"must be a positive number of requests per second, not {rate!r}", "rate_limit")
    burst = entry.get("burst", math.ceil(2 * rate))
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        fail(f"must be a positive whole number of requests, not {burst!r}", "burst")
    return Client(client_id=client_id, agency=agency, secret_hash=entry["secret_hash"],
                  scopes=frozenset(scopes), purposes=frozenset(purposes),
                  rate_limit=float(rate), burst=burst)


def load_registry(path: str | Path) -> Registry:
    """The registry of the YAML file ``path`` (the module's format). Refuses the whole file with
    a :class:`RegistryError` on the first fault: not readable or not YAML, a key repeated in a
    mapping, a top level other than ``clients: [...]``, a duplicate ``client_id``, an unknown or
    missing key, a malformed client id, agency, secret hash, scope or purpose code, a
    non-positive rate or burst."""
    path = Path(path)
    document = _read_yaml(path)
    if not isinstance(document, dict) or "clients" not in document:
        raise RegistryError(f"{path}: must be a mapping with the key clients")
    extra = sorted(repr(k) for k in document if k != "clients")
    if extra:
        raise RegistryError(f"{path}: unknown top-level key {', '.join(extra)}")
    entries = document["clients"]
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: clients: must be a list")
    clients: list[Client] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        client = _client(entry, index, path)
        if client.client_id in seen:
            raise RegistryError(f"{path}: client {client.client_id}: client_id: duplicate "
                                f"(entry #{index})")
        seen.add(client.client_id)
        clients.append(client)
    return Registry(tuple(clients))


@dataclass(frozen=True)
class _Demo:
    client_id: str
    agency: str
    scopes: tuple[str, ...]
    purposes: tuple[str, ...]
    rate_limit: float


DEMO_CLIENTS = (
    _Demo("taipei-labor-office", "臺北市政府勞動局", ("verify:labor", "verify:nhi"),
          ("LABOR_INSPECTION", "EMPLOYMENT_SUBSIDY"), 50),
    _Demo("moe-schools", "教育部", ("datasets:gold.person_coverage",), ("SCHOLARSHIP",), 20),
    _Demo("mohw-research", "衛生福利部",
          (*(f"verify:{s}" for s in VERIFY_SCHEMES),
           "datasets:gold.person_coverage", "datasets:gold.dual_enrollment"),
          ("SOCIAL_WELFARE", "RESEARCH_STATISTICS"), 10),
)
"""The demo's clients: a labor office verifying labor and health insurance, a ministry reading
one dataset, and a research unit holding every scope."""


def write_demo_registry(path: str | Path, *,
                        iterations: int = DEFAULT_ITERATIONS) -> dict[str, str]:
    """Writes a registry of :data:`DEMO_CLIENTS` to ``path`` (replacing it atomically, mode
    0600), each with a fresh secret (``secrets.token_urlsafe(32)``) of which only the hash is
    written. Returns ``{client_id: secret}``, for the caller to show once: the secrets are
    nowhere else."""
    path = Path(path)
    issued: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for demo in DEMO_CLIENTS:
        secret = secrets.token_urlsafe(32)
        issued[demo.client_id] = secret
        entries.append({
            "client_id": demo.client_id, "agency": demo.agency,
            "secret_hash": hash_secret(secret, iterations=iterations),
            "scopes": sorted(demo.scopes), "purposes": list(demo.purposes),
            "rate_limit": demo.rate_limit, "burst": math.ceil(2 * demo.rate_limit),
        })
    text = ("# Clients of the lakehouse data services (demo). Only the secrets' hashes are here;\n"
            "# the secrets were shown once when this file was written.\n"
            + yaml.safe_dump({"clients": entries}, allow_unicode=True, sort_keys=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return issued
