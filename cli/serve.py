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


def _signing_key(root: str, demo: bool) -> Any:
    """The signing keyring: from the environment, else (demo) the kept demo key."""
    from services.tokens import Keyring, MissingSigningKey, SigningKey

    try:
        return Keyring(SigningKey.from_env())
    except MissingSigningKey:
        if not demo:
            raise
    pem = _demo_dir(root) / "demo-signing-key.pem"
    if pem.is_file():
        key = SigningKey.from_pem(pem.read_bytes())
    else:
        key = SigningKey.generate()
        pem.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key.to_pem())
    note(f"LAKEHOUSE_SERVICE_SIGNING_KEY is not set: signing with the demo key {key.kid} "
         f"({pem}; demo only)")
    return Keyring(key)


def _registry(root: str, demo: bool) -> Any:
    """The client registry: the file of ``LAKEHOUSE_SERVICE_CLIENTS``, else (demo) fresh demo
    clients whose secrets are shown once."""
    from services.clients import REGISTRY_ENV, RegistryError, load_registry, write_demo_registry

    path = os.environ.get(REGISTRY_ENV)
    if path:
        return load_registry(path)
    if not demo:
        raise RegistryError(f"no client registry: set {REGISTRY_ENV} to the registry file")
    folder = _demo_dir(root)
    registry_file = folder / "demo-clients.yaml"
    issued = write_demo_registry(registry_file)
    secrets_file = folder / "demo-secrets.json"
    fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(issued, f, indent=2)
    note(f"{REGISTRY_ENV} is not set: demo clients {', '.join(issued)} registered in "
         f"{registry_file}, their secrets (demo only) in {secrets_file}")
    return load_registry(registry_file)


def _pseudonym_key(demo: bool) -> Any:
    from masking.keys import KEY_ENV, VERIFY, MissingKeyError, PseudonymKey

    try:
        return PseudonymKey.from_env(action=VERIFY)
    except MissingKeyError:
        if not demo:
            raise
    from sandbox.demo import DEMO_KEY

    key = PseudonymKey.from_env({KEY_ENV: DEMO_KEY})
    note(f"{KEY_ENV} is not set: looking persons up with the demo key {key.key_id} "
         "(as make demo publishes; demo only)")
    return key


def config(args: argparse.Namespace) -> ServiceConfig:
    """The service configuration of the command's arguments and environment."""
    from kernel.config import Settings
    from services.state import ServiceConfig

    root = Settings.from_env().root
    return ServiceConfig(root=root, registry=_registry(root, args.demo),
                         keyring=_signing_key(root, args.demo),
                         pseudonym_key=_pseudonym_key(args.demo))


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the service until interrupted."""
    import uvicorn

    from masking.keys import MissingKeyError
    from services.app import create_app
    from services.clients import RegistryError
    from services.tokens import MissingSigningKey

    try:
        cfg = config(args)
    except (MissingKeyError, MissingSigningKey, RegistryError) as exc:
        fail(f"serve: {exc}")
        return REFUSED
    done(f"serving {len(cfg.registry)} client(s) on http://{args.host}:{args.port} "
         f"(documentation: /docs) from {cfg.root}")
    uvicorn.run(create_app(cfg), host=args.host, port=args.port, log_level="warning",
                access_log=args.access_log, timeout_graceful_shutdown=5)
    return 0


def add_parsers(sub: Any) -> None:
    """Add ``serve`` to the ``lakehouse`` sub-commands."""
    s = sub.add_parser("serve", help="the data services for other agencies (HTTP)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=DEFAULT_PORT)
    s.add_argument("--demo", action="store_true",
                   help="fill a missing key or registry with demo ones, and say so")
    s.add_argument("--access-log", action="store_true",
                   help="log each request line (paths and status; never bodies)")
    s.set_defaults(func=cmd_serve)
