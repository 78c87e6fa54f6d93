"""The reference of the SAC learner benchmark (``bench_sac.py``): a multi-task SAC update
written the obvious way, against which :class:`drats.TorchSACPolicy` is timed.

It uses the same network sizes and the same SAC maths as drats' learner (tanh-squashed
Gaussian actor, twin critics with the min target, per-task temperatures with target entropy
-|A|, weighted critic loss, |TD| per row for priorities), written straightforwardly: two
separate critic ``nn.Module``s each with its own forward, two separate target critics, the
batch converted with ``torch.tensor`` on every update, ``torch.optim.Adam`` with its defaults,
the critic, actor and temperature losses each with its own backward and step (the actor's
backward also fills the critics' gradients, which are then thrown away), per-task temperatures
updated in a Python loop over tasks, Polyak averaging one parameter at a time, ``.item()`` for
every metric.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from drats.adapters.learners.torch_nets import MultiHeadMLP
from drats.domain.types import Batch


class ReferenceMTSAC:
    """A straightforward multi-task SAC update (see the module docstring) with ``hidden``
    ReLU layers and one head per task."""

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        num_tasks: int,
        hidden: tuple[int, ...] = (400, 400, 400),
        seed: int = 0,
    ) -> None:
        torch.manual_seed(seed)
        self.num_tasks, self.action_dim = num_tasks, action_dim
        self.gamma, self.tau, self.target_entropy = 0.99, 0.005, -float(action_dim)
        self.actor = MultiHeadMLP(obs_dim, 2 * action_dim, num_tasks, hidden=hidden)
        self.critic1 = MultiHeadMLP(obs_dim + action_dim, 1, num_tasks, hidden=hidden)
        self.critic2 = MultiHeadMLP(obs_dim + action_dim, 1, num_tasks, hidden=hidden)
        self.target1 = copy.deepcopy(self.critic1)
        self.target2 = copy.deepcopy(self.critic2)
        self.log_alpha = torch.zeros(num_tasks, requires_grad=True)
        self.actor_optim = torch.optim.Adam(self.actor.parameters(), lr=3e-4)
        self.critic1_optim = torch.optim.Adam(self.critic1.parameters(), lr=3e-4)
        self.critic2_optim = torch.optim.Adam(self.critic2.parameters(), lr=3e-4)
        self.alpha_optim = torch.optim.Adam([self.log_alpha], lr=3e-4)
        self.td_errors = np.zeros(0, np.float32)

    def sample(self, obs: Any, ids: Any) -> tuple[Any, Any]:
        mean, log_std = self.actor(obs, ids).chunk(2, dim=-1)
        log_std = torch.clamp(log_std, -20.0, 2.0)
        normal = torch.distributions.Normal(mean, log_std.exp())
        u = normal.rsample()
        action = torch.tanh(u)
        log_prob = normal.log_prob(u).sum(-1) - torch.log(1 - action.pow(2) + 1e-6).sum(-1)
        return action, log_prob

    def learn(self, batch: Batch) -> dict[str, float]:
        obs = torch.tensor(batch.obs)
        actions = torch.tensor(batch.actions)
        rewards = torch.tensor(batch.rewards)
        next_obs = torch.tensor(batch.next_obs)
        terminated = torch.tensor(batch.terminated)
        ids = torch.tensor(batch.task_ids)
        weights = torch.tensor(batch.weights)
        alpha = self.log_alpha.exp().detach()[ids]
        with torch.no_grad():
            next_a, next_logp = self.sample(next_obs, ids)
            t1 = self.target1(torch.cat([next_obs, next_a], 1), ids).squeeze(-1)
            t2 = self.target2(torch.cat([next_obs, next_a], 1), ids).squeeze(-1)
            y = rewards + self.gamma * (1 - terminated) * (torch.min(t1, t2) - alpha * next_logp)
        q1 = self.critic1(torch.cat([obs, actions], 1), ids).squeeze(-1)
        q2 = self.critic2(torch.cat([obs, actions], 1), ids).squeeze(-1)
        loss1 = (weights * (q1 - y) ** 2).mean()
        loss2 = (weights * (q2 - y) ** 2).mean()
        self.critic1_optim.zero_grad()
        loss1.backward()
        self.critic1_optim.step()
        self.critic2_optim.zero_grad()
        loss2.backward()
        self.critic2_optim.step()
        self.td_errors = ((q1 - y).abs() + (q2 - y).abs()).detach().numpy() / 2

        new_a, logp = self.sample(obs, ids)
        q_new = torch.min(
            self.critic1(torch.cat([obs, new_a], 1), ids).squeeze(-1),
            self.critic2(torch.cat([obs, new_a], 1), ids).squeeze(-1),
        )
        actor_loss = (alpha * logp - q_new).mean()
        self.actor_optim.zero_grad()
        actor_loss.backward()
        self.actor_optim.step()

        alpha_loss = torch.zeros(())
        for t in range(self.num_tasks):
            mask = ids == t
            if mask.any():
                term = self.log_alpha[t] * (logp[mask].detach() + self.target_entropy)
                alpha_loss = alpha_loss - term.mean() / self.num_tasks
        self.alpha_optim.zero_grad()
        alpha_loss.backward()
        self.alpha_optim.step()

        with torch.no_grad():
            for online, target in ((self.critic1, self.target1), (self.critic2, self.target2)):
                for p, tp in zip(online.parameters(), target.parameters(), strict=True):
                    tp.data.copy_(self.tau * p.data + (1 - self.tau) * tp.data)
        return {
            "critic_loss": loss1.item() + loss2.item(),
            "actor_loss": actor_loss.item(),
            "alpha_loss": alpha_loss.item(),
            "alpha_mean": self.log_alpha.exp().mean().item(),
            "entropy": -logp.mean().item(),
            "q_mean": ((q1 + q2) / 2).mean().item(),
        }
