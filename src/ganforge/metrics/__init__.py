"""Metrics: fidelity, detection, utility, privacy. Each takes data and a schema and returns plain results."""
