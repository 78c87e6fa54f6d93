"""``drats report``: every statistic against an independent computation (scipy, hand-written
loops, brute-force counts and, where it installs, rliable), and the reading, grouping and
treatments of odd run directories (written by hand here, no training)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drats.application import statistics as st
from drats.application.config import TrainConfig
from drats.application.report import steps_to_success
from drats.application.study_report import ReportSettings, build_report, write_report
from drats.application.study_runs import find_runs, group_runs, read_run, success_scores
from drats.domain.errors import ConfigError, InvalidInputError

scipy_stats = pytest.importorskip("scipy.stats")


def scores(seed: int, runs: int, tasks: int, discrete: bool = False) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    x = rng.beta(2.0, 1.5, size=(runs, tasks))
    return np.round(x, 1) if discrete else x


# ------------------------------------------------------------------------------ statistics


@pytest.mark.parametrize(("runs", "tasks"), [(1, 1), (3, 1), (5, 4), (7, 3), (10, 10), (2, 9)])
def test_iqm_is_scipy_trim_mean(runs: int, tasks: int) -> None:
    for seed in range(3):
        x = scores(seed, runs, tasks, discrete=seed == 2)
        expected = scipy_stats.trim_mean(x, 0.25, axis=None)
        assert float(st.interquartile_mean(x)) == pytest.approx(expected, abs=1e-12)


def test_iqm_of_a_stack_is_the_iqm_of_each_matrix() -> None:
    stack = np.stack([scores(s, 6, 5) for s in range(8)])
    each = [scipy_stats.trim_mean(m, 0.25, axis=None) for m in stack]
    np.testing.assert_allclose(st.interquartile_mean(stack), each, atol=1e-12)


def test_missing_entries_are_left_out() -> None:
    x = scores(1, 6, 5)
    x[0, 1] = x[3, 4] = x[5, :] = np.nan
    present = x[~np.isnan(x)]
    assert float(st.interquartile_mean(x)) == pytest.approx(
        scipy_stats.trim_mean(present, 0.25), abs=1e-12
    )
    row_means = [np.mean(r[~np.isnan(r)]) for r in x[:5]]
    assert float(st.mean_of_run_means(x)) == pytest.approx(np.mean(row_means), abs=1e-12)
    worst = st.worst_task(x)
    assert np.isnan(worst[5])
    np.testing.assert_allclose(worst[:5], [np.min(r[~np.isnan(r)]) for r in x[:5]])
    assert np.isnan(st.interquartile_mean(np.full((2, 2), np.nan)))


def test_mean_of_run_means_on_a_full_matrix_is_the_mean() -> None:
    x = scores(4, 7, 3)
    assert float(st.mean_of_run_means(x)) == pytest.approx(x.mean(), abs=1e-12)


def test_bootstrap_ci_matches_a_hand_written_loop() -> None:
    x = scores(5, 6, 4, discrete=True)
    reps = 500
    replicates = st.bootstrap(x, st.interquartile_mean, reps, np.random.default_rng(7))
    idx = np.random.default_rng(7).integers(0, 6, size=(reps, 6, 4))
    expected = []
    for r in range(reps):
        sample = np.array([[x[idx[r, i, j], j] for j in range(4)] for i in range(6)])
        expected.append(scipy_stats.trim_mean(sample, 0.25, axis=None))
    np.testing.assert_allclose(replicates, expected, atol=1e-12)
    np.testing.assert_allclose(
        st.percentile_interval(replicates), np.percentile(expected, [2.5, 97.5]), atol=1e-12
    )


def test_bootstrap_blocks_give_the_same_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    x = scores(6, 5, 3)
    whole = st.bootstrap(x, st.mean_of_run_means, 301, np.random.default_rng(3))
    monkeypatch.setattr(st, "_BLOCK", 40)  # blocks of 2 resamples
    np.testing.assert_array_equal(
        st.bootstrap(x, st.mean_of_run_means, 301, np.random.default_rng(3)), whole
    )


def test_a_one_column_matrix_resamples_whole_runs() -> None:
    x = scores(8, 9, 3)
    worst = st.worst_task(x)[:, None]
    replicates = st.bootstrap(worst, st.mean_of_run_means, 200, np.random.default_rng(1))
    idx = np.random.default_rng(1).integers(0, 9, size=(200, 9, 1))
    np.testing.assert_allclose(replicates, [worst[i[:, 0], 0].mean() for i in idx], atol=1e-12)


def brute_force_improvement(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
    per_task = []
    for t in range(x.shape[1]):
        wins = pairs = 0.0
        for a in x[:, t]:
            for b in y[:, t]:
                if np.isnan(a) or np.isnan(b):
                    continue
                pairs += 1
                wins += 1.0 if a > b else 0.5 if a == b else 0.0
        if pairs:
            per_task.append(wins / pairs)
    return float(np.mean(per_task)) if per_task else math.nan


@pytest.mark.parametrize(("nx", "ny", "tasks"), [(5, 5, 4), (3, 7, 2), (1, 1, 1), (6, 4, 10)])
def test_probability_of_improvement_is_the_pairwise_count(nx: int, ny: int, tasks: int) -> None:
    x, y = scores(nx, nx, tasks, discrete=True), scores(ny + 50, ny, tasks, discrete=True)
    assert float(st.probability_of_improvement(x, y)) == pytest.approx(
        brute_force_improvement(x, y), abs=1e-12
    )
    assert float(st.probability_of_improvement(x, x)) == pytest.approx(0.5)
    x[0, 0] = y[-1, tasks - 1] = np.nan
    assert float(st.probability_of_improvement(x, y)) == pytest.approx(
        brute_force_improvement(x, y), abs=1e-12, nan_ok=True
    )


def test_improvement_bootstrap_resamples_both_groups_independently() -> None:
    x, y = scores(1, 4, 3, discrete=True), scores(2, 5, 3, discrete=True)
    replicates = st.bootstrap_improvement(
        x, y, 100, np.random.default_rng(0), np.random.default_rng([0, 1])
    )
    ix = np.random.default_rng(0).integers(0, 4, size=(100, 4, 3))
    iy = np.random.default_rng([0, 1]).integers(0, 5, size=(100, 5, 3))
    cols = np.arange(3)
    expected = [
        brute_force_improvement(x[a, cols], y[b, cols]) for a, b in zip(ix, iy, strict=True)
    ]
    np.testing.assert_allclose(replicates, expected, atol=1e-12)


def hand_rows(means: list[list[float | None]], every: int = 1000) -> list[dict[str, Any]]:
    return [
        {"env_steps": every * (i + 1), "eval_success": m, "q": [0.5, 0.5]}
        for i, m in enumerate(means)
    ]


def test_steps_to_threshold_on_hand_made_rows() -> None:
    rows = hand_rows([[0.5, 0.7], [0.9, 0.8], [1.0, 0.8], [0.9, 1.0], [0.2, 0.2]])
    matrix = np.array([success_scores(r, 2) for r in rows])
    steps = [r["env_steps"] for r in rows]
    assert st.steps_to_threshold(steps, st.run_means(matrix), 0.9) == 3000
    assert st.steps_to_threshold(steps, st.run_means(matrix), 0.85) == 2000
    assert st.steps_to_threshold(steps, st.run_means(matrix), 0.96) == math.inf
    assert st.steps_to_threshold([], [], 0.5) == math.inf
    # a task without a reported success leaves the mean to the others
    rows = hand_rows([[None, 0.5], [0.95, None]])
    matrix = np.array([success_scores(r, 2) for r in rows])
    assert st.steps_to_threshold([1000, 2000], st.run_means(matrix), 0.9) == 2000
    # today's steps_to_success reads the logged mean the same way
    rows = [{"env_steps": 1000, "eval_mean_success": 0.4}, {"env_steps": 2000}]
    rows.append({"env_steps": 3000, "eval_mean_success": 0.9})
    assert steps_to_success(rows) == 3000


def test_median_and_interval_keep_never() -> None:
    assert st.median_of_runs(np.array([[1.0], [math.inf], [2.0]])) == 2.0
    assert st.median_of_runs(np.array([[1.0], [math.inf], [math.inf]])) == math.inf
    assert st.median_of_runs(np.array([[1.0], [math.inf]])) == math.inf
    lo, hi = st.percentile_interval(np.array([1.0, 2.0, 3.0, math.inf, math.inf]), 0.5)
    assert (lo, hi) == (2.0, math.inf)
    np.testing.assert_allclose(st.percentile_interval(np.arange(101.0)), [2.5, 97.5])


def test_performance_profile_is_the_fraction_above_tau() -> None:
    x = scores(3, 5, 4, discrete=True)
    x[2, 2] = np.nan
    taus = np.linspace(0, 1, 11)
    present = x[~np.isnan(x)]
    expected = [np.mean(present > t) for t in taus]
    np.testing.assert_allclose(st.performance_profile(x, taus), expected)
    stack = np.stack([x, x[::-1]])
    assert st.performance_profile(stack, taus).shape == (2, 11)


def test_statistics_refuse_a_vector() -> None:
    with pytest.raises(InvalidInputError, match="runs axis"):
        st.interquartile_mean([1.0, 2.0])
    with pytest.raises(InvalidInputError, match=">= 1 run"):
        st.bootstrap(np.zeros((0, 3)), st.interquartile_mean, 10, np.random.default_rng(0))


def rliable_or_skip() -> tuple[Any, Any]:
    """rliable's library and metrics modules, or a skip saying why they do not import (rliable
    needs arch, which does not import with every pandas)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from rliable import library, metrics
    except Exception as err:  # any failure to import means "not here"
        pytest.skip(f"rliable does not import here ({type(err).__name__}: {err})")
    return library, metrics


