from psycopg2 import IntegrityError

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .reward_common import RewardCommon


@tagged("post_install", "-at_install")
class TestRewardPosting(RewardCommon):

    def test_confirming_an_advance_posts_advances_receivable_against_commissions_payable(self):
        reward = self._reward(1000.0, date="2024-02-01")
        self.assertRecordValues(reward, [{"state": "confirmed", "kind": "advance", "amount_company": 1000.0}])
        self.assertRecordValues(reward.move_id, [{
            "state": "posted",
            "journal_id": self.recon_journal.id,
            "date": fields.Date.from_string("2024-02-01"),
            "recon_source_model": "recon.reward",
            "recon_source_id": reward.id,
        }])
        self.assertRecordValues(reward.move_id.line_ids.sorted("balance"), [
            {"account_id": self.payable.id, "partner_id": self.rep.id, "balance": -1000.0},
            {"account_id": self.advance.id, "partner_id": self.rep.id, "balance": 1000.0},
        ])

    def test_repayment_mirrors_the_advance(self):
        reward = self._reward(-300.0)
        self.assertEqual(reward.kind, "repayment")
        self.assertRecordValues(reward.move_id.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "partner_id": self.rep.id, "balance": -300.0},
            {"account_id": self.payable.id, "partner_id": self.rep.id, "balance": 300.0},
        ])

    def test_reward_entered_as_not_recoverable_is_an_expense_from_the_start(self):
        reward = self._reward(200.0, recoverable=False)
        self.assertRecordValues(reward.move_id.line_ids.sorted("balance"), [
            {"account_id": self.payable.id, "balance": -200.0},
            {"account_id": self.forgiven.id, "balance": 200.0},
        ])
        self.assertEqual(self._balance(), 0.0)

    def test_confirming_many_rewards_posts_one_entry_each(self):
        rewards = self._reward(100.0, confirm=False) + self._reward(-40.0, partner=self.rep_b, confirm=False)
        rewards.action_confirm()
        self.assertEqual(len(rewards.move_id), 2)
        self.assertEqual(rewards.mapped("state"), ["confirmed", "confirmed"])

    def test_confirming_twice_is_refused(self):
        reward = self._reward(100.0)
        with self.assertRaisesRegex(UserError, "already confirmed"):
            reward.action_confirm()

    def test_posting_off_confirms_without_an_entry(self):
        self.company.recon_post_rewards = False
        reward = self._reward(100.0)
        self.assertRecordValues(reward, [{"state": "confirmed", "move_id": False}])
        self.assertEqual(self._balance(), 100.0)

    def test_missing_reward_account_is_named_before_anything_posts(self):
        self.company.recon_commission_payable_account_id = False
        reward = self._reward(100.0, confirm=False)
        with self.assertRaisesRegex(UserError, f"{self.company.name}.*Commissions Payable Account"):
            reward.action_confirm()
        self.assertRecordValues(reward, [{"state": "draft", "move_id": False}])

    def test_zero_amount_is_refused(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self._reward(0.0, confirm=False)

    def test_reconciliation_user_records_confirms_and_deletes_rewards(self):
        Reward = self.env["recon.reward"].with_user(self.recon_user)
        reward = Reward.create({"name": "Draw", "partner_id": self.rep.id, "amount": 75.0})
        reward.action_confirm()
        self.assertRecordValues(reward, [{"state": "confirmed", "amount_company": 75.0}])
        self.assertEqual(reward.move_id.state, "posted")
        draft = Reward.create({"name": "Wrong payee", "partner_id": self.rep.id, "amount": 10.0})
        draft.unlink()
        note = self.rep.message_ids[:1]
        self.assertIn("Reward deleted by Reconciliation Clerk", note.body)
        self.assertEqual(note.author_id, self.recon_user.partner_id)


@tagged("post_install", "-at_install")
class TestRewardBalance(RewardCommon):

    def test_balance_is_advances_less_repayments_of_confirmed_recoverable_rewards(self):
        self._reward(1000.0)
        self._reward(500.0)
        self._reward(-300.0)
        self._reward(200.0, recoverable=False)
        self._reward(50.0, confirm=False)
        self._reward(70.0).action_reverse()
        self._reward(999.0, partner=self.rep_b)
        self.assertEqual(self._balance(), 1200.0)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 1200.0)

    def test_balance_can_be_negative_when_more_is_repaid(self):
        self._reward(100.0)
        self._reward(-150.0)
        self.assertEqual(self._balance(), -50.0)

    def test_search_owed_payees(self):
        self._reward(100.0)
        self._reward(-100.0, partner=self.rep_b)
        self._reward(60.0, partner=self.rep_b)
        Partner = self.env["res.partner"]
        payees = self.rep | self.rep_b | self.customer
        self.assertEqual(Partner.search([("id", "in", payees.ids), ("recoverable_balance", "!=", 0)]),
                         self.rep | self.rep_b)
        self.assertEqual(Partner.search([("id", "in", payees.ids), ("recoverable_balance", "=", 0)]),
                         self.customer)
        self.assertEqual(Partner.search([("id", "in", payees.ids), ("recoverable_balance", "<", 0)]),
                         self.rep_b)
        self.assertEqual(Partner.search([("id", "in", payees.ids), ("recoverable_balance", ">=", 100)]),
                         self.rep)

    def test_search_by_balance_needs_a_number(self):
        with self.assertRaisesRegex(UserError, "compared with a number"):
            self.env["res.partner"].search([("recoverable_balance", "=", "a lot")])

    def test_smart_button_opens_the_payee_rewards(self):
        reward = self._reward(100.0)
        self._reward(50.0, partner=self.rep_b)
        action = self.rep.action_view_recon_rewards()
        self.assertEqual(self.env["recon.reward"].search(action["domain"]), reward)
        self.assertEqual(action["context"]["default_partner_id"], self.rep.id)

    def test_user_shows_the_balance_of_their_partner(self):
        self._reward(400.0)
        self.assertRecordValues(self.rep_user, [{"recoverable_balance": 400.0, "recon_reward_count": 1}])

    def test_foreign_currency_reward_is_converted_at_its_date(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0), ("2024-06-01", 4.0)])
        reward = self._reward(300.0, currency=eur, date="2024-02-01")
        self._reward(-100.0, currency=eur, date="2024-07-01")
        self.assertEqual(reward.amount_company, 150.0)
        self.assertRecordValues(reward.move_id.line_ids.sorted("balance"), [
            {"account_id": self.payable.id, "currency_id": eur.id, "amount_currency": -300.0, "balance": -150.0},
            {"account_id": self.advance.id, "currency_id": eur.id, "amount_currency": 300.0, "balance": 150.0},
        ])
        self.assertEqual(self._balance(), 125.0)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 125.0)

    def test_confirming_takes_the_rate_known_at_confirmation(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0)])
        reward = self._reward(300.0, currency=eur, date="2024-02-01", confirm=False)
        self.assertEqual(reward.amount_company, 150.0)
        self.env["res.currency.rate"].create({"name": "2024-02-01", "rate": 3.0, "currency_id": eur.id,
                                              "company_id": self.company.id})
        reward.action_confirm()
        self.assertEqual(reward.amount_company, 100.0)
        self.assertEqual(reward.move_id.line_ids.filtered(lambda line: line.account_id == self.advance).balance, 100.0)

    def test_balances_list_rows_per_payee(self):
        self._reward(1000.0)
        self._reward(-250.0)
        self._reward(100.0, recoverable=False)
        self._reward(80.0, partner=self.rep_b)
        self._reward(-80.0, partner=self.rep_b)
        rows = self.env["recon.reward.balance"].search([("partner_id", "in", (self.rep | self.rep_b).ids)])
        self.assertRecordValues(rows.sorted(lambda r: r.partner_id.id), [
            {"partner_id": self.rep.id, "user_id": self.rep_user.id, "company_id": self.company.id,
             "balance": 750.0, "advanced": 1100.0, "repaid": 250.0, "forgiven": 100.0, "reward_count": 3},
            {"partner_id": self.rep_b.id, "user_id": False, "company_id": self.company.id,
             "balance": 0.0, "advanced": 80.0, "repaid": 80.0, "forgiven": 0.0, "reward_count": 2},
        ])

    def test_export_of_the_balances_list(self):
        self._reward(1000.0)
        self._reward(-250.0)
        self._reward(80.0, partner=self.rep_b)
        self._reward(-80.0, partner=self.rep_b)
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_reward_balance_action")
        self.assertIn("search_default_filter_owed", action["context"])
        owed = self.env["recon.reward.balance"].search([("balance", "!=", 0),
                                                         ("partner_id", "in", (self.rep | self.rep_b).ids)])
        exported = owed.export_data(["partner_id", "user_id/login", "company_id", "balance", "advanced", "repaid"])
        self.assertEqual(exported["datas"], [
            ["Northern Rep", "rep_north", self.company.name, 750.0, 1000.0, 250.0],
        ])


