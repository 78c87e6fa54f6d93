"""Contract checker for the ReplayBuffer port: ``check_replay_buffer(make)`` proves that a
replay adapter honours :class:`drats.domain.ports.ReplayBuffer` (accounting, batch layout,
per-task FIFO, priorities and weights, typed errors that leave the buffer unchanged,
reproducible sampling and state dicts).

A third-party adapter passes a factory that builds a fresh buffer on every call::

    make(num_tasks, capacity_per_task, obs_shape, action_shape, *, alpha, seed) -> ReplayBuffer

    from drats.testing import check_replay_buffer

    def test_my_replay_honours_the_port() -> None:
        check_replay_buffer(MyReplay)                       # prioritized: alpha 0 and 0.6
        check_replay_buffer(MyUniform, prioritized=False)   # uniform only: alpha 0

Bad input must raise the classes of :mod:`drats.domain.errors` and leave ``state_dict()``
unchanged. A broken contract raises ``AssertionError("ReplayBuffer contract: ...")`` naming
what broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from drats.domain.errors import (
    CheckpointError,
    EmptyTaskError,
    InvalidDtypeError,
    InvalidInputError,
    UnknownTaskError,
)
from drats.domain.ports import ReplayBuffer
from drats.domain.types import Batch
from drats.testing.assertions import Case, Contract, same_state

ReplayFactory = Callable[..., ReplayBuffer]

OBS, ACT = (2, 3), 2

_c = Contract("ReplayBuffer")


Transitions = tuple[
    NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]
]


def _transitions(ids: list[int], first: int) -> Transitions:
    """Transitions whose every field encodes a serial number, so a sampled row can be traced."""
    n = len(ids)
    serial = np.arange(first, first + n, dtype=np.float32)
    obs = np.broadcast_to(serial[:, None, None], (n, *OBS)).astype(np.float32)
    actions = np.broadcast_to(-serial[:, None], (n, ACT)).astype(np.float32)
    return (
        np.asarray(ids, dtype=np.int64),
        obs,
        actions,
        serial * 10,
        obs + 0.5,
        (serial % 2).astype(np.float32),
    )


def _serials(batch: Batch) -> NDArray[np.int64]:
    """The serial number of each sampled row, after checking all its fields agree."""
    serial = batch.obs.reshape(len(batch), -1)[:, 0]
    _c.expect(np.all(batch.obs == serial[:, None, None]), "obs rows were mixed up")
    _c.expect(np.all(batch.actions == -serial[:, None]), "actions do not match their obs")
    _c.expect(np.all(batch.rewards == serial * 10), "rewards do not match their obs")
    _c.expect(np.all(batch.next_obs == batch.obs + 0.5), "next_obs does not match its obs")
    _c.expect(np.all(batch.terminated == serial % 2), "terminated does not match its obs")
    return serial.astype(np.int64)


def _check_batch_layout(batch: Batch, counts: NDArray[np.int64], capacity: int) -> None:
    b = int(counts.sum())
    for name, shape, kind in (
        ("obs", (b, *OBS), np.float32),
        ("actions", (b, ACT), np.float32),
        ("rewards", (b,), np.float32),
        ("next_obs", (b, *OBS), np.float32),
        ("terminated", (b,), np.float32),
        ("task_ids", (b,), np.int64),
        ("indices", (b,), np.int64),
        ("weights", (b,), np.float32),
    ):
        arr = getattr(batch, name)
        _c.expect(isinstance(arr, np.ndarray), f"Batch.{name} is not a numpy array")
        _c.expect(arr.shape == shape, f"Batch.{name} has shape {arr.shape}, expected {shape}")
        _c.expect(arr.dtype == kind, f"Batch.{name} has dtype {arr.dtype}, expected {kind}")
    expected_ids = np.repeat(np.arange(counts.size), counts)
    _c.expect(np.array_equal(batch.task_ids, expected_ids), "rows are not grouped by task id")
    _c.expect(
        np.array_equal(batch.indices // capacity, batch.task_ids),
        "an index is not task * capacity_per_task + slot",
    )
    if b:
        w = batch.weights
        _c.expect(np.all((w > 0) & (w <= 1)), "weights must lie in (0, 1]")
        _c.expect(w.max() == 1.0, "the largest weight must be exactly 1")


def _check_accounting(make: ReplayFactory, alpha: float) -> None:
    buf = make(3, 4, OBS, ACT, alpha=alpha, seed=0)
    _c.expect(isinstance(buf, ReplayBuffer), "the adapter does not implement ReplayBuffer")
    _c.expect(
        (buf.num_tasks, buf.capacity_per_task, buf.obs_shape, buf.action_shape)
        == (3, 4, OBS, (ACT,)),
        "num_tasks, capacity_per_task, obs_shape or action_shape is wrong",
    )
    _c.expect(buf.alpha == alpha, f"alpha is {buf.alpha}, expected {alpha}")
    _c.expect(len(buf) == 0 and buf.sizes().tolist() == [0, 0, 0], "a new buffer is not empty")
    buf.add(*_transitions([], first=0))  # an empty batch is fine
    buf.add(*_transitions([0, 1, 0, 0, 0, 0, 0], first=0))  # task 0 gets 6 > capacity 4
    _c.expect(buf.size(0) == 4 and buf.size(1) == 1 and buf.size(2) == 0, "sizes are wrong")
    _c.expect(len(buf) == 5, f"len is {len(buf)}, expected 5")
    sizes = buf.sizes()
    _c.expect(sizes.dtype == np.int64 and sizes.tolist() == [4, 1, 0], "sizes() is wrong")
    sizes[:] = 0
    _c.expect(buf.size(0) == 4, "sizes() must return a copy")
    counts = np.array([40, 3, 0])
    _check_batch_layout(buf.sample(counts), counts, 4)
    empty = buf.sample(np.zeros(3, dtype=np.int64))
    _check_batch_layout(empty, np.zeros(3, dtype=np.int64), 4)


def _check_fifo(make: ReplayFactory, alpha: float) -> None:
    """The k-th transition of a task (k = 0, 1, ...) lives in slot k % capacity until
    ``capacity`` newer ones of that task arrive; every index always gives back its own row."""
    cap = 4
    buf = make(2, cap, OBS, ACT, alpha=alpha, seed=1)
    buf.add(*_transitions([0, 1, 0, 0], first=0))
    buf.add(*_transitions([0, 0, 1, 0], first=4))  # task 0: serials 0 2 3 4 5 7
    order = {0: [0, 2, 3, 4, 5, 7], 1: [1, 6]}
    serial_at: dict[int, int] = {}
    for _ in range(5):
        batch = buf.sample(np.array([40, 10]))
        for idx, s in zip(batch.indices.tolist(), _serials(batch).tolist(), strict=True):
            _c.expect(serial_at.setdefault(idx, s) == s, f"FIFO: index {idx} gave two rows")
    for task, serials in order.items():
        alive = serials[-cap:]
        want = {task * cap + serials.index(s) % cap: s for s in alive}
        got = {i: s for i, s in serial_at.items() if i // cap == task}
        _c.expect(
            got == want,
            f"FIFO: task {task} holds (index -> serial) {got}, expected {want}; the k-th "
            "transition of a task must sit in slot k % capacity and the oldest go first",
        )


def _check_priorities(make: ReplayFactory) -> None:
    buf = make(2, 32, OBS, ACT, alpha=0.6, seed=1)
    buf.add(*_transitions([0] * 20 + [1] * 20, first=0))
    indices = np.arange(20)  # task 0, slots 0..19 hold serials 0..19 (checked by _check_fifo)
    buf.update_priorities(indices, np.where(indices == 7, 1e6, 1e-3))
    hits = np.mean(_serials(buf.sample(np.array([200, 0]))) == 7)
    _c.expect(hits > 0.9, f"a 1e9x larger priority drew only {hits:.0%} of its task's rows")
    buf.update_priorities(indices, np.linspace(0.1, 9.0, 20))
    mixed = buf.sample(np.array([20, 5]))
    _check_batch_layout(mixed, np.array([20, 5]), 32)
    _c.expect(mixed.weights.min() < 0.9, "rows of unequal priority must get unequal weights")
    uniform = make(2, 32, OBS, ACT, alpha=0.0, seed=1)
    uniform.add(*_transitions([0] * 20, first=0))
    uniform.update_priorities(indices, np.linspace(0.1, 9, 20))
    _c.expect(np.all(uniform.sample(np.array([30, 0])).weights == 1.0), "alpha=0 needs weights 1")


def _check_bad_input(make: ReplayFactory, alpha: float) -> None:
    buf = make(2, 8, OBS, ACT, alpha=alpha, seed=2)
    good = _transitions([0, 0, 1], first=0)
    buf.add(*good)
    ids, obs, actions, rewards, next_obs, done = good
    inf_obs = obs.copy()
    inf_obs[1, 0, 2] = np.inf
    cases: list[Case] = [
        (UnknownTaskError, lambda: buf.add(np.array([0, 2, 1]), *good[1:]), "add: task id 2"),
        (UnknownTaskError, lambda: buf.add(np.array([0, -1, 1]), *good[1:]), "add: task id -1"),
        (InvalidDtypeError, lambda: buf.add(ids.astype(float), *good[1:]), "add: float ids"),
        (InvalidDtypeError, lambda: buf.add(ids.astype(bool), *good[1:]), "add: bool ids"),
        (InvalidInputError, lambda: buf.add(ids[:, None], *good[1:]), "add: 2-D task ids"),
        (InvalidInputError, lambda: buf.add(ids, obs[:, :1], *good[2:]), "add: obs shape"),
        (InvalidInputError, lambda: buf.add(ids, obs, actions[:2], *good[3:]), "add: actions"),
        (InvalidInputError, lambda: buf.add(ids, inf_obs, *good[2:]), "add: inf in obs"),
        (
            InvalidInputError,
            lambda: buf.add(ids, obs, actions, np.array([0, np.nan, 0]), next_obs, done),
            "add: NaN reward",
        ),
        (
            InvalidInputError,
            lambda: buf.add(ids, obs, actions, rewards, inf_obs, done),
            "add: inf in next_obs",
        ),
        (
            InvalidInputError,
            lambda: buf.add(ids, obs, actions, rewards, next_obs, np.array([0, 2, 0])),
            "add: terminated not 0/1",
        ),
        (InvalidInputError, lambda: buf.sample(np.array([1, 1, 1])), "sample: counts length"),
        (InvalidInputError, lambda: buf.sample(np.array([-1, 1])), "sample: negative count"),
        (InvalidDtypeError, lambda: buf.sample(np.array([1.0, 1.0])), "sample: float counts"),
        (InvalidDtypeError, lambda: buf.sample(np.array([True, True])), "sample: bool counts"),
        (InvalidInputError, lambda: buf.sample(np.array([1, 1]), beta=-0.5), "sample: beta<0"),
        (InvalidInputError, lambda: buf.sample(np.array([1, 1]), beta=1.5), "sample: beta>1"),
        (UnknownTaskError, lambda: buf.update_priorities([16], [1.0]), "update: index 16"),
        (UnknownTaskError, lambda: buf.update_priorities([-1], [1.0]), "update: index -1"),
        (UnknownTaskError, lambda: buf.update_priorities([5], [1.0]), "update: empty slot"),
        (InvalidDtypeError, lambda: buf.update_priorities([0.0], [1.0]), "update: float index"),
        (InvalidInputError, lambda: buf.update_priorities([0], [np.nan]), "update: NaN"),
        (InvalidInputError, lambda: buf.update_priorities([0], [np.inf]), "update: inf"),
        (InvalidInputError, lambda: buf.update_priorities([0], [0.0]), "update: priority 0"),
        (InvalidInputError, lambda: buf.update_priorities([0], [-1.0]), "update: negative"),
        (InvalidInputError, lambda: buf.update_priorities([0, 1], [1.0]), "update: lengths"),
        (UnknownTaskError, lambda: buf.size(2), "size: unknown task"),
    ]
    # A valid update ahead of a bad one in the same call must not be applied either.
    cases.append(
        (
            InvalidInputError,
            lambda: buf.update_priorities([0, 1], [5.0, -1.0]),
            "update: good then bad priority",
        )
    )
    _c.rejects_unchanged(buf, cases)
    empty = make(2, 8, OBS, ACT, alpha=alpha, seed=2)
    empty.add(*_transitions([0], first=0))
    _c.rejects_unchanged(
        empty, [(EmptyTaskError, lambda: empty.sample(np.array([1, 1])), "sample: empty task")]
    )


def _check_state(make: ReplayFactory, alpha: float) -> None:
    buf = make(3, 16, OBS, ACT, alpha=alpha, seed=3)
    buf.add(*_transitions([0, 1, 2] * 7, first=0))
    b = buf.sample(np.array([5, 5, 5]))
    buf.update_priorities(b.indices, np.linspace(0.5, 3.0, len(b)))
    state = buf.state_dict()
    twin = make(3, 16, OBS, ACT, alpha=alpha, seed=99)
    twin.load_state_dict(state)
    _c.expect(same_state(state, twin.state_dict()), "a restored buffer has another state dict")
    counts = np.array([7, 3, 9])
    x, y = buf.sample(counts), twin.sample(counts)
    _c.expect(np.array_equal(x.indices, y.indices), "a restored buffer sampled differently")
    _c.expect(np.array_equal(_serials(x), _serials(y)), "a restored buffer holds other data")
    _c.expect(np.array_equal(x.weights, y.weights), "a restored buffer gave other weights")
    same_seed = make(3, 16, OBS, ACT, alpha=alpha, seed=3)
    same_seed.add(*_transitions([0, 1, 2] * 7, first=0))
    _c.expect(
        np.array_equal(same_seed.sample(np.array([5, 5, 5])).indices, b.indices),
        "the same seed and operations gave different samples",
    )
    for array in state.values():  # the state dict must hold copies
        if isinstance(array, np.ndarray) and array.dtype.kind == "f":
            array[...] = 0
    _c.expect(same_state(buf.state_dict(), twin.state_dict()), "state_dict() shares memory")

    other = make(4, 16, OBS, ACT, alpha=alpha, seed=3)
    fresh = buf.state_dict()
    bad_sizes = {**fresh, "sizes": np.full(3, 17, dtype=np.int64)}
    bad_obs = {**fresh, "obs": np.full_like(fresh["obs"], np.nan)}
    missing = {k: v for k, v in fresh.items() if k != "priorities"}
    _c.rejects_unchanged(
        other, [(CheckpointError, lambda: other.load_state_dict(fresh), "load: K")]
    )
    _c.rejects_unchanged(
        twin,
        [
            (CheckpointError, lambda: twin.load_state_dict(missing), "load: missing key"),
            (CheckpointError, lambda: twin.load_state_dict(bad_sizes), "load: sizes > capacity"),
            (CheckpointError, lambda: twin.load_state_dict(bad_obs), "load: NaN obs"),
        ],
    )


def check_replay_buffer(make: ReplayFactory, *, prioritized: bool = True) -> None:
    """Check a ReplayBuffer adapter; ``prioritized=False`` for uniform-only (alpha=0) ones."""
    alphas = [0.0, 0.6] if prioritized else [0.0]
    for alpha in alphas:
        _check_accounting(make, alpha)
        _check_fifo(make, alpha)
        _check_bad_input(make, alpha)
        _check_state(make, alpha)
    if prioritized:
        _check_priorities(make)
