"""Publishing a dataset: build the candidate, pass every gate, commit it in one Delta version.

The candidate is the contract's transform over the inputs' silver tables (:mod:`jobs`: business
columns only), masked by the plan the contract's column policies derive
(:func:`masking.dataset_plan.apply_dataset_plan`: keyed pseudonyms, generalisations, free-text
scrubbing; a column handed over already generalised is checked instead). Gates, in order: a
pseudonymisation key, the reconciliation of every input, the provenance of every input
version (:mod:`stages.provenance`: no change made outside the pipeline), the masking plan, the
leak gate over every text column, and for open data the disclosure gate. A refused publish
leaves the last version in place and says which gate failed, with counts, never values. The
commit metadata of every version names the run, the contract and input versions, the quality
results, the key id and the audit log's head (``audit_anchor``). Publishing the same inputs
again is up to date.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from kernel import contracts, faults
from kernel.context import Context
from kernel.contracts import DatasetContract
from kernel.digests import results_reference
from kernel.locks import lock
from masking.keys import MissingKeyError, PseudonymKey
from stages.provenance import provenance_problems
from stages.results import Problem, PublishResult

DEFAULT_TRANSFORM = "jobs.person_coverage:person_coverage"


def publish(ctx: Context, dc: DatasetContract, snapshot_date: date) -> PublishResult:
    """Build the candidate, pass every gate, then publish it atomically in one Delta commit.

    The publish is a job of its own in the lineage (START, then COMPLETE or FAIL)."""
    from lineage import pipeline as lp

    job = f"publish.{dc.name}"
    ins, outs = lp.publish_datasets(ctx, dc)
    lp.emit(ctx, "START", job, ins, outs)
    try:
        with lock(ctx, dc.name):
            res = _publish(ctx, dc, snapshot_date)
    except Exception as exc:
        lp.emit(ctx, "FAIL", job, ins, outs, error=f"{type(exc).__name__} in {job}")
        raise
    ins, outs = lp.publish_datasets(ctx, dc)
    problems = "; ".join(str(p) for p in res.problems) or None
    lp.emit(ctx, "FAIL" if problems else "COMPLETE", job, ins, outs, error=problems)
    return res


def _publish(ctx: Context, dc: DatasetContract, snapshot_date: date) -> PublishResult:
    """The publish under the dataset's lock: key, inputs, up-to-date check, candidate."""
    res = PublishResult(dc.name, "refused")
    try:
        key = PseudonymKey.from_env()
    except MissingKeyError as exc:
        res.problems.append(Problem(dc.name, "-", str(exc)))
        ctx.audit("gate_failure", {"dataset": dc.name, "status": res.status,
                                   "reasons": [str(exc)]})
        return res
    res.key_id = key.key_id
    inputs = inputs_state(ctx, dc)
    missing = [n for n, s in inputs.items() if s["silver_version"] is None]
    if missing:
        res.problems.append(Problem(dc.name, "-", f"no silver data yet for {', '.join(missing)}"))
        _record_publish(ctx, dc, res, inputs)
        return res
    res.problems.extend(reconciliation_problems(ctx, dc))
    res.problems.extend(provenance_problems(ctx, dc))
    if res.problems:
        _record_publish(ctx, dc, res, inputs)
        return res
    state = {
        "dataset": dc.name, "contract_version": dc.version, "inputs": inputs,
        "key_id": key.key_id, "snapshot_date": snapshot_date.isoformat(),
    }
    current = ctx.storage.commit_metadata(dc.zone, dc.table)
    if current and all(current.get(k) == v for k, v in state.items()):
        return _up_to_date(ctx, dc, res, inputs, current)
    _publish_candidate(ctx, dc, res, state, current, key, snapshot_date)
    _record_publish(ctx, dc, res, inputs)
    return res


def _up_to_date(ctx: Context, dc: DatasetContract, res: PublishResult, inputs: dict[str, Any],
                current: dict[str, Any]) -> PublishResult:
    """The current version was built from exactly these inputs: nothing to publish. Heals what a
    run killed after its commit left undone (the open-data export, the publish record)."""
    st = ctx.storage
    res.status, res.version = "up_to_date", st.version(dc.zone, dc.table)
    res.rows = st.read(dc.zone, dc.table).count()
    _export_open_data(ctx, dc, res, current)
    recorded = ctx.records.rows("publishes", dataset=dc.name, version=res.version,
                                status="published")
    if not recorded:  # published by a run killed before it recorded the publish
        res.status = "published"
        _record_publish(ctx, dc, res, inputs,
                        note=f"recovered: committed by run {current.get('run_id')}, which "
                             "stopped before recording it")
        res.status = "up_to_date"
        return res
    ctx.audit("run", {"dataset": dc.name, "status": res.status, "version": res.version,
                      "key_id": res.key_id})
    return res


