"""Shared test settings: slow tests run only with --run-slow; hypothesis profiles; a
Meta-World goal cache of the session's own (never the user's)."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings

# Load the C++ core up front: an editable install rebuilds it on first import, in a subprocess
# that must not run inside a test's output capture.
import drats._core  # noqa: F401

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Runs started by the tests (in this process or as subprocesses) share one goal cache that
# lives as long as the session.
_GOAL_CACHE = tempfile.mkdtemp(prefix="drats-test-cache-")
os.environ["DRATS_CACHE_DIR"] = _GOAL_CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_GOAL_CACHE, ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
