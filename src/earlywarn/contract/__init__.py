"""The data contract in code: read, check, redact and quarantine case records.

The package's names are loaded when first used (PEP 562), so that importing one
light module of it (``contract.spec`` for the version, say) does not load Polars:
the command line answers ``--help`` without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names as the package offers them, for type checkers
    from earlywarn.contract.loader import Dataset as Dataset
    from earlywarn.contract.loader import load_dataset as load_dataset
    from earlywarn.contract.report import ContractError as ContractError
    from earlywarn.contract.report import TableSummary as TableSummary
    from earlywarn.contract.report import ValidationReport as ValidationReport
    from earlywarn.contract.spec import CONTRACT_VERSION as CONTRACT_VERSION
    from earlywarn.contract.spec import Mode as Mode

_HOMES = {
    "CONTRACT_VERSION": "earlywarn.contract.spec",
    "ContractError": "earlywarn.contract.report",
    "Dataset": "earlywarn.contract.loader",
    "Mode": "earlywarn.contract.spec",
    "TableSummary": "earlywarn.contract.report",
    "ValidationReport": "earlywarn.contract.report",
    "load_dataset": "earlywarn.contract.loader",
}
__all__ = [
    "CONTRACT_VERSION",
    "ContractError",
    "Dataset",
    "Mode",
    "TableSummary",
    "ValidationReport",
    "load_dataset",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'earlywarn.contract' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
