"""``import drats`` stays light, and every public name resolves."""

from __future__ import annotations

import subprocess
import sys

import drats


def test_import_drats_loads_no_heavy_module() -> None:
    code = (
        "import sys, drats; "
        "heavy = ('torch', 'gymnasium', 'metaworld', 'drats._core'); "
        "heavy = [m for m in heavy if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_resolves() -> None:
    for name in drats.__all__:
        assert getattr(drats, name) is not None, name


def test_domain_layer_imports_only_numpy_and_stdlib() -> None:
    code = (
        "import sys; before = set(sys.modules); "
        "import drats.domain.ports, drats.domain.drats_math, drats.domain.rng; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(','.join(sorted(new - {'drats', 'numpy'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    third_party = [
        m for m in out.stdout.strip().split(",") if m and m not in sys.stdlib_module_names
    ]
    assert third_party == []
