"""The seeded goal variants of Meta-World MT10 / MT50, built once per (suite, seed) and kept on
disk.

``metaworld.MT10(seed=s)`` samples each task's 50 goal variants by resetting its env 50 times:
about 7 s for MT10 and over a minute for MT50 on a 2-core VM, paid by every run (twice: the
training and the evaluation pool use different seeds). The only thing that build draws is each
variant's goal vector (``rand_vec``); the rest of a ``Task`` record is metaworld's fixed task
table. So the goal vectors go to an ``.npz`` file (plain arrays, loaded without pickle) in the
cache directory, and later runs rebuild the records from them in milliseconds.

The rebuild relies on how metaworld 3.x composes a record; a file is written only after the
records rebuilt from it compared byte for byte equal to metaworld's own, and the file name
carries the metaworld version. A file that is unreadable, malformed or from another version is
ignored (the benchmark is built as before and the file rewritten); a cache directory that cannot
be written only costs the saving.

Cache directory: ``$DRATS_CACHE_DIR``, else ``$XDG_CACHE_HOME/drats``, else ``~/.cache/drats``;
``DRATS_CACHE_DIR=off`` turns the cache off (and the shipped files: every run then builds). The
goal files of the default run's seeds ship with drats (:data:`BUNDLED_DIR`), so a machine's first
default Meta-World run starts as fast as any later one.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from drats.domain.errors import ConfigError

_log = logging.getLogger(__name__)

#: Goal variants per task in stock Meta-World benchmarks.
NUM_VARIANTS = 50

#: Where the goal files shipped with drats live: those of the default run (seed 0), whose
#: training and evaluation pools use benchmark seeds 0 and 1,000,003, for MT10 and MT50 under
#: metaworld 3.1.1 (``tests/envs/test_metaworld_goals.py`` checks them against metaworld's build).
BUNDLED_DIR = Path(__file__).with_name("goal_sets")
BUNDLED_SEEDS = (0, 1_000_003)
BUNDLED_VERSION = "3.1.1"

#: (task names, env classes, per-task tuples of Task records)
Benchmark = tuple[tuple[str, ...], tuple[Any, ...], tuple[tuple[Any, ...], ...]]


def cache_dir() -> Path | None:
    """Where goal files live (None when ``DRATS_CACHE_DIR=off``)."""
    chosen = os.environ.get("DRATS_CACHE_DIR")
    if chosen:
        return None if chosen.lower() == "off" else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drats"


def _file_name(suite: str, seed: int) -> str:
    return f"metaworld-{metadata.version('metaworld')}-{suite}-seed{seed}.npz"


def _cache_file(suite: str, seed: int) -> Path | None:
    where = cache_dir()
    return None if where is None else where / _file_name(suite, seed)


def bundled_file(suite: str, seed: int) -> Path | None:
    """The goal file shipped with drats for ``suite`` and ``seed`` under the installed metaworld
    version, if there is one (the default run's seeds, see :data:`BUNDLED_SEEDS`)."""
    path = BUNDLED_DIR / _file_name(suite, seed)
    return path if path.is_file() else None


def _task_table(suite: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """metaworld's (env classes, constructor arguments, multi-task overrides) of ``suite``."""
    import metaworld
    import metaworld.env_dict as tables

    if suite == "mt10":
        return tables.MT10_V3, tables.MT10_V3_ARGS_KWARGS, metaworld._MT_OVERRIDE
    return tables.MT50_V3, tables.MT50_V3_ARGS_KWARGS, metaworld._MT_OVERRIDE


def _records(suite: str, goals: dict[str, np.ndarray]) -> Benchmark:
    """The benchmark whose variants have the goal vectors ``goals`` (name -> float[50, d]),
    composed as metaworld composes its records."""
    from metaworld.types import Task

    classes, arguments, override = _task_table(suite)
    names = tuple(goals)
    tasks = []
    for name in names:
        records = []
        for rand_vec in goals[name]:
            kwargs = dict(arguments[name]["kwargs"])
            del kwargs["task_id"]
            kwargs.update(rand_vec=rand_vec, env_cls=classes[name])
            kwargs.update(override)
            records.append(Task(env_name=name, data=pickle.dumps(kwargs)))
        tasks.append(tuple(records))
    return names, tuple(classes[name] for name in names), tuple(tasks)


def _build(suite: str, seed: int) -> Benchmark:
    """metaworld's own build (seconds: 50 resets per task)."""
    import metaworld

    maker = metaworld.MT10 if suite == "mt10" else metaworld.MT50
    bench = maker(seed=seed)
    names = tuple(bench.train_classes.keys())
    classes = tuple(bench.train_classes[n] for n in names)
    tasks = tuple(tuple(t for t in bench.train_tasks if t.env_name == n) for n in names)
    for name, variants in zip(names, tasks, strict=True):
        if len(variants) != NUM_VARIANTS:  # pragma: no cover - a metaworld change
            raise ConfigError(f"metaworld built {len(variants)} variants of {name!r}, not 50")
    return names, classes, tasks


def _read(path: Path, suite: str) -> Benchmark | None:
    """The benchmark rebuilt from a goal file, or None if the file is missing or not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            goals = {name: np.array(data[f"goals_{i}"]) for i, name in enumerate(names)}
        classes, _, _ = _task_table(suite)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    if list(names) != list(classes) or not all(
        g.ndim == 2 and len(g) == NUM_VARIANTS and g.dtype == np.float64 and np.isfinite(g).all()
        for g in goals.values()
    ):
        return None
    return _records(suite, goals)


def _write(path: Path, goals: dict[str, np.ndarray]) -> None:
    """Write the goal vectors (name -> float[50, d]) atomically; silently skip if the
    directory cannot be written."""
    arrays = {"names": np.array(list(goals))}
    arrays.update({f"goals_{i}": g for i, g in enumerate(goals.values())})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError:
        return


def goal_variants(suite: str, seed: int) -> Benchmark:
    """(task names, env classes, per-task Task records) of the ``suite`` benchmark seeded
    with ``seed``: from the cache directory when it holds this build, else built by metaworld
    (and cached when its records can be rebuilt exactly from the goal vectors)."""
    path = _cache_file(suite, seed)
    shipped = None if path is None else bundled_file(suite, seed)
    for source in (path, shipped):
        if source is not None and source.exists():
            cached = _read(source, suite)
            if cached is not None:
                return cached
    _log.info(
        "metaworld is building the %s goal variants of seed %d (%s)",
        suite.upper(),
        seed,
        "no cache" if path is None else f"once per machine and seed; kept in {path.parent}",
    )
    bench = _build(suite, seed)
    if path is not None:
        names, _, tasks = bench
        goals = {
            name: np.stack([pickle.loads(t.data)["rand_vec"] for t in variants])
            for name, variants in zip(names, tasks, strict=True)
        }
        if _records(suite, goals)[2] == tasks:  # exactly metaworld's records: safe to cache
            _write(path, goals)
    return bench


__all__ = [
    "BUNDLED_DIR",
    "BUNDLED_SEEDS",
    "BUNDLED_VERSION",
    "NUM_VARIANTS",
    "bundled_file",
    "cache_dir",
    "goal_variants",
]
