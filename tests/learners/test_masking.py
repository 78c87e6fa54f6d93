"""Discrete tasks with different numbers of actions: the policies mask each task's invalid
actions out of the categorical (numpy acting, torch acting and torch learning alike; SAC's
critic targets too), never sample or value them, refuse data holding them, and an env behind a
mixed pool never receives one."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.numpy_forward import as_action_mask, categorical  # noqa: E402
from drats.adapters.learners.ppo import TorchPPOPolicy  # noqa: E402
from drats.adapters.learners.ppo_config import PPOConfig  # noqa: E402
from drats.adapters.learners.sac import TorchSACPolicy  # noqa: E402
from drats.adapters.learners.sac_config import SACConfig  # noqa: E402
from drats.adapters.learners.sac_discrete import discrete_losses  # noqa: E402
from drats.domain.errors import CheckpointError, ConfigError, InvalidInputError  # noqa: E402
from drats.domain.rng import UniformStream  # noqa: E402
from drats.domain.state_tree import unflatten_tree  # noqa: E402
from drats.domain.types import Batch, Rollout  # noqa: E402

COUNTS = np.array([2, 4, 3])  # task 0 takes actions 0-1, task 1 all four, task 2 0-2
K, A, OBS = 3, 4, 5
PPO = PPOConfig(hidden=(16,), epochs=2, minibatches=2, target_kl=None)
SAC = SACConfig(hidden=(16,), batch_size=32)


def ppo(seed: int = 0, counts: Any = COUNTS) -> TorchPPOPolicy:
    return TorchPPOPolicy(
        OBS, A, K, discrete=True, config=PPO, device="cpu", seed=seed, action_counts=counts
    )


def sac(seed: int = 0, counts: Any = COUNTS, **kw: Any) -> TorchSACPolicy:
    config = SACConfig(hidden=(16,), batch_size=32, **kw)
    return TorchSACPolicy(
        OBS, A, K, config=config, device="cpu", seed=seed, discrete=True, action_counts=counts
    )


def favour_invalid(net: torch.nn.Module) -> None:
    """Make the last action (invalid for tasks 0 and 2) by far the most likely one."""
    with torch.no_grad():
        net.head.bias.view(-1, A)[:, A - 1] += 50.0


def inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, K, n)
    obs = rng.standard_normal((n, OBS)).astype(np.float32)
    return obs, ids


def test_categorical_never_draws_a_masked_action() -> None:
    rng = UniformStream(0)
    logits = np.tile(np.array([0.0, 1.0, 30.0, 30.0], np.float32), (2000, 1))
    valid = np.tile(np.array([True, True, False, False]), (2000, 1))
    actions, log_prob = categorical(logits, rng, valid)
    assert set(actions.tolist()) == {0, 1}
    np.testing.assert_allclose(np.exp(log_prob[actions == 1]), np.e / (1 + np.e), rtol=1e-6)
    greedy, _ = categorical(logits[:1], None, valid[:1])
    assert greedy.tolist() == [1]


def test_an_unmasked_categorical_is_unchanged() -> None:
    logits = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    a, la = categorical(logits, UniformStream(3))
    b, lb = categorical(logits, UniformStream(3), np.ones((50, 4), bool))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(la, lb, rtol=1e-6)


@pytest.mark.parametrize("make", [ppo, sac], ids=["ppo", "sac"])
@pytest.mark.parametrize("deterministic", [False, True])
def test_policies_act_only_with_their_tasks_actions(make: Any, deterministic: bool) -> None:
    pol = make()
    favour_invalid(pol.actor)
    obs, ids = inputs(3000)
    actions = pol.act(obs, ids, deterministic=deterministic).actions
    assert np.all(actions < COUNTS[ids])
    assert np.all(actions[ids == 1] == A - 1)  # task 1 may take it, and does


@pytest.mark.parametrize("make", [ppo, sac], ids=["ppo", "sac"])
def test_the_torch_acting_path_masks_alike(make: Any) -> None:
    """The path CUDA takes (torch acting), run on the CPU."""
    pol = make()
    favour_invalid(pol.actor)
    obs, ids = inputs(500)
    out = pol._act_torch(obs, ids, False)
    assert np.all(out.actions < COUNTS[ids])


def test_ppo_log_probs_agree_between_acting_and_learning() -> None:
    pol = ppo()
    favour_invalid(pol.actor)
    obs, ids = inputs(200)
    step = pol.act(obs, ids)
    params = pol._dist_params(torch.from_numpy(obs), torch.from_numpy(ids))
    logp, entropy = pol._log_prob_entropy(params, torch.from_numpy(step.actions))
    np.testing.assert_allclose(logp.detach().numpy(), step.extras["log_prob"], atol=1e-5)
    assert torch.isfinite(entropy).all()
    probs = params[0].exp().detach().numpy()
    np.testing.assert_array_equal(probs[~(np.arange(A) < COUNTS[ids][:, None])], 0.0)


def rollout(pol: TorchPPOPolicy, steps: int = 32) -> Rollout:
    obs, ids = inputs(steps)
    out = pol.act(obs, ids)
    return Rollout(
        obs=obs[:, None],
        task_ids=ids[:, None],
        actions=out.actions[:, None],
        log_probs=out.extras["log_prob"][:, None],
        values=out.extras["value"][:, None],
        rewards=(out.actions == ids).astype(np.float32)[:, None],
        dones=np.ones((steps, 1), bool),
        bootstrap=np.zeros((steps, 1), np.float32),
        last_values=np.zeros(1, np.float32),
    )


def test_ppo_learns_with_a_mask_and_refuses_another_tasks_action() -> None:
    pol = ppo()
    data = rollout(pol)
    metrics = pol.learn(data)
    assert all(np.isfinite(v) for v in metrics.values())
    actions = data.actions.copy()
    row = int(np.flatnonzero(data.task_ids[:, 0] == 0)[0])
    actions[row, 0] = 3
    before = pol.state_dict()
    with pytest.raises(InvalidInputError, match=r"rollout.actions\[.*\] = 3 .* task 0"):
        pol.learn(dataclasses.replace(data, actions=actions))
    after = pol.state_dict()
    assert all(np.array_equal(np.asarray(before[k]), np.asarray(after[k])) for k in before)


def sac_batch(ids: np.ndarray, actions: np.ndarray, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return Batch(
        obs=rng.standard_normal((n, OBS)).astype(np.float32),
        actions=actions[:, None].astype(np.float32),
        rewards=rng.standard_normal(n).astype(np.float32),
        next_obs=rng.standard_normal((n, OBS)).astype(np.float32),
        terminated=np.zeros(n, np.float32),
        task_ids=ids.astype(np.int64),
        indices=np.arange(n, dtype=np.int64),
        weights=np.ones(n, np.float32),
    )


def test_sac_never_values_a_masked_action() -> None:
    """Raising every critic's value of action 3 (task 0 does not take it) changes nothing in
    the losses of a batch of task 0: its soft targets, actor loss and entropy ignore it."""
    pol = sac()
    ids = np.zeros(16, np.int64)
    data = sac_batch(ids, ids % 2)
    b = {f.name: torch.from_numpy(getattr(data, f.name)) for f in dataclasses.fields(data)}
    total, metrics, td = discrete_losses(pol, b)
    for critic in (pol.critic, pol.target_critic):
        with torch.no_grad():
            critic.biases[-1].view(2, 1, -1, A)[..., A - 1] += 1e6
    total2, metrics2, td2 = discrete_losses(pol, b)
    assert torch.equal(total, total2)
    assert torch.equal(metrics, metrics2)
    assert torch.equal(td, td2)


def test_sac_learns_with_a_mask_and_refuses_another_tasks_action() -> None:
    pol = sac()
    rng = np.random.default_rng(0)
    ids = np.sort(rng.integers(0, K, 32))
    actions = (rng.random(32) * COUNTS[ids]).astype(np.int64)
    metrics = pol.learn(sac_batch(ids, actions))
    assert all(np.isfinite(v) for v in metrics.values())
    bad = actions.copy()
    bad[ids == 2] = 3
    with pytest.raises(InvalidInputError, match=r"batch.actions\[.*\] = 3 .* task 2"):
        pol.learn(sac_batch(ids, bad))


def test_sac_target_entropy_follows_each_tasks_own_actions() -> None:
    np.testing.assert_allclose(sac().target_entropies.numpy(), 0.2 * np.log(COUNTS), rtol=1e-6)
    np.testing.assert_allclose(sac(target_entropy=0.3).target_entropies.numpy(), 0.3)
    assert sac().target_entropy == pytest.approx(0.2 * np.log(A))


@pytest.mark.parametrize("make", [ppo, sac], ids=["ppo", "sac"])
def test_state_dicts_carry_the_action_counts(make: Any) -> None:
    pol = make(seed=1)
    state = pol.state_dict()
    assert np.asarray(unflatten_tree(state)["action_counts"]).tolist() == COUNTS.tolist()
    other = make(seed=2)
    other.load_state_dict(state)
    obs, ids = inputs(20)
    np.testing.assert_array_equal(
        other.act(obs, ids, deterministic=True).actions,
        pol.act(obs, ids, deterministic=True).actions,
    )
    unmasked = make(counts=None)
    assert "action_counts" not in unflatten_tree(unmasked.state_dict())
    with pytest.raises(CheckpointError, match="action_counts"):
        unmasked.load_state_dict(state)
    with pytest.raises(CheckpointError, match="action_counts"):
        make(counts=[2, 4, 2]).load_state_dict(state)


def test_counts_that_allow_every_action_mean_no_mask() -> None:
    assert as_action_mask([4, 4, 4], 3, 4, True) is None
    a, b = ppo(counts=[4, 4, 4]), ppo(counts=None)
    obs, ids = inputs(50)
    np.testing.assert_array_equal(a.act(obs, ids).actions, b.act(obs, ids).actions)
    assert unflatten_tree(a.state_dict()).keys() == unflatten_tree(b.state_dict()).keys()


@pytest.mark.parametrize(
    ("counts", "discrete"),
    [([2, 4], True), ([0, 4, 3], True), ([2, 5, 3], True), ([2.0, 4.0, 3.0], True),
     ([2, 4, 3], False)],
)  # fmt: skip
def test_bad_action_counts_are_config_errors(counts: Any, discrete: bool) -> None:
    with pytest.raises(ConfigError, match="action_counts"):
        as_action_mask(counts, K, A, discrete)
    if discrete:
        with pytest.raises(ConfigError, match="action_counts"):
            ppo(counts=counts)
    else:
        with pytest.raises(ConfigError, match="action_counts"):
            TorchSACPolicy(OBS, A, K, device="cpu", action_counts=counts)


gym = pytest.importorskip("gymnasium")


class _Recorder(gym.Env):  # type: ignore[misc]
    """Discrete(2); remembers every action an episode of it receives."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)
    received: ClassVar[list[int]] = []

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> Any:
        _Recorder.received.append(int(action))
        return self.observation_space.sample(), 0.0, False, False, {}


