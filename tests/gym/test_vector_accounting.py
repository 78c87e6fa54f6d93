"""TaskSamplingVectorWrapper's books: every finished episode observed exactly once, with its
task, return and success, in every Gymnasium autoreset mode, on SyncVectorEnv and
AsyncVectorEnv; windows closed every ``window_steps`` env steps; q sent to every sub-env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from drats.gym import TaskSamplingVectorWrapper
from tests.gym.helpers import Q_CYCLE, RecordingSampler, by_task, recorded_env

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]


def make_envs(kind: str, num_envs: int, mode: AutoresetMode) -> Any:
    fns = [recorded_env for _ in range(num_envs)]
    if kind == "sync":
        return gym.vector.SyncVectorEnv(fns, autoreset_mode=mode)
    return gym.vector.AsyncVectorEnv(fns, autoreset_mode=mode, context="forkserver")


def ended_in_infos(
    mode: AutoresetMode, done: np.ndarray, infos: dict[str, Any]
) -> list[tuple[int, float, bool]]:
    """The test's own reading of one step's infos: where each mode puts an ended episode."""
    if not done.any():
        return []
    src = infos["final_info"] if mode == AutoresetMode.SAME_STEP else infos
    return [
        (int(src["task_id"][i]), float(src["episode_return"][i]), bool(src["success"][i]))
        for i in np.flatnonzero(done)
    ]


def run(
    kind: str,
    mode: AutoresetMode,
    *,
    steps: int,
    window_steps: int,
    num_envs: int = 2,
    every_task: bool = True,
) -> None:
    sampler = RecordingSampler(4)
    envs = TaskSamplingVectorWrapper(
        make_envs(kind, num_envs, mode), sampler, window_steps=window_steps
    )
    rng = np.random.default_rng(0)
    in_infos: list[tuple[int, float, bool]] = []
    pending = np.zeros(num_envs, bool)  # NEXT_STEP: the sub-envs whose next step is a reset
    moved = updates = 0
    try:
        envs.reset(seed=7)
        for _ in range(steps):
            _, _, terminated, truncated, infos = envs.step(rng.integers(0, 4, num_envs))
            done = terminated | truncated
            in_infos += ended_in_infos(mode, done, infos)
            # The test's own count of env steps: a NEXT_STEP autoreset moves nothing.
            moved += num_envs - int(pending.sum()) if mode == AutoresetMode.NEXT_STEP else num_envs
            if mode == AutoresetMode.NEXT_STEP:
                pending = done
            if moved >= window_steps:
                moved, updates = 0, updates + 1
                q = Q_CYCLE[(updates - 1) % len(Q_CYCLE)]
                np.testing.assert_array_equal(
                    np.stack(envs.unwrapped.get_attr("probs")), [q] * num_envs
                )
            assert sampler.updates == updates
            if mode == AutoresetMode.DISABLED and done.any():
                envs.reset(options={"reset_mask": done})
        env_books = envs.unwrapped.call("books")
    finally:
        envs.close()
    ended = [e for books, _ in env_books for e in books]
    # Same episodes per task, same returns and successes, three ways: the env-side books, the
    # infos, and what the sampler observed (in the infos' order).
    assert sampler.episodes == in_infos
    assert by_task(sampler.episodes) == by_task(ended)
    assert len(ended) > 100
    assert not every_task or all(len(by_task(ended)[t]) > 5 for t in range(4))
    assert envs.episodes_observed == len(ended)
    assert sum(sampler.batches) == len(ended)
    assert all(b > 0 for b in sampler.batches)  # one observe per step with endings, none empty
    assert updates > 5


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_sync_accounting(mode: AutoresetMode) -> None:
    run("sync", mode, steps=3_000, window_steps=101, num_envs=3)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_async_accounting(mode: AutoresetMode) -> None:
    run("async", mode, steps=2_500, window_steps=64)


def test_a_window_every_step() -> None:
    # (q cycles with the 16-step episode-and-reset rhythm here, so not every task is played)
    run("sync", AutoresetMode.NEXT_STEP, steps=1_200, window_steps=1, every_task=False)


def test_a_full_reset_drops_the_episodes_in_flight() -> None:
    sampler = RecordingSampler(4)
    envs = TaskSamplingVectorWrapper(
        make_envs("sync", 2, AutoresetMode.NEXT_STEP), sampler, window_steps=1_000
    )
    envs.reset(seed=0)
    for _ in range(5):  # no GridWorld episode ends within 5 steps of a wall-blocked start
        envs.step(np.array([2, 2]))
    envs.reset()
    envs.step(np.array([0, 0]))
    assert sampler.episodes == []
    assert envs.env_steps == 12
    envs.close()