def _publish_candidate(ctx: Context, dc: DatasetContract, res: PublishResult,
                       state: dict[str, Any], current: dict[str, Any], key: PseudonymKey,
                       snapshot_date: date) -> None:
    """Build the candidate (the transform's business columns, masked by the dataset's plan
    derived from its contract), pass the leak and disclosure gates, commit it (one version) and
    export its open-data files; a candidate the plan refuses or a failed gate leaves ``res``
    refused with its problems (columns and counts, never values)."""
    from masking.dataset_plan import PlanRefusal, apply_dataset_plan
    from masking.leak import scan

    st = ctx.storage
    try:
        candidate = apply_dataset_plan(
            transform(dc)(silver_inputs(ctx, dc), snapshot_date, dc), dc, key, snapshot_date
        ).persist()
    except PlanRefusal as exc:
        res.problems.extend(Problem(dc.name, column, f"masking plan: {reason}")
                            for column, reason in exc.problems)
        return
    try:
        pseudonyms = tuple(c.name for c in dc.columns if c.masking == "pseudonymize")
        findings = scan(candidate, dc.name, known_values(ctx, dc), pseudonyms)
        res.problems.extend(Problem(dc.name, f.column, f"leak gate: {f}") for f in findings)
        if not res.problems:
            res.problems.extend(disclosure_problems(dc, candidate))
        if res.problems:
            return
        metadata = {**state, "run_id": ctx.run_id,
                    "quality_results": _quality_results(ctx, dc),
                    "published_at": ctx.now.isoformat(timespec="seconds") + "Z",
                    "audit_anchor": _audit_anchor(ctx)}
        previous_key = current.get("key_id") if current else None
        if previous_key and previous_key != key.key_id:
            ctx.audit("key_rotation", {"dataset": dc.name, "from_key_id": previous_key,
                                       "to_key_id": key.key_id})
        st.overwrite(candidate, dc.zone, dc.table, metadata)
        faults.point("gold.written")
        res.status = "published"
        res.version = st.version(dc.zone, dc.table)
        res.rows = st.read(dc.zone, dc.table).count()
        _export_open_data(ctx, dc, res, metadata)
    finally:
        candidate.unpersist()


def inputs_state(ctx: Context, dc: DatasetContract) -> dict[str, Any]:
    """The silver versions (events table and entity) and contract versions the candidate is
    built from."""
    out: dict[str, Any] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        out[name] = {
            "contract_version": fc.version,
            "silver_version": ctx.storage.version("silver", fc.entity),
            "entity": fc.entity,
            "events_version": ctx.storage.version("silver", fc.name),
        }
    return out


def transform(dc: DatasetContract) -> Callable[..., DataFrame]:
    """The dataset's pure transform, ``module:function`` of its contract."""
    module, _, func = (dc.transform or DEFAULT_TRANSFORM).partition(":")
    fn: Callable[..., DataFrame] = getattr(importlib.import_module(module), func)
    return fn


def silver_inputs(ctx: Context, dc: DatasetContract) -> dict[str, DataFrame]:
    """Each input feed's silver tables by name: its events (``<feed>``) and its entity."""
    out: dict[str, DataFrame] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        out[fc.name] = ctx.storage.read("silver", fc.name)
        out[fc.entity] = ctx.storage.read("silver", fc.entity)
    return out


def known_values(ctx: Context, dc: DatasetContract) -> dict[str, DataFrame]:
    """The personal values of the inputs the leak gate searches for, by recognizer entity
    (a contract field's ``entity``): names, identifiers, addresses, account numbers."""
    known: dict[str, DataFrame] = {}
    for name in dc.inputs:
        fc = contracts.feed(name)
        for f in fc.fields:
            if f.entity and f.type == "string":
                col = ctx.storage.read("silver", fc.name).select(F.col(f.name).alias("v"))
                known[f.entity] = known[f.entity].unionByName(col) if f.entity in known else col
    return known


