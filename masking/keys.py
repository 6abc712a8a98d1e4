"""Key custody for pseudonymisation.

The key comes from ``LAKEHOUSE_PSEUDONYM_KEY`` (at least 32 characters; its UTF-8 bytes are
the HMAC key). Each key has a key id (``LAKEHOUSE_PSEUDONYM_KEY_ID``, or a fingerprint derived
from the key) that every published version records. The key itself never appears in a repr,
a log line, an error, a report or a lineage event.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from convergence.config import MIN_KEY_LENGTH

KEY_ENV = "LAKEHOUSE_PSEUDONYM_KEY"
KEY_ID_ENV = "LAKEHOUSE_PSEUDONYM_KEY_ID"


class MissingKeyError(RuntimeError):
    """No usable pseudonymisation key: publishing is refused."""


@dataclass(frozen=True)
class PseudonymKey:
    """A secret HMAC key and its public key id."""

    key_id: str
    secret: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"PseudonymKey({self.key_id})"

    @staticmethod
    def fingerprint(secret: bytes) -> str:
        """A public key id derived from the key (a one-way hash; reveals nothing usable)."""
        return "k-" + hashlib.sha256(b"convergence-key-id\x00" + secret).hexdigest()[:12]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PseudonymKey:
        """The key from the environment; refuses a missing or short key with a clear message."""
        e = os.environ if env is None else env
        raw = e.get(KEY_ENV, "")
        if not raw:
            raise MissingKeyError(
                f"refusing to publish: no pseudonymisation key ({KEY_ENV} is not set). "
                f"Set it to a secret of at least {MIN_KEY_LENGTH} characters held outside the "
                "code and the data."
            )
        if len(raw) < MIN_KEY_LENGTH:
            raise MissingKeyError(
                f"refusing to publish: the pseudonymisation key in {KEY_ENV} is too short "
                f"({len(raw)} characters; at least {MIN_KEY_LENGTH} are required)."
            )
        secret = raw.encode("utf-8")
        return cls(key_id=e.get(KEY_ID_ENV) or cls.fingerprint(secret), secret=secret)
