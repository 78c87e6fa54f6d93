"""The local sweep engine: each run is a ``drats train --resume <run dir>`` process on this
machine, at most ``workers`` at once, each with ``threads`` torch (and BLAS) threads.

A run's output goes to ``train.log`` in its run directory. On Linux every run process is killed
with its sweep (``PR_SET_PDEATHSIG``), so a sweep killed and started again never finds a run
still writing; ``drats train`` also refuses a run directory another process holds.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from drats.application.sweep import LOG, Engine, Job
from drats.domain.checks import as_positive_int


def train_command(run_dir: Path) -> list[str]:
    """The command that starts or resumes the run in ``run_dir`` (its config.json says how)."""
    return [sys.executable, "-m", "drats.cli", "train", "--resume", str(run_dir), "--no-progress"]


def thread_env(threads: int) -> dict[str, str]:
    """The environment of a run process: at most ``threads`` threads for every numeric library."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(threads)
    return env


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGKILL this process when the sweep that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a run's log (empty if there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class LocalEngine(Engine):
    """Runs as child processes of this one.

    Args:
        workers: runs in flight at once (>= 1).
        threads: threads of each run.
    """

    def __init__(self, workers: int, threads: int = 1) -> None:
        self._workers = as_positive_int(workers, "workers")
        self._threads = as_positive_int(threads, "threads_per_run")
        self._procs: dict[str, tuple[Job, subprocess.Popen[bytes], IO[Any]]] = {}

    @property
    def capacity(self) -> int:
        return self._workers

    def start(self, job: Job) -> None:
        log = (job.run_dir / LOG).open("ab")
        log.write(f"--- attempt {job.attempts}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            train_command(job.run_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=thread_env(self._threads),
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._procs[job.name] = (job, proc, log)

    def wait(self, timeout: float) -> list[tuple[Job, int, str]]:
        deadline = time.monotonic() + timeout
        while True:
            done = [
                (job, proc, log)
                for job, proc, log in self._procs.values()
                if proc.poll() is not None
            ]
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        out = []
        for job, proc, log in done:
            log.close()
            del self._procs[job.name]
            out.append((job, int(proc.returncode), log_tail(job.run_dir / LOG)))
        return out

    def close(self) -> None:
        """Stop every run still in flight (a later sweep resumes it from its checkpoint)."""
        for _, proc, _log in self._procs.values():
            if proc.poll() is None:
                proc.terminate()
        for _, proc, log in self._procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
        self._procs.clear()


__all__ = ["LocalEngine", "log_tail", "thread_env", "train_command"]
