"""Sweep engines: where the runs of ``drats sweep`` execute (worker processes on this machine,
or Ray tasks on a cluster)."""
