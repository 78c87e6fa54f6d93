"""MetricsSink adapters (TensorBoard)."""
