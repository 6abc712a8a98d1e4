"""Re-identification: a steward's action, refused otherwise, always in the audit log."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from audit.log import entries
from kernel.context import Context
from masking.keys import PseudonymKey
from masking.reidentify import ReidentificationRefused, reidentify

SECRET = b"reidentify-test-key-0123456789abcdef"
KEY = PseudonymKey("k-test", SECRET)


def _silver(ctx: Context) -> None:
    residents = ctx.storage.spark.createDataFrame(
        [("A123456789", "x"), ("B287654321", "y")], "national_id string, name string")
    ctx.storage.append(residents, "silver", "moi.residents")
    farmers = ctx.storage.spark.createDataFrame([("ａ123456789 ",)], "national_id string")
    ctx.storage.append(farmers, "silver", "moa.farmers")


def _key(identifier: str) -> str:
    return hmac.new(SECRET, identifier.encode(), hashlib.sha256).hexdigest()


def test_a_steward_finds_the_person_in_every_table_and_it_is_audited(ctx):
    _silver(ctx)
    matches = reidentify(ctx, _key("A123456789"), "case 2024-117: payment stopped", KEY,
                         "steward")
    assert [(m.national_id, m.tables) for m in matches] == [
        ("A123456789", ("silver/moa.farmers", "silver/moi.residents"))]
    [entry] = list(entries(ctx.layout.audit_dir, "reidentification"))
    assert entry.actor == "steward:test"
    assert entry.details == {"run_id": "test-run", "person_key": _key("A123456789"),
                             "reason": "case 2024-117: payment stopped", "key_id": "k-test",
                             "found": 1}
    assert "A123456789" not in entry.to_line()


def test_an_unknown_key_finds_no_one_and_is_audited_too(ctx):
    _silver(ctx)
    assert reidentify(ctx, _key("Z999999999"), "case 2024-118", KEY, "steward") == []
    [entry] = list(entries(ctx.layout.audit_dir, "reidentification"))
    assert entry.details["found"] == 0


@pytest.mark.parametrize(("role", "person_key", "reason", "message"), [
    ("analyst", "a" * 64, "case 1", "role 'analyst' may not re-identify"),
    ("steward", "not-a-key", "case 1", "64 lowercase hexadecimal digits"),
    ("steward", "a" * 64, "  ", "needs a reason"),
    ("steward", "a" * 64, "call A123456789 back", "without personal data"),
])
def test_refusals_say_why_and_write_nothing(ctx, role, person_key, reason, message):
    with pytest.raises(ReidentificationRefused, match=message):
        reidentify(ctx, person_key, reason, KEY, role)
    assert list(entries(ctx.layout.audit_dir, "reidentification")) == []
