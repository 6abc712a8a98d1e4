"""Offline validation of RunEvents against the OpenLineage JSON Schemas (spec 2-0-2).

The schemas are copies: ``OpenLineage.json`` and ``facets/*.json`` in the folder
``LAKEHOUSE_OPENLINEAGE_SCHEMA_DIR`` names (formerly ``OPENLINEAGE_SPEC_DIR``, still read), by
default the unchanged copy kept with this module (``lineage/spec/openlineage/``). Each is
registered by its ``$id`` in a ``referencing.Registry`` so that every ``$ref`` resolves without
network access. Where they are missing, validating raises :class:`SpecMissing` (and
:func:`spec_problem` says what is missing and how to provide it). The event is
validated against ``OpenLineage.json#/$defs/RunEvent`` and every facet against the schema its
``_schemaURL`` names (the file by URL, the ``$defs`` entry by the fragment); the facet's key must
be the one its schema file declares (``schema``, ``columnLineage``, ...).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

RUN_EVENT_REF = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
SCHEMA_DIR_ENV = "LAKEHOUSE_OPENLINEAGE_SCHEMA_DIR"
"""The setting naming the folder of the schema copies."""
LEGACY_SCHEMA_DIR_ENV = "OPENLINEAGE_SPEC_DIR"
BUNDLED = Path(__file__).resolve().parent / "spec" / "openlineage"
"""The schemas of spec 2-0-2, copied unchanged from the OpenLineage repository (Apache-2.0)."""

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


class SpecMissing(FileNotFoundError):
    """The OpenLineage JSON Schemas are not in the folder they are looked for in."""


def spec_dir() -> Path:
    """The folder of the copied schemas: ``LAKEHOUSE_OPENLINEAGE_SCHEMA_DIR`` (or the former
    ``OPENLINEAGE_SPEC_DIR``), else :data:`BUNDLED` (the copy kept with this module)."""
    configured = os.environ.get(SCHEMA_DIR_ENV) or os.environ.get(LEGACY_SCHEMA_DIR_ENV)
    if configured:
        return Path(configured)
    return BUNDLED


def spec_problem(folder: Path | None = None) -> str | None:
    """Why the schemas cannot be loaded from ``folder`` (default :func:`spec_dir`): what is
    missing and how to provide it; ``None`` when ``OpenLineage.json`` is there."""
    where = folder or spec_dir()
    if (where / "OpenLineage.json").is_file():
        return None
    return (f"the OpenLineage JSON Schemas (spec 2-0-2) are not in {where}: put OpenLineage.json "
            f"and facets/*.json there (a copy of the OpenLineage repository's spec/), or set "
            f"{SCHEMA_DIR_ENV} to the folder that holds them")


class _Spec:
    """The loaded schemas: a registry by ``$id`` and the facet key each facet file declares."""

    def __init__(self, folder: Path) -> None:
        problem = spec_problem(folder)
        if problem is not None:
            raise SpecMissing(problem)
        files = [folder / "OpenLineage.json", *sorted((folder / "facets").glob("*.json"))]
        self.documents: dict[str, dict[str, Any]] = {}
        for path in files:
            document = json.loads(path.read_text(encoding="utf-8"))
            self.documents[document["$id"]] = document
        if RUN_EVENT_REF.split("#")[0] not in self.documents:
            raise SpecMissing(f"no OpenLineage.json (spec 2-0-2) in {folder}")
        self.registry: Registry[Any] = Registry().with_resources(
            (uri, Resource.from_contents(doc, default_specification=DRAFT202012))
            for uri, doc in self.documents.items()
        )
        self.checker = _format_checker()

    def validator(self, ref: str) -> Draft202012Validator:
        """A validator for the schema at ``ref`` (absolute URL with fragment)."""
        return Draft202012Validator(
            {"$ref": ref}, registry=self.registry, format_checker=self.checker
        )

    def facet_keys(self, url: str) -> set[str]:
        """The facet key(s) the schema file declares for the ``$defs`` entry ``url`` names."""
        base, _, fragment = url.partition("#")
        props = self.documents[base].get("properties", {})
        return {key for key, sub in props.items() if sub.get("$ref") == f"#{fragment}"}


def _format_checker() -> FormatChecker:
    """The draft's format checker plus ``date-time`` and ``uri`` (no optional packages)."""
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(_URI.match(value))

    return checker


@lru_cache(maxsize=4)
def _spec(folder: str) -> _Spec:
    return _Spec(Path(folder))


def validate_event(event: Mapping[str, Any], spec: Path | None = None) -> list[str]:
    """Every way ``event`` breaks the spec, as ``"<json path>: <message>"`` (empty: valid)."""
    loaded = _spec(str(spec or spec_dir()))
    errors = [_message(e) for e in _leaves(loaded.validator(RUN_EVENT_REF).iter_errors(event))]
    for where, key, facet in _facets(event):
        errors.extend(_check_facet(loaded, where, key, facet))
    return sorted(dict.fromkeys(errors))


def _check_facet(spec: _Spec, where: str, key: str, facet: Any) -> list[str]:
    if not isinstance(facet, Mapping):
        return [f"{where}: a facet must be an object"]
    url = facet.get("_schemaURL")
    if not isinstance(url, str):
        return [f"{where}: no _schemaURL"]
    base, _, fragment = url.partition("#")
    if base not in spec.documents or not fragment.startswith("/$defs/"):
        return [f"{where}: no local schema for _schemaURL {url}"]
    if fragment.removeprefix("/$defs/") not in spec.documents[base].get("$defs", {}):
        return [f"{where}: {base} has no {fragment}"]
    errors = [
        f"{where}{_message(e).removeprefix('$')}"
        for e in _leaves(spec.validator(url).iter_errors(facet))
    ]
    keys = spec.facet_keys(url)
    if keys and key not in keys:
        errors.append(f"{where}: facet key {key!r} where its schema declares {sorted(keys)}")
    return errors


def _facets(event: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """``(json path, key, facet)`` for every facet of the event."""
    holders: list[tuple[str, Any]] = [
        ("$.run.facets", _get(event, "run", "facets")),
        ("$.job.facets", _get(event, "job", "facets")),
    ]
    for role, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        datasets = event.get(role)
        for i, ds in enumerate(datasets if isinstance(datasets, list) else []):
            holders.append((f"$.{role}[{i}].facets", _get(ds, "facets")))
            holders.append((f"$.{role}[{i}].{extra}", _get(ds, extra)))
    for path, facets in holders:
        if isinstance(facets, Mapping):
            for key, facet in facets.items():
                yield f"{path}.{key}", key, facet


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, Mapping) else None
    return obj


def _leaves(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    """The innermost errors (``anyOf``/``allOf`` wrap the useful ones in their context)."""
    for error in errors:
        if error.context:
            yield from _leaves(iter(error.context))
        else:
            yield error


def _message(error: ValidationError) -> str:
    return f"{error.json_path}: {error.message}"
