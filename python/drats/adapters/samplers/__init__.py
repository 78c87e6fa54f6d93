"""TaskSampler adapters, one per module: DRATS in C++ (``drats``) and its numpy oracle
(``numpy_drats``), Uniform in C++ (``uniform``) and in numpy (``numpy_uniform``), and the
curriculum baselines in numpy (``hedge``, ``learning_progress``, ``smt``). The numpy samplers
hold the shared per-task statistics (``window_stats``) and draws (``alias_draws``);
``gap_settings`` has the settings checks and state-dict layout they all share. Register a new
sampler in :data:`drats.application.registry.SAMPLERS`."""
