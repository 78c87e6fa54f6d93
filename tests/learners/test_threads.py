"""A run's thread budget binds torch and numpy's BLAS alike (the acting forward is numpy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
threadpoolctl = pytest.importorskip("threadpoolctl")

PROBE = """
import json, numpy, torch, threadpoolctl
from drats.adapters.learners.torch_nets import set_threads
set_threads({n})
blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
print(json.dumps({{"torch": torch.get_num_threads(), "blas": blas}}))
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_set_threads_limits_torch_and_numpy_blas(threads: int) -> None:
    # A fresh interpreter: the limits are process-wide and would leak into other tests. The
    # thread variables of this shell are dropped so that BLAS starts at one thread per core.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(n=threads)],
        capture_output=True, text=True, check=True, timeout=120, env=env,
    )  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["torch"] == threads
    assert seen["blas"], "numpy links no BLAS threadpoolctl can see"
    assert all(n <= threads for n in seen["blas"])
