"""Settings from the environment, with embedded defaults for a laptop.

Every setting has a local default, so that ``make demo`` runs on a fresh machine; the same code
runs on a cluster and object storage by configuration alone (``SPARK_MASTER``,
``LAKEHOUSE_ROOT=s3a://bucket/path``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kernel.layout import local_path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_KEY_LENGTH = 32


def _uri(value: str) -> str:
    """A storage root as a URI-ish string: local paths made absolute, URIs kept as given."""
    if "://" in value or value.startswith("file:"):
        return value.rstrip("/")
    return str(Path(value).expanduser().resolve())


@dataclass(frozen=True)
class Settings:
    """The lakehouse's runtime configuration."""

    root: str
    spark_master: str
    jars_dir: Path
    shuffle_partitions: int
    spark_driver_memory: str
    cache_dir: Path
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The environment the settings were read from (sources' URLs and credentials)."""

    def get(self, key: str, default: str | None = None) -> str | None:
        """A setting of the environment the settings were read from (``None`` if unset)."""
        value = self.env.get(key)
        return default if value in (None, "") else value

    @property
    def is_local(self) -> bool:
        """True when the storage root is a local directory (:func:`kernel.layout.local_path`)."""
        return local_path(self.root) is not None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: the process environment)."""
        e = os.environ if env is None else env
        return cls(
            root=_uri(e.get("LAKEHOUSE_ROOT", str(REPO_ROOT / "lakehouse"))),
            spark_master=e.get("SPARK_MASTER", "local[*]"),
            jars_dir=Path(e.get("LAKEHOUSE_JARS_DIR", str(REPO_ROOT / ".jars"))),
            shuffle_partitions=int(e.get("LAKEHOUSE_SHUFFLE_PARTITIONS", "4")),
            spark_driver_memory=e.get("LAKEHOUSE_DRIVER_MEMORY", "4g"),
            cache_dir=Path(e.get("LAKEHOUSE_CACHE_DIR", str(REPO_ROOT / ".cache"))),
            env=dict(e),
        )
