"""Contract checker for the EnvPool port: ``check_env_pool(make)`` proves that a pool adapter
honours :class:`drats.domain.ports.EnvPool` (shapes, dtypes, the task one-hot, episode
accounting, no auto-reset, typed errors for bad input, determinism for a seed and state dicts
that survive ``np.savez`` / ``np.load(allow_pickle=False)``).

A third-party adapter passes a factory that builds a fresh pool on every call::

    make(num_slots, *, seed) -> EnvPool

    from drats.testing import check_env_pool

    def test_my_pool_honours_the_port() -> None:
        check_env_pool(lambda n, *, seed: MyPool(n, seed=seed, max_episode_steps=20))

Episodes must end within ``max_steps`` steps of random actions (pass a pool with a short time
limit for long-horizon suites). A broken contract raises ``AssertionError("EnvPool contract:
...")`` naming what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import DratsError, InvalidInputError, UnknownTaskError
from drats.domain.ports import EnvPool, action_counts_of
from drats.domain.types import PoolStep
from drats.testing.assertions import Case, Contract, npz_roundtrip

PoolFactory = Callable[..., EnvPool]

_c = Contract("EnvPool")


def random_actions(
    pool: EnvPool, rng: np.random.Generator, tasks: NDArray[np.int64] | None = None
) -> NDArray[Any]:
    """Valid random actions for every slot of ``pool``, slot i playing ``tasks[i]`` (needed
    when the pool's tasks have different numbers of discrete actions, ``action_counts``)."""
    counts = action_counts_of(pool)
    if pool.discrete and counts is not None and tasks is not None:
        limit = counts[tasks]
        return np.minimum((rng.random(pool.num_slots) * limit).astype(np.int64), limit - 1)
    if pool.discrete:
        return rng.integers(0, pool.action_dim, size=pool.num_slots, dtype=np.int64)
    shape = (pool.num_slots, pool.action_dim)
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def _check_obs(pool: EnvPool, obs: Any, tasks: NDArray[np.int64], what: str) -> None:
    _c.expect(isinstance(obs, np.ndarray) and obs.dtype == np.float32, f"{what}: not float32")
    _c.expect(obs.shape == (tasks.size, pool.obs_dim), f"{what}: shape {obs.shape}")
    _c.expect(np.all(np.isfinite(obs)), f"{what}: not finite")
    onehot = obs[:, pool.obs_dim - pool.num_tasks :]
    want = np.eye(pool.num_tasks, dtype=np.float32)[tasks]
    _c.expect(np.array_equal(onehot, want), f"{what}: the task one-hot does not follow the task")


def _check_step(pool: EnvPool, out: Any, tasks: NDArray[np.int64]) -> None:
    n = pool.num_slots
    _c.expect(isinstance(out, PoolStep), "step must return a PoolStep")
    _check_obs(pool, out.obs, tasks, "step obs")
    for name, dtype in (("rewards", np.float32), ("terminated", np.bool_), ("truncated", np.bool_)):
        arr = getattr(out, name)
        _c.expect(arr.dtype == dtype and arr.shape == (n,), f"step {name}: wrong dtype or shape")
    _c.expect(np.array_equal(out.task_ids, tasks), "step task_ids differ from the slots' tasks")
    _c.expect(np.all(np.isfinite(out.rewards)), "step rewards not finite")


def _rollout(
    pool: EnvPool, seed: int, max_steps: int
) -> tuple[list[NDArray[np.float32]], list[tuple[int, float, int, bool]]]:
    """Random rollout with episode bookkeeping checked against the rewards; returns the
    observations seen and the finished episodes (task, return, length, success)."""
    rng = np.random.default_rng(seed)
    n, k = pool.num_slots, pool.num_tasks
    tasks = np.arange(n, dtype=np.int64) % k
    obs = pool.reset(tasks)
    _check_obs(pool, obs, tasks, "reset obs")
    seen, finished = [obs], []
    running = np.zeros(n)
    lengths = np.zeros(n, dtype=np.int64)
    refused = False
    for _ in range(max_steps):
        out = pool.step(random_actions(pool, rng, tasks))
        _check_step(pool, out, tasks)
        running += out.rewards
        lengths += 1
        ended = np.flatnonzero(out.terminated | out.truncated)
        eps = out.episodes
        _c.expect(len(eps) == ended.size, "one EpisodeStats entry per ended slot")
        _c.expect(
            np.array_equal(eps.task_ids, tasks[ended]),
            "episodes must come one per ended slot, in increasing slot order, with its task",
        )
        _c.expect(
            np.allclose(eps.returns, running[ended], atol=1e-4, rtol=1e-5),
            "episode returns must be the undiscounted sums of the step rewards",
        )
        _c.expect(np.array_equal(eps.lengths, lengths[ended]), "episode lengths")
        _c.expect(eps.successes.dtype == np.bool_, "episode successes must be bool")
        finished += list(
            zip(
                eps.task_ids.tolist(),
                eps.returns.tolist(),
                eps.lengths.tolist(),
                eps.successes.tolist(),
                strict=True,
            )
        )
        seen.append(out.obs)
        if ended.size:
            if not refused:  # the first time slots end, stepping them again must be refused
                refused = True
                _c.raises(
                    InvalidInputError,
                    lambda: pool.step(random_actions(pool, rng, tasks)),
                    "stepping a slot whose episode ended",
                )
            new = (tasks[ended] + 1) % k
            first = pool.reset_slots(ended, new)
            tasks[ended] = new
            _check_obs(pool, first, new, "reset_slots obs")
            running[ended] = 0.0
            lengths[ended] = 0
            seen.append(first)
        if len(finished) >= 2 * n:
            break
    _c.expect(finished, f"no episode ended within {max_steps} random steps")
    return seen, finished


def _check_bad_input(pool: EnvPool) -> None:
    n, k = pool.num_slots, pool.num_tasks
    pool.reset(np.zeros(n, dtype=np.int64))
    rng = np.random.default_rng(0)
    good = random_actions(pool, rng, np.zeros(n, dtype=np.int64))
    cases: list[Case] = [
        (UnknownTaskError, lambda: pool.reset(np.full(n, k, dtype=np.int64)), "reset: task K"),
        (UnknownTaskError, lambda: pool.reset_slots([0], [-1]), "reset_slots: task -1"),
        (UnknownTaskError, lambda: pool.reset_slots([n], [0]), "reset_slots: slot N"),
        (InvalidInputError, lambda: pool.reset(np.zeros(n + 1, dtype=np.int64)), "reset: N+1"),
        (InvalidInputError, lambda: pool.step(good[:-1]), "step: one action short"),
    ]
    if not pool.discrete:
        nan = good.copy()
        nan[0, 0] = np.nan
        cases.append((InvalidInputError, lambda: pool.step(nan), "step: NaN action"))
    counts = action_counts_of(pool)
    if counts is not None and counts[0] < pool.action_dim:
        other = good.copy()
        other[0] = counts[0]  # an action of the union space that task 0 does not take
        cases.append((InvalidInputError, lambda: pool.step(other), "step: another task's action"))
    for kind, call, what in cases:
        _c.raises(kind, call, what)
    out = pool.step(good)  # a refused call changes nothing: the pool still steps
    _check_step(pool, out, np.zeros(n, dtype=np.int64))


def _check_state(make: PoolFactory, n: int, max_steps: int) -> None:
    pool, twin = make(n, seed=5), make(n, seed=99)
    try:
        rng = np.random.default_rng(5)
        tasks = np.arange(n, dtype=np.int64) % pool.num_tasks
        pool.reset(tasks)
        for _ in range(min(3, max_steps)):
            out = pool.step(random_actions(pool, rng, tasks))
            ended = np.flatnonzero(out.terminated | out.truncated)
            pool.reset_slots(ended, tasks[ended])
        twin.load_state_dict(npz_roundtrip(pool.state_dict()))
        if pool.restores_episodes:
            actions = random_actions(pool, rng, tasks)
            a, b = pool.step(actions), twin.step(actions)
            _c.expect(np.array_equal(a.obs, b.obs), "a restored pool steps differently")
            _c.expect(np.array_equal(a.rewards, b.rewards), "a restored pool rewards differently")
        a_obs, b_obs = pool.reset(tasks), twin.reset(tasks)  # its random streams came back too
        _c.expect(np.array_equal(a_obs, b_obs), "a restored pool resets differently")
        bad = dict(pool.state_dict())
        bad.pop(sorted(bad)[0])
        _c.raises(DratsError, lambda: twin.load_state_dict(bad), "load: a state with a key missing")
    finally:
        pool.close()
        twin.close()


def check_env_pool(make: PoolFactory, *, num_slots: int = 3, max_steps: int = 1000) -> None:
    """Check an EnvPool adapter built by ``make(num_slots, *, seed)``."""
    pool = make(num_slots, seed=0)
    try:
        _c.expect(isinstance(pool, EnvPool), "the adapter does not implement EnvPool")
        _c.expect(pool.num_slots == num_slots, "num_slots is wrong")
        _c.expect(len(pool.task_names) == pool.num_tasks >= 1, "task_names must have K names")
        _c.expect(pool.obs_dim > pool.num_tasks and pool.action_dim >= 1, "obs_dim / action_dim")
        seen, finished = _rollout(pool, 0, max_steps)
        _check_bad_input(pool)
    finally:
        pool.close()
        pool.close()  # closing twice is allowed
    again = make(num_slots, seed=0)
    try:
        seen2, finished2 = _rollout(again, 0, max_steps)
    finally:
        again.close()
    same = len(seen) == len(seen2) and all(
        np.array_equal(a, b) for a, b in zip(seen, seen2, strict=False)
    )
    _c.expect(same and finished == finished2, "the same seed and actions gave different episodes")
    _check_state(make, num_slots, max_steps)
