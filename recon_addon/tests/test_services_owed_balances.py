from odoo.tests import BaseCase

from odoo.addons.recon_addon.services.owed_balances import (
    allocate_fifo,
    balance_matches,
    owed_balance,
    split_forgiveness,
)


class TestOwedBalance(BaseCase):

    def test_owed_balance_sums_recoverable_advances_less_repayments(self):
        rewards = [(1000.0, True), (250.5, True), (-300.25, True), (400.0, False), (-50.0, False)]
        self.assertEqual(owed_balance(rewards, 0.01), 950.25)

    def test_owed_balance_rounds_to_the_currency(self):
        self.assertEqual(owed_balance([(0.1, True), (0.2, True)], 0.01), 0.3)
        self.assertEqual(owed_balance([(10.004, True)], 0.01), 10.0)

    def test_owed_balance_of_nothing_is_zero(self):
        self.assertEqual(owed_balance([], 0.01), 0.0)


class TestBalanceMatches(BaseCase):

    def test_amounts_below_the_rounding_count_as_zero(self):
        self.assertTrue(balance_matches(0.001, "=", 0, 0.01))
        self.assertFalse(balance_matches(0.001, "!=", 0, 0.01))

    def test_each_operator(self):
        cases = [("=", 5.0, True), ("!=", 5.0, False), ("<", 6.0, True), ("<=", 5.0, True),
                 (">", 4.0, True), (">=", 6.0, False)]
        for operator, value, expected in cases:
            with self.subTest(operator=operator, value=value):
                self.assertEqual(balance_matches(5.0, operator, value, 0.01), expected)

    def test_unsupported_operator_is_refused(self):
        with self.assertRaises(ValueError):
            balance_matches(5.0, "ilike", 5.0, 0.01)


class TestSplitForgiveness(BaseCase):

    def test_everything_reconciled_when_the_ledger_holds_the_balance(self):
        self.assertEqual(split_forgiveness(600.0, 600.0, 0.01), (600.0, 0.0))

    def test_only_what_is_open_is_reconciled(self):
        self.assertEqual(split_forgiveness(600.0, 450.0, 0.01), (450.0, 150.0))

    def test_more_open_than_forgiven_reconciles_the_balance(self):
        self.assertEqual(split_forgiveness(600.0, 900.0, 0.01), (600.0, 0.0))

    def test_negative_balance_mirrors(self):
        self.assertEqual(split_forgiveness(-80.0, -50.0, 0.01), (-50.0, -30.0))

    def test_nothing_reconciled_when_open_items_point_the_other_way(self):
        self.assertEqual(split_forgiveness(600.0, -100.0, 0.01), (0.0, 600.0))
        self.assertEqual(split_forgiveness(600.0, 0.0, 0.01), (0.0, 600.0))


class TestAllocateFifo(BaseCase):

    def test_oldest_open_amounts_are_taken_first(self):
        self.assertEqual(allocate_fifo(70.0, {"jan": 50.0, "feb": 40.0, "mar": 10.0}, 0.01),
                         {"jan": 50.0, "feb": 20.0})

    def test_exhausted_amounts_are_skipped(self):
        self.assertEqual(allocate_fifo(30.0, {"jan": 0.0, "feb": 40.0}, 0.01), {"feb": 30.0})

    def test_more_than_open_takes_everything(self):
        self.assertEqual(allocate_fifo(100.0, {"jan": 50.0, "feb": 20.0}, 0.01), {"jan": 50.0, "feb": 20.0})

    def test_nothing_open_takes_nothing(self):
        self.assertEqual(allocate_fifo(100.0, {}, 0.01), {})
