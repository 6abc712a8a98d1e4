"""The append-only, hash-chained audit log of the lakehouse (``<root>/system/audit/``)."""

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
    main,
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
    "main",
    "verify",
]