def reconciliation_problems(ctx: Context, dc: DatasetContract) -> list[Problem]:
    """Batches of the inputs that are unaccounted for: landed but not processed, or failed."""
    problems = []
    for name in dc.inputs:
        landed = ctx.records.rows("deliveries", feed=name, status="landed")
        latest = ctx.records.latest_rows("batches", ["batch_id", "stage"], feed=name)
        silver_done = {r["batch_id"] for r in latest if r["stage"] == "silver"}
        refused = {r["batch_id"] for r in latest if r["status"] == "refused"}
        pending = sum(1 for r in landed if r["batch_id"] not in silver_done | refused)
        if pending:
            problems.append(Problem(name, "-", f"reconciliation gate: {pending} landed batch(es) "
                                    "not processed yet; run the feed first"))
        bad = sum(1 for r in latest if r["stage"] == "silver" and r["status"] == "failed"
                  and (r["reason"] or "").startswith("reconciliation"))
        if bad:
            problems.append(Problem(name, "-", f"reconciliation gate: {bad} batch(es) do not "
                                    "reconcile (bronze != silver + quarantined + duplicates)"))
    return problems


def disclosure_problems(dc: DatasetContract, candidate: DataFrame) -> list[Problem]:
    """The disclosure gate of an open-data dataset: its small-cell rule holds (counts, never
    values, in the messages)."""
    if "disclosure" not in dc.gates:
        return []
    from jobs.opendata_export import disclosure_settings
    from masking.disclosure import check_disclosure

    rule = disclosure_settings(dc)
    if rule is None:
        return [Problem(dc.name, "-", "disclosure gate: the contract has no options.disclosure "
                        "rule; an open-data publish needs one")]
    found = check_disclosure(candidate, list(rule.dimensions), None, rule.count_column,
                             rule.low, rule.high)
    return [Problem(dc.name, rule.count_column, f"disclosure gate: {p}") for p in found]


def _quality_results(ctx: Context, dc: DatasetContract) -> dict[str, Any]:
    """The reference to the quality results of the inputs (:func:`results_reference`)."""
    return results_reference(
        sorted({str(r["result_id"]) for r in ctx.records.rows("quality_results")
                if r["feed"] in dc.inputs})
    )


def _export_open_data(
    ctx: Context, dc: DatasetContract, res: PublishResult, metadata: dict[str, Any]
) -> None:
    """Export the published open-data version as files (CSV with BOM, Parquet, dictionary)
    unless the pointer already names this version."""
    if dc.zone != "opendata" or res.version is None:
        return
    from jobs.opendata_export import current, export_open_data

    target = ctx.layout.opendata_files(dc.table)
    pointed = current(ctx.storage.spark, target)
    if pointed is not None and str(pointed.get("version")) == str(res.version):
        return
    keep = ("snapshot_date", "key_id", "run_id", "published_at", "contract_version")
    export_open_data(ctx.storage.read(dc.zone, dc.table, version=res.version), dc, target,
                     str(res.version), {**{k: metadata.get(k) for k in keep},
                                        "delta_version": res.version})


def _audit_anchor(ctx: Context) -> str:
    """``SEQ:HASH`` of the audit log's head, kept in the published version's commit metadata:
    ``lakehouse audit verify`` checks that the log still reaches every anchor unchanged."""
    from audit.log import head

    seq, digest = head(ctx.layout.audit_dir)
    return f"{seq}:{digest}"


def _record_publish(
    ctx: Context, dc: DatasetContract, res: PublishResult, inputs: dict[str, Any],
    note: str | None = None,
) -> None:
    ctx.audit("publish" if res.status == "published" else "gate_failure", {
        "dataset": dc.name, "status": res.status, "version": res.version, "rows": res.rows,
        "key_id": res.key_id, "reasons": [p.reason for p in res.problems],
        **({"note": note} if note else {})})
    ctx.records.append("publishes", [{
        "dataset": dc.name, "version": res.version, "status": res.status,
        "reason": "; ".join(p.reason for p in res.problems) or note, "rows": res.rows,
        "key_id": res.key_id, "inputs": json.dumps(inputs, sort_keys=True),
        "contract_version": dc.version, "run_id": ctx.run_id, "at": ctx.now,
    }])
