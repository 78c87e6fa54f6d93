"""The registries are the one list of suites, samplers and learners: every entry resolves, the
configuration and the composition root read them, and a new entry needs no other edit."""

from __future__ import annotations

import inspect

import pytest

from drats.application import registry
from drats.application.config import TrainConfig
from drats.application.registry import (
    SAMPLERS,
    SUITES,
    SamplerSpec,
    SuiteSpec,
    load,
    suite_spec,
)
from drats.domain.errors import ConfigError


@pytest.mark.parametrize("name", list(SUITES))
def test_every_suite_entry_resolves_to_a_spec_with_a_pool_builder(name: str) -> None:
    spec = suite_spec(name + "CartPole-v1" if name.endswith(":") else name)
    assert isinstance(spec, SuiteSpec)
    assert spec.name == name
    build = load(spec.pools)
    assert list(inspect.signature(build).parameters) == ["config", "evaluation"]


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_every_sampler_entry_names_a_class_taking_num_tasks_and_seed(name: str) -> None:
    cls = load(SAMPLERS[name].adapter)
    params = inspect.signature(cls).parameters
    assert "num_tasks" in params
    assert "seed" in params
    for own in SAMPLERS[name].aliases.values():
        assert own in params


def test_unknown_names_are_config_errors_listing_the_choices() -> None:
    with pytest.raises(ConfigError, match="gridworld4, pointmass, mt10, mt50 or gym:"):
        suite_spec("atari")
    with pytest.raises(ConfigError, match="drats, uniform, hedge, lp, smt"):
        TrainConfig(sampler="greedy")


def test_a_new_sampler_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering a sampler makes TrainConfig accept it and the composition root build it."""
    from drats.bootstrap import build_sampler

    entry = SamplerSpec("drats.adapters.samplers.uniform:UniformSampler", "a test alias")
    monkeypatch.setitem(registry.SAMPLERS, "mine", entry)
    config = TrainConfig(sampler="mine")
    sampler = build_sampler(config, 4)
    assert type(sampler).__name__ == "UniformSampler"


def test_a_new_suite_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A suite module elsewhere (here: the GridWorld one under another name) is picked up by
    TrainConfig's defaults and by build_pool through its registry entry alone."""
    from drats.bootstrap import build_pool

    monkeypatch.setitem(registry.SUITES, "grid-copy", "drats.suites.gridworld4:SUITE")
    config = TrainConfig(suite="grid-copy")
    assert config.resolved("rollout_steps") == 64
    pool = build_pool(config)
    assert pool.num_tasks == 4
    pool.close()
