"""GymEnvPool and the process backend on cheap Gymnasium envs: padding, one-hot, action
rescaling, episode statistics against a hand-written loop, truncation, success, bad input,
state dicts, and worker processes (equality with in-process, crash, close)."""

from __future__ import annotations

import io
import os
import signal
import time
from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from drats.adapters.envs.gym_tasks import GymEnvPool, GymFamily  # noqa: E402
from drats.adapters.envs.process_pool import ProcessEnvPool, WorkerError  # noqa: E402
from drats.adapters.envs.slot_pool import SlotEnvPool  # noqa: E402
from drats.domain.errors import (  # noqa: E402
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import EnvPool  # noqa: E402
from drats.domain.rng import CounterRng  # noqa: E402
from drats.testing import check_env_pool  # noqa: E402

IDS = ["Pendulum-v1", "MountainCarContinuous-v0"]  # obs widths 3 and 2, action bounds 2 and 1


class _SuccessEnv(gym.Env):  # type: ignore[misc]
    """Reward 1 per step; ``info["is_success"]`` only on step 3; never terminates."""

    observation_space = gym.spaces.Box(-10.0, 10.0, (1,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1, np.float32), {}

    def step(self, action: Any) -> Any:
        self.t += 1
        return np.full(1, self.t, np.float32), 1.0, False, False, {"is_success": self.t == 3}


gym.register("drats-test/Success-v0", entry_point=_SuccessEnv)


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _reset_seed(seed: int, slot: int, episode: int) -> int:
    """The reset seed slot ``slot`` uses for its ``episode``-th episode (0-based)."""
    rng = CounterRng(seed + slot)
    rng.next_u64(2 * episode)
    return int(rng.next_u64(2)[0] >> np.uint64(32))


@pytest.fixture
def pool() -> Any:
    p = GymEnvPool(IDS, 3, seed=7, max_episode_steps=10)
    yield p
    p.close()


def test_members_padding_and_one_hot(pool: GymEnvPool) -> None:
    assert isinstance(pool, EnvPool)
    assert (pool.num_slots, pool.num_tasks, pool.obs_dim, pool.action_dim) == (3, 2, 5, 1)
    assert list(pool.task_names) == IDS
    assert not pool.discrete
    assert not pool.restores_episodes
    obs = pool.reset([1, 0, 1])
    assert obs.dtype == np.float32
    assert obs.shape == (3, 5)
    np.testing.assert_array_equal(obs[:, 3:], [[0, 1], [1, 0], [0, 1]])
    np.testing.assert_array_equal(obs[[0, 2], 2], 0.0)  # MountainCar's 2-d obs padded
    assert np.all(obs[1, :3] != 0.0)
    pool.step(np.zeros((3, 1), np.float32))
    first = pool.reset_slots([1], [1])  # slot 1 switches task: the one-hot follows
    np.testing.assert_array_equal(first[0, 3:], [0, 1])
    assert pool.step(np.zeros((3, 1), np.float32)).task_ids.tolist() == [1, 1, 1]


def test_matches_a_manual_loop_with_rescaled_actions(pool: GymEnvPool) -> None:
    """Obs, rewards, truncation and episode stats equal a plain gym loop fed the rescaled
    actions (Pendulum's bounds are [-2, 2]) and the documented reset seeds."""
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1.3, 1.3, (10, 3, 1)).astype(np.float32)  # outside [-1, 1]: clipped
    tasks = [0, 1, 0]
    obs = pool.reset(tasks)
    outs = [pool.step(a) for a in actions]
    assert outs[-1].truncated.all()
    assert not any(o.truncated.any() for o in outs[:-1])
    episodes = outs[-1].episodes
    assert episodes.task_ids.tolist() == tasks
    for slot, task in enumerate(tasks):
        env = gym.make(IDS[task], max_episode_steps=10)
        raw, _ = env.reset(seed=_reset_seed(7, slot, 0))
        np.testing.assert_array_equal(obs[slot, : len(raw)], raw.astype(np.float32))
        bound = 2.0 if task == 0 else 1.0
        total = 0.0
        for t, out in enumerate(outs):
            act = np.clip(actions[t, slot], -1, 1) * bound
            raw, reward, term, trunc, _ = env.step(act.astype(np.float32))
            total += float(reward)
            np.testing.assert_array_equal(out.obs[slot, : len(raw)], raw.astype(np.float32))
            assert out.rewards[slot] == np.float32(reward)
            assert (bool(out.terminated[slot]), bool(out.truncated[slot])) == (term, trunc)
        assert episodes.lengths[slot] == 10
        assert episodes.returns[slot] == pytest.approx(total, rel=1e-12)
        assert not episodes.successes[slot]


def test_truncation_no_autoreset_and_reset_slots(pool: GymEnvPool) -> None:
    pool.reset([0, 0, 1])
    act = np.zeros((3, 1), np.float32)
    for _ in range(9):
        out = pool.step(act)
        assert not out.truncated.any()
        assert len(out.episodes) == 0
    out = pool.step(act)
    assert out.truncated.all()
    assert not out.terminated.any()
    assert out.episodes.lengths.tolist() == [10, 10, 10]
    final = out.obs.copy()
    with pytest.raises(InvalidInputError, match="no episode in flight"):
        pool.step(act)
    first = pool.reset_slots(np.array([2, 0]), np.array([0, 1]))
    assert not np.array_equal(first, final[[2, 0]])  # final obs were not first obs
    with pytest.raises(InvalidInputError, match="slot 1"):
        pool.step(act)  # slot 1 still ended
    pool.reset_slots([1], [1])
    assert pool.step(act).task_ids.tolist() == [1, 1, 0]


def test_success_at_any_step_and_terminate_on_success() -> None:
    ids = ["drats-test/Success-v0"]
    with_limit = GymEnvPool(ids, 2, max_episode_steps=5)
    with_limit.reset([0, 0])
    for _ in range(5):
        out = with_limit.step(np.zeros((2, 1), np.float32))
    assert out.truncated.all()
    assert out.episodes.successes.tolist() == [True, True]
    assert out.episodes.returns.tolist() == [5.0, 5.0]
    evaluation = GymEnvPool(ids, 1, max_episode_steps=5, terminate_on_success=True)
    evaluation.reset([0])
    dones = [bool(evaluation.step(np.zeros((1, 1))).terminated[0]) for _ in range(3)]
    assert dones == [False, False, True]
    plain = GymEnvPool(["Pendulum-v1"], 1, max_episode_steps=2)
    plain.reset([0])
    plain.step(np.zeros((1, 1)))
    assert plain.step(np.zeros((1, 1))).episodes.successes.tolist() == [False]


def test_discrete_pool_one_hot_obs() -> None:
    pool = GymEnvPool(["FrozenLake-v1", "CliffWalking-v1"], 2, seed=3, max_episode_steps=4)
    assert pool.discrete
    assert pool.action_dim == 4
    assert pool.obs_dim == 48 + 2
    obs = pool.reset([0, 1])
    assert obs[0, :16].sum() == 1
    assert obs[0, 0] == 1
    assert obs[1, :48].sum() == 1
    assert obs[1, 36] == 1
    out = pool.step(np.array([1, 0], np.int64))
    assert out.obs[:, :48].sum(axis=1).tolist() == [1.0, 1.0]
    with pytest.raises(InvalidDtypeError):
        pool.step(np.zeros(2, np.float32))
    with pytest.raises(InvalidInputError, match="outside"):
        pool.step(np.array([0, 4]))


@pytest.mark.parametrize(
    ("ids", "match"),
    [
        (["Nope-v0"], "Nope-v0.*doesn't exist"),
        (["Blackjack-v1"], "Blackjack-v1"),  # Tuple observations
        (["Pendulum-v1", "CartPole-v1"], "mix"),
        ([], "non-empty"),
    ],
)
def test_bad_config(ids: list[str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GymEnvPool(ids, 2)


def test_bad_call_input(pool: GymEnvPool) -> None:
    pool.reset([0, 1, 0])
    good = np.zeros((3, 1), np.float32)
    nan = good.copy()
    nan[1, 0] = np.nan
    cases: list[tuple[type[Exception], Any]] = [
        (InvalidInputError, lambda: pool.step(np.zeros((3, 2), np.float32))),
        (InvalidInputError, lambda: pool.step(nan)),
        (InvalidDtypeError, lambda: pool.step(np.full((3, 1), "a"))),
        (UnknownTaskError, lambda: pool.reset([0, 2, 0])),
        (UnknownTaskError, lambda: pool.reset_slots([3], [0])),
        (InvalidInputError, lambda: pool.reset_slots([1, 1], [0, 0])),
        (InvalidInputError, lambda: pool.reset_slots([1, 2], [0])),
        (InvalidInputError, lambda: pool.reset([0, 1])),
    ]
    for kind, call in cases:
        with pytest.raises(kind):
            call()
    assert pool.step(good).obs.shape == (3, 5)  # refused calls changed nothing


def test_state_dict_roundtrip_and_bad_state(pool: GymEnvPool) -> None:
    pool.reset([0, 1, 0])
    for _ in range(10):
        pool.step(np.full((3, 1), 0.3, np.float32))
    state = _roundtrip(pool.state_dict())
    assert state["slot_steps"].tolist() == [10, 10, 10]
    assert state["slot_episodes"].tolist() == [1, 1, 1]
    twin = GymEnvPool(IDS, 3, seed=123, max_episode_steps=10)
    twin.load_state_dict(state)
    with pytest.raises(InvalidInputError, match="no episode in flight"):
        twin.step(np.zeros((3, 1), np.float32))
    np.testing.assert_array_equal(twin.reset([1, 1, 0]), pool.reset([1, 1, 0]))
    bad = dict(state, slot_rng=state["slot_rng"][:2])
    with pytest.raises(CheckpointError):
        twin.load_state_dict(bad)
    with pytest.raises(CheckpointError):
        twin.load_state_dict(dict(state, num_slots=4))
    with pytest.raises(CheckpointError):
        GymEnvPool(IDS[::-1], 3).load_state_dict(state)  # other tasks


def test_close_twice_and_closed_pool_refuses() -> None:
    pool = GymEnvPool(IDS, 2)
    pool.reset([0, 1])
    pool.close()
    pool.close()
    with pytest.raises(InvalidInputError, match="closed"):
        pool.reset([0, 1])


def test_envs_are_borrowed_lazily(pool: GymEnvPool) -> None:
    assert pool.envs_created == 0
    pool.reset([0, 0, 0])
    assert pool.envs_created == 3
    pool.reset([1, 1, 1])  # the task-0 envs go idle, three task-1 envs are built
    assert pool.envs_created == 6
    pool.reset([0, 1, 0])  # idle instances are reused
    assert pool.envs_created == 6


def test_contract_checker() -> None:
    check_env_pool(lambda n, *, seed: GymEnvPool(IDS, n, seed=seed, max_episode_steps=20))
    disc = ["FrozenLake-v1", "CliffWalking-v1"]
    check_env_pool(lambda n, *, seed: GymEnvPool(disc, n, seed=seed, max_episode_steps=20))


# ---------------------------------------------------------------------- process backend


def _process_pool(n: int, workers: int, seed: int = 7) -> ProcessEnvPool:
    family = GymFamily(IDS, 10)
    return ProcessEnvPool(family, n, seed=seed, max_episode_steps=10, num_workers=workers)


def test_process_backend_equals_in_process(pool: GymEnvPool) -> None:
    with _process_pool(3, 2) as proc:
        assert (proc.obs_dim, proc.action_dim, proc.num_workers) == (5, 1, 2)
        tasks = np.array([0, 1, 0])
        np.testing.assert_array_equal(proc.reset(tasks), pool.reset(tasks))
        rng = np.random.default_rng(1)
        for t in range(25):
            act = rng.uniform(-1, 1, (3, 1)).astype(np.float32)
            a, b = pool.step(act), proc.step(act)
            for field in ("obs", "rewards", "terminated", "truncated", "task_ids"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            for field in ("task_ids", "returns", "lengths", "successes"):
                np.testing.assert_array_equal(
                    getattr(a.episodes, field), getattr(b.episodes, field)
                )
            done = np.flatnonzero(a.truncated)
            new = (tasks[done] + t) % 2
            tasks[done] = new
            np.testing.assert_array_equal(proc.reset_slots(done, new), pool.reset_slots(done, new))
        state = proc.state_dict()
        for key, value in pool.state_dict().items():
            np.testing.assert_array_equal(state[key], value)
        with pytest.raises(InvalidInputError):
            proc.reset_slots([0, 0], [1, 1])
        with pytest.raises(CheckpointError):  # raised in a worker, re-raised with its type
            proc.load_state_dict(dict(state, obs_dim=6))
        proc.load_state_dict(_roundtrip(state))  # and a process state loads in-process
        pool.load_state_dict(_roundtrip(state))
        np.testing.assert_array_equal(proc.reset(tasks), pool.reset(tasks))


def test_worker_crash_is_an_error_not_a_hang() -> None:
    proc = _process_pool(2, 2)
    proc.reset([0, 1])
    os.kill(proc.worker_pids[1], signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 1 .* died with exit code -9"):
        proc.step(np.zeros((2, 1), np.float32))
    assert time.monotonic() - start < 30
    proc.close()
    proc.close()
    assert proc.worker_pids == []
    with pytest.raises(InvalidInputError, match="closed"):
        proc.step(np.zeros((2, 1), np.float32))


def test_process_bad_config() -> None:
    with pytest.raises(ConfigError, match="num_workers"):
        _process_pool(2, 3)
    with pytest.raises(ConfigError, match="start_method"):
        ProcessEnvPool(GymFamily(IDS), 2, start_method="fork")


def test_slot_pool_first_slot_draws_the_global_stream() -> None:
    whole = SlotEnvPool(GymFamily(IDS), 3, seed=4)
    tail = SlotEnvPool(GymFamily(IDS), 1, seed=4, first_slot=2)
    np.testing.assert_array_equal(whole.reset([0, 1, 0])[2], tail.reset([0])[0])


def test_idle_envs_are_capped() -> None:
    for cap, rebuilt in ((None, 0), (3, 0), (1, 2)):
        pool = GymEnvPool(IDS, 3, max_idle_envs=cap)
        pool.reset([0, 0, 0])
        pool.reset([1, 1, 1])  # three task-0 envs go idle (a cap of 1 keeps only one)
        assert pool.envs_created == 6
        # Switching back takes an idle task-0 env before parking the task-1 one; with a cap
        # of 1 only one task-0 env was kept, so two are built again.
        pool.reset([0, 0, 0])
        assert pool.envs_created == 6 + rebuilt
        pool.close()
    with pytest.raises(ConfigError, match="max_idle_envs"):
        GymEnvPool(IDS, 3, max_idle_envs=-1)


def test_contract_checker_process_backend() -> None:
    def make(n: int, *, seed: int) -> ProcessEnvPool:
        family = GymFamily(IDS, 20)
        return ProcessEnvPool(family, n, seed=seed, max_episode_steps=20, num_workers=2)

    check_env_pool(make)
