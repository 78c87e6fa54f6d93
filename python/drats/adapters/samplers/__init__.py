"""TaskSampler adapters: DRATS in C++ and its numpy oracle, Uniform, and the curriculum
baselines (Hedge, Learning Progress, SMT). Register a new one in
:data:`drats.application.registry.SAMPLERS`."""