@tagged("post_install", "-at_install")
class TestRewardLifecycle(RewardCommon):

    def test_confirmed_reward_amount_cannot_change(self):
        reward = self._reward(100.0)
        with self.assertRaisesRegex(UserError, "is Confirmed.*Reverse it"):
            reward.amount = 120.0

    def test_confirmed_reward_cannot_be_made_non_recoverable_by_hand(self):
        reward = self._reward(100.0)
        with self.assertRaisesRegex(UserError, "clear the payee's owed balance"):
            reward.recoverable = False

    def test_status_and_entries_are_set_by_the_actions_only(self):
        reward = self._reward(100.0)
        with self.assertRaisesRegex(UserError, "set by Confirm, Reverse and Clear Balance only"):
            reward.state = "draft"
        with self.assertRaisesRegex(UserError, "Journal Entry"):
            self.env["recon.reward"].create({"name": "Draw", "partner_id": self.rep.id, "amount": 5.0,
                                             "move_id": reward.move_id.id})
        self.assertEqual(reward.state, "confirmed")

    def test_reward_with_a_posted_entry_cannot_be_deleted(self):
        reward = self._reward(100.0)
        with self.assertRaisesRegex(UserError, "cannot be deleted.*Reverse"):
            reward.unlink()

    def test_reversed_reward_cannot_be_deleted(self):
        reward = self._reward(100.0)
        reward.action_reverse()
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            reward.unlink()

    def test_deleting_a_draft_leaves_a_note_on_the_payee(self):
        reward = self._reward(123.0, confirm=False, name="Trade show draw")
        reward.unlink()
        note = self.rep.message_ids[:1]
        self.assertIn("Reward deleted by", note.body)
        self.assertIn("Trade show draw", note.body)
        self.assertIn("123.00", note.body)

    def test_deleting_an_unposted_confirmed_reward_is_allowed_and_noted(self):
        self.company.recon_post_rewards = False
        reward = self._reward(50.0, name="Unposted draw")
        reward.unlink()
        self.assertFalse(reward.exists())
        self.assertIn("Unposted draw", self.rep.message_ids[:1].body)
        self.assertEqual(self._balance(), 0.0)

    def test_reverse_posts_the_mirror_entry_reconciled_with_the_original(self):
        reward = self._reward(100.0)
        reward.action_reverse()
        self.assertRecordValues(reward, [{"state": "reversed"}])
        self.assertRecordValues(reward.reversal_move_id, [{
            "state": "posted", "recon_source_model": "recon.reward", "recon_source_id": reward.id,
            "reversed_entry_id": reward.move_id.id,
        }])
        self.assertRecordValues(reward.reversal_move_id.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "balance": -100.0, "reconciled": True},
            {"account_id": self.payable.id, "balance": 100.0, "reconciled": True},
        ])
        self.assertTrue(all(reward.move_id.line_ids.mapped("reconciled")))
        self.assertEqual(self._balance(), 0.0)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 0.0)

    def test_only_confirmed_rewards_can_be_reversed(self):
        reward = self._reward(100.0, confirm=False)
        with self.assertRaisesRegex(UserError, "Only a confirmed reward"):
            reward.action_reverse()

    def test_reverse_without_entry_cancels_the_reward(self):
        self.company.recon_post_rewards = False
        reward = self._reward(100.0)
        reward.action_reverse()
        self.assertRecordValues(reward, [{"state": "reversed", "reversal_move_id": False}])
        self.assertEqual(self._balance(), 0.0)

    def test_changes_are_tracked_on_the_reward(self):
        reward = self._reward(100.0, confirm=False).with_context(tracking_disable=False, mail_notrack=False)
        self.env.cr.precommit.clear()  # as if the reward had been created in an earlier transaction
        reward.write({"amount": 150.0, "recoverable": False, "partner_id": self.rep_b.id})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking values are written at commit
        reward.invalidate_recordset(["message_ids"])
        tracked = reward.message_ids.tracking_value_ids.field_id.mapped("name")
        self.assertEqual(sorted(tracked), ["amount", "partner_id", "recoverable"])


