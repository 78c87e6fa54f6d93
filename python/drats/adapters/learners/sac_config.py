"""Settings of the torch multi-task SAC learner (torch-free, so the CLI can read them)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from drats.adapters.learners.ppo_config import check_count, check_flags, check_real, checked_hidden
from drats.domain.errors import ConfigError


@dataclass(frozen=True)
class SACConfig:
    """Multi-task SAC settings; the defaults are the usual Meta-World MT-SAC ones.

    Attributes:
        hidden: widths of the ReLU torso of the actor and of each of the two critics;
            ``()`` makes them linear.
        multi_head: one output head per task (picked by the task id) on the shared torso,
            for the actor and both critics; False shares one head between all tasks.
        actor_lr: Adam learning rate of the actor.
        critic_lr: Adam learning rate of the twin critics.
        alpha_lr: Adam learning rate of the per-task log-temperatures.
        gamma: discount factor.
        tau: Polyak rate of the target critics, ``target <- (1 - tau) target + tau online``.
        init_temperature: initial entropy temperature alpha of every task (> 0).
        target_entropy: entropy each task's temperature steers towards; None means
            ``-action_dim``.
        log_std_min, log_std_max: clip of the actor's state-dependent Gaussian log-std (before
            the tanh squashing).
        batch_size: rows per gradient step (the trainer draws this many; ``learn`` accepts any
            batch size).
        metrics_every: ``learn`` returns its metrics on every n-th call and ``{}`` on the
            others; only the calls that return metrics read them back from the device (on CUDA
            that is the only host sync of a step besides ``last_td_errors``).
        fast_matmul: let the update's float32 matmuls round their inputs to a shorter
            mantissa (bfloat16 through oneDNN/AMX on the CPU, TF32 on CUDA) while accumulating
            and returning float32, for the duration of each ``learn`` call. Off by default: it
            changes the numerics (about 3 significant digits per product instead of 7); on a
            CPU with AMX it made the update about 2x faster.
        compile: run the update under ``torch.compile`` (falls back to eager if compilation
            fails). Off by default: on a 2-core CPU (torch 2.13) the first step took about
            25 s to compile and the compiled step was about 20% slower than the eager one.
    """

    hidden: tuple[int, ...] = (400, 400, 400)
    multi_head: bool = True
    actor_lr: float = 3e-4
    critic_lr: float = 3e-4
    alpha_lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.005
    init_temperature: float = 1.0
    target_entropy: float | None = None
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    batch_size: int = 1280
    metrics_every: int = 1
    fast_matmul: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", checked_hidden(self))
        check_flags(self, "multi_head", "fast_matmul", "compile")
        for name in ("actor_lr", "critic_lr", "alpha_lr", "init_temperature"):
            check_real(self, name, 0.0, open_low=True)
        for name in ("gamma", "tau"):
            check_real(self, name, 0.0, 1.0)
        check_real(self, "target_entropy", optional=True)
        check_real(self, "log_std_min")
        check_real(self, "log_std_max")
        if not self.log_std_min < self.log_std_max:
            raise ConfigError("sac log_std_min must be below log_std_max")
        for name in ("batch_size", "metrics_every"):
            check_count(self, name)

    def replace(self, **changes: Any) -> SACConfig:
        """A copy with ``changes`` applied (unknown names raise ConfigError)."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ConfigError(f"unknown SAC setting(s) {sorted(unknown)}")
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return SACConfig(**values)


#: Meta-World MT10/MT50 multi-head MT-SAC: 3x400 networks, batch 1280 (128 per task for MT10).
METAWORLD_SAC = SACConfig()
