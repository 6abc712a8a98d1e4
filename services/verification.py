"""Document-free e-verification (免書證謄本, 電子查驗): is this person insured on this date?

An agency that already holds a person's national ID or resident certificate number asks about
one scheme on one date, for a registered purpose, under the person's consent reference. The
answer says only that: covered or not, since when, and the day it holds for; it is signed
(compact JWS, Ed25519) so the office can keep it and check it offline with the keys of
``/.well-known/jwks.json``.

**Checks, in order** (each a :class:`~services.problems.Problem` naming the field, scope or
purpose at fault, never a value sent): the token's scope ``verify:<scheme>``; the purpose
registered for the client; the consent reference's shape; the date (ISO, not in the future);
the identifier's shape and check digit (:func:`kernel.twid.is_valid_person_id`, the rule the
quality checks use: a wrong check digit is a 422, never a lookup).

**Lookup.** The identifier is normalised and hashed into ``person_key`` with the
pseudonymisation key (:meth:`masking.keys.PseudonymKey.person_key`, the JVM's HMAC in Python)
and looked up in the latest published ``gold.coverage_periods`` (:mod:`services.periods`): the
period covering the date, hence "since when"; a date after the snapshot date is answered as of
the snapshot date, and the answer says so (``as_of``). The key must be the one the version was
published with (its key id), else the service is unavailable rather than wrong. A person the
published data does not know is not covered: the answer is the same, in the same time, as for
a known person who is not covered, so an agency cannot learn who is known. The identifier
itself is dropped once hashed: the exchange is recorded with the ``person_key``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from kernel.twid import is_valid_person_id, normalise_identifier_text
from masking.keys import PseudonymKey
from services.clients import VERIFY_SCHEMES, Client
from services.periods import DATASET, CoverageUnavailable, PeriodsSource
from services.problems import Problem, forbidden, unprocessable

CONSENT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{3,63}$")
"""A consent reference as the MyData platform or the agency issues it (4 to 64 characters)."""
REQUEST_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


@dataclass(frozen=True)
class VerificationRequest:
    """One question, as the agency sent it (the identifier is dropped once hashed)."""

    national_id: str
    scheme: str
    on: str
    """The date asked about, ISO ``YYYY-MM-DD``."""
    purpose: str
    consent: str
    request_ref: str | None = None
    """The agency's own reference, echoed in the signed answer to bind it to its case."""


@dataclass(frozen=True)
class Checked:
    """A request that passed every check: what the lookup and the record need."""

    scheme: str
    on: date
    purpose: str
    consent: str
    request_ref: str | None
    person_key: str


def check(req: VerificationRequest, client: Client, scopes: frozenset[str], today: date,
          key: PseudonymKey) -> Checked:
    """The request checked in the order of the module docstring; raises :class:`Problem`."""
    if req.scheme not in VERIFY_SCHEMES:
        raise unprocessable(f"scheme must be one of {', '.join(VERIFY_SCHEMES)}")
    scope = f"verify:{req.scheme}"
    if scope not in scopes:
        raise forbidden("missing-scope", f"the token does not hold the scope {scope}")
    if req.purpose not in client.purposes:
        raise forbidden("purpose-not-allowed",
                        "the purpose is not registered for this client (registered: "
                        f"{', '.join(sorted(client.purposes))})")
    if not CONSENT_REF.fullmatch(req.consent) or _looks_personal(req.consent):
        raise unprocessable("consent must be a consent reference of 4 to 64 letters, digits "
                            "and . _ : / - (not a personal value)")
    if req.request_ref is not None and (not REQUEST_REF.fullmatch(req.request_ref)
                                        or _looks_personal(req.request_ref)):
        raise unprocessable("request_ref must be 1 to 64 letters, digits and . _ : / - (not a "
                            "personal value)")
    try:
        on = date.fromisoformat(req.on)
    except ValueError:
        raise unprocessable("date must be an ISO date (YYYY-MM-DD)") from None
    if on > today:
        raise unprocessable("date must not be in the future")
    identifier = normalise_identifier_text(req.national_id)
    if not is_valid_person_id(identifier):
        raise unprocessable("id is not a national ID or resident certificate number with a "
                            "valid check digit")
    return Checked(req.scheme, on, req.purpose, req.consent, req.request_ref,
                   key.person_key(identifier))


def _looks_personal(text: str) -> bool:
    """Whether the audit log would refuse ``text`` as a personal-looking value."""
    from audit.log import check_no_personal_values

    try:
        check_no_personal_values(text)
    except ValueError:
        return True
    return False


def answer(checked: Checked, source: PeriodsSource, key: PseudonymKey) -> dict[str, Any]:
    """The verification claims for a checked request (the caller adds ``iss``, ``aud``,
    ``iat``, ``jti`` and signs): the scheme, the date asked, covered or not and since when, the
    day the answer holds for (``as_of``: the date asked, or the snapshot date when the date is
    later), and the published version it comes from."""
    try:
        version = source.latest()
    except CoverageUnavailable as exc:
        raise Problem(503, "coverage-unavailable", str(exc)) from None
    if version.key_id != key.key_id:
        raise Problem(503, "key-mismatch",
                      f"{DATASET} version {version.version} was published with key id "
                      f"{version.key_id}; this service holds {key.key_id}")
    found = version.answer(checked.person_key, checked.scheme, checked.on)
    claims: dict[str, Any] = {
        "verification": {"scheme": checked.scheme, "date": checked.on.isoformat(),
                         "insured": found.insured,
                         "since": None if found.since is None else found.since.isoformat(),
                         "as_of": found.on.isoformat()},
        "source": {"dataset": DATASET, "version": version.version,
                   "snapshot_date": version.snapshot_date.isoformat()},
        "purpose": checked.purpose,
        "consent": checked.consent,
    }
    if checked.request_ref is not None:
        claims["request_ref"] = checked.request_ref
    return claims
