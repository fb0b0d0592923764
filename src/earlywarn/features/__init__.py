"""Point-in-time features and labels (issue: feature pipeline).

Owns the meaning of every feature, once: a batch path for training snapshots
and the daily list, an online path for one case, held equal by a parity test.
"""
