"""When an auto-adjustment rule is due, and which period a run belongs to.

Plain Python, no ORM. A rule is due on a date according to its frequency:

* ``once``: on its one date;
* ``weekly``: on its weekday (0 = Monday … 6 = Sunday);
* ``monthly``: on its day of month; a day the month does not have (29, 30,
  31) falls on the month's last day;
* ``yearly``: on its month and day; 29 February falls on 28 February in
  years that are not leap years.

>>> from datetime import date
>>> monthly_31 = Schedule("monthly", month_day=31)
>>> is_due(monthly_31, date(2023, 2, 28)), is_due(monthly_31, date(2023, 3, 30))
(True, False)

The *period key* names what "at most once" means for a rule applied on a
date: ``unlimited`` rules adjust an account at most once per period of
their schedule (the ISO week of a weekly rule, the calendar month of a
monthly one, the calendar year of a yearly one), whichever day of that
period they are applied on; one-time rules and the other limits at most
once ever (per account or per debtor).

>>> period_key("monthly", "unlimited", date(2024, 3, 1)), period_key("monthly", "unlimited", date(2024, 3, 15))
('2024-03', '2024-03')
>>> period_key("weekly", "unlimited", date(2024, 12, 30)), period_key("yearly", "unlimited", date(2024, 7, 1))
('2025-W01', '2024')
>>> period_key("monthly", "once_per_account", date(2024, 3, 1))
'once'
"""
import calendar
from dataclasses import dataclass
from datetime import date

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__, default_lang="en_US")

FREQUENCIES = ("once", "weekly", "monthly", "yearly")
APPLY_LIMITS = ("unlimited", "once_per_account", "once_per_debtor")

#: the period key of the rules applied at most once (per account or debtor)
ONCE_KEY = "once"


@dataclass(frozen=True)
class Schedule:
    """A rule's frequency and the one parameter it uses."""

    frequency: str
    once_date: date | None = None
    weekday: int | None = None
    month_day: int | None = None
    month: int | None = None


def scheduled_day(year, month, day):
    """The date ``day`` of ``month`` falls on: the month's last day when the
    month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def check_schedule(schedule):
    """Return why ``schedule`` is incomplete or impossible, or None.

    The reason is lazily translated: ``str(reason)`` (or ``env._(reason)``)
    gives it in the user's language.

    >>> str(check_schedule(Schedule("weekly")))
    'a weekly rule needs a weekday'
    >>> check_schedule(Schedule("weekly", weekday=0)) is None
    True
    """
    freq = schedule.frequency
    if freq not in FREQUENCIES:
        return _lt("unknown frequency %(frequency)s", frequency=repr(freq))
    if freq == "once" and not schedule.once_date:
        return _lt("a one-time rule needs its date")
    if freq == "weekly" and schedule.weekday not in range(7):
        return _lt("a weekly rule needs a weekday")
    if freq in ("monthly", "yearly") and schedule.month_day not in range(1, 32):
        return _lt("the day of month must be between 1 and 31")
    if freq == "yearly":
        if schedule.month not in range(1, 13):
            return _lt("a yearly rule needs a month")
        # 29 February is allowed (falls on the 28th); 30 February is not
        if schedule.month_day > calendar.monthrange(2024, schedule.month)[1]:
            return _lt("that month has no such day")
    return None


def is_due(schedule, day):
    """Whether a rule with ``schedule`` applies on ``day``."""
    freq = schedule.frequency
    if freq == "once":
        return schedule.once_date == day
    if freq == "weekly":
        return schedule.weekday == day.weekday()
    if freq == "monthly":
        return bool(schedule.month_day) and scheduled_day(day.year, day.month, schedule.month_day) == day
    if freq == "yearly":
        if schedule.month != day.month or not schedule.month_day:
            return False
        return scheduled_day(day.year, schedule.month, schedule.month_day) == day
    raise ValueError(f"unknown frequency {freq!r}")


def period_key(frequency, apply_limit, day):
    """The key that, with the rule and the account (or the debtor), may
    appear at most once among applied adjustments.

    ``unlimited``: the period of the schedule that ``day`` falls in: ISO
    week ``YYYY-Www`` (weekly), month ``YYYY-MM`` (monthly), year ``YYYY``
    (yearly), so one adjustment per account per period however often and
    on whichever day the rule is applied in it; a one-time rule has one
    occurrence, so its key is constant. ``once_per_account`` and
    ``once_per_debtor``: a constant, so never twice.
    """
    if apply_limit in ("once_per_account", "once_per_debtor"):
        return ONCE_KEY
    if apply_limit != "unlimited":
        raise ValueError(f"unknown apply limit {apply_limit!r}")
    if frequency == "weekly":
        year, week, __ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if frequency == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if frequency == "yearly":
        return f"{day.year:04d}"
    if frequency == "once":
        return ONCE_KEY
    raise ValueError(f"unknown frequency {frequency!r}")
