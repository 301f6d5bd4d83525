import base64
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .test_threshold_rule import ThresholdCommon


class UndoThresholdCommon(ThresholdCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small = cls.env.ref("recon_addon.recon_reason_small_balance")
        cls.manager = cls.env["res.users"].create({
            "name": "Deduction Manager", "login": "recon_thr_manager",
            "company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)],
            "groups_id": [Command.set([cls.env.ref("recon_addon.recon_addon_group_manager").id,
                                       cls.env.ref("account.group_account_invoice").id])],
        })

    undo_reason = "Wrong threshold"

    def _receivable_items(self, moves):
        return moves.line_ids.filtered(lambda line: line.account_id == self.receivable)


@tagged("post_install", "-at_install")
class TestUndoThresholdRun(UndoThresholdCommon):

    def _cleared_setup(self):
        first = self._transaction([40.0, 30.0, 150.0], ref="CHQ-1", breakout=True)
        second = self._transaction([20.0, -10.0], ref="CHQ-2", breakout=True)
        return first, second

    def test_undo_reverses_each_entry_and_reopens_the_deductions(self):
        first, second = self._cleared_setup()
        receivable_before = self._account_balance(self.receivable, self.customer)
        run = self._run(first | second)
        cleared = (first | second).deduction_ids.filtered(lambda d: d.amount != 150.0)
        self.assertEqual(set(cleared.mapped("state")), {"resolved"})
        self.assertAlmostEqual(self._account_balance(self.promo_account), 80.0)
        moves = run.deduction_line_ids.move_id
        self.assertEqual(len(moves), 2, "one entry per transaction")

        undo = self._undo(run)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 2, "count_skipped": 0, "total_count": 2,
                                        "user_id": self.manager.id, "reason": "Wrong threshold"}])
        for move in moves:
            reversal = move.reversal_move_ids
            self.assertEqual(len(reversal), 1, move.name)
            self.assertRecordValues(reversal, [{"state": "posted", "reversed_entry_id": move.id,
                                                "recon_undo_id": undo.id}])
            self.assertEqual(move.state, "posted", "the original entry stays as history")
            items = self._receivable_items(move | reversal)
            self.assertTrue(items and all(items.mapped("reconciled")), "the pair is reconciled")
            self.assertEqual(reversal.line_ids.account_id, move.line_ids.account_id)
        # the deductions are open again, exactly as before the run
        for deduction in cleared:
            self.assertRecordValues(deduction, [{"state": "new", "open_amount": deduction.amount}])
            self.assertAlmostEqual(deduction.receivable_line_id.amount_residual, deduction.amount)
            self.assertFalse(deduction.receivable_line_id.reconciled)
        self.assertRecordValues(self._by_amount(first, 150.0), [{"state": "new", "open_amount": 150.0}])
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), receivable_before)
        self.assertEqual(self.promotion_march.spent, 0.0)
        # history kept: the lines stay, marked undone; the run tells who, when and why
        self.assertEqual(len(run.deduction_line_ids), 4)
        self.assertEqual(set(run.deduction_line_ids.mapped("undone")), {True})
        self.assertEqual(run.deduction_line_ids.move_id, moves)
        self.assertRecordValues(run, [{"undo_id": undo.id, "undone_by_id": self.manager.id,
                                       "undo_reason": "Wrong threshold", "reason_id": self.small.id}])
        self.assertTrue(run.undo_date)
        self.assertIn("Wrong threshold", self.rule.message_ids[0].body)
        self.assertIn("Wrong threshold", moves[0].message_ids[0].body)

    def test_rule_clears_the_same_deductions_again_after_the_undo(self):
        first, second = self._cleared_setup()
        run = self._run(first | second)
        first_moves = run.deduction_line_ids.move_id
        self._undo(run)

        again = self._run(first | second)

        cleared = (first | second).deduction_ids.filtered(lambda d: d.amount != 150.0)
        self.assertEqual(set(cleared.mapped("state")), {"resolved"})
        self.assertEqual(set(cleared.mapped("open_amount")), {0.0})
        self.assertEqual(len(again.deduction_line_ids), 4)
        self.assertFalse(again.deduction_line_ids.move_id & first_moves, "new entries")
        self.assertEqual(set(again.deduction_line_ids.mapped("undone")), {False})
        self.assertTrue(all(item.reconciled for item in self._receivable_items(again.deduction_line_ids.move_id)))
        self.assertAlmostEqual(self._account_balance(self.promo_account), 80.0)
        self.assertAlmostEqual(self.promotion_march.spent, 80.0)
        for deduction in cleared:
            self.assertEqual(len(deduction.line_ids), 2)
            self.assertEqual(deduction.line_ids.filtered("undone").run_id, run)
        # the database still accepts one open automated resolution per deduction
        deduction = cleared[0]
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.deduction.line"]._create_locked([{
                "deduction_id": deduction.id, "kind": "promotion", "amount": deduction.amount,
                "promotion_id": self.promotion_march.id, "account_id": self.promo_account.id,
                "automated": True}])
            self.env.flush_all()

    def test_deduction_resolved_by_hand_since_the_run_is_skipped_and_listed(self):
        kept = self._transaction([40.0], ref="CHQ-1", breakout=True)
        changed = self._transaction([30.0], ref="CHQ-2", breakout=True)
        run = self._run(kept | changed)
        automated_move = changed.deduction_ids.line_ids.move_id
        # the automated entry is unreconciled by hand and the deduction resolved by hand
        changed.deduction_ids.receivable_line_id.remove_move_reconcile()
        changed.deduction_ids.resolve("write_off", 30.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        manual_move = changed.deduction_ids.line_ids.filtered(lambda line: not line.automated).move_id

        undo = self._undo(run)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 1}])
        self.assertEqual(undo.skip_ids.res_id, automated_move.id)
        self.assertIn("resolved by hand since the run", undo.skip_ids.reason)
        self.assertIn(changed.deduction_ids.display_name, undo.skip_ids.reason)
        self.assertIn(manual_move.name, undo.skip_ids.reason)
        csv = base64.b64decode(undo.skip_file).decode()
        self.assertIn("resolved by hand since the run", csv)
        self.assertEqual(undo.action_download_skipped()["type"], "ir.actions.act_url")
        # the skipped entry and the deduction stay as they are
        self.assertFalse(automated_move.reversal_move_ids)
        self.assertRecordValues(changed.deduction_ids, [{"state": "resolved", "open_amount": 0.0}])
        self.assertFalse(changed.deduction_ids.line_ids.filtered("undone"))
        # the other one is open again
        self.assertRecordValues(kept.deduction_ids, [{"state": "new", "open_amount": 40.0}])
        self.assertEqual(len(kept.deduction_ids.line_ids.move_id.reversal_move_ids), 1)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 30.0)
        self.assertAlmostEqual(self._account_balance(self.write_off_account), 30.0)

    def test_undo_in_chunks_reverses_each_entry_once(self):
        transactions = self.env["recon.deduction.transaction"]
        for index in range(3):
            transactions |= self._transaction([10.0 + index], ref=f"CHQ-{index}", breakout=True)
        run = self._run(transactions)
        moves = run.deduction_line_ids.move_id
        self.assertEqual(len(moves), 3)
        with patch.object(self.env.registry["recon.undo"], "_run_chunk_size", 1):
            undo = self._undo(run)
            self.assertRecordValues(undo, [{"state": "running", "count_undone": 1}])
            for _round in range(3):
                self.env["recon.undo"].with_user(SUPERUSER_ID)._cron_process_runs()
        self.assertRecordValues(undo, [{"state": "done", "count_undone": 3, "total_count": 3}])
        for move in moves:
            self.assertEqual(len(move.reversal_move_ids), 1)
        self.assertEqual(set(transactions.deduction_ids.mapped("state")), {"new"})
        self.assertEqual(transactions.deduction_ids.mapped("open_amount"),
                         transactions.deduction_ids.mapped("amount"))
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)

    def test_unique_index_ignores_only_undone_lines(self):
        """The index is replaced on upgrade by a partial one on lines not undone."""
        self.env.cr.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'recon_deduction_line'")
        indexes = dict(self.env.cr.fetchall())
        self.assertNotIn("recon_deduction_line_automated_unique", indexes)
        self.assertIn("WHERE (automated AND (undone IS NOT TRUE))",
                      indexes["recon_deduction_line_automated_open_unique"])

    def test_deduction_open_again_can_be_voided(self):
        transaction = self._transaction([40.0], breakout=True)
        run = self._run(transaction)
        self._undo(run)
        deduction = transaction.deduction_ids
        receivable_before = self._account_balance(self.receivable, self.customer)
        deduction.action_void()
        self.assertRecordValues(deduction, [{"state": "void", "open_amount": 0.0}])
        self.assertTrue(deduction.receivable_line_id.reconciled)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), receivable_before)
        self.assertEqual(len(deduction.line_ids), 1, "the undone resolution stays as history")

    def test_undo_is_refused_twice_and_to_a_clerk(self):
        transaction = self._transaction([40.0], breakout=True)
        run = self._run(transaction)
        with self.assertRaises(AccessError):
            run.with_user(self.user).action_undo()
        with self.assertRaises(AccessError):
            run.with_user(self.user)._undo("Mine")
        self.assertFalse(run.undo_id)
        self._undo(run)
        with self.assertRaisesRegex(UserError, "undone already"):
            run.with_user(self.manager).action_undo()
        with self.assertRaisesRegex(UserError, "undone already"):
            run.with_user(self.manager)._undo("Again")
        self.assertEqual(len(run.deduction_line_ids.move_id.reversal_move_ids), 1)
        self.assertRecordValues(transaction.deduction_ids, [{"state": "new", "open_amount": 40.0}])
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)

    def test_running_run_cannot_be_undone(self):
        run = self.env["recon.threshold.run"]._start(self.rule)
        with self.assertRaisesRegex(UserError, "still running"):
            run.with_user(self.manager).action_undo()

    def test_run_with_refused_items_can_be_undone(self):
        good = self._transaction([40.0], ref="CHQ-1")
        bad = self._transaction([4000.0, 870.0], original=5000.0, ref="CHQ-2")
        run = self._run(good | bad)
        self.assertEqual(run.refused_count, 1)
        self.assertEqual(good.deduction_ids.state, "resolved")

        undo = self._undo(run)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 0}])
        self.assertRecordValues(good.deduction_ids, [{"state": "new", "open_amount": 40.0}])
        self.assertEqual(good.state, "posted", "the breakout stays: the deduction is its own claim")
        self.assertEqual(bad.state, "draft")
        self.assertRecordValues(run.line_ids, [{"result": "refused", "undone": False, "move_id": False}])
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)

    def test_undo_reopens_the_invoices_the_run_cleared(self):
        invoice = self._invoice(1000.0, date="2024-03-05")
        self._pay(invoice, 999.40)
        action = invoice.action_run_below_threshold()
        run = self.env["recon.threshold.run"].browse(action["res_id"])
        self.assertEqual(invoice.payment_state, "paid")
        move = run.line_ids.move_id
        self.assertIn(self.small.name, " ".join(move.line_ids.mapped("name")))

        undo = self._undo(run)

        self.assertEqual(undo.count_undone, 1)
        self.assertEqual(len(move.reversal_move_ids), 1)
        self.assertEqual(move.reversal_move_ids.reversed_entry_id, move)
        self.assertRecordValues(invoice, [{"amount_residual": 0.60, "payment_state": "partial"}])
        self.assertRecordValues(run.line_ids, [{"result": "cleared", "undone": True, "move_id": move.id,
                                                "reason_id": self.small.id}])
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.60)


