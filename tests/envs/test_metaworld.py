"""MetaWorldEnvPool on MT10 (stock metaworld 3.x): shapes, the task one-hot, rewards and success
against the raw Meta-World env, truncation, termination on success, seeding and goal
variants, state dicts, and the process backend against the in-process one.

Building a seeded MT10 benchmark takes ~4 s; it is cached per (suite, seed), so most tests
share seed 0 and use short episodes (``max_episode_steps=20``)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

metaworld = pytest.importorskip("metaworld")

from drats.adapters.envs.metaworld import (  # noqa: E402
    NUM_VARIANTS,
    MetaWorldEnvPool,
    _benchmark,
)
from drats.domain.errors import ConfigError, InvalidInputError  # noqa: E402
from drats.domain.ports import EnvPool  # noqa: E402
from drats.domain.rng import CounterRng  # noqa: E402
from drats.testing import check_env_pool  # noqa: E402

MT10 = [
    "reach-v3",
    "push-v3",
    "pick-place-v3",
    "door-open-v3",
    "drawer-open-v3",
    "drawer-close-v3",
    "button-press-topdown-v3",
    "peg-insert-side-v3",
    "window-open-v3",
    "window-close-v3",
]


def _roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _variant(seed: int, slot: int, episode: int) -> int:
    """The goal variant slot ``slot`` plays in its ``episode``-th episode (0-based)."""
    rng = CounterRng(seed + slot)
    rng.next_u64(2 * episode)
    return int(rng.next_u64(2)[1] % np.uint64(NUM_VARIANTS))


@pytest.fixture
def pool() -> Any:
    p = MetaWorldEnvPool("mt10", 3, seed=0, max_episode_steps=20)
    yield p
    p.close()


def _random(n: int, steps: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (steps, n, 4)).astype(np.float32)


def test_members_and_one_hot_follows_the_task(pool: MetaWorldEnvPool) -> None:
    assert isinstance(pool, EnvPool)
    assert list(pool.task_names) == MT10
    assert (pool.num_slots, pool.num_tasks, pool.obs_dim, pool.action_dim) == (3, 10, 49, 4)
    assert not pool.discrete
    assert not pool.restores_episodes
    obs = pool.reset([4, 0, 9])
    assert obs.dtype == np.float32
    assert obs.shape == (3, 49)
    np.testing.assert_array_equal(obs[:, 39:], np.eye(10, dtype=np.float32)[[4, 0, 9]])
    out = pool.step(_random(3, 1)[0])
    np.testing.assert_array_equal(out.obs[:, 39:], np.eye(10, dtype=np.float32)[[4, 0, 9]])
    first = pool.reset_slots([1], [7])  # slot 1 switches from reach to peg-insert-side
    np.testing.assert_array_equal(first[0, 39:], np.eye(10, dtype=np.float32)[7])
    out = pool.step(_random(3, 1)[0])
    assert out.task_ids.tolist() == [4, 7, 9]
    np.testing.assert_array_equal(out.obs[:, 39:], np.eye(10, dtype=np.float32)[[4, 7, 9]])


def test_matches_the_raw_env_and_truncates(pool: MetaWorldEnvPool) -> None:
    """Every obs and reward equals the raw v2-reward env on the documented goal variant; the
    episode truncates on step 20 with the summed return and success at any step."""
    tasks = [0, 4, 8]
    actions = _random(3, 20, seed=1)
    obs = pool.reset(tasks)
    outs = [pool.step(a) for a in actions]
    _, classes, variants = _benchmark("mt10", 0)  # the cached metaworld.MT10(seed=0)
    for slot, task in enumerate(tasks):
        env = classes[task](reward_function_version="v2")
        env.set_task(variants[task][_variant(0, slot, 0)])
        raw, _ = env.reset()
        np.testing.assert_array_equal(obs[slot, :39], raw.astype(np.float32))
        total, success = 0.0, False
        for t, out in enumerate(outs):
            raw, reward, _, _, info = env.step(actions[t, slot])
            total += float(reward)
            success = success or bool(info["success"])
            np.testing.assert_array_equal(out.obs[slot, :39], raw.astype(np.float32))
            assert out.rewards[slot] == np.float32(reward)
        assert outs[-1].episodes.returns[slot] == pytest.approx(total, rel=1e-12)
        assert outs[-1].episodes.successes[slot] == success
    assert not any(o.truncated.any() or o.terminated.any() for o in outs[:-1])
    assert outs[-1].truncated.all()
    assert not outs[-1].terminated.any()
    assert outs[-1].episodes.lengths.tolist() == [20, 20, 20]
    assert outs[-1].episodes.task_ids.tolist() == tasks
    with pytest.raises(InvalidInputError, match="no episode in flight"):
        pool.step(actions[0])


@pytest.mark.filterwarnings("ignore:Constant\\(s\\) may be too high:UserWarning")
def test_success_with_a_scripted_policy_and_terminate_on_success() -> None:
    """reach-v3 with Meta-World's scripted policy: training pools run on after success (and
    report it at the truncation step), evaluation pools end on the first success step."""
    from metaworld.policies import SawyerReachV3Policy

    policy = SawyerReachV3Policy()
    lengths = {}
    for evaluation in (False, True):
        pool = MetaWorldEnvPool(
            "mt10", 1, seed=0, max_episode_steps=150, terminate_on_success=evaluation
        )
        obs = pool.reset([0])
        for _ in range(150):
            out = pool.step(policy.get_action(obs[0, :39].astype(np.float64))[None])
            obs = out.obs
            if out.terminated[0] or out.truncated[0]:
                break
        assert out.episodes.successes.tolist() == [True]
        assert bool(out.terminated[0]) is evaluation
        lengths[evaluation] = int(out.episodes.lengths[0])
        pool.close()
    assert lengths[False] == 150
    assert lengths[True] < 150


def test_determinism_and_goal_variants() -> None:
    a = MetaWorldEnvPool("mt10", 2, seed=0, max_episode_steps=5)
    b = MetaWorldEnvPool("mt10", 2, seed=0, max_episode_steps=5)
    goals = []
    actions = _random(2, 5, seed=3)
    for _ in range(6):  # six episodes per slot, always on task 3 (door-open)
        oa, ob = a.reset([3, 3]), b.reset([3, 3])
        np.testing.assert_array_equal(oa, ob)
        goals += [tuple(oa[0, 36:39]), tuple(oa[1, 36:39])]
        for act in actions:
            np.testing.assert_array_equal(a.step(act).obs, b.step(act).obs)
    assert len(set(goals)) >= 6  # the slot RNGs pick different goal variants
    a.close()
    b.close()


def test_state_dict_roundtrip(pool: MetaWorldEnvPool) -> None:
    pool.reset([1, 2, 3])
    for act in _random(3, 20):
        out = pool.step(act)
    assert out.truncated.all()
    state = _roundtrip(pool.state_dict())
    assert str(state["family"]) == "metaworld-mt10"
    assert state["slot_episodes"].tolist() == [1, 1, 1]
    twin = MetaWorldEnvPool("mt10", 3, seed=0, max_episode_steps=20)
    twin.reset([0, 0, 0])
    twin.load_state_dict(state)
    with pytest.raises(InvalidInputError):  # restores_episodes is False: reset first
        twin.step(_random(3, 1)[0])
    np.testing.assert_array_equal(twin.reset([5, 6, 7]), pool.reset([5, 6, 7]))
    twin.close()


def test_process_backend_equals_in_process(pool: MetaWorldEnvPool) -> None:
    proc = MetaWorldEnvPool("mt10", 3, seed=0, max_episode_steps=20, backend="process")
    assert proc.backend == "process"
    assert proc.obs_dim == 49
    tasks = np.array([2, 5, 9])
    np.testing.assert_array_equal(proc.reset(tasks), pool.reset(tasks))
    for t, act in enumerate(_random(3, 45, seed=4)):
        a, b = pool.step(act), proc.step(act)
        np.testing.assert_array_equal(a.obs, b.obs)
        np.testing.assert_array_equal(a.rewards, b.rewards)
        np.testing.assert_array_equal(a.truncated, b.truncated)
        np.testing.assert_array_equal(a.episodes.returns, b.episodes.returns)
        np.testing.assert_array_equal(a.episodes.successes, b.episodes.successes)
        done = np.flatnonzero(a.truncated)
        if done.size:
            tasks[done] = (tasks[done] + t) % 10
            np.testing.assert_array_equal(
                proc.reset_slots(done, tasks[done]), pool.reset_slots(done, tasks[done])
            )
    state = proc.state_dict()
    for key, value in pool.state_dict().items():
        np.testing.assert_array_equal(state[key], value)
    proc.close()
    proc.close()


def test_bad_config() -> None:
    with pytest.raises(ConfigError, match="suite"):
        MetaWorldEnvPool("mt20")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="backend"):
        MetaWorldEnvPool("mt10", backend="threads")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="num_workers"):
        MetaWorldEnvPool("mt10", 2, backend="process", num_workers=3)


def _checker() -> Any:
    return check_env_pool


def test_contract_checker_in_process() -> None:
    _checker()(lambda n, *, seed: MetaWorldEnvPool("mt10", n, seed=seed, max_episode_steps=10))


@pytest.mark.slow
def test_contract_checker_process_backend() -> None:
    _checker()(
        lambda n, *, seed: MetaWorldEnvPool(
            "mt10", n, seed=seed, max_episode_steps=10, backend="process"
        )
    )


@pytest.mark.slow
def test_mt50_switches_tasks_on_both_backends() -> None:
    pools = [
        MetaWorldEnvPool("mt50", 4, seed=0, max_episode_steps=3, backend=backend)
        for backend in ("inprocess", "process")
    ]
    assert pools[0].obs_dim == 39 + 50
    tasks = np.array([0, 13, 26, 49])
    obs = [p.reset(tasks) for p in pools]
    np.testing.assert_array_equal(obs[0], obs[1])
    for t, act in enumerate(_random(4, 12)):
        outs = [p.step(act) for p in pools]
        np.testing.assert_array_equal(outs[0].obs, outs[1].obs)
        done = np.flatnonzero(outs[0].truncated)
        tasks[done] = (tasks[done] + 7 * t + 1) % 50
        firsts = [p.reset_slots(done, tasks[done]) for p in pools]
        np.testing.assert_array_equal(firsts[0], firsts[1])
    for p in pools:
        p.close()
