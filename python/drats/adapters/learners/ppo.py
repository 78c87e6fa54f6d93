"""Multi-task PPO in torch (Policy port): multi-head actor and critic, per-task advantage
normalisation, approx-KL early stop, separate Adam optimisers, grad-norm clipping.

The same code runs on CUDA and on the CPU; all randomness (action noise, minibatch order) comes
from one ``torch.Generator`` whose state is part of ``state_dict``, so a restored policy acts and
learns exactly as the original would have (on the CPU; CUDA kernels are not bit-reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from drats.adapters.learners.adam import Adam
from drats.adapters.learners.numpy_forward import (
    MASKED_LOGIT,
    MLPSnapshot,
    as_action_mask,
    categorical,
    check_mask_state,
    check_task_actions,
    gaussian,
)
from drats.adapters.learners.ppo_config import PPOConfig
from drats.adapters.learners.torch_nets import (
    MultiHeadMLP,
    check_generator_state,
    check_module_state,
    check_optim_state,
    check_stream_state,
    clip_grad_norm,
    config_of,
    pick_device,
    policy_dims,
    policy_tree,
    restore_or_roll_back,
    to_numpy_tree,
    to_torch_tree,
)
from drats.domain.checks import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    REAL_KINDS,
    FieldSpec,
    as_array,
    as_fields,
    as_seed,
    check_action_indices,
    check_binary,
    check_finite,
    check_ids,
    check_shape,
)
from drats.domain.errors import CheckpointError, InvalidInputError
from drats.domain.ports import Policy, StateDict
from drats.domain.rng import UniformStream
from drats.domain.state_tree import check_finite_tree, flatten_tree, unflatten_tree
from drats.domain.types import PolicyStep, Rollout

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gae(
    rewards: NDArray[np.float32],
    values: NDArray[np.float32],
    dones: NDArray[np.bool_],
    last_values: NDArray[np.float32],
    gamma: float,
    lam: float,
) -> NDArray[np.float32]:
    """Generalised advantage estimates, float32[T, N]; an episode end cuts the bootstrap.

    The TD errors are computed for all steps at once; only the backward recursion
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}`` runs step by step."""
    keep = 1.0 - dones.astype(np.float32)
    next_values = np.concatenate([values[1:], last_values[None]])
    delta = rewards + gamma * next_values * keep - values
    coef = gamma * lam * keep
    adv = np.empty_like(rewards)
    running = np.zeros_like(last_values)
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = delta[t] + coef[t] * running
        adv[t] = running
    return adv


def per_task_normalise(adv: torch.Tensor, task_ids: torch.Tensor, num_tasks: int) -> torch.Tensor:
    """Advantages minus their task's mean, over their task's std (within this minibatch)."""
    counts = torch.bincount(task_ids, minlength=num_tasks).to(adv.dtype).clamp_min(1.0)
    mean = torch.zeros(num_tasks, dtype=adv.dtype, device=adv.device).index_add_(0, task_ids, adv)
    mean = mean / counts
    centred = adv - mean[task_ids]
    var = torch.zeros_like(mean).index_add_(0, task_ids, centred * centred) / counts
    return centred / (var.sqrt()[task_ids] + 1e-8)


#: Rows per critic call in :meth:`TorchPPOPolicy.values` (bounds its activations' memory).
_VALUE_CHUNK = 4096


class TorchPPOPolicy(Policy):
    """Multi-task PPO: Gaussian (state-dependent log-std) or categorical actor, value critic.

    Args:
        obs_dim: observation width (task one-hot included).
        action_dim: continuous action width, or the number of discrete actions.
        num_tasks: K, the number of heads when ``config.multi_head``.
        discrete: categorical actions (int64) instead of Gaussian ones (float32 in [-1, 1]).
        config: learner settings (:class:`PPOConfig`).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        seed: seeds the initial weights and the policy's own random stream.
        action_counts: discrete tasks with different numbers of actions: int[K], task i
            taking only ``[0, action_counts[i])`` of ``[0, action_dim)`` (an env pool's
            ``action_counts``). The other actions are masked out of the categorical (acting
            and learning alike), so they are never sampled; a rollout holding one is refused.
            None: every action is valid for every task.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        num_tasks: int,
        *,
        discrete: bool,
        config: PPOConfig | None = None,
        device: str = "auto",
        seed: int = 0,
        action_counts: ArrayLike | None = None,
    ) -> None:
        dims = policy_dims(obs_dim, action_dim, num_tasks, discrete)
        self.obs_dim, self.action_dim, self.num_tasks, self.discrete = dims
        #: [K, A] valid actions per task (None: all valid), and its copy on the device
        self.action_mask = as_action_mask(action_counts, self.num_tasks, self.action_dim, discrete)
        self.config = cfg = config_of(config, PPOConfig)
        seed = as_seed(seed)
        self.device = pick_device(device)
        torch.manual_seed(seed)  # only the initial weights; acting uses self._gen
        out = self.action_dim if self.discrete else 2 * self.action_dim

        def net(width: int, gain: float) -> MultiHeadMLP:
            return MultiHeadMLP(
                self.obs_dim, width, self.num_tasks, hidden=cfg.hidden,
                multi_head=cfg.multi_head, head_gain=gain,
            ).to(self.device)  # fmt: skip

        self.actor = net(out, 0.01)
        self.critic = net(1, cfg.critic_gain)
        self._mask_t = (
            None if self.action_mask is None else torch.from_numpy(self.action_mask).to(self.device)
        )
        self.actor_optim = Adam(self.actor.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        self.critic_optim = Adam(self.critic.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        self._gen = torch.Generator(device=self.device)
        self._gen.manual_seed(seed)
        # On the CPU, acting runs on a snapshot of the networks (C++ forward) with its own stream.
        self._act_rng = UniformStream(seed)
        self._snapshot: tuple[MLPSnapshot, MLPSnapshot] | None = None

    # ------------------------------------------------------------------------ acting

    def _inputs(self, obs: Any, task_ids: Any) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        x = as_array(obs, "obs", REAL_KINDS, np.float32)
        ids = as_array(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        if x.ndim != 2 or x.shape[1] != self.obs_dim:
            raise InvalidInputError(f"obs must have shape (n, {self.obs_dim}), got {x.shape}")
        check_shape(ids, (x.shape[0],), "task_ids", symbols=("n",))
        check_finite(x, "obs")
        check_ids(ids, self.num_tasks, "task_ids")
        return np.ascontiguousarray(x), ids

    def _networks(self) -> tuple[MLPSnapshot, MLPSnapshot]:
        """The snapshot of (actor, critic), taken again after every change."""
        if self._snapshot is None:
            self._snapshot = (MLPSnapshot(self.actor), MLPSnapshot(self.critic))
        return self._snapshot

    def _dist_params(self, x: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.actor(x, ids)
        if self.discrete:
            if self._mask_t is not None:  # other tasks' actions: probability 0, no gradient
                out = out.masked_fill(~self._mask_t[ids], MASKED_LOGIT)
            logits = out - out.logsumexp(-1, keepdim=True)
            return logits, logits
        mean, log_std = out.chunk(2, dim=-1)
        cfg = self.config
        return mean, log_std.clamp(cfg.log_std_min, cfg.log_std_max)

    def _log_prob_entropy(
        self, params: tuple[torch.Tensor, torch.Tensor], actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = params
        if self.discrete:
            log_prob = a.gather(-1, actions.view(-1, 1)).squeeze(-1)
            return log_prob, -(a.exp() * a).sum(-1)
        z = (actions - a) * torch.exp(-b)
        log_prob = (-0.5 * z * z - b - _HALF_LOG_2PI).sum(-1)
        return log_prob, (b + 0.5 + _HALF_LOG_2PI).sum(-1)

    def act(
        self,
        obs: NDArray[np.float32],
        task_ids: NDArray[np.int64],
        *,
        deterministic: bool = False,
        value: bool = True,
    ) -> PolicyStep:
        """Actions for ``obs``; extras ``log_prob``, ``value`` (unless ``value`` is False: the
        caller takes the critic's values later from :meth:`values`, batched) and (continuous)
        ``raw_action``, the unclipped Gaussian sample the learner must be given back. On the
        CPU the forward pass and the draws run in the C++ core (see
        :mod:`numpy_forward`), on CUDA in torch."""
        x, ids = self._inputs(obs, task_ids)
        if self.device.type != "cpu":
            return self._act_torch(x, ids, deterministic, value)
        actor, critic = self._networks()
        out = actor(x, ids)
        extras: dict[str, NDArray[Any]] = {"value": critic(x, ids)[:, 0]} if value else {}
        if self.discrete:
            rng = None if deterministic else self._act_rng
            valid = None if self.action_mask is None else self.action_mask[ids]
            actions, extras["log_prob"] = categorical(out, rng, valid)
            return PolicyStep(actions=actions, extras=extras)
        cfg = self.config
        rng = None if deterministic else self._act_rng
        clipped, extras["raw_action"], extras["log_prob"] = gaussian(
            out, rng, cfg.log_std_min, cfg.log_std_max
        )
        return PolicyStep(actions=clipped, extras=extras)

    def values(self, obs: NDArray[np.float32], task_ids: NDArray[np.int64]) -> NDArray[np.float32]:
        """float32[n]: the critic's value of each row of ``obs``: what :meth:`act` returns as
        its ``value`` extra, for many rows at once (the on-policy loop asks once per rollout
        instead of once per step). Checked as :meth:`act` checks its input."""
        x, ids = self._inputs(obs, task_ids)
        if self.device.type != "cpu":
            with torch.no_grad():
                xs = torch.from_numpy(x).to(self.device)
                out = self.critic(xs, torch.from_numpy(ids).to(self.device)).squeeze(-1)
                result: NDArray[np.float32] = out.float().cpu().numpy()
                return result
        critic = self._networks()[1]
        c = _VALUE_CHUNK  # bounds the hidden activations of a large rollout
        parts = [critic(x[i : i + c], ids[i : i + c])[:, 0] for i in range(0, len(x), c)]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    @torch.no_grad()
    def _act_torch(
        self,
        x_np: NDArray[np.float32],
        ids_np: NDArray[np.int64],
        deterministic: bool,
        with_value: bool = True,
    ) -> PolicyStep:
        x = torch.from_numpy(x_np).to(self.device, non_blocking=True)
        ids = torch.from_numpy(ids_np).to(self.device, non_blocking=True)
        params = self._dist_params(x, ids)
        if self.discrete:
            if deterministic:
                actions = params[0].argmax(-1)
            else:
                actions = torch.multinomial(params[0].exp(), 1, generator=self._gen).squeeze(-1)
        else:
            mean, log_std = params
            actions = mean
            if not deterministic:
                noise = torch.randn(mean.shape, generator=self._gen, device=self.device)
                actions = mean + noise * log_std.exp()
        log_prob, _ = self._log_prob_entropy(params, actions)
        extras = {"log_prob": log_prob.float().cpu().numpy()}
        if with_value:
            extras["value"] = self.critic(x, ids).squeeze(-1).float().cpu().numpy()
        if self.discrete:
            return PolicyStep(actions=actions.cpu().numpy().astype(np.int64), extras=extras)
        raw = actions.float().cpu().numpy()
        extras["raw_action"] = raw
        return PolicyStep(actions=np.clip(raw, -1.0, 1.0), extras=extras)

    # ------------------------------------------------------------------------ learning

    def _rollout_arrays(self, data: Rollout) -> dict[str, NDArray[Any]]:
        """The rollout's fields checked (dtype, shape ``(T, N, ...)``, finite, task ids in
        ``[0, K)``, discrete actions in ``[0, A)``, dones 0/1) and made contiguous."""
        ids = as_array(data.task_ids, "rollout.task_ids", INTEGER_KINDS, np.int64)
        if ids.ndim != 2:
            raise InvalidInputError(f"rollout.task_ids must have shape (T, N), got {ids.shape}")
        t, n = ids.shape
        tn, tn_names = (t, n), ("T", "N")
        act: FieldSpec = (
            (tn, tn_names, INTEGER_KINDS, np.int64)
            if self.discrete
            else ((t, n, self.action_dim), tn_names, REAL_KINDS, np.float32)
        )
        spec: dict[str, FieldSpec] = {
            "task_ids": (tn, tn_names, INTEGER_KINDS, np.int64),
            "obs": ((t, n, self.obs_dim), tn_names, REAL_KINDS, np.float32),
            "actions": act,
            "log_probs": (tn, tn_names, REAL_KINDS, np.float32),
            "values": (tn, tn_names, REAL_KINDS, np.float32),
            "rewards": (tn, tn_names, REAL_KINDS, np.float32),
            "dones": (tn, tn_names, NUMERIC_KINDS, np.float32),
            "bootstrap": (tn, tn_names, REAL_KINDS, np.float32),
            "last_values": ((n,), ("N",), REAL_KINDS, np.float32),
        }
        out = as_fields(data, spec, "rollout")
        if t * n < 1:
            raise InvalidInputError(f"a PPO rollout needs at least one step, got shape {(t, n)}")
        check_ids(out["task_ids"], self.num_tasks, "rollout.task_ids")
        if self.discrete:
            check_action_indices(out["actions"], self.action_dim, "rollout.actions")
            check_task_actions(self.action_mask, out["actions"], out["task_ids"], "rollout")
        check_binary(out["dones"], "rollout.dones")
        out["dones"] = out["dones"] != 0
        return out

    def learn(self, data: Rollout | Any) -> dict[str, float]:
        """One PPO update on a :class:`~drats.domain.types.Rollout`; returns loss statistics.

        The rollout is checked first (InvalidInputError, InvalidDtypeError or
        UnknownTaskError naming the field); a refused rollout leaves the policy unchanged."""
        if not isinstance(data, Rollout):
            raise InvalidInputError(f"PPO learns from a Rollout, got {type(data).__name__}")
        r = self._rollout_arrays(data)
        cfg, dev = self.config, self.device
        rewards = r["rewards"] + np.float32(cfg.gamma) * r["bootstrap"]
        adv_np = gae(rewards, r["values"], r["dones"], r["last_values"], cfg.gamma, cfg.gae_lambda)
        returns_np = adv_np + r["values"]
        n = rewards.size

        def flat(arr: NDArray[Any], *tail: int) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(arr).reshape(n, *tail)).to(dev)

        obs = flat(r["obs"], self.obs_dim)
        ids = flat(r["task_ids"])
        actions = flat(r["actions"]) if self.discrete else flat(r["actions"], self.action_dim)
        old_logp, adv, ret = flat(r["log_probs"]), flat(adv_np), flat(returns_np)
        size = max(1, n // cfg.minibatches)
        stats = torch.zeros(5, device=dev)  # policy loss, value loss, entropy, kl, clip frac
        updates, stopped = 0, False
        batch = (obs, ids, actions, old_logp, adv, ret)
        for _ in range(cfg.epochs):
            # One minibatch is the whole rollout: no shuffle (a mean does not depend on order).
            order = (
                None if cfg.minibatches == 1 else torch.randperm(n, generator=self._gen, device=dev)
            )
            for start in range(0, size * cfg.minibatches, size):
                mb = (
                    batch if order is None else tuple(x[order[start : start + size]] for x in batch)
                )
                losses = self._losses(*mb)
                self._step(losses[0] - cfg.ent_coef * losses[2] + cfg.vf_coef * losses[1])
                stats += torch.stack(losses).detach()
                updates += 1
                if cfg.target_kl is not None and losses[3].item() > 1.5 * cfg.target_kl:
                    stopped = True
                    break
            if stopped:
                break
        mean = (stats / updates).tolist()
        var_ret = float(returns_np.var())
        explained = 1.0 - float((returns_np - r["values"]).var()) / var_ret if var_ret > 0 else 0.0
        return {
            "policy_loss": mean[0],
            "value_loss": mean[1],
            "entropy": mean[2],
            "approx_kl": mean[3],
            "clip_frac": mean[4],
            "minibatch_updates": float(updates),
            "kl_early_stop": float(stopped),
            "explained_variance": explained,
        }

    def _losses(
        self,
        obs: torch.Tensor,
        ids: torch.Tensor,
        actions: torch.Tensor,
        old_logp: torch.Tensor,
        adv: torch.Tensor,
        ret: torch.Tensor,
    ) -> list[torch.Tensor]:
        """Policy loss, value loss, entropy, approx-KL (no gradient) and clip fraction of one
        minibatch."""
        cfg = self.config
        logp, entropy = self._log_prob_entropy(self._dist_params(obs, ids), actions)
        log_ratio = logp - old_logp
        ratio = log_ratio.exp()
        with torch.no_grad():
            approx_kl = ((ratio - 1.0) - log_ratio).mean()
        if cfg.per_task_adv_norm:
            adv = per_task_normalise(adv, ids, self.num_tasks)
        if cfg.clip is None:
            policy_loss = -(ratio * adv).mean()
            clip_frac = torch.zeros((), device=self.device)
        else:
            clipped = ratio.clamp(1.0 - cfg.clip, 1.0 + cfg.clip)
            policy_loss = -torch.minimum(ratio * adv, clipped * adv).mean()
            clip_frac = ((ratio - 1.0).abs() > cfg.clip).float().mean()
        value_loss = 0.5 * (self.critic(obs, ids).squeeze(-1) - ret).pow(2).mean()
        return [policy_loss, value_loss, entropy.mean(), approx_kl, clip_frac]

    def _step(self, loss: torch.Tensor) -> None:
        """One step of both optimisers on ``loss`` = actor loss + critic loss: the two networks
        share no parameter and the advantages are constants, so one backward pass gives each
        network the gradient of its own loss; each is clipped and stepped on its own."""
        self._snapshot = None  # the weights change: acting takes a new snapshot
        self.actor_optim.zero_grad(set_to_none=True)
        self.critic_optim.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        for net, optim in ((self.actor, self.actor_optim), (self.critic, self.critic_optim)):
            if self.config.max_grad_norm is not None:
                clip_grad_norm(net.parameters(), self.config.max_grad_norm)
            optim.step()

    # ------------------------------------------------------------------------ state

    def state_dict(self) -> StateDict:
        """Weights, optimisers and the random stream, as a flat dict of numpy arrays."""
        tree = {
            "kind": "ppo",
            "shape": [self.obs_dim, self.action_dim, self.num_tasks, int(self.discrete)],
            "hidden": list(self.config.hidden),
            "multi_head": self.config.multi_head,
            "actor": to_numpy_tree(self.actor.state_dict()),
            "critic": to_numpy_tree(self.critic.state_dict()),
            "actor_optim": to_numpy_tree(self.actor_optim.state_dict()),
            "critic_optim": to_numpy_tree(self.critic_optim.state_dict()),
            "generator": to_numpy_tree(self._gen.get_state()),
            "act_rng": self._act_rng.get_state(),
        }
        if self.action_mask is not None:  # absent when every action is valid (as before)
            tree["action_counts"] = self.action_mask.sum(axis=1)
        return flatten_tree(tree)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; CheckpointError naming the entry (and no change) if
        it does not fit this policy or holds a non-finite value."""
        tree = policy_tree(state, "ppo")
        want = [self.obs_dim, self.action_dim, self.num_tasks, int(self.discrete)]
        mine = (want, list(self.config.hidden), self.config.multi_head)
        theirs = (tree.get("shape"), tree.get("hidden"), tree.get("multi_head"))
        if mine != theirs:
            raise CheckpointError(
                f"the checkpoint's policy has shape/hidden/heads {theirs}, this one {mine}"
            )
        check_module_state(tree, "actor", self.actor)
        check_module_state(tree, "critic", self.critic)
        check_optim_state(tree, "actor_optim", self.actor_optim)
        check_optim_state(tree, "critic_optim", self.critic_optim)
        check_generator_state(tree, "generator", self._gen)
        check_stream_state(tree, "act_rng")
        check_mask_state(tree, self.action_mask)
        check_finite_tree(tree)
        restore_or_roll_back(self._restore, tree, unflatten_tree(self.state_dict()))

    def _restore(self, tree: dict[str, Any]) -> None:
        self._snapshot = None
        if "act_rng" in tree:  # absent from checkpoints written before numpy acting
            self._act_rng.set_state(tree["act_rng"])
        self.actor.load_state_dict(to_torch_tree(tree["actor"]))
        self.critic.load_state_dict(to_torch_tree(tree["critic"]))
        self.actor_optim.load_state_dict(to_torch_tree(tree["actor_optim"]))
        self.critic_optim.load_state_dict(to_torch_tree(tree["critic_optim"]))
        self._gen.set_state(to_torch_tree(tree["generator"]))
