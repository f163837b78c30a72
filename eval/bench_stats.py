"""Numbers of a benchmark run: spreads of repeated measures, ratios against a target, the machine they ran on.

Times on a shared machine drift from run to run, so a target is judged on a ratio whose two sides were
measured in the same round, interleaved; min/median/max over the rounds say how steady it was.
"""
from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def spread(values: Sequence[float]) -> dict[str, float]:
    """{"min", "median", "max"} of `values` (all NaN when there are none)."""
    if not values:
        return {"min": float("nan"), "median": float("nan"), "max": float("nan")}
    return {"min": float(min(values)), "median": float(statistics.median(values)), "max": float(max(values))}


@dataclass
class Ratio:
    """One target: `values` holds one ratio per round; met when their median is at most `target`."""

    name: str
    target: float
    values: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def met(self) -> bool | None:
        return None if not self.values else statistics.median(self.values) <= self.target

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "target": self.target, **spread(self.values), "rounds": len(self.values),
                "values": [round(v, 4) for v in self.values], "met": self.met, "note": self.note}


@dataclass
class Check:
    """A yes/no target (e.g. "`verbatim docs` imports no torch")."""

    name: str
    value: object
    met: bool
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "value": self.value, "met": self.met, "note": self.note}


def machine() -> dict[str, object]:
    """What the numbers were measured on: CPU, cores, memory, load, and the versions that matter."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            memory = int(next(line.split()[1] for line in fh if line.startswith("MemTotal"))) * 1024
    except (OSError, StopIteration, ValueError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for dist in ("numpy", "torch", "sentence-transformers", "transformers", "onnxruntime", "faiss-cpu", "bm25s",
                 "gradio", "txtai", "langchain-community"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory_bytes": memory,
        "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}",
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None, "versions": versions,
    }


def rss_peak_bytes(pid: int | str = "self") -> int:
    """Peak resident memory (VmHWM) of a Linux process; 0 where /proc does not tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
