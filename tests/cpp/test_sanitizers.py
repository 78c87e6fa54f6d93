"""The C++ core under AddressSanitizer and UndefinedBehaviorSanitizer: 40,000 random replay and
sampler operations, a tenth of them invalid, then 400 random MLP forward passes (on both
kernels, some refused) and 400 random Gaussian draws, with no memory error, no undefined
behaviour and no crash (cpp/tests/random_ops.cc). Skipped where no sanitizer-capable C++
compiler is found."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    "per_task_replay.cc",
    "sum_forest.cc",
    "drats_math.cc",
    "gap_sampler.cc",
    "gaussian.cc",
    "mlp_forward.cc",
]


def test_core_is_clean_under_sanitizers(tmp_path: Path) -> None:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler found")
    exe = tmp_path / "random_ops"
    cmd = [
        cxx,
        "-std=c++17",
        "-O1",
        "-g",
        "-fsanitize=address,undefined,float-cast-overflow",
        "-fno-sanitize-recover=undefined,float-cast-overflow",
        f"-I{ROOT / 'cpp/include'}",
        str(ROOT / "cpp/tests/random_ops.cc"),
        *(str(ROOT / "cpp/src" / s) for s in SOURCES),
        str(ROOT / "cpp/src/vector_math.cc"),  # the portable std::pow path
        "-o",
        str(exe),
    ]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0 and "sanitize" in build.stderr:
        pytest.skip(f"the compiler cannot build with sanitizers: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr[-2000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    assert run.stdout.startswith("ok"), run.stdout
