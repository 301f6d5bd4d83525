from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .reward_common import RewardCommon


@tagged("post_install", "-at_install")
class RewardClearingControlsCommon(RewardCommon):
    """A payee owing 1,200.00 (two draws, one repayment), managers with
    several clearing limits and the helpers to clear, undo and read the ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.recon_post_rewards = True
        cls.draws = cls._reward(1000.0, date="2024-01-10") + cls._reward(500.0, date="2024-02-10")
        cls.repayment = cls._reward(-300.0, date="2024-03-10")
        cls.rewards = cls.draws + cls.repayment
        cls.manager = cls._manager("recon_rwd_manager", "Rewards Manager", limit=0.0)
        cls.manager_high = cls._manager("recon_rwd_high", "Senior Rewards Manager", limit=5000.0)
        cls.manager_low = cls._manager("recon_rwd_low", "Junior Rewards Manager", limit=100.0)
        cls.requester = cls._manager("recon_rwd_requester", "Requesting Manager", limit=500.0)
        cls.goodwill = cls.env.ref("recon_addon.recon_reason_goodwill")

    @classmethod
    def _manager(cls, login, name, limit):
        user = new_test_user(cls.env, login=login, name=name, company_id=cls.company.id,
                             company_ids=[fields.Command.set(cls.company.ids)],
                             groups="base.group_user,recon_addon.recon_addon_group_manager")
        user.recon_clearing_limit = limit
        return user

    def _clear(self, user=None, reason=None, partner=None):
        """Clear as a manager does: open the confirmation, choose the reason, confirm."""
        user = user or self.manager
        action = (partner or self.rep).with_user(user).action_clear_recoverable_balance()
        wizard = self.env["recon.reward.clear.wizard"].with_user(user).browse(action["res_id"])
        wizard.reason_id = reason or self.reason
        wizard.action_confirm()
        return self.env["recon.reward.clearing"].search([("partner_id", "=", (partner or self.rep).id)], limit=1)

    undo_reason = "Cleared by mistake"

    def _advance_items(self):
        return self.rewards.move_id.line_ids.filtered(lambda line: line.account_id == self.advance)

    def _assert_owed(self, amount, forgiven=0.0):
        """The owed balance, the balances row and the ledger agree on ``amount``."""
        self.assertAlmostEqual(self._balance(), amount)
        row = self.env["recon.reward.balance"].search([("partner_id", "=", self.rep.id),
                                                         ("company_id", "=", self.company.id)])
        self.assertAlmostEqual(row.balance, amount)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep), amount)
        self.assertAlmostEqual(sum(self._advance_items().mapped("amount_residual")), amount)
        self.assertAlmostEqual(self._account_balance(self.forgiven, self.rep), forgiven)


@tagged("post_install", "-at_install")
class TestUndoRewardClearing(RewardClearingControlsCommon):

    def test_undo_reverses_the_forgiveness_and_restores_the_owed_balance(self):
        clearing = self._clear()
        move = clearing.move_id
        self._assert_owed(0.0, forgiven=1200.0)

        undo = self._undo(clearing)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 0,
                                        "user_id": self.manager.id, "reason": "Cleared by mistake"}])
        reversal = move.reversal_move_ids
        self.assertRecordValues(reversal, [{"state": "posted", "reversed_entry_id": move.id,
                                            "recon_undo_id": undo.id}])
        self.assertRecordValues(reversal.line_ids.sorted("balance"), [
            {"account_id": self.forgiven.id, "partner_id": self.rep.id, "balance": -1200.0, "reconciled": False},
            {"account_id": self.advance.id, "partner_id": self.rep.id, "balance": 1200.0, "reconciled": True},
        ])
        self.assertTrue(move.line_ids.filtered(lambda line: line.account_id == self.advance).reconciled)
        # the advances are open again as before the clearing: 700 of the
        # first draw (repaid 300 at confirmation), 500 of the second
        self.assertRecordValues(self._advance_items().sorted("date"), [
            {"amount_residual": 700.0, "reconciled": False},
            {"amount_residual": 500.0, "reconciled": False},
            {"amount_residual": 0.0, "reconciled": True},
        ])
        self._assert_owed(1200.0, forgiven=0.0)
        self.assertRecordValues(self.rewards, [{"recoverable": True, "clearing_id": False,
                                                "state": "confirmed"}] * 3)
        # history kept: the clearing, what it forgave, who undid it and why
        self.assertRecordValues(clearing, [{"state": "undone", "undo_id": undo.id, "undone_by_id": self.manager.id,
                                            "undo_reason": "Cleared by mistake", "move_id": move.id}])
        self.assertEqual(clearing.forgiven_reward_ids, self.rewards)
        self.assertIn("Cleared by mistake", move.message_ids[0].body)
        self.assertIn("undone by Rewards Manager", self.rep.message_ids[0].body)
        self.assertTrue(any("Recoverable again" in body for body in self.draws[0].message_ids.mapped("body")))

    def test_undo_without_posting_restores_the_rewards_and_the_balance(self):
        self.company.recon_post_rewards = False
        clearing = self._clear()
        self.assertFalse(clearing.move_id)
        self.assertAlmostEqual(self._balance(), 0.0)

        undo = self._undo(clearing)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 0}])
        self.assertFalse(undo.skip_ids)
        self.assertFalse(undo.reversal_ids)
        self.assertEqual(clearing.state, "undone")
        self.assertRecordValues(self.rewards, [{"recoverable": True, "clearing_id": False}] * 3)
        # the ledger never moved: the advances still hold the 1,200.00
        self._assert_owed(1200.0, forgiven=0.0)

    def test_reward_repaid_by_hand_since_the_clearing_is_skipped_and_listed(self):
        clearing = self._clear()
        move = clearing.move_id
        # the payee paid the second draw back after all: the accountant took
        # its advance item out of the forgiveness and matched the bank entry
        second = self.draws[1].move_id.line_ids.filtered(lambda line: line.account_id == self.advance)
        second.remove_move_reconcile()
        bank = self.env["account.move"].create({
            "journal_id": self.company_data["default_journal_misc"].id,
            "date": fields.Date.from_string("2024-06-01"),
            "line_ids": [
                fields.Command.create({"account_id": self.company_data["default_journal_bank"].default_account_id.id,
                                       "partner_id": self.rep.id, "debit": 500.0, "name": "Repaid"}),
                fields.Command.create({"account_id": self.advance.id, "partner_id": self.rep.id,
                                       "credit": 500.0, "name": "Repaid"}),
            ],
        })
        bank.action_post()
        (second | bank.line_ids.filtered(lambda line: line.account_id == self.advance)).reconcile()

        undo = self._undo(clearing)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 0, "count_skipped": 1}])
        self.assertEqual(undo.skip_ids.partner_id, self.rep)
        self.assertIn("repaid or reconciled by hand", undo.skip_ids.reason)
        self.assertIn(bank.name, undo.skip_ids.reason)
        self.assertTrue(undo.skip_file)
        self.assertFalse(move.reversal_move_ids)
        self.assertEqual(clearing.state, "done")
        self.assertRecordValues(self.rewards, [{"recoverable": False, "clearing_id": clearing.id}] * 3)
        self.assertAlmostEqual(self._balance(), 0.0)
        self.assertAlmostEqual(self._account_balance(self.forgiven, self.rep), 1200.0)
        # the undo happened once: a second one is refused
        with self.assertRaisesRegex(UserError, "undone already"):
            clearing.with_user(self.manager).action_undo()

    def test_undo_of_a_foreign_currency_advance_restores_it_at_its_own_rate(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0), ("2024-06-01", 4.0)])
        draw = self._reward(400.0, partner=self.rep_b, currency=eur, date="2024-02-01")
        item = draw.move_id.line_ids.filtered(lambda line: line.account_id == self.advance)
        clearing = self._clear(partner=self.rep_b)
        self.assertRecordValues(item, [{"reconciled": True, "amount_residual": 0.0}])

        undo = self._undo(clearing)

        self.assertRecordValues(undo, [{"count_undone": 1, "count_skipped": 0}])
        self.assertRecordValues(item, [{"reconciled": False, "amount_residual": 200.0,
                                        "amount_residual_currency": 400.0}])
        self.assertAlmostEqual(self._balance(self.rep_b), 200.0)
        self.assertAlmostEqual(self._account_balance(self.advance, self.rep_b), 200.0)
        self.assertAlmostEqual(self._account_balance(self.forgiven, self.rep_b), 0.0)
        self.assertTrue(draw.recoverable)

    def test_balance_can_be_cleared_again_after_an_undo(self):
        first = self._clear()
        self._undo(first)
        second = self._clear(reason=self.goodwill)

        self.assertNotEqual(first, second)
        self.assertRecordValues(second, [{"state": "done", "amount": 1200.0, "reason_id": self.goodwill.id}])
        self.assertRecordValues(self.rewards, [{"recoverable": False, "clearing_id": second.id}] * 3)
        self.assertEqual(first.forgiven_reward_ids, self.rewards)
        self.assertEqual(first.state, "undone")
        # forgiven once net: first forgiveness, its reversal, the second one
        self._assert_owed(0.0, forgiven=1200.0)
        self.assertEqual(self._advance_items().mapped("reconciled"), [True, True, True])

    def test_undo_is_refused_twice_and_to_a_clerk(self):
        clearing = self._clear()
        with self.assertRaises(AccessError):
            clearing.with_user(self.recon_user).action_undo()
        self._undo(clearing)
        with self.assertRaisesRegex(UserError, "undone already"):
            clearing.with_user(self.manager).action_undo()
        with self.assertRaisesRegex(UserError, "undone already"):
            clearing.with_user(self.manager)._undo("again")
        self.assertEqual(len(clearing.move_id.reversal_move_ids), 1)
        self._assert_owed(1200.0, forgiven=0.0)


@tagged("post_install", "-at_install")
class TestRewardClearingApproval(RewardClearingControlsCommon):

    def test_under_the_limit_the_balance_is_cleared_at_once(self):
        self.requester.recon_clearing_limit = 2000.0
        clearing = self._clear(user=self.requester)
        self.assertRecordValues(clearing, [{"state": "done", "amount": 1200.0, "user_id": self.requester.id}])
        self.assertTrue(clearing.move_id)
        self.assertFalse(clearing.activity_ids)
        self._assert_owed(0.0, forgiven=1200.0)

    def test_over_the_limit_the_clearing_waits_and_nothing_changes(self):
        moves_before = self.env["account.move"].search_count([])
        clearing = self._clear(user=self.requester)

        self.assertRecordValues(clearing, [{"state": "to_approve", "amount": 1200.0, "move_id": False,
                                            "requested_by_id": self.requester.id}])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertRecordValues(self.rewards, [{"recoverable": True, "clearing_id": False}] * 3)
        self._assert_owed(1200.0, forgiven=0.0)
        approvers = clearing.activity_ids.user_id
        self.assertIn(self.manager_high, approvers)
        self.assertIn(self.manager, approvers)
        self.assertNotIn(self.manager_low, approvers)
        self.assertNotIn(self.requester, approvers)
        # nothing to undo, and no second request while this one waits
        with self.assertRaisesRegex(UserError, "only a cleared balance can be undone"):
            clearing.with_user(self.manager).action_undo()
        with self.assertRaisesRegex(UserError, "waits for approval"):
            self._clear(user=self.manager)

    def test_approval_by_a_manager_whose_limit_covers_it_clears_the_balance(self):
        clearing = self._clear(user=self.requester)
        clearing.with_user(self.manager_high).action_approve()

        self.assertRecordValues(clearing, [{"state": "done", "approved_by_id": self.manager_high.id,
                                            "requested_by_id": self.requester.id}])
        self.assertFalse(clearing.activity_ids)
        self.assertRecordValues(clearing.move_id, [{"state": "posted", "journal_id": self.recon_journal.id}])
        self.assertRecordValues(clearing.move_id.line_ids.sorted("balance"), [
            {"account_id": self.advance.id, "balance": -1200.0, "reconciled": True},
            {"account_id": self.forgiven.id, "balance": 1200.0, "reconciled": False},
        ])
        self.assertRecordValues(self.rewards, [{"recoverable": False, "clearing_id": clearing.id}] * 3)
        self._assert_owed(0.0, forgiven=1200.0)
        self.assertEqual(self._advance_items().mapped("reconciled"), [True, True, True])

    def test_requester_low_limit_manager_and_clerk_cannot_approve(self):
        clearing = self._clear(user=self.requester)
        for user in (self.requester, self.manager_low, self.recon_user):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                clearing.with_user(user).action_approve()
        with self.assertRaises(AccessError):
            clearing.with_user(self.requester).action_reject()
        self.assertEqual(clearing.state, "to_approve")
        self.assertFalse(clearing.move_id)
        self._assert_owed(1200.0, forgiven=0.0)

    def test_approval_is_refused_when_the_balance_changed_meanwhile(self):
        clearing = self._clear(user=self.requester)
        self._reward(-100.0, date="2024-04-10")
        with self.assertRaisesRegex(UserError, "reject this clearing"):
            clearing.with_user(self.manager_high).action_approve()

    def test_rejection_clears_nothing_and_keeps_the_clearing(self):
        moves_before = self.env["account.move"].search_count([])
        clearing = self._clear(user=self.requester)
        action = clearing.with_user(self.manager_high).action_reject()
        self.env["recon.reject.wizard"].with_user(self.manager_high).with_context(**action["context"]).create(
            {"reason": "Recover it from the next commission"}).action_confirm()

        self.assertRecordValues(clearing, [{"state": "rejected", "rejected_by_id": self.manager_high.id,
                                            "reject_reason": "Recover it from the next commission",
                                            "move_id": False}])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(clearing.activity_ids)
        self.assertRecordValues(self.rewards, [{"recoverable": True, "clearing_id": False}] * 3)
        self._assert_owed(1200.0, forgiven=0.0)
        with self.assertRaisesRegex(UserError, "not waiting for approval"):
            clearing.with_user(self.manager).action_approve()


@tagged("post_install", "-at_install")
class TestRewardClearingReason(RewardClearingControlsCommon):

    def test_a_clearing_needs_a_reason(self):
        action = self.rep.with_user(self.manager).action_clear_recoverable_balance()
        wizard = self.env["recon.reward.clear.wizard"].with_user(self.manager).browse(action["res_id"])
        with self.assertRaisesRegex(UserError, "Choose the reason"):
            wizard.action_confirm()
        with self.assertRaisesRegex(UserError, "Choose the reason"):
            self.env["recon.reward.clearing"].with_user(self.manager)._clear_balances(
                self.rep, self.env["recon.write.off.reason"])
        self.assertFalse(self.env["recon.reward.clearing"].search([("partner_id", "=", self.rep.id)]))
        self._assert_owed(1200.0, forgiven=0.0)

    def test_the_reason_is_on_the_clearing_and_its_forgiveness_entry(self):
        clearing = self._clear(reason=self.goodwill)
        self.assertEqual(clearing.reason_id, self.goodwill)
        self.assertIn("(Goodwill)", clearing.move_id.ref)
        self.assertEqual(set(clearing.move_id.line_ids.mapped("name")),
                         {f"Forgiveness of owed balance: {self.rep.display_name} (Goodwill)"})
        self.assertIn("Reason: Goodwill", self.rep.message_ids[0].body)
        Clearing = self.env["recon.reward.clearing"]
        self.assertEqual(Clearing.search([("reason_id", "=", self.goodwill.id)]), clearing)
        groups = Clearing.read_group([("partner_id", "=", self.rep.id)], ["amount:sum"], ["reason_id"])
        self.assertEqual([(g["reason_id"][0], g["amount"]) for g in groups], [(self.goodwill.id, 1200.0)])

    def test_a_reason_of_another_company_is_refused(self):
        company_b = self.setup_other_company(name="Rewards B")["company"]
        other = self.env["recon.write.off.reason"].create({"code": "B-ONLY", "name": "Company B only",
                                                           "company_id": company_b.id})
        action = self.rep.action_clear_recoverable_balance()
        wizard = self.env["recon.reward.clear.wizard"].browse(action["res_id"])
        wizard.reason_id = other
        with self.assertRaisesRegex(UserError, "belongs to Rewards B"):
            wizard.action_confirm()
        self._assert_owed(1200.0, forgiven=0.0)
