"""The EnvPool and Policy checkers pass adapters that honour their ports and catch broken ones
with a message naming the port and what broke (numpy only: the torch learners and the
simulators are checked in their own folders)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from drats.domain.errors import InvalidInputError, UnknownTaskError
from drats.domain.ports import Policy
from drats.domain.rng import CounterRng
from drats.domain.types import Batch, PolicyStep
from drats.testing import FakeEnvPool, FakePolicy, check_env_pool, check_policy

OBS, ACT, K = 5, 2, 3

# ------------------------------------------------------------------- deliberately broken pools


class SteppesEndedSlots(FakeEnvPool):
    """Lets a slot whose episode ended be stepped again (an auto-reset in disguise)."""

    def step(self, actions: Any) -> Any:
        self._live[:] = True
        return super().step(actions)


class WrongOneHot(FakeEnvPool):
    def _obs(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        return np.roll(super()._obs(slots), 1, axis=0)


class ForgetsResetStreams(FakeEnvPool):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict(state)
        self._rngs = [CounterRng(1) for _ in self._rngs]


class LosesEpisodeReturns(FakeEnvPool):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict(state)
        self._steps[:] = 0  # the restored episodes run longer than the originals


class UntypedResetError(FakeEnvPool):
    def reset(self, task_ids: Any) -> Any:
        if np.any(np.asarray(task_ids) >= self.num_tasks):
            raise IndexError("task id")
        return super().reset(task_ids)


class IgnoresSeed(FakeEnvPool):
    """Every pool gets a seed of its own, whatever it is asked for."""

    built = itertools.count()

    def __init__(self, num_slots: int, *, seed: int = 0) -> None:
        super().__init__(num_slots, seed=next(self.built))


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (SteppesEndedSlots, "stepping a slot whose episode ended: expected InvalidInputError"),
        (WrongOneHot, "one-hot does not follow the task"),
        (ForgetsResetStreams, "a restored pool resets differently"),
        (LosesEpisodeReturns, "a restored pool steps differently"),
        (UntypedResetError, "reset: task K: expected UnknownTaskError, got IndexError"),
        (IgnoresSeed, "the same seed and actions gave different episodes"),
    ],
)
def test_env_checker_catches_broken_pools(broken: Any, message: str) -> None:
    with pytest.raises(AssertionError, match=f"^EnvPool contract: .*{message}"):
        check_env_pool(broken)


# --------------------------------------------------------------------------------- policies


class StrictPolicy(FakePolicy):
    """FakePolicy told its obs width and task count, so it honours the whole Policy contract."""

    def act(
        self, obs: NDArray[np.float32], task_ids: NDArray[np.int64], *, deterministic: bool = False
    ) -> PolicyStep:
        if np.shape(obs)[-1:] != (OBS,):
            raise InvalidInputError(f"obs must have {OBS} columns, got shape {np.shape(obs)}")
        if np.any(np.asarray(task_ids) >= K):
            raise UnknownTaskError(f"task_ids: a task id is outside [0, {K})")
        return super().act(obs, task_ids, deterministic=deterministic)


def batch(policy: Policy, rng: np.random.Generator) -> Batch:
    b = 8
    obs = rng.standard_normal((b, OBS)).astype(np.float32)
    return Batch(
        obs=obs,
        actions=rng.uniform(-1, 1, (b, ACT)).astype(np.float32),
        rewards=rng.standard_normal(b).astype(np.float32),
        next_obs=obs,
        terminated=np.zeros(b, np.float32),
        task_ids=np.sort(rng.integers(0, K, size=b)),
        indices=np.arange(b, dtype=np.int64),
        weights=np.ones(b, np.float32),
    )


def check(policy_class: type[FakePolicy], *, discrete: bool = False) -> None:
    check_policy(
        lambda seed: policy_class(ACT, discrete=discrete, seed=seed),
        batch,
        obs_dim=OBS,
        action_dim=ACT,
        num_tasks=K,
        discrete=discrete,
    )


@pytest.mark.parametrize("discrete", [False, True])
def test_policy_checker_passes_a_policy_that_honours_the_port(discrete: bool) -> None:
    check(StrictPolicy, discrete=discrete)


class ForgetsStream(StrictPolicy):
    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict(state)
        self._rng = CounterRng(99)


class AcceptsNaN(StrictPolicy):
    def act(self, obs: Any, task_ids: Any, *, deterministic: bool = False) -> PolicyStep:
        return super().act(np.nan_to_num(obs), task_ids, deterministic=deterministic)


class Float64Actions(StrictPolicy):
    def act(self, obs: Any, task_ids: Any, *, deterministic: bool = False) -> PolicyStep:
        step = super().act(obs, task_ids, deterministic=deterministic)
        return PolicyStep(np.asarray(step.actions, np.float64), step.extras)


class RandomWhenDeterministic(StrictPolicy):
    def act(self, obs: Any, task_ids: Any, *, deterministic: bool = False) -> PolicyStep:
        return super().act(obs, task_ids)


class InfiniteLoss(StrictPolicy):
    def learn(self, data: Any) -> dict[str, float]:
        super().learn(data)
        return {"loss": float("inf")}


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (ForgetsStream, "a restored policy acts differently"),
        (AcceptsNaN, "NaN observation: expected InvalidInputError, nothing was raised"),
        (Float64Actions, r"actions: float32\[N, A\]"),
        (RandomWhenDeterministic, "deterministic actions differ"),
        (InfiniteLoss, "learn returned non-finite"),
    ],
)
def test_policy_checker_catches_broken_policies(broken: type[FakePolicy], message: str) -> None:
    with pytest.raises(AssertionError, match=f"^Policy contract: .*{message}"):
        check(broken)
