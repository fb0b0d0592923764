"""The office's business rules, written once: targets, thresholds, statutory clocks, codes, time.

Both feature engines, the model vocabularies, the snapshot defaults, the list job
and the page read these names; a rule changed here changes everywhere.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from earlywarn.contract.spec import OFFICE_TIME_ZONE

# What we predict (contract section 4), in the order every output lists them.
TARGETS: tuple[str, ...] = ("escalation", "collective")
TARGET_NAMES = {"escalation": ("越级访", "escalation"), "collective": ("集体访", "collective")}
DEFAULT_HORIZON_DAYS = 30
# A contact of this many people or more is a group visit (集体访).
GROUP_THRESHOLD = 5
# A case stays in the scoring population this long after its last contact or action.
POPULATION_LOOKBACK_DAYS = 365

# Statutory clocks of the 信访工作条例: accept or refuse within 15 days of
# registration, answer within 60 days of acceptance (or of reopening).
ACCEPT_CLOCK_DAYS = 15
ANSWER_CLOCK_DAYS = 60

# The review ladder, as an ordinal: how far up the case has asked to be reconsidered.
REVIEW_STAGE: dict[str, int] = {
    "review_requested": 1,
    "review_decided": 2,
    "re_review_requested": 3,
    "re_review_decided": 4,
}
REVIEW_DECISIONS: tuple[str, ...] = ("review_decided", "re_review_decided")
# The last answer's outcome as a code; 0 = no answer yet.
ANSWER_CODE: dict[str, int] = {"supported": 1, "partly_supported": 2, "not_supported": 3}

OFFICE_ZONE = ZoneInfo(OFFICE_TIME_ZONE)


def office_now() -> dt.datetime:
    """Now, as naive office local time."""
    return dt.datetime.now(OFFICE_ZONE).replace(tzinfo=None)


def office_time(value: dt.datetime) -> dt.datetime:
    """Naive office local time; an offset is converted (contract section 1).

    Raises ``ValueError`` for a moment that has no office local time (near the ends of
    the calendar), so that callers answer a client error rather than crash.
    """
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(OFFICE_ZONE).replace(tzinfo=None)
    except (OverflowError, ValueError) as error:
        raise ValueError(f"{value.isoformat()} has no office local time") from error


def with_office_offset(value: dt.datetime) -> str:
    """Office local time as RFC 3339, with its offset spelled out."""
    return value.replace(tzinfo=OFFICE_ZONE).isoformat()


def end_of_day(day: dt.date) -> dt.datetime:
    """The moment a day's list stands at: midnight after the day (office local time)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
