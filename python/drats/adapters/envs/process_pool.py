"""Multi-process EnvPool backend: worker processes, each stepping a contiguous share of slots.

Call sequence: the :class:`~drats.domain.ports.EnvPool` port's (``reset`` / ``step`` /
``reset_slots`` / ``close``), identical to the in-process
:class:`~drats.adapters.envs.slot_pool.SlotEnvPool` it wraps;
:func:`~drats.adapters.envs.factory.make_family_pool` builds either backend.

How it works:

* Worker w hosts a :class:`~drats.adapters.envs.slot_pool.SlotEnvPool` over slots
  ``first_w .. first_w + count_w - 1`` (``first_slot=first_w``), so slot s draws from the same
  RNG stream ``seed + s`` as in the in-process pool, and both backends give the same
  observations, rewards and episodes for the same seed and actions.
* Arrays travel through one shared-memory block (actions in; obs, rewards, terminated,
  truncated and task ids out); the pipe to each worker carries only the command and, back,
  the few finished episodes. The returned arrays are copies, never views of the block.
* Input is checked here, before any worker moves (same errors as the in-process pool); a
  drats error raised inside a worker by ``state_dict`` / ``load_state_dict`` (e.g. a bad
  state dict) is re-raised here with its own type and leaves the pool open.
* A worker that dies, does not answer within ``timeout_s`` (checked by polling, never a
  blocking read) or raises in ``reset_slots`` / ``step`` (an env error: other workers have
  already moved their slots) raises :class:`WorkerError`, after which the pool is closed: its
  workers are stopped and joined, and every later call but ``close`` raises
  InvalidInputError ("closed").
* ``close()`` asks each worker to exit, then terminates / kills stragglers and frees the
  shared memory; it is safe to call twice and also runs from ``__del__`` and at interpreter
  exit (``weakref.finalize``).
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import pickle
import signal
import time
import traceback
import weakref
from collections.abc import Mapping, Sequence
from multiprocessing import shared_memory
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike, NDArray

from drats.adapters.envs.family import (
    SLOT_KEYS,
    EnvError,
    EnvFamily,
    FamilyPool,
    as_idle_cap,
    check_slot_state,
)
from drats.adapters.envs.layouts import check_actions
from drats.adapters.envs.slot_pool import SlotEnvPool
from drats.domain.checks import (
    as_finite_float,
    as_flag,
    as_positive_int,
    as_reset_args,
    as_seed,
    as_slot_count,
)
from drats.domain.errors import ConfigError, DratsError, InvalidInputError
from drats.domain.ports import StateDict
from drats.domain.state_tree import check_state_config
from drats.domain.types import EpisodeStats, PoolStep


class WorkerError(EnvError):
    """A worker process died, did not answer in time, or raised in ``reset_slots`` / ``step``
    (an env error); the pool is closed afterwards (its workers stopped and joined).

    A subclass of :class:`~drats.adapters.envs.family.EnvError`, which the in-process
    :class:`SlotEnvPool` raises (and is closed after) when an env raises.
    """


def as_worker_count(num_workers: object, num_slots: int) -> int:
    """``num_workers`` of a pool over ``num_slots`` slots: an int in [1, num_slots]."""
    workers = as_positive_int(num_workers, "num_workers")
    if workers > num_slots:
        raise ConfigError(f"num_workers ({workers}) must be <= num_slots ({num_slots})")
    return workers


# ----------------------------------------------------------------------- shared memory


def _shm_map(n: int, obs_dim: int, action_dim: int, discrete: bool) -> tuple[dict[str, Any], int]:
    """name -> (offset, shape, dtype) of the arrays in the shared block (64-byte aligned),
    and the block's size in bytes."""
    fields: list[tuple[str, tuple[int, ...], Any]] = [
        ("actions", (n,) if discrete else (n, action_dim), np.int64 if discrete else np.float32),
        ("obs", (n, obs_dim), np.float32),
        ("rewards", (n,), np.float32),
        ("terminated", (n,), np.bool_),
        ("truncated", (n,), np.bool_),
        ("task_ids", (n,), np.int64),
    ]
    out: dict[str, Any] = {}
    offset = 0
    for name, shape, dtype in fields:
        out[name] = (offset, shape, np.dtype(dtype).str)
        offset += -(-int(np.prod(shape)) * np.dtype(dtype).itemsize // 64) * 64
    return out, max(offset, 64)


def _views(buf: Any, layout: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
    return {
        name: np.ndarray(shape, np.dtype(dtype), buffer=buf, offset=offset)
        for name, (offset, shape, dtype) in layout.items()
    }


# ------------------------------------------------------------------------------ worker


def _picklable(err: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")
    return err


def _worker_main(
    conn: Any, shm_name: str, layout: dict[str, Any], lo: int, hi: int, kwargs: dict[str, Any]
) -> None:
    """Host a SlotEnvPool over slots [lo, hi) and serve commands until ``close`` or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and closes us
    shm = shared_memory.SharedMemory(name=shm_name)
    views = _views(shm.buf, layout)
    pool: SlotEnvPool | None = None
    try:
        pool = SlotEnvPool(num_slots=hi - lo, first_slot=lo, **kwargs)
        conn.send(("ok", None))
        while True:
            try:
                cmd, arg = conn.recv()
            except (EOFError, OSError):  # the parent went away
                return
            try:
                reply: Any = None
                if cmd == "step":
                    out = pool.step(views["actions"][lo:hi])
                    views["obs"][lo:hi] = out.obs
                    views["rewards"][lo:hi] = out.rewards
                    views["terminated"][lo:hi] = out.terminated
                    views["truncated"][lo:hi] = out.truncated
                    views["task_ids"][lo:hi] = out.task_ids
                    ep = out.episodes
                    reply = (ep.task_ids, ep.returns, ep.lengths, ep.successes)
                elif cmd == "reset_slots":
                    reply = pool.reset_slots(*arg)
                elif cmd == "state_dict":
                    reply = pool.state_dict()
                elif cmd == "load_state_dict":
                    pool.load_state_dict(arg)
                elif cmd == "envs_created":
                    reply = pool.envs_created
                elif cmd == "close":
                    conn.send(("ok", None))
                    return
                else:
                    raise ValueError(f"unknown command {cmd!r}")
                conn.send(("ok", reply))
            except Exception as err:
                conn.send(("error", (_picklable(err), traceback.format_exc())))
    except Exception as err:  # the pool could not be built
        conn.send(("error", (_picklable(err), traceback.format_exc())))
    finally:
        if pool is not None:
            pool.close()
        views.clear()
        shm.close()
        conn.close()


# ----------------------------------------------------------------------------- cleanup


class _Resources:
    """What ``close`` releases; kept apart from the pool so ``weakref.finalize`` can hold it."""

    def __init__(self) -> None:
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.shm: shared_memory.SharedMemory | None = None
        self.views: dict[str, NDArray[Any]] = {}


def _shutdown(res: _Resources) -> None:
    for conn in res.conns:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("close", None))
    deadline = time.monotonic() + 5.0
    for proc in res.procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()))
    for proc in res.procs:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=2.0)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=2.0)
    for conn in res.conns:
        conn.close()
    res.views.clear()
    if res.shm is not None:
        res.shm.close()
        res.shm.unlink()
    res.procs, res.conns, res.shm = [], [], None


# -------------------------------------------------------------------------------- pool


class ProcessEnvPool(FamilyPool):
    """N slots over the tasks of an :class:`~drats.adapters.envs.family.EnvFamily`, split into
    ``num_workers`` contiguous shares, each stepped by a worker process.

    Args:
        family: the tasks (picklable; sent to every worker).
        num_slots: N >= 1.
        seed: pool seed (slot s draws from ``seed + s``, as in :class:`SlotEnvPool`).
        max_episode_steps: truncate episodes after this many steps (None: env's own limit).
        terminate_on_success: end an episode (terminated=True) on its first success step.
        num_workers: worker processes, 1 <= num_workers <= N; worker w gets slots
            ``np.array_split(range(N), num_workers)[w]``.
        start_method: ``"forkserver"`` or ``"spawn"`` (never ``fork``: MuJoCo / torch state).
        timeout_s: longest wait for one worker's answer (startup included) before a
            :class:`WorkerError`; a finite number >= 0.001.
        max_idle_envs: idle env instances each worker keeps for reuse (None: as many as it
            hosts slots); see :class:`SlotEnvPool`.

    Raises:
        ConfigError: a bad setting (checked before any worker starts). WorkerError: a worker
            failed to start.
    """

    def __init__(
        self,
        family: EnvFamily,
        num_slots: int,
        *,
        seed: int = 0,
        max_episode_steps: int | None = None,
        terminate_on_success: bool = False,
        num_workers: int = 2,
        start_method: str = "forkserver",
        timeout_s: float = 120.0,
        max_idle_envs: int | None = None,
    ) -> None:
        n = as_slot_count(num_slots)
        workers = as_worker_count(num_workers, n)
        if start_method not in ("forkserver", "spawn"):
            raise ConfigError(f"start_method must be 'forkserver' or 'spawn', got {start_method!r}")
        self._timeout = as_finite_float(timeout_s, "timeout_s", minimum=1e-3)
        # The workers' SlotEnvPool checks these too; checked here so no worker starts for them.
        seed = as_seed(seed)
        if max_episode_steps is not None:
            max_episode_steps = as_positive_int(max_episode_steps, "max_episode_steps")
        terminate_on_success = as_flag(terminate_on_success, "terminate_on_success")
        max_idle_envs = as_idle_cap(max_idle_envs)
        super().__init__(family, n)
        bounds = np.linspace(0, n, workers + 1).round().astype(int)
        self._bounds = [(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
        self._res = _Resources()
        self._finalizer = weakref.finalize(self, _shutdown, self._res)
        layout, size = _shm_map(n, self.obs_dim, self.action_dim, self.discrete)
        self._res.shm = shared_memory.SharedMemory(create=True, size=size)
        self._res.views = _views(self._res.shm.buf, layout)
        kwargs = {
            "family": family,
            "seed": seed,
            "max_episode_steps": max_episode_steps,
            "terminate_on_success": terminate_on_success,
            "max_idle_envs": max_idle_envs,
        }
        ctx: Any = mp.get_context(start_method)
        for w, (lo, hi) in enumerate(self._bounds):
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main,
                args=(child, self._res.shm.name, layout, lo, hi, kwargs),
                name=f"drats-envpool-{w}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._res.procs.append(proc)
            self._res.conns.append(parent)
        try:
            self._gather(range(workers))  # wait until every worker has built its pool
        except BaseException:
            self.close()
            raise

    # -------------------------------------------------------------------------- members

    @property
    def num_workers(self) -> int:
        return len(self._bounds)

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (empty once closed)."""
        return [int(p.pid) for p in self._res.procs if p.pid is not None]

    @property
    def envs_created(self) -> int:
        """Env instances the workers built so far (asks every worker)."""
        self._check_open()
        for w in range(len(self._bounds)):
            self._send(w, "envs_created")
        return sum(self._gather(range(len(self._bounds))))

    # ---------------------------------------------------------------------- messaging

    def _send(self, w: int, cmd: str, arg: Any = None) -> None:
        try:
            self._res.conns[w].send((cmd, arg))
        except (OSError, ValueError) as err:
            proc = self._res.procs[w]
            proc.join(timeout=1.0)
            self._fail(f"worker {w} (pid {proc.pid}) died with exit code {proc.exitcode} ({err!r})")

    def _recv(self, w: int) -> tuple[str, Any]:
        conn, proc = self._res.conns[w], self._res.procs[w]
        deadline = time.monotonic() + self._timeout
        while not conn.poll(0.05):
            if not proc.is_alive():
                self._fail(f"worker {w} (pid {proc.pid}) died with exit code {proc.exitcode}")
            if time.monotonic() > deadline:
                self._fail(f"worker {w} (pid {proc.pid}) did not answer in {self._timeout} s")
        try:
            reply: tuple[str, Any] = conn.recv()
        except (EOFError, OSError) as err:
            proc.join(timeout=1.0)
            self._fail(f"worker {w} (pid {proc.pid}) died with exit code {proc.exitcode} ({err!r})")
        return reply

    def _fail(self, message: str, detail: str = "") -> NoReturn:
        """Close the pool (stop and join every worker), then raise WorkerError."""
        self.close()
        raise WorkerError(f"{message}; the pool is closed{detail}")

    def _gather(self, workers: Sequence[int] | range, *, fatal: bool = False) -> list[Any]:
        """Every listed worker's reply (all are read, so the pipes stay in step); then the
        first worker error, if any: a drats error other than EnvError is re-raised with its
        own type unless ``fatal`` (the call may have moved other workers' slots); any other
        error closes the pool and raises WorkerError."""
        replies = [self._recv(w) for w in workers]
        for w, (status, payload) in zip(workers, replies, strict=True):
            if status == "error":
                err, trace = payload
                if isinstance(err, DratsError) and not isinstance(err, EnvError) and not fatal:
                    raise err
                self._fail(f"worker {w} raised {type(err).__name__}: {err}", f"\n{trace}")
        return [payload for _, payload in replies]

    def _check_open(self) -> None:
        if not self._finalizer.alive:
            raise InvalidInputError("ProcessEnvPool is closed")

    # ------------------------------------------------------------------------- the port

    def reset_slots(self, slots: ArrayLike, task_ids: ArrayLike) -> NDArray[np.float32]:
        """Start new episodes in ``slots`` playing ``task_ids``: float32[M, obs_dim].
        WorkerError (the pool is then closed) if a worker fails."""
        self._check_open()
        s, t = as_reset_args(slots, task_ids, self._n, len(self._names))
        out = np.zeros((len(s), self.obs_dim), np.float32)
        rows: dict[int, NDArray[np.intp]] = {}
        for w, (lo, hi) in enumerate(self._bounds):
            mine = np.flatnonzero((s >= lo) & (s < hi))
            if len(mine):
                rows[w] = mine
                self._send(w, "reset_slots", (s[mine] - lo, t[mine]))
        for w, obs in zip(rows, self._gather(list(rows), fatal=True), strict=True):
            out[rows[w]] = obs
        self._running[s] = True
        self._task[s] = t
        return out

    def step(self, actions: ArrayLike) -> PoolStep:
        """Advance every slot one step in the workers (see the port). WorkerError (the
        pool is then closed) if a worker fails, e.g. because an env raised."""
        self._check_open()
        a = check_actions(actions, self._n, self.action_dim, self.discrete)
        self._check_running(a)
        views = self._res.views
        views["actions"][...] = a
        for w in range(len(self._bounds)):
            self._send(w, "step")
        parts = self._gather(range(len(self._bounds)), fatal=True)
        episodes = EpisodeStats(*(np.concatenate([p[i] for p in parts]) for i in range(4)))
        out = PoolStep(
            obs=views["obs"].copy(),
            rewards=views["rewards"].copy(),
            terminated=views["terminated"].copy(),
            truncated=views["truncated"].copy(),
            task_ids=views["task_ids"].copy(),
            episodes=episodes,
        )
        self._running &= ~(out.terminated | out.truncated)
        return out

    def close(self) -> None:
        """Stop the workers and free the shared memory; safe to call twice."""
        self._finalizer()

    # ----------------------------------------------------------------------- checkpoint

    def state_dict(self) -> StateDict:
        """The in-process layout (:meth:`SlotEnvPool.state_dict`) for all N slots: the
        workers' ``slot_*`` rows concatenated, ``num_slots`` N and ``first_slot`` 0."""
        self._check_open()
        for w in range(len(self._bounds)):
            self._send(w, "state_dict")
        parts: list[StateDict] = self._gather(range(len(self._bounds)))
        state = dict(parts[0])
        state.update(num_slots=self._n, first_slot=0)
        for key in SLOT_KEYS:
            state[key] = np.concatenate([p[key] for p in parts])
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore slot RNGs and counters in every worker; then reset every slot.

        The seed and the ``slot_*`` rows are checked here (CheckpointError naming the entry)
        and the configuration entries in every worker, which all hold the same ones: a refused
        state changes no worker."""
        self._check_open()
        check_state_config(state, {"num_slots": self._n, "first_slot": 0})
        _, arrays = check_slot_state(state, self._n, len(self._names))
        full = {key: state[key] for key in state}
        for w, (lo, hi) in enumerate(self._bounds):
            part = dict(full, num_slots=hi - lo, first_slot=lo)
            part.update({key: arrays[key][lo:hi] for key in SLOT_KEYS})
            self._send(w, "load_state_dict", part)
        self._gather(range(len(self._bounds)))
        self._running[:] = False


__all__ = ["ProcessEnvPool", "WorkerError", "as_worker_count"]
