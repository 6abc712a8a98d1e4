"""Signing keys, access tokens, signed answers and the JWKS of the data services.

One Ed25519 key (:class:`SigningKey`, JWS algorithm ``EdDSA``, RFC 8037) signs two kinds of
JWT, told apart by their ``typ`` header so that neither can pass for the other (RFC 8725
§3.11):

- **access tokens** (``typ: at+jwt``, RFC 9068), issued by the token endpoint to a client that
  proved its secret (:func:`issue_access_token`) and checked on every request
  (:func:`verify_access_token`). Claims: ``iss``, ``sub`` = ``client_id``, ``aud`` =
  :data:`AUDIENCE`, ``client_id``, ``scope`` (space separated, sorted), ``iat``, ``nbf``,
  ``exp`` (:data:`ACCESS_TOKEN_TTL` later) and ``jti``. The agency is not in the token: it is
  the registry's, looked up by ``client_id``.
- **signed answers** (``typ: JWT``, :func:`sign_answer`): the e-verification results the
  receiving office keeps as evidence and checks offline against the published JWKS with any
  JOSE library (:func:`verify_answer` is that check, with PyJWT).

Key custody mirrors :mod:`masking.keys`: the private key (PKCS#8 PEM) comes from
``LAKEHOUSE_SERVICE_SIGNING_KEY`` or, in production, from the Airflow connection
``lakehouse_service_signing_key`` (password: the PEM; login: the key id). The key id defaults
to a fingerprint of the public key. The private key never appears in a repr, a log line or an
error. **Rotation**: a :class:`Keyring` holds the current key, which signs, and the previous
ones, which still verify until the tokens and answers they signed have expired; the JWKS
publishes them all.

Verification of access tokens runs on every request (a thousand a second), so it is done here
in one pass rather than through PyJWT's ``get_unverified_header`` then ``decode`` (which
parses the token twice): the compact form is split and strictly base64url-decoded once, the
header is checked (``alg`` pinned to ``EdDSA``: ``none`` and HMAC with the public key as
secret are refused before any key is touched; ``typ``; ``kid`` in the ring), the signature is
verified with the ring's cached public key object, then the claims. Every refusal is a
:class:`TokenError` with a short public reason; the token itself is never echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from masking.keys import secret_from_airflow
from services.clients import Client

ISSUER = "https://lakehouse.bli.gov.tw"
AUDIENCE = "lakehouse-services"
ACCESS_TOKEN_TTL = 300
"""Lifetime of an access token, in seconds."""
LEEWAY = 5
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``, in seconds."""
ALGORITHM = "EdDSA"
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
"""The ``typ`` values of an access token (RFC 9068 §4; media types are case-insensitive)."""
MAX_TOKEN_LENGTH = 8192
"""Longer tokens are refused unread (an access token of this service is a few hundred bytes)."""

KEY_ENV = "LAKEHOUSE_SERVICE_SIGNING_KEY"
KEY_ID_ENV = "LAKEHOUSE_SERVICE_SIGNING_KEY_ID"
KEY_CONN_ENV = "LAKEHOUSE_SERVICE_SIGNING_KEY_CONN"
DEFAULT_CONN_ID = "lakehouse_service_signing_key"

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class MissingSigningKey(RuntimeError):
    """No usable signing key: the message says where the key is looked for and what to set."""


