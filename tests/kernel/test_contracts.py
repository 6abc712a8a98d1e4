"""Contracts load, derive their rules, and name file, field and problem on error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kernel import contracts
from kernel.contracts import ContractError

REAL = Path(contracts.CONTRACTS_DIR) / "moi" / "household_registry.yaml"


def test_real_contracts_load():
    feed = contracts.feed("moi.household_registry")
    assert feed.suite_name == "moi.household_registry.1.0.0"
    assert feed.entity == "moi.residents"
    assert feed.delivery.java_charset == "MS950"
    assert feed.field("national_id").masking == "pseudonymize"
    assert "national_id.required" in [r.id for r in feed.rules]  # derived from required: true
    ds = contracts.dataset("gold.person_coverage")
    assert set(ds.inputs) == {f.name for f in contracts.feeds()}  # a person known to any feed
    assert ds.transform == "jobs.person_coverage:person_coverage"
    assert [c.name for c in ds.columns][:2] == ["person_key", "sex"]
    assert {f.name for f in contracts.feeds()} == {
        "moi.household_registry", "bli.labor_insurance_enrollment",
        "bli.labor_pension_contributions", "nhia.insured_status", "moa.farmer_registry",
        "bli.benefit_payments"}
    assert {d.name for d in contracts.datasets()} == {
        "gold.person_coverage", "gold.deceased_with_active_payments", "gold.dual_enrollment",
        "gold.coverage_periods", "opendata.insured_by_county_age_sex"}


def _broken(tmp_path, mutate) -> Path:
    doc = yaml.safe_load(REAL.read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [
        (lambda d: d["fields"][0].update(type="float"), "field national_id", "unknown type"),
        (lambda d: d["fields"][1].update(masking="keep"), "field name", "direct identifier"),
        (lambda d: d["fields"][3].update(parse=["trim"]), "field birth_date", "date parse step"),
        (lambda d: d["fields"][0]["rules"][0].update(check="luhn"), "rule national_id.check_digit",
         "unknown check"),
        (lambda d: d["fields"][0]["rules"][0].update(action="drop"), "rule national_id.check_digit",
         "unknown action"),
        (lambda d: d.pop("cadence"), "contract", "missing required key 'cadence'"),
        (lambda d: d.update(primary_key=["nid"]), "primary_key", "unknown column 'nid'"),
        (lambda d: d["delivery"].update(file_pattern="MOI_(.*)"), "delivery.file_pattern",
         "file_date"),
        (lambda d: d["fields"].append(dict(d["fields"][0])), "fields", "duplicate field names"),
    ],
)
def test_errors_name_file_field_and_problem(tmp_path, mutate, where, problem):
    path = _broken(tmp_path, mutate)
    with pytest.raises(ContractError) as info:
        contracts.load(path)
    assert str(path) in str(info.value)
    assert where in info.value.where
    assert problem in info.value.problem


def test_not_yaml(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("kind: feed\n  bad: [", encoding="utf-8")
    with pytest.raises(ContractError, match="not valid YAML"):
        contracts.load(path)


def test_unknown_feed_lists_known():
    with pytest.raises(KeyError, match=r"moi\.household_registry"):
        contracts.feed("moi.nothing")
