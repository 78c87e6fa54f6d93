"""The size limits of drats, each beside its C++ twin (the Python check runs first, so a request
beyond a limit is a typed error before any memory is touched).

=====================  ==========================================  ==============================
limit                  what it bounds                              C++ twin
=====================  ==========================================  ==============================
``MAX_TASKS``          tasks of a sampler or a replay              none: checked by the adapters
``MAX_SLOTS``          environment slots of a pool                 none: pools are Python
``MAX_DRAWS``          draws of one call (rows of a batch, task    ``PerTaskReplay::kMaxDraws``
                       ids of one ``sample``)
``MAX_HISTORY``        ``num_tasks * success_window`` flags kept   ``GapSampler::kMaxHistory``
``MAX_REPLAY_VALUES``  float32 values a replay holds               ``PerTaskReplay::kMaxValues``
=====================  ==========================================  ==============================
"""

from __future__ import annotations

#: The most tasks a sampler or replay accepts: each task gets its own state, and a million is far
#: beyond any multi-task suite.
MAX_TASKS = 2**20

#: The most slots an env pool accepts: each slot keeps its own RNG and counters, and 65,536 is
#: far beyond any vectorised env.
MAX_SLOTS = 2**16

#: The most draws one call may ask for: rows of one batch, or task ids of one ``sample``.
MAX_DRAWS = 2**31 - 1

#: The most success flags a gap sampler keeps (``num_tasks * success_window``).
MAX_HISTORY = 2**31 - 1

#: The most float32 values a replay may hold (observations, next observations, actions, rewards
#: and terminal flags of every slot of every task).
MAX_REPLAY_VALUES = 2**40

__all__ = ["MAX_DRAWS", "MAX_HISTORY", "MAX_REPLAY_VALUES", "MAX_SLOTS", "MAX_TASKS"]
