"""Signing keys, access tokens and signed answers: round trips, each refusal with its reason,
rotation, and an answer verified offline from the JWKS JSON only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.clients import Client, hash_secret
from services.tokens import (
    ACCESS_TOKEN_TTL,
    AUDIENCE,
    ISSUER,
    AccessClaims,
    Keyring,
    MissingSigningKey,
    SigningKey,
    TokenError,
    issue_access_token,
    sign_answer,
    verify_access_token,
    verify_answer,
)

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z
CLIENT = Client(client_id="taipei-labor-office", agency="臺北市政府勞動局",
                secret_hash=hash_secret("s", iterations=1_000),
                scopes=frozenset({"verify:labor", "verify:nhi", "datasets:gold.person_coverage"}),
                purposes=frozenset({"LABOR_INSPECTION"}), rate_limit=50.0, burst=100)
KEY = SigningKey.generate()
RING = Keyring(KEY)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _compact(header: dict[str, Any], payload: dict[str, Any] | bytes,
             sign: Any = None) -> str:
    """A token built by hand: ``sign(signing_input) -> signature`` (empty when None)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(body)}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": ISSUER, "sub": CLIENT.client_id, "aud": AUDIENCE, "client_id": CLIENT.client_id,
        "scope": "verify:labor", "iat": NOW, "nbf": NOW, "exp": NOW + 300, "jti": "j" * 32}
    for name, value in changes.items():
        if value is ...:
            del claims[name]
        else:
            claims[name] = value
    return claims


def _signed(claims: dict[str, Any] | bytes, key: SigningKey = KEY, **header: Any) -> str:
    return _compact({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid, **header}, claims,
                    key.private_key.sign)


def _refused(token: str, keyring: Keyring = RING, now: float = NOW, **kwargs: Any) -> str:
    with pytest.raises(TokenError) as refused:
        verify_access_token(keyring, token, now=now, **kwargs)
    assert refused.value.reason == str(refused.value)
    if len(token) > 8:
        assert token not in str(refused.value) and token not in repr(refused.value)
    return refused.value.reason


def test_constants() -> None:
    assert (ISSUER, AUDIENCE, ACCESS_TOKEN_TTL) == (
        "https://lakehouse.bli.gov.tw", "lakehouse-services", 300)


def test_a_key_id_defaults_to_the_public_key_fingerprint() -> None:
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    assert KEY.kid == "sk-" + hashlib.sha256(raw).hexdigest()[:12]
    assert re.fullmatch(r"sk-[0-9a-f]{12}", KEY.kid)
    assert SigningKey.generate(kid="2026-q4").kid == "2026-q4"
    assert SigningKey.generate().kid != KEY.kid
    twin = SigningKey.generate(kid=KEY.kid)
    assert twin != KEY and KEY == KEY  # equality is identity, never the kid alone


def test_the_private_key_never_shows() -> None:
    pem = KEY.to_pem().decode()
    body = "".join(pem.splitlines()[1:-1])
    assert repr(KEY) == f"SigningKey(kid='{KEY.kid}')" and str(KEY) == f"SigningKey({KEY.kid})"
    assert body not in repr(KEY) and body not in repr(RING)
    assert repr(RING) == f"Keyring(current='{KEY.kid}', previous=[])"


def test_public_jwk_is_rfc_8037() -> None:
    jwk = KEY.public_jwk()
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": KEY.kid,
                   "use": "sig", "alg": "EdDSA"}
    assert "d" not in jwk


def test_pem_round_trip() -> None:
    pem = KEY.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    for text in (pem, pem.decode()):
        again = SigningKey.from_pem(text)
        assert again.kid == KEY.kid and again.public_jwk() == KEY.public_jwk()
    assert SigningKey.from_pem(pem, kid="2026-q4").kid == "2026-q4"


def test_a_pem_that_is_not_an_ed25519_private_key_is_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    encrypted = KEY.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"))
    public = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    for pem in (ec_pem, encrypted, public, b"", "not a key", KEY.to_pem()[:-40]):
        with pytest.raises(ValueError) as refused:
            SigningKey.from_pem(pem)
        assert str(refused.value) == "not an unencrypted PKCS#8 PEM of an Ed25519 private key"
        assert refused.value.__cause__ is None and refused.value.__context__ is None


