"""The machine a benchmark ran on, for the line every summary prints under its table."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def describe() -> str:
    """``x86_64, 2 CPUs, <model>``."""
    return f"{platform.machine()}, {os.cpu_count()} CPUs, {cpu_model()}"
