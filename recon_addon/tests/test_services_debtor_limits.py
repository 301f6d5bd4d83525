from odoo.tests import BaseCase, tagged

from odoo.addons.recon_addon.services.debtor_limits import select_within_debtor_limits


@tagged("post_install", "-at_install")
class TestDebtorLimits(BaseCase):

    def test_capacity_counts_debtors_not_accounts(self):
        self.assertEqual(select_within_debtor_limits([1, 1, 1, 2, 3], 2, False), [0, 1, 2, 3])

    def test_once_per_debtor_keeps_the_first_account_of_each(self):
        self.assertEqual(select_within_debtor_limits([1, 2, 1, 2, 3], 10, True), [0, 1, 4])

    def test_debtors_already_adjusted_by_the_run_take_no_capacity(self):
        self.assertEqual(select_within_debtor_limits([5, 6, 7], 1, False, known={5}), [0, 1])

    def test_no_capacity_left_selects_only_known_debtors(self):
        self.assertEqual(select_within_debtor_limits([5, 6], 0, False, known={6}), [1])
