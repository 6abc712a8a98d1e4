"""``lakehouse serve``: the data services for other agencies (FastAPI on uvicorn).

In production every secret comes from outside the repository: the client registry from the
file named by ``LAKEHOUSE_SERVICE_CLIENTS`` (hashed secrets only), the Ed25519 signing key from
``LAKEHOUSE_SERVICE_SIGNING_KEY`` or the Airflow connection ``lakehouse_service_signing_key``,
and the pseudonymisation key gold.person_coverage was published with, as for a publish. A
missing one is refused in one line naming what to set (exit status 2).

``--demo`` (``make serve``) fills what is missing and says so: the demo pseudonymisation key
(as ``make demo`` does), a signing key kept in ``<root>/system/services/demo-signing-key.pem``,
and a registry of demo clients written to ``<root>/system/services/demo-clients.yaml`` with
fresh secrets shown once and kept, for the README's examples, in ``demo-secrets.json`` beside
it (mode 0600; demo only).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.common import REFUSED, done, fail, note

if TYPE_CHECKING:
    from services.state import ServiceConfig

DEFAULT_PORT = 8400


def _demo_dir(root: str) -> Path:
    from kernel.layout import Layout

    return Layout(root).zone_dir("system") / "services"


def _demo_signing_key(root: str) -> None:
    """Without a signing key, the kept demo key (created once), put in the environment."""
    from services.tokens import KEY_ENV, SigningKey

    if os.environ.get(KEY_ENV):
        return
    pem = _demo_dir(root) / "demo-signing-key.pem"
    if not pem.is_file():
        pem.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(SigningKey.generate().to_pem())
    key = SigningKey.from_pem(pem.read_bytes())
    os.environ[KEY_ENV] = pem.read_text(encoding="ascii")
    note(f"{KEY_ENV} is not set: signing with the demo key {key.kid} ({pem}; demo only)")


def _demo_registry(root: str) -> None:
    """Without a registry, fresh demo clients whose secrets are kept beside it (demo only)."""
    from services.clients import REGISTRY_ENV, write_demo_registry

    if os.environ.get(REGISTRY_ENV):
        return
    folder = _demo_dir(root)
    registry_file = folder / "demo-clients.yaml"
    issued = write_demo_registry(registry_file)
    secrets_file = folder / "demo-secrets.json"
    fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(issued, f, indent=2)
    os.environ[REGISTRY_ENV] = str(registry_file)
    note(f"{REGISTRY_ENV} is not set: demo clients {', '.join(issued)} registered in "
         f"{registry_file}, their secrets (demo only) in {secrets_file}")


def _demo_pseudonym_key() -> None:
    """Without a pseudonymisation key, the one ``make demo`` publishes with."""
    from masking.keys import KEY_CONN_ENV, KEY_ENV, PseudonymKey

    if os.environ.get(KEY_ENV) or os.environ.get(KEY_CONN_ENV):
        return
    from sandbox.demo import DEMO_KEY

    os.environ[KEY_ENV] = DEMO_KEY
    key = PseudonymKey.from_env({KEY_ENV: DEMO_KEY})
    note(f"{KEY_ENV} is not set: looking persons up with the demo key {key.key_id} "
         "(as make demo publishes; demo only)")


def config(args: argparse.Namespace) -> ServiceConfig:
    """The service configuration: the environment's (``ServiceConfig.from_env``), what is
    missing filled with demo keys and clients first when ``--demo``."""
    from kernel.config import Settings
    from services.state import WORKERS_ENV, ServiceConfig

    if args.demo:
        root = Settings.from_env().root
        _demo_registry(root)
        _demo_signing_key(root)
        _demo_pseudonym_key()
    os.environ[WORKERS_ENV] = str(args.workers)
    return ServiceConfig.from_env()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the service until interrupted (``--workers`` processes, each building the same
    configuration from the environment)."""
    import uvicorn

    from masking.keys import MissingKeyError
    from services.app import create_app
    from services.clients import RegistryError
    from services.tokens import MissingSigningKey

    if args.workers < 1:
        fail("serve: --workers must be at least 1")
        return REFUSED
    try:
        cfg = config(args)
    except (MissingKeyError, MissingSigningKey, RegistryError) as exc:
        fail(f"serve: {exc}")
        return REFUSED
    taken = _unavailable(args.host, args.port)
    if taken:
        fail(f"serve: cannot listen on {args.host}:{args.port}: {taken}")
        return 1
    done(f"serving {len(cfg.registry)} client(s) on http://{args.host}:{args.port} "
         f"(documentation: /docs) from {cfg.root}, {args.workers} worker(s)")
    common: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": "warning",
                              "access_log": args.access_log, "timeout_graceful_shutdown": 5}
    if args.workers == 1:
        uvicorn.run(create_app(cfg), **common)
    else:
        uvicorn.run("services.app:from_env", factory=True, workers=args.workers, **common)
    return 0


def _unavailable(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, not an address of this host), checked
    before saying the service is up; ``None`` if it can (uvicorn binds it right after)."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def add_parsers(sub: Any) -> None:
    """Add ``serve`` to the ``lakehouse`` sub-commands."""
    s = sub.add_parser("serve", help="the data services for other agencies (HTTP)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    s.add_argument("--demo", action="store_true",
                   help="fill a missing key or registry with demo ones, and say so")
    s.add_argument("--workers", type=int, default=1,
                   help="processes serving together (one per core; default 1)")
    s.add_argument("--access-log", action="store_true",
                   help="log each request line (paths and status; never bodies)")
    s.set_defaults(func=cmd_serve)
