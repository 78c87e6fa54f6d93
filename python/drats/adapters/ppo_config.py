"""Settings of the torch multi-task PPO learner (torch-free, so the CLI can read them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from drats.domain.errors import ConfigError


@dataclass(frozen=True)
class PPOConfig:
    """Multi-task PPO settings; the defaults are the DRATS paper's Meta-World ones.

    Attributes:
        hidden: widths of the shared ReLU torso of actor and critic; ``()`` is linear.
        multi_head: one output head per task (picked by the task id) on the shared torso.
        lr: Adam learning rate of both actor and critic (separate optimisers).
        adam_eps: Adam epsilon.
        epochs: passes over each rollout.
        minibatches: minibatches per epoch.
        clip: PPO ratio clip; None trains on the plain policy-gradient ratio (no clipping).
        ent_coef: entropy bonus weight.
        vf_coef: value-loss weight (the critic has its own optimiser; this scales its loss).
        gamma: discount factor.
        gae_lambda: GAE lambda.
        max_grad_norm: gradient-norm clip of each network; None disables it.
        target_kl: stop the epochs early once approx-KL exceeds ``1.5 * target_kl``; None never.
        per_task_adv_norm: normalise advantages per task inside each minibatch.
        log_std_min, log_std_max: clip of the state-dependent Gaussian log-std.
    """

    hidden: tuple[int, ...] = (400, 400, 400)
    multi_head: bool = True
    lr: float = 5e-4
    adam_eps: float = 1e-5
    epochs: int = 16
    minibatches: int = 32
    clip: float | None = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    gamma: float = 0.99
    gae_lambda: float = 0.97
    max_grad_norm: float | None = 1.0
    target_kl: float | None = 0.05
    per_task_adv_norm: bool = True
    log_std_min: float = -20.0
    log_std_max: float = 2.0

    def __post_init__(self) -> None:
        if any(int(h) < 1 for h in self.hidden):
            raise ConfigError(f"hidden widths must be >= 1, got {self.hidden}")
        for name in ("lr", "adam_eps", "gamma", "gae_lambda"):
            value = getattr(self, name)
            if not 0.0 < value <= (1.0 if name in ("gamma", "gae_lambda") else float("inf")):
                raise ConfigError(
                    f"ppo {name} must be > 0 (and <= 1 for gamma/lambda), got {value}"
                )
        for name in ("epochs", "minibatches"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ppo {name} must be >= 1, got {getattr(self, name)}")
        for name in ("clip", "max_grad_norm", "target_kl"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"ppo {name} must be > 0 or None, got {value}")
        if self.ent_coef < 0 or self.vf_coef < 0:
            raise ConfigError("ppo ent_coef and vf_coef must be >= 0")
        if not self.log_std_min < self.log_std_max:
            raise ConfigError("ppo log_std_min must be below log_std_max")

    def replace(self, **changes: Any) -> PPOConfig:
        """A copy with ``changes`` applied (unknown names raise ConfigError)."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ConfigError(f"unknown PPO setting(s) {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return PPOConfig(**values)


#: Meta-World MT10 (the paper's PPO); MT50 differs only in its entropy bonus.
METAWORLD_PPO = PPOConfig()
MT50_PPO = PPOConfig(ent_coef=0.03)
#: GridWorld-4: the paper's linear PPO (lr 3e-3, one epoch, one minibatch, no ratio clipping,
#: no entropy bonus); one head per task on the linear map.
GRIDWORLD_PPO = PPOConfig(
    hidden=(),
    multi_head=False,
    lr=3e-3,
    epochs=1,
    minibatches=1,
    clip=None,
    ent_coef=0.0,
    gae_lambda=0.95,
    max_grad_norm=None,
    target_kl=None,
)
#: Generic Gymnasium sets: a smaller network and the usual PPO settings.
GYM_PPO = PPOConfig(hidden=(256, 256), lr=3e-4, epochs=10, minibatches=32, gae_lambda=0.95)
