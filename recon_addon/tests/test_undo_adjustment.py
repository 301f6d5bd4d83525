from collections import defaultdict
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .test_adjustment_rule import AdjustmentCommon


@tagged("post_install", "-at_install")
class TestUndoAdjustmentRun(AdjustmentCommon):
    """The undo of an adjustment run, proved on the ledger: each entry
    reversed once and reconciled with its reversal, the invoices, the fee
    income, the line item code balances, the payment plans and the
    collection statuses as they were before the run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.env["res.users"].create({
            "name": "Adjustments Manager", "login": "recon_adj_undo_manager",
            "company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)],
            "groups_id": [Command.set([cls.env.ref("recon_addon.recon_addon_group_manager").id,
                                       cls.env.ref("account.group_account_invoice").id])],
        })
        cls.clerk = cls.env["res.users"].create({
            "name": "Adjustments Clerk", "login": "recon_adj_undo_clerk",
            "company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)],
            "groups_id": [Command.set([cls.env.ref("recon_addon.recon_addon_group_user").id])],
        })
        cls.goodwill = cls.env.ref("recon_addon.recon_reason_goodwill")

    undo_reason = "Wrong rule"

    def _open_by_due_date(self, partner):
        """What is open on the debtor's receivable, per due date."""
        result = defaultdict(float)
        for line in self.env["account.move.line"].search([
                ("partner_id", "=", partner.id), ("account_id", "=", self.receivable.id),
                ("parent_state", "=", "posted"), ("reconciled", "=", False)]):
            result[line.date_maturity] += line.amount_residual
        return {due: amount for due, amount in result.items() if amount}

    def _assert_reversed_once(self, adjustments, undo):
        for adjustment in adjustments:
            move = adjustment.move_id
            reversal = move.reversal_move_ids
            self.assertEqual(len(reversal), 1, f"one reversal of {move.name}")
            self.assertRecordValues(reversal, [{"state": "posted", "reversed_entry_id": move.id,
                                                "recon_undo_id": undo.id}])
            self.assertEqual(move.state, "posted", "the original entry is kept")
            receivable_items = (move | reversal).line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable")
            self.assertTrue(receivable_items)
            self.assertTrue(all(receivable_items.mapped("reconciled")), f"{move.name} reconciled with its reversal")
            self.assertEqual(receivable_items.full_reconcile_id.reconciled_line_ids, receivable_items)

    # ------------------------------------------------------------------
    # Increases
    # ------------------------------------------------------------------
    def test_undo_of_a_flat_fee_puts_the_ledger_back(self):
        rule = self._rule()
        first = self._account(100.0)
        second = self._coded_invoice([(self.principal, 200.0)], partner=self.customer_b)
        self._pay(second, 50.0, "2024-02-01")
        invoices = first | second
        balances_before = invoices._recon_line_item_balances()
        receivable_before = self._account_balance(self.receivable)
        income_before = self._account_balance(self.fee_income)
        run = self._run(rule, "2024-03-01")
        adjustments = self._adjustments(rule)
        self.assertEqual(len(adjustments), 2)
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before - 20.0)
        self.assertEqual(invoices.mapped("recon_account_balance"), [110.0, 160.0])

        undo = self._undo(run)
        self.env.invalidate_all()  # the account balance is computed, not stored

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 2, "count_skipped": 0,
                                        "user_id": self.manager.id}])
        self._assert_reversed_once(adjustments, undo)
        self.assertRecordValues(invoices, [
            {"amount_residual": 100.0, "recon_account_balance": 100.0},
            {"amount_residual": 150.0, "recon_account_balance": 150.0},
        ])
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before)
        self.assertAlmostEqual(self._account_balance(self.receivable), receivable_before)
        self.assertEqual(invoices._recon_line_item_balances(), balances_before)
        self.assertEqual(invoices._recon_open_adjustment_items_by_invoice(),
                         {invoice: self.env["account.move.line"] for invoice in invoices})
        # history kept: the adjustments and the run stay, marked undone
        self.assertRecordValues(adjustments, [{"state": "undone", "undo_id": undo.id}] * 2)
        self.assertEqual(run.state, "done")
        self.assertEqual(run.undone_by_id, self.manager)
        self.assertIn("Wrong rule", rule.message_ids[0].body)
        self.assertIn("Wrong rule", adjustments[0].move_id.message_ids[0].body)

    def test_undo_of_a_percent_fee_then_run_now_adjusts_again(self):
        rule = self._rule(name="10% of the principal as interest", adjustment_type="percent", value=10.0,
                          product_id=self.interest.id, balance_product_ids=[Command.set(self.principal.ids)])
        invoice = self._coded_invoice([(self.principal, 900.0), (self.interest, 100.0)])
        income_before = self._account_balance(self.fee_income)
        rule.with_user(self.manager).action_run_now()
        run = rule.run_ids
        adjustment = self._adjustments(rule)
        self.assertRecordValues(adjustment, [{"amount": 90.0, "state": "posted"}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 190.0})

        undo = self._undo(run)
        self.env.invalidate_all()  # the account balance is computed, not stored

        self._assert_reversed_once(adjustment, undo)
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 100.0})
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 1000.0)
        # the nightly process does not start the undone day again
        rule.write({"month_day": run.date.day})
        self.Run._create_due_runs()
        self.assertEqual(rule.run_ids, run)

        # the same invoice is adjusted again in the same period, by a new run
        rule.with_user(self.manager).action_run_now()
        new_run = rule.run_ids - run
        self.assertEqual(len(new_run), 1)
        self.assertEqual(new_run.date, run.date)
        again = self._adjustments(rule) - adjustment
        self.assertRecordValues(again, [{"invoice_id": invoice.id, "amount": 90.0, "state": "posted",
                                         "period_key": adjustment.period_key, "run_id": new_run.id}])
        self.assertNotEqual(again.move_id, adjustment.move_id)
        self.assertEqual(again.move_id.state, "posted")
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before - 90.0)
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 190.0})

    def test_undo_of_a_recalculated_payment_plan_gives_back_the_installments(self):
        rule = self._rule(value=20.0, recalculate_payment_plan=True)
        invoice = self._coded_invoice([(self.principal, 1000.0)], payment_term=self.pay_terms_b)
        plan_before = self._open_by_due_date(self.customer)
        income_before = self._account_balance(self.fee_income)
        self.assertEqual(len(plan_before), 2)
        run = self._run(rule, "2024-03-01")
        adjustment = self._adjustments(rule)
        self.assertEqual(len(self._receivable_line(adjustment.move_id)), 2, "spread over two installments")
        self.assertNotEqual(self._open_by_due_date(self.customer), plan_before)

        undo = self._undo(run)
        self.env.invalidate_all()  # the account balance is computed, not stored

        self._assert_reversed_once(adjustment, undo)
        self.assertEqual(self._open_by_due_date(self.customer), plan_before)
        installments = self._receivable_line(invoice)
        self.assertEqual(sorted(installments.mapped("amount_residual")), [300.0, 700.0])
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before)

    def test_once_per_debtor_rule_adjusts_the_debtor_again_after_undo(self):
        rule = self._rule(apply_limit="once_per_debtor")
        invoice = self._account(100.0)
        run = self._run(rule, "2024-03-01")
        adjustment = self._adjustments(rule)
        self.assertEqual(adjustment.period_key, "once")
        self._undo(run)
        self._run(rule, "2024-03-01")
        self.env.invalidate_all()
        again = self._adjustments(rule) - adjustment
        self.assertRecordValues(again, [{"invoice_id": invoice.id, "state": "posted", "period_key": "once"}])
        self.assertAlmostEqual(invoice.recon_account_balance, 110.0)
        # still once: the database refuses a second adjustment not undone
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.adjustment"]._create_locked([{
                "rule_id": rule.id, "invoice_id": invoice.id, "partner_id": self.customer.id, "period_key": "once",
                "apply_limit": "once_per_debtor", "date": fields.Date.to_date("2024-03-02"),
                "product_id": self.carrying_fee.id, "currency_id": invoice.currency_id.id, "amount": 10.0}])
            self.env.flush_all()

    # ------------------------------------------------------------------
    # Decreases
    # ------------------------------------------------------------------
    def test_undo_of_a_decrease_to_zero_reopens_the_invoice_and_its_status(self):
        rule = self._rule(name="Settlement credit", value=-500.0, product_id=self.principal.id,
                          zero_balance_status_id=self.status_closed.id)
        invoice = self._coded_invoice([(self.principal, 300.0)])
        payment = self._pay(invoice, 100.0, "2024-02-01")
        invoice.collection_status_id = self.status_disputed
        income_before = self._account_balance(self.fee_income)
        run = self._run(rule, "2024-03-01")
        adjustment = self._adjustments(rule)
        self.assertRecordValues(adjustment, [{"amount": -200.0, "previous_status_id": self.status_disputed.id,
                                              "zero_status_id": self.status_closed.id}])
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "collection_status_id": self.status_closed.id}])

        undo = self._undo(run)
        self.env.invalidate_all()  # the account balance is computed, not stored

        self._assert_reversed_once(adjustment, undo)
        self.assertRecordValues(invoice, [{"amount_residual": 200.0, "payment_state": "partial",
                                           "collection_status_id": self.status_disputed.id,
                                           "recon_account_balance": 200.0}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice], {self.principal.id: 200.0})
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 200.0)
        # the payment made before the run is still reconciled with the invoice
        self.assertIn(payment.move_id, invoice._get_reconciled_payments().move_id)

    def test_undo_of_a_decrease_of_a_fee_reopens_the_fee(self):
        fee = self._rule()
        waiver = self._rule(name="Waive 4 of carrying fee", value=-4.0)
        invoice = self._account(100.0)
        income_before = self._account_balance(self.fee_income)
        self._run(fee, "2024-03-01")
        run = self._run(waiver, "2024-03-01")
        fee_item = self._receivable_line(self._adjustments(fee).move_id)
        self.assertEqual(fee_item.amount_residual, 6.0)
        self._undo(run)
        self.assertRecordValues(fee_item, [{"amount_residual": 10.0, "reconciled": False}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice], {None: 100.0, self.carrying_fee.id: 10.0})
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before - 10.0)

    # ------------------------------------------------------------------
    # What depends on the run stays
    # ------------------------------------------------------------------
    def test_paid_reconciled_or_reversed_since_are_skipped_and_listed(self):
        rule = self._rule()
        paid = self._account(100.0)
        fee_paid = self._account(100.0, partner=self.customer_b)
        reversed_by_hand = self._account(100.0, partner=self.partner_a)
        untouched = self._account(100.0, partner=self.partner_b)
        income_before = self._account_balance(self.fee_income)
        run = self._run(rule, "2024-03-01")
        adjustments = {adj.invoice_id: adj for adj in self._adjustments(rule)}
        # the invoice paid since
        payment = self._pay(paid, 100.0, "2024-03-05")
        # the fee item reconciled with a payment since
        fee_payment = self.env["account.payment"].create({
            "payment_type": "inbound", "partner_type": "customer", "partner_id": self.customer_b.id,
            "amount": 10.0, "date": "2024-03-05"})
        fee_payment.action_post()
        (fee_payment.move_id.line_ids.filtered(lambda line: line.account_id == self.receivable)
         | self._receivable_line(adjustments[fee_paid].move_id)).reconcile()
        # the entry reversed by hand in Accounting
        hand = adjustments[reversed_by_hand].move_id._reverse_moves(cancel=True)
        self.assertEqual(reversed_by_hand._recon_line_item_balances()[reversed_by_hand], {None: 100.0},
                         "an entry reversed by hand no longer counts")

        undo = self._undo(run)
        self.env.invalidate_all()  # the account balance is computed, not stored

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 3, "total_count": 4}])
        reasons = {skip.partner_id: skip.reason for skip in undo.skip_ids}
        self.assertIn("paid or reconciled since", reasons[self.customer])
        self.assertIn(payment.move_id.name, reasons[self.customer])
        self.assertIn("reconciled since", reasons[self.customer_b])
        self.assertIn(fee_payment.move_id.name, reasons[self.customer_b])
        self.assertIn("reversed already", reasons[self.partner_a])
        self.assertTrue(undo.skip_file)
        for invoice in (paid, fee_paid, reversed_by_hand):
            self.assertEqual(adjustments[invoice].state, "posted")
        self.assertFalse(adjustments[paid].move_id.reversal_move_ids)
        self.assertFalse(adjustments[fee_paid].move_id.reversal_move_ids)
        self.assertEqual(adjustments[reversed_by_hand].move_id.reversal_move_ids, hand)
        self._assert_reversed_once(adjustments[untouched], undo)
        self.assertEqual(adjustments[untouched].state, "undone")
        # the skipped fees stand, the undone one is gone
        self.assertRecordValues(paid | fee_paid | untouched, [
            {"amount_residual": 0.0, "recon_account_balance": 10.0},
            {"amount_residual": 100.0, "recon_account_balance": 100.0},
            {"amount_residual": 100.0, "recon_account_balance": 100.0},
        ])
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before - 20.0)

    # ------------------------------------------------------------------
    # Controls
    # ------------------------------------------------------------------
    def test_undo_is_refused_twice_to_a_clerk_and_while_running(self):
        rule = self._rule()
        self._account(100.0)
        run = self.Run._get_or_create(rule, fields.Date.to_date("2024-03-01"))
        with self.assertRaisesRegex(UserError, "still running"):
            run.with_user(self.manager).action_undo()
        run._run_continue()
        with self.assertRaises(AccessError):
            run.with_user(self.clerk).action_undo()
        self._undo(run)
        with self.assertRaisesRegex(UserError, "undone already"):
            run.with_user(self.manager).action_undo()
        with self.assertRaisesRegex(UserError, "undone already"):
            run.with_user(self.manager)._undo("again")
        self.assertEqual(len(self._adjustments(rule).move_id.reversal_move_ids), 1)

    def test_the_rules_default_reason_is_on_the_entries_and_the_adjustments(self):
        rule = self._rule(name="Monthly carrying fee", reason_id=self.goodwill.id)
        waiver = self._rule(name="Courtesy waiver", value=-3.0, reason_id=self.goodwill.id)
        self._account(100.0)
        self._run(rule, "2024-03-01")
        self._run(waiver, "2024-03-01")
        for adjustment in self._adjustments(rule) | self._adjustments(waiver):
            self.assertEqual(adjustment.reason_id, self.goodwill)
            self.assertIn(f"({self.goodwill.name})", adjustment.move_id.ref)
            for line in adjustment.move_id.line_ids:
                self.assertIn(f"{adjustment.rule_id.name} on", line.name)
                self.assertIn(f"({self.goodwill.name})", line.name)
        groups = self.env["recon.adjustment"]._read_group([("reason_id", "=", self.goodwill.id)], ["reason_id"],
                                                           ["__count"])
        self.assertEqual(groups, [(self.goodwill, 2)])

    def test_undo_in_chunks_finished_by_the_scheduler(self):
        rule = self._rule()
        invoices = self._account(100.0) | self._account(200.0) | self._account(300.0, partner=self.customer_b)
        income_before = self._account_balance(self.fee_income)
        run = self._run(rule, "2024-03-01")
        with patch.object(self.env.registry["recon.undo"], "_run_chunk_size", 1):
            undo = self._undo(run)
            self.assertRecordValues(undo, [{"state": "running", "count_undone": 1, "total_count": 3}])
            with self.assertRaisesRegex(UserError, "being undone"):
                rule.with_user(self.manager).action_run_now()
            while undo.state == "running":
                self.env["recon.undo"].with_user(SUPERUSER_ID)._cron_process_runs()
        self.env.invalidate_all()
        self.assertRecordValues(undo, [{"state": "done", "count_undone": 3, "count_skipped": 0}])
        self._assert_reversed_once(self._adjustments(rule), undo)
        self.assertEqual(invoices.mapped("recon_account_balance"), [100.0, 200.0, 300.0])
        self.assertAlmostEqual(self._account_balance(self.fee_income), income_before)

    def test_a_status_changed_by_hand_since_stays(self):
        rule = self._rule(name="Settlement credit", value=-500.0, product_id=self.principal.id,
                          zero_balance_status_id=self.status_closed.id)
        invoice = self._coded_invoice([(self.principal, 300.0)])
        run = self._run(rule, "2024-03-01")
        self.assertEqual(invoice.collection_status_id, self.status_closed)
        invoice.collection_status_id = self.status_disputed
        self._undo(run)
        self.assertRecordValues(invoice, [{"amount_residual": 300.0, "collection_status_id": self.status_disputed.id}])

    def test_the_keys_are_partial_indexes_that_ignore_undone_adjustments(self):
        """The unique constraints of version 18.0.1.2.0 are replaced on
        upgrade (init is idempotent) by indexes over what is not undone."""
        for model in ("recon.adjustment", "recon.adjustment.run"):
            self.env[model].init()
            self.env[model].init()
        self.env.cr.execute(SQL("""
            SELECT indexname, indexdef FROM pg_indexes
             WHERE tablename IN ('recon_adjustment', 'recon_adjustment_run') AND indexdef LIKE 'CREATE UNIQUE%%'
        """))
        indexes = dict(self.env.cr.fetchall())
        self.assertIn("undone", indexes["recon_adjustment_rule_invoice_period_open_unique"])
        self.assertIn("undone", indexes["recon_adjustment_rule_debtor_once_unique"])
        self.assertIn("undo_id IS NULL", indexes["recon_adjustment_run_rule_date_open_unique"])
        self.env.cr.execute(SQL("""
            SELECT conname FROM pg_constraint
             WHERE conname IN ('recon_adjustment_rule_invoice_period_unique', 'recon_adjustment_run_rule_date_unique')
        """))
        self.assertFalse(self.env.cr.fetchall())

