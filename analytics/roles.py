"""Who is asking and what they may read: the roles of the lakehouse.

The caller is ``LAKEHOUSE_USER`` (else ``os:<operating-system user>``) and their role is
``LAKEHOUSE_ROLE``: ``analyst`` (the default: the least privilege), ``steward`` or ``auditor``.
An unknown role is refused, never mapped to a default.

**Where a real identity provider plugs in.** :func:`identity` is the one function that turns
the environment into an :class:`Identity`. In production, replace it (or the launcher that sets
the two variables) by one that authenticates the caller (OIDC token, Kerberos ticket) and maps
their groups to one of :data:`ROLES`; every access decision goes through :func:`refusal`, so
nothing else changes.

Who reads what (the bureau's dataset specification, "Zones and who reads them"; the table
below is the rule as this module enforces it, nothing is read from beside the checkout):

=============  ======================================
zone           roles
=============  ======================================
gold           analyst, steward, auditor
opendata       analyst, steward, auditor
silver         steward
quarantine     steward
bronze         steward
system         auditor, steward
=============  ======================================

A published dataset (gold, opendata) is readable only by the roles of its contract's
``audience`` (``public`` means every role): ``gold.deceased_with_active_payments`` is for
stewards and investigators, so neither analysts nor auditors read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

ROLES = ("analyst", "steward", "auditor")
DEFAULT_ROLE = "analyst"
ZONE_READERS: dict[str, tuple[str, ...]] = {
    "gold": ("analyst", "steward", "auditor"),
    "opendata": ("analyst", "steward", "auditor"),
    "silver": ("steward",),
    "quarantine": ("steward",),
    "bronze": ("steward",),
    "system": ("auditor", "steward"),
}
PUBLIC_AUDIENCES = frozenset({"public", "everyone"})
IDENTIFIER_FILTER_ROLES = frozenset({"steward"})
"""Roles whose SQL may hold an identifier literal (a steward looking a person up in silver);
for the others such a query is refused (see :mod:`analytics.query`)."""


class UnknownRole(ValueError):
    """``LAKEHOUSE_ROLE`` names no role of the lakehouse."""


@dataclass(frozen=True)
class Identity:
    """The caller: who (recorded in the audit log) and in which role."""

    user: str
    role: str


def identity(env: Mapping[str, str] | None = None) -> Identity:
    """The caller from ``LAKEHOUSE_USER`` / ``LAKEHOUSE_ROLE`` (see the module docstring).

    Raises :class:`UnknownRole` for a role that is not one of :data:`ROLES`.
    """
    e = os.environ if env is None else env
    role = (e.get("LAKEHOUSE_ROLE") or DEFAULT_ROLE).strip().lower()
    if role not in ROLES:
        raise UnknownRole(f"LAKEHOUSE_ROLE={role!r} is not a role of the lakehouse "
                          f"(one of {', '.join(ROLES)})")
    user = (e.get("LAKEHOUSE_USER") or "").strip()
    if not user:
        import getpass

        user = f"os:{getpass.getuser()}"
    return Identity(user=user, role=role)


def readable_zones(role: str) -> tuple[str, ...]:
    """The zones ``role`` may read."""
    return tuple(z for z, readers in ZONE_READERS.items() if role in readers)


def audience_roles(audience: Sequence[str]) -> tuple[str, ...]:
    """The roles of the lakehouse an audience list names (``public``: every role)."""
    if PUBLIC_AUDIENCES & set(audience):
        return ROLES
    return tuple(r for r in ROLES if r in audience)


def refusal(role: str, name: str, zone: str, audience: Sequence[str] | None = None) -> str | None:
    """Why ``role`` may not read table ``name`` of ``zone`` (``None`` if it may).

    ``audience`` is the contract audience of a published dataset (``None`` for tables without
    one: entities, feeds, system tables). The reason names the role, the table and the zone.
    """
    readers = ZONE_READERS.get(zone, ())
    if role not in readers:
        who = ", ".join(f"{r}s" for r in readers) or "no role"
        return f"role {role} may not read {name}: zone {zone} is read by {who} only"
    if audience is not None and role not in audience_roles(audience):
        return (f"role {role} may not read {name} (zone {zone}): the dataset's contract "
                f"audience is {', '.join(audience)}")
    return None
