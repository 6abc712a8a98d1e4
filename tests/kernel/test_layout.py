"""The zone layout of a storage root: local paths, ``file:`` URIs and remote (``s3a://``) roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.layout import ZONES, Layout, local_path, split_table

LOCAL = ("/data/lakehouse", "/data/lakehouse/", "file:/data/lakehouse", "file:///data/lakehouse",
         "file:///data/lakehouse/")  # fmt: skip
REMOTE = "s3a://bucket/lakehouse"


@pytest.mark.parametrize("uri", ["/x/y", "file:/x/y", "file:///x/y"])
def test_local_path_of_local_locations(uri: str) -> None:
    assert local_path(uri) == Path("/x/y")


def test_local_path_of_relative_and_remote_locations() -> None:
    assert local_path("lakehouse/gold") == Path("lakehouse/gold")
    assert local_path(REMOTE) is None
    assert local_path("hdfs://nn:8020/lh") is None


@pytest.mark.parametrize("root", LOCAL)
def test_a_local_root(root: str) -> None:
    layout = Layout(root)
    assert layout.is_local and layout.local == Path("/data/lakehouse")
    assert layout.uri == "file:///data/lakehouse"
    base = layout.root
    assert not base.endswith("/")
    assert layout.table("gold", "person_coverage") == f"{base}/gold/person_coverage"
    assert layout.delta_uri("silver", "moi.residents") == "/data/lakehouse/silver/moi.residents"
    assert layout.zone_dir("system") == Path("/data/lakehouse/system")
    assert layout.inbox_dir == Path("/data/lakehouse/inbox")
    assert layout.inbox("moi/household_registry") == f"{base}/inbox/moi/household_registry"
    assert layout.lineage_dir == Path("/data/lakehouse/system/lineage")
    assert layout.audit_dir == Path("/data/lakehouse/system/audit")
    assert layout.reports_dir == Path("/data/lakehouse/system/reports/quality")
    assert layout.sources_dir == Path("/data/lakehouse/sources")
    assert layout.source_dir("nhia.insured_status") == Path(
        "/data/lakehouse/sources/nhia/insured_status")


def test_a_relative_root_stays_relative() -> None:
    layout = Layout("lakehouse")
    assert layout.local == Path("lakehouse") and layout.inbox_dir == Path("lakehouse/inbox")
    assert layout.delta_uri("gold", "t") == "lakehouse/gold/t"


def test_a_remote_root() -> None:
    layout = Layout(REMOTE + "/")
    assert not layout.is_local and layout.local is None
    assert layout.root == REMOTE and layout.uri == REMOTE
    assert layout.table("bronze", "moi.household_registry") == \
        f"{REMOTE}/bronze/moi.household_registry"
    assert layout.delta_uri("gold", "person_coverage") == f"{REMOTE}/gold/person_coverage"
    assert layout.landed_batch("moi.household_registry", "b1") == \
        f"{REMOTE}/landing/moi.household_registry/b1"
    assert layout.lock("moi.household_registry") == \
        f"{REMOTE}/system/locks/moi.household_registry.lock"
    assert layout.opendata_files("t") == f"{REMOTE}/opendata/files/t"
    assert layout.audit_dir == f"{REMOTE}/system/audit"  # objects there (audit.files)
    for local_only in ("inbox_dir", "lineage_dir", "reports_dir", "sources_dir"):
        with pytest.raises(ValueError, match="needs a local storage root"):
            getattr(layout, local_only)
    with pytest.raises(ValueError, match="needs a local storage root"):
        layout.source_dir("nhia.insured_status")


def test_unknown_zones_and_feed_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown zone"):
        Layout(REMOTE).table("platinum", "t")
    with pytest.raises(ValueError, match="unknown zone"):
        Layout("/lh").zone_dir("platinum")
    with pytest.raises(ValueError, match=r"<agency>\.<table>"):
        Layout("/lh").source_dir("nhia")


def test_split_table() -> None:
    assert split_table("gold.person_coverage") == ("gold", "person_coverage")
    assert split_table("silver.moi.residents") == ("silver", "moi.residents")
    assert all(split_table(f"{zone}.t") == (zone, "t") for zone in ZONES)
    for not_a_table in ("platinum.t", "gold.", "gold", "./gold.csv", "data/gold.person.csv",
                        "s3a://bucket/gold.t", "person_coverage.csv"):
        assert split_table(not_a_table) is None, not_a_table
