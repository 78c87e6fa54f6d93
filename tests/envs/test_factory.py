"""The pool factory: both backends for any env family with identical results, GymEnvPool on
worker processes, and every option that cannot apply refused with a ConfigError naming it
(before any env or worker starts)."""

from __future__ import annotations

import io
import multiprocessing as mp
from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from drats.adapters.envs.factory import (  # noqa: E402
    PoolOptions,
    check_backend,
    make_family_pool,
)
from drats.adapters.envs.gym_tasks import GymEnvPool, GymFamily  # noqa: E402
from drats.adapters.envs.metaworld import MetaWorldEnvPool  # noqa: E402
from drats.adapters.envs.process_pool import ProcessEnvPool  # noqa: E402
from drats.adapters.envs.slot_pool import SlotEnvPool  # noqa: E402
from drats.domain.errors import CheckpointError, ConfigError  # noqa: E402
from drats.domain.ports import EnvPool  # noqa: E402
from drats.testing import check_env_pool  # noqa: E402

CONTINUOUS = ["Pendulum-v1", "MountainCarContinuous-v0"]
DISCRETE = ["CartPole-v1"]


class _CountingFamily(GymFamily):
    """A GymFamily that counts the envs it builds in this process."""

    def __init__(self, env_ids: list[str]) -> None:
        self.made = 0
        super().__init__(env_ids)
        self.made = 0  # the spaces were read from envs built above

    def make_env(self, task: int) -> Any:
        self.made += 1
        return super().make_env(task)


def _children() -> set[int]:
    return {int(p.pid) for p in mp.active_children() if p.pid is not None}


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _actions(pool: EnvPool, rng: np.random.Generator) -> Any:
    if pool.discrete:
        return rng.integers(0, pool.action_dim, pool.num_slots)
    return rng.uniform(-1.2, 1.2, (pool.num_slots, pool.action_dim)).astype(np.float32)


