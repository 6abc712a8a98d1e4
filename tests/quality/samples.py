"""Sample rows and contract variants shared by the quality tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kernel.contracts import CONTRACTS_DIR

HOUSEHOLD = "moi.household_registry"
HOUSEHOLD_YAML = CONTRACTS_DIR / "moi" / "household_registry.yaml"

# The conformed schema of the household feed: the fields, then the raw text of each date field.
CONFORMED_SCHEMA = (
    "national_id string, name string, sex string, birth_date date, address string, "
    "household_no string, change_type string, change_date date, death_date date, "
    "_raw_birth_date string, _raw_change_date string, _raw_death_date string"
)


def conformed_row(**overrides: Any) -> tuple[Any, ...]:
    """A valid conformed household row (a move-in), with ``overrides`` applied."""
    row: dict[str, Any] = {
        "national_id": "A123456789",
        "name": "王小明",
        "sex": "1",
        "birth_date": dt.date(1989, 3, 15),
        "address": "臺北市中正區忠孝東路一段12號3樓",
        "household_no": "F1234567",
        "change_type": "02",
        "change_date": dt.date(2024, 1, 5),
        "death_date": None,
        "_raw_birth_date": "0780315",
        "_raw_change_date": "1130105",
        "_raw_death_date": "",
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"unknown columns {sorted(unknown)}")
    row.update(overrides)
    return tuple(row.values())


EXTRA_FIELDS = [
    {
        "name": "employer_ubn",
        "wire": "雇主統一編號",
        "pii": "none",
        "masking": "keep",
        "rules": [{"id": "employer_ubn.check_digit", "check": "tw_business_id", "action": "fail"}],
    },
    {
        "name": "wage",
        "wire": "月提繳工資",
        "type": "int",
        "required": True,
        "pii": "none",
        "masking": "keep",
        "rules": [
            {"id": "wage.range", "check": "between", "min": 1, "max": 150000, "action": "warn"}
        ],
    },
    {
        "name": "self_rate",
        "wire": "個人自提率",
        "type": "decimal",
        "pii": "none",
        "masking": "keep",
        "rules": [
            {"id": "self_rate.range", "check": "between", "min": 0, "max": 6,
             "action": "quarantine"}
        ],
    },
]
EXTRA_ROW_RULE = {
    "id": "wage.positive_if_rate",
    "expression": "self_rate = 0 OR wage > 0",
    "columns": ["self_rate", "wage"],
    "action": "quarantine",
}


def with_extra_checks(doc: dict[str, Any]) -> None:
    """Add the checks the household contract does not use (business ID, between, int fields)."""
    doc["fields"].extend(EXTRA_FIELDS)
    doc["row_rules"].append(EXTRA_ROW_RULE)
