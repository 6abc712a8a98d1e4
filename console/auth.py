"""Who may see the console's pages: Airflow's own authentication, Airflow's roles mapped to
the lakehouse's roles.

Airflow does not protect a plugin's FastAPI app: every page depends on :func:`viewer`, which
reads the caller's JWT as the API server does (``Authorization: Bearer``, else the ``_token``
cookie the UI's login sets) and asks Airflow's auth manager who it is. No token, or an expired
one: 401 (the page says where to log in); an invalid one: 403. A page about one DAG also asks
the auth manager whether the user may read that DAG's runs (:func:`require_dag`).

The lakehouse role of an Airflow user (:func:`lakehouse_role`): the first of ``steward``,
``auditor``, ``analyst`` that one of the user's Airflow roles maps to by :data:`ROLE_MAP`
(``admin`` and ``op`` → steward, ``user`` → auditor, ``viewer`` → analyst), or by
``LAKEHOUSE_CONSOLE_ROLES`` (``admin=steward,op=steward,user=auditor,viewer=analyst``): a user
with no mapped role is refused (403), never given a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

ROLE_MAP: dict[str, str] = {"admin": "steward", "op": "steward", "user": "auditor",
                            "viewer": "analyst"}
"""Airflow role (lower case) → lakehouse role, unless ``LAKEHOUSE_CONSOLE_ROLES`` says
otherwise."""
PRECEDENCE = ("steward", "auditor", "analyst")
"""The lakehouse roles, most privileged first (a user with several takes the first)."""


@dataclass(frozen=True)
class Viewer:
    """An authenticated Airflow user and the lakehouse role they act in."""

    name: str
    role: str
    user: Any
    """Airflow's user object (for the auth manager's questions)."""


def role_map(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """:data:`ROLE_MAP`, or ``LAKEHOUSE_CONSOLE_ROLES`` (``airflow=lakehouse`` pairs, comma
    separated) when set; a pair naming no lakehouse role raises ``ValueError``."""
    e = os.environ if env is None else env
    text = (e.get("LAKEHOUSE_CONSOLE_ROLES") or "").strip()
    if not text:
        return dict(ROLE_MAP)
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        airflow_role, _, role = pair.partition("=")
        if role.strip().lower() not in PRECEDENCE:
            raise ValueError(f"LAKEHOUSE_CONSOLE_ROLES: {pair!r} maps to no lakehouse role "
                             f"(one of {', '.join(PRECEDENCE)})")
        out[airflow_role.strip().lower()] = role.strip().lower()
    return out


def airflow_roles(user: Any) -> list[str]:
    """The Airflow role names of ``user``, lower case: the simple auth manager's ``role``, or
    the names of a FAB user's ``roles``."""
    names: list[str] = []
    if isinstance(getattr(user, "role", None), str):
        names.append(user.role)
    for r in getattr(user, "roles", None) or ():
        names.append(str(getattr(r, "name", r)))
    return [n.lower() for n in names]


def lakehouse_role(user: Any, env: Mapping[str, str] | None = None) -> str | None:
    """The lakehouse role of Airflow user ``user`` (module docstring), or ``None``."""
    mapping = role_map(env)
    mapped = {mapping[r] for r in airflow_roles(user) if r in mapping}
    return next((r for r in PRECEDENCE if r in mapped), None)


def _token(request: Request) -> str | None:
    """The JWT of the request: the bearer token, else the UI's ``_token`` cookie."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN)


async def viewer(request: Request) -> Viewer:
    """The caller, authenticated by Airflow's auth manager (a FastAPI dependency): 401 without
    a valid token, 403 with an invalid one or without a mapped role."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    user = await resolve_user_from_token(_token(request))
    role = lakehouse_role(user)
    name = str(user.get_name())
    if role is None:
        raise HTTPException(403, f"user {name} has no Airflow role the lakehouse knows "
                                 f"({', '.join(sorted(role_map()))})")
    return Viewer(name=name, role=role, user=user)


def require_dag(who: Viewer, dag_id: str) -> None:
    """403 unless Airflow's auth manager lets ``who`` read the runs of DAG ``dag_id``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        DagAccessEntity,
        DagDetails,
    )

    allowed = get_auth_manager().is_authorized_dag(
        method="GET", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id),
        user=who.user)
    if not allowed:
        raise HTTPException(403, f"user {who.name} may not read the runs of {dag_id}")


def require_role(who: Viewer, roles: tuple[str, ...], what: str) -> None:
    """403 naming the role unless ``who`` acts in one of ``roles``."""
    if who.role not in roles:
        raise HTTPException(403, f"role {who.role} may not read {what}: "
                                 f"{' and '.join(f'{r}s' for r in roles)} only")