class TokenError(Exception):
    """A token refused. ``reason`` (also the message) is short and public — ``"token
    expired"``, ``"token signature invalid"`` … — and never contains the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, eq=False)
class SigningKey:
    """An Ed25519 private key and its public key id (``kid``). The private key never shows in
    the repr nor the str. Equality is identity: two keys with the same ``kid`` are not the
    same key (a forger can pick any ``kid``)."""

    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __str__(self) -> str:
        return f"SigningKey({self.kid})"

    @staticmethod
    def fingerprint(public_key: Ed25519PublicKey) -> str:
        """The default key id: ``sk-`` and 12 hex digits of the SHA-256 of the raw public key."""
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "sk-" + hashlib.sha256(raw).hexdigest()[:12]

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        """A new random key; its key id ``kid`` or the public key's fingerprint."""
        private = Ed25519PrivateKey.generate()
        return cls(kid=kid or cls.fingerprint(private.public_key()), private_key=private)

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | None = None) -> SigningKey:
        """The key of an unencrypted PKCS#8 PEM (``openssl genpkey -algorithm ed25519``); its
        key id ``kid`` or the fingerprint. ValueError (without the PEM) when it is not one."""
        data = pem.encode("utf-8") if isinstance(pem, str) else pem
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            private = None
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("not an unencrypted PKCS#8 PEM of an Ed25519 private key")
        return cls(kid=kid or cls.fingerprint(private.public_key()), private_key=private)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SigningKey:
        """The key from :data:`KEY_ENV` (PEM text; ``\\n`` escapes are accepted for one-line
        environment files) with the key id of :data:`KEY_ID_ENV`, else from the Airflow
        connection (password: PEM, login: key id; its id in :data:`KEY_CONN_ENV`, default
        :data:`DEFAULT_CONN_ID`). :class:`MissingSigningKey` when there is none or it is not an
        Ed25519 key."""
        e = os.environ if env is None else env
        conn_id = e.get(KEY_CONN_ENV, DEFAULT_CONN_ID)
        pem, source = e.get(KEY_ENV, ""), KEY_ENV
        conn_kid: str | None = None
        if not pem:
            found = secret_from_airflow(e, KEY_CONN_ENV, DEFAULT_CONN_ID)
            if found:
                pem, conn_kid = found
                source = f"the Airflow connection {conn_id}"
        if not pem:
            raise MissingSigningKey(
                f"no service signing key ({KEY_ENV} is not set and no Airflow connection "
                f"{conn_id} holds one). Set {KEY_ENV} to an Ed25519 private key in PKCS#8 PEM "
                f"(openssl genpkey -algorithm ed25519), and {KEY_ID_ENV} to its key id.")
        if "\\n" in pem and "\n" not in pem.strip():
            pem = pem.replace("\\n", "\n")
        try:
            return cls.from_pem(pem, kid=e.get(KEY_ID_ENV) or conn_kid)
        except ValueError:
            raise MissingSigningKey(
                f"the service signing key in {source} is not an Ed25519 private key in "
                "unencrypted PKCS#8 PEM (openssl genpkey -algorithm ed25519).") from None

    def public_key(self) -> Ed25519PublicKey:
        """The public half."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 8037): ``kty`` OKP, ``crv`` Ed25519, ``x``, ``kid``,
        ``use`` sig, ``alg`` EdDSA."""
        raw = self.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": self.kid,
                "use": "sig", "alg": ALGORITHM}

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM, for the secrets backend only."""
        return self.private_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())


class Keyring:
    """The current signing key and the previous ones still accepted (rotation). Key ids are
    unique. The public key objects are built once, here, for verification."""

    __slots__ = ("_public", "current", "previous")

    def __init__(self, current: SigningKey, previous: tuple[SigningKey, ...] = ()) -> None:
        self.current = current
        self.previous = tuple(previous)
        self._public: dict[str, Ed25519PublicKey] = {}
        for key in (current, *self.previous):
            if key.kid in self._public:
                raise ValueError(f"two keys of the keyring have the key id {key.kid}")
            self._public[key.kid] = key.public_key()

    def __repr__(self) -> str:
        return f"Keyring(current={self.current.kid!r}, previous={[k.kid for k in self.previous]})"

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """Every key of the ring, the current one first."""
        return (self.current, *self.previous)

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key of ``kid``; None when it is not in the ring."""
        return self._public.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWK Set to publish (``/.well-known/jwks.json``): every key's public JWK."""
        return {"keys": [key.public_jwk() for key in self.keys]}


def issue_access_token(key: SigningKey, client: Client, scopes: frozenset[str], *,
                       now: float | None = None, ttl: int = ACCESS_TOKEN_TTL,
                       issuer: str = ISSUER) -> tuple[str, int]:
    """An access token (RFC 9068) for ``client`` granting ``scopes``, and its lifetime
    ``expires_in`` in seconds (``ttl``). ``now`` is the Unix time (default: the clock).
    ValueError when ``scopes`` is empty or holds a scope the client was not granted: the token
    endpoint decides what to grant, this refuses to sign more."""
    if not scopes:
        raise ValueError("refusing to issue a token without a scope")
    extra = scopes - client.scopes
    if extra:
        raise ValueError(f"refusing to issue {', '.join(sorted(extra))} to client "
                         f"{client.client_id}: not granted by the registry")
    if ttl < 1:
        raise ValueError(f"ttl must be at least 1 second, not {ttl}")
    iat = int(time.time() if now is None else now)
    claims = {"iss": issuer, "sub": client.client_id, "aud": AUDIENCE,
              "client_id": client.client_id, "scope": " ".join(sorted(scopes)),
              "iat": iat, "nbf": iat, "exp": iat + ttl, "jti": uuid.uuid4().hex}
    token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM,
                       headers={"typ": "at+jwt", "kid": key.kid})
    return token, ttl


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token grants: the client, its scopes, the token's id and its
    expiry (Unix time)."""

    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: int


def _segment(text: str) -> bytes:
    """A strict base64url segment (no padding, no other character, canonical)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise TokenError("token malformed")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("token malformed") from None
    if _b64url(raw) != text:
        raise TokenError("token malformed")
    return raw


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise TokenError("token malformed") from None
    if not isinstance(value, dict):
        raise TokenError("token malformed")
    return value


def _check_header(header: Mapping[str, Any], keyring: Keyring) -> Ed25519PublicKey:
    """The public key to verify with, once the header passed: ``alg`` EdDSA, ``typ`` at+jwt,
    no ``crit``, ``kid`` in the ring."""
    if header.get("alg") != ALGORITHM:
        raise TokenError("algorithm not allowed")
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise TokenError("token type invalid")
    if "crit" in header:
        raise TokenError("token malformed")
    kid = header.get("kid")
    public = keyring.public_key(kid) if isinstance(kid, str) else None
    if public is None:
        raise TokenError("unknown signing key")
    return public


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenError("token malformed")
    return value


