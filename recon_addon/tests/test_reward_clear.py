from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .reward_common import RewardCommon


@tagged("post_install", "-at_install")
class TestClearRecoverableBalance(RewardCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.draws = cls._reward(1000.0, date="2024-01-10") + cls._reward(500.0, date="2024-02-10")
        cls.repayment = cls._reward(-300.0, date="2024-03-10")
        cls.rewards = cls.draws + cls.repayment

    def _clear(self, partners=None):
        """Clear as a manager does: open the confirmation, confirm it."""
        action = (partners or self.rep).action_clear_recoverable_balance()
        self.assertEqual(action["res_model"], "recon.reward.clear.wizard")
        wizard = self._clear_wizard(action)
        done = wizard.action_confirm()
        self.assertEqual(done["params"]["type"], "success")
        return wizard

    def test_confirmation_shows_the_amount(self):
        action = self.rep.action_clear_recoverable_balance()
        wizard = self._clear_wizard(action)
        self.assertRecordValues(wizard.line_ids, [
            {"partner_id": self.rep.id, "company_id": self.company.id, "balance": 1200.0},
        ])
        self.assertIn("The owed balance of Northern Rep, $\xa01,200.00, will be forgiven", wizard.summary)

    def test_clear_flips_the_flags_deletes_nothing_and_zeroes_the_balance(self):
        self._clear()
        self.assertEqual(self._balance(), 0.0)
        self.assertTrue(all(self.rewards.exists()) and len(self.rewards.exists()) == 3)
        clearing = self.rewards.clearing_id
        self.assertRecordValues(self.rewards, [
            {"recoverable": False, "state": "confirmed", "clearing_id": clearing.id},
        ] * 3)
        self.assertRecordValues(clearing, [{
            "partner_id": self.rep.id, "company_id": self.company.id, "amount": 1200.0,
            "user_id": self.env.user.id,
        }])

    def test_clear_posts_the_forgiveness_entry_reconciled_with_the_open_advances(self):
        self._clear()
        move = self.rewards.clearing_id.move_id
        self.assertRecordValues(move, [{
            "state": "posted", "journal_id": self.recon_journal.id,
            "recon_source_model": "recon.reward.clearing", "recon_source_id": self.rewards.clearing_id.id,
        }])
        self.assertRecordValues(move.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "partner_id": self.rep.id, "balance": -1200.0, "reconciled": True},
            {"account_id": self.forgiven.id, "partner_id": self.rep.id, "balance": 1200.0, "reconciled": False},
        ])
        advance_items = self.rewards.move_id.line_ids.filtered(lambda line: line.account_id == self.advance)
        self.assertEqual(advance_items.mapped("reconciled"), [True, True, True])
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 0.0)
        self.assertAlmostEqual(self._account_balance(self.forgiven, self.rep), 1200.0)

    def test_clear_notes_who_cleared_how_much_on_the_payee(self):
        action = self.rep.action_clear_recoverable_balance()
        done = self._clear_wizard(action).action_confirm()
        self.assertEqual(done["params"]["message"], "The owed balance of Northern Rep was forgiven.")
        body = self.rep.message_ids[:1].body
        self.assertIn(f"cleared by {self.env.user.name}", body)
        self.assertIn("1,200.00", body)
        self.assertIn(self.rewards.clearing_id.move_id.name, body)

    def test_clearing_a_zero_balance_does_nothing_and_says_so(self):
        moves_before = self.env["account.move"].search_count([])
        action = self.rep_b.action_clear_recoverable_balance()
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("Southern Rep: no owed balance", action["params"]["message"])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(self.env["recon.reward.clearing"].search([("partner_id", "=", self.rep_b.id)]))

    def test_clearing_again_finds_nothing_to_clear(self):
        self._clear()
        self.assertEqual(self.rep.action_clear_recoverable_balance()["tag"], "display_notification")
        self.assertFalse(self.rep.env["recon.reward.clearing"]._clear_balances(self.rep, self.reason))
        self.assertEqual(len(self.env["recon.reward.clearing"].search([("partner_id", "=", self.rep.id)])), 1)

    def test_user_without_the_manager_group_cannot_clear(self):
        rep = self.rep.with_user(self.recon_user)
        with self.assertRaisesRegex(AccessError, "Only a Reconciliation Manager"):
            rep.action_clear_recoverable_balance()
        with self.assertRaisesRegex(AccessError, "Only a Reconciliation Manager"):
            rep.env["recon.reward.clearing"]._clear_balances(rep, self.reason)
        with self.assertRaises(AccessError):
            self.env["recon.reward.clear.wizard"].with_user(self.recon_user).create({})
        self.assertEqual(self._balance(), 1200.0)

    def test_clear_many_payees_from_the_balances_list(self):
        self._reward(80.0, partner=self.rep_b)
        balances = self.env["recon.reward.balance"].search([("partner_id", "in", (self.rep | self.rep_b).ids)])
        action = balances.action_clear_recoverable_balance()
        wizard = self._clear_wizard(action)
        self.assertEqual(sorted(wizard.line_ids.mapped("balance")), [80.0, 1200.0])
        self.assertIn("2 owed balances, $\xa01,280.00 in total", wizard.summary)
        wizard.action_confirm()
        self.assertEqual(self._balance(), 0.0)
        self.assertEqual(self._balance(self.rep_b), 0.0)
        clearings = self.env["recon.reward.clearing"].search([("partner_id", "in", (self.rep | self.rep_b).ids)])
        self.assertEqual(len(clearings.move_id), 2)
        self.assertFalse(self.env["recon.reward.balance"].search([
            ("partner_id", "in", (self.rep | self.rep_b).ids), ("balance", "!=", 0)]))

    def test_payees_without_a_balance_are_listed_as_skipped(self):
        action = (self.rep | self.rep_b).action_clear_recoverable_balance()
        wizard = self._clear_wizard(action)
        self.assertEqual(wizard.line_ids.partner_id, self.rep)
        self.assertEqual(wizard.skipped_partner_ids, self.rep_b)

    def test_confirmation_is_refused_when_the_balance_changed_meanwhile(self):
        action = self.rep.action_clear_recoverable_balance()
        self._reward(-200.0)
        wizard = self._clear_wizard(action)
        with self.assertRaisesRegex(UserError, "Northern Rep changed since"):
            wizard.action_confirm()
        self.assertEqual(self._balance(), 1000.0)

    def test_cleared_reward_cannot_be_reversed_nor_deleted(self):
        self._clear()
        with self.assertRaisesRegex(UserError, "was forgiven"):
            self.draws[0].action_reverse()
        self.company.recon_post_rewards = False
        unposted = self._reward(40.0)
        self.rep.env["recon.reward.clearing"]._clear_balances(self.rep, self.reason)
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            unposted.unlink()

    def test_clear_without_posting_flips_the_flags_without_an_entry(self):
        self.company.recon_post_rewards = False
        clearing = self.rep.env["recon.reward.clearing"]._clear_balances(self.rep, self.reason)
        self.assertRecordValues(clearing, [{"amount": 1200.0, "move_id": False}])
        self.assertEqual(self.rewards.mapped("recoverable"), [False, False, False])
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 1200.0, msg="ledger untouched")

    def test_forgiveness_reconciles_only_what_the_ledger_holds(self):
        self.company.recon_post_rewards = False
        self._reward(250.0)  # confirmed while posting was off: no advance item
        self.company.recon_post_rewards = True
        clearing = self.rep.env["recon.reward.clearing"]._clear_balances(self.rep, self.reason)
        self.assertEqual(clearing.amount, 1450.0)
        self.assertRecordValues(clearing.move_id.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "balance": -1200.0, "reconciled": True},
            {"account_id": self.advance.id, "balance": -250.0, "reconciled": False},
            {"account_id": self.forgiven.id, "balance": 1450.0, "reconciled": False},
        ])

    def test_forgiveness_of_a_foreign_currency_advance(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0), ("2024-06-01", 4.0)])
        draw = self._reward(400.0, partner=self.rep_b, currency=eur, date="2024-02-01")
        clearing = self.rep_b.env["recon.reward.clearing"]._clear_balances(self.rep_b, self.reason)
        self.assertEqual(clearing.amount, 200.0)
        self.assertRecordValues(clearing.move_id.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "currency_id": self.company.currency_id.id, "balance": -200.0,
             "reconciled": True},
            {"account_id": self.forgiven.id, "currency_id": self.company.currency_id.id, "balance": 200.0,
             "reconciled": False},
        ])
        advance_item = draw.move_id.line_ids.filtered(lambda line: line.account_id == self.advance)
        self.assertRecordValues(advance_item, [{"reconciled": True, "amount_residual": 0.0,
                                                "amount_residual_currency": 0.0}])

    def test_clearing_happens_in_the_current_company_only(self):
        company_b = self.setup_other_company(name="Rewards B")["company"]
        self._reward(700.0, company=company_b)
        self.rep.env["recon.reward.clearing"]._clear_balances(self.rep, self.reason)
        self.assertEqual(self._balance(), 0.0)
        self.assertEqual(self._balance(company=company_b), 700.0)

    def test_clear_rows_of_two_companies_each_in_its_own_company(self):
        company_b = self.setup_other_company(name="Rewards B")["company"]
        self.env.user.company_ids |= company_b
        self._reward(700.0, company=company_b)
        balances = self.env["recon.reward.balance"].with_context(
            allowed_company_ids=(self.company | company_b).ids,
        ).search([("partner_id", "=", self.rep.id)])
        self.assertEqual(len(balances), 2)
        action = balances.action_clear_recoverable_balance()
        self._clear_wizard(action).action_confirm()
        clearings = self.env["recon.reward.clearing"].with_context(
            allowed_company_ids=(self.company | company_b).ids,
        ).search([("partner_id", "=", self.rep.id)])
        self.assertEqual(sorted(clearings.mapped(lambda c: (c.company_id.name, c.amount, c.move_id.company_id.name))),
                         sorted([(self.company.name, 1200.0, self.company.name),
                                 (company_b.name, 700.0, company_b.name)]))
        self.assertEqual(self._balance(), 0.0)
        self.assertEqual(self._balance(company=company_b), 0.0)
        self.assertAlmostEqual(self._account_balance(company_b.recon_advance_account_id, self.rep), 0.0)