@tagged("post_install", "-at_install")
class TestRewardMultiCompany(RewardCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Rewards B")["company"]

    def test_balances_are_kept_per_company(self):
        self._reward(100.0)
        self._reward(700.0, company=self.company_b)
        self.assertEqual(self._balance(), 100.0)
        self.assertEqual(self._balance(company=self.company_b), 700.0)
        rows = self.env["recon.reward.balance"].search([("partner_id", "=", self.rep.id)])
        self.assertEqual(sorted(rows.mapped(lambda r: (r.company_id.name, r.balance))),
                         sorted([(self.company.name, 100.0), (self.company_b.name, 700.0)]))

    def test_other_company_rewards_and_balances_are_invisible(self):
        self._reward(100.0)
        other = self._reward(700.0, company=self.company_b)
        self.recon_user.write({"company_ids": [Command.set(self.company.ids)], "company_id": self.company.id})
        env = self.env(user=self.recon_user, context={"allowed_company_ids": self.company.ids})
        self.assertFalse(env["recon.reward"].search([("id", "=", other.id)]))
        self.assertEqual(env["recon.reward.balance"].search([("partner_id", "=", self.rep.id)]).balance, 100.0)
        self.assertEqual(self.rep.with_env(env).recoverable_balance, 100.0)

    def test_reward_takes_its_company_currency(self):
        self.company_b.currency_id = self.setup_other_currency("EUR")
        reward = self.env["recon.reward"].create({
            "name": "Draw", "partner_id": self.rep.id, "amount": 10.0, "company_id": self.company_b.id,
        })
        self.assertEqual(reward.currency_id, self.company_b.currency_id)

    def test_other_company_entry_uses_that_company_accounts(self):
        reward = self._reward(700.0, company=self.company_b)
        self.assertEqual(reward.move_id.company_id, self.company_b)
        self.assertEqual(reward.move_id.line_ids.account_id,
                         self.company_b.recon_advance_account_id | self.company_b.recon_commission_payable_account_id)


@tagged("post_install", "-at_install")
class TestRepaymentReconciliation(RewardCommon):

    def _advance_item(self, reward):
        return reward.move_id.line_ids.filtered(lambda line: line.account_id == self.advance)

    def test_repayment_settles_the_oldest_advances_first(self):
        january = self._reward(100.0, date="2024-01-10")
        february = self._reward(200.0, date="2024-02-10")
        repayment = self._reward(-150.0, date="2024-03-10")
        self.assertRecordValues(self._advance_item(repayment), [
            {"balance": -150.0, "reconciled": True, "amount_residual": 0.0},
        ])
        self.assertRecordValues(self._advance_item(january) + self._advance_item(february), [
            {"reconciled": True, "amount_residual": 0.0},
            {"reconciled": False, "amount_residual": 150.0},
        ])
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), 150.0)

    def test_repayments_confirmed_together_never_settle_the_same_part_twice(self):
        advance = self._reward(100.0, date="2024-01-10")
        first = self._reward(-60.0, date="2024-02-10", confirm=False)
        second = self._reward(-70.0, date="2024-02-11", confirm=False)
        (first + second).action_confirm()
        self.assertRecordValues(self._advance_item(first), [{"balance": -60.0, "reconciled": True}])
        self.assertRecordValues(self._advance_item(second).sorted("balance"), [
            {"balance": -40.0, "reconciled": True, "amount_residual": 0.0},
            {"balance": -30.0, "reconciled": False, "amount_residual": -30.0},
        ])
        self.assertTrue(self._advance_item(advance).reconciled)
        self.assertEqual(self._balance(), -30.0)

    def test_repayment_without_an_open_advance_stays_open(self):
        repayment = self._reward(-80.0)
        self.assertRecordValues(self._advance_item(repayment), [
            {"balance": -80.0, "reconciled": False, "amount_residual": -80.0},
        ])

    def test_foreign_currency_repayment_is_left_for_the_clearing(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0), ("2024-06-01", 4.0)])
        self._reward(300.0, currency=eur, date="2024-02-01")
        repayment = self._reward(-100.0, currency=eur, date="2024-07-01")
        self.assertFalse(self._advance_item(repayment).reconciled)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), self._balance())