def test_against_rliable() -> None:
    """Point estimates equal rliable's; the stratified bootstrap CIs agree within Monte-Carlo
    tolerance (rliable draws from numpy's global RandomState, drats from a Generator)."""
    library, metrics = rliable_or_skip()
    x, y = scores(11, 10, 5), scores(12, 8, 5)
    assert float(st.interquartile_mean(x)) == pytest.approx(metrics.aggregate_iqm(x), abs=1e-12)
    assert float(st.probability_of_improvement(x, y)) == pytest.approx(
        metrics.probability_of_improvement(x, y), abs=1e-12
    )
    reps, state = 4000, np.random.get_state()  # noqa: NPY002 (rliable's global RNG)
    try:
        np.random.seed(0)  # noqa: NPY002
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, aggregate = library.get_interval_estimates(
                {"x": x},
                lambda s: np.array([metrics.aggregate_iqm(s), metrics.aggregate_mean(s)]),
                reps=reps,
            )
            _, improvement = library.get_interval_estimates(
                {"x,y": (x, y)}, metrics.probability_of_improvement, reps=reps
            )
    finally:
        np.random.set_state(state)  # noqa: NPY002
    rng = np.random.default_rng
    iqm = st.percentile_interval(st.bootstrap(x, st.interquartile_mean, reps, rng(1)))
    mean = st.percentile_interval(st.bootstrap(x, st.mean_of_run_means, reps, rng(1)))
    poi = st.percentile_interval(st.bootstrap_improvement(x, y, reps, rng(1), rng(2)))
    np.testing.assert_allclose(iqm, aggregate["x"][:, 0], atol=0.015)
    np.testing.assert_allclose(mean, aggregate["x"][:, 1], atol=0.015)
    np.testing.assert_allclose(poi, np.ravel(improvement["x,y"]), atol=0.02)


