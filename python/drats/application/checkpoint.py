"""Crash-safe checkpoints: one ``.npz`` per checkpoint, written to a temporary file, flushed to
disk and renamed into place (a reader never sees half a file), read back with
``allow_pickle=False`` (nothing in a checkpoint can run code).

A checkpoint holds named parts (``policy``, ``sampler``, ``pool``, ``trainer``...), each a flat
state dict of numpy arrays, scalars and strings; keys are stored as ``"<part>.<key>"``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from drats.domain.errors import CheckpointError, ConfigError

_NAME = re.compile(r"^checkpoint-(\d{12})\.npz$")
FORMAT = 1


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not every platform opens directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def hold_run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run directory's lock (``run_dir/.lock``) for the duration of the block;
    ConfigError if another process holds it (two trainers in one directory would interleave
    their checkpoints and logs). Where file locks are unavailable, nothing is held."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with (run_dir / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(
                f"{run_dir} is in use by another drats process (its .lock is held); wait for "
                "it to end or stop it"
            ) from None
        yield


class CheckpointStore:
    """The checkpoints of one run directory: ``DIR/checkpoints/checkpoint-<steps>.npz``.

    Args:
        run_dir: the run directory.
        keep: how many of the newest checkpoints to keep (older ones are deleted after a new
            one is safely in place).
    """

    def __init__(self, run_dir: str | os.PathLike[str], *, keep: int = 2) -> None:
        self.dir = Path(run_dir) / "checkpoints"
        self.keep = keep

    def paths(self) -> list[Path]:
        """Existing checkpoints, oldest first."""
        if not self.dir.is_dir():
            return []
        found = [p for p in self.dir.iterdir() if _NAME.match(p.name)]
        return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))  # type: ignore[union-attr]

    def latest(self) -> Path | None:
        paths = self.paths()
        return paths[-1] if paths else None

    def save(
        self, steps: int, meta: Mapping[str, Any], parts: Mapping[str, Mapping[str, Any]]
    ) -> Path:
        """Write checkpoint ``steps`` atomically; return its path."""
        self.dir.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"meta": json.dumps({"format": FORMAT, **meta})}
        for part, state in parts.items():
            for key, value in state.items():
                arrays[f"{part}.{key}"] = value
        path = self.dir / f"checkpoint-{steps:012d}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".checkpoint-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self.dir)
        for old in self.paths()[: -self.keep]:
            old.unlink(missing_ok=True)
        return path


def read_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(meta, parts)`` of a checkpoint file; CheckpointError names what is wrong with it."""
    path = Path(path)
    if path.is_dir():  # a run directory or its checkpoints folder: take the newest
        latest = CheckpointStore(path).latest() or CheckpointStore(path.parent).latest()
        if latest is None:
            raise CheckpointError(f"{path} holds no checkpoint")
        path = latest
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # a bare .npy array
            raise CheckpointError(f"checkpoint {path} is a single array, not a drats checkpoint")
        with data:
            flat = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except MemoryError:  # an array header that declares more than the file could hold
        raise CheckpointError(f"checkpoint {path} declares arrays too large to load") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as err:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or not a drats checkpoint: {err}"
        ) from None
    if "meta" not in flat:
        raise CheckpointError(f"checkpoint {path} has no meta entry (not a drats checkpoint)")
    try:
        meta = json.loads(str(flat.pop("meta")))
    except (json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(f"checkpoint {path} has a corrupt meta entry: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta!r}, expected {FORMAT}")
    parts: dict[str, dict[str, Any]] = {}
    for key, value in flat.items():
        part, _, name = key.partition(".")
        parts.setdefault(part, {})[name] = (
            value[()] if value.ndim == 0 and value.dtype.kind in "biufU" else value
        )
    meta["path"] = str(path)
    return meta, parts


def require(
    meta: Mapping[str, Any],
    parts: Mapping[str, Any],
    *,
    meta_keys: tuple[str, ...] = (),
    part_names: tuple[str, ...] = (),
) -> None:
    """Raise CheckpointError unless a checkpoint read by :func:`read_checkpoint` has every
    entry of ``meta_keys`` in its meta entry and every part of ``part_names``."""
    missing_meta = sorted(set(meta_keys) - set(meta))
    if missing_meta:
        raise CheckpointError(f"checkpoint {meta['path']} has no {missing_meta} in its meta entry")
    missing = sorted(set(part_names) - set(parts))
    if missing:
        raise CheckpointError(f"checkpoint {meta['path']} lacks part(s) {missing}")
