"""Multi-task SAC in torch (Policy port): tanh-squashed Gaussian actor, twin critics run as one
batched network, one learnable entropy temperature per task, Polyak-averaged target critics.

One ``learn`` call is one gradient step, computed the rlkit way: the critic, actor and
temperature losses all come from the networks as they are at the start of the step, are summed
(their parameters are disjoint and every cross term is detached) and go through ONE backward
pass and ONE fused Adam step, then the target critics move by Polyak averaging. The actor's
loss sees the critics through detached weights, so its backward computes no critic weight
gradients. The same code runs on CUDA and on the CPU; all randomness comes from one
``torch.Generator`` whose state is part of ``state_dict``, so a restored policy acts and learns
exactly as the original would have (on the CPU; CUDA kernels are not bit-reproducible).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn

from drats.adapters.learners.adam import Adam
from drats.adapters.learners.numpy_forward import (
    MLPSnapshot,
    as_action_mask,
    categorical,
    check_mask_state,
    check_task_actions,
    standard_normal,
)
from drats.adapters.learners.sac_config import SACConfig
from drats.adapters.learners.sac_discrete import discrete_losses, masked_logits
from drats.adapters.learners.sac_nets import TwinCritic, fast_matmul, squashed_sample
from drats.adapters.learners.torch_nets import (
    MultiHeadMLP,
    check_finite_as,
    check_generator_state,
    check_module_state,
    check_optim_state,
    check_stream_state,
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
from drats.domain.types import Batch, PolicyStep

#: Names of the metrics ``learn`` returns, in the order of the stacked metrics tensor.
METRICS = (
    "critic_loss",
    "actor_loss",
    "alpha_loss",
    "alpha_mean",
    "entropy",
    "q_mean",
    "td_abs_mean",
)


class TorchSACPolicy(Policy):
    """Multi-task SAC: continuous actions in [-1, 1], or discrete ones (``discrete=True``).

    The discrete variant (Christodoulou, 2019) has a categorical actor and critics that output
    one value per action, so the soft targets, the actor loss and the entropy are exact
    expectations over the actions instead of sampled ones; its default target entropy is
    ``0.2 * log(A)`` (a mostly greedy policy, as short-horizon tasks need). Replay rows hold
    the action index as a float in a width-1 action column.

    Args:
        obs_dim: observation width (task one-hot included).
        action_dim: action width, or the number of discrete actions.
        num_tasks: K: the number of heads when ``config.multi_head`` and of temperatures.
        config: learner settings (:class:`SACConfig`).
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        seed: seeds the initial weights and the policy's own random stream.
        action_counts: discrete tasks with different numbers of actions: int[K], task i
            taking only ``[0, action_counts[i])`` (an env pool's ``action_counts``). The other
            actions get probability 0 in the actor (acting and learning) and weight 0 in the
            soft values of the critic targets and the actor loss, so none is ever sampled or
            valued; a batch holding one is refused. The default target entropy of task i is
            then ``0.2 * log(action_counts[i])``. None: every action valid for every task.

    ``last_td_errors`` is ``|Q1 - y| + |Q2 - y|`` halved (the mean over the twin critics of
    the absolute TD error) of every row of the last ``learn`` batch, for replay priorities.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        num_tasks: int,
        *,
        config: SACConfig | None = None,
        device: str = "auto",
        seed: int = 0,
        discrete: bool = False,
        action_counts: ArrayLike | None = None,
    ) -> None:
        dims = policy_dims(obs_dim, action_dim, num_tasks, discrete)
        self.obs_dim, self.action_dim, self.num_tasks, self.discrete = dims
        #: [K, A] valid actions per task (None: all valid)
        self.action_mask = as_action_mask(action_counts, self.num_tasks, self.action_dim, discrete)
        self.config = cfg = config_of(config, SACConfig)
        seed = as_seed(seed)
        self.device = dev = pick_device(device)
        te = cfg.target_entropy
        if te is None:
            te = 0.2 * math.log(self.action_dim) if self.discrete else -self.action_dim
        self.target_entropy = float(te)
        per_task = np.full(self.num_tasks, self.target_entropy, np.float32)
        #: bool[K, A] on the device: ``action_mask`` (None: every action valid)
        self.mask_tensor: torch.Tensor | None = None
        if self.action_mask is not None:
            self.mask_tensor = torch.from_numpy(self.action_mask).to(dev)
            if cfg.target_entropy is None:  # 0.2 * log of each task's own number of actions
                per_task = (0.2 * np.log(self.action_mask.sum(axis=1))).astype(np.float32)
        #: float32[K] on the device, each task's target entropy
        self.target_entropies = torch.from_numpy(per_task).to(dev)
        self.action_width = 1 if self.discrete else self.action_dim  # replay action columns
        torch.manual_seed(seed)  # only the initial weights; acting and learning use self._gen
        self.actor = MultiHeadMLP(
            self.obs_dim, (1 if self.discrete else 2) * self.action_dim, self.num_tasks,
            hidden=cfg.hidden, multi_head=cfg.multi_head, head_gain=0.01,
        ).to(dev)  # fmt: skip
        in_dim = self.obs_dim + (0 if self.discrete else self.action_dim)
        q_out = self.action_dim if self.discrete else 1
        nets = {"hidden": cfg.hidden, "multi_head": cfg.multi_head, "out_dim": q_out}
        self.critic = TwinCritic(in_dim, self.num_tasks, **nets)  # type: ignore[arg-type]
        self.critic.to(dev)
        self.target_critic = TwinCritic(in_dim, self.num_tasks, **nets).to(dev)  # type: ignore[arg-type]
        self.target_critic.load_state_dict(self.critic.state_dict())
        self.target_critic.requires_grad_(False)
        init = math.log(cfg.init_temperature)
        self.log_alpha = nn.Parameter(torch.full((self.num_tasks,), init, device=dev))
        groups = [
            {"params": list(self.critic.parameters()), "lr": cfg.critic_lr},
            {"params": list(self.actor.parameters()), "lr": cfg.actor_lr},
            {"params": [self.log_alpha], "lr": cfg.alpha_lr},
        ]
        self.optim = Adam(groups, lr=cfg.actor_lr)  # every group sets its own rate
        self._online: list[torch.Tensor] = list(self.critic.parameters())
        self._target: list[torch.Tensor] = list(self.target_critic.parameters())
        self._gen = torch.Generator(device=dev)
        # On the CPU, acting runs on numpy views of the actor with its own stream.
        self._act_rng = UniformStream(seed)
        self._snapshot: MLPSnapshot | None = None
        self._gen.manual_seed(seed)
        self._updates = 0
        self._td: torch.Tensor | None = None
        self._td_host: NDArray[np.float32] | None = None
        self._pinned: dict[str, torch.Tensor] = {}
        self._copied: torch.cuda.Event | None = None
        self._losses: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = (
            self._compute_losses
        )
        self.compiled = False
        if cfg.compile:
            try:
                self._losses = torch.compile(self._compute_losses, dynamic=False)
                self.compiled = True
            except Exception:  # no compiler on this machine: the eager path is the same maths
                self._losses = self._compute_losses

    # ------------------------------------------------------------------------ acting

    def _obs_ids(self, obs: Any, task_ids: Any) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        x = as_array(obs, "obs", NUMERIC_KINDS, np.float32)
        ids = as_array(task_ids, "task_ids", INTEGER_KINDS, np.int64)
        if x.ndim != 2 or x.shape[1] != self.obs_dim:
            raise InvalidInputError(f"obs must have shape (n, {self.obs_dim}), got {x.shape}")
        check_shape(ids, (x.shape[0],), "task_ids", symbols=("n",))
        check_finite(x, "obs")
        check_ids(ids, self.num_tasks, "task_ids")
        return np.ascontiguousarray(x), np.ascontiguousarray(ids)

    def act(
        self, obs: NDArray[np.float32], task_ids: NDArray[np.int64], *, deterministic: bool = False
    ) -> PolicyStep:
        """float32[N, A] actions in [-1, 1]: tanh of a Gaussian sample, or of its mean when
        ``deterministic``; no extras (the learner needs only the replay's transitions). On the
        CPU the actor runs on numpy views of its weights with its own stream (see
        :mod:`numpy_forward`), on CUDA in torch."""
        x, ids = self._obs_ids(obs, task_ids)
        if self.device.type != "cpu":
            return self._act_torch(x, ids, deterministic)
        if self._snapshot is None:
            # Taken again after every gradient step: numpy views, not a packed copy (see
            # MLPSnapshot's ``kernel``).
            self._snapshot = MLPSnapshot(self.actor, kernel=False)
        out = self._snapshot(x, ids)
        if self.discrete:
            valid = None if self.action_mask is None else self.action_mask[ids]
            actions, _ = categorical(out, None if deterministic else self._act_rng, valid)
            return PolicyStep(actions=actions, extras={})
        a, cfg = self.action_dim, self.config
        u = out[:, :a].astype(np.float64)
        if not deterministic:
            log_std = np.clip(out[:, a:], cfg.log_std_min, cfg.log_std_max).astype(np.float64)
            u = u + standard_normal(self._act_rng, u.shape) * np.exp(log_std)
        return PolicyStep(actions=np.tanh(u).astype(np.float32), extras={})

    @torch.no_grad()
    def _act_torch(
        self, x_np: NDArray[np.float32], ids_np: NDArray[np.int64], deterministic: bool
    ) -> PolicyStep:
        x = torch.from_numpy(x_np).to(self.device, non_blocking=True)
        ids = torch.from_numpy(ids_np).to(self.device, non_blocking=True)
        out = self.actor(x, ids)
        if self.discrete:
            out = masked_logits(out, self.mask_tensor, ids)
            if deterministic:
                picked = out.argmax(-1)
            else:
                probs = torch.softmax(out, -1)
                picked = torch.multinomial(probs, 1, generator=self._gen).squeeze(-1)
            return PolicyStep(actions=picked.cpu().numpy().astype(np.int64), extras={})
        if deterministic:
            actions = torch.tanh(out[:, : self.action_dim])
        else:
            noise = torch.randn(
                (x.shape[0], self.action_dim), generator=self._gen, device=self.device
            )
            cfg = self.config
            actions, _ = squashed_sample(out, noise, cfg.log_std_min, cfg.log_std_max)
        return PolicyStep(actions=actions.float().cpu().numpy(), extras={})

    # ------------------------------------------------------------------------ learning

    def _batch_arrays(self, data: Batch) -> dict[str, NDArray[Any]]:
        """The batch's fields checked (shape, dtype, finite, task ids, terminated 0/1,
        actions in the policy's range, weights >= 0) and made contiguous."""
        n = len(data.task_ids) if hasattr(data.task_ids, "__len__") else -1
        o, b = self.obs_dim, ("B",)
        spec: dict[str, FieldSpec] = {
            "obs": ((n, o), b, NUMERIC_KINDS, np.float32),
            "actions": ((n, self.action_width), b, NUMERIC_KINDS, np.float32),
            "rewards": ((n,), b, NUMERIC_KINDS, np.float32),
            "next_obs": ((n, o), b, NUMERIC_KINDS, np.float32),
            "terminated": ((n,), b, NUMERIC_KINDS, np.float32),
            "weights": ((n,), b, NUMERIC_KINDS, np.float32),
            "task_ids": ((n,), b, INTEGER_KINDS, np.int64),
        }
        out = as_fields(data, spec, "batch")
        if n < 1:
            raise InvalidInputError("a SAC batch needs at least one row")
        check_ids(out["task_ids"], self.num_tasks, "batch.task_ids")
        act = out["actions"]
        if self.discrete:
            check_action_indices(act, self.action_dim, "batch.actions")
            check_task_actions(self.action_mask, act, out["task_ids"], "batch")
        elif np.any(np.abs(act) > 1.0):  # the tanh policy's range: Q(s, a) is never asked there
            got = act[np.abs(act) > 1.0][0]
            raise InvalidInputError(f"batch.actions must lie in [-1, 1] (tanh actions), got {got}")
        check_binary(out["terminated"], "batch.terminated")
        if np.any(out["weights"] < 0):
            raise InvalidInputError("batch.weights must be >= 0")
        return out

    def _to_device(self, arrays: dict[str, NDArray[Any]]) -> dict[str, torch.Tensor]:
        """The batch on the device: zero-copy views on the CPU; on CUDA one pinned staging
        buffer per field (reused across steps) and asynchronous copies."""
        if self.device.type == "cpu":
            return {k: torch.from_numpy(v) for k, v in arrays.items()}
        if self._copied is not None:  # the previous step's copies read the staging buffers
            self._copied.synchronize()
        out = {}
        for name, arr in arrays.items():
            host = self._pinned.get(name)
            if host is None or tuple(host.shape) != arr.shape:
                host = torch.empty(arr.shape, dtype=torch.from_numpy(arr).dtype).pin_memory()
                self._pinned[name] = host
            host.numpy()[...] = arr
            out[name] = host.to(self.device, non_blocking=True)
        self._copied = torch.cuda.Event()  # type: ignore[no-untyped-call]
        self._copied.record()
        return out

    def _compute_losses(
        self, b: dict[str, torch.Tensor], noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(total loss, stacked metrics, mean |TD| per row) of one SAC step on batch ``b``."""
        if self.discrete:
            return discrete_losses(self, b)
        cfg = self.config
        obs, ids = b["obs"], b["task_ids"]
        log_alpha = self.log_alpha[ids]
        alpha = log_alpha.detach().exp()
        with torch.no_grad():  # soft TD target from the target critics
            next_a, next_logp = squashed_sample(
                self.actor(b["next_obs"], ids), noise[0], cfg.log_std_min, cfg.log_std_max
            )
            next_q = self.target_critic(torch.cat([b["next_obs"], next_a], 1), ids)
            soft = torch.minimum(next_q[0], next_q[1]) - alpha * next_logp
            y = b["rewards"] + cfg.gamma * (1.0 - b["terminated"]) * soft
        q = self.critic(torch.cat([obs, b["actions"]], 1), ids)
        td = q - y
        critic_loss = (b["weights"] * (td * td).sum(0)).mean()
        a, logp = squashed_sample(self.actor(obs, ids), noise[1], cfg.log_std_min, cfg.log_std_max)
        q_pi = self.critic(torch.cat([obs, a], 1), ids, frozen=True)
        actor_loss = (alpha * logp - torch.minimum(q_pi[0], q_pi[1])).mean()
        alpha_loss = -(log_alpha * (logp.detach() + self.target_entropy)).mean()
        total = critic_loss + actor_loss + alpha_loss
        td_abs = td.detach().abs().mean(0)
        metrics = torch.stack(
            [
                critic_loss.detach(),
                actor_loss.detach(),
                alpha_loss.detach(),
                self.log_alpha.detach().exp().mean(),
                -logp.detach().mean(),
                q.detach().mean(),
                td_abs.mean(),
            ]
        )
        return total, metrics, td_abs

    def learn(self, data: Batch | Any) -> dict[str, float]:
        """One SAC gradient step on a replay :class:`~drats.domain.types.Batch` (critic, actor
        and temperatures, then Polyak averaging of the target critics).

        Returns the metrics named in :data:`METRICS` (on every ``config.metrics_every``-th
        call; ``{}`` otherwise). The critic loss weights row ``i`` by ``data.weights[i]``.
        """
        if not isinstance(data, Batch):
            raise InvalidInputError(f"SAC learns from a Batch, got {type(data).__name__}")
        b = self._to_device(self._batch_arrays(data))
        n = b["obs"].shape[0]
        noise = torch.randn((2, n, self.action_dim), generator=self._gen, device=self.device)
        with fast_matmul(self.device, self.config.fast_matmul):
            total, metrics, td_abs = self._losses(b, noise)
            self.optim.zero_grad(set_to_none=True)
            total.backward()  # type: ignore[no-untyped-call]
        self.optim.step()
        self._snapshot = None  # the actor changed: acting takes a new snapshot
        with torch.no_grad():
            torch._foreach_lerp_(self._target, self._online, self.config.tau)
        self._td, self._td_host = td_abs, None
        self._updates += 1
        if self._updates % self.config.metrics_every:
            return {}
        return dict(zip(METRICS, metrics.tolist(), strict=True))

    @property
    def last_td_errors(self) -> NDArray[np.float32]:
        """float32[B]: the mean over the twin critics of ``|Q_j(s, a) - y|`` for each row of the
        last ``learn`` batch (before that step's update); empty before the first step."""
        if self._td is None:
            return np.zeros(0, np.float32)
        if self._td_host is None:
            self._td_host = self._td.float().cpu().numpy()
        return self._td_host.copy()

    @property
    def temperatures(self) -> NDArray[np.float32]:
        """float32[K], the entropy temperature alpha of every task."""
        return self.log_alpha.detach().exp().float().cpu().numpy()

    # ------------------------------------------------------------------------ state

    def _shape(self) -> list[Any]:
        cfg = self.config
        shape = [self.obs_dim, self.action_dim, self.num_tasks, list(cfg.hidden), cfg.multi_head]
        return [*shape, "discrete"] if self.discrete else shape

    def state_dict(self) -> StateDict:
        """Weights, target critics, optimiser, log-temperatures and the random stream, as a flat
        dict of numpy arrays (loadable without pickle)."""
        tree = {
            "kind": "sac",
            "shape": self._shape(),
            "actor": to_numpy_tree(self.actor.state_dict()),
            "critic": to_numpy_tree(self.critic.state_dict()),
            "target_critic": to_numpy_tree(self.target_critic.state_dict()),
            "log_alpha": self.log_alpha.detach().cpu().numpy().copy(),
            "optim": to_numpy_tree(self.optim.state_dict()),
            "generator": to_numpy_tree(self._gen.get_state()),
            "act_rng": self._act_rng.get_state(),
            "updates": self._updates,
        }
        if self.action_mask is not None:  # absent when every action is valid (as before)
            tree["action_counts"] = self.action_mask.sum(axis=1)
        return flatten_tree(tree)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; CheckpointError naming the entry (and no change) if
        it does not fit this policy or holds a non-finite value."""
        tree = policy_tree(state, "sac")
        if tree.get("shape") != self._shape():
            raise CheckpointError(
                "the checkpoint's policy has obs/action/tasks/hidden/multi_head "
                f"{tree.get('shape')}, this one {self._shape()}"
            )
        for name in ("actor", "critic", "target_critic"):
            check_module_state(tree, name, getattr(self, name))
        log_alpha = tree.get("log_alpha")
        if not isinstance(log_alpha, np.ndarray) or log_alpha.dtype.kind != "f":
            raise CheckpointError("state entry 'log_alpha' must be a float array")
        if log_alpha.shape != (self.num_tasks,):
            raise CheckpointError(
                f"state entry 'log_alpha' must have shape ({self.num_tasks},), "
                f"got {log_alpha.shape}"
            )
        check_finite_as(log_alpha, self.log_alpha.dtype, "log_alpha")
        check_optim_state(tree, "optim", self.optim)
        check_generator_state(tree, "generator", self._gen)
        check_stream_state(tree, "act_rng")
        check_mask_state(tree, self.action_mask)
        updates = tree.get("updates")
        if isinstance(updates, bool) or not isinstance(updates, int) or updates < 0:
            raise CheckpointError(f"state entry 'updates' must be an integer >= 0, got {updates!r}")
        check_finite_tree(tree)
        restore_or_roll_back(self._restore, tree, unflatten_tree(self.state_dict()))
        self._td, self._td_host = None, None

    def _restore(self, tree: dict[str, Any]) -> None:
        self._snapshot = None
        if "act_rng" in tree:  # absent from checkpoints written before numpy acting
            self._act_rng.set_state(tree["act_rng"])
        self.actor.load_state_dict(to_torch_tree(tree["actor"]))
        self.critic.load_state_dict(to_torch_tree(tree["critic"]))
        self.target_critic.load_state_dict(to_torch_tree(tree["target_critic"]))
        with torch.no_grad():
            self.log_alpha.copy_(torch.from_numpy(tree["log_alpha"].astype(np.float32)))
        self.optim.load_state_dict(to_torch_tree(tree["optim"]))
        self._gen.set_state(to_torch_tree(tree["generator"]))
        self._updates = int(tree["updates"])
