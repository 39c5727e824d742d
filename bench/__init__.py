"""Benchmarks: not tests; run on demand (python -m bench.<name>); they print figures."""
