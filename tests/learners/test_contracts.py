"""The Policy contract checker on both torch learners (and proof that it can fail)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")

from drats.adapters.learners.ppo import TorchPPOPolicy
from drats.adapters.learners.ppo_config import PPOConfig
from drats.adapters.learners.sac import TorchSACPolicy
from drats.adapters.learners.sac_config import SACConfig
from drats.domain.ports import Policy
from drats.domain.types import Batch, Rollout
from drats.testing import check_policy

OBS, ACT, K = 5, 2, 3


def rollout(policy: Policy, rng: np.random.Generator) -> Rollout:
    t, n = 8, 2
    obs = rng.standard_normal((t, n, OBS)).astype(np.float32)
    ids = rng.integers(0, K, size=(t, n))
    step = policy.act(obs.reshape(t * n, OBS), ids.reshape(-1))
    raw = step.extras.get("raw_action", step.actions)
    return Rollout(
        obs=obs,
        task_ids=ids,
        actions=np.asarray(raw).reshape(t, n, *np.shape(raw)[1:]),
        log_probs=step.extras["log_prob"].reshape(t, n),
        values=step.extras["value"].reshape(t, n),
        rewards=rng.standard_normal((t, n)).astype(np.float32),
        dones=rng.random((t, n)) < 0.2,
        bootstrap=np.zeros((t, n), np.float32),
        last_values=np.zeros(n, np.float32),
    )


def batch(policy: Policy, rng: np.random.Generator) -> Batch:
    b = 16
    obs = rng.standard_normal((b, OBS)).astype(np.float32)
    return Batch(
        obs=obs,
        actions=rng.uniform(-1, 1, (b, ACT)).astype(np.float32),
        rewards=rng.standard_normal(b).astype(np.float32),
        next_obs=obs + 0.1,
        terminated=(rng.random(b) < 0.1).astype(np.float32),
        task_ids=np.sort(rng.integers(0, K, size=b)),
        indices=np.arange(b, dtype=np.int64),
        weights=rng.uniform(0.5, 1.0, b).astype(np.float32),
    )


@pytest.mark.parametrize("discrete", [True, False])
def test_ppo_honours_the_policy_port(discrete: bool) -> None:
    config = PPOConfig(hidden=(16,), epochs=2, minibatches=2)

    def make(seed: int) -> Policy:
        return TorchPPOPolicy(
            OBS, ACT, K, discrete=discrete, config=config, device="cpu", seed=seed
        )

    check_policy(make, rollout, obs_dim=OBS, action_dim=ACT, num_tasks=K, discrete=discrete)


def test_sac_honours_the_policy_port() -> None:
    config = SACConfig(hidden=(16, 16), batch_size=16)

    def make(seed: int) -> Policy:
        return TorchSACPolicy(OBS, ACT, K, config=config, device="cpu", seed=seed)

    check_policy(make, batch, obs_dim=OBS, action_dim=ACT, num_tasks=K, discrete=False)


def test_the_checker_catches_a_policy_that_forgets_its_random_stream() -> None:
    config = SACConfig(hidden=(16, 16), batch_size=16)

    class Forgetful(TorchSACPolicy):
        def load_state_dict(self, state: Any) -> None:
            super().load_state_dict(state)
            self._gen.manual_seed(99)  # forgets where its random stream stood

    def make(seed: int) -> Policy:
        return Forgetful(OBS, ACT, K, config=config, device="cpu", seed=seed)

    with pytest.raises(AssertionError, match="Policy contract"):
        check_policy(make, batch, obs_dim=OBS, action_dim=ACT, num_tasks=K, discrete=False)


def discrete_batch(policy: Policy, rng: np.random.Generator) -> Batch:
    full = batch(policy, rng)
    indices = rng.integers(0, 4, size=(len(full), 1)).astype(np.float32)
    return Batch(
        obs=full.obs,
        actions=indices,
        rewards=full.rewards,
        next_obs=full.next_obs,
        terminated=full.terminated,
        task_ids=full.task_ids,
        indices=full.indices,
        weights=full.weights,
    )


def test_discrete_sac_honours_the_policy_port() -> None:
    config = SACConfig(hidden=(16, 16), batch_size=16)

    def make(seed: int) -> Policy:
        return TorchSACPolicy(OBS, 4, K, config=config, device="cpu", seed=seed, discrete=True)

    check_policy(make, discrete_batch, obs_dim=OBS, action_dim=4, num_tasks=K, discrete=True)
