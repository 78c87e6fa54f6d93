"""EnvPool adapters: the numpy suites (GridWorld-4, PointMass-4), Gymnasium env ids and
Meta-World, the slot machinery they share and the worker-process backend."""
