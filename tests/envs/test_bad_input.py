"""Bad input to the env pools, each refused with a typed error naming the argument (found by
an adversarial audit): a huge ``num_slots``, repeated or missing Gymnasium ids, a
``terminate_on_success`` that is not a bool, a bad ``timeout_s``, negative counters in a state
dict, calls on a closed pool, and an env that raises inside ``reset_slots`` / ``step``, which
closes the pool (no worker process left behind)."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from drats.adapters.envs.family import EnvError, EnvFamily  # noqa: E402
from drats.adapters.envs.gridworld import GridWorldEnvPool  # noqa: E402
from drats.adapters.envs.gym_tasks import GymEnvPool  # noqa: E402
from drats.adapters.envs.pointmass import PointMassEnvPool  # noqa: E402
from drats.adapters.envs.process_pool import ProcessEnvPool, WorkerError  # noqa: E402
from drats.adapters.envs.slot_pool import SlotEnvPool  # noqa: E402
from drats.domain.errors import CheckpointError, ConfigError, InvalidInputError  # noqa: E402
from drats.domain.limits import MAX_SLOTS  # noqa: E402

_OBS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
_ACT = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


class _CrashEnv(gym.Env):  # type: ignore[misc]
    """Zero observations and rewards; raises in ``reset`` or ``step`` when told to."""

    observation_space = _OBS
    action_space = _ACT

    def __init__(self, fail_in: str | None) -> None:
        self.fail_in = fail_in
        self.closed = False

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        if self.fail_in == "reset":
            raise RuntimeError("boom in reset")
        return np.zeros(3, np.float32), {}

    def step(self, action: Any) -> Any:
        if self.fail_in == "step":
            raise RuntimeError("boom in step")
        return np.zeros(3, np.float32), 0.0, False, False, {}

    def close(self) -> None:
        self.closed = True


class _CrashFamily(EnvFamily):
    """Two tasks; the envs of ``fail_task`` (if any) raise in ``fail_in`` ("reset" / "step").
    Picklable (module level), so worker processes can build it."""

    kind = "crash"

    def __init__(self, fail_task: int | None = None, fail_in: str = "step") -> None:
        self.fail_task, self.fail_in = fail_task, fail_in
        self.made: list[_CrashEnv] = []  # envs built in this process

    @property
    def task_names(self) -> tuple[str, ...]:
        return ("crash-0", "crash-1")

    @property
    def spaces(self) -> tuple[tuple[Any, Any], ...]:
        return ((_OBS, _ACT), (_OBS, _ACT))

    def make_env(self, task: int) -> Any:
        env = _CrashEnv(self.fail_in if task == self.fail_task else None)
        self.made.append(env)
        return env

    def start_episode(self, env: Any, task: int, draws: Any) -> Any:
        return env.reset(seed=int(draws[0] >> np.uint64(32)))[0]


def _gridworld(n: Any, **kw: Any) -> Any:
    return GridWorldEnvPool(n, **kw)


def _pointmass(n: Any, **kw: Any) -> Any:
    return PointMassEnvPool(n, **kw)


def _gym(n: Any, **kw: Any) -> Any:
    return GymEnvPool(["Pendulum-v1"], n, **kw)


def _slot(n: Any, **kw: Any) -> Any:
    return SlotEnvPool(_CrashFamily(), n, **kw)


def _process(n: Any, **kw: Any) -> Any:
    return ProcessEnvPool(_CrashFamily(), n, num_workers=2, timeout_s=60, **kw)


ALL = [_gridworld, _pointmass, _gym, _slot, _process]
Factory = Callable[..., Any]


def _children() -> set[int]:
    return {int(p.pid) for p in mp.active_children() if p.pid is not None}


def _left_over(pids: list[int], wait_s: float = 5.0) -> list[int]:
    """The processes of ``pids`` that still exist (running or zombie) after up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        alive = [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- constructors


@pytest.mark.parametrize("n", [MAX_SLOTS + 1, 10**12], ids=["max+1", "1e12"])
@pytest.mark.parametrize("make", ALL)
def test_huge_num_slots_is_a_config_error(make: Factory, n: int) -> None:
    before = _children()
    with pytest.raises(ConfigError, match="num_slots"):
        make(n)
    assert _children() == before  # no worker was started


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["Pendulum-v1", "Pendulum-v1"], "'Pendulum-v1' more than once"),
        (None, "env_ids"),
        ([5], "env_ids"),
    ],
)
def test_gym_env_ids_must_be_distinct_strings(ids: Any, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GymEnvPool(ids, 2)


@pytest.mark.parametrize("value", ["no", None, 1])
@pytest.mark.parametrize("make", ALL)
def test_terminate_on_success_must_be_a_bool(make: Factory, value: Any) -> None:
    before = _children()
    with pytest.raises(ConfigError, match="terminate_on_success"):
        make(2, terminate_on_success=value)
    assert _children() == before


def test_gridworld_refuses_terminate_on_success_false() -> None:
    # Reaching the goal always ends a GridWorld episode: False cannot be honoured.
    with pytest.raises(ConfigError, match="terminate_on_success"):
        GridWorldEnvPool(2, terminate_on_success=False)
    assert GridWorldEnvPool(2, terminate_on_success=True).num_slots == 2


@pytest.mark.parametrize("value", ["x", None, 0, -1.0, float("nan"), float("inf")])
def test_process_timeout_s_must_be_a_positive_finite_number(value: Any) -> None:
    before = _children()
    with pytest.raises(ConfigError, match="timeout_s"):
        ProcessEnvPool(_CrashFamily(), 2, num_workers=2, timeout_s=value)
    assert _children() == before


# ---------------------------------------------------------------------------- state dicts


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("slot_episodes", np.array([-5, 0])),
        ("slot_steps", np.array([0, -1])),
        ("slot_task", np.array([2**64 - 1, 0], np.uint64)),  # not -1 by wrap-around
    ],
)
@pytest.mark.parametrize("make", [_gym, _slot, _process])
def test_state_dict_counters_must_be_in_range(make: Factory, key: str, value: Any) -> None:
    pool = make(2)
    try:
        pool.reset([0, 0])
        pool.step(np.zeros((2, pool.action_dim), np.float32))
        state = pool.state_dict()
        with pytest.raises(CheckpointError, match=key):
            pool.load_state_dict(dict(state, **{key: value}))
        assert _same_state(pool.state_dict(), state)  # nothing changed ...
        pool.step(np.zeros((2, pool.action_dim), np.float32))  # ... episodes still in flight
    finally:
        pool.close()


