"""Bad input to the torch policies (PPO and SAC): constructor arguments, config values, learner
inputs and state dicts are refused with a typed error naming the argument, field or state entry,
and a refused call leaves the policy exactly as it was."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from drats.adapters.learners.ppo import TorchPPOPolicy  # noqa: E402
from drats.adapters.learners.ppo_config import PPOConfig  # noqa: E402
from drats.adapters.learners.sac import TorchSACPolicy  # noqa: E402
from drats.adapters.learners.sac_config import SACConfig  # noqa: E402
from drats.domain.errors import (  # noqa: E402
    CheckpointError,
    ConfigError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import Policy, StateDict  # noqa: E402
from drats.domain.state_tree import flatten_tree, unflatten_tree  # noqa: E402
from drats.domain.types import Batch, Rollout  # noqa: E402

OBS, ACT, K, T, N = 5, 2, 3, 4, 2
PPO_CFG = PPOConfig(hidden=(8,), epochs=1, minibatches=1)
SAC_CFG = SACConfig(hidden=(8,), batch_size=4)


def make(cls: Any, config: Any, discrete: bool, kw: dict[str, Any]) -> Any:
    """A tiny ``cls`` policy on CPU; ``kw`` overrides any argument, positional ones included."""
    args: dict[str, Any] = {"obs_dim": OBS, "action_dim": ACT, "num_tasks": K}
    args.update(discrete=discrete, config=config, device="cpu")
    args.update(kw)
    return cls(args.pop("obs_dim"), args.pop("action_dim"), args.pop("num_tasks"), **args)


def ppo(discrete: bool = False, **kw: Any) -> TorchPPOPolicy:
    return make(TorchPPOPolicy, PPO_CFG, discrete, kw)  # type: ignore[no-any-return]


def sac(discrete: bool = False, **kw: Any) -> TorchSACPolicy:
    return make(TorchSACPolicy, SAC_CFG, discrete, kw)  # type: ignore[no-any-return]


def rollout(discrete: bool = False, **changes: Any) -> Rollout:
    rng = np.random.default_rng(0)
    fields: dict[str, Any] = {
        "obs": rng.standard_normal((T, N, OBS)).astype(np.float32),
        "task_ids": rng.integers(0, K, (T, N)),
        "actions": (
            rng.integers(0, ACT, (T, N))
            if discrete
            else rng.standard_normal((T, N, ACT)).astype(np.float32)
        ),
        "log_probs": np.full((T, N), -1.0, np.float32),
        "values": np.zeros((T, N), np.float32),
        "rewards": rng.standard_normal((T, N)).astype(np.float32),
        "dones": np.zeros((T, N), bool),
        "bootstrap": np.zeros((T, N), np.float32),
        "last_values": np.zeros(N, np.float32),
    }
    fields.update(changes)
    return Rollout(**fields)


def batch(discrete: bool = False, n: int = 4, **changes: Any) -> Batch:
    rng = np.random.default_rng(0)
    actions = (
        rng.integers(0, ACT, (n, 1)).astype(np.float32)
        if discrete
        else rng.uniform(-1, 1, (n, ACT)).astype(np.float32)
    )
    fields: dict[str, Any] = {
        "obs": rng.standard_normal((n, OBS)).astype(np.float32),
        "actions": actions,
        "rewards": rng.standard_normal(n).astype(np.float32),
        "next_obs": rng.standard_normal((n, OBS)).astype(np.float32),
        "terminated": np.zeros(n, np.float32),
        "task_ids": rng.integers(0, K, n),
        "indices": np.arange(n),
        "weights": np.ones(n, np.float32),
    }
    fields.update(changes)
    return Batch(**fields)


def assert_same_state(before: StateDict, after: StateDict) -> None:
    assert before.keys() == after.keys()
    for key, value in before.items():
        assert np.array_equal(np.asarray(value), np.asarray(after[key])), key


def refused(policy: Policy, call: Callable[[], object], error: type[Exception], match: str) -> None:
    """``call`` raises exactly ``error`` matching ``match`` and changes nothing."""
    before = policy.state_dict()
    with pytest.raises(error, match=match) as info:
        call()
    assert type(info.value) is error
    assert_same_state(before, policy.state_dict())


# ------------------------------------------------------------------------ constructors


BOTH, PPO_ONLY = ("ppo", "sac"), ("ppo",)  # SAC already refused the PPO_ONLY ones
CTOR_CASES: list[tuple[tuple[str, ...], dict[str, Any], str]] = [
    (PPO_ONLY, {"obs_dim": "abc"}, "obs_dim"),
    (PPO_ONLY, {"obs_dim": 2.5}, "obs_dim"),
    (PPO_ONLY, {"action_dim": True}, "action_dim"),
    (BOTH, {"num_tasks": 2.5}, "num_tasks"),
    (BOTH, {"num_tasks": "3"}, "num_tasks"),
    (PPO_ONLY, {"config": "x"}, "config"),
    (PPO_ONLY, {"config": SACConfig(hidden=(8,))}, "config"),
    (BOTH, {"seed": "x"}, "seed"),
    (BOTH, {"seed": 2.5}, "seed"),
    (BOTH, {"seed": 2**70}, "seed"),
    (BOTH, {"device": 5}, "device"),
    (BOTH, {"device": None}, "device"),
    (BOTH, {"discrete": "yes"}, "discrete"),
]
MAKERS: dict[str, Callable[..., Policy]] = {"ppo": ppo, "sac": sac}


@pytest.mark.parametrize(
    ("kind", "kwargs", "name"),
    [(kind, kwargs, name) for kinds, kwargs, name in CTOR_CASES for kind in kinds],
    ids=[f"{kind}-{kwargs}" for kinds, kwargs, _ in CTOR_CASES for kind in kinds],
)
def test_constructor_refuses_bad_arguments(kind: str, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        MAKERS[kind](**kwargs)


# ------------------------------------------------------------------------ configs

PPO_CONFIG_CASES = [
    ("lr", np.inf),
    ("lr", "x"),
    ("adam_eps", np.inf),
    ("ent_coef", np.nan),
    ("ent_coef", np.inf),
    ("vf_coef", np.nan),
    ("clip", np.inf),
    ("max_grad_norm", np.inf),
    ("log_std_min", -np.inf),
    ("log_std_max", np.inf),
    ("epochs", 2.5),
    ("minibatches", True),
    ("hidden", ("a",)),
    ("hidden", 8),
    ("hidden", (True,)),
    ("multi_head", "yes"),
    ("per_task_adv_norm", 1),
    ("critic_gain", 0.0),
    ("critic_gain", np.nan),
]
SAC_CONFIG_CASES = [
    ("actor_lr", True),
    ("target_entropy", "x"),
    ("log_std_min", "x"),
    ("log_std_max", None),
    ("hidden", ("a",)),
    ("hidden", 8),
    ("multi_head", "yes"),
    ("fast_matmul", 1),
    ("compile", "no"),
]


@pytest.mark.parametrize(("name", "value"), PPO_CONFIG_CASES)
def test_ppo_config_refuses_bad_values(name: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=name):
        PPOConfig(**{name: value})


@pytest.mark.parametrize(("name", "value"), SAC_CONFIG_CASES)
def test_sac_config_refuses_bad_values(name: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=name):
        SACConfig(**{name: value})


def test_configs_normalise_hidden_to_int_tuples() -> None:
    assert PPOConfig(hidden=[np.int64(8)]).hidden == (8,)  # type: ignore[arg-type]
    assert SACConfig(hidden=[np.int64(8), 4]).hidden == (8, 4)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ PPO learn

BAD = InvalidInputError
PPO_ROLLOUT_CASES: list[tuple[bool, dict[str, Any], type[Exception], str]] = [
    (False, {"obs": np.zeros((T, N, OBS + 2), np.float32)}, BAD, "rollout.obs"),
    (False, {"obs": np.full((T, N, OBS), np.nan, np.float32)}, BAD, "rollout.obs"),
    (False, {"obs": np.zeros((T, N, OBS), bool)}, InvalidDtypeError, "rollout.obs"),
    (False, {"task_ids": np.full((T, N), K)}, UnknownTaskError, "rollout.task_ids"),
    (True, {"task_ids": np.full((T, N), -1)}, UnknownTaskError, "rollout.task_ids"),
    (False, {"task_ids": np.zeros((T, N), np.float32)}, InvalidDtypeError, "rollout.task_ids"),
    (False, {"task_ids": np.zeros(T * N, np.int64)}, BAD, "rollout.task_ids"),
    (False, {"actions": np.zeros((T, N, ACT + 1), np.float32)}, BAD, "rollout.actions"),
    (False, {"actions": np.full((T, N, ACT), np.inf, np.float32)}, BAD, "rollout.actions"),
    (True, {"actions": np.zeros((T, N), np.float32)}, InvalidDtypeError, "rollout.actions"),
    (True, {"actions": np.full((T, N), ACT)}, BAD, "rollout.actions"),
    (True, {"actions": np.full((T, N), -1)}, BAD, "rollout.actions"),
    (True, {"actions": np.zeros((T, N, 1), np.int64)}, BAD, "rollout.actions"),
    (False, {"log_probs": np.full((T, N), -np.inf, np.float32)}, BAD, "rollout.log_probs"),
    (True, {"values": np.full((T, N), np.nan, np.float32)}, BAD, "rollout.values"),
    (False, {"rewards": np.full((T, N), np.nan, np.float32)}, BAD, "rollout.rewards"),
    (True, {"rewards": np.full((T, N), np.nan, np.float32)}, BAD, "rollout.rewards"),
    (False, {"rewards": np.zeros((T - 1, N), np.float32)}, BAD, "rollout.rewards"),
    (False, {"dones": np.full((T, N), 2.0)}, BAD, "rollout.dones"),
    (False, {"bootstrap": np.full((T, N), np.inf, np.float32)}, BAD, "rollout.bootstrap"),
    (False, {"last_values": np.full(N, np.nan, np.float32)}, BAD, "rollout.last_values"),
    (False, {"last_values": np.zeros(N + 1, np.float32)}, BAD, "rollout.last_values"),
]


@pytest.mark.parametrize(
    ("discrete", "changes", "error", "match"),
    PPO_ROLLOUT_CASES,
    ids=[f"{'disc' if c[0] else 'cont'}-{next(iter(c[1]))}" for c in PPO_ROLLOUT_CASES],
)
def test_ppo_learn_refuses_bad_rollouts(
    discrete: bool, changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    pol = ppo(discrete)
    data = rollout(discrete, **changes)
    refused(pol, lambda: pol.learn(data), error, re.escape(match))


def test_ppo_learn_refuses_an_empty_rollout() -> None:
    pol = ppo()
    empty: dict[str, Any] = {
        k: np.zeros((0, N), np.float32)
        for k in ("log_probs", "values", "rewards", "dones", "bootstrap")
    }
    empty.update(
        obs=np.zeros((0, N, OBS), np.float32),
        task_ids=np.zeros((0, N), np.int64),
        actions=np.zeros((0, N, ACT), np.float32),
    )
    data = rollout(**empty)
    refused(pol, lambda: pol.learn(data), InvalidInputError, "rollout")


# ------------------------------------------------------------------------ SAC learn

SAC_BATCH_CASES: list[tuple[bool, dict[str, Any], str]] = [
    (False, {"terminated": np.full(4, 2.0, np.float32)}, "batch.terminated"),
    (False, {"terminated": np.full(4, -1.0, np.float32)}, "batch.terminated"),
    (True, {"terminated": np.full(4, 0.5, np.float32)}, "batch.terminated"),
    (False, {"actions": np.full((4, ACT), 5.0, np.float32)}, "batch.actions"),
    (False, {"actions": np.full((4, ACT), -1.5, np.float32)}, "batch.actions"),
]


@pytest.mark.parametrize(("discrete", "changes", "match"), SAC_BATCH_CASES)
def test_sac_learn_refuses_bad_batches(discrete: bool, changes: dict[str, Any], match: str) -> None:
    pol = sac(discrete)
    data = batch(discrete, **changes)
    refused(pol, lambda: pol.learn(data), InvalidInputError, re.escape(match))


# ------------------------------------------------------------------------ state dicts


def trained(kind: str) -> Policy:
    """A policy after one learn call, so its optimiser state holds Adam buffers."""
    if kind == "ppo":
        pol: Policy = ppo()
        pol.learn(rollout())
    else:
        pol = sac()
        pol.learn(batch())
    return pol


def optim_keys(kind: str) -> tuple[str, ...]:
    return ("actor_optim", "critic_optim") if kind == "ppo" else ("optim",)


def edited(state: StateDict, edit: Callable[[Any], None]) -> StateDict:
    """``state`` with ``edit`` applied to its unflattened tree."""
    tree = unflatten_tree({k: np.array(v, copy=True) for k, v in state.items()})
    edit(tree)
    return flatten_tree(tree)


def set_entry(path: tuple[Any, ...], value: Any) -> Callable[[Any], None]:
    def edit(tree: Any) -> None:
        node = tree
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


BUFFER_CASES: list[tuple[str, Any]] = [
    ("exp_avg", np.zeros(3, np.float32)),
    ("exp_avg", np.zeros((1, 1), np.float32)),
    ("exp_avg_sq", np.zeros(3, np.float32)),
    ("exp_avg_sq", "full-shape negative"),
    ("exp_avg", "full-shape int"),
    ("exp_avg", "full-shape nan"),
    ("step", np.zeros(3, np.float32)),
    ("step", np.array(-1.0, np.float32)),
    ("step", np.array(np.nan, np.float32)),
    ("step", "x"),
]


@pytest.mark.parametrize("kind", ["ppo", "sac"])
@pytest.mark.parametrize(("buffer", "value"), BUFFER_CASES)
def test_load_refuses_bad_adam_buffers(kind: str, buffer: str, value: Any) -> None:
    pol = trained(kind)
    state = pol.state_dict()
    key = optim_keys(kind)[0]
    shape = np.asarray(unflatten_tree(state)[key]["state"][0]["exp_avg"]).shape
    if isinstance(value, str) and value.startswith("full-shape"):
        value = {
            "full-shape negative": -np.ones(shape, np.float32),
            "full-shape int": np.zeros(shape, np.int64),
            "full-shape nan": np.full(shape, np.nan, np.float32),
        }[value]
    bad = edited(state, set_entry((key, "state", 0, buffer), value))
    refused(pol, lambda: pol.load_state_dict(bad), CheckpointError, f"{key}.state.0.{buffer}")


@pytest.mark.parametrize("kind", ["ppo", "sac"])
def test_load_refuses_optimiser_state_of_no_parameter(kind: str) -> None:
    pol = trained(kind)
    key = optim_keys(kind)[0]

    def add_stray(tree: Any) -> None:
        tree[key]["state"][99] = tree[key]["state"][0]

    bad = edited(pol.state_dict(), add_stray)
    refused(pol, lambda: pol.load_state_dict(bad), CheckpointError, f"{key}.state.99")


@pytest.mark.parametrize("kind", ["ppo", "sac"])
@pytest.mark.parametrize(
    ("entry", "value"),
    [("lr", float("nan")), ("eps", float("inf")), ("betas", (0.9, 1.0)), ("amsgrad", True)],
)
def test_load_refuses_bad_optimiser_settings(kind: str, entry: str, value: Any) -> None:
    pol = trained(kind)
    key = optim_keys(kind)[-1]
    bad = edited(pol.state_dict(), set_entry((key, "param_groups", 0, entry), value))
    refused(pol, lambda: pol.load_state_dict(bad), CheckpointError, f"{key}.param_groups.0.{entry}")


def float_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, np.ndarray) and node.dtype.kind == "f" and node.size:
        yield path
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from float_leaves(value, (*path, key))


@pytest.mark.parametrize("kind", ["ppo", "sac"])
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_load_refuses_non_finite_values_anywhere(kind: str, bad_value: float) -> None:
    pol = trained(kind)
    state = pol.state_dict()
    paths = list(float_leaves(unflatten_tree(state)))
    assert len(paths) > 10  # weights, optimiser buffers and steps, temperatures
    for path in paths:

        def poison(tree: Any, path: tuple[Any, ...] = path) -> None:
            node = tree
            for key in path:
                node = node[key]
            node.flat[0] = bad_value

        bad = edited(state, poison)
        name = re.escape(".".join(str(p) for p in path))
        refused(pol, functools.partial(pol.load_state_dict, bad), CheckpointError, name)


@pytest.mark.parametrize("kind", ["ppo", "sac"])
def test_load_refuses_float64_weights_beyond_float32(kind: str) -> None:
    pol = trained(kind)
    state = pol.state_dict()
    path = next(p for p in float_leaves(unflatten_tree(state)) if p[0] == "actor")

    def widen(tree: Any) -> None:
        node = tree
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = np.full(node[path[-1]].shape, 1e300)

    bad = edited(state, widen)
    refused(pol, lambda: pol.load_state_dict(bad), CheckpointError, re.escape(".".join(path)))


@pytest.mark.parametrize("state", [None, 5])
def test_ppo_load_refuses_non_mappings(state: Any) -> None:
    pol = ppo()
    refused(pol, lambda: pol.load_state_dict(state), CheckpointError, "state")


def test_sac_load_refuses_a_bad_update_count() -> None:
    pol = trained("sac")
    bad = edited(pol.state_dict(), set_entry(("updates",), -1))
    refused(pol, lambda: pol.load_state_dict(bad), CheckpointError, "updates")


# ------------------------------------------------------------------------ still working


@pytest.mark.parametrize("discrete", [False, True])
def test_ppo_round_trip_still_works(discrete: bool) -> None:
    pol = ppo(discrete, seed=-3)
    obs = np.random.default_rng(1).standard_normal((N, OBS)).astype(np.float32)
    ids = np.arange(N, dtype=np.int64)
    step = pol.act(obs, ids)
    stats = pol.learn(rollout(discrete, dones=np.eye(T, N, dtype=np.float64)))  # 0/1 floats
    assert np.isfinite(list(stats.values())).all()
    twin = ppo(discrete, seed=7)
    twin.load_state_dict(pol.state_dict())
    assert_same_state(pol.state_dict(), twin.state_dict())
    assert np.array_equal(pol.act(obs, ids).actions, twin.act(obs, ids).actions)
    assert step.actions.shape[0] == N
    data = rollout(discrete)
    pol.learn(data)
    twin.learn(data)
    assert_same_state(pol.state_dict(), twin.state_dict())


@pytest.mark.parametrize("discrete", [False, True])
def test_sac_round_trip_still_works(discrete: bool) -> None:
    pol = sac(discrete)
    edge = np.ones((4, ACT), np.float32) * np.array([1.0, -1.0], np.float32)
    data = batch(discrete, terminated=np.array([True, False, True, False]))
    if not discrete:
        data = batch(discrete, actions=edge, terminated=np.array([1, 0, 1, 0], np.float32))
    pol.learn(data)
    twin = sac(discrete, seed=5)
    twin.load_state_dict(pol.state_dict())
    assert_same_state(pol.state_dict(), twin.state_dict())
    obs = np.zeros((2, OBS), np.float32)
    ids = np.array([0, 2])
    assert np.array_equal(pol.act(obs, ids).actions, twin.act(obs, ids).actions)
    pol.learn(data)
    twin.learn(data)
    assert_same_state(pol.state_dict(), twin.state_dict())
