"""Stable-Baselines3 SAC on Meta-World MT10, with DRATS choosing each episode's task.

    pip install 'drats[sb3,metaworld]'
    python examples/metaworld_sb3_sac.py --steps 2000000          # the full run
    python examples/metaworld_sb3_sac.py --steps 300 --eval-every 0 --learning-starts 100

Each of the ten tasks is a small Gymnasium env over drats's
:class:`~drats.adapters.envs.metaworld.MetaWorldFamily`: Meta-World 3.x does not seed its goal
variants from ``reset(seed=)``, so the task env picks one of the task's 50 seeded variants from
the seed it is reset with (the second draw of a ``CounterRng``, as the ``mt10`` suite's slots
do) and sets it with ``set_task``. ``TaskSwitchingEnv`` gives every episode its own reset seed,
so the variants are fixed by the run's seed. Observations are Meta-World's 39-d float64 ones
cast to float32, then the K-wide task one-hot: Meta-World's own ``use_one_hot`` encoding,
done by ``TaskSwitchingEnv``; success is Meta-World's ``info["success"]`` at any step of the
episode, reported in the info of the step that ends it; episodes are 500 steps (Meta-World
truncates them itself).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import DummyVecEnv

import drats
from drats.adapters.envs.metaworld import MetaWorldFamily
from drats.domain.rng import CounterRng
from drats.gym import TaskSwitchingEnv
from drats.sb3 import DratsCallback


class MetaWorldTask(gym.Env[Any, Any]):
    """One MT10 task; ``reset(seed=s)`` plays goal variant ``f(s)`` of its 50."""

    def __init__(self, family: MetaWorldFamily, task: int) -> None:
        self.family, self.task = family, task
        self.env = family.make_env(task)
        self.observation_space, self.action_space = family.spaces[task]
        self._rng = CounterRng(0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = CounterRng(seed)
        obs = self.family.start_episode(self.env, self.task, self._rng.next_u64(2))
        return obs, {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def close(self) -> None:
        self.env.close()


def make_env(family: MetaWorldFamily) -> TaskSwitchingEnv:
    tasks = [lambda t=t: MetaWorldTask(family, t) for t in range(len(family.task_names))]
    # The spaces are known, so each task's simulator is built when the task is first played.
    return TaskSwitchingEnv(tasks, spaces=family.spaces)


class Evaluate(BaseCallback):
    """Every ``every`` env steps: one greedy episode per task, mean success printed."""

    def __init__(self, env: TaskSwitchingEnv, every: int) -> None:
        super().__init__()
        self.env, self.every, self.next = env, every, every

    def _on_step(self) -> bool:
        if self.every <= 0 or self.num_timesteps < self.next:
            return True
        self.next += self.every
        success = np.zeros(self.env.num_tasks)
        for task in range(self.env.num_tasks):
            obs, _ = self.env.reset(options={"task": task})
            done = False
            while not done:
                action, _ = self.model.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = self.env.step(action)
                done = terminated or truncated
            success[task] = float(info["success"])
        print(f"{self.num_timesteps:>9} steps  eval success {success}  mean {success.mean():.2f}")
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-envs", type=int, default=2)
    parser.add_argument("--window-steps", type=int, default=10_000)
    parser.add_argument("--learning-starts", type=int, default=10_000)
    parser.add_argument("--eval-every", type=int, default=50_000, help="0: no evaluation")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("metaworld") is None:
        print("this example needs Meta-World 3: pip install 'drats[sb3,metaworld]'")
        return 2
    torch.set_num_threads(args.threads)

    family = MetaWorldFamily("mt10", seed=args.seed, max_episode_steps=500)
    env = DummyVecEnv([lambda: make_env(family) for _ in range(args.n_envs)])
    env.seed(args.seed)  # sub-env i draws its tasks and goal variants from seed + i
    k = len(family.task_names)
    # The mt10 suite's preset: eta 8, step size 0.5, eps 1 / (4K), target return 5000 (then the
    # running best once a task is solved), a window of 10,000 env steps.
    sampler = drats.DratsSampler(k, eta=8.0, step_size=0.5, target=5000.0, seed=args.seed)
    model = SAC(
        "MlpPolicy",
        env,
        learning_starts=min(args.learning_starts, max(1, args.steps // 3)),
        batch_size=256,
        policy_kwargs={"net_arch": [256, 256]},
        seed=args.seed,
        device="cpu",
    )
    callbacks = CallbackList(
        [
            DratsCallback(sampler, window_steps=args.window_steps),
            Evaluate(make_env(family), args.eval_every),
        ]
    )
    model.learn(args.steps, callback=callbacks)
    names = {n: round(float(p), 3) for n, p in zip(family.task_names, sampler.probs, strict=True)}
    print(f"{model.num_timesteps} steps; final q {names}")
    env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
