"""Small objects under a storage root without a JVM: the client of the lowest layers.

The audit log (this package) sits below the kernel, so the object I/O it needs on an object
store lives here, and the kernel's storage (:mod:`kernel.storage`) uses the same client where
Hadoop's connector cannot do what is needed (a create that fails when the object exists).

A :class:`Folder` is a prefix in an `obstore <https://developmentseed.org/obstore/>`_ store:

* ``s3://bucket/path`` and ``s3a://bucket/path``: an S3-compatible store, configured by the
  standard AWS variables, read from the environment by the store itself: ``AWS_ENDPOINT_URL``
  (an on-premises store; path-style requests), ``AWS_ACCESS_KEY_ID``,
  ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION`` (default ``us-east-1``), ``AWS_ALLOW_HTTP=true``
  for a plain-HTTP endpoint. ``s3a`` (Hadoop's name) and ``s3`` (everyone else's) name the same
  objects.
* a local path, ``file:/x`` or ``file:///x``: a folder on the local disk (the same operations,
  used where object-store semantics are wanted on a local root, and in tests).

Contract: :meth:`Folder.create` writes an object only if none exists under that name, atomically
(S3 ``If-None-Match: *``; ``O_EXCL``-like on a local disk): of two writers racing on one name,
on one host or on two, exactly one gets ``True``. An object is written whole or not at all
(:meth:`Folder.put`); :meth:`Folder.names` lists the objects directly in the folder.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import AlreadyExistsError, NotFoundError
from obstore.exceptions import PreconditionError as _Precondition

if TYPE_CHECKING:
    from obstore.store import RetryConfig

OBJECT_SCHEMES = frozenset({"s3", "s3a"})
"""URI schemes served by an S3-compatible store."""


def is_object_uri(uri: str | Path) -> bool:
    """Whether ``uri`` names a place on an S3-compatible store (``s3://``, ``s3a://``)."""
    return str(uri).split("://", 1)[0] in OBJECT_SCHEMES if "://" in str(uri) else False


def split_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key prefix)`` of ``s3a://bucket/a/b`` (the prefix without slashes at its
    ends); ``ValueError`` for a URI that names no bucket."""
    rest = uri.split("://", 1)[1]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{uri}: an object-store URI names a bucket (s3a://bucket/path)")
    return bucket, prefix.strip("/")


@lru_cache(maxsize=16)
def _s3_store(bucket: str, endpoint: str | None, region: str) -> Any:
    """One client per bucket and endpoint (connections are reused across calls); a request is
    tried at most four times within 20 s, so an unreachable store fails in seconds."""
    from obstore.store import S3Store

    options: dict[str, Any] = {"region": region}
    if endpoint:
        options["endpoint"] = endpoint
    allow_http = os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true" or (
        endpoint or "").startswith("http://")
    retry: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=20),
                          "backoff": {"init_backoff": timedelta(milliseconds=100),
                                      "max_backoff": timedelta(seconds=2), "base": 2}}
    return S3Store(bucket, client_options={"allow_http": allow_http, "connect_timeout": "5s"},
                   virtual_hosted_style_request=False, retry_config=retry, **options)


@lru_cache(maxsize=16)
def _local_store(root: str) -> Any:
    from obstore.store import LocalStore

    return LocalStore(root, mkdir=True)


@dataclass(frozen=True)
class Folder:
    """A folder of objects: ``store`` and the key ``prefix`` (no slashes at its ends)."""

    uri: str
    store: Any
    prefix: str

    def key(self, name: str) -> str:
        """The key of the object ``name`` in this folder."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def names(self) -> list[str]:
        """The names of the objects directly in the folder, sorted (none if it is empty or
        does not exist); the empty markers Hadoop's S3A connector leaves for folders are no
        objects here."""
        prefix = self.key("") if self.prefix else None
        try:
            listed = obstore.list_with_delimiter(self.store, prefix)
        except (FileNotFoundError, NotFoundError):
            return []
        cut = len(self.prefix) + 1 if self.prefix else 0
        names = (str(meta["path"])[cut:] for meta in listed["objects"])
        return sorted(n for n in names if n and "/" not in n)  # no directory markers (S3A's)

    def get(self, name: str) -> bytes | None:
        """The content of an object, or ``None`` if there is none."""
        try:
            return bytes(obstore.get(self.store, self.key(name)).bytes())
        except (FileNotFoundError, NotFoundError):
            return None

    def put(self, name: str, data: bytes) -> None:
        """Write an object whole (replacing one of the same name)."""
        obstore.put(self.store, self.key(name), data)

    def create(self, name: str, data: bytes) -> bool:
        """Write an object only if none has that name: ``True`` if this call created it."""
        try:
            obstore.put(self.store, self.key(name), data, mode="create")
        except (AlreadyExistsError, _Precondition, FileExistsError):
            return False
        return True

    def delete(self, name: str) -> None:
        """Delete an object (no error if it is already gone)."""
        with contextlib.suppress(FileNotFoundError, NotFoundError):
            obstore.delete(self.store, self.key(name))


def folder(uri: str | Path) -> Folder:
    """The :class:`Folder` at ``uri``: an S3-compatible store for ``s3://``/``s3a://``, else a
    local folder (``/x``, ``file:/x``, ``file:///x``; created on first write)."""
    text = str(uri).rstrip("/")
    if is_object_uri(text):
        bucket, prefix = split_uri(text)
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT")
        store = _s3_store(bucket, endpoint, os.environ.get("AWS_REGION", "us-east-1"))
        return Folder(text, store, prefix)
    if "://" in text and not text.startswith("file:"):
        raise ValueError(f"{text}: not a local path nor an s3:// or s3a:// URI")
    path = Path("/" + text[len("file:"):].lstrip("/")) if text.startswith("file:") else Path(text)
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return Folder(str(path), _local_store(str(path)), "")
