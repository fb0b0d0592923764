"""The data contract in code: read, check, redact and quarantine case records."""

from earlywarn.contract.loader import Dataset, Mode, load_dataset
from earlywarn.contract.report import ContractError, TableSummary, ValidationReport
from earlywarn.contract.spec import CONTRACT_VERSION

__all__ = [
    "CONTRACT_VERSION",
    "ContractError",
    "Dataset",
    "Mode",
    "TableSummary",
    "ValidationReport",
    "load_dataset",
]
