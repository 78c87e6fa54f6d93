"""torch building blocks shared by the policy adapters: a multi-head MLP, device choice, the
conversion of torch state to the numpy state trees that checkpoints hold, and the checks of
learner inputs and of state trees that both policies make."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from drats.domain.checks import (
    as_flag,
    as_positive_int,
    as_task_count,
)
from drats.domain.errors import CheckpointError, ConfigError
from drats.domain.state_tree import check_finite_tree, unflatten_tree

ConfigT = TypeVar("ConfigT")


def pick_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; ``"cuda"`` without CUDA is a ConfigError."""
    if not isinstance(device, str):
        raise ConfigError(f"device must be auto, cpu or cuda (a string), got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    index = device[5:] if device.startswith("cuda:") else ""
    if device not in ("cpu", "cuda") and not (index.isdigit() and index.isascii()):
        raise ConfigError(f"device must be auto, cpu or cuda (or cuda:<index>), got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but torch sees no CUDA device")
    if index and int(index) >= torch.cuda.device_count():
        raise ConfigError(
            f"device {device!r}: torch sees only {torch.cuda.device_count()} CUDA device(s)"
        )
    return torch.device(device)


def policy_dims(
    obs_dim: object, action_dim: object, num_tasks: object, discrete: object
) -> tuple[int, int, int, bool]:
    """A policy's ``(obs_dim, action_dim, num_tasks, discrete)``, checked (ConfigError)."""
    return (
        as_positive_int(obs_dim, "obs_dim"),
        as_positive_int(action_dim, "action_dim"),
        as_task_count(num_tasks),
        as_flag(discrete, "discrete"),
    )


def config_of(config: object, kind: type[ConfigT]) -> ConfigT:
    """``config`` if it is a ``kind``, ``kind()`` if it is None; ConfigError otherwise."""
    if config is None:
        return kind()
    if not isinstance(config, kind):
        raise ConfigError(f"config must be a {kind.__name__}, got {type(config).__name__}")
    return config


def policy_tree(state: object, kind: str) -> dict[str, Any]:
    """The nested tree of a policy's flat ``state_dict`` whose ``kind`` entry must be
    ``kind`` (CheckpointError otherwise)."""
    label = kind.upper()
    if not isinstance(state, Mapping):
        raise CheckpointError(f"state must be a state_dict mapping, got {type(state).__name__}")
    try:
        tree = unflatten_tree(state)
    except (KeyError, ValueError, TypeError) as err:
        raise CheckpointError(f"not a {label} policy state: {err}") from None
    if not isinstance(tree, dict) or tree.get("kind") != kind:
        raise CheckpointError(f"the state is not a {label} policy's")
    return tree


def restore_or_roll_back(
    restore: Callable[[dict[str, Any]], None], tree: dict[str, Any], backup: dict[str, Any]
) -> None:
    """``restore(tree)`` for a checked tree; if torch still refuses it, ``restore(backup)``
    (the policy's own state from before) and raise CheckpointError."""
    try:
        restore(tree)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as err:
        restore(backup)
        raise CheckpointError(f"the checkpoint's policy does not load: {err}") from None


class MultiHeadMLP(nn.Module):
    """A shared ReLU torso and one linear head per task, picked by the task id.

    All K heads are one ``[hidden, K * out]`` matrix: the forward pass computes every head and
    gathers the row's own, which is cheaper than indexing K weight matrices for small ``out``.
    With ``multi_head=False`` a single head serves every task. ``hidden=()`` makes it linear.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        num_tasks: int,
        *,
        hidden: Sequence[int] = (400, 400, 400),
        multi_head: bool = True,
        head_gain: float = 1.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            linear = nn.Linear(width, h)
            nn.init.orthogonal_(linear.weight, math.sqrt(2.0))
            nn.init.zeros_(linear.bias)
            layers += [linear, nn.ReLU()]
            width = h
        self.torso = nn.Sequential(*layers)
        self.heads = num_tasks if multi_head else 1
        self.out_dim = out_dim
        self.head = nn.Linear(width, self.heads * out_dim)
        nn.init.orthogonal_(self.head.weight, head_gain)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.torso(x))
        if self.heads == 1:
            return out
        out = out.view(x.shape[0], self.heads, self.out_dim)
        index = task_ids.view(-1, 1, 1).expand(-1, 1, self.out_dim)
        picked: torch.Tensor = out.gather(1, index).squeeze(1)
        return picked


def to_numpy_tree(node: Any) -> Any:
    """A torch state (nested dicts/lists of tensors) with every tensor as a CPU numpy array."""
    if isinstance(node, torch.Tensor):
        return node.detach().cpu().numpy().copy()
    if isinstance(node, dict):
        return {k: to_numpy_tree(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(to_numpy_tree(v) for v in node)
    return node


def to_torch_tree(node: Any) -> Any:
    """Inverse of :func:`to_numpy_tree` (tensors on the CPU; ``load_state_dict`` moves them)."""
    if isinstance(node, np.ndarray):
        return torch.from_numpy(np.array(node))
    if isinstance(node, dict):
        return {k: to_torch_tree(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return type(node)(to_torch_tree(v) for v in node)
    return node


def clip_grad_norm(params: Iterable[torch.Tensor], max_norm: float) -> None:
    """Scale the gradients of ``params`` so their total 2-norm is at most ``max_norm``: the
    arithmetic of ``torch.nn.utils.clip_grad_norm_`` (coefficient ``max_norm / (norm + 1e-6)``
    clamped at 1), without its per-call checks, which cost more than the clipping itself for
    the small networks acting and learning on a CPU."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef)


def set_threads(threads: int) -> None:
    """Use at most ``threads`` CPU threads for torch's intra-op work and for numpy's BLAS, for
    the whole process (the acting forward itself is one thread in the C++ core).

    numpy's OpenBLAS otherwise starts one thread per core; on small matrices those threads
    spin-wait for each other, and when another process held a core one BLAS forward of the
    MT10 policy on 10 rows took 12.7 ms instead of 1.1 ms (2-core AMD EPYC VM).
    """
    from threadpoolctl import threadpool_limits

    if torch.get_num_threads() != threads:
        torch.set_num_threads(int(threads))
    threadpool_limits(limits=int(threads), user_api="blas")


# ------------------------------------------------------------------------ learner inputs

# ------------------------------------------------------------------------ state trees


def check_finite_as(arr: NDArray[Any], dtype: torch.dtype, path: str) -> None:
    """CheckpointError unless the float array ``arr`` is finite once cast to ``dtype`` (a
    float64 beyond float32's range would become inf when loaded)."""
    with np.errstate(over="ignore"):
        cast = arr.astype(torch.empty((), dtype=dtype).numpy().dtype, copy=False)
    check_finite_tree(cast, path)


def _entry(tree: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str) -> Any:
    if key not in tree:
        raise CheckpointError(f"state has no {path!r} entry")
    value = tree[key]
    if not isinstance(value, kind):
        raise CheckpointError(f"state entry {path!r} has the wrong type {type(value).__name__}")
    return value


def check_module_state(tree: Mapping[str, Any], key: str, module: nn.Module) -> None:
    """CheckpointError unless ``tree[key]`` holds exactly ``module``'s state entries, each an
    array of the same shape and dtype kind (float weights must also be finite)."""
    saved = _entry(tree, key, dict, key)
    want = module.state_dict()
    extra = sorted(str(k) for k in set(saved) - set(want))
    if extra:
        raise CheckpointError(f"state entry {key + '.' + extra[0]!r} is not in this policy")
    for name, tensor in want.items():
        path = f"{key}.{name}"
        arr = _entry(saved, name, np.ndarray, path)
        kind = "f" if tensor.is_floating_point() else tensor.cpu().numpy().dtype.kind
        if arr.shape != tuple(tensor.shape) or arr.dtype.kind != kind:
            raise CheckpointError(
                f"state entry {path!r} must have shape {tuple(tensor.shape)} and dtype kind "
                f"{kind!r}, got shape {arr.shape} dtype {arr.dtype}"
            )
        if kind == "f":
            check_finite_as(arr, tensor.dtype, path)


def _real(value: Any) -> float | None:
    """A real scalar (Python or 0-d array, not bool) as a float, else None."""
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "fiu":
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


#: Adam flags that change the arithmetic; a checkpoint's must match the optimiser's.
_MATH_FLAGS = ("amsgrad", "maximize", "differentiable", "decoupled_weight_decay")

#: Adam hyper-parameters a checkpoint restores: name -> (lowest value, highest value).
_ADAM_RANGES = {"lr": (0.0, math.inf), "eps": (0.0, math.inf), "weight_decay": (0.0, math.inf)}


def check_optim_state(tree: Mapping[str, Any], key: str, optim: Any) -> None:
    """CheckpointError naming the entry unless ``tree[key]`` is an Adam state that fits
    ``optim``: as many parameter groups of the same sizes, the same flags, finite
    hyper-parameters in range, and for each parameter's state a finite scalar ``step >= 0``
    and finite float moment buffers of that parameter's shape (``exp_avg_sq >= 0``).

    torch's own ``load_state_dict`` checks none of the buffer shapes; a wrong one corrupts
    memory in the fused step of the next ``learn``."""
    saved = _entry(tree, key, dict, key)
    state = _entry(saved, "state", dict, f"{key}.state")
    groups = _entry(saved, "param_groups", list, f"{key}.param_groups")
    if len(groups) != len(optim.param_groups):
        raise CheckpointError(
            f"state entry '{key}.param_groups' has {len(groups)} groups, "
            f"this policy's optimiser {len(optim.param_groups)}"
        )
    owner: dict[Any, tuple[torch.Tensor, dict[str, Any]]] = {}
    for g, (mine, theirs) in enumerate(zip(optim.param_groups, groups, strict=True)):
        path = f"{key}.param_groups.{g}"
        if not isinstance(theirs, dict):
            raise CheckpointError(f"state entry {path!r} must be a dict")
        ids = _entry(theirs, "params", list, f"{path}.params")
        if len(ids) != len(mine["params"]):
            raise CheckpointError(
                f"state entry '{path}.params' lists {len(ids)} parameters, "
                f"this policy's group {len(mine['params'])}"
            )
        for name, (low, high) in _ADAM_RANGES.items():
            if name in theirs:
                value = _real(theirs[name])
                if value is None or not low <= value <= high or not math.isfinite(value):
                    raise CheckpointError(
                        f"state entry '{path}.{name}' must be a finite number >= {low}, "
                        f"got {theirs[name]!r}"
                    )
        if "betas" in theirs:
            betas = theirs["betas"]
            values = [_real(b) for b in betas] if isinstance(betas, list | tuple) else []
            if len(values) != 2 or not all(v is not None and 0.0 <= v < 1.0 for v in values):
                raise CheckpointError(
                    f"state entry '{path}.betas' must be two numbers in [0, 1), got {betas!r}"
                )
        for name in _MATH_FLAGS:  # implementation flags (fused, foreach...) may differ
            value = mine.get(name)
            if name in theirs and theirs[name] != value:
                raise CheckpointError(
                    f"state entry '{path}.{name}' is {theirs[name]!r}, this policy's "
                    f"optimiser has {value!r}"
                )
        for pid, param in zip(ids, mine["params"], strict=True):
            if isinstance(pid, bool) or not isinstance(pid, int) or pid in owner:
                raise CheckpointError(f"state entry '{path}.params' has a bad or repeated id")
            owner[pid] = (param, theirs)
    for pid, entry in state.items():
        path = f"{key}.state.{pid}"
        if pid not in owner:
            raise CheckpointError(f"state entry {path!r} belongs to no parameter")
        if not isinstance(entry, dict):
            raise CheckpointError(f"state entry {path!r} must be a dict")
        param, group = owner[pid]
        step = _real(_entry(entry, "step", (np.ndarray, int, float), f"{path}.step"))
        if step is None or not math.isfinite(step) or step < 0:
            raise CheckpointError(
                f"state entry '{path}.step' must be a finite scalar >= 0, got {entry['step']!r}"
            )
        buffers = ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if group.get("amsgrad") else [])
        for name in buffers:
            arr = _entry(entry, name, np.ndarray, f"{path}.{name}")
            if arr.dtype.kind != "f" or arr.shape != tuple(param.shape):
                raise CheckpointError(
                    f"state entry '{path}.{name}' must be a float array of its parameter's "
                    f"shape {tuple(param.shape)}, got shape {arr.shape} dtype {arr.dtype}"
                )
            check_finite_as(arr, param.dtype, f"{path}.{name}")
            if name != "exp_avg" and np.any(arr < 0):
                raise CheckpointError(f"state entry '{path}.{name}' must be >= 0")


def check_generator_state(tree: Mapping[str, Any], key: str, gen: torch.Generator) -> None:
    """CheckpointError unless ``tree[key]`` is a uint8 array shaped like ``gen``'s state."""
    arr = _entry(tree, key, np.ndarray, key)
    want = tuple(gen.get_state().shape)
    if arr.dtype != np.uint8 or arr.shape != want:
        raise CheckpointError(
            f"state entry {key!r} must be a uint8 array of shape {want}, "
            f"got shape {arr.shape} dtype {arr.dtype}"
        )


def check_stream_state(tree: Mapping[str, Any], key: str) -> None:
    """CheckpointError unless ``tree[key]``, where present, is a counter-based stream's state
    (uint64[2]); a checkpoint written before the stream existed has none."""
    if key not in tree:
        return
    arr = tree[key]
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint64 or arr.shape != (2,):
        raise CheckpointError(f"state entry {key!r} must be a uint64 array of shape (2,)")
