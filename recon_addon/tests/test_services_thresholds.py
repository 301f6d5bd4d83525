from datetime import date

from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.thresholds import (
    BUCKET_EDGES,
    DEFAULT_THRESHOLD,
    PLOT_BOTTOM,
    PLOT_TOP,
    ThresholdOption,
    bucket_amounts,
    bucket_key,
    bucket_of,
    bucket_selection,
    chart_layout,
    month_key,
    recommend_threshold,
    threshold_options,
    window_start,
)

TODAY = date(2024, 6, 15)
OLD = date(2024, 1, 10)


@tagged("post_install", "-at_install")
class TestRecommendThreshold(BaseCase):

    def _recommend(self, amounts):
        return recommend_threshold([(date(2024, 5, 1), float(amount)) for amount in amounts], TODAY, oldest=OLD)

    def test_bottom_four_percent_of_dollars(self):
        # 30 x 10 = 300 and 10 x 500 = 5,000: under 11 clears 300 / 5,300 = 5.7%, the share closest to 4%
        samples = [(date(2024, 5, 1), 10.0)] * 30 + [(date(2024, 6, 1), 500.0)] * 10
        rec = recommend_threshold(samples, TODAY, oldest=OLD)
        self.assertEqual(rec.threshold, 11)
        self.assertAlmostEqual(rec.share, 300 / 5300)
        self.assertEqual(rec.count, 40)
        self.assertAlmostEqual(rec.total, 5300.0)
        self.assertEqual(rec.warnings, [])

    def test_the_share_closest_to_four_percent_not_the_first_above_it(self):
        # under 21 clears 10 + 20 = 3% of 1,000, under 31 clears 6%: 3% is closer
        rec = self._recommend([10, 20, 30, 40, 900])
        self.assertEqual((rec.threshold, rec.share), (21, 0.03))
        self.assertFalse(rec.off_target)
        self.assertEqual(rec.warnings, ["few", "outlier"])

    def test_clustered_amounts_do_not_recommend_clearing_everything(self):
        # under 21 clears 18,000 of 518,000 (3.5%); under 5,001 would clear it all
        rec = self._recommend([20] * 900 + [5000] * 100)
        self.assertEqual(rec.threshold, 21)
        self.assertAlmostEqual(rec.share, 18000 / 518000)
        self.assertEqual(rec.warnings, [])

    def test_ties_keep_the_smaller_threshold(self):
        # under 11 clears 3%, under 21 clears 5%: as close to 4%, the smaller wins
        self.assertEqual(self._recommend([10, 10, 10, 20, 950]).threshold, 11)

    def test_no_threshold_near_four_percent_says_so_and_gives_both_neighbours(self):
        # 100 deductions of 5: under 5 clears nothing, under 6 clears everything
        rec = self._recommend([5] * 100)
        self.assertEqual((rec.threshold, rec.share, rec.off_target), (5, 0.0, True))
        self.assertEqual((rec.below, rec.above), (ThresholdOption(5, 0.0), ThresholdOption(6, 1.0)))
        self.assertEqual(rec.warnings, ["off_target"])

    def test_the_neighbours_are_the_thresholds_on_either_side_of_four_percent(self):
        # under 21 clears 2,000 of 4,502,000 (0.04%), under 5,001 all of it
        rec = self._recommend([20] * 100 + [5000] * 900)
        self.assertEqual(rec.threshold, 21)
        self.assertTrue(rec.off_target)
        self.assertEqual(rec.below, ThresholdOption(21, 2000 / 4502000))
        self.assertEqual(rec.above, ThresholdOption(5001, 1.0))

    def test_a_share_within_two_to_six_percent_has_no_neighbours(self):
        rec = self._recommend([10] * 30 + [500] * 10)
        self.assertEqual((rec.off_target, rec.below, rec.above), (False, None, None))

    def test_options_start_at_the_smallest_amount(self):
        self.assertEqual(threshold_options([5.0] * 3), [ThresholdOption(5, 0.0), ThresholdOption(6, 1.0)])
        self.assertEqual(threshold_options([0.4, 0.6, 9.0]), [ThresholdOption(1, 0.1), ThresholdOption(10, 1.0)])
        # amounts with one whole part step together: under 13, 12.10 and 12.90 are both cleared
        self.assertEqual([o.threshold for o in threshold_options([12.1, 12.9, 40.0])], [12, 13, 41])

    def test_repayments_count_by_their_size(self):
        samples = [(date(2024, 5, 1), -10.0)] * 30 + [(date(2024, 5, 2), 500.0)] * 10
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).threshold, 11)

    def test_deductions_older_than_three_months_are_ignored(self):
        samples = [(date(2024, 3, 1), 1.0)] * 1000 + [(date(2024, 5, 1), 10.0)] * 30 + [(date(2024, 5, 1), 500.0)] * 10
        rec = recommend_threshold(samples, TODAY, oldest=OLD)
        self.assertEqual((rec.threshold, rec.count), (11, 40))

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
        # under 11 clears 50 of 10,050: far from 4%, and no threshold does better
        self.assertEqual(rec.warnings, ["few", "outlier", "off_target"])
        self.assertEqual(rec.outlier, 10000.0)

    def test_enough_evenly_spread_deductions_have_no_warning(self):
        samples = [(date(2024, 5, 1), float(10 + i)) for i in range(60)]
        self.assertEqual(recommend_threshold(samples, TODAY, oldest=OLD).warnings, [])

    def test_month_key(self):
        self.assertEqual(month_key(date(2024, 3, 17)), (2024, 3))


