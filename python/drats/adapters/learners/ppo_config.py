"""Settings of the torch multi-task PPO learner (torch-free, so the CLI can read them)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from drats.domain.checks import as_flag, as_positive_int, as_real
from drats.domain.errors import ConfigError


def _label(config: Any) -> str:
    """``"ppo"`` for a PPOConfig, ``"sac"`` for a SACConfig: the prefix of its messages."""
    return type(config).__name__.removesuffix("Config").lower()


def check_real(
    config: Any,
    name: str,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    optional: bool = False,
) -> None:
    """ConfigError naming ``name`` unless the setting is a finite real number in
    ``[low, high]`` (``(low, high]`` with ``open_low``); None passes when ``optional``."""
    value = getattr(config, name)
    if optional and value is None:
        return
    label = f"{_label(config)} {name}"
    number = as_real(value, label)
    above = number > low if open_low else number >= low
    if not (math.isfinite(number) and above and number <= high):
        interval = f"{'(' if open_low else '['}{low}, {high}]".replace("inf]", "inf)")
        none = " or None" if optional else ""
        raise ConfigError(f"{label} must be finite and in {interval}{none}, got {value!r}")


def check_count(config: Any, name: str) -> None:
    """ConfigError naming ``name`` unless the setting is an integer >= 1 (not a bool)."""
    as_positive_int(getattr(config, name), f"{_label(config)} {name}")


def check_flags(config: Any, *names: str) -> None:
    """ConfigError naming the setting unless each of ``names`` is True or False."""
    for name in names:
        object.__setattr__(config, name, as_flag(getattr(config, name), f"{_label(config)} {name}"))


def checked_hidden(config: Any) -> tuple[int, ...]:
    """The ``hidden`` widths as a tuple of ints >= 1 (ConfigError naming ``hidden``)."""
    hidden = config.hidden
    label = f"{_label(config)} hidden"
    if isinstance(hidden, str) or not isinstance(hidden, Sequence):
        raise ConfigError(f"{label} must be a tuple of widths, got {hidden!r}")
    if any(isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in hidden):
        raise ConfigError(f"{label} widths must be integers >= 1, got {hidden!r}")
    return tuple(int(h) for h in hidden)


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
        critic_gain: orthogonal-init gain of the critic's output head (the actor's is 0.01).
            Near 1, every state starts with a random value of up to about +-0.5; where rewards
            are small (GridWorld-4: -0.001 a step, +1 at the goal) those values swamp the
            advantages long enough for the actor to learn to avoid the goal.
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
    critic_gain: float = 1.0
    log_std_min: float = -20.0
    log_std_max: float = 2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", checked_hidden(self))
        check_flags(self, "multi_head", "per_task_adv_norm")
        for name in ("lr", "adam_eps", "critic_gain"):
            check_real(self, name, 0.0, open_low=True)
        for name in ("gamma", "gae_lambda"):
            check_real(self, name, 0.0, 1.0, open_low=True)
        for name in ("epochs", "minibatches"):
            check_count(self, name)
        for name in ("clip", "max_grad_norm", "target_kl"):
            check_real(self, name, 0.0, open_low=True, optional=True)
        for name in ("ent_coef", "vf_coef", "log_std_min", "log_std_max"):
            check_real(self, name, 0.0 if name.endswith("coef") else -math.inf)
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
