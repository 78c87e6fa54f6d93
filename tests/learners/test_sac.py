"""The torch multi-task SAC policy: acting, the update's maths (Polyak, temperatures, importance
weights, TD errors), learning a 2-task one-step problem, exact state round trips, bad input."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.sac import METRICS, TorchSACPolicy  # noqa: E402
from drats.adapters.learners.sac_config import SACConfig  # noqa: E402
from drats.adapters.learners.sac_nets import TwinCritic  # noqa: E402
from drats.domain.errors import (  # noqa: E402
    CheckpointError,
    ConfigError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import Policy  # noqa: E402
from drats.domain.types import Batch  # noqa: E402

OBS, ACT, K = 5, 2, 3
SMALL = SACConfig(hidden=(16, 16), batch_size=32)


def policy(config: SACConfig = SMALL, seed: int = 0, **kw: int) -> TorchSACPolicy:
    dims = {"obs_dim": OBS, "action_dim": ACT, "num_tasks": K, **kw}
    return TorchSACPolicy(**dims, config=config, device="cpu", seed=seed)


def batch(n: int = 24, seed: int = 0, tasks: np.ndarray | None = None) -> Batch:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, K, n) if tasks is None else np.asarray(tasks, np.int64)
    return Batch(
        obs=rng.standard_normal((n, OBS), dtype=np.float32),
        actions=rng.uniform(-1, 1, (n, ACT)).astype(np.float32),
        rewards=rng.standard_normal(n, dtype=np.float32),
        next_obs=rng.standard_normal((n, OBS), dtype=np.float32),
        terminated=(rng.random(n) < 0.3).astype(np.float32),
        task_ids=ids.astype(np.int64),
        indices=np.arange(n, dtype=np.int64),
        weights=rng.uniform(0.1, 1.0, n).astype(np.float32),
    )


def params(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_implements_the_policy_port() -> None:
    assert isinstance(policy(), Policy)


def test_act_shapes_bounds_determinism_and_seed() -> None:
    pol = policy()
    obs = np.random.default_rng(0).standard_normal((6, OBS)).astype(np.float32)
    ids = np.array([0, 1, 2, 0, 1, 2])
    out = pol.act(obs, ids)
    assert out.actions.dtype == np.float32
    assert out.actions.shape == (6, ACT)
    assert np.all(np.abs(out.actions) <= 1.0)
    assert out.extras == {}
    assert not np.array_equal(out.actions, pol.act(obs, ids).actions)  # fresh noise
    det = pol.act(obs, ids, deterministic=True).actions
    assert np.array_equal(det, pol.act(obs, ids, deterministic=True).actions)
    assert np.array_equal(policy().act(obs, ids).actions, out.actions)  # same seed, same draws
    assert not np.array_equal(policy(seed=1).act(obs, ids).actions, out.actions)


def test_twin_critic_is_two_independent_mlps() -> None:
    torch.manual_seed(0)
    net = TwinCritic(4, 3, hidden=(8, 8), multi_head=True)
    x, ids = torch.randn(7, 4), torch.tensor([0, 1, 2, 2, 1, 0, 1])
    out = net(x, ids)
    for j in range(2):
        h = x
        for i, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            h = h @ w[j] + b[j, 0]
            h = torch.relu(h) if i < 2 else h
        torch.testing.assert_close(out[j], h[torch.arange(7), ids])


def test_learn_metrics_and_polyak_targets() -> None:
    pol = policy(SMALL.replace(tau=0.1))
    before = params(pol.target_critic)
    metrics = pol.learn(batch())
    assert set(metrics) == set(METRICS)
    assert all(math.isfinite(v) for v in metrics.values())
    online = params(pol.critic)
    for old, new, now in zip(before, params(pol.target_critic), online, strict=True):
        torch.testing.assert_close(new, 0.9 * old + 0.1 * now)
    assert not torch.equal(before[0], online[0])  # the online critic did move


def test_metrics_every() -> None:
    pol = policy(SMALL.replace(metrics_every=2))
    assert pol.learn(batch()) == {}
    assert set(pol.learn(batch())) == set(METRICS)


@pytest.mark.parametrize(("target", "sign"), [(-50.0, -1.0), (50.0, 1.0)])
def test_temperatures_follow_the_entropy_target_per_task(target: float, sign: float) -> None:
    pol = policy(SMALL.replace(target_entropy=target, alpha_lr=0.01))
    before = pol.temperatures
    pol.learn(batch(tasks=np.ones(24, np.int64)))  # only task 1's temperature sees data
    after = pol.temperatures
    assert np.sign(after[1] - before[1]) == sign  # entropy above target -> alpha decreases
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_a_zero_importance_weight_removes_the_row(weight: float) -> None:
    a, b = policy(), policy()
    data = batch()
    weights = data.weights.copy()
    weights[3] = weight
    rewards = data.rewards.copy()
    rewards[3] += 100.0
    fields = {f: getattr(data, f) for f in Batch.__dataclass_fields__}
    a.learn(Batch(**{**fields, "weights": weights}))
    b.learn(Batch(**{**fields, "weights": weights, "rewards": rewards}))
    same = all(torch.equal(x, y) for x, y in zip(params(a.critic), params(b.critic), strict=True))
    assert same == (weight == 0.0)


def test_only_the_critic_loss_moves_the_critics() -> None:
    """All-zero importance weights: the critics get no gradient at all (the actor's loss sees
    them through detached weights), while the actor still learns."""
    pol = policy()
    data = batch()
    fields = {f: getattr(data, f) for f in Batch.__dataclass_fields__}
    critic, actor = params(pol.critic), params(pol.actor)
    pol.learn(Batch(**{**fields, "weights": np.zeros(len(data), np.float32)}))
    assert all(torch.equal(x, y) for x, y in zip(critic, params(pol.critic), strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(actor, params(pol.actor), strict=True))


def test_last_td_errors_match_a_manual_computation() -> None:
    pol = policy()
    assert pol.last_td_errors.shape == (0,)
    pol.learn(batch(seed=1))
    data = batch(seed=2)
    twin = policy()
    twin.load_state_dict(pol.state_dict())
    gen = torch.Generator().manual_seed(0)
    gen.set_state(twin._gen.get_state())
    noise = torch.randn((2, len(data), ACT), generator=gen)
    pol.learn(data)
    td = pol.last_td_errors
    assert td.dtype == np.float32
    assert td.shape == (len(data),)
    # By hand, from the pre-step networks and the same noise.
    t = {k: torch.from_numpy(getattr(data, k)) for k in ("obs", "next_obs", "actions")}
    ids = torch.from_numpy(data.task_ids)
    with torch.no_grad():
        mean, log_std = twin.actor(t["next_obs"], ids).chunk(2, -1)
        log_std = log_std.clamp(-20, 2)
        u = mean + noise[0] * log_std.exp()
        normal = torch.distributions.Normal(mean, log_std.exp())
        logp = (normal.log_prob(u) - torch.log(1 - torch.tanh(u) ** 2)).sum(-1)
        next_q = twin.target_critic(torch.cat([t["next_obs"], torch.tanh(u)], 1), ids)
        alpha = twin.temperatures[data.task_ids]
        soft = next_q.min(0).values - torch.from_numpy(alpha) * logp
        y = torch.from_numpy(data.rewards) + 0.99 * torch.from_numpy(1 - data.terminated) * soft
        q = twin.critic(torch.cat([t["obs"], t["actions"]], 1), ids)
    want = ((q[0] - y).abs() + (q[1] - y).abs()).numpy() / 2
    np.testing.assert_allclose(td, want, rtol=1e-4, atol=1e-4)


def test_learns_a_two_task_one_step_problem() -> None:
    """Task 0 pays for actions near +0.5, task 1 for actions near -0.5 (one-step episodes)."""
    cfg = SACConfig(hidden=(32, 32), actor_lr=3e-3, critic_lr=3e-3, alpha_lr=3e-3)
    pol = TorchSACPolicy(2, 1, 2, config=cfg, device="cpu", seed=3)
    rng = np.random.default_rng(3)
    eye = np.eye(2, dtype=np.float32)
    goal = np.array([0.5, -0.5], np.float32)
    store: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for _ in range(400):
        ids = rng.integers(0, 2, 16)
        act = pol.act(eye[ids], ids).actions
        store.append((ids, act, -np.abs(act[:, 0] - goal[ids]).astype(np.float32)))
        pick = rng.integers(0, len(store), 8)
        ids_b = np.concatenate([store[i][0] for i in pick])
        pol.learn(
            Batch(
                obs=eye[ids_b],
                actions=np.concatenate([store[i][1] for i in pick]),
                rewards=np.concatenate([store[i][2] for i in pick]),
                next_obs=eye[ids_b],
                terminated=np.ones(len(ids_b), np.float32),
                task_ids=ids_b.astype(np.int64),
                indices=np.arange(len(ids_b), dtype=np.int64),
                weights=np.ones(len(ids_b), np.float32),
            )
        )
    final = pol.act(eye, np.arange(2), deterministic=True).actions[:, 0]
    np.testing.assert_allclose(final, goal, atol=0.15)


def test_state_round_trip_is_exact() -> None:
    a = policy(seed=4)
    for s in range(3):
        a.learn(batch(seed=s))
    a.act(np.zeros((2, OBS), np.float32), np.array([0, 1]))
    state = a.state_dict()
    buf = io.BytesIO()
    np.savez(buf, **state)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        loaded = {k: f[k] for k in f.files}
    b = policy(seed=99)
    b.load_state_dict(loaded)
    obs, ids = np.ones((4, OBS), np.float32), np.array([0, 1, 2, 0])
    assert np.array_equal(a.act(obs, ids).actions, b.act(obs, ids).actions)
    for s in (10, 11):
        assert a.learn(batch(seed=s)) == b.learn(batch(seed=s))
        assert np.array_equal(a.last_td_errors, b.last_td_errors)
    for net in ("actor", "critic", "target_critic"):
        for x, y in zip(params(getattr(a, net)), params(getattr(b, net)), strict=True):
            assert torch.equal(x, y)
    assert np.array_equal(a.temperatures, b.temperatures)


def test_bad_input() -> None:
    pol = policy()
    ids = np.array([0, 1])
    with pytest.raises(InvalidInputError):
        pol.act(np.zeros((2, OBS + 1), np.float32), ids)
    with pytest.raises(UnknownTaskError):
        pol.act(np.zeros((2, OBS), np.float32), np.array([0, K]))
    with pytest.raises(InvalidInputError):
        pol.act(np.full((2, OBS), np.nan, np.float32), ids)
    with pytest.raises(InvalidInputError):
        pol.learn({"obs": np.zeros((2, OBS))})
    good = batch()
    fields = {f: getattr(good, f) for f in Batch.__dataclass_fields__}
    with pytest.raises(InvalidInputError):
        pol.learn(Batch(**{**fields, "obs": good.obs[:, :-1]}))
    with pytest.raises(UnknownTaskError):
        pol.learn(Batch(**{**fields, "task_ids": np.full(len(good), K)}))
    nan_rewards = good.rewards.copy()
    nan_rewards[0] = np.nan
    with pytest.raises(InvalidInputError):
        pol.learn(Batch(**{**fields, "rewards": nan_rewards}))
    before = params(pol.actor)
    with pytest.raises(CheckpointError):
        pol.load_state_dict(policy(obs_dim=OBS + 1).state_dict())
    with pytest.raises(CheckpointError):
        pol.load_state_dict(policy(SMALL.replace(hidden=(8,))).state_dict())
    state = pol.state_dict()
    with pytest.raises(CheckpointError):
        pol.load_state_dict({k: v for k, v in state.items() if k != "3"})
    assert all(torch.equal(x, y) for x, y in zip(before, params(pol.actor), strict=True))


def test_config_validation() -> None:
    with pytest.raises(ConfigError):
        SACConfig(tau=1.5)
    with pytest.raises(ConfigError):
        SACConfig(hidden=(0,))
    with pytest.raises(ConfigError):
        SACConfig(log_std_min=3.0)
    with pytest.raises(ConfigError):
        SACConfig(batch_size=0)
    with pytest.raises(ConfigError):
        SMALL.replace(nope=1)
    with pytest.raises(ConfigError):
        TorchSACPolicy(0, ACT, K, device="cpu")
    assert SMALL.replace(tau=0.5).tau == 0.5


def test_fast_matmul_is_scoped_to_learn() -> None:
    before = torch.backends.mkldnn.matmul.fp32_precision
    pol = policy(SMALL.replace(fast_matmul=True))
    metrics = pol.learn(batch())
    assert all(math.isfinite(v) for v in metrics.values())
    assert torch.backends.mkldnn.matmul.fp32_precision == before


def test_discrete_sac_learns_a_two_task_bandit() -> None:
    """Task t pays 1 for action t and 0 otherwise; one-step episodes."""
    config = SACConfig(hidden=(32,), batch_size=64, actor_lr=3e-3, critic_lr=3e-3,
                       alpha_lr=3e-3, init_temperature=0.1)  # fmt: skip
    pol = TorchSACPolicy(2, 3, 2, config=config, device="cpu", seed=0, discrete=True)
    rng = np.random.default_rng(0)
    for _ in range(300):
        tasks = np.sort(rng.integers(0, 2, size=64))
        obs = np.eye(2, dtype=np.float32)[tasks]
        actions = rng.integers(0, 3, size=64)
        pol.learn(
            Batch(
                obs=obs,
                actions=actions[:, None].astype(np.float32),
                rewards=(actions == tasks).astype(np.float32),
                next_obs=obs,
                terminated=np.ones(64, np.float32),
                task_ids=tasks,
                indices=np.arange(64),
                weights=np.ones(64, np.float32),
            )
        )
    best = pol.act(np.eye(2, dtype=np.float32), np.array([0, 1]), deterministic=True).actions
    assert best.dtype == np.int64
    assert best.tolist() == [0, 1]
    with pytest.raises(InvalidInputError, match="action indices"):
        pol.learn(
            Batch(
                obs=obs[:2],
                actions=np.array([[0.5], [1.0]], np.float32),
                rewards=np.zeros(2, np.float32),
                next_obs=obs[:2],
                terminated=np.ones(2, np.float32),
                task_ids=tasks[:2],
                indices=np.arange(2),
                weights=np.ones(2, np.float32),
            )
        )