# ------------------------------------------------------------------------------ runs and groups


def write_run(
    path: Path,
    finals: list[list[float | None]],
    *,
    sampler: str = "drats",
    seed: int = 0,
    steps: int = 3000,
    every: int = 1000,
    last: int | None = None,
    **options: Any,
) -> Path:
    """A run directory by hand: config.json of a real TrainConfig and a metrics row every 500
    env steps up to ``last`` (default ``steps``), with evaluations every ``every`` steps whose
    successes are ``finals`` in turn."""
    path.mkdir(parents=True)
    config = TrainConfig(sampler=sampler, seed=seed, steps=steps, sampler_options=options)
    (path / "config.json").write_text(config.to_json())
    rows, evals = [], iter(finals)
    k = len(finals[0])
    for i, env_steps in enumerate(range(500, (last or steps) + 1, 500), start=1):
        row: dict[str, Any] = {"iteration": i, "env_steps": env_steps, "q": [1 / k] * k}
        if env_steps % every == 0:
            row["eval_success"] = next(evals)
        rows.append(row)
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def three_evals(final: list[float | None]) -> list[list[float | None]]:
    return [[0.0] * len(final), [0.5] * len(final), final]


SETTINGS = ReportSettings(reps=300)


def report_of(*dirs: Path, settings: ReportSettings = SETTINGS) -> dict[str, Any]:
    return build_report(group_runs([read_run(p) for p in find_runs(dirs)]), settings)


