"""ReplayBuffer adapters: the per-task prioritized replay in C++ and its numpy oracle."""
