"""The machine a benchmark ran on, and how busy other work kept it meanwhile.

:class:`CpuShare` reads ``/proc`` (Linux) at the start and end of the run: the CPU time the whole
machine spent busy, and the CPU time of this process and its descendants (the Spark JVM, its
Python workers). The difference is what other processes used while the benchmark ran: figures
measured on a shared machine say so.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

_CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def describe() -> dict[str, Any]:
    """CPUs, CPU model, memory, operating system, and the versions that matter."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in (
            "pyspark", "delta-spark", "great-expectations", "presidio-analyzer", "spacy")},
    }


def _busy_seconds() -> float | None:
    """CPU seconds the whole machine spent not idle since boot."""
    line = _read("/proc/stat").splitlines()[:1]
    if not line or not line[0].startswith("cpu "):
        return None
    v = [int(x) for x in line[0].split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return (sum(v[:8]) - idle) / _CLK


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _read(f"/proc/{entry.name}/stat")
        if not stat:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _process_seconds(pid: int) -> float:
    """CPU seconds of a process, including its reaped children (``/proc/PID/stat``)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0.0
    f = stat.rsplit(")", 1)[-1].split()
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / _CLK


@dataclass
class CpuShare:
    """Busy CPU of the machine against that of this process tree, sampled every few seconds
    (descendants come and go: each one's last sample counts)."""

    interval: float = 2.0
    _start_busy: float | None = None
    _last: dict[int, float] = field(default_factory=dict)
    _base: dict[int, float] = field(default_factory=dict)
    _loads: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _start: float = 0.0

    def _sample(self) -> None:
        tree = _children()
        todo, seen = [os.getpid()], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            self._last[pid] = _process_seconds(pid)
            todo.extend(tree.get(pid, ()))
        self._loads.append(os.getloadavg()[0])

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def start(self) -> None:
        """Start sampling."""
        self._start = time.monotonic()
        self._start_busy = _busy_seconds()
        self._sample()
        self._base = dict(self._last)
        self._thread = threading.Thread(target=self._loop, name="cpu-share", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        """Stop sampling; the CPU seconds of the machine, of this run, of everything else."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        wall = time.monotonic() - self._start
        end_busy = _busy_seconds()
        ours = sum(v - self._base.get(pid, 0.0) for pid, v in self._last.items())
        busy = None if end_busy is None or self._start_busy is None else end_busy - self._start_busy
        others = None if busy is None else max(0.0, busy - ours)
        cpus = os.cpu_count() or 1
        return {
            "wall_seconds": round(wall, 1),
            "machine_busy_cpu_seconds": None if busy is None else round(busy, 1),
            "benchmark_cpu_seconds": round(ours, 1),
            "other_processes_cpu_seconds": None if others is None else round(others, 1),
            "other_processes_share_of_machine": (
                None if others is None or wall <= 0 else round(others / (wall * cpus), 3)),
            "load_average_mean": round(sum(self._loads) / len(self._loads), 2)
            if self._loads else None,
            "load_average_max": round(max(self._loads), 2) if self._loads else None,
        }
