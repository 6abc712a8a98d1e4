"""Airflow's roles mapped to the lakehouse's: the default map, the environment's, a FAB user's
several roles, and a role the lakehouse does not know (no default)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from console.auth import ROLE_MAP, airflow_roles, lakehouse_role, role_map


@dataclass
class SimpleUser:
    """A user as the simple auth manager has it: one role."""

    role: str | None


@dataclass
class Role:
    name: str


@dataclass
class FabUser:
    """A user as the FAB auth manager has it: several named roles."""

    roles: list[Role]


def test_default_map_makes_admins_and_ops_stewards() -> None:
    assert role_map({}) == ROLE_MAP
    assert {r: lakehouse_role(SimpleUser(r), {}) for r in ("admin", "op", "user", "viewer")} == {
        "admin": "steward", "op": "steward", "user": "auditor", "viewer": "analyst"}


def test_no_mapped_role_is_no_role_never_a_default() -> None:
    assert lakehouse_role(SimpleUser(None), {}) is None
    assert lakehouse_role(SimpleUser("public"), {}) is None


def test_a_user_with_several_roles_acts_in_the_most_privileged() -> None:
    user = FabUser([Role("Viewer"), Role("User")])
    assert airflow_roles(user) == ["viewer", "user"]
    assert lakehouse_role(user, {}) == "auditor"


def test_the_environment_replaces_the_map() -> None:
    env = {"LAKEHOUSE_CONSOLE_ROLES": "Admin=steward, Auditors=auditor"}
    assert role_map(env) == {"admin": "steward", "auditors": "auditor"}
    assert lakehouse_role(FabUser([Role("Auditors")]), env) == "auditor"
    assert lakehouse_role(SimpleUser("viewer"), env) is None
    with pytest.raises(ValueError, match="'op=root' maps to no lakehouse role"):
        role_map({"LAKEHOUSE_CONSOLE_ROLES": "op=root"})
