"""The roles an API key carries: a leaf, so that the command line can name them
without loading the store."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASE_SYSTEM = "case_system"  # score only
    OFFICE = "office"  # lists and reviews of its own county
    ANALYST = "analyst"  # read everything, no reviews
    ADMIN = "admin"
