"""Typed errors raised at every public entry point of drats.

Each error subclasses the builtin a caller would naturally catch (``ValueError``,
``IndexError``, ``TypeError``), so ``except ValueError`` keeps working, while
``except DratsError`` catches everything drats raises on purpose.
"""

from __future__ import annotations


class DratsError(Exception):
    """Base class of every error drats raises deliberately."""


class ConfigError(DratsError, ValueError):
    """A constructor argument or setting is outside its valid range."""


class InvalidInputError(DratsError, ValueError):
    """An array has the wrong shape, or holds NaN, inf or out-of-range values."""


class InvalidDtypeError(DratsError, TypeError):
    """An array has a dtype that cannot be converted safely."""


class UnknownTaskError(DratsError, IndexError):
    """A task id (or a replay index) is outside ``[0, num_tasks)`` (or unused)."""


class EmptyTaskError(DratsError, ValueError):
    """Transitions were requested from a task that holds none."""


class CheckpointError(DratsError, ValueError):
    """A state dict or checkpoint file is corrupt or belongs to another configuration."""
