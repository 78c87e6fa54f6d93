"""EnvPool adapter for the Meta-World MT10 / MT50 benchmarks (stock ``metaworld`` 3.x).

Call sequence (the :class:`~drats.domain.ports.EnvPool` port's)::

    pool = MetaWorldEnvPool("mt10", seed=0)               # 10 slots, 10 tasks
    obs = pool.reset(sampler.sample(pool.num_slots))      # float32[N, 39 + K]
    out = pool.step(actions)                              # float32[N, 4] in [-1, 1]
    done = np.flatnonzero(out.terminated | out.truncated)
    obs = out.obs.copy()
    obs[done] = pool.reset_slots(done, sampler.sample(len(done)))

What the stock package does, and what this pool does instead:

* ``metaworld.MT10(seed=s)`` / ``MT50`` build 50 goal variants per task (``Task`` records) by
  seeding the *global* numpy RNG with ``s`` while sampling them; the vector env from
  ``gymnasium.make_vec("Meta-World/MT10")`` then picks a variant at every reset with each
  env's own ``np_random`` (``RandomTaskSelectWrapper``) and ``env.reset(seed=...)`` does *not*
  seed that choice. Here the benchmark is built with the pool seed (mod 2**32) and each
  episode's variant is drawn from the slot's own RNG, then applied with ``env.set_task``.
* Those goal variants are built once per (suite, seed) on a machine and kept as plain arrays
  in the cache directory (:mod:`~drats.adapters.envs.metaworld_goals`): later runs start in
  about a second instead of paying metaworld's build (7 s for MT10, over a minute for MT50).
* Env instances are the raw ``SawyerXYZEnv`` classes built with ``reward_function_version=
  "v2"``, without wrappers; this pool does the time limit (``max_episode_steps``, default 500:
  truncated=True on step 500), success tracking (``info["success"]``, a float 0/1) and the
  optional termination on success. Training pools keep ``terminate_on_success=False``;
  evaluation pools set it to True (terminated=True on the first success step).
* Observations are the 39-d float64 observation cast to float32, followed by the K-wide task
  one-hot (``obs_dim = 39 + K``); actions are 4-d in [-1, 1] (Meta-World's own bounds).

``backend="process"`` runs the slots in ``num_workers`` worker processes
(:func:`~drats.adapters.envs.factory.make_family_pool`); both backends give identical results
for the same seed and actions. MuJoCo state is not snapshotted: ``restores_episodes`` is False,
so after ``load_state_dict`` the caller resets every slot (the restored slot RNGs make the
resets reproducible).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from drats.adapters.envs.factory import FamilyEnvPool, PoolOptions
from drats.adapters.envs.family import EnvFamily
from drats.adapters.envs.metaworld_goals import NUM_VARIANTS, Benchmark, goal_variants
from drats.domain.checks import as_positive_int
from drats.domain.errors import ConfigError

#: The suites and their task counts.
SUITES = {"mt10": 10, "mt50": 50}


@functools.lru_cache(maxsize=4)
def _benchmark(suite: str, seed: int) -> Benchmark:
    """(task names, env classes, per-task tuples of Task records) of a seeded benchmark, kept
    for this process (and on disk across runs: :mod:`metaworld_goals`)."""
    return goal_variants(suite, seed)


class MetaWorldFamily(EnvFamily):
    """The K tasks of MT10 or MT50 with their 50 seeded goal variants each (picklable).

    Args:
        suite: ``"mt10"`` or ``"mt50"``.
        seed: seed of the benchmark's goal variants (taken mod 2**32).
        max_episode_steps: set as each env's ``max_path_length`` (Meta-World refuses to step
            past it), so its own truncation agrees with the pool's.
    """

    def __init__(self, suite: str, seed: int, max_episode_steps: int) -> None:
        if not isinstance(suite, str) or suite not in SUITES:
            raise ConfigError(f"suite must be one of {tuple(SUITES)}, got {suite!r}")
        try:
            import metaworld  # noqa: F401
        except ImportError as err:
            raise ConfigError(f"MetaWorldEnvPool needs the metaworld package: {err}") from err
        self.kind = f"metaworld-{suite}"
        self._bench_seed = int(seed) % (1 << 32)
        self._names, self._classes, self._tasks = _benchmark(suite, self._bench_seed)
        self._max_steps = max_episode_steps
        from gymnasium import spaces

        obs = spaces.Box(-np.inf, np.inf, (39,), np.float64)
        act = spaces.Box(-1.0, 1.0, (4,), np.float32)
        self._spaces = tuple((obs, act) for _ in self._names)

    @property
    def task_names(self) -> tuple[str, ...]:
        return self._names

    def reseed(self, seed: int) -> MetaWorldFamily:
        """The same suite with the goal variants of ``seed`` (a cached benchmark build)."""
        if int(seed) % (1 << 32) == self._bench_seed:
            return self
        return MetaWorldFamily(self.kind.removeprefix("metaworld-"), seed, self._max_steps)

    @property
    def spaces(self) -> tuple[tuple[Any, Any], ...]:
        return self._spaces

    def make_env(self, task: int) -> Any:
        env = self._classes[task](reward_function_version="v2")
        env.max_path_length = self._max_steps
        return env

    def start_episode(self, env: Any, task: int, draws: NDArray[np.uint64]) -> Any:
        variant = int(draws[1] % np.uint64(NUM_VARIANTS))
        env.set_task(self._tasks[task][variant])
        obs, _ = env.reset()  # Meta-World ignores reset seeds; the variant fixes the episode
        return obs


class MetaWorldEnvPool(FamilyEnvPool):
    """Meta-World MT10 / MT50 as an EnvPool: 39-d obs + task one-hot, 4-d actions, v2 reward.

    Args:
        suite: ``"mt10"`` (K = 10) or ``"mt50"`` (K = 50); task ids follow the benchmark's
            order (``task_names``).
        num_slots: N >= 1 slots (at most 2**16), each able to play any task; None means K.
        seed: pool seed: seeds the benchmark's goal variants and the slot RNGs (slot s uses
            ``seed + s``; each episode draws its goal variant among the task's 50 from it).
        terminate_on_success: end an episode (terminated=True) on its first success step;
            False for training, True for evaluation.
        backend: ``"inprocess"`` (all slots stepped here) or ``"process"`` (``num_workers``
            worker processes, each hosting a contiguous share of the slots).
        num_workers: worker processes of the process backend, in [1, N]; None means
            ``min(2, N)``. Refused with ``backend="inprocess"``.
        max_episode_steps: episode length: step ``max_episode_steps`` is truncated (the
            default is the benchmark's 500; it is also set as each env's ``max_path_length``).
        max_idle_envs: idle env instances kept for reuse, per worker on the process backend
            (None: one per slot); each holds ~21 MB of model.

    Raises:
        ConfigError: an unknown suite or backend, a bad or inapplicable setting (checked
            before the benchmark is built), or metaworld not installed.
    """

    def __init__(
        self,
        suite: Literal["mt10", "mt50"],
        num_slots: int | None = None,
        *,
        seed: int = 0,
        terminate_on_success: bool = False,
        backend: Literal["inprocess", "process"] = "inprocess",
        num_workers: int | None = None,
        max_episode_steps: int = 500,
        max_idle_envs: int | None = None,
    ) -> None:
        if not isinstance(suite, str) or suite not in SUITES:
            raise ConfigError(f"suite must be one of {tuple(SUITES)}, got {suite!r}")
        steps = as_positive_int(max_episode_steps, "max_episode_steps")
        options = PoolOptions.check(
            f"metaworld-{suite}",
            SUITES[suite] if num_slots is None else num_slots,
            backend=backend,
            num_workers=num_workers,
            seed=seed,
            max_episode_steps=steps,
            terminate_on_success=terminate_on_success,
            max_idle_envs=max_idle_envs,
        )
        super().__init__(MetaWorldFamily(suite, options.seed, steps), options)


__all__ = ["NUM_VARIANTS", "MetaWorldEnvPool", "MetaWorldFamily"]