def test_a_sweep_is_grouped_by_directory_and_compared_to_uniform(tmp_path: Path) -> None:
    drats = [[1.0, 0.9, 1.0, 0.8], [1.0, 1.0, 0.9, 1.0], [0.7, 1.0, 1.0, 0.9]]
    uniform = [[0.6, 0.9, 1.0, 0.5], [1.0, 0.8, 0.2, 0.7]]
    for s, final in enumerate(drats):
        write_run(tmp_path / "sweep" / "drats" / f"seed{s}", three_evals(final), seed=s)
    for s, final in enumerate(uniform):
        path = tmp_path / "sweep" / "uniform" / f"seed{s}"
        write_run(path, three_evals(final), sampler="uniform", seed=s)
    report = report_of(tmp_path / "sweep")
    assert report["baseline"] == "uniform"
    a, b = report["groups"]
    assert (a["name"], a["runs"], a["seeds"], a["complete"]) == ("drats", 3, [0, 1, 2], 3)
    assert (b["name"], b["runs"], b["probability_of_improvement"]) == ("uniform", 2, None)
    x = np.array(drats)
    assert a["final_mean_success"]["mean"] == pytest.approx(x.mean())
    assert a["final_mean_success"]["iqm"] == pytest.approx(scipy_stats.trim_mean(x, 0.25, None))
    assert a["final_worst_task_success"]["mean"] == pytest.approx(x.min(axis=1).mean())
    replicates = st.bootstrap(x, st.mean_of_run_means, 300, np.random.default_rng(0))
    assert a["final_mean_success"]["ci"] == pytest.approx(st.percentile_interval(replicates))
    assert a["final_mean_success"]["ci_of"] == "mean"
    poi = a["probability_of_improvement"]
    assert poi["value"] == pytest.approx(brute_force_improvement(x, np.array(uniform)))
    assert poi["over"] == "uniform"
    assert poi["ci"][0] <= poi["value"] <= poi["ci"][1]
    # the first evaluation at mean >= 0.9: drats runs at 3000 (all three), uniform never
    assert a["steps_to_threshold"] == {
        "median": 3000, "ci": [3000, 3000], "ci_of": "median", "reached": 3, "of": 3,
    }  # fmt: skip
    assert b["steps_to_threshold"]["median"] is None
    assert b["steps_to_threshold"]["reached"] == 0
    assert a["curves"]["steps"] == [1000, 2000, 3000]
    assert a["curves"]["mean_success_iqm"][1] == pytest.approx(0.5)
    assert a["final_task_success"] == pytest.approx(x.mean(axis=0).tolist())


