"""Data quality and how past lists turned out.

* the share of each table's rows the loader quarantined, and the age of the newest
  contact or handling step at the list's moment (a late or partial export);
* for the latest list whose horizon has passed: precision and recall of its flags
  (precision also apart for the flagged cases the office acted on and the others:
  an action may be why a case did not escalate), ROC-AUC, and calibration (mean
  probability against the observed rate, overall and per band), and its precision
  against the precision it promised (``precision.py``); for today's list, the
  expected precision of its flags (the mean probability of the flagged cases), marked
  as an estimate. Before any list has matured, the comparison is stored as not
  judged yet, with the day the first stored list matures.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from earlywarn.contract import Dataset
from earlywarn.contract.rules import DEFAULT_HORIZON_DAYS, TARGETS, end_of_day
from earlywarn.features.labels import label_targets
from earlywarn.ingest.run import IMPORT_REPORT
from earlywarn.serving.monitor.checks import Check, status_of
from earlywarn.serving.monitor.precision import compare, shortfall_check, waiting_checks
from earlywarn.serving.store import Review, RiskList, RiskListItem
from earlywarn.serving.treatment import ACTED


def data_quality(dataset: Dataset, as_of: dt.datetime) -> list[Check]:
    report_file = dataset.path / IMPORT_REPORT
    imported = json.loads(report_file.read_text("utf-8")) if report_file.exists() else {}
    # An office's export is checked when it is imported, and the rows it loses are
    # quarantined there; the dataset it is merged into loads clean. So the night's
    # share is the import's, when there was one.
    counted = imported.get("tables") or {}
    checks = []
    for table in dataset.report.tables:
        read, quarantined = table.rows_read, table.rows_quarantined
        if table.table in counted:
            read, quarantined = counted[table.table]["read"], counted[table.table]["quarantined"]
        if not read:
            continue
        share = quarantined / read
        detail = {"read": read, "quarantined": quarantined}
        checks.append(Check("quarantine_share", table.table, round(share, 6),
                            status_of("quarantine_share", share), detail))  # fmt: skip
    checks += _unmapped(imported) if imported else []
    # Each table's own newest record: an export whose handling steps stopped (or were
    # left out, the header alone) beside fresh contacts read as fresh, and the verdict
    # blamed the model's fit on 23 handling features. A dataset without an actions
    # table (an office that keeps none) has no such check.
    for name, newest in newest_records(dataset, as_of).items():
        if newest is None:
            # No record at all: as old as the data itself (a value, so that it is judged).
            first = dataset.cases["registered_at"].min()
            span = (as_of - first).total_seconds() / 86_400 if isinstance(first, dt.datetime) else 0
            empty = {"newest": None, "note": "no record at or before the day"}
            checks.append(
                Check("newest_record_days", name, round(max(span, 7.0), 3), "alert", empty)
            )
            continue
        age = (as_of - newest).total_seconds() / 86_400
        checks.append(Check("newest_record_days", name, round(age, 3),
                            status_of("newest_record_days", age),
                            {"newest": newest.isoformat()}))  # fmt: skip
    return checks


def _unmapped(report: dict[str, Any]) -> list[Check]:
    """From the last import's report: the share of rows holding a value no vocabulary
    knows (a new name for a category, a misspelt level), and the headers left unread."""
    rows = max(int(report.get("rows") or 0), 1)
    values = report.get("unmapped_values") or []
    share = sum(int(v["rows"]) for v in values) / rows
    headers = report.get("unmapped_headers") or {}
    return [
        Check("unmapped_share", "import", round(share, 6), status_of("unmapped_share", share),
              {"values": values[:20], "imported_at": report.get("imported_at")}),
        Check("unmapped_headers", "import", float(sum(len(h) for h in headers.values())), "ok",
              {"headers": headers}),
    ]  # fmt: skip


def expected_precision(
    probability: dict[str, np.ndarray], flagged: dict[str, np.ndarray]
) -> list[Check]:
    """Today's list before its outcomes are known: what its flags should be worth."""
    checks = []
    for target in TARGETS:
        chosen = probability[target][flagged[target]]
        value = float(chosen.mean()) if chosen.size else None
        checks.append(Check("expected_precision", target, value, "ok",
                            {"estimate": True, "flagged": int(chosen.size)}))  # fmt: skip
    return checks


def outcomes_known_until(dataset: Dataset, as_of: dt.datetime) -> dt.datetime | None:
    """Up to when the data can say what happened: the end of the day of its newest
    contact or handling step at ``as_of`` (an export covers whole days), never later than
    ``as_of``. A list matures when its horizon ends by then: by the calendar alone, an
    export that stopped a week ago let lists mature with no outcome in the data, and a
    challenger was judged, and retired, on outcomes that were never seen. The monitoring
    checks, the challenger's judgement and the trends page read this one rule. None: the
    data holds no record up to ``as_of``, so no outcome is known."""
    found = [t for t in newest_records(dataset, as_of).values() if t is not None]
    return min(as_of, end_of_day(max(found).date())) if found else None