@tagged("post_install", "-at_install")
class TestDeductionReasons(UndoThresholdCommon):

    def test_resolution_without_a_reason_is_refused(self):
        deduction = self._transaction([80.0], breakout=True).deduction_ids
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, "choose the reason of the resolution"):
            deduction.resolve("write_off", 30.0, fund_type_id=self.fund_type.id)
        wizard = self.env["recon.deduction.resolve.wizard"].new({
            "deduction_id": deduction.id, "kind": "write_off", "fund_type_id": self.fund_type.id, "amount": 30.0})
        with self.assertRaisesRegex(UserError, "choose the reason of the resolution"):
            wizard.action_confirm()
        self.assertTrue(wizard._fields["reason_id"].required)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertRecordValues(deduction, [{"state": "new", "open_amount": 80.0}])
        self.assertFalse(deduction.line_ids)

    def test_reason_shows_on_the_entry_and_the_resolution(self):
        deduction = self._transaction([80.0], breakout=True).deduction_ids
        action = deduction.action_open_resolve_wizard()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create({
            "kind": "write_off", "fund_type_id": self.fund_type.id, "amount": 30.0, "reason_id": self.reason.id})
        wizard.action_confirm()
        line = deduction.line_ids
        self.assertRecordValues(line, [{"reason_id": self.reason.id, "automated": False, "amount": 30.0}])
        labels = line.move_id.line_ids.mapped("name")
        self.assertTrue(labels and all(f"({self.reason.name})" in label for label in labels), labels)
        self.assertAlmostEqual(self._account_balance(self.write_off_account), 30.0)
        self.assertRecordValues(deduction, [{"state": "in_progress", "open_amount": 50.0}])
        # searched and grouped by reason
        Line = self.env["recon.deduction.line"]
        self.assertEqual(Line.search([("reason_id", "=", self.reason.id)]), line)
        groups = dict(Line._read_group([("deduction_id", "=", deduction.id)], ["reason_id"], ["__count"]))
        self.assertEqual(groups, {self.reason: 1})

    def test_rule_default_reason_on_the_run_and_its_lines(self):
        rule = self.env["recon.threshold.rule"].create({"name": "Another", "clearing_method": "write_off",
                                                        "fund_type_id": self.fund_type.id})
        self.assertEqual(rule.reason_id, self.small)
        self.assertEqual(self.rule.reason_id, self.small)
        transaction = self._transaction([40.0, -10.0], breakout=True)
        run = self._run(transaction)
        self.assertEqual(run.reason_id, self.small)
        self.assertEqual(run.deduction_line_ids.reason_id, self.small)
        self.assertEqual(len(run.deduction_line_ids), 2)
        labels = run.deduction_line_ids.move_id.line_ids.mapped("name")
        self.assertTrue(labels and all(label.endswith(f"({self.small.name})") for label in labels), labels)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 30.0)
        # another reason on the rule goes on the next run
        self.rule.reason_id = self.reason
        other = self._run(self._transaction([25.0], ref="CHQ-9", breakout=True))
        self.assertEqual(other.reason_id, self.reason)
        self.assertEqual(other.deduction_line_ids.reason_id, self.reason)
        self.assertIn(f"({self.reason.name})", other.deduction_line_ids.move_id.line_ids[0].name)