def test_runs_outside_a_sweep_are_grouped_by_config(tmp_path: Path) -> None:
    final = three_evals([1.0, 1.0])
    write_run(tmp_path / "a", final, seed=0)
    write_run(tmp_path / "b", final, seed=1)
    write_run(tmp_path / "c", final, seed=0, eta=8.0)
    write_run(tmp_path / "d", final, seed=0, sampler="uniform")
    groups = group_runs([read_run(p) for p in find_runs([tmp_path])])
    assert [(g.name, len(g.runs)) for g in groups] == [
        ("drats", 2), ("drats-eta=8", 1), ("uniform", 1)
    ]  # fmt: skip
    assert all(g.path is None for g in groups)


def test_a_single_run_directory_gives_degenerate_intervals(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", three_evals([1.0, 0.5, 0.0, 1.0]))
    report = report_of(run, settings=ReportSettings(reps=50, baseline=None))
    (group,) = report["groups"]
    assert group["name"] == "drats"
    assert group["final_mean_success"]["ci"] == [0.625, 0.625]
    assert any("single run" in n for n in group["notes"])
    assert report["baseline"] is None


def test_incomplete_and_unevaluated_runs(tmp_path: Path) -> None:
    group = tmp_path / "drats"
    write_run(group / "seed0", three_evals([1.0, 1.0]), seed=0)
    write_run(group / "seed1", three_evals([1.0, 1.0])[:2], seed=1, last=2000)
    empty = write_run(group / "seed2", three_evals([1.0, 1.0]), seed=2)
    (empty / "metrics.jsonl").write_text("")
    missing = write_run(group / "seed3", three_evals([1.0, 1.0]), seed=3)
    (missing / "metrics.jsonl").unlink()
    (entry,) = report_of(group)["groups"]
    assert (entry["runs"], entry["complete"], entry["incomplete"], entry["evaluated"]) == (
        4,
        1,
        3,
        2,
    )
    assert [r["complete"] for r in entry["run_dirs"]] == [True, False, False, False]
    assert [r["evaluations"] for r in entry["run_dirs"]] == [3, 2, 0, 0]
    # the run in progress counts with its last evaluation (0.5 at 2000 env steps)
    assert entry["final_mean_success"]["mean"] == pytest.approx(0.75)
    notes = " ".join(entry["notes"])
    assert "3 of 4 runs are incomplete" in notes
    assert "2 runs have no evaluation yet" in notes
    # the curve at 3000 env steps has only the complete run
    assert entry["curves"]["runs"] == [2, 2, 1]


def test_different_schedules_are_aligned_by_carrying_values_forward(tmp_path: Path) -> None:
    write_run(tmp_path / "g" / "seed0", [[0.0], [0.2], [0.4], [0.6]], steps=4000, every=1000)
    write_run(tmp_path / "g" / "seed1", [[0.1], [0.3]], steps=4000, every=1500)
    (entry,) = report_of(tmp_path / "g")["groups"]
    curves = entry["curves"]
    assert curves["steps"] == [1000, 1500, 2000, 3000, 4000]
    assert curves["runs"] == [1, 2, 2, 2, 2]
    # at 2000: seed0's own 0.2 and seed1's 0.1 carried from 1500; the IQM of two is the mean
    assert curves["mean_success_iqm"][2] == pytest.approx(0.15)
    assert curves["mean_success_iqm"][4] == pytest.approx(0.45)
    assert "carried forward" in curves["aligned"]
    assert any("different env steps" in n for n in entry["notes"])


def test_missing_scores_and_task_counts(tmp_path: Path) -> None:
    write_run(tmp_path / "g" / "seed0", three_evals([1.0, None, 0.0]))
    write_run(tmp_path / "g" / "seed1", three_evals([0.5, 0.5]), seed=1)
    (entry,) = report_of(tmp_path / "g")["groups"]
    notes = " ".join(entry["notes"])
    assert "different numbers of tasks (2, 3)" in notes
    assert "2 final scores are missing" in notes
    assert entry["final_mean_success"]["mean"] == pytest.approx(0.5)
    assert entry["final_worst_task_success"]["mean"] == pytest.approx(0.25)
    assert entry["final_task_success"] == [0.75, 0.5, 0.0]


def test_runs_without_any_score_give_no_statistic_and_no_error(tmp_path: Path) -> None:
    write_run(tmp_path / "drats" / "seed0", three_evals([None, None]))
    write_run(tmp_path / "uniform" / "seed0", three_evals([1.0, 0.0]), sampler="uniform")
    empty = write_run(tmp_path / "lp" / "seed0", three_evals([1.0]), sampler="lp")
    (empty / "metrics.jsonl").write_text("")
    report = report_of(tmp_path)
    drats, lp, _ = report["groups"]
    assert drats["final_mean_success"] == {
        "mean": None, "iqm": None, "ci": [None, None], "ci_of": "mean", "iqm_ci": [None, None]
    }  # fmt: skip
    assert drats["final_worst_task_success"] is None
    assert drats["probability_of_improvement"]["value"] is None
    assert lp["final_mean_success"] is None
    assert "no run has an evaluation" in " ".join(lp["notes"])
    assert "| lp " in write_report([tmp_path], tmp_path / "out", ReportSettings(reps=10))[1]


def test_an_absent_baseline_names_the_groups(tmp_path: Path) -> None:
    write_run(tmp_path / "run", three_evals([1.0]))
    with pytest.raises(ConfigError, match="'uniform' is not one of the groups: drats"):
        report_of(tmp_path, settings=ReportSettings(reps=10, baseline="uniform"))


def test_bad_inputs_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        find_runs([tmp_path / "nowhere"])
    with pytest.raises(ConfigError, match="holds no drats run"):
        find_runs([tmp_path])
    run = write_run(tmp_path / "run", three_evals([1.0]))
    (run / "metrics.jsonl").write_bytes(b'{"env_steps": 1}\n\xff\xfe\n')
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_run(run)
    (run / "metrics.jsonl").write_text('{"env_steps": 1, "eval_success": [1, "x"]}\n')
    with pytest.raises(InvalidInputError, match=r"row 1 .*eval_success"):
        read_run(run)
    (run / "metrics.jsonl").write_text(
        '{"env_steps": 1, "q": [1]}\n{"env_steps": 2, "q": [1, 0]}\n'
    )
    with pytest.raises(InvalidInputError, match=r"row 2 .*2 tasks, earlier rows 1"):
        read_run(run)
    (run / "metrics.jsonl").write_text('{"env_steps": "soon"}\n')
    with pytest.raises(InvalidInputError, match="env_steps must be a number"):
        read_run(run)
    (run / "config.json").write_bytes(b"\xff")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_run(run)
    (run / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="JSON object"):
        read_run(run)
    (run / "config.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        read_run(run)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"threshold": 1.5}, "threshold must be in"),
        ({"reps": 0}, "reps must be an integer >= 1"),
        ({"reps": 10**6}, "reps must be at most"),
        ({"level": 1.0}, "level must lie strictly between"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReportSettings(**settings)


def test_without_matplotlib_the_figures_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drats.application import report_plots

    monkeypatch.setattr(report_plots, "matplotlib_available", lambda: False)
    run = write_run(tmp_path / "run", three_evals([1.0, 0.0]))
    folder, text = write_report([run], None, ReportSettings(reps=20))
    assert folder == run / "report"
    report = json.loads((folder / "report.json").read_text())
    assert report["figures"] == []
    assert "matplotlib is not installed" in report["figures_skipped"]
    assert "Figures skipped: matplotlib is not installed" in (folder / "report.md").read_text()
    assert "figures skipped" in text
    assert not list(folder.glob("*.png"))
