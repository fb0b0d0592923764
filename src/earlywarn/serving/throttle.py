"""Back-off for callers who keep failing to authenticate (a wrong API key, a bad sign-in).

Per client address and per process: after ``FREE_FAILURES`` failures within
``WINDOW_SECONDS``, each further attempt must wait twice as long as the last (from
1 s up to ``MAX_WAIT_SECONDS``), answered 429 with ``Retry-After``; the first 429
of each wait is audited, the rest are counted and said with the next record. A
success clears the address. Guessing a key (256 random bits) is hopeless anyway; this
keeps a misconfigured client or a scanner from filling the audit log and the CPU. An
API call with a valid key is served while its address waits (only unknown keys wait):
a case system's component still sending a revoked key, or another client behind the
same proxy, held back every valid call from that address; the sign-in form waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FREE_FAILURES = 5
WINDOW_SECONDS = 300.0
MAX_WAIT_SECONDS = 300.0
_TRACKED = 10_000  # addresses remembered at most; the oldest are forgotten first


@dataclass
class _Record:
    failures: int
    first_at: float
    blocked_until: float
    recorded_until: float = 0.0  # the wait whose first refusal was audited
    unrecorded: int = 0  # refusals of that wait not audited one by one


class FailureThrottle:
    def __init__(
        self, free_failures: int = FREE_FAILURES, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._free = free_failures
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()
        self._now = now

    def wait_seconds(self, address: str) -> float:
        """How long this address must still wait before trying again (0: go ahead)."""
        with self._lock:
            record = self._records.get(address)
            return max(0.0, record.blocked_until - self._now()) if record else 0.0

    def failed(self, address: str) -> None:
        now = self._now()
        with self._lock:
            record = self._records.get(address)
            if record is None or now - record.first_at > WINDOW_SECONDS:
                record = _Record(0, now, 0.0)
            record.failures += 1
            beyond = record.failures - self._free + 1  # the free ones used up: wait
            if beyond > 0:
                record.blocked_until = now + min(MAX_WAIT_SECONDS, 2.0 ** (beyond - 1))
            self._records.pop(address, None)
            self._records[address] = record
            while len(self._records) > _TRACKED:
                self._records.pop(next(iter(self._records)))

    def audit_held_back(self, address: str) -> bool:
        """Whether this refusal of a waiting address is to be audited: the first of each
        wait is, the rest are counted (``unrecorded``) and said with the next record. A
        client that kept calling during its wait wrote a record per call, without limit
        (1,807 in eight seconds), into a chain nothing may be removed from."""
        with self._lock:
            record = self._records.get(address)
            if record is None or record.recorded_until != record.blocked_until:
                if record is not None:
                    record.recorded_until = record.blocked_until
                return True
            record.unrecorded += 1
            return False

    def unrecorded(self, address: str) -> int:
        """The refusals of this address not audited one by one since the last record;
        counted from zero again."""
        with self._lock:
            record = self._records.get(address)
            if record is None:
                return 0
            count, record.unrecorded = record.unrecorded, 0
            return count

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._records.pop(address, None)
