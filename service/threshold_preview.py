"""What a site's thresholds would have done to its recent checks, before an admin saves them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from model import Thresholds
from service.models import Check, utc_now


def preview_thresholds(
    session: Session, site_id: int, thresholds: Thresholds, days: int = 7
) -> dict[str, int]:
    """How many of the site's checks of the last `days` days each threshold would have flagged.

    Counted on the stored model probability (test checks left out): `unsure` counts checks at or
    above the unsure threshold but below spam, `spam` those at or above spam but below discard.
    """

    def between(low: float, high: float | None) -> ColumnElement[int]:
        above = Check.probability >= low
        inside = above if high is None else above & (Check.probability < high)
        return func.sum(case((inside, 1), else_=0))

    query = select(
        func.count(),
        between(thresholds.unsure, thresholds.spam),
        between(thresholds.spam, thresholds.discard),
        between(thresholds.discard, None),
    ).where(
        Check.site_id == site_id,
        Check.is_test.is_(False),
        Check.created_at >= utc_now() - timedelta(days=days),
    )
    total, unsure, spam, discard = session.execute(query).one()
    return {
        "days": days,
        "checks": int(total or 0),
        "ham": int(total or 0) - int(unsure or 0) - int(spam or 0) - int(discard or 0),
        "unsure": int(unsure or 0),
        "spam": int(spam or 0),
        "discard": int(discard or 0),
    }
