"""A straightforward GridWorld-4 PPO loop, the baseline of ``bench_gridworld.py``.

Written the way single-file research PPO is written (CleanRL's shape), independent of drats:
a Gymnasium env per task set whose resets draw the task from ``q``,
``gymnasium.vector.SyncVectorEnv`` with one env, one torch forward per environment step, 256
steps per update, and the paper's linear PPO update (one epoch, one minibatch, lr 3e-3, no ratio
clipping, no entropy bonus, no advantage normalisation, grad-norm clip 0.5, actor and critic
initialised at std 0.01), with DRATS's mirror-ascent step on q once per 256-step window
(eta 16, step size 3.2, eps 0.01, target 1).

``run(steps, seed)`` trains for ``steps`` env steps and returns the seconds it took.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

SIZE, WALL_COLUMN, WALLS, HORIZON = 5, 2, (1, 2, 3, 4), 15
K = len(WALLS)
OBS_DIM = SIZE * SIZE + K
GOAL = (0, SIZE - 1)
MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1))  # up, down, left, right
NUM_STEPS, LR, GAMMA, LAM, VF_COEF, MAX_GRAD_NORM = 256, 3e-3, 0.99, 0.95, 0.5, 0.5
ETA, STEP_SIZE, EPS, TARGET = 16.0, 3.2, 0.01, 1.0


def move(task: int, r: int, c: int, a: int) -> tuple[int, int]:
    dr, dc = MOVES[a]
    nr, nc = min(max(r + dr, 0), SIZE - 1), min(max(c + dc, 0), SIZE - 1)
    return (r, c) if nc == WALL_COLUMN and nr < WALLS[task] else (nr, nc)


def one_hot(task: int, r: int, c: int) -> np.ndarray:
    obs = np.zeros(OBS_DIM, np.float32)
    obs[r * SIZE + c] = 1.0
    obs[SIZE * SIZE + task] = 1.0
    return obs


class GridWorldTasks(gym.Env):  # type: ignore[type-arg]
    """One GridWorld episode per reset, its task drawn from ``self.q``."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0.0, 1.0, (OBS_DIM,), np.float32)
        self.action_space = gym.spaces.Discrete(4)
        self.q = np.full(K, 1.0 / K)
        self.task, self.pos, self.t = 0, (0, 0), 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        self.task = int(self.np_random.choice(K, p=self.q))
        self.pos, self.t = (0, 0), 0
        return one_hot(self.task, *self.pos), {}

    def step(self, action: Any) -> Any:
        self.pos = move(self.task, *self.pos, int(action))
        self.t += 1
        success = self.pos == GOAL
        truncated = not success and self.t >= HORIZON
        return one_hot(self.task, *self.pos), 1.0 if success else -0.001, success, truncated, {}


class Agent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.actor = nn.Linear(OBS_DIM, 4)
        self.critic = nn.Linear(OBS_DIM, 1)
        for layer in (self.actor, self.critic):
            nn.init.orthogonal_(layer.weight, 0.01)
            nn.init.zeros_(layer.bias)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x).squeeze(-1)

    def act(self, x: torch.Tensor, action: torch.Tensor | None = None) -> Any:
        dist = Categorical(logits=self.actor(x))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.value(x)


def drats_step(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    """One KL-regularised mirror-ascent step, then the floor projection."""
    alpha = STEP_SIZE / ETA
    logits = (1.0 - alpha) * np.log(q) + alpha * np.log(1.0 / len(q)) + STEP_SIZE * g
    z = np.exp(logits - logits.max())
    z /= z.sum()
    clamped = np.zeros(len(z), bool)
    while True:
        out = np.full(len(z), EPS)
        free = ~clamped
        out[free] = (1.0 - EPS * clamped.sum()) * z[free] / z[free].sum()
        low = free & (out < EPS)
        if not low.any():
            return out
        clamped |= low


def run(steps: int, seed: int = 0) -> float:
    """Train for ``steps`` env steps (whole 256-step updates); return the seconds taken."""
    torch.manual_seed(seed)
    envs = gym.vector.SyncVectorEnv(
        [GridWorldTasks], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    agent = Agent()
    optimizer = torch.optim.Adam(agent.parameters(), lr=LR, eps=1e-5)
    obs_buf = torch.zeros((NUM_STEPS, 1, OBS_DIM))
    act_buf = torch.zeros((NUM_STEPS, 1), dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((NUM_STEPS, 1)) for _ in range(4))
    q = np.full(K, 1.0 / K)
    next_obs = torch.as_tensor(envs.reset(seed=seed)[0])
    next_done = torch.zeros(1)
    ep_return = 0.0
    started = time.perf_counter()
    for _ in range(max(1, steps // NUM_STEPS)):
        win_sum, win_cnt = np.zeros(K), np.zeros(K)
        for t in range(NUM_STEPS):
            obs_buf[t], done_buf[t] = next_obs, next_done
            task = int(next_obs[0, SIZE * SIZE :].argmax())
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            val_buf[t], act_buf[t], logp_buf[t] = value, action, logp
            obs, reward, term, trunc, _ = envs.step(action.numpy())
            rew_buf[t] = torch.as_tensor(reward, dtype=torch.float32)
            ep_return += float(reward[0])
            done = bool(term[0] or trunc[0])
            if done:
                win_sum[task] += ep_return
                win_cnt[task] += 1
                ep_return = 0.0
            next_obs = torch.as_tensor(obs)
            next_done = torch.tensor([float(done)])
        mean = np.divide(win_sum, win_cnt, out=np.zeros(K), where=win_cnt > 0)
        q = drats_step(q, np.where(win_cnt > 0, (TARGET - mean) / TARGET, 1.0))
        envs.set_attr("q", [q])
        with torch.no_grad():
            next_value = agent.value(next_obs)
            adv = torch.zeros_like(rew_buf)
            last = torch.zeros(1)
            for t in reversed(range(NUM_STEPS)):
                if t == NUM_STEPS - 1:
                    nonterminal, next_v = 1.0 - next_done, next_value
                else:
                    nonterminal, next_v = 1.0 - done_buf[t + 1], val_buf[t + 1]
                delta = rew_buf[t] + GAMMA * next_v * nonterminal - val_buf[t]
                adv[t] = last = delta + GAMMA * LAM * nonterminal * last
            returns = adv + val_buf
        b_obs, b_act = obs_buf.reshape(-1, OBS_DIM), act_buf.reshape(-1)
        _, new_logp, _, new_value = agent.act(b_obs, b_act)
        ratio = (new_logp - logp_buf.reshape(-1)).exp()
        pg_loss = -(adv.reshape(-1) * ratio).mean()
        v_loss = 0.5 * ((new_value - returns.reshape(-1)) ** 2).mean()
        optimizer.zero_grad()
        (pg_loss + VF_COEF * v_loss).backward()  # type: ignore[no-untyped-call]
        nn.utils.clip_grad_norm_(agent.parameters(), MAX_GRAD_NORM)
        optimizer.step()
    envs.close()
    return time.perf_counter() - started
