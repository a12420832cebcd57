"""Checking hwsim against measurements: measured-case rows -> workloads, eager composition, metrics."""
