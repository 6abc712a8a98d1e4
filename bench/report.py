"""The benchmark's figures, their targets, and the JSON and Markdown it writes.

A :class:`Figure` is one side-by-side comparison: *ours* against a *baseline*, each the median of
the runs, and the ratio the issue sets a target for. For a time ratio the target is a maximum
(``ours / baseline <= 1.5``); for a speed-up a minimum (``baseline / ours >= 20``).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def median(values: Sequence[float]) -> float:
    """The median (0 for no values)."""
    return float(statistics.median(values)) if values else 0.0


@dataclass
class Figure:
    """One measured comparison and its target."""

    key: str
    label: str
    ours: float
    baseline: float
    ratio: float
    unit: str = "s"
    target: float | None = None
    direction: str = "max"  # "max": ratio <= target; "min": ratio >= target
    ratio_label: str = "ours / baseline"
    runs_ours: list[float] = field(default_factory=list)
    runs_baseline: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None when the figure has no target)."""
        if self.target is None:
            return None
        return self.ratio <= self.target if self.direction == "max" else self.ratio >= self.target

    def target_text(self) -> str:
        """``≤ 1.5`` / ``≥ 20`` / ``—``."""
        if self.target is None:
            return "—"
        return f"{'≤' if self.direction == 'max' else '≥'} {self.target:g}"

    def as_dict(self) -> dict[str, Any]:
        """JSON form, ``met`` and the target's text included."""
        d = asdict(self)
        d["met"] = self.met
        d["target_text"] = self.target_text()
        return d


def time_figure(key: str, label: str, ours: Sequence[float], baseline: Sequence[float],
                target: float | None, note: str = "") -> Figure:
    """``median(ours) / median(baseline)``, at most ``target``."""
    o, b = median(ours), median(baseline)
    return Figure(key, label, o, b, o / b if b else float("inf"), target=target,
                  runs_ours=list(ours), runs_baseline=list(baseline), note=note)


def speedup_figure(key: str, label: str, ours: Sequence[float], baseline: Sequence[float],
                   target: float | None, note: str = "") -> Figure:
    """``median(baseline) / median(ours)``, at least ``target``."""
    o, b = median(ours), median(baseline)
    return Figure(key, label, o, b, b / o if o else float("inf"), target=target,
                  direction="min", ratio_label="baseline / ours", runs_ours=list(ours),
                  runs_baseline=list(baseline), note=note)


