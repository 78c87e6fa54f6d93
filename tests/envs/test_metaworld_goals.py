"""The on-disk cache of Meta-World goal variants: what it rebuilds is byte for byte what
metaworld builds, later builds read it instead of resetting envs, and a bad, foreign or
unwritable cache only costs the saving."""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("metaworld")

from drats.adapters.envs import metaworld_goals
from drats.adapters.envs.metaworld_goals import cache_dir, goal_variants


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRATS_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def built() -> metaworld_goals.Benchmark:
    return metaworld_goals._build("mt10", 3)


def _no_build(suite: str, seed: int) -> None:
    raise AssertionError("metaworld was asked to build the benchmark")


def test_a_cached_benchmark_is_metaworlds_own(
    cache: Path,
    built: metaworld_goals.Benchmark,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(metaworld_goals, "_build", lambda suite, seed: built)
    caplog.set_level(logging.INFO, logger="drats")
    first = goal_variants("mt10", 3)
    assert "building the MT10 goal variants of seed 3" in caplog.text  # said once, when built
    files = list(cache.glob("metaworld-*-mt10-seed3.npz"))
    assert len(files) == 1
    monkeypatch.setattr(metaworld_goals, "_build", _no_build)
    caplog.clear()
    second = goal_variants("mt10", 3)
    assert not caplog.text
    assert first == built
    assert second[0] == built[0]
    assert second[1] == built[1]
    assert second[2] == built[2]  # every Task record, byte for byte
    with np.load(files[0], allow_pickle=False) as data:  # plain arrays, no pickle
        assert data["goals_0"].shape[0] == 50
        assert data["goals_0"].dtype == np.float64


def test_a_seed_has_its_own_file(cache: Path, built: metaworld_goals.Benchmark) -> None:
    goal_variants("mt10", 3)
    other = goal_variants("mt10", 4)
    assert other[2] != built[2]
    assert len(list(cache.glob("*.npz"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "names", "shape", "nan"])
def test_a_bad_file_is_rebuilt_and_rewritten(
    cache: Path, built: metaworld_goals.Benchmark, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    monkeypatch.setattr(metaworld_goals, "_build", lambda suite, seed: built)
    goal_variants("mt10", 3)
    (path,) = cache.glob("*.npz")
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    if damage == "garbage":
        path.write_bytes(b"not an npz file")
    else:
        if damage == "names":
            arrays["names"] = arrays["names"][::-1]
        elif damage == "shape":
            arrays["goals_2"] = arrays["goals_2"][:10]
        else:
            arrays["goals_5"][0, 0] = np.nan
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    assert goal_variants("mt10", 3) == built
    monkeypatch.setattr(metaworld_goals, "_build", _no_build)
    assert goal_variants("mt10", 3) == built  # the rewritten file serves again


def test_off_and_unwritable_cache_dirs_still_build(
    tmp_path: Path, built: metaworld_goals.Benchmark, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metaworld_goals, "_build", lambda suite, seed: built)
    monkeypatch.setenv("DRATS_CACHE_DIR", "off")
    assert cache_dir() is None
    assert goal_variants("mt10", 3) == built
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    monkeypatch.setenv("DRATS_CACHE_DIR", str(blocker / "cache"))
    assert goal_variants("mt10", 3) == built
    assert not list(tmp_path.rglob("*.npz"))


def test_default_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DRATS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "drats"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "drats"


def test_the_default_runs_goal_sets_ship_with_drats(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drats.adapters.envs.metaworld_goals import BUNDLED_SEEDS, BUNDLED_VERSION, bundled_file

    if metadata.version("metaworld") != BUNDLED_VERSION:
        pytest.skip(f"goal files ship for metaworld {BUNDLED_VERSION} only")
    monkeypatch.setattr(metaworld_goals, "_build", _no_build)
    for suite in ("mt10", "mt50"):
        for seed in BUNDLED_SEEDS:
            assert bundled_file(suite, seed) is not None
            assert len(goal_variants(suite, seed)[2]) == {"mt10": 10, "mt50": 50}[suite]
    assert not list(cache.glob("*.npz"))  # served from the package, nothing written
    monkeypatch.setenv("DRATS_CACHE_DIR", "off")
    with pytest.raises(AssertionError, match="asked to build"):
        goal_variants("mt10", 0)  # off means off: metaworld builds


@pytest.mark.parametrize("suite", ["mt10", pytest.param("mt50", marks=pytest.mark.slow)])
@pytest.mark.parametrize("seed", [0, 1_000_003])
def test_shipped_goal_sets_are_metaworlds_own(suite: str, seed: int) -> None:
    from drats.adapters.envs.metaworld_goals import _read, bundled_file

    path = bundled_file(suite, seed)
    if path is None:
        pytest.skip("no shipped goal files for this metaworld version")
    assert _read(path, suite) == metaworld_goals._build(suite, seed)  # byte for byte