gym.register("drats-test/Recorder2-v0", entry_point=_Recorder, max_episode_steps=5)


@pytest.mark.parametrize("make", [TorchPPOPolicy, TorchSACPolicy], ids=["ppo", "sac"])
def test_masked_actions_never_reach_an_env(make: Any) -> None:
    """A policy built for a mixed pool (Discrete(2) next to Acrobot's Discrete(3)) and biased
    toward the action only Acrobot takes acts for 400 steps: the Discrete(2) env never
    receives it (the pool would refuse it before any env moved)."""
    from drats.adapters.envs.gym_tasks import GymEnvPool

    pool = GymEnvPool(["drats-test/Recorder2-v0", "Acrobot-v1"], 4, seed=0)
    config = PPO if make is TorchPPOPolicy else SAC
    pol = make(
        pool.obs_dim, pool.action_dim, 2, discrete=True, config=config, device="cpu",
        action_counts=pool.action_counts,
    )  # fmt: skip
    favour_invalid_for(pol.actor, pool.action_dim)
    _Recorder.received.clear()
    tasks = np.array([0, 1, 0, 1])
    obs = pool.reset(tasks)
    for _ in range(400):
        out = pool.step(pol.act(obs, tasks).actions)
        obs = out.obs.copy()
        done = np.flatnonzero(out.terminated | out.truncated)
        if done.size:
            obs[done] = pool.reset_slots(done, tasks[done])
    pool.close()
    assert len(_Recorder.received) >= 800
    assert set(_Recorder.received) == {0, 1}


def favour_invalid_for(net: torch.nn.Module, a: int) -> None:
    with torch.no_grad():
        net.head.bias.view(-1, a)[:, a - 1] += 5.0
