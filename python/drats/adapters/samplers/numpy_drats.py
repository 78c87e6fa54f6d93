"""TaskSampler adapters in pure numpy: the oracles for the C++ samplers. Same constructor,
semantics, draws (the same counter-based stream and alias table), errors and state-dict layout
as :class:`drats.DratsSampler` / :class:`drats.UniformSampler`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.samplers.gap_settings import gap_sampler_config, sampler_state_spec
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    as_count,
    as_seed,
    as_vector,
    check_binary,
    check_shape,
)
from drats.domain.drats_math import (
    alias_draw,
    build_alias,
    mirror_ascent_step,
    return_gaps,
)
from drats.domain.errors import CheckpointError, InvalidInputError, UnknownTaskError
from drats.domain.ports import StateDict, TaskSampler
from drats.domain.rng import CounterRng
from drats.domain.state_tree import as_state_arrays, check_state_config

_FLOATS = ("probs", "gaps", "targets", "window_sums", "best_returns")
_INTS = ("window_counts", "episodes", "history_len", "history_pos")


class NumpyDratsSampler(TaskSampler):
    """DRATS task sampling in numpy, the exact oracle of :class:`drats.DratsSampler`
    (``cpp/include/drats/gap_sampler.h``): same statistics, update, draws and errors.

    Args:
        num_tasks: K >= 1.
        eta: KL regularisation strength (> 0); the fixed point is softmax(eta * gap).
        step_size: mirror-ascent step (>= 0, step_size / eta <= 1); 0 keeps q uniform.
        eps: probability floor; None means 1 / (4K). Needs 0 <= eps and eps * K <= 1.
        target: initial target return, a scalar or one value per task (finite, > 0).
        adaptive_target: once a task is solved, its target becomes its best return so far
            (if that is > 0), refreshed at each of its later episode ends.
        success_window: length of the per-task ring of success flags (>= 1).
        success_threshold: a task is solved for good when its full ring's mean exceeds this
            (in [0, 1)).
        seed: seed of the draw stream (a :class:`~drats.domain.rng.CounterRng`).
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
    ) -> None:
        self._config, base = gap_sampler_config(
            self.kind,
            num_tasks,
            eta=eta,
            step_size=step_size,
            eps=eps,
            target=target,
            adaptive_target=adaptive_target,
            success_window=success_window,
            success_threshold=success_threshold,
        )
        self._base_targets = base
        k, window = int(self._config["num_tasks"]), int(self._config["success_window"])
        self._s: dict[str, NDArray[Any]] = {
            "probs": np.full(k, 1.0 / k),
            "gaps": np.zeros(k),
            "targets": base.copy(),
            "window_sums": np.zeros(k),
            "best_returns": np.full(k, -np.inf),
            "window_counts": np.zeros(k, dtype=np.int64),
            "episodes": np.zeros(k, dtype=np.int64),
            "history_len": np.zeros(k, dtype=np.int64),
            "history_pos": np.zeros(k, dtype=np.int64),
            "history": np.zeros((k, window), dtype=bool),
            "solved": np.zeros(k, dtype=bool),
        }
        self._rng = CounterRng(as_seed(seed))
        self._alias = build_alias(self._s["probs"])

    @property
    def num_tasks(self) -> int:
        return int(self._config["num_tasks"])

    @property
    def probs(self) -> NDArray[np.float64]:
        return self._s["probs"].copy()

    @property
    def gaps(self) -> NDArray[np.float64]:
        return self._s["gaps"].copy()

    @property
    def targets(self) -> NDArray[np.float64]:
        """float64[K], the current target returns (adaptive ones included)."""
        return self._s["targets"].copy()

    def sample(self, n: int) -> NDArray[np.int64]:
        """``n`` task ids (an int >= 0, not a bool) drawn through the alias table of ``probs``."""
        count = as_count(n, "n")
        return alias_draw(*self._alias, self._rng.uniform(count))

    def observe(self, task_ids: ArrayLike, returns: ArrayLike, successes: ArrayLike) -> None:
        ids = as_vector(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        ret = as_vector(returns, "returns", NUMERIC_KINDS, np.float64)
        ok = as_vector(successes, "successes", "biu", np.int64)  # the C++ twin's kinds
        check_shape(ret, ids.shape, "returns", symbols=("n",))
        check_shape(ok, ids.shape, "successes", symbols=("n",))
        check_binary(ok, "successes")
        # Episode by episode, as the C++ twin checks: task id first, then the return.
        k = self.num_tasks
        unknown = (ids < 0) | (ids >= k)
        failed = np.flatnonzero(unknown | ~np.isfinite(ret))
        if failed.size:
            i = int(failed[0])
            if unknown[i]:
                raise UnknownTaskError(f"task_ids: task id {int(ids[i])} is outside [0, {k})")
            raise InvalidInputError(f"returns must be finite, got {ret[i]} at position {i}")
        # Applied to a copy, committed only if the next update can weigh every task.
        s = {key: value.copy() for key, value in self._s.items()}
        w = int(self._config["success_window"])
        threshold = float(self._config["success_threshold"])
        for t, r, hit in zip(ids.tolist(), ret.tolist(), ok.tolist(), strict=True):
            with np.errstate(over="ignore"):  # an overflowing sum is refused below
                s["window_sums"][t] += r
            s["window_counts"][t] += 1
            s["episodes"][t] += 1
            s["best_returns"][t] = max(s["best_returns"][t], r)
            s["history"][t, s["history_pos"][t]] = bool(hit)
            s["history_pos"][t] = (s["history_pos"][t] + 1) % w
            s["history_len"][t] = min(w, s["history_len"][t] + 1)
            if not s["solved"][t] and s["history_len"][t] == w:
                s["solved"][t] = s["history"][t].sum() / w > threshold
            if self._config["adaptive_target"] and s["solved"][t] and s["best_returns"][t] > 0:
                s["targets"][t] = s["best_returns"][t]
        # The gap of every task observed here, as the next update computes it, must be finite
        # and stay finite times the step size (returns near the float64 limit would overflow).
        seen, first = np.unique(ids, return_index=True)
        seen = seen[np.argsort(first)]  # in batch order, as the C++ twin reports them
        sums, counts, targets = (
            s[key][seen] for key in ("window_sums", "window_counts", "targets")
        )
        with np.errstate(over="ignore", invalid="ignore"):
            gaps = (targets - sums / counts) / targets
            bad = ~(np.isfinite(gaps) & np.isfinite(self._gap_scale() * gaps))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"returns: task {int(seen[i])}'s window would give a gap that is not finite "
                "(its sum or its ratio to the target overflows float64); nothing was recorded"
            )
        self._s = s

    def _gap_scale(self) -> float:
        """What ``update`` multiplies the gaps by (the mirror-ascent step size)."""
        return float(self._config["step_size"])

    def update(self) -> NDArray[np.float64]:
        s, c = self._s, self._config
        s["gaps"] = return_gaps(s["targets"], s["window_sums"], s["window_counts"])
        if c["step_size"] > 0:  # step 0 (Uniform) leaves q exactly as it is
            s["probs"] = mirror_ascent_step(
                s["probs"], s["gaps"], eta=c["eta"], step_size=c["step_size"], eps=c["eps"]
            )
        s["window_sums"][:] = 0.0
        s["window_counts"][:] = 0
        self._alias = build_alias(s["probs"])
        return self.probs

    def state_dict(self) -> StateDict:
        state: StateDict = dict(self._config)
        state["base_targets"] = self._base_targets.copy()
        state.update({key: value.copy() for key, value in self._s.items()})
        state["rng"] = self._rng.get_state()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        check_state_config(state, {**self._config, "base_targets": self._base_targets})
        k, w = self.num_tasks, int(self._config["success_window"])
        a = as_state_arrays(state, sampler_state_spec(k, w))
        probs = a["probs"]
        if not (np.all(np.isfinite(probs) & (probs >= 0)) and abs(probs.sum() - 1.0) <= 1e-6):
            raise CheckpointError("state dict 'probs' must be a probability vector")
        if not np.all(np.isfinite(a["targets"]) & (a["targets"] > 0)):
            raise CheckpointError("state dict 'targets' must be finite and > 0")
        for key in ("window_sums", "gaps"):
            if not np.all(np.isfinite(a[key])):
                raise CheckpointError(f"state dict {key!r} must be finite")
        best = a["best_returns"]
        if np.any(np.isnan(best) | (best == np.inf)):
            raise CheckpointError("state dict 'best_returns' must be finite or -inf")
        counts, episodes = a["window_counts"], a["episodes"]
        for key, bad in (
            ("window_counts", counts < 0),
            ("episodes", episodes < counts),
            ("history_len", (a["history_len"] < 0) | (a["history_len"] > w)),
            ("history_pos", (a["history_pos"] < 0) | (a["history_pos"] >= w)),
        ):
            if np.any(bad):
                raise CheckpointError(f"state dict {key!r} is out of range: {a[key]}")
        new = {key: a[key].astype(np.float64, copy=True) for key in _FLOATS}
        new.update({key: a[key].astype(np.int64, copy=True) for key in _INTS})
        new["history"] = a["history"].astype(bool, copy=True)
        new["solved"] = a["solved"].astype(bool, copy=True)
        self._s = new
        self._alias = build_alias(new["probs"])
        self._rng.set_state(a["rng"])


class NumpyUniformSampler(NumpyDratsSampler):
    """Uniform task sampling in numpy: the DRATS code with step size 0 (q stays 1/K)."""

    kind = "uniform"

    def __init__(
        self, num_tasks: int, *, target: float | Sequence[float] = 5000.0, seed: int = 0
    ) -> None:
        super().__init__(num_tasks, eta=1.0, step_size=0.0, eps=0.0, target=target, seed=seed)
