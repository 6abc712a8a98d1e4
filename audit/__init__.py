"""The append-only, hash-chained audit log of the lakehouse (kept in ``<root>/system/audit/``)."""

from audit.log import (
    ACTIONS,
    GENESIS_HASH,
    AuditEntry,
    AuditLog,
    AuditLogCorrupted,
    VerifyResult,
    check_no_personal_values,
    entries,
    head,
    verify,
)

__all__ = [
    "ACTIONS",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditLog",
    "AuditLogCorrupted",
    "VerifyResult",
    "check_no_personal_values",
    "entries",
    "head",
    "verify",
]
