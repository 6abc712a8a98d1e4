"""Roles: who the caller is, and which zones and datasets each role may read."""

from __future__ import annotations

import pytest

from analytics import roles
from analytics.roles import Identity, UnknownRole, identity, refusal
from kernel import contracts


def test_the_default_role_is_the_least_privileged_analyst():
    assert identity({"LAKEHOUSE_USER": "chen"}) == Identity("chen", "analyst")
    assert identity({"LAKEHOUSE_USER": "chen", "LAKEHOUSE_ROLE": ""}).role == "analyst"


def test_the_user_is_lakehouse_user_else_the_operating_system_user():
    import getpass

    assert identity({}).user == f"os:{getpass.getuser()}"
    assert identity({"LAKEHOUSE_USER": "  lin  ", "LAKEHOUSE_ROLE": "Steward"}) == Identity(
        "lin", "steward")


def test_an_unknown_role_is_refused_not_defaulted():
    with pytest.raises(UnknownRole, match=r"'admin' is not a role.*analyst, steward, auditor"):
        identity({"LAKEHOUSE_ROLE": "admin"})


@pytest.mark.parametrize(("role", "zone", "allowed"), [
    ("analyst", "gold", True), ("analyst", "opendata", True), ("analyst", "silver", False),
    ("analyst", "quarantine", False), ("analyst", "bronze", False), ("analyst", "system", False),
    ("steward", "gold", True), ("steward", "silver", True), ("steward", "quarantine", True),
    ("steward", "bronze", True), ("steward", "system", True),
    ("auditor", "gold", True), ("auditor", "opendata", True), ("auditor", "system", True),
    ("auditor", "silver", False), ("auditor", "quarantine", False),
    ("analyst", "landing", False), ("steward", "landing", False),
])
def test_zones_each_role_reads(role, zone, allowed):
    assert (refusal(role, f"{zone}.t", zone) is None) is allowed
    assert (zone in roles.readable_zones(role)) is allowed


def test_a_refusal_names_role_table_and_zone():
    reason = refusal("analyst", 'silver."moi.residents"', "silver")
    assert reason == ('role analyst may not read silver."moi.residents": zone silver is read '
                      "by stewards only")


def test_the_contract_audience_restricts_a_published_dataset():
    audience = contracts.dataset("gold.deceased_with_active_payments").audience
    assert set(audience) == {"steward", "investigator"}
    name = "gold.deceased_with_active_payments"
    assert refusal("steward", name, "gold", audience) is None
    for role in ("analyst", "auditor"):
        reason = refusal(role, name, "gold", audience)
        assert reason is not None
        assert f"role {role} may not read {name} (zone gold)" in reason
        assert "audience is steward, investigator" in reason


def test_public_datasets_are_read_by_every_role_and_analyst_datasets_by_analysts():
    public = contracts.dataset("opendata.insured_by_county_age_sex").audience
    assert roles.audience_roles(public) == roles.ROLES
    coverage = contracts.dataset("gold.person_coverage").audience
    assert all(refusal(r, "gold.person_coverage", "gold", coverage) is None for r in roles.ROLES)
