"""The DAG documentation derived from the contracts (:mod:`kernel.contracts.docs`): every
field with its personal-data class and masking, every rule with its action, the gates, the
owner and cadence; tags by agency and zone."""

from __future__ import annotations

from kernel import contracts
from kernel.contracts import docs


def test_a_feeds_doc_names_owner_cadence_delivery_fields_rules_and_gates() -> None:
    fc = contracts.feed("moi.household_registry")
    text = docs.feed_doc_md(fc)
    assert fc.owner["agency"] in text and f"`{fc.owner['steward']}`" in text
    assert "**Cadence:** daily (`@daily`)" in text
    assert "file drop in `inbox/moi/household_registry`" in text and "cp950" in text
    for f in fc.fields:
        assert f"| `{f.name}` | {f.wire} | {f.type} | {f.pii} | {f.masking} |" in text
    for r in fc.rules:
        line = next(x for x in text.splitlines() if x.startswith(f"| `{r.id}` |"))
        assert line.endswith(f"| {r.action} |")
    assert "at most 20%" in text and f"within {fc.gates.freshness_hours:g} h" in text
    assert "`moi/household_registry.yaml` version" in text


def test_a_pulled_feed_says_where_it_is_pulled_from() -> None:
    assert "pulled (api_pull) from `/v1/insured-status`" in docs.feed_doc_md(
        contracts.feed("nhia.insured_status"))


def test_a_datasets_doc_names_audience_inputs_gates_and_columns() -> None:
    dc = contracts.dataset("gold.deceased_with_active_payments")
    text = docs.dataset_doc_md(dc)
    assert f"**Audience:** {', '.join(dc.audience)}" in text
    assert "`moi.household_registry`, `bli.benefit_payments`" in text
    assert "**Gates:** quality, reconciliation, no_personal_data" in text
    for c in dc.columns:
        assert f"| `{c.name}` | {c.type} |" in text


def test_tags_by_agency_and_zone() -> None:
    assert docs.feed_tags(contracts.feed("bli.benefit_payments")) == [
        "feed", "agency:bli", "zone:silver", "daily"]
    dc = contracts.dataset("opendata.insured_by_county_age_sex")
    assert docs.dataset_tags(dc, ["moi", "bli", "moi"]) == [
        "publish", "zone:opendata", "agency:bli", "agency:moi"]
