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
from dataclasses import dataclass, field
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
    """``threshold`` is a whole amount in the company currency; ``reason``
    says how it was found; ``warnings`` say when not to trust it blindly."""

    threshold: int
    reason: str
    warnings: list = field(default_factory=list)
    count: int = 0
    total: float = 0.0


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
        return Recommendation(
            threshold=DEFAULT_THRESHOLD,
            reason=(
                f"Less than {MONTHS} months of deductions (none dated on or before "
                f"{start.isoformat()}): {DEFAULT_THRESHOLD} is recommended until there is more history."
            ),
        )
    amounts = sorted(abs(amount) for day, amount in samples if start <= day <= today and amount)
    total = math.fsum(amounts)
    if not amounts:
        return Recommendation(
            threshold=DEFAULT_THRESHOLD,
            reason=f"No deduction in the last {MONTHS} months: {DEFAULT_THRESHOLD} is recommended.",
        )
    target = SHARE * total
    running = 0.0
    threshold = math.floor(amounts[-1]) + 1
    for amount in amounts:
        running += amount
        if running >= target - 1e-9:
            threshold = math.floor(amount) + 1
            break
    warnings = []
    if len(amounts) < FEW_DEDUCTIONS:
        warnings.append(
            f"Only {len(amounts)} deductions in the last {MONTHS} months: the figure may move a lot."
        )
    if amounts[-1] > OUTLIER_SHARE * total:
        warnings.append(
            f"One deduction of {amounts[-1]:,.2f} holds {amounts[-1] / total:.0%} of the dollars: "
            "outliers drive the figure."
        )
    return Recommendation(
        threshold=threshold,
        reason=(
            f"Deductions under {threshold} hold at least {SHARE:.0%} of the {total:,.2f} deducted "
            f"in {len(amounts)} deductions since {start.isoformat()}."
        ),
        warnings=warnings,
        count=len(amounts),
        total=total,
    )


def month_key(day):
    """``(year, month)`` of a date, the period of a below-threshold promotion."""
    return (day.year, day.month)


def month_label(day):
    return date(day.year, day.month, 1).strftime("%B %Y")
