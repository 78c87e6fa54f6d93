"""EnvPool adapters: the numpy suites (GridWorld-4, PointMass-4, over the shared plumbing of
``array_pool``), Gymnasium env ids and Meta-World (env families, over ``family``, ``layouts``
and the two backends ``slot_pool`` / ``process_pool``), and ``factory``, which builds a family
pool on either backend and holds the backend rule every suite follows."""
