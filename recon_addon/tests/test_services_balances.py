from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.balances import (
    PRO_RATA,
    compute_adjustment,
    distribute,
    line_item_balances,
    spread,
)

PRINCIPAL, INTEREST, FEE = 1, 2, 3


@tagged("post_install", "-at_install")
class TestBalances(BaseCase):

    def test_unpaid_invoice_balance_is_its_lines(self):
        balances = line_item_balances([(PRINCIPAL, 900.0), (INTEREST, 100.0)], 1000.0)
        self.assertEqual(balances, {PRINCIPAL: 900.0, INTEREST: 100.0})

    def test_partly_paid_invoice_is_pro_rated_by_what_is_open(self):
        balances = line_item_balances([(PRINCIPAL, 900.0), (INTEREST, 100.0)], 250.0)
        self.assertEqual(balances, {PRINCIPAL: 225.0, INTEREST: 25.0})

    def test_lines_of_one_code_are_summed(self):
        balances = line_item_balances([(PRINCIPAL, 600.0), (INTEREST, 100.0), (PRINCIPAL, 300.0)], 1000.0)
        self.assertEqual(balances, {PRINCIPAL: 900.0, INTEREST: 100.0})

    def test_open_adjustments_add_to_their_code(self):
        balances = line_item_balances(
            [(PRINCIPAL, 900.0), (INTEREST, 100.0)], 1000.0, [(INTEREST, 10.0), (FEE, 5.0), (FEE, 5.0)])
        self.assertEqual(balances, {PRINCIPAL: 900.0, INTEREST: 110.0, FEE: 10.0})

    def test_pro_rating_keeps_the_exact_residual(self):
        balances = line_item_balances([(PRINCIPAL, 1.0), (INTEREST, 1.0), (FEE, 1.0)], 100.0)
        self.assertAlmostEqual(sum(balances.values()), 100.0)
        self.assertEqual(sorted(balances.values()), [33.33, 33.33, 33.34])

    def test_lines_without_code_are_counted_under_none(self):
        self.assertEqual(line_item_balances([(None, 50.0), (PRINCIPAL, 50.0)], 100.0),
                         {None: 50.0, PRINCIPAL: 50.0})

    def test_ten_percent_of_the_balance_not_including_interest(self):
        balances = {PRINCIPAL: 900.0, INTEREST: 100.0}
        self.assertEqual(compute_adjustment("percent", 10.0, balances, INTEREST, product_keys=[PRINCIPAL]), 90.0)

    def test_percent_of_the_whole_balance_when_no_code_is_chosen(self):
        self.assertEqual(compute_adjustment("percent", 10.0, {PRINCIPAL: 900.0, INTEREST: 100.0}, FEE), 100.0)

    def test_percent_of_a_code_the_account_does_not_carry_is_zero(self):
        self.assertEqual(compute_adjustment("percent", 10.0, {PRINCIPAL: 900.0}, FEE, product_keys=[FEE]), 0.0)

    def test_percent_is_rounded_to_the_currency(self):
        self.assertEqual(compute_adjustment("percent", 1.5, {PRINCIPAL: 333.33}, FEE), 5.0)
        self.assertEqual(compute_adjustment("percent", 1.0, {PRINCIPAL: 10.55}, FEE), 0.11)

    def test_flat_increase_is_the_value(self):
        self.assertEqual(compute_adjustment("flat", 10.0, {PRINCIPAL: 300.0}, FEE), 10.0)

    def test_decrease_never_goes_below_zero(self):
        self.assertEqual(compute_adjustment("flat", -500.0, {PRINCIPAL: 300.0}, PRINCIPAL), -300.0)
        self.assertEqual(compute_adjustment("flat", -50.0, {PRINCIPAL: 300.0}, PRINCIPAL), -50.0)
        self.assertEqual(compute_adjustment("percent", -200.0, {PRINCIPAL: 300.0}, PRINCIPAL), -300.0)

    def test_decrease_on_nothing_open_is_zero(self):
        self.assertEqual(compute_adjustment("flat", -20.0, {PRINCIPAL: 0.0}, PRINCIPAL), 0.0)

    def test_decrease_takes_only_its_own_code(self):
        """Waiving 10 of fees on an account carrying 5 of fees and 100 of
        principal takes 5, never principal."""
        self.assertEqual(compute_adjustment("flat", -10.0, {PRINCIPAL: 100.0, FEE: 5.0}, FEE), -5.0)
        self.assertEqual(compute_adjustment("flat", -3.0, {PRINCIPAL: 100.0, FEE: 5.0}, FEE), -3.0)
        self.assertEqual(compute_adjustment("percent", -100.0, {PRINCIPAL: 100.0, FEE: 5.0}, FEE), -5.0)

    def test_decrease_of_a_code_the_account_does_not_carry_is_zero(self):
        self.assertEqual(compute_adjustment("flat", -10.0, {PRINCIPAL: 100.0}, FEE), 0.0)
        self.assertEqual(compute_adjustment("flat", -10.0, {PRINCIPAL: 100.0, FEE: 0.0}, FEE), 0.0)

    def test_a_decrease_taken_off_the_invoice_reduces_its_code_only(self):
        balances = line_item_balances([(PRINCIPAL, 900.0), (INTEREST, 100.0)], 950.0,
                                      reductions=[(INTEREST, 50.0)])
        self.assertEqual(balances, {PRINCIPAL: 900.0, INTEREST: 50.0})

    def test_payments_before_a_decrease_are_pro_rata_and_after_it_on_what_is_open(self):
        # 500 paid (450 principal, 50 interest), then 50 interest waived, then 225 paid
        balances = line_item_balances([(PRINCIPAL, 900.0), (INTEREST, 100.0)], 225.0,
                                      reductions=[(PRO_RATA, 500.0), (INTEREST, 50.0), (PRO_RATA, 225.0)])
        self.assertEqual(balances, {PRINCIPAL: 225.0, INTEREST: 0.0})

    def test_decreases_keep_the_exact_residual(self):
        balances = line_item_balances([(PRINCIPAL, 1.0), (INTEREST, 1.0), (FEE, 1.0)], 90.0,
                                      reductions=[(FEE, 10.0)])
        self.assertAlmostEqual(sum(balances.values()), 90.0)
        self.assertEqual(balances, {PRINCIPAL: 33.34, INTEREST: 33.33, FEE: 23.33})

    def test_unknown_type_is_refused(self):
        with self.assertRaises(ValueError):
            compute_adjustment("double", 1.0, {PRINCIPAL: 1.0}, PRINCIPAL)

    def test_spread_in_proportion_to_open_installments(self):
        self.assertEqual(spread(30.0, [("2024-02-01", 100.0), ("2024-03-01", 200.0)]),
                         [("2024-02-01", 10.0), ("2024-03-01", 20.0)])

    def test_spread_skips_settled_installments_and_keeps_the_total(self):
        parts = spread(10.0, [("a", 0.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)])
        self.assertEqual([key for key, __ in parts], ["b", "c", "d"])
        self.assertAlmostEqual(sum(part for __, part in parts), 10.0)

    def test_spread_over_nothing_open_gives_nothing(self):
        self.assertEqual(spread(10.0, [("a", 0.0)]), [])

    def test_distribute_puts_the_remainder_on_the_largest_part(self):
        self.assertEqual(distribute(0.05, [1.0, 2.0]), [0.02, 0.03])
        self.assertEqual(distribute(5.0, [0.0, 0.0]), [0.0, 0.0])
