"""Experiments: snapshots, time-based backtests, baselines, reports, registration, promotion."""