@tagged("post_install", "-at_install")
class TestAmountBuckets(BaseCase):
    """The deduction dollars per amount range shown beside the rule."""

    def test_an_amount_on_an_edge_is_in_the_bucket_the_edge_starts(self):
        self.assertEqual([bucket_key(a) for a in (0.01, 9.99, 10, 24.99, 25, 4999.99, 5000, 10 ** 7)],
                         ["00_0", "00_0", "01_10", "01_10", "02_25", "08_2500", "09_5000", "09_5000"])

    def test_a_repayment_is_in_the_bucket_of_its_size(self):
        self.assertEqual(bucket_key(-30.0), bucket_key(30.0))

    def test_buckets_cover_every_size_once_smallest_first(self):
        selection = bucket_selection()
        self.assertEqual(len(selection), len(BUCKET_EDGES) + 1)
        self.assertEqual([key for key, _label in selection], sorted(key for key, _label in selection))
        self.assertEqual((selection[0][1], selection[3][1], selection[-1][1]),
                         ("Under 10", "50 to 100", "5,000 and more"))

    def test_buckets_count_and_sum_the_sizes_in_the_recommendation_window(self):
        samples = [
            (date(2024, 3, 14), 1000.0),   # the day before the window: left out
            (date(2024, 3, 15), 12.0),     # first day of the window
            (date(2024, 5, 1), -20.0),     # a repayment counts by its size
            (date(2024, 6, 15), 60.0),     # today
            (date(2024, 6, 16), 70.0),     # tomorrow: left out
        ]
        buckets = bucket_amounts(samples, TODAY)
        self.assertEqual(window_start(TODAY), date(2024, 3, 15))
        self.assertEqual([(b.key, b.count, b.total) for b in buckets if b.count],
                         [("01_10", 2, 32.0), ("03_50", 1, 60.0)])
        self.assertEqual(len(buckets), len(BUCKET_EDGES) + 1)

    def test_buckets_hold_the_dollars_the_recommendation_reads(self):
        samples = [(date(2024, 5, 1), 10.0)] * 30 + [(date(2024, 6, 1), -500.0)] * 10 + [(date(2024, 1, 1), 9.0)]
        buckets = bucket_amounts(samples, TODAY)
        rec = recommend_threshold(samples, TODAY, oldest=OLD)
        self.assertEqual(sum(b.count for b in buckets), rec.count)
        self.assertAlmostEqual(sum(b.total for b in buckets), rec.total)

    def test_empty_history_gives_empty_buckets(self):
        buckets = bucket_amounts([], TODAY)
        self.assertEqual({(b.count, b.total) for b in buckets}, {(0, 0.0)})
        self.assertTrue(chart_layout(buckets, recommended=DEFAULT_THRESHOLD, current=100)["empty"])

    def test_bucket_of_a_threshold(self):
        buckets = bucket_amounts([], TODAY)
        self.assertEqual(bucket_of(buckets, 11).key, "01_10")
        self.assertEqual(bucket_of(buckets, 100).key, "04_100")
        self.assertEqual(bucket_of(buckets, 9000).key, "09_5000")
        self.assertIsNone(bucket_of(buckets, 0))

    def test_chart_marks_the_recommended_and_the_current_threshold(self):
        samples = [(date(2024, 5, 1), 10.0)] * 30 + [(date(2024, 6, 1), 500.0)] * 10
        layout = chart_layout(bucket_amounts(samples, TODAY), recommended=11, current=100)
        bars = {bar["key"]: bar for bar in layout["bars"]}
        self.assertEqual({key: bar["marks"] for key, bar in bars.items() if bar["marks"]},
                         {"01_10": {"recommended"}, "04_100": {"current"}})
        self.assertEqual([key for key, bar in bars.items() if bar["cleared"]], ["00_0", "01_10", "02_25", "03_50"])
        # the tallest bar fills the plot, the others in proportion to their dollars
        self.assertEqual(bars["06_500"]["height"], PLOT_BOTTOM - PLOT_TOP)
        self.assertEqual(bars["01_10"]["height"], round((PLOT_BOTTOM - PLOT_TOP) * 300 / 5000, 1))
        # 11 is a fifteenth of the way into 10-25; 100 is the left edge of 100-250
        recommended, current = (next(m for m in layout["markers"] if m["kind"] == kind)
                                for kind in ("recommended", "current"))
        bar = bars["01_10"]
        self.assertEqual(recommended["x"], round(bar["x"] + bar["width"] / 15, 1))
        self.assertEqual(current["x"], bars["04_100"]["x"])
        self.assertFalse(layout["empty"])

    def test_one_bucket_can_hold_both_thresholds(self):
        layout = chart_layout(bucket_amounts([(date(2024, 5, 1), 30.0)], TODAY), recommended=31, current=40)
        self.assertEqual([bar["marks"] for bar in layout["bars"] if bar["marks"]], [{"recommended", "current"}])
        self.assertEqual(len(layout["markers"]), 2)
