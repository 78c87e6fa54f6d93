"""DRATS task sampling in C++: the TaskSampler adapter over the gap-weighted sampler of
``drats._core`` (``cpp/include/drats/gap_sampler.h``). Its numpy oracle is
:class:`~drats.adapters.samplers.numpy_drats.NumpyDratsSampler`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats import _core
from drats.adapters.samplers.gap_settings import gap_sampler_config, sampler_state_spec
from drats.adapters.samplers.window_stats import check_gap_entry
from drats.domain.checks import as_count, as_seed
from drats.domain.errors import CheckpointError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.state_tree import as_state_arrays, check_state_config


class DratsSampler(TaskSampler):
    """DRATS: sample tasks from q, moved once per window toward the tasks furthest from target.

    Statistics, the mirror-ascent update and the alias-table draws run in C++. Semantics are
    those of :class:`drats.NumpyDratsSampler` (its exact oracle); the update is
    :func:`drats.mirror_ascent_step` and ``docs/design.md`` describes the twins.

    Args:
        num_tasks: K >= 1.
        eta: KL regularisation strength (> 0); the fixed point is softmax(eta * gap).
        step_size: mirror-ascent step (>= 0, step_size / eta <= 1).
        eps: probability floor; None means 1 / (4K). Needs eps * K <= 1.
        target: initial target return tau, a scalar or one value per task (> 0).
        adaptive_target: once a task is solved, its target becomes its best return so far.
        success_window: length of the per-task success history.
        success_threshold: a task is solved when its full history's mean exceeds this.
        seed: seed of the draw stream.
        gap: ``"target"``, the paper's ``(tau - Rbar) / tau``, or ``"range"``,
            ``(Rmax - Rbar) / (Rmax - Rmin)`` clamped to [0, 1] for any reward scale.
    """

    kind = "drats"

    def __init__(
        self,
        num_tasks: int,
        *,
        eta: float = 8.0,
        step_size: float = 0.5,
        eps: float | None = None,
        target: float | Sequence[float] = 5000.0,
        adaptive_target: bool = True,
        success_window: int = 50,
        success_threshold: float = 0.5,
        seed: int = 0,
        gap: str = "target",
    ) -> None:
        self._config, self._base_targets = gap_sampler_config(
            self.kind,
            num_tasks,
            eta=eta,
            step_size=step_size,
            eps=eps,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
            gap=gap,
        )
        c = self._config
        self._gap = str(c.get("gap", "target"))
        self._core = _core.GapSampler(
            c["num_tasks"],
            c["eta"],
            c["step_size"],
            c["eps"],
            self._base_targets.tolist(),
            c["adaptive_target"],
            c["success_window"],
            c["success_threshold"],
            as_seed(seed),
            self._gap,
        )

    @property
    def num_tasks(self) -> int:
        return int(self._config["num_tasks"])

    @property
    def probs(self) -> NDArray[np.float64]:
        return self._core.probs

    @property
    def gaps(self) -> NDArray[np.float64]:
        return self._core.gaps

    @property
    def targets(self) -> NDArray[np.float64]:
        """float64[K], the current target returns (adaptive ones included)."""
        return self._core.targets

    def sample(self, n: int) -> NDArray[np.int64]:
        return self._core.sample(as_count(n, "n"))

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        self._core.observe(task_ids, returns, successes)

    def update(self) -> NDArray[np.float64]:
        return self._core.update()

    @property
    def gap(self) -> str:
        """``"target"`` or ``"range"``: the gap definition ``update`` weighs."""
        return self._gap

    def state_dict(self) -> StateDict:
        """The numpy oracle's layout: config, ``base_targets``, then the statistics
        (``worst_returns`` for the range gap only) and ``rng``."""
        state: StateDict = dict(self._config)
        state["base_targets"] = self._base_targets.copy()
        core = self._core.get_state()
        if self._gap != "range":  # kept at +inf by the core; not part of a target-gap state
            del core["worst_returns"]
        state.update(core)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, {**self._config, "base_targets": self._base_targets})
        check_gap_entry(state, self._gap)
        window = int(self._config["success_window"])
        arrays = as_state_arrays(state, sampler_state_spec(self.num_tasks, window, self._gap))
        try:
            self._core.set_state(arrays)
        except (ValueError, TypeError) as err:
            raise CheckpointError(f"invalid sampler state: {err}") from None
