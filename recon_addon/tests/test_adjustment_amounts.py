from datetime import date

from odoo.tests import tagged

from .test_adjustment_rule import AdjustmentCommon


@tagged("post_install", "-at_install")
class TestAdjustmentAmounts(AdjustmentCommon):
    """What a rule reads from the ORM before the amount service decides:
    the balances, and a flat value in the account's currency."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.foreign = cls.setup_other_currency("EUR", rounding=0.01, rates=[("2016-01-01", 2.0)])

    def test_a_flat_value_is_converted_to_the_accounts_currency(self):
        invoice = self._invoice(100.0, currency=self.foreign)
        amounts, reasons = self._rule(value=10.0)._get_adjustment_amounts(invoice, date(2024, 2, 1))
        self.assertEqual((amounts, reasons), ({invoice: 20.0}, {}))

    def test_a_decrease_of_a_code_with_nothing_open_says_so_in_any_currency(self):
        invoice = self._invoice(100.0, currency=self.foreign)
        amounts, reasons = self._rule(value=-10.0)._get_adjustment_amounts(invoice, date(2024, 2, 1))
        self.assertEqual(amounts, {invoice: 0.0})
        self.assertEqual(reasons, {invoice: "Nothing open on line item code Carrying fee"})

    def test_a_percentage_of_codes_the_account_does_not_carry_has_no_base(self):
        invoice = self._account(100.0)
        rule = self._rule(adjustment_type="percent", value=5.0, balance_product_ids=[self.interest.id])
        amounts, reasons = rule._get_adjustment_amounts(invoice, date(2024, 2, 1))
        self.assertEqual(amounts, {invoice: 0.0})
        self.assertEqual(reasons, {invoice: "No balance on the line item codes of the percentage"})

    def test_a_flat_value_too_small_for_the_currency_rounds_to_zero(self):
        invoice = self._account(100.0)
        amounts, reasons = self._rule(value=0.001)._get_adjustment_amounts(invoice, date(2024, 2, 1))
        self.assertEqual(amounts, {invoice: 0.0})
        self.assertEqual(reasons, {invoice: "The amount rounds to zero"})