def _same_steps(a: EnvPool, b: EnvPool, steps: int, seed: int = 1) -> None:
    """Step both pools with the same actions, resetting ended slots on shifted tasks, and
    check that every output agrees."""
    rng = np.random.default_rng(seed)
    tasks = np.arange(a.num_slots) % a.num_tasks
    np.testing.assert_array_equal(a.reset(tasks), b.reset(tasks))
    for t in range(steps):
        act = _actions(a, rng)
        x, y = a.step(act), b.step(act)
        for field in ("obs", "rewards", "terminated", "truncated", "task_ids"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        for field in ("task_ids", "returns", "lengths", "successes"):
            np.testing.assert_array_equal(getattr(x.episodes, field), getattr(y.episodes, field))
        done = np.flatnonzero(x.terminated | x.truncated)
        tasks[done] = (tasks[done] + t + 1) % a.num_tasks
        np.testing.assert_array_equal(
            a.reset_slots(done, tasks[done]), b.reset_slots(done, tasks[done])
        )


# ------------------------------------------------------------------------------ backends


def test_factory_builds_either_backend() -> None:
    family = GymFamily(CONTINUOUS, 10)
    inproc = make_family_pool(family, 3, seed=5, max_episode_steps=10)
    assert type(inproc) is SlotEnvPool
    with make_family_pool(family, 3, backend="process", seed=5, max_episode_steps=10) as proc:
        assert type(proc) is ProcessEnvPool
        assert proc.num_workers == 2  # None: min(2, N)
        _same_steps(inproc, proc, 25)
        state = proc.state_dict()
        for key, value in inproc.state_dict().items():
            np.testing.assert_array_equal(state[key], value)
    inproc.close()


def test_default_workers_never_exceed_the_slots() -> None:
    with make_family_pool(GymFamily(DISCRETE), 1, backend="process") as pool:
        assert isinstance(pool, ProcessEnvPool)
        assert pool.num_workers == 1
    options = PoolOptions.check("gym", 5, backend="process")
    assert (options.num_workers, options.backend) == (2, "process")
    assert PoolOptions.check("gym", 5).num_workers == 0


@pytest.mark.parametrize("ids", [CONTINUOUS, DISCRETE], ids=["box", "discrete"])
def test_gym_pool_on_processes_equals_in_process(ids: list[str]) -> None:
    inproc = GymEnvPool(ids, 4, seed=3, max_episode_steps=12)
    with GymEnvPool(ids, 4, seed=3, max_episode_steps=12, backend="process", num_workers=2) as proc:
        assert (inproc.backend, inproc.num_workers, inproc.worker_pids) == ("inprocess", 0, [])
        assert (proc.backend, proc.num_workers, len(proc.worker_pids)) == ("process", 2, 2)
        assert (proc.obs_dim, proc.action_dim, proc.discrete) == (
            inproc.obs_dim,
            inproc.action_dim,
            inproc.discrete,
        )
        _same_steps(inproc, proc, 40)
        np.testing.assert_array_equal(proc.running, inproc.running)
        # Each backend's checkpoint loads into the other; the resets then agree.
        state = _roundtrip(proc.state_dict())
        inproc.load_state_dict(state)
        proc.load_state_dict(_roundtrip(inproc.state_dict()))
        assert not proc.running.any()
        tasks = np.array([0, 0, 0, 0]) if len(ids) == 1 else np.array([1, 0, 0, 1])
        np.testing.assert_array_equal(proc.reset(tasks), inproc.reset(tasks))
        with pytest.raises(CheckpointError):  # the configuration is checked in the workers
            proc.load_state_dict(dict(state, obs_dim=99))
    assert proc.worker_pids == []
    inproc.close()


def test_idle_env_cap_applies_to_the_workers() -> None:
    pools = [
        GymEnvPool(CONTINUOUS, 2, max_idle_envs=0),
        GymEnvPool(CONTINUOUS, 2, max_idle_envs=0, backend="process", num_workers=2),
    ]
    for pool in pools:
        pool.reset([0, 0])
        pool.reset([1, 1])
        pool.reset([0, 0])  # nothing was kept idle: two envs built again
        assert pool.envs_created == 6
        pool.close()


def test_gym_pool_contract_on_processes() -> None:
    check_env_pool(
        lambda n, *, seed: GymEnvPool(
            DISCRETE, n, seed=seed, max_episode_steps=20, backend="process", num_workers=2
        )
    )


# ------------------------------------------------------------------------------- refusals


def test_check_backend() -> None:
    check_backend("gridworld4", "inprocess", False)
    check_backend("gym", "process", True, 3)
    with pytest.raises(ConfigError, match=r"backend='process' cannot apply to gridworld4"):
        check_backend("gridworld4", "process", False)
    with pytest.raises(ConfigError, match=r"num_workers=2 cannot apply to pointmass"):
        check_backend("pointmass", "inprocess", False, 2)
    for bad in ("threads", None, 1):
        with pytest.raises(ConfigError, match="backend must be"):
            check_backend("gym", bad, True)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"num_workers": 2}, "num_workers=2 cannot apply"),  # in-process
        ({"num_workers": 1}, "num_workers=1 cannot apply"),
        ({"backend": "process", "num_workers": 3}, r"num_workers \(3\) must be <= num_slots"),
        ({"backend": "process", "num_workers": 0}, "num_workers must be an integer >= 1"),
        ({"backend": "process", "num_workers": 1.5}, "num_workers"),
        ({"backend": "threads"}, "backend must be"),
        ({"max_idle_envs": -1}, "max_idle_envs"),
        ({"max_episode_steps": 0}, "max_episode_steps"),
        ({"terminate_on_success": 1}, "terminate_on_success"),
        ({"seed": "s"}, "seed"),
    ],
)
def test_refused_before_anything_starts(options: dict[str, Any], match: str) -> None:
    family = _CountingFamily(CONTINUOUS)
    before = _children()
    with pytest.raises(ConfigError, match=match):
        make_family_pool(family, 2, **options)
    with pytest.raises(ConfigError, match=match):
        GymEnvPool(CONTINUOUS, 2, **options)
    assert family.made == 0
    assert _children() == before  # no worker was started


def test_metaworld_refuses_before_building_the_benchmark() -> None:
    # Refused by the option checks, which run before metaworld is imported.
    with pytest.raises(ConfigError, match="num_workers=2 cannot apply to metaworld-mt10"):
        MetaWorldEnvPool("mt10", 2, num_workers=2)
    with pytest.raises(ConfigError, match=r"num_workers \(3\) must be <= num_slots \(2\)"):
        MetaWorldEnvPool("mt10", 2, backend="process", num_workers=3)
    with pytest.raises(ConfigError, match="suite"):
        MetaWorldEnvPool(["mt10"], 2)  # type: ignore[arg-type]
