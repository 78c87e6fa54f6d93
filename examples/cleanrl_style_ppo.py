"""A single-file, CleanRL-style PPO over Gymnasium's AsyncVectorEnv, with DRATS choosing each
episode's task through ``TaskSamplingVectorWrapper``.

    pip install 'drats[gym]'
    python examples/cleanrl_style_ppo.py --steps 200000

The loop is a plain PPO loop: nothing in it knows about tasks. The sub-envs (worker processes)
are ``TaskSwitchingEnv`` s over the four ``drats/GridWorld-v0`` grids; the wrapper, in this
process, feeds each finished episode to the sampler and sends the new q to the workers once per
window (here one window per rollout). The vector env runs in ``SAME_STEP`` autoreset mode, so
``dones`` mark the episode boundaries as in CleanRL's scripts (a truncation is treated as an end,
as they do). With seed 0 the greedy policy solves all four grids within 85,000 env steps.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import drats
from drats.gym import TaskSamplingVectorWrapper, TaskSwitchingEnv

WALLS = (1, 2, 3, 4)


def make_env() -> TaskSwitchingEnv:
    return TaskSwitchingEnv(
        [functools.partial(gym.make, "drats/GridWorld-v0", wall=w) for w in WALLS]
    )


class Agent(nn.Module):
    def __init__(self, obs_dim: int, num_actions: int, hidden: int = 64) -> None:
        super().__init__()
        self.critic = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.actor = nn.Sequential(
            nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, num_actions)
        )
        nn.init.orthogonal_(self.actor[-1].weight, 0.01)
        nn.init.orthogonal_(self.critic[-1].weight, 0.01)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        dist = torch.distributions.Categorical(logits=self.actor(x))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.value(x)


def evaluate(agent: Agent, env: TaskSwitchingEnv) -> np.ndarray:
    """Greedy success on each task (one episode each: the grids are deterministic)."""
    out = np.zeros(len(WALLS))
    for task in range(len(WALLS)):
        obs, _ = env.reset(options={"task": task})
        done = False
        while not done:
            with torch.no_grad():
                logits = agent.actor(torch.as_tensor(obs))
            obs, _, terminated, truncated, info = env.step(int(logits.argmax()))
            done = terminated or truncated
        out[task] = float(info["success"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--num-steps", type=int, default=64, help="rollout steps per sub-env")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--sampler", choices=["drats", "uniform"], default="drats")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    n, t_max = args.num_envs, args.num_steps
    envs: Any = gym.vector.AsyncVectorEnv(
        [make_env] * n, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP, context="forkserver"
    )
    if args.sampler == "drats":
        sampler: Any = drats.DratsSampler(
            4, eta=16.0, step_size=3.2, eps=0.01, target=1.0, adaptive_target=False, seed=args.seed
        )
    else:
        sampler = drats.UniformSampler(4, seed=args.seed)
    envs = TaskSamplingVectorWrapper(envs, sampler, window_steps=n * t_max)
    obs_dim = envs.single_observation_space.shape[0]
    agent = Agent(obs_dim, envs.single_action_space.n)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.lr)
    eval_env = make_env()

    obs_buf = torch.zeros(t_max, n, obs_dim)
    act_buf = torch.zeros(t_max, n, dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(t_max, n) for _ in range(4))
    obs, _ = envs.reset(seed=args.seed)  # sub-env i draws its tasks from seed + i
    next_obs, next_done = torch.as_tensor(obs), torch.zeros(n)
    iterations = max(1, args.steps // (n * t_max))
    for iteration in range(1, iterations + 1):
        for t in range(t_max):
            obs_buf[t], done_buf[t] = next_obs, next_done
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            act_buf[t], logp_buf[t], val_buf[t] = action, logp, value
            obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            rew_buf[t] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.as_tensor(obs)
            next_done = torch.as_tensor(terminated | truncated, dtype=torch.float32)
        # GAE(0.95), gamma 0.99
        with torch.no_grad():
            next_value = agent.value(next_obs)
            adv, last = torch.zeros(t_max, n), torch.zeros(n)
            for t in reversed(range(t_max)):
                nonterminal = 1.0 - (next_done if t == t_max - 1 else done_buf[t + 1])
                following = next_value if t == t_max - 1 else val_buf[t + 1]
                delta = rew_buf[t] + 0.99 * following * nonterminal - val_buf[t]
                last = delta + 0.99 * 0.95 * nonterminal * last
                adv[t] = last
            returns = adv + val_buf
        b_obs, b_act = obs_buf.reshape(-1, obs_dim), act_buf.reshape(-1)
        b_logp, b_adv, b_ret = logp_buf.reshape(-1), adv.reshape(-1), returns.reshape(-1)
        for _ in range(args.epochs):
            _, logp, entropy, value = agent.act(b_obs, b_act)
            ratio = (logp - b_logp).exp()
            norm_adv = (b_adv - b_adv.mean()) / (b_adv.std() + 1e-8)
            pg_loss = torch.max(-norm_adv * ratio, -norm_adv * ratio.clamp(0.8, 1.2)).mean()
            loss = pg_loss + 0.5 * ((value - b_ret) ** 2).mean() - 0.01 * entropy.mean()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
            optimizer.step()
        if iteration % 10 == 0 or iteration == iterations:
            success = evaluate(agent, eval_env)
            print(
                f"{envs.env_steps:>8} steps  q {np.round(sampler.probs, 2)}  "
                f"eval success {success.round(2)}  mean {success.mean():.2f}"
            )
    envs.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