# ---------------------------------------------------------------------------- closed pools


@pytest.mark.parametrize("make", [_gridworld, _pointmass])
def test_closed_pool_refuses_calls(make: Factory) -> None:
    pool = make(2)
    pool.reset([0, 1])
    state = pool.state_dict()
    actions = np.zeros(2, np.int64) if pool.discrete else np.zeros((2, 2), np.float32)
    pool.close()
    pool.close()
    calls = [
        lambda: pool.reset([0, 1]),
        lambda: pool.reset_slots([0], [1]),
        lambda: pool.step(actions),
        lambda: pool.load_state_dict(state),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError, match="closed"):
            call()


# ---------------------------------------------------------------------------- env failures


def _failing_call(pool: Any, fail_in: str, tasks: list[int]) -> Any:
    """The call that makes a task-0 env raise: ``step`` (slots already reset) or ``reset``."""
    if fail_in == "step":
        return pool.step(np.zeros((2, 2), np.float32))
    return pool.reset(tasks)


@pytest.mark.parametrize(
    ("fail_in", "match"),
    [
        ("step", r"step: the env of slot 1 \(task 0, 'crash-0'\) raised RuntimeError: boom"),
        ("reset", r"reset_slots: the env of slot 1 \(task 0, 'crash-0'\) raised RuntimeError"),
    ],
)
def test_env_error_closes_the_slot_pool(fail_in: str, match: str) -> None:
    family = _CrashFamily(fail_task=0, fail_in=fail_in)
    pool = SlotEnvPool(family, 2)
    if fail_in == "step":
        pool.reset([1, 0])
    with pytest.raises(EnvError, match=match) as info:
        _failing_call(pool, fail_in, [1, 0])
    assert isinstance(info.value.__cause__, RuntimeError)
    assert family.made
    assert all(env.closed for env in family.made)  # no env left open
    with pytest.raises(InvalidInputError, match="closed"):
        pool.reset([1, 1])
    with pytest.raises(InvalidInputError, match="closed"):
        pool.step(np.zeros((2, 2), np.float32))
    pool.close()


@pytest.mark.parametrize(
    ("fail_in", "tasks", "match"),
    [  # slot 1 (worker 1) fails after worker 0 moved slot 0, and the other way round
        ("step", [1, 0], r"worker 1 raised EnvError: step: the env of slot 1 \(task 0"),
        ("reset", [0, 1], r"worker 0 raised EnvError: reset_slots: the env of slot 0 \(task 0"),
    ],
)
def test_env_error_closes_the_process_pool(fail_in: str, tasks: list[int], match: str) -> None:
    pool = ProcessEnvPool(_CrashFamily(fail_task=0, fail_in=fail_in), 2, num_workers=2)
    pids = pool.worker_pids
    assert len(pids) == 2
    state = pool.state_dict()
    if fail_in == "step":
        pool.reset(tasks)
    with pytest.raises(WorkerError, match=match):
        _failing_call(pool, fail_in, tasks)
    assert issubclass(WorkerError, EnvError)
    assert pool.worker_pids == []
    assert _left_over(pids) == []  # every worker stopped and reaped: no zombie
    assert not set(pids) & _children()
    calls = [
        lambda: pool.reset([1, 1]),
        lambda: pool.reset_slots([0], [1]),
        lambda: pool.step(np.zeros((2, 2), np.float32)),
        lambda: pool.state_dict(),
        lambda: pool.load_state_dict(state),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError, match="ProcessEnvPool is closed"):
            call()
    pool.close()