def _num(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "share":
        return f"{value:.3f}"
    return f"{value:,.3g}"


def _ratio(f: Figure) -> str:
    return f"{f.ratio:.3f}" if f.unit == "share" else f"{f.ratio:.2f}×"


def _met(f: Figure) -> str:
    return {None: "—", True: "yes", False: "**no**"}[f.met]


def figures_table(figures: Sequence[Figure]) -> list[str]:
    """The Markdown table: figure, ours, baseline, ratio, target, met?"""
    lines = ["| figure | ours | baseline | ratio | target | met? |",
             "|---|---:|---:|---:|---:|:---:|"]
    for f in figures:
        lines.append(f"| {f.label} | {_num(f.ours, f.unit)} | {_num(f.baseline, f.unit)} | "
                     f"{_ratio(f)} ({f.ratio_label}) | {f.target_text()} | {_met(f)} |")
    return lines


def stages_table(breakdowns: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Per stage and part: median seconds of each scenario (full load, incremental, 4N), share
    of the full load, Spark jobs."""
    names = list(breakdowns)
    head = "| stage / part | " + " | ".join(f"{n} (s) | jobs" for n in names) + " | share of " \
           f"{names[0]} |"
    lines = [head, "|---|" + "---:|---:|" * len(names) + "---:|"]
    first = breakdowns[names[0]]
    total = sum(r["seconds"] for r in first if r["kind"] == "stage") or 1.0
    order = [r["name"] for r in first]
    for name in order:
        cells = []
        for n in names:
            row = next((r for r in breakdowns[n] if r["name"] == name), None)
            if row is None:
                cells += ["", ""]
            else:
                jobs = "" if row.get("jobs") is None else str(row["jobs"])
                cells += [f"{row['seconds']:.2f}", jobs]
        row0 = next(r for r in first if r["name"] == name)
        label = f"**{name}**" if row0["kind"] == "stage" else f"&nbsp;&nbsp;{name}"
        share = f"{row0['seconds'] / total:.0%}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {share} |")
    return lines


def parts_table(parts: dict[str, dict[str, float]]) -> list[str]:
    """Each probed part's median seconds per scenario."""
    names = list(parts)
    keys = sorted({k for v in parts.values() for k in v}, key=lambda k: -parts[names[0]].get(k, 0))
    lines = ["| part | " + " | ".join(f"{n} (s)" for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(f"{parts[n].get(k, 0.0):.2f}" for n in names) + " |")
    return lines


def per_text_lines(result: dict[str, Any]) -> list[str]:
    """Per-text costs of the masking, and the speed-ups they allow at best."""
    c = result["freetext"]["per_text_ms"]
    share = c["suspicious_share"]
    lines = [
        f"- naive (`analyze` + `anonymize`) on every text: {c['naive_all']:.3f} ms; on the "
        f"texts the prefilter rules out: {c['naive_harmless']:.3f} ms",
        f"- ours on the {share:.0%} the prefilter lets through (Presidio): "
        f"{c['presidio_suspicious']:.3f} ms; the Taiwan recognizers' own pattern search on "
        f"them, without Presidio's engine: {c['recognizers_only']:.3f} ms",
    ]
    if share and c["presidio_suspicious"] and c["recognizers_only"]:
        best = c["naive_all"] / (share * c["presidio_suspicious"])
        direct = c["naive_all"] / (share * c["recognizers_only"])
        lines.append(f"- so at best (no Spark overhead, prefilter free): {best:.1f}× with "
                     f"Presidio on the suspicious texts, {direct:.1f}× with the recognizers "
                     "called directly")
    return lines


def markdown(result: dict[str, Any], figures: Sequence[Figure]) -> str:
    """The results page: machine, configuration, figures against targets, stage breakdown."""
    m, c, load = result["machine"], result["config"], result["machine_load"]
    out = [
        f"# Benchmark {result['date']}: what governance costs",
        "",
        f"{c['persons']:,} persons (4N = {4 * c['persons']:,}), median of {c['repeat']} run(s); "
        f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB; Spark {c['spark_master']}, "
        f"{c['shuffle_partitions']} shuffle partitions; pyspark {m['versions']['pyspark']}, "
        f"delta-spark {m['versions']['delta-spark']}. Wall time {load['wall_seconds']:,.0f} s.",
        "",
    ]
    if load.get("other_processes_cpu_seconds") is not None:
        out += [f"Other processes used {load['other_processes_cpu_seconds']:,.0f} CPU-seconds "
                f"meanwhile ({load['other_processes_share_of_machine']:.0%} of the machine; "
                f"load average mean {load['load_average_mean']}, max "
                f"{load['load_average_max']}).", ""]
    out += ["## Figures", "", *figures_table(figures), ""]
    notes = [f"- *{f.label}*: {f.note}" for f in figures if f.note]
    if notes:
        out += [*notes, ""]
    out += ["## Where the time goes (medians)", "", *stages_table(result["stages"]), ""]
    out += ["## Governance pieces, summed over the four stages (medians)", "",
            *parts_table(result["governance_parts_total"]), ""]
    out += ["## Free text, per text, in one Python process", "", *per_text_lines(result), ""]
    d = result["deliveries"]
    out += ["## Data", "",
            f"- day 1 (full load): {d['full_rows']:,} records, {d['full_bytes'] / 1e6:,.1f} MB; "
            f"day 2 (incremental): {d['incremental_rows']:,} records",
            f"- 4N day 1: {d['full_rows_4n']:,} records, {d['full_bytes_4n'] / 1e6:,.1f} MB",
            f"- free text: {result['freetext']['sample']['texts']:,} remarks of "
            f"bli.benefit_payments, {result['freetext']['sample']['prefiltered_share']:.0%} "
            "sent to Presidio by the prefilter; evaluation set "
            f"{result['freetext']['evalset']['texts']} labelled remarks", ""]
    return "\n".join(out)


def write(out_dir: Path, name: str, result: dict[str, Any], figures: Sequence[Figure]) -> tuple[
        Path, Path]:
    """``<out>/<name>.json`` and ``<out>/<name>.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = {**result, "figures": [f.as_dict() for f in figures]}
    js = out_dir / f"{name}.json"
    js.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n",
                  encoding="utf-8")
    md = out_dir / f"{name}.md"
    md.write_text(markdown(result, figures) + "\n", encoding="utf-8")
    return js, md
