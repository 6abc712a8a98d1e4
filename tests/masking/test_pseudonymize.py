"""person_key is the HMAC-SHA256 of the normalised identifier, computed in the JVM."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.testing import assertDataFrameEqual

from masking.keys import MissingKeyError, PseudonymKey
from masking.pseudonymize import hmac_pads, pseudonymize

SECRET = "s3cret-key-for-tests-0123456789-abcdef"


def _expected(identifier: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def test_person_key_equals_independent_hmac(spark):
    key = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": SECRET})
    df = spark.createDataFrame(
        [(1, "A123456789"), (2, " ａ１２３４５６７８９ "), (3, "a123456789"), (4, "AC01234567")],
        "id int, national_id string")
    out = pseudonymize(df, key, "national_id", "person_key")
    expected = spark.createDataFrame(
        [(1, _expected("A123456789")), (2, _expected("A123456789")),
         (3, _expected("A123456789")), (4, _expected("AC01234567"))],
        "id int, person_key string")
    assertDataFrameEqual(out, expected)


def test_the_python_person_key_equals_the_jvm_one(spark):
    """The service computes one person_key in Python; the jobs compute them in the JVM: the
    same identifier in any of its written forms gives the same key both ways (a long key too)."""
    forms = ["A123456789", " ａ１２３４５６７８９\u3000", "a123456789\t", "ac01234567",
             "A800000014"]
    for secret in (SECRET, "k" * 100):
        key = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": secret})
        df = spark.createDataFrame([(i, f) for i, f in enumerate(forms)], "id int, nid string")
        jvm = {r.id: r.person_key for r in pseudonymize(df, key, "nid", "person_key").collect()}
        assert [key.person_key(f) for f in forms] == [jvm[i] for i in range(len(forms))]
    assert key.person_key(" ａ１２３４５６７８９ ") == _expected("A123456789", "k" * 100)


def test_long_keys_are_hashed_first():
    long = b"k" * 100
    ipad, opad = hmac_pads(long)
    assert len(ipad) == len(opad) == 64
    assert ipad[:32] == bytes(b ^ 0x36 for b in hashlib.sha256(long).digest())


def test_a_missing_or_short_key_is_refused():
    with pytest.raises(MissingKeyError, match="no pseudonymisation key"):
        PseudonymKey.from_env({})
    with pytest.raises(MissingKeyError, match="too short"):
        PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": "short"})


def test_the_key_never_shows(spark):
    key = PseudonymKey.from_env({"LAKEHOUSE_PSEUDONYM_KEY": SECRET})
    assert SECRET not in repr(key) and SECRET not in str(key)
    assert key.key_id.startswith("k-") and key.key_id == PseudonymKey.fingerprint(SECRET.encode())
    df = spark.createDataFrame([("A123456789",)], "national_id string")
    plan = pseudonymize(df, key, "national_id", "person_key")._jdf.queryExecution().toString()
    ipad, opad = hmac_pads(SECRET.encode())
    assert SECRET not in plan and ipad.hex() not in plan.lower() and opad.hex() not in plan.lower()


def test_key_id_can_be_named():
    env = {"LAKEHOUSE_PSEUDONYM_KEY": SECRET, "LAKEHOUSE_PSEUDONYM_KEY_ID": "2026-q4"}
    assert PseudonymKey.from_env(env).key_id == "2026-q4"


def test_key_from_an_airflow_connection(monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    conn = {"conn_type": "generic", "login": "2026-q4", "password": SECRET}
    env = {"AIRFLOW_CONN_LAKEHOUSE_PSEUDONYM_KEY": json.dumps(conn)}
    monkeypatch.setenv("AIRFLOW_CONN_LAKEHOUSE_PSEUDONYM_KEY", json.dumps(conn))
    key = PseudonymKey.from_env(env)
    assert key.key_id == "2026-q4" and key.secret == SECRET.encode()
    # The environment variable wins over the connection.
    other = "another-key-for-tests-0123456789-abcdef"
    assert PseudonymKey.from_env({**env, "LAKEHOUSE_PSEUDONYM_KEY": other}).secret == other.encode()
