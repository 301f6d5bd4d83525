"""Recommended below-threshold amount.

The below-threshold rule clears every deduction smaller than its threshold.
The recommendation aims at the "bottom 4 % of deduction dollars": the
smallest whole currency amount ``T`` such that the deductions with
``|amount| < T`` hold at least 4 % of the total ``|amount|`` of the last
three months.

>>> from datetime import date
>>> rec = recommend_threshold([(date(2024, 1, 5), 10.0)] * 30 + [(date(2024, 3, 1), 500.0)] * 10,
...                           today=date(2024, 4, 2), oldest=date(2023, 12, 1))
>>> rec.threshold
11
"""
import math
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

#: share of the deduction dollars the threshold should clear
SHARE = 0.04
#: months of history looked at
MONTHS = 3
#: recommendation when there is not enough history
DEFAULT_THRESHOLD = 100
#: fewer deductions than this in the window: the figure is fragile
FEW_DEDUCTIONS = 30
#: one deduction holding more than this share of the dollars drives the figure
OUTLIER_SHARE = 0.25


@dataclass
class Recommendation:
    """``threshold`` is a whole amount in the company currency; ``basis``
    says how it was found: ``short_history`` (no deduction three months
    old yet), ``no_recent`` (none in the window) or ``share`` (the bottom
    4 %). ``few`` and ``outlier`` (the largest amount, when it holds more
    than a quarter of the dollars) say when not to trust it blindly."""

    threshold: int
    basis: str
    since: date
    count: int = 0
    total: float = 0.0
    few: bool = False
    outlier: float | None = None

    @property
    def warnings(self):
        return [w for w in ("few" if self.few else None, "outlier" if self.outlier else None) if w]


def window_start(today):
    """First day of the history the recommendation reads."""
    return today - relativedelta(months=MONTHS)


def recommend_threshold(samples, today, oldest=None):
    """Recommend a threshold from deductions.

    :param samples: iterable of ``(transaction_date, amount)`` of the
        non-void deductions (repayments are negative, their size counts)
    :param date today: the day of the recommendation
    :param oldest: transaction date of the oldest non-void deduction of the
        company (any age), or ``None`` when there is none; when it is younger
        than three months the data is too short and 100 is recommended
    :return: :class:`Recommendation`
    """
    start = window_start(today)
    if oldest is None or oldest > start:
        return Recommendation(threshold=DEFAULT_THRESHOLD, basis="short_history", since=start)
    amounts = sorted(abs(amount) for day, amount in samples if start <= day <= today and amount)
    if not amounts:
        return Recommendation(threshold=DEFAULT_THRESHOLD, basis="no_recent", since=start)
    total = math.fsum(amounts)
    target = SHARE * total
    running = 0.0
    threshold = math.floor(amounts[-1]) + 1
    for amount in amounts:
        running += amount
        if running >= target - 1e-9:
            threshold = math.floor(amount) + 1
            break
    return Recommendation(
        threshold=threshold,
        basis="share",
        since=start,
        count=len(amounts),
        total=total,
        few=len(amounts) < FEW_DEDUCTIONS,
        outlier=amounts[-1] if amounts[-1] > OUTLIER_SHARE * total else None,
    )


def month_key(day):
    """``(year, month)`` of a date, the period of a below-threshold promotion."""
    return (day.year, day.month)
