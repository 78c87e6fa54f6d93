"""The off-policy loop on fakes (no torch): replay filling, warm-up, batch allocation across
tasks, priorities fed back, the sampler's windows, and exact resume with the replay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drats.adapters.replay.numpy_replay import NumpyPerTaskReplay
from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.application.checkpoint import CheckpointStore, read_checkpoint
from drats.application.config import TrainConfig
from drats.application.offpolicy import OffPolicyTrainer
from drats.application.run_log import read_rows, without_timings
from drats.domain.allocation import allocate_batch
from drats.domain.errors import ConfigError, EmptyTaskError, InvalidInputError
from drats.testing import FakeEnvPool, FakePolicy


def config(**changes: object) -> TrainConfig:
    base: dict[str, object] = {
        "suite": "pointmass",
        "algo": "sac",
        "steps": 160,
        "window_steps": 40,
        "warmup_steps": 40,
        "batch_size": 12,
        "eval_every": 80,
        "eval_episodes": 1,
        "checkpoint_every": 40,
    }
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


def make(
    run_dir: Path, cfg: TrainConfig | None = None, policy: FakePolicy | None = None
) -> OffPolicyTrainer:
    return OffPolicyTrainer(
        cfg or config(),
        pool=FakeEnvPool(4, seed=1),
        eval_pool=FakeEnvPool(3, seed=2),
        sampler=NumpyDratsSampler(3, eta=4.0, step_size=1.0, target=5.0, seed=3),
        policy=policy or FakePolicy(2, seed=4),
        replay=NumpyPerTaskReplay(3, 100, 5, 2, alpha=0.6, seed=5),
        run_dir=run_dir,
        progress=False,
    )


def test_loop_fills_the_replay_and_learns_after_warmup(tmp_path: Path) -> None:
    trainer = make(tmp_path)
    trainer.run()
    assert trainer.counters.env_steps == 160
    assert len(trainer.replay) == 160  # every transition stored (capacity not reached)
    assert np.array_equal(trainer.replay.sizes(), trainer.counters.steps_per_task)
    # 40 warm-up steps of random actions; from the vector step that stores the 40th
    # transition on, one update per vector step.
    assert trainer.updates == (160 - 40) // 4 + 1
    assert trainer.policy.learned == [12] * trainer.updates  # type: ignore[attr-defined]
    rows = read_rows(tmp_path)
    assert [r["env_steps"] for r in rows] == [40, 80, 120, 160]
    assert [r["loss/updates"] for r in rows] == [1.0, 11.0, 21.0, 31.0]


def test_priorities_are_fed_back(tmp_path: Path) -> None:
    trainer = make(tmp_path, config(steps=80))
    trainer.run()
    state = trainer.replay.state_dict()
    # New rows enter at priority 1; the fake's TD errors are 1 + |reward| > 1 and go back
    # raised to alpha, so every task that was sampled now holds priorities above 1.
    assert np.all(state["max_priority"] > 1.0)
    assert np.count_nonzero(state["priorities"] > 1.0) >= 10


def test_no_per_leaves_priorities_alone(tmp_path: Path) -> None:
    trainer = make(tmp_path, config(steps=80, per=False))
    trainer.run()
    assert np.all(trainer.replay.state_dict()["max_priority"] == 1.0)


@pytest.mark.parametrize("crash_at", [5, 25])
def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path: Path, crash_at: int) -> None:
    class Crashing(FakePolicy):
        def learn(self, data: object) -> dict[str, float]:
            if len(self.learned) + 1 == crash_at:
                raise KeyboardInterrupt
            return super().learn(data)

    make(tmp_path / "full").run()
    crashing = make(tmp_path / "part", policy=Crashing(2, seed=4))
    with pytest.raises(KeyboardInterrupt):
        crashing.run()
    resumed = make(tmp_path / "part")
    assert resumed.restore()
    resumed.run()
    assert without_timings(read_rows(tmp_path / "part")) == without_timings(
        read_rows(tmp_path / "full")
    )
    a = read_checkpoint(CheckpointStore(tmp_path / "full").latest())[1]  # type: ignore[arg-type]
    b = read_checkpoint(CheckpointStore(tmp_path / "part").latest())[1]  # type: ignore[arg-type]
    assert set(a) == set(b) >= {"replay", "offpolicy"}
    for part, state in a.items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(value), np.asarray(b[part][key])), (part, key)


def test_discrete_pools_store_action_indices(tmp_path: Path) -> None:
    from drats.adapters.envs.gridworld import GridWorldEnvPool

    trainer = OffPolicyTrainer(
        config(suite="gridworld4", steps=80, warmup_steps=40),
        pool=GridWorldEnvPool(4),
        eval_pool=GridWorldEnvPool(4),
        sampler=NumpyDratsSampler(4, seed=0),
        policy=FakePolicy(4, discrete=True, seed=1),
        replay=NumpyPerTaskReplay(4, 100, 29, 1, alpha=0.6, seed=2),
        run_dir=tmp_path,
        progress=False,
    )
    trainer.run()
    state = trainer.replay.state_dict()
    held = np.concatenate([state["actions"][t, : state["sizes"][t], 0] for t in range(4)])
    assert held.size == 80
    assert set(np.unique(held).tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert len(np.unique(held)) > 1  # warm-up and policy actions both vary


# ------------------------------------------------------------------------- batch allocation


def test_equal_allocation() -> None:
    assert allocate_batch("equal", 1280, np.full(10, 5)).tolist() == [128] * 10
    counts = allocate_batch("equal", 10, np.array([3, 0, 3, 3]))
    assert counts.tolist() == [4, 0, 3, 3]


@pytest.mark.parametrize("seed", range(20))
def test_drats_allocation_follows_q(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 12))
    sizes = rng.integers(0, 3, size=k)
    sizes[rng.integers(k)] = 1  # at least one non-empty task
    q = rng.dirichlet(np.ones(k))
    batch = int(rng.integers(1, 2000))
    counts = allocate_batch("drats", batch, sizes, q)
    ready = sizes > 0
    assert counts.sum() == batch
    assert np.all(counts[~ready] == 0)  # never draws from an empty task
    if batch >= ready.sum():
        assert np.all(counts[ready] >= 1)  # at least one row per non-empty task
    share = q[ready] / q[ready].sum()
    # Largest remainder after the one-row floor: within one row of the exact share.
    floor = 1 if batch >= ready.sum() else 0
    exact = share * (batch - floor * ready.sum()) + floor
    assert np.all(np.abs(counts[ready] - exact) < 1.0 + 1e-9)


def test_allocation_bad_input() -> None:
    with pytest.raises(EmptyTaskError):
        allocate_batch("equal", 10, np.zeros(3, np.int64))
    with pytest.raises(ConfigError):
        allocate_batch("greedy", 10, np.ones(3, np.int64))
    with pytest.raises(InvalidInputError):
        allocate_batch("drats", 10, np.ones(3, np.int64), [0.5, np.nan, 0.5])
    with pytest.raises(InvalidInputError):
        allocate_batch("drats", 10, np.ones(3, np.int64))
