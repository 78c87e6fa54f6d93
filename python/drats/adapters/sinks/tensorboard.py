"""TensorBoard event files for a run's metrics (used when the ``tensorboard`` package is
installed; the JSONL log is always written)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path

from drats.domain.ports import MetricsSink


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardSink(MetricsSink):
    """Writes every numeric metric of a row as a scalar at the row's env-step count."""

    def __init__(self, log_dir: str | Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        for name, value in scalars.items():
            self._writer.add_scalar(name, value, step)

    def close(self) -> None:
        self._writer.close()
