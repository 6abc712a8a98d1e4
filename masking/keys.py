"""Key custody for pseudonymisation.

The key comes from ``LAKEHOUSE_PSEUDONYM_KEY`` or, in production, from the Airflow connection
``lakehouse_pseudonym_key`` (password: the key; login: its key id; the connection id can be
changed with ``LAKEHOUSE_PSEUDONYM_KEY_CONN``), so the secret lives in Airflow's secrets
backend, never in the code or the data. A key has at least 32 characters; its UTF-8 bytes are
the HMAC key. Each key has a key id (``LAKEHOUSE_PSEUDONYM_KEY_ID``, the connection's login, or a
fingerprint derived from the key) that every published version records. The key itself never
appears in a repr, a log line, an error, a report or a lineage event.

Rotation: set the new key under a new key id and publish again. The state of a published
version includes its key id, so every dataset is re-published whole under the new key (one
Delta commit each: a version never mixes two keys); older versions stay readable by time
travel with the key id they record.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from kernel.config import MIN_KEY_LENGTH
from kernel.twid import normalise_identifier_text

KEY_ENV = "LAKEHOUSE_PSEUDONYM_KEY"
KEY_ID_ENV = "LAKEHOUSE_PSEUDONYM_KEY_ID"
KEY_CONN_ENV = "LAKEHOUSE_PSEUDONYM_KEY_CONN"
DEFAULT_CONN_ID = "lakehouse_pseudonym_key"


def secret_from_airflow(env: Mapping[str, str], conn_env: str = KEY_CONN_ENV,
                        default_conn_id: str = DEFAULT_CONN_ID) -> tuple[str, str | None] | None:
    """(secret, its id) from an Airflow connection (password: the secret; login: its id), the
    connection id read from ``conn_env`` (default ``default_conn_id``), inside an Airflow task
    or when the connection is defined in the environment (``AIRFLOW_CONN_<ID>``); None
    otherwise. The pseudonymisation key and the services' signing key are read this way."""
    conn_id = env.get(conn_env, default_conn_id)
    if f"AIRFLOW_CONN_{conn_id.upper()}" not in env and "AIRFLOW_CTX_DAG_ID" not in env:
        return None
    try:
        from airflow.sdk import Connection

        conn = Connection.get(conn_id)
    except Exception:  # not defined, or Airflow not reachable: no key from Airflow
        return None
    if conn is None or not conn.password:
        return None
    return str(conn.password), (str(conn.login) if conn.login else None)


class MissingKeyError(RuntimeError):
    """No usable pseudonymisation key: the action that needs one is refused, and the message
    names it (``refusing to publish: …``, ``refusing to re-identify: …``)."""


PUBLISH = "publish"
REIDENTIFY = "re-identify"
VERIFY = "answer verifications"
_ADVICE = {
    PUBLISH: f"Set it to a secret of at least {MIN_KEY_LENGTH} characters held outside the "
             "code and the data.",
    REIDENTIFY: "Set it to the key the data was published with (each published version "
                "records its key id).",
    VERIFY: "Set it to the key gold.coverage_periods was published with (each published "
            "version records its key id).",
}
"""What to do about a missing key, per action: a new secret to publish, the published
version's key to re-identify (any other key finds nobody)."""


@dataclass(frozen=True)
class PseudonymKey:
    """A secret HMAC key and its public key id."""

    key_id: str
    secret: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"PseudonymKey({self.key_id})"

    def person_key(self, identifier: str) -> str:
        """The ``person_key`` of one identifier, in Python: the same HMAC-SHA256 hex of the
        normalised identifier that :func:`masking.pseudonymize.pseudonymize` computes in the
        JVM (for a service answering one request; a job pseudonymises a whole column)."""
        message = normalise_identifier_text(identifier).encode("utf-8")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    @staticmethod
    def fingerprint(secret: bytes) -> str:
        """A public key id derived from the key (a one-way hash; reveals nothing usable)."""
        return "k-" + hashlib.sha256(b"convergence-key-id\x00" + secret).hexdigest()[:12]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, action: str = PUBLISH
                 ) -> PseudonymKey:
        """The key from the environment; refuses a missing or short key with a clear message
        naming ``action``, the work that needs the key (:data:`PUBLISH`, :data:`REIDENTIFY`)."""
        e = os.environ if env is None else env
        raw = e.get(KEY_ENV, "")
        conn_key_id = None
        if not raw:
            found = secret_from_airflow(e)
            if found:
                raw, conn_key_id = found
        if not raw:
            raise MissingKeyError(
                f"refusing to {action}: no pseudonymisation key ({KEY_ENV} is not set and no "
                f"Airflow connection {e.get(KEY_CONN_ENV, DEFAULT_CONN_ID)} holds one). "
                f"{_ADVICE.get(action, _ADVICE[PUBLISH])}"
            )
        if len(raw) < MIN_KEY_LENGTH:
            raise MissingKeyError(
                f"refusing to {action}: the pseudonymisation key in {KEY_ENV} is too short "
                f"({len(raw)} characters; at least {MIN_KEY_LENGTH} are required)."
            )
        secret = raw.encode("utf-8")
        return cls(key_id=e.get(KEY_ID_ENV) or conn_key_id or cls.fingerprint(secret),
                   secret=secret)
