"""The office's capacity: how many cases a day's list asks people to work.

The larger of a share of the scoring population and a minimum (settings); training
measures precision and recall there, and the daily list explains at least that many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Capacity:
    share: float = 0.02
    minimum: int = 50

    def at(self, population: int) -> int:
        return min(population, max(math.ceil(self.share * population), self.minimum))
