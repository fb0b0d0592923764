"""What a score answer must be read with, said in the answer itself (``notes``).

A request the API accepts may still be read otherwise than its sender meant: a category
it does not know is read as "other", a case sent without its handling steps is scored
without them, a case the daily list would leave out (terminated, quiet for a year) is
scored all the same. Each is said in one sentence, English then Chinese, so that the
integrator sees it in the answer rather than in a lower score.

Categories are also taken as offices write them (征地补偿, 拖欠工资): the same names an
import maps (``ingest.vocabulary``), so that a case scored through the API and the same
case imported from the office's export read alike.
"""

from __future__ import annotations

import datetime as dt

from earlywarn.contract.rules import POPULATION_LOOKBACK_DAYS, office_now
from earlywarn.contract.spec import CATEGORIES
from earlywarn.ingest.vocabulary import code_of
from earlywarn.serving.schemas import ScoreRequest


def category_code(value: str) -> str | None:
    """The contract's code for a category given as a code or as offices name it."""
    return value if value in CATEGORIES else code_of("category", value)


def request_notes(request: ScoreRequest, as_of: dt.datetime) -> list[str]:
    notes = []
    category = request.case.category
    if category_code(category) is None:
        notes.append(
            f"case.category {category!r} is neither a category code nor a name the office "
            "vocabulary knows: read as 'other', which scores it lower than its own category "
            "would (未知的问题类别，按“其他”处理)"
        )
    if request.actions is None:
        notes.append(
            "actions not given: scored with the handling history unknown, as for a dataset "
            "without handling steps, and no step that depends on them is recommended; send "
            "[] for a case with no handling yet "
            "(未提供办理记录：按办理情况未知评分；尚无办理记录请传空列表)"
        )
    terminated = [
        a.occurred_at
        for a in request.actions or []
        if a.action_type == "terminated" and a.occurred_at <= as_of
    ]
    if terminated:
        notes.append(
            f"the case was terminated on {min(terminated).date()}: the daily list leaves it "
            "out (事项已终止，不列入每日风险清单)"
        )
    moments = [c.occurred_at for c in request.contacts] + [
        a.occurred_at for a in request.actions or []
    ]
    latest = max((m for m in moments if m <= as_of), default=None)
    quiet_since = as_of - dt.timedelta(days=POPULATION_LOOKBACK_DAYS)
    if latest is None or latest < quiet_since:
        notes.append(
            f"no contact or handling step in the {POPULATION_LOOKBACK_DAYS} days before as_of: "
            "the daily list leaves the case out (一年内无信访或办理记录，不列入每日风险清单)"
        )
    early = sum(1 for c in request.contacts if c.occurred_at < request.case.registered_at)
    if early:
        notes.append(
            f"{early} contact(s) before the case's registered_at: scored as given; is "
            "registered_at the case's first registration? (有信访记录早于事项登记时间)"
        )
    if as_of > office_now() + dt.timedelta(days=1):
        notes.append(
            f"as_of {as_of.isoformat()} is later than now: the case is scored as of a "
            "moment that has not come, with the history given (评分时点晚于当前时间)"
        )
    return notes
