"""DratsCallback over Stable-Baselines3's DummyVecEnv and SubprocVecEnv: every finished episode
observed exactly once with its task, return and success, windows every ``window_steps`` env
steps, q sent to every sub-env and logged."""

from __future__ import annotations

from pathlib import Path
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


def play(venv: Any, callback: DratsCallback, steps: int, seed: int) -> list[list[int]]:
    """Mostly down / right / up actions (some episodes succeed, so q moves), fed to the
    callback as ``collect_rollouts`` does; the tasks played at every step."""
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(steps):
        action = rng.choice(4, size=venv.num_envs, p=[0.3, 0.3, 0.05, 0.35])
        _, _, dones, infos = venv.step(action)
        callback.update_locals({"infos": infos, "dones": dones})
        callback.on_step()
        tasks.append([int(info["task_id"]) for info in infos])
    return tasks


def drats_callback() -> DratsCallback:
    sampler = drats.DratsSampler(4, eta=16.0, step_size=3.2, eps=0.01, target=1.0, seed=0)
    return DratsCallback(sampler, window_steps=48)


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", ["dummy", "subproc"])
def test_resume_task_sampling_exactly(kind: str, tmp_path: Path) -> None:
    first_env, first = make_vec(kind, 2), drats_callback()
    attach(first, first_env)
    first_env.seed(3)
    first_env.reset()
    play(first_env, first, 400, seed=0)
    np.savez(tmp_path / "ckpt.npz", **first.state_dict())
    saved = first.state_dict()
    first_env.reset()  # as a restored run does: episodes in flight are not part of the state
    want = play(first_env, first, 600, seed=1)
    want_state = first.state_dict()
    assert first.windows_closed > 20
    assert not np.allclose(first.sampler.probs, 0.25)
    first_env.close()

    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as data:
        loaded = {key: data[key] for key in data.files}
    second_env, second = make_vec(kind, 2), drats_callback()
    attach(second, second_env)
    second.load_state_dict(loaded)
    assert same(second.state_dict(), saved)
    second_env.reset()
    assert play(second_env, second, 600, seed=1) == want
    assert same(second.state_dict(), want_state)
    second_env.close()


def test_resume_before_learn() -> None:
    """The documented recipe: attach the callback to the new model (built with its own seed,
    which SB3 hands to the env's next reset), load its state, then ``learn``: the opening reset
    draws from the restored task streams."""
    first_env, first = make_vec("dummy", 2), drats_callback()
    model = PPO("MlpPolicy", first_env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256, callback=first)
    state = first.state_dict()
    first_env.reset()
    want = [resets[-1] for _, resets in first_env.env_method("books")]
    first_env.close()

    second_env, second = make_vec("dummy", 2), drats_callback()
    model = PPO(
        "MlpPolicy", second_env, n_steps=64, batch_size=64, n_epochs=1, seed=1, device="cpu"
    )
    second.init_callback(model)
    second.load_state_dict(state)
    model.learn(64, callback=second)
    assert [resets[0] for _, resets in second_env.env_method("books")] == want
    assert second.env_steps == first.env_steps + model.num_timesteps
    second_env.close()
