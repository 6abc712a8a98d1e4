"""The demo's agencies when the storage root is an object store (``s3a://…``).

On a local root the generator writes the deliveries straight into ``<root>/inbox`` and the
bundled API simulator's data into ``<root>/sources``. On an object store the agencies' side
stays on this machine: the generator writes into a local staging folder laid out as a root
(``LAKEHOUSE_SANDBOX_DIR``, default ``.cluster/sandbox`` in the checkout), the deliveries are
then put into the root's inbox object by object (as an agency's upload would), and the
simulator serves its data from the staging folder (``LAKEHOUSE_SOURCES_DIR``, read by
:func:`pull.api.embedded_source`). Development only, like the rest of the sandbox.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from audit.objects import folder
from kernel.config import REPO_ROOT, Settings
from pull.api import SOURCES_DIR_ENV

SANDBOX_DIR_ENV = "LAKEHOUSE_SANDBOX_DIR"


def unreachable(root: str) -> str | None:
    """Why the object-store root cannot be used (one line, no credentials), or ``None``."""
    try:
        folder(root).names()
    except Exception as exc:  # obstore's errors: unreachable endpoint, no credentials, ...
        reason = " ".join(str(exc).split("Debug source")[0].split())[:160]
        return (f"the storage root {root} cannot be reached ({type(exc).__name__}: {reason}); "
                "for the cluster profile run 'make cluster-up' and 'source .cluster/env'")
    return None


def staging_dir(settings: Settings) -> Path:
    """The local folder the generator writes to for an object-store root (emptied of earlier
    deliveries: the inbox is what is uploaded)."""
    staging = Path(settings.get(SANDBOX_DIR_ENV) or REPO_ROOT / ".cluster" / "sandbox")
    shutil.rmtree(staging / "inbox", ignore_errors=True)
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def sources_env(staging: Path) -> dict[str, str]:
    """The settings that point the bundled simulators at the staging folder's data."""
    return {SOURCES_DIR_ENV: str(staging / "sources")}


def upload_inbox(staging: Path, root: str) -> int:
    """Put every file of ``<staging>/inbox`` into ``<root>/inbox`` at the same relative path,
    each object written whole, a delivery's digest file after its data file (name order);
    returns the number of files."""
    inbox = staging / "inbox"
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    for path in files:
        rel = path.relative_to(inbox)
        folder(f"{root.rstrip('/')}/inbox/{rel.parent.as_posix()}").put(path.name,
                                                                         path.read_bytes())
    return len(files)
