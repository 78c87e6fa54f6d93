"""DratsCallback over Stable-Baselines3's DummyVecEnv and SubprocVecEnv: every finished episode
observed exactly once with its task, return and success, windows every ``window_steps`` env
steps, q sent to every sub-env and logged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip(
    "stable_baselines3", reason="stable-baselines3 is not installed (pip install 'drats[sb3]')"
)

from stable_baselines3 import PPO
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import drats
from drats.domain.errors import CheckpointError, ConfigError
from drats.sb3 import DratsCallback
from tests.gym.helpers import Q_CYCLE, RecordingSampler, by_task, recorded_env


def make_vec(kind: str, n: int) -> Any:
    fns = [recorded_env for _ in range(n)]
    return DummyVecEnv(fns) if kind == "dummy" else SubprocVecEnv(fns, start_method="forkserver")


def attach(callback: DratsCallback, venv: Any) -> PPO:
    """A model for the callback to read its env and logger from, as ``learn`` would set up."""
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0, device="cpu")
    model.set_logger(configure(None, []))
    callback.init_callback(model)
    return model


@pytest.mark.parametrize("kind", ["dummy", "subproc"])
def test_callback_accounting(kind: str) -> None:
    n, window_steps, steps = 3, 101, 2_000
    venv = make_vec(kind, n)
    sampler = RecordingSampler(4)
    callback = DratsCallback(sampler, window_steps=window_steps)
    model = attach(callback, venv)
    venv.seed(5)
    venv.reset()
    rng = np.random.default_rng(0)
    in_infos: list[tuple[int, float, bool]] = []
    moved = updates = 0
    try:
        for _ in range(steps):
            # what SB3's collect_rollouts does around each vector step
            _, _, dones, infos = venv.step(rng.integers(0, 4, n))
            callback.update_locals({"infos": infos, "dones": dones})
            assert callback.on_step()
            in_infos += [
                (
                    int(infos[i]["task_id"]),
                    float(infos[i]["episode_return"]),
                    bool(infos[i]["success"]),
                )
                for i in np.flatnonzero(dones)
            ]
            assert all("terminal_observation" in infos[i] for i in np.flatnonzero(dones))
            moved += n
            if moved >= window_steps:
                moved, updates = 0, updates + 1
                q = Q_CYCLE[(updates - 1) % len(Q_CYCLE)]
                np.testing.assert_array_equal(np.stack(venv.get_attr("probs")), [q] * n)
                assert model.logger.name_to_value["drats/q_0"] == q[0]
                assert model.logger.name_to_value["drats/windows"] == updates
            assert sampler.updates == updates
        books = venv.env_method("books")
    finally:
        venv.close()
    ended = [e for episodes, _ in books for e in episodes]
    assert sampler.episodes == in_infos
    assert by_task(sampler.episodes) == by_task(ended)
    assert len(ended) > 100
    assert all(len(by_task(ended)[t]) > 5 for t in range(4))
    assert callback.episodes_observed == len(ended) == sum(sampler.batches)
    assert callback.env_steps == n * steps
    assert updates > 5


def test_callback_in_a_real_learn_call() -> None:
    venv = make_vec("dummy", 2)
    sampler = drats.NumpyDratsSampler(4, seed=0)
    callback = DratsCallback(sampler, window_steps=64)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(512, callback=callback)
    ended = [e for episodes, _ in venv.env_method("books") for e in episodes]
    assert callback.env_steps == 512
    assert callback.windows_closed == 8
    assert callback.episodes_observed == len(ended) > 0
    np.testing.assert_array_equal(np.stack(venv.get_attr("probs")), [sampler.probs] * 2)
    venv.close()


def test_callback_state_round_trip_and_bad_input() -> None:
    venv = make_vec("dummy", 2)
    with pytest.raises(ConfigError, match="sampler has num_tasks = 3"):
        attach(DratsCallback(RecordingSampler(3), window_steps=8), venv)
    with pytest.raises(ConfigError, match="window_steps"):
        DratsCallback(RecordingSampler(4), window_steps=0)
    with pytest.raises(ConfigError, match="sampler"):
        DratsCallback(object(), window_steps=8)  # type: ignore[arg-type]
    callback = DratsCallback(drats.NumpyDratsSampler(4, seed=0), window_steps=8)
    attach(callback, venv)
    venv.reset()
    for _ in range(50):
        _, _, dones, infos = venv.step(np.array([1, 3]))
        callback.update_locals({"infos": infos, "dones": dones})
        callback.on_step()
    state = callback.state_dict()
    assert "env.1.probs" in state
    assert "sampler.num_tasks" in state
    before = {k: np.copy(v) for k, v in state.items()}
    with pytest.raises(CheckpointError, match="sub-env 0"):
        callback.load_state_dict({**state, "env.0.probs": np.full(4, 0.5)})
    fresh = DratsCallback(drats.NumpyDratsSampler(4, seed=0), window_steps=8)
    attach(fresh, make_vec("dummy", 2))
    fresh.load_state_dict(state)
    after = fresh.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before)
    venv.close()
