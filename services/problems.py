"""Refusals as RFC 9457 problem details (``application/problem+json``).

Every refusal of the service is a :class:`Problem`: an HTTP status, a short title, and one
``detail`` line that says what was wrong and what to do, naming a scope, a purpose, a field or a
version, **never a value the caller sent** (an identifier in a refusal would end up in the
caller's and any proxy's logs). ``type`` is a stable URI per kind of refusal, under
:data:`TYPE_BASE`, so a client can branch on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://lakehouse.bli.gov.tw/problems/"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """A refusal: status, a stable kind (the last segment of ``type``), and one detail line.

    ``headers`` are sent with it (``WWW-Authenticate`` on a 401, ``Retry-After`` on a 429);
    ``extra`` members join the document (RFC 9457 §3.2), e.g. OAuth's ``error`` code.
    """

    def __init__(self, status: int, kind: str, detail: str,
                 headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document (RFC 9457 §3.1 members)."""
        doc: dict[str, Any] = {"type": TYPE_BASE + self.kind,
                               "title": TITLES.get(self.status, "Error"),
                               "status": self.status, "detail": self.detail, **self.extra}
        if instance:
            doc["instance"] = instance
        return doc


def unauthorized(detail: str) -> Problem:
    """401 with the ``WWW-Authenticate`` challenge of RFC 6750 §3."""
    return Problem(401, "unauthorized", detail,
                   {"WWW-Authenticate": 'Bearer realm="lakehouse", error="invalid_token"'})


def forbidden(kind: str, detail: str) -> Problem:
    """403: authenticated, but the token or the client's registration does not allow it."""
    return Problem(403, kind, detail)


def unprocessable(detail: str) -> Problem:
    """422: a well-formed request whose content is not acceptable (never echoing it)."""
    return Problem(422, "invalid-request", detail)


def too_many(retry_after: float) -> Problem:
    """429 with ``Retry-After`` in whole seconds (at least 1)."""
    seconds = max(1, int(-(-retry_after // 1)))
    return Problem(429, "rate-limited",
                   f"rate limit of this client exceeded; retry after {seconds} s",
                   {"Retry-After": str(seconds)})
