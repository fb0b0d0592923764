"""earlywarn: early-warning risk scoring for petition cases (信访事项预警)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("earlywarn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
