"""Decisions taken on the command line (promote, rollback, a new challenger) go to the
audit chain as well as to the model version's tags."""

from __future__ import annotations

from earlywarn.serving.audit import audit, audit_key
from earlywarn.serving.store import open_store
from earlywarn.settings import Settings


def record(settings: Settings, action: str, target: str, result: str) -> None:
    """One audit record for a model decision taken on the command line."""
    with open_store(settings).begin() as session:
        key = audit_key(settings, session)
        audit(session, key, "command line", action, target, 1, result[:200])
