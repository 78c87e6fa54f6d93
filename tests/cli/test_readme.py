"""The README's usage example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_usage_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    runnable = [b for b in blocks if b.startswith("import numpy as np\nimport drats")]
    assert len(runnable) == 1
    namespace: dict[str, object] = {}
    exec(compile(runnable[0], str(README), "exec"), namespace)
    assert len(namespace["batch"]) > 0  # type: ignore[arg-type]
