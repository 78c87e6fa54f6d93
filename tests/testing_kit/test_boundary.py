"""The test kit depends on the domain layer alone, so a third party can rely on it without the
adapters, the application layer, the C++ core or any optional dependency."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import drats.testing

KIT = Path(drats.testing.__file__).parent

#: The public, stable modules the kit may import from drats.
ALLOWED = {
    f"drats.domain.{name}"
    for name in (
        "ports",
        "types",
        "errors",
        "checks",
        "state_tree",
        "replay_state",
        "rng",
        "limits",
    )
}


def _drats_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of a ``drats`` module in the file at ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "." * node.level + (node.module or "")))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] in ("drats", "")]


def test_every_kit_module_imports_only_the_domain_and_the_kit() -> None:
    modules = sorted(KIT.glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "fakes.py", "assertions.py"}
    bad = [
        f"{path.name}:{line} imports {name}"
        for path in modules
        for line, name in _drats_imports(path)
        if name not in ALLOWED and not name.startswith("drats.testing")
    ]
    assert not bad, "drats.testing may import only " + ", ".join(sorted(ALLOWED)) + f": {bad}"


def test_the_kit_does_not_import_private_kit_modules() -> None:
    bad = [
        f"{path.name}:{line} imports {name}"
        for path in sorted(KIT.glob("*.py"))
        for line, name in _drats_imports(path)
        if any(part.startswith("_") for part in name.split("."))
    ]
    assert not bad


def test_importing_the_kit_loads_no_adapter_application_or_core_module() -> None:
    code = (
        "import json, sys\n"
        "import drats.testing\n"
        "from drats.testing import *\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "drats.testing.fakes" in loaded  # the probe saw the kit itself
    forbidden = [
        name
        for name in loaded
        if name.startswith(("drats.adapters", "drats.application", "drats._core"))
        or name in ("drats.bootstrap", "drats.cli", "torch", "gymnasium", "metaworld")
    ]
    assert not forbidden, f"importing drats.testing loaded {forbidden}"
    outside = [
        name
        for name in loaded
        if name.startswith("drats.")
        and not name.startswith("drats.testing")
        and name not in ALLOWED | {"drats.domain"}
    ]
    assert not outside, f"importing drats.testing loaded {outside}"
