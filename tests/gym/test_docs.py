"""The README's "Use DRATS in your own loop" example and the complete programs of
docs/integrations.md run as written (training budgets cut to a few hundred steps)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Use DRATS in your own loop")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_example_runs() -> None:
    pytest.importorskip("stable_baselines3", reason="stable-baselines3 is not installed")
    (block,) = python_blocks(readme_section())
    assert ".learn(300_000," in block
    namespace: dict[str, object] = {}
    exec(compile(block.replace(".learn(300_000,", ".learn(512,"), "README.md", "exec"), namespace)
    sampler = namespace["sampler"]
    assert sampler.probs.shape == (4,)  # type: ignore[attr-defined]


def test_readme_section_links_exist() -> None:
    section = readme_section()
    for link in re.findall(r"\]\(([^)#]+)\)", section):
        assert (ROOT / link).exists(), link


def test_integration_guide_programs_run() -> None:
    blocks = python_blocks((ROOT / "docs/integrations.md").read_text())
    programs = [b for b in blocks if b.startswith("import ")]
    assert programs
    for block in programs:
        exec(compile(block, "docs/integrations.md", "exec"), {})
