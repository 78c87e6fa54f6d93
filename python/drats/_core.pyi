"""Type stub of the compiled core (cpp/bindings/, assembled in cpp/bindings/module.cc)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

def project_floor(z: ArrayLike, eps: float) -> list[float]: ...
def mirror_ascent_step(
    q: ArrayLike, gaps: ArrayLike, eta: float, step_size: float, eps: float
) -> list[float]: ...
def categorical_draw(
    logits: ArrayLike, u: ArrayLike | None = None, valid: ArrayLike | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float32]]: ...
def gaussian_draw(
    out: ArrayLike, u: ArrayLike | None, log_std_min: float, log_std_max: float
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]: ...
def gridworld_step(
    next: NDArray[np.int64],
    obs: NDArray[np.float32],
    goal_cell: int,
    horizon: int,
    goal_reward: float,
    step_reward: float,
    cell: NDArray[np.int64],
    task: NDArray[np.int64],
    steps: NDArray[np.int64],
    returns: NDArray[np.float64],
    live: NDArray[np.bool_],
    actions: ArrayLike,
) -> tuple[
    NDArray[np.float32],
    NDArray[np.float32],
    NDArray[np.bool_],
    NDArray[np.bool_],
    NDArray[np.int64],
]: ...

class MlpForward:
    def __init__(
        self, layers: Sequence[tuple[ArrayLike, ArrayLike]], heads: int, simd: bool = True
    ) -> None: ...
    def __call__(self, x: ArrayLike, task_ids: ArrayLike | None = None) -> NDArray[np.float32]: ...
    @property
    def in_dim(self) -> int: ...
    @property
    def heads(self) -> int: ...
    @property
    def head_dim(self) -> int: ...
    @property
    def num_layers(self) -> int: ...
    @property
    def simd(self) -> bool: ...
    @staticmethod
    def cpu_has_simd() -> bool: ...

class PerTaskReplay:
    def __init__(
        self,
        num_tasks: int,
        capacity_per_task: int,
        obs_shape: list[int],
        action_shape: list[int],
        alpha: float,
        seed: int,
    ) -> None: ...
    def add(
        self,
        task_ids: ArrayLike,
        obs: ArrayLike,
        actions: ArrayLike,
        rewards: ArrayLike,
        next_obs: ArrayLike,
        terminated: ArrayLike,
    ) -> None: ...
    def sample(
        self, counts: ArrayLike, beta: float
    ) -> tuple[
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.float32],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.float32],
    ]: ...
    def update_priorities(self, indices: ArrayLike, priorities: ArrayLike) -> None: ...
    def size(self, task_id: int) -> int: ...
    def sizes(self) -> NDArray[np.int64]: ...
    def __len__(self) -> int: ...
    def get_state(self) -> dict[str, NDArray[Any]]: ...
    def set_state(self, state: dict[str, NDArray[Any]]) -> None: ...

class GapSampler:
    def __init__(
        self,
        num_tasks: int,
        eta: float,
        step_size: float,
        eps: float,
        targets: list[float],
        adaptive_target: bool,
        success_window: int,
        success_threshold: float,
        seed: int,
        gap: str = "target",
    ) -> None: ...
    def sample(self, n: int) -> NDArray[np.int64]: ...
    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None: ...
    def update(self) -> NDArray[np.float64]: ...
    @property
    def probs(self) -> NDArray[np.float64]: ...
    @property
    def gaps(self) -> NDArray[np.float64]: ...
    @property
    def targets(self) -> NDArray[np.float64]: ...
    def get_state(self) -> dict[str, NDArray[Any]]: ...
    def set_state(self, state: dict[str, NDArray[Any]]) -> None: ...