def _str_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenError("token malformed")
    return value


def _check_claims(claims: Mapping[str, Any], now: float, issuer: str) -> AccessClaims:
    """The access claims, once ``iss``, ``aud``, ``exp``, ``nbf``, ``iat`` (``LEEWAY``) and
    ``sub`` = ``client_id`` passed. NumericDates are integers: this issuer writes no other."""
    exp, nbf, iat = (_int_claim(claims, n) for n in ("exp", "nbf", "iat"))
    client_id, jti, scope = (_str_claim(claims, n) for n in ("client_id", "jti", "scope"))
    if claims.get("iss") != issuer:
        raise TokenError("token issuer invalid")
    aud = claims.get("aud")
    if not (aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)):
        raise TokenError("token audience invalid")
    if exp + LEEWAY <= now:
        raise TokenError("token expired")
    if nbf - LEEWAY > now or iat - LEEWAY > now:
        raise TokenError("token not yet valid")
    if claims.get("sub") != client_id:
        raise TokenError("token subject invalid")
    return AccessClaims(client_id=client_id, scopes=frozenset(scope.split()), jti=jti,
                        expires_at=exp)


def verify_access_token(keyring: Keyring, token: str, *, now: float | None = None,
                        issuer: str = ISSUER) -> AccessClaims:
    """The claims of ``token`` when it is an access token of this service, valid at ``now``
    (Unix time; default: the clock); otherwise :class:`TokenError` with the first reason
    found: ``token malformed``, ``algorithm not allowed``, ``token type invalid``, ``unknown
    signing key``, ``token signature invalid``, ``token issuer invalid``, ``token audience
    invalid``, ``token expired``, ``token not yet valid``, ``token subject invalid``. The
    header is checked before the signature, the claims after it."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenError("token malformed")
    header_b64, payload_b64, signature_b64 = token.split(".")
    public = _check_header(_json_object(_segment(header_b64)), keyring)
    payload, signature = _segment(payload_b64), _segment(signature_b64)
    try:
        public.verify(signature, f"{header_b64}.{payload_b64}".encode("ascii"))
    except InvalidSignature:
        raise TokenError("token signature invalid") from None
    claims = _json_object(payload)
    return _check_claims(claims, time.time() if now is None else now, issuer)


def sign_answer(key: SigningKey, claims: Mapping[str, Any]) -> str:
    """A compact JWS of ``claims`` as given (header ``alg`` EdDSA, ``typ`` JWT, ``kid``): an
    answer a receiving office can keep and verify offline with the JWKS. Registered claims the
    caller sets (``exp``, ``iat``, ``nbf``) must be NumericDates; ``aud`` names the receiver."""
    return jwt.encode(dict(claims), key.private_key, algorithm=ALGORITHM,
                      headers={"typ": "JWT", "kid": key.kid})


_ANSWER_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "token audience invalid"),
    (jwt.InvalidIssuerError, "token issuer invalid"),
    (jwt.InvalidSignatureError, "token signature invalid"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.MissingRequiredClaimError, "token malformed"),
)


def verify_answer(jwks: Mapping[str, Any], token: str, audience: str, *,
                  issuer: str | None = None) -> dict[str, Any]:
    """The claims of a signed answer, checked the way a receiving office does it offline with
    a standard library (PyJWT's ``PyJWK``) and the published JWKS only: the key of the header's
    ``kid``, ``alg`` EdDSA, ``typ`` JWT (an access token is not an answer), the signature,
    ``aud`` (required) = ``audience``, ``exp``/``nbf``/``iat`` when present, ``iss`` when
    ``issuer`` is given. :class:`TokenError` otherwise, with the reasons of
    :func:`verify_access_token`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("token malformed") from None
    if header.get("alg") != ALGORITHM:
        raise TokenError("algorithm not allowed")
    if header.get("typ") != "JWT":
        raise TokenError("token type invalid")
    found = [k for k in jwks.get("keys", []) if isinstance(k, Mapping)
             and k.get("kid") == header.get("kid")]
    if len(found) != 1:
        raise TokenError("unknown signing key")
    try:
        key = jwt.PyJWK(dict(found[0]), algorithm=ALGORITHM)
    except jwt.PyJWTError:  # not an Ed25519 JWK
        raise TokenError("unknown signing key") from None
    try:
        return dict(jwt.decode(token, key, algorithms=[ALGORITHM], audience=audience,
                               issuer=issuer, leeway=LEEWAY, options={"require": ["aud"]}))
    except jwt.PyJWTError as e:
        reason = next((r for kind, r in _ANSWER_REASONS if isinstance(e, kind)),
                      "token malformed")
        raise TokenError(reason) from None
