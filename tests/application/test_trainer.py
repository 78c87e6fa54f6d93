"""The training loop on fakes (no torch, no simulator): the data flow between the ports,
logs, schedules, checkpoints and exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from drats.adapters.samplers.numpy_drats import NumpyDratsSampler
from drats.application.checkpoint import CheckpointStore, read_checkpoint
from drats.application.config import TrainConfig
from drats.application.evaluation import evaluate
from drats.application.onpolicy import OnPolicyTrainer
from drats.application.run_log import read_rows, without_timings
from drats.domain.errors import CheckpointError
from drats.testing import FakeEnvPool, FakePolicy, FakeTaskSampler


def config(**changes: object) -> TrainConfig:
    base = {
        "steps": 120,
        "rollout_steps": 5,
        "eval_every": 40,
        "eval_episodes": 2,
        "checkpoint_every": 30,
    }
    base.update(changes)
    return TrainConfig(**base)  # type: ignore[arg-type]


def make_trainer(
    run_dir: Path, cfg: TrainConfig | None = None, sampler: object = None
) -> OnPolicyTrainer:
    return OnPolicyTrainer(
        cfg or config(),
        pool=FakeEnvPool(4, seed=1),
        eval_pool=FakeEnvPool(3, seed=2),
        sampler=sampler or NumpyDratsSampler(3, eta=4.0, step_size=1.0, target=5.0, seed=3),  # type: ignore[arg-type]
        policy=FakePolicy(2, seed=4),
        run_dir=run_dir,
        progress=False,
    )


def test_the_loop_feeds_every_finished_episode_to_the_sampler(tmp_path: Path) -> None:
    sampler = FakeTaskSampler(3)
    trainer = make_trainer(tmp_path, sampler=sampler)
    counters = trainer.run()
    # 120 steps / (4 slots * 5 steps) = 6 iterations; one sampler update and one learn each.
    assert counters.iteration == 6
    assert counters.env_steps == 120
    assert sampler.updates == 6
    assert trainer.policy.learned == [20] * 6  # type: ignore[attr-defined]
    assert counters.steps_per_task.sum() == 120
    # Every finished episode was observed once, with the task the slot really played.
    assert len(sampler.episodes) == counters.episodes_per_task.sum() > 0
    as_per_task = np.bincount([t for t, _, _ in sampler.episodes], minlength=3)
    assert np.array_equal(as_per_task, counters.episodes_per_task)
    # Task t episodes last t + 2 steps, so steps and episodes per task must agree.
    assert np.all(counters.episodes_per_task * (np.arange(3) + 2) <= counters.steps_per_task)


def test_slots_switch_to_the_task_the_sampler_picks(tmp_path: Path) -> None:
    sampler = FakeTaskSampler(3)  # deals 0, 1, 2, 0, ... in order
    trainer = make_trainer(tmp_path, config(steps=20), sampler=sampler)
    trainer.run()
    # 4 initial draws + one per finished episode, all dealt round robin.
    draws = 4 + len(sampler.episodes)
    assert trainer.pool.assigned == [i % 3 for i in range(draws)]  # type: ignore[attr-defined]


def test_log_rows_and_schedules(tmp_path: Path) -> None:
    make_trainer(tmp_path).run()
    rows = read_rows(tmp_path)
    assert [r["iteration"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r["env_steps"] for r in rows] == [20, 40, 60, 80, 100, 120]
    evals = [r["env_steps"] for r in rows if "eval_success" in r]
    assert evals == [40, 80, 120]  # every 40 steps and at the end
    for row in rows:
        assert len(row["q"]) == 3
        assert abs(sum(row["q"]) - 1) < 1e-9
        assert len(row["gap"]) == len(row["train_return"]) == len(row["task_steps"]) == 3
        assert row["loss/loss"] == row["iteration"]
    ckpts = [int(p.name[11:23]) for p in CheckpointStore(tmp_path).paths()]
    assert ckpts == [100, 120]  # written at 40, 60, 100 (crossing 30, 60, 90) and 120; 2 kept


class CrashingPolicy(FakePolicy):
    """Dies in its ``crash_at``-th update, as a killed process would (mid-iteration)."""

    def __init__(self, crash_at: int) -> None:
        super().__init__(2, seed=4)
        self.crash_at = crash_at

    def learn(self, data: object) -> dict[str, float]:
        if len(self.learned) + 1 == self.crash_at:
            raise KeyboardInterrupt
        return super().learn(data)


@pytest.mark.parametrize("crash_at", [2, 4, 5])
def test_resume_after_a_crash_ends_like_an_uninterrupted_run(tmp_path: Path, crash_at: int) -> None:
    full = tmp_path / "full"
    make_trainer(full).run()
    part = tmp_path / "part"
    crashing = make_trainer(part)
    crashing.policy = CrashingPolicy(crash_at)
    with pytest.raises(KeyboardInterrupt):
        crashing.run()
    resumed = make_trainer(part)
    assert resumed.restore() == (crash_at > 2)  # the first checkpoint is written at 40 steps
    resumed.run()
    assert without_timings(read_rows(part)) == without_timings(read_rows(full))
    a = read_checkpoint(CheckpointStore(full).latest())[1]  # type: ignore[arg-type]
    b = read_checkpoint(CheckpointStore(part).latest())[1]  # type: ignore[arg-type]
    assert set(a) == set(b)
    for name, state in a.items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(value), np.asarray(b[name][key])), (name, key)


def test_resume_drops_rows_written_after_the_checkpoint(tmp_path: Path) -> None:
    make_trainer(tmp_path, config(steps=60)).run()
    with (tmp_path / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"iteration": 4, "env_steps": 80}) + "\n")
        handle.write('{"iteration": 5, "env_st')  # a row torn by a crash
    trainer = make_trainer(tmp_path)
    trainer.restore()
    assert [r["iteration"] for r in read_rows(tmp_path)] == [1, 2, 3]


def test_corrupt_checkpoint_is_refused_and_kept(tmp_path: Path) -> None:
    make_trainer(tmp_path, config(steps=40)).run()
    latest = CheckpointStore(tmp_path).latest()
    assert latest is not None
    data = bytearray(latest.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\0" * 64
    latest.write_bytes(bytes(data))
    trainer = make_trainer(tmp_path)
    with pytest.raises(CheckpointError, match="corrupt"):
        trainer.restore()
    assert latest.read_bytes() == bytes(data)  # not overwritten
    latest.write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match=latest.name):
        trainer.restore()


def test_mismatched_checkpoint_is_refused(tmp_path: Path) -> None:
    make_trainer(tmp_path, config(steps=40)).run()
    other = OnPolicyTrainer(
        config(),
        pool=FakeEnvPool(5, seed=1),
        eval_pool=FakeEnvPool(3, seed=2),
        sampler=NumpyDratsSampler(3, seed=3),
        policy=FakePolicy(2, seed=4),
        run_dir=tmp_path,
        progress=False,
    )
    with pytest.raises(CheckpointError, match="another pool"):
        other.restore()


def test_checkpoints_hold_no_pickles(tmp_path: Path) -> None:
    make_trainer(tmp_path, config(steps=40)).run()
    latest = CheckpointStore(tmp_path).latest()
    with np.load(latest, allow_pickle=False) as data:  # type: ignore[arg-type]
        assert all(data[key].dtype != object for key in data.files)


def test_evaluate_runs_the_requested_episodes_per_task() -> None:
    pool = FakeEnvPool(2, num_tasks=3, seed=0)
    result = evaluate(FakePolicy(2), pool, 3)
    # Deterministic action 0.5 on every step; returns are 1 - |0.5 - start| summed per step.
    assert result.success.shape == (3,)
    assert np.array_equal(result.lengths, np.array([2.0, 3.0, 4.0]))
    assert np.all((result.success >= 0) & (result.success <= 1))


@pytest.mark.parametrize("suite", ["gridworld4", "pointmass"])
def test_batched_values_give_the_rollout_per_step_values_give(tmp_path: Path, suite: str) -> None:
    """A policy that defers its critic values (one batched call per rollout) yields the
    rollout the per-step values give: same actions, values to float32 rounding."""
    from drats.application.config import TrainConfig as Config
    from drats.bootstrap import build
    from drats.bootstrap import make_trainer as make

    rollouts = []
    for deferred in (True, False):
        cfg = Config(suite=suite, steps=2_000, seed=4, threads=1, device="cpu")
        parts = build(cfg)
        trainer = make(cfg, parts, tmp_path / f"run-{deferred}", progress=False)
        assert trainer.defers_values  # the torch PPO policy offers batched values
        trainer.defers_values = deferred
        trainer._start()
        trainer._collect(30)
        rollouts.append(trainer._collect(40)[0])  # episodes cut by the time limit included
        parts.close()
    batched, per_step = rollouts
    for field in ("obs", "task_ids", "actions", "log_probs", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(batched, field), getattr(per_step, field))
    for field in ("values", "bootstrap", "last_values"):
        np.testing.assert_allclose(getattr(batched, field), getattr(per_step, field), atol=1e-6)
    assert batched.values.shape == per_step.values.shape
