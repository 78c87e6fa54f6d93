"""The settings of a task set a user brings: ``--target`` as one value or one per task, the
targets a task set carries, the ``gap`` option, and the typed errors for bad ones (no env, no
torch: the sampler is built for given task targets)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from drats.application.config import TrainConfig
from drats.bootstrap import build_sampler
from drats.cli import main
from drats.domain.errors import ConfigError

GYM = "gym:CartPole-v1,Acrobot-v1"
#: CartPole-v1's and Acrobot-v1's reward_threshold: Acrobot's is no target the paper's gap takes
CARRIED = np.array([475.0, -100.0])


def targets_of(sampler: Any) -> list[float]:
    return np.asarray(sampler.state_dict()["base_targets"]).tolist()  # type: ignore[no-any-return]


@pytest.mark.parametrize("sampler", ["drats", "uniform", "hedge"])
def test_target_takes_one_value_or_one_per_task(sampler: str) -> None:
    one = TrainConfig(suite=GYM, sampler=sampler, sampler_options={"target": 300.0})
    assert targets_of(build_sampler(one, 2, task_targets=CARRIED)) == [300.0, 300.0]
    each = TrainConfig(suite=GYM, sampler=sampler, sampler_options={"target": [400.0, 50.0]})
    assert targets_of(build_sampler(each, 2, task_targets=CARRIED)) == [400.0, 50.0]


def test_a_task_set_carries_its_own_targets() -> None:
    config = TrainConfig(suite=GYM, sampler_options={"gap": "target"})
    assert targets_of(build_sampler(config, 2, task_targets=np.array([475.0, 80.0]))) == [
        475.0,
        80.0,
    ]


def test_the_gym_suite_takes_the_range_gap_and_the_presets_the_papers() -> None:
    state = build_sampler(TrainConfig(suite=GYM), 2, task_targets=CARRIED).state_dict()
    assert state["gap"] == "range"
    for suite in ("gridworld4", "pointmass"):
        state = build_sampler(TrainConfig(suite=suite), 4).state_dict()
        assert state.get("gap", "target") == "target"


def test_the_target_gap_without_a_usable_target_is_refused_naming_the_task() -> None:
    config = TrainConfig(suite=GYM, sampler_options={"gap": "target"})
    with pytest.raises(ConfigError, match=r"task 1: -100.*--target"):
        build_sampler(config, 2, task_targets=CARRIED)
    with pytest.raises(ConfigError, match=r"task 0: none"):
        build_sampler(config, 2, task_targets=np.array([math.nan, 5.0]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"target": [1.0, 2.0, 3.0]}, "target must be a scalar or have 2 entries"),
        ({"target": [1.0, -2.0]}, "target must be finite and > 0"),
        ({"target": [0.0]}, "target must be a scalar or have 2 entries"),
    ],
)
def test_a_per_task_target_of_the_wrong_length_or_sign_is_a_config_error(
    options: dict[str, Any], message: str
) -> None:
    config = TrainConfig(suite=GYM, sampler_options=options)
    with pytest.raises(ConfigError, match=message):
        build_sampler(config, 2, task_targets=CARRIED)


@pytest.mark.parametrize(
    "options",
    [
        {"target": math.nan},
        {"target": math.inf},
        {"target": [1.0, math.nan]},
        {"target": [1.0, -math.inf]},
        {"target": []},
        {"target": ["1"]},
        {"gap": "bogus"},
        {"gap": 1},
    ],
)
def test_non_finite_targets_and_unknown_gaps_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"(target|gap) must"):
        TrainConfig(suite=GYM, sampler_options=options)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "1,nan"], "target must be finite numbers"),
        (["--gap", "wide"], "gap must be target or range"),
    ],
)
def test_the_cli_refuses_them_too(args: list[str], message: str, capsys: Any) -> None:
    assert main(["train", "--suite", GYM, "--steps", "10", *args]) == 2
    assert message in capsys.readouterr().err