def newest_records(dataset: Dataset, as_of: dt.datetime) -> dict[str, dt.datetime | None]:
    """Per event table the dataset holds (contacts; actions, when it has the table), its
    newest record at or before ``as_of``, or None when it holds none."""
    tables = {"contacts": dataset.contacts, "actions": dataset.actions}
    found: dict[str, dt.datetime | None] = {}
    for name, frame in tables.items():
        if frame is not None:
            newest = frame["occurred_at"].filter(frame["occurred_at"] <= as_of).max()
            found[name] = newest if isinstance(newest, dt.datetime) else None
    return found


def matured_list(
    session: Session, known_until: dt.datetime | None, horizon_days: int
) -> RiskList | None:
    """The latest stored list whose horizon ended by ``known_until``."""
    if known_until is None:
        return None
    return session.scalars(
        select(RiskList)
        .where(RiskList.as_of <= known_until - dt.timedelta(days=horizon_days))
        .order_by(RiskList.list_date.desc())
    ).first()


def matured_performance(
    session: Session, dataset: Dataset, as_of: dt.datetime, horizon_days: int = DEFAULT_HORIZON_DAYS
) -> list[Check]:
    header = matured_list(session, outcomes_known_until(dataset, as_of), horizon_days)
    if header is None:
        first = session.scalars(select(RiskList).order_by(RiskList.as_of)).first()
        # a list made as of the end of day L has matured for the day L + horizon
        matures = first.list_date + dt.timedelta(days=horizon_days) if first else None
        return waiting_checks(TARGETS, first.list_date if first else None, matures)
    rows = session.execute(
        select(RiskListItem.case_id, RiskListItem.escalation_probability,
               RiskListItem.collective_probability, RiskListItem.escalation_flag,
               RiskListItem.collective_flag, RiskListItem.risk_band)
        .where(RiskListItem.list_id == header.id)
    ).all()  # fmt: skip
    if not rows:  # an empty list (a day before the data, an empty export): nothing to judge
        return []
    items = pl.DataFrame(
        rows,
        schema={"case_id": pl.String, "escalation_p": pl.Float64, "collective_p": pl.Float64,
                "escalation_f": pl.Boolean, "collective_f": pl.Boolean, "band": pl.String},
        orient="row",
    )  # fmt: skip
    labels = label_targets(items.select("case_id"), dataset.contacts, header.as_of, horizon_days)
    treated = set(
        session.scalars(
            select(Review.case_id).where(
                Review.list_date == header.list_date, Review.decision == ACTED
            )
        )
    )
    joined = items.join(labels, on="case_id", how="left")
    checks = []
    for target in TARGETS:
        happened = joined[target].fill_null(False).to_numpy()
        p = joined[f"{target}_p"].to_numpy()
        flags = joined[f"{target}_f"].to_numpy()
        subject = f"{target}@{header.list_date.isoformat()}"
        bands = {
            band: {"cases": int(inside.sum()), "expected": float(p[inside].mean()),
                   "observed": float(happened[inside].mean())}
            for band in ("high", "medium", "low")
            if (inside := joined["band"].to_numpy() == band).any()
        }  # fmt: skip
        gap = abs(float(p.mean()) - float(happened.mean()))
        precision = float(happened[flags].mean()) if flags.any() else None
        recall = float(flags[happened].mean()) if happened.any() else None
        auc = float(roc_auc_score(happened, p)) if 0 < happened.sum() < happened.size else None
        acted = joined["case_id"].is_in(list(treated)).to_numpy()
        apart = {
            name: (float(happened[flags & chosen].mean()) if (flags & chosen).any() else None,
                   int((flags & chosen).sum()))
            for name, chosen in (("acted", acted), ("not_acted", ~acted))
        }  # fmt: skip
        kept = flags & ~acted  # the office's action may be why a case did not escalate
        found = compare(p[kept], happened[kept])
        checks += [
            shortfall_check(subject, found, int((flags & acted).sum())),
            *(
                Check(f"matured_precision_{name}", subject, value, "ok", {"flagged": n})
                for name, (value, n) in apart.items()
            ),
            Check("matured_precision", subject, precision, "ok", {"flagged": int(flags.sum())}),
            Check("matured_recall", subject, recall, "ok", {"happened": int(happened.sum())}),
            Check("matured_auc", subject, auc, "ok", {"cases": int(happened.size)}),
            Check("calibration_gap", subject, round(gap, 6), status_of("calibration_gap", gap),
                  {"bands": bands}),
        ]  # fmt: skip
    return checks
