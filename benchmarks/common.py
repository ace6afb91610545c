"""What every benchmark shares: paths, the child environment, machine facts, results."""

from __future__ import annotations

import json
import os
import platform
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"


def env() -> dict[str, str]:
    """The environment for child processes: this checkout first on the import path."""
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), out.get("PYTHONPATH")]))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), from /proc."""
    found: list[int] = []
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
                found += kids
                stack += kids
        except OSError:
            continue
    return found


def machine(**versions: str) -> dict[str, Any]:
    """Facts about the machine the numbers come from, with the versions that matter."""
    with open("/proc/meminfo") as f:
        meminfo = dict(line.split(":", 1) for line in f)
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "mem_total": meminfo["MemTotal"].strip(),
        "python": platform.python_version(),
        **versions,
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


def finish(
    results: dict[str, Any], name: str, quick: bool, markdown: Callable[[dict], str]
) -> dict[str, Any]:
    """Stamp the end load, write ``out/NAME[-quick].json`` and print the Markdown."""
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))
    return results
