from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.adjustments import (
    NO_BASE,
    NOTHING_OPEN,
    ROUNDS_TO_ZERO,
    plan_adjustment,
)

PRINCIPAL, INTEREST, FEE = 1, 2, 3


@tagged("post_install", "-at_install")
class TestPlanAdjustment(BaseCase):

    def test_an_amount_has_no_reason(self):
        self.assertEqual(plan_adjustment("flat", 10.0, {PRINCIPAL: 300.0}, FEE), (10.0, None))
        self.assertEqual(plan_adjustment("percent", 10.0, {PRINCIPAL: 900.0, INTEREST: 100.0}, FEE,
                                         product_keys=[PRINCIPAL]), (90.0, None))

    def test_a_decrease_is_capped_at_its_code(self):
        self.assertEqual(plan_adjustment("flat", -10.0, {PRINCIPAL: 100.0, FEE: 5.0}, FEE), (-5.0, None))
        self.assertEqual(plan_adjustment("percent", -200.0, {PRINCIPAL: 300.0}, PRINCIPAL), (-300.0, None))

    def test_a_decrease_of_a_code_with_nothing_open(self):
        for balances in ({PRINCIPAL: 100.0}, {PRINCIPAL: 100.0, FEE: 0.0}, {FEE: -4.0}):
            with self.subTest(balances=balances):
                self.assertEqual(plan_adjustment("flat", -10.0, balances, FEE), (0.0, NOTHING_OPEN))
        self.assertEqual(plan_adjustment("percent", -50.0, {PRINCIPAL: 0.0}, PRINCIPAL), (0.0, NOTHING_OPEN))

    def test_less_than_the_rounding_open_is_nothing_open(self):
        self.assertEqual(plan_adjustment("flat", -5.0, {FEE: 0.004}, FEE), (0.0, NOTHING_OPEN))
        self.assertEqual(plan_adjustment("flat", -5.0, {FEE: 0.4}, FEE, rounding=1.0), (0.0, NOTHING_OPEN))

    def test_a_percentage_of_nothing_has_no_base(self):
        self.assertEqual(plan_adjustment("percent", 5.0, {PRINCIPAL: 0.0}, FEE), (0.0, NO_BASE))
        self.assertEqual(plan_adjustment("percent", 5.0, {PRINCIPAL: 900.0}, FEE, product_keys=[FEE]),
                         (0.0, NO_BASE))

    def test_a_tiny_decrease_with_something_open_rounds_to_zero_for_a_flat_value(self):
        self.assertEqual(plan_adjustment("flat", -0.004, {FEE: 5.0}, FEE), (0.0, ROUNDS_TO_ZERO))

    def test_a_tiny_value_rounds_to_zero(self):
        self.assertEqual(plan_adjustment("flat", 0.004, {PRINCIPAL: 100.0}, FEE), (0.0, ROUNDS_TO_ZERO))
        self.assertEqual(plan_adjustment("flat", 0.4, {PRINCIPAL: 100.0}, FEE, rounding=1.0),
                         (0.0, ROUNDS_TO_ZERO))
        self.assertEqual(plan_adjustment("flat", 0.0, {PRINCIPAL: 100.0}, FEE), (0.0, ROUNDS_TO_ZERO))

    def test_the_amount_is_rounded_to_the_currency(self):
        self.assertEqual(plan_adjustment("percent", 1.0, {PRINCIPAL: 10.55}, FEE), (0.11, None))
        self.assertEqual(plan_adjustment("flat", 7.4, {PRINCIPAL: 100.0}, FEE, rounding=1.0), (7.0, None))

    def test_unknown_type_is_refused(self):
        with self.assertRaises(ValueError):
            plan_adjustment("double", 1.0, {PRINCIPAL: 1.0}, PRINCIPAL)
