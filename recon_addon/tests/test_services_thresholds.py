from datetime import date

from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.thresholds import DEFAULT_THRESHOLD, month_key, recommend_threshold

TODAY = date(2024, 6, 15)
OLD = date(2024, 1, 10)


@tagged("post_install", "-at_install")
class TestRecommendThreshold(BaseCase):

    def test_bottom_four_percent_of_dollars(self):
        # 30 x 10 = 300 and 10 x 500 = 5,000: 4% of 5,300 is 212, reached at the 22nd deduction of 10
        samples = [(date(2024, 5, 1), 10.0)] * 30 + [(date(2024, 6, 1), 500.0)] * 10
        rec = recommend_threshold(samples, TODAY, oldest=OLD)
        self.assertEqual(rec.threshold, 11)
        self.assertEqual(rec.count, 40)
        self.assertAlmostEqual(rec.total, 5300.0)

    def test_threshold_is_strictly_above_the_amount_that_reaches_the_share(self):
        # 4% of 100 x 25 = 100 is reached by the 4th deduction of 25: 25 must be included, so 26
        samples = [(date(2024, 5, 1), 25.0)] * 100
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).threshold, 26)

    def test_repayments_count_by_their_size(self):
        samples = [(date(2024, 5, 1), -10.0)] * 30 + [(date(2024, 5, 2), 500.0)] * 10
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).threshold, 11)

    def test_deductions_older_than_three_months_are_ignored(self):
        samples = [(date(2024, 3, 1), 1.0)] * 1000 + [(date(2024, 5, 1), 50.0)] * 40
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).threshold, 51)

    def test_less_than_three_months_of_data_recommends_100_and_says_why(self):
        samples = [(date(2024, 5, 1), 10.0)] * 50
        rec = recommend_threshold(samples, TODAY, oldest=date(2024, 4, 1))
        self.assertEqual((rec.threshold, rec.basis), (DEFAULT_THRESHOLD, "short_history"))

    def test_no_deduction_at_all_recommends_100(self):
        self.assertEqual(recommend_threshold([], TODAY, oldest=None).threshold, DEFAULT_THRESHOLD)

    def test_history_without_recent_deduction_recommends_100(self):
        rec = recommend_threshold([(date(2024, 1, 10), 10.0)], TODAY, oldest=OLD)
        self.assertEqual((rec.threshold, rec.basis), (DEFAULT_THRESHOLD, "no_recent"))

    def test_few_deductions_and_outliers_are_warned_about(self):
        samples = [(date(2024, 5, 1), 10.0)] * 5 + [(date(2024, 5, 2), 10000.0)]
        rec = recommend_threshold(samples, TODAY, oldest=OLD)
        self.assertEqual(rec.warnings, ["few", "outlier"])
        self.assertEqual(rec.outlier, 10000.0)

    def test_enough_evenly_spread_deductions_have_no_warning(self):
        samples = [(date(2024, 5, 1), float(10 + i)) for i in range(60)]
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).warnings, [])

    def test_month_key(self):
        self.assertEqual(month_key(date(2024, 3, 17)), (2024, 3))
