"""Reliability: crashes, fuzzing, bad input, faults, safety and data at rest."""
