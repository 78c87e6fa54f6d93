"""The guide to extending drats (docs/extending.md) runs as written.

Its Python code blocks run in order in one namespace, except those whose first line is a file
path comment (``# python/drats/suites/corridor.py``): each of these becomes that module, so the
registry entries the guide adds (``"drats.suites.corridor:SUITE"``) import it as they would the
file. The registries and sys.modules are put back afterwards; runs write under a temporary
directory.
"""

from __future__ import annotations

import linecache
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from drats.application import registry

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "extending.md"
MODULE_PATH = re.compile(r"# python/(drats/[\w/]+)\.py\n")


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def compiled(block: str, name: str) -> types.CodeType:
    """``block`` compiled under ``name``, its lines known to tracebacks."""
    linecache.cache[name] = (len(block), None, block.splitlines(keepends=True), name)
    return compile(block, name, "exec")


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """The names of the modules the guide installs (removed afterwards, as are its registry
    entries); runs land in tmp_path."""
    saved = {name: dict(getattr(registry, name)) for name in ("SUITES", "SAMPLERS", "LEARNERS")}
    monkeypatch.chdir(tmp_path)
    names: list[str] = []
    yield names
    for name, entries in saved.items():
        table = getattr(registry, name)
        table.clear()
        table.update(entries)
    for name in names:
        sys.modules.pop(name, None)


def install_module(block: str, dotted: str) -> None:
    """Run ``block`` as the module ``dotted`` and make it importable under that name."""
    assert dotted not in sys.modules, f"{dotted} exists in drats already"
    module = types.ModuleType(dotted)
    module.__file__ = str(GUIDE)
    sys.modules[dotted] = module
    exec(compiled(block, f"{GUIDE}:{dotted}"), module.__dict__)


def test_the_guide_has_its_code_blocks() -> None:
    blocks = python_blocks(GUIDE)
    modules = [m.group(1) for b in blocks if (m := MODULE_PATH.match(b))]
    assert modules == [
        "drats/adapters/envs/corridor",
        "drats/suites/corridor",
        "drats/adapters/samplers/failure",
        "drats/adapters/learners/linear_pg",
    ]
    assert len(blocks) > len(modules)


def test_every_code_block_of_the_extending_guide_runs(installed: list[str]) -> None:
    namespace: dict[str, object] = {"__name__": "extending_guide"}
    for i, block in enumerate(python_blocks(GUIDE)):
        match = MODULE_PATH.match(block)
        if match:
            installed.append(match.group(1).replace("/", "."))
            install_module(block, installed[-1])
        else:
            exec(compiled(block, f"{GUIDE}:block{i}"), namespace)
    assert {"corridor"} <= set(registry.SUITES)
    assert {"failure"} <= set(registry.SAMPLERS)
    assert {"linear"} <= set(registry.LEARNERS)
