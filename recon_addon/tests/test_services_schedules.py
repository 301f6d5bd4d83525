from datetime import date, timedelta

from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.schedules import (
    FREQUENCIES,
    ONCE_KEY,
    Schedule,
    check_schedule,
    is_due,
    period_key,
    scheduled_day,
)


@tagged("post_install", "-at_install")
class TestSchedules(BaseCase):

    def test_one_time_rule_is_due_on_its_date_only(self):
        schedule = Schedule("once", once_date=date(2024, 5, 17))
        self.assertTrue(is_due(schedule, date(2024, 5, 17)))
        self.assertFalse(is_due(schedule, date(2024, 5, 18)))
        self.assertFalse(is_due(schedule, date(2025, 5, 17)))

    def test_weekly_rule_is_due_on_its_weekday(self):
        schedule = Schedule("weekly", weekday=0)  # Monday
        self.assertTrue(is_due(schedule, date(2024, 3, 4)))
        self.assertTrue(is_due(schedule, date(2024, 3, 11)))
        self.assertFalse(is_due(schedule, date(2024, 3, 5)))

    def test_monthly_rule_on_the_first(self):
        schedule = Schedule("monthly", month_day=1)
        self.assertTrue(is_due(schedule, date(2024, 3, 1)))
        self.assertTrue(is_due(schedule, date(2024, 4, 1)))
        self.assertFalse(is_due(schedule, date(2024, 3, 2)))

    def test_monthly_day_31_falls_on_the_last_day_of_shorter_months(self):
        schedule = Schedule("monthly", month_day=31)
        self.assertTrue(is_due(schedule, date(2024, 1, 31)))
        self.assertTrue(is_due(schedule, date(2024, 2, 29)))
        self.assertTrue(is_due(schedule, date(2023, 2, 28)))
        self.assertTrue(is_due(schedule, date(2024, 4, 30)))
        self.assertFalse(is_due(schedule, date(2024, 2, 28)), "2024 is a leap year")
        self.assertFalse(is_due(schedule, date(2024, 3, 30)))

    def test_monthly_day_29_and_30_in_february(self):
        self.assertTrue(is_due(Schedule("monthly", month_day=29), date(2023, 2, 28)))
        self.assertTrue(is_due(Schedule("monthly", month_day=29), date(2024, 2, 29)))
        self.assertFalse(is_due(Schedule("monthly", month_day=29), date(2024, 2, 28)))
        self.assertTrue(is_due(Schedule("monthly", month_day=30), date(2024, 2, 29)))
        self.assertTrue(is_due(Schedule("monthly", month_day=30), date(2024, 3, 30)))

    def test_yearly_rule_on_its_month_and_day(self):
        schedule = Schedule("yearly", month=7, month_day=15)
        self.assertTrue(is_due(schedule, date(2024, 7, 15)))
        self.assertTrue(is_due(schedule, date(2025, 7, 15)))
        self.assertFalse(is_due(schedule, date(2024, 8, 15)))
        self.assertFalse(is_due(schedule, date(2024, 7, 16)))

    def test_yearly_29_february_falls_on_the_28th_in_common_years(self):
        schedule = Schedule("yearly", month=2, month_day=29)
        self.assertTrue(is_due(schedule, date(2024, 2, 29)))
        self.assertFalse(is_due(schedule, date(2024, 2, 28)))
        self.assertTrue(is_due(schedule, date(2023, 2, 28)))
        self.assertFalse(is_due(schedule, date(2023, 3, 1)))

    def test_scheduled_day_clamps_to_the_month_end(self):
        self.assertEqual(scheduled_day(2023, 2, 31), date(2023, 2, 28))
        self.assertEqual(scheduled_day(2024, 6, 31), date(2024, 6, 30))
        self.assertEqual(scheduled_day(2024, 6, 12), date(2024, 6, 12))

    def test_check_schedule_names_what_is_missing(self):
        self.assertIsNone(check_schedule(Schedule("monthly", month_day=31)))
        self.assertIsNone(check_schedule(Schedule("yearly", month=2, month_day=29)))
        self.assertIn("date", str(check_schedule(Schedule("once"))))
        self.assertIn("weekday", str(check_schedule(Schedule("weekly"))))
        self.assertIn("between 1 and 31", str(check_schedule(Schedule("monthly", month_day=32))))
        self.assertIn("no such day", str(check_schedule(Schedule("yearly", month=2, month_day=30))))
        self.assertIn("unknown", str(check_schedule(Schedule("daily"))))

    def test_monthly_period_key_is_the_calendar_month(self):
        keys = {period_key("monthly", "unlimited", date(2024, 3, d)) for d in (1, 15, 31)}
        self.assertEqual(keys, {"2024-03"})
        self.assertEqual(period_key("monthly", "unlimited", date(2024, 4, 1)), "2024-04")

    def test_weekly_period_key_is_the_iso_week(self):
        # Monday 30 December 2024 to Sunday 5 January 2025 is ISO week 1 of 2025
        keys = {period_key("weekly", "unlimited", date(2024, 12, 30) + timedelta(days=d)) for d in range(7)}
        self.assertEqual(keys, {"2025-W01"})
        self.assertEqual(period_key("weekly", "unlimited", date(2024, 12, 29)), "2024-W52")
        self.assertEqual(period_key("weekly", "unlimited", date(2024, 3, 4)), "2024-W10")

    def test_yearly_period_key_is_the_calendar_year(self):
        self.assertEqual({period_key("yearly", "unlimited", date(2024, m, 1)) for m in (1, 7, 12)}, {"2024"})
        self.assertEqual(period_key("yearly", "unlimited", date(2025, 1, 1)), "2025")

    def test_one_time_rule_has_one_period(self):
        self.assertEqual(period_key("once", "unlimited", date(2024, 3, 1)), ONCE_KEY)

    def test_once_period_key_is_the_same_every_date(self):
        for frequency in FREQUENCIES:
            for limit in ("once_per_account", "once_per_debtor"):
                self.assertEqual(period_key(frequency, limit, date(2024, 3, 1)),
                                 period_key(frequency, limit, date(2030, 1, 1)))
                self.assertEqual(period_key(frequency, limit, date(2024, 3, 1)), ONCE_KEY)

    def test_unknown_values_are_refused(self):
        with self.assertRaises(ValueError):
            period_key("monthly", "sometimes", date(2024, 3, 1))
        with self.assertRaises(ValueError):
            period_key("daily", "unlimited", date(2024, 3, 1))
        with self.assertRaises(ValueError):
            is_due(Schedule("daily"), date(2024, 3, 1))
