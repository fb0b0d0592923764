"""Monitoring: whether the model still fits the world it scores (docs/monitoring.md)."""
