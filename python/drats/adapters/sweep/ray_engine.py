"""The Ray sweep engine: each run is a Ray task that runs ``drats train --resume <run dir>`` in
a process of its own on whichever node Ray picks (``pip install 'drats[ray]'``).

With no address, a local Ray starts with ``workers`` CPUs; with one, the driver joins that
cluster. A task finds out whether it sees the driver's sweep directory (a shared file system)
by a token the driver writes there; if it does not, the run directory travels: the driver sends
what it has (config and checkpoints, so an interrupted run resumes) and the task sends the
finished directory back, which the driver unpacks into its ``--out``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any

from drats.adapters.sweep.local import log_tail, thread_env, train_command
from drats.application.sweep import LOG, Engine, Job
from drats.domain.checks import as_positive_int
from drats.domain.errors import ConfigError

TOKEN = ".sweep-token"


def pack(run_dir: Path) -> bytes:
    """The run directory as a gzipped tar (its files relative to it)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(run_dir.rglob("*")):
            if path.is_file() and path.name != ".lock":
                tar.add(path, arcname=str(path.relative_to(run_dir)))
    return buf.getvalue()


def unpack(data: bytes, run_dir: Path) -> None:
    """Make ``run_dir`` hold exactly :func:`pack`'s archive (plain files only, nothing outside
    it): extracted beside it first, then swapped in."""
    incoming = run_dir.with_name(run_dir.name + ".incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(incoming, filter="data")
    shutil.rmtree(run_dir, ignore_errors=True)
    incoming.rename(run_dir)


def run_task(
    run_dir: str, token: str, threads: int, payload: bytes
) -> tuple[int, str, bytes | None]:
    """The body of one Ray task: run (or resume) the run; return the exit code, the log tail
    and, when the driver's directory is not visible here, the finished run directory (the task
    then runs in a scratch copy of ``payload``, the driver's run directory as it was)."""
    shared = Path(run_dir)
    token_file = shared.parent.parent / TOKEN
    here = bool(token) and token_file.is_file() and token_file.read_text() == token
    scratch = None if here else tempfile.TemporaryDirectory(prefix="drats-sweep-")
    target = shared if scratch is None else Path(scratch.name) / "run"
    if scratch is not None:
        unpack(payload, target)
    try:
        with (target / LOG).open("ab") as log:
            code = subprocess.call(
                train_command(target), stdout=log, stderr=subprocess.STDOUT, env=thread_env(threads)
            )
        tail = log_tail(target / LOG)
        return code, tail, None if scratch is None else pack(target)
    finally:
        if scratch is not None:
            scratch.cleanup()


class RayEngine(Engine):
    """Runs as Ray tasks.

    Args:
        workers: runs in flight at once; with no ``address`` also the CPUs of the local Ray.
        threads: threads (and Ray CPUs) of each run.
        address: a Ray cluster to join (``ray://...`` or ``host:port``); None starts a local one.
        transfer: always send run directories through Ray, as on a cluster without a shared
            file system (the tests use it; normally the token decides).
    """

    def __init__(
        self, workers: int, threads: int = 1, *, address: str | None = None, transfer: bool = False
    ) -> None:
        try:
            import ray
        except ImportError as err:
            raise ConfigError(
                f"--engine ray needs the ray package ({err.name}); pip install 'drats[ray]'"
            ) from None
        self._ray = ray
        self._workers = as_positive_int(workers, "workers")
        self._threads = as_positive_int(threads, "threads_per_run")
        self._transfer = transfer
        self._token = uuid.uuid4().hex
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            if address is None:
                ray.init(num_cpus=self._workers * self._threads, include_dashboard=False)
            else:
                ray.init(address=address)
        self._remote = ray.remote(num_cpus=self._threads, max_retries=0)(run_task)
        self._tasks: dict[Any, Job] = {}
        self._sweep_dir: Path | None = None

    @property
    def capacity(self) -> int:
        return self._workers

    def start(self, job: Job) -> None:
        sweep_dir = job.run_dir.parent.parent
        if self._sweep_dir != sweep_dir:
            self._sweep_dir = sweep_dir
            (sweep_dir / TOKEN).write_text(self._token)
        token = "" if self._transfer else self._token
        ref = self._remote.remote(str(job.run_dir), token, self._threads, pack(job.run_dir))
        self._tasks[ref] = job

    def wait(self, timeout: float) -> list[tuple[Job, int, str]]:
        if not self._tasks:
            return []
        ready, _ = self._ray.wait(list(self._tasks), num_returns=len(self._tasks), timeout=timeout)
        out = []
        for ref in ready:
            job = self._tasks.pop(ref)
            try:
                code, tail, files = self._ray.get(ref)
            except Exception as err:  # the task or its node died
                out.append((job, -1, f"ray task failed: {type(err).__name__}: {err}"))
                continue
            if files is not None:
                unpack(files, job.run_dir)
            out.append((job, int(code), tail))
        return out

    def close(self) -> None:
        for ref in list(self._tasks):
            self._ray.cancel(ref, force=True)
        self._tasks.clear()
        if self._started_ray:
            self._ray.shutdown()


__all__ = ["TOKEN", "RayEngine", "pack", "run_task", "unpack"]
