"""Contract checker for the Policy port: ``check_policy(make, make_data, ...)`` proves that a
learner adapter acts with the right shapes, dtypes and bounds, is reproducible for a seed,
refuses bad input with typed errors, learns from its own data type, and round-trips its state
through ``np.savez`` / ``np.load(allow_pickle=False)`` exactly (a restored policy acts and
learns as the original does).

A third-party adapter passes two factories and the sizes they build for::

    make(seed) -> Policy                  # a fresh policy for obs_dim, action_dim, num_tasks
    make_data(policy, rng) -> data        # one valid argument of policy.learn: a Rollout for
                                          # on-policy learners, a Batch for off-policy ones

    from drats.testing import check_policy

    def test_my_learner_honours_the_port() -> None:
        check_policy(
            lambda seed: MyLearner(5, 2, 3, seed=seed),
            my_batch,
            obs_dim=5,
            action_dim=2,
            num_tasks=3,
            discrete=False,
        )

A broken contract raises ``AssertionError("Policy contract: ...")`` naming what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import DratsError, InvalidInputError, UnknownTaskError
from drats.domain.ports import Policy
from drats.testing.assertions import Contract, npz_roundtrip

_c = Contract("Policy")


def _inputs(obs_dim: int, num_tasks: int, n: int, seed: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, obs_dim)).astype(np.float32)
    return obs, rng.integers(0, num_tasks, size=n)


def check_policy(
    make: Callable[[int], Policy],
    make_data: Callable[[Policy, np.random.Generator], Any],
    *,
    obs_dim: int,
    action_dim: int,
    num_tasks: int,
    discrete: bool,
) -> None:
    """Check a Policy adapter (see the module docstring for ``make`` and ``make_data``)."""
    policy = make(0)
    _c.expect(isinstance(policy, Policy), "the adapter does not implement Policy")
    obs, ids = _inputs(obs_dim, num_tasks, 6, 0)
    step = policy.act(obs, ids)
    actions: NDArray[Any] = np.asarray(step.actions)
    if discrete:
        _c.expect(actions.dtype == np.int64 and actions.shape == (6,), "discrete actions: int64[N]")
        _c.expect(np.all((actions >= 0) & (actions < action_dim)), "discrete action out of range")
    else:
        want = (6, action_dim)
        _c.expect(actions.dtype == np.float32 and actions.shape == want, "actions: float32[N, A]")
        _c.expect(np.all(np.abs(actions) <= 1.0), "continuous actions must lie in [-1, 1]")
    for name, value in step.extras.items():
        _c.expect(np.asarray(value).shape[:1] == (6,), f"extras[{name!r}] must have N rows")
    a = np.asarray(policy.act(obs, ids, deterministic=True).actions)
    b = np.asarray(policy.act(obs, ids, deterministic=True).actions)
    _c.expect(np.array_equal(a, b), "deterministic actions differ between two calls")
    _c.expect(
        np.array_equal(np.asarray(make(0).act(obs, ids).actions), actions),
        "the same seed acted differently",
    )
    # Bad input is refused with typed errors.
    _c.raises(InvalidInputError, lambda: policy.act(obs[:, :-1], ids), "obs one column short")
    bad_ids = ids.copy()
    bad_ids[0] = num_tasks
    _c.raises(UnknownTaskError, lambda: policy.act(obs, bad_ids), "task id K")
    nan = obs.copy()
    nan[0, 0] = np.nan
    _c.raises(InvalidInputError, lambda: policy.act(nan, ids), "NaN observation")
    _c.raises(InvalidInputError, lambda: policy.learn({"not": "data"}), "learn on a dict")
    # Learning reports finite numbers.
    rng = np.random.default_rng(1)
    metrics = policy.learn(make_data(make(7), rng))  # data from another policy's stream
    _c.expect(isinstance(metrics, dict), "learn must return a dict")
    _c.expect(all(np.isfinite(float(v)) for v in metrics.values()), "learn returned non-finite")
    # State: a restored policy acts and learns exactly as the original.
    twin = make(123)
    twin.load_state_dict(npz_roundtrip(policy.state_dict()))
    a = np.asarray(policy.act(obs, ids).actions)
    b = np.asarray(twin.act(obs, ids).actions)
    _c.expect(np.array_equal(a, b), "a restored policy acts differently")
    data = make_data(make(7), np.random.default_rng(2))
    policy.learn(data)
    twin.learn(data)
    a = np.asarray(policy.act(obs, ids, deterministic=True).actions)
    b = np.asarray(twin.act(obs, ids, deterministic=True).actions)
    _c.expect(np.array_equal(a, b), "a restored policy learned differently")
    broken = dict(policy.state_dict())
    broken.pop(sorted(broken)[-1])
    _c.raises(DratsError, lambda: twin.load_state_dict(broken), "load: a state missing a key")