def test_the_key_from_the_environment() -> None:
    pem = KEY.to_pem().decode()
    assert SigningKey.from_env({"LAKEHOUSE_SERVICE_SIGNING_KEY": pem}).kid == KEY.kid
    env = {"LAKEHOUSE_SERVICE_SIGNING_KEY": pem, "LAKEHOUSE_SERVICE_SIGNING_KEY_ID": "2026-q4"}
    named = SigningKey.from_env(env)
    assert named.kid == "2026-q4" and named.public_jwk()["x"] == KEY.public_jwk()["x"]
    one_line = pem.strip().replace("\n", "\\n")  # as a one-line .env file holds it
    assert SigningKey.from_env({"LAKEHOUSE_SERVICE_SIGNING_KEY": one_line}).kid == KEY.kid


def test_a_missing_or_unusable_key_says_what_to_set() -> None:
    with pytest.raises(MissingSigningKey) as refused:
        SigningKey.from_env({})
    assert str(refused.value) == (
        "no service signing key (LAKEHOUSE_SERVICE_SIGNING_KEY is not set and no Airflow "
        "connection lakehouse_service_signing_key holds one). Set LAKEHOUSE_SERVICE_SIGNING_KEY "
        "to an Ed25519 private key in PKCS#8 PEM (openssl genpkey -algorithm ed25519), and "
        "LAKEHOUSE_SERVICE_SIGNING_KEY_ID to its key id.")
    secret = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldC1zZWNyZXQ=\n-----END PRIVATE KEY-----"
    with pytest.raises(MissingSigningKey) as refused:
        SigningKey.from_env({"LAKEHOUSE_SERVICE_SIGNING_KEY": secret})
    assert str(refused.value) == (
        "the service signing key in LAKEHOUSE_SERVICE_SIGNING_KEY is not an Ed25519 private key "
        "in unencrypted PKCS#8 PEM (openssl genpkey -algorithm ed25519).")
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def test_the_key_from_an_airflow_connection(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    conn = json.dumps({"conn_type": "generic", "login": "2026-q4",
                       "password": KEY.to_pem().decode()})
    monkeypatch.setenv("AIRFLOW_CONN_LAKEHOUSE_SERVICE_SIGNING_KEY", conn)
    env = {"AIRFLOW_CONN_LAKEHOUSE_SERVICE_SIGNING_KEY": conn}
    key = SigningKey.from_env(env)
    assert key.kid == "2026-q4" and key.public_jwk()["x"] == KEY.public_jwk()["x"]
    # The environment variable wins over the connection.
    other = SigningKey.generate()
    assert SigningKey.from_env(
        {**env, "LAKEHOUSE_SERVICE_SIGNING_KEY": other.to_pem().decode()}).kid == other.kid
    # Another connection id, holding no usable key: refused, naming that connection.
    monkeypatch.setenv("AIRFLOW_CONN_SVC_KEY", json.dumps({"conn_type": "generic",
                                                           "password": "not a pem"}))
    with pytest.raises(MissingSigningKey) as refused:
        SigningKey.from_env({"LAKEHOUSE_SERVICE_SIGNING_KEY_CONN": "svc_key",
                             "AIRFLOW_CONN_SVC_KEY": "{}"})
    assert str(refused.value) == (
        "the service signing key in the Airflow connection svc_key is not an Ed25519 private key "
        "in unencrypted PKCS#8 PEM (openssl genpkey -algorithm ed25519).")


def test_an_access_token_round_trip() -> None:
    token, expires_in = issue_access_token(KEY, CLIENT, frozenset({"verify:nhi", "verify:labor"}),
                                           now=NOW + 0.75)
    assert expires_in == 300
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": KEY.kid, "typ": "at+jwt"}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert re.fullmatch(r"[0-9a-f]{32}", claims.pop("jti"))
    assert claims == {"iss": ISSUER, "sub": CLIENT.client_id, "aud": AUDIENCE,
                      "client_id": CLIENT.client_id, "scope": "verify:labor verify:nhi",
                      "iat": NOW, "nbf": NOW, "exp": NOW + 300}
    verified = verify_access_token(RING, token, now=NOW + 10)
    assert verified == AccessClaims(client_id=CLIENT.client_id,
                                    scopes=frozenset({"verify:labor", "verify:nhi"}),
                                    jti=jwt.decode(token, options={"verify_signature": False})[
                                        "jti"], expires_at=NOW + 300)
    other, _ = issue_access_token(KEY, CLIENT, frozenset({"verify:labor"}), now=NOW)
    assert verify_access_token(RING, other, now=NOW).jti != verified.jti


def test_the_issuer_and_lifetime_can_be_set() -> None:
    token, expires_in = issue_access_token(KEY, CLIENT, frozenset({"verify:labor"}), now=NOW,
                                           ttl=60, issuer="https://test.example")
    assert expires_in == 60
    claims = verify_access_token(RING, token, now=NOW, issuer="https://test.example")
    assert claims.expires_at == NOW + 60
    assert _refused(token) == "token issuer invalid"


def test_no_token_for_a_scope_not_granted() -> None:
    with pytest.raises(ValueError) as refused:
        issue_access_token(KEY, CLIENT, frozenset({"verify:pension", "verify:farmer",
                                                   "verify:labor"}), now=NOW)
    assert str(refused.value) == ("refusing to issue verify:farmer, verify:pension to client "
                                  "taipei-labor-office: not granted by the registry")
    with pytest.raises(ValueError, match=r"^refusing to issue a token without a scope$"):
        issue_access_token(KEY, CLIENT, frozenset(), now=NOW)
    with pytest.raises(ValueError, match=r"^ttl must be at least 1 second, not 0$"):
        issue_access_token(KEY, CLIENT, frozenset({"verify:labor"}), now=NOW, ttl=0)


def test_expiry_and_not_before_with_five_seconds_of_leeway() -> None:
    token, _ = issue_access_token(KEY, CLIENT, frozenset({"verify:labor"}), now=NOW)
    assert verify_access_token(RING, token, now=NOW + 304.999).expires_at == NOW + 300
    assert _refused(token, now=NOW + 305) == "token expired"
    assert _refused(token, now=NOW + 86_400) == "token expired"
    assert verify_access_token(RING, token, now=NOW - 5).client_id == CLIENT.client_id
    assert _refused(token, now=NOW - 5.001) == "token not yet valid"
    assert _refused(_signed(_claims(iat=NOW + 60)), now=NOW) == "token not yet valid"
    assert _refused(_signed(_claims(nbf=NOW + 60)), now=NOW) == "token not yet valid"


def test_a_token_signed_by_another_key_with_the_same_kid_is_forged() -> None:
    forger = SigningKey.generate(kid=KEY.kid)
    token, _ = issue_access_token(forger, CLIENT, frozenset({"verify:labor"}), now=NOW)
    assert _refused(token) == "token signature invalid"
    header, _, signature = _signed(_claims()).split(".")
    tampered = _b64(json.dumps(_claims(scope="verify:labor verify:pension")).encode())
    assert _refused(f"{header}.{tampered}.{signature}") == "token signature invalid"


def test_alg_none_and_hmac_with_the_public_key_are_refused() -> None:
    kid = KEY.kid
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    for alg in ("none", "None", "NONE", ""):
        assert _refused(_compact({"alg": alg, "typ": "at+jwt", "kid": kid}, _claims())) == \
            "algorithm not allowed"
    for secret in (raw, pem, KEY.public_jwk()["x"].encode()):
        token = _compact({"alg": "HS256", "typ": "at+jwt", "kid": kid}, _claims(),
                         lambda m, s=secret: hmac.new(s, m, hashlib.sha256).digest())
        assert _refused(token) == "algorithm not allowed"
    for header in ({"typ": "at+jwt", "kid": kid}, {"alg": "ES256", "typ": "at+jwt", "kid": kid},
                   {"alg": ["EdDSA"], "typ": "at+jwt", "kid": kid}):
        assert _refused(_compact(header, _claims(), KEY.private_key.sign)) == \
            "algorithm not allowed"


def test_the_token_type_must_be_at_jwt() -> None:
    assert _refused(_signed(_claims(), typ="JWT")) == "token type invalid"
    assert _refused(_compact({"alg": "EdDSA", "kid": KEY.kid}, _claims(),
                             KEY.private_key.sign)) == "token type invalid"
    answer = sign_answer(KEY, _claims())
    assert _refused(answer) == "token type invalid"
    for typ in ("AT+JWT", "application/at+jwt"):
        assert verify_access_token(RING, _signed(_claims(), typ=typ), now=NOW).jti == "j" * 32


def test_an_unknown_or_missing_kid_is_refused() -> None:
    stranger = SigningKey.generate()
    token, _ = issue_access_token(stranger, CLIENT, frozenset({"verify:labor"}), now=NOW)
    assert _refused(token) == "unknown signing key"
    assert _refused(_compact({"alg": "EdDSA", "typ": "at+jwt"}, _claims(),
                             KEY.private_key.sign)) == "unknown signing key"
    assert _refused(_signed(_claims(), kid=[KEY.kid])) == "unknown signing key"


def test_wrong_audience_issuer_or_subject() -> None:
    assert _refused(_signed(_claims(aud="another-api"))) == "token audience invalid"
    assert _refused(_signed(_claims(aud=...))) == "token audience invalid"
    listed = _signed(_claims(aud=["x", AUDIENCE]))
    assert verify_access_token(RING, listed, now=NOW).jti == "j" * 32
    assert _refused(_signed(_claims(iss="https://evil.example"))) == "token issuer invalid"
    assert _refused(_signed(_claims(iss=...))) == "token issuer invalid"
    assert _refused(_signed(_claims(sub="moe-schools"))) == "token subject invalid"
    assert _refused(_signed(_claims(sub=...))) == "token subject invalid"


@pytest.mark.parametrize("token", [
    "", "garbage", "a.b", "a.b.c.d", "..", "....", "eyJ.eyJ.sig",
    "é.é.é", "a" * 9000, " " + "a.b.c",
])
def test_garbage_is_malformed(token: str) -> None:
    assert _refused(token) == "token malformed"


def test_malformed_segments_and_claims() -> None:
    good = _signed(_claims())
    header, payload, signature = good.split(".")
    assert verify_access_token(RING, good, now=NOW).client_id == CLIENT.client_id
    for bad in (f"{header}=.{payload}.{signature}", f"{header}.{payload}.{signature}=",
                f"{header}.{payload}.{signature[:-1]}+", f"{header[:-1]}.{payload}.{signature}",
                f"{_b64(b'[1]')}.{payload}.{signature}", f"{_b64(b'{')}.{payload}.{signature}",
                _signed(b"not json"), _signed(b"[]"), _signed(_claims(), crit=["exp"]),
                _signed(_claims(exp=float(NOW + 300))), _signed(_claims(exp=True)),
                _signed(_claims(iat=...)), _signed(_claims(nbf="now")),
                _signed(_claims(jti=...)), _signed(_claims(jti="")),
                _signed(_claims(scope=["verify:labor"])), _signed(_claims(client_id=...))):
        assert _refused(bad) == "token malformed", bad
    # The same signature with other unused trailing bits (64 bytes: the last character carries
    # 2 bits and 4 unused ones): not canonical, so not a second spelling of the token.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(signature[:-1] + twin + "==") == \
        base64.urlsafe_b64decode(signature + "==")
    assert _refused(f"{header}.{payload}.{signature[:-1]}{twin}") == "token malformed"


def test_rotation_keeps_the_previous_key_verifying() -> None:
    old, new = SigningKey.generate(), SigningKey.generate()
    old_token, _ = issue_access_token(old, CLIENT, frozenset({"verify:labor"}), now=NOW)
    new_token, _ = issue_access_token(new, CLIENT, frozenset({"verify:nhi"}), now=NOW)
    ring = Keyring(new, (old,))
    assert verify_access_token(ring, old_token, now=NOW).scopes == frozenset({"verify:labor"})
    assert verify_access_token(ring, new_token, now=NOW).scopes == frozenset({"verify:nhi"})
    assert ring.jwks() == {"keys": [new.public_jwk(), old.public_jwk()]}
    assert [k["kid"] for k in ring.jwks()["keys"]] == [new.kid, old.kid]
    assert ring.keys == (new, old)
    assert _refused(old_token, keyring=Keyring(new)) == "unknown signing key"
    assert ring.public_key(old.kid) is ring.public_key(old.kid)  # built once
    with pytest.raises(ValueError, match=r"^two keys of the keyring have the key id k1$"):
        Keyring(SigningKey.generate(kid="k1"), (SigningKey.generate(kid="k1"),))


def _published(ring: Keyring) -> dict[str, Any]:
    """The JWKS as a receiving office holds it: the JSON of the published document."""
    return json.loads(json.dumps(ring.jwks()))


def test_a_signed_answer_verifies_offline_from_the_jwks_json_only() -> None:
    answer_claims = {"iss": ISSUER, "aud": "taipei-labor-office", "iat": NOW,
                     "exp": 4_102_444_800, "scheme": "labor", "insured": True,
                     "period": {"from": "2025-01-01", "to": None}, "note": "勞保"}
    answer = sign_answer(KEY, answer_claims)
    assert jwt.get_unverified_header(answer) == {"alg": "EdDSA", "kid": KEY.kid, "typ": "JWT"}
    old = SigningKey.generate()
    jwks = _published(Keyring(old, (KEY,)))
    assert verify_answer(jwks, answer, "taipei-labor-office") == answer_claims
    assert verify_answer(jwks, answer, "taipei-labor-office", issuer=ISSUER) == answer_claims


def _answer_refused(token: str, jwks: dict[str, Any] | None = None,
                    audience: str = "taipei-labor-office", **kwargs: Any) -> str:
    with pytest.raises(TokenError) as refused:
        verify_answer(_published(RING) if jwks is None else jwks, token, audience, **kwargs)
    assert token not in str(refused.value)
    return refused.value.reason


def test_a_signed_answer_is_refused_for_each_reason() -> None:
    claims = {"iss": ISSUER, "aud": "taipei-labor-office", "iat": NOW, "exp": 4_102_444_800}
    answer = sign_answer(KEY, claims)
    assert _answer_refused(answer, audience="moe-schools") == "token audience invalid"
    assert _answer_refused(sign_answer(KEY, {"iat": NOW})) == "token malformed"  # no aud
    assert _answer_refused(answer, issuer="https://evil.example") == "token issuer invalid"
    assert _answer_refused(answer, jwks=_published(Keyring(SigningKey.generate()))) == \
        "unknown signing key"
    assert _answer_refused(answer, jwks={"keys": [{**KEY.public_jwk(), "kty": "RSA"}]}) == \
        "unknown signing key"
    forged = sign_answer(SigningKey.generate(kid=KEY.kid), claims)
    assert _answer_refused(forged) == "token signature invalid"
    assert _answer_refused(sign_answer(KEY, {**claims, "exp": 1_000_000_000})) == \
        "token expired"
    assert _answer_refused(sign_answer(KEY, {**claims, "nbf": 4_102_444_800})) == \
        "token not yet valid"
    access, _ = issue_access_token(KEY, CLIENT, frozenset({"verify:labor"}))
    assert _answer_refused(access, audience=AUDIENCE) == "token type invalid"
    assert _answer_refused(_compact({"alg": "none", "typ": "JWT", "kid": KEY.kid}, claims)) == \
        "algorithm not allowed"
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    hs = _compact({"alg": "HS256", "typ": "JWT", "kid": KEY.kid}, claims,
                  lambda m: hmac.new(raw, m, hashlib.sha256).digest())
    assert _answer_refused(hs) == "algorithm not allowed"
    assert _answer_refused("garbage") == "token malformed"
