from datetime import datetime
from unittest.mock import patch

from odoo.tests import tagged

from .common_write_off import WriteOffCommon
from .test_adjustment_rule import AdjustmentCommon
from .test_threshold_rule import ThresholdCommon

PROGRESS = "recon_addon.run_progress"

def chunk_size(test, model, size):
    """Make the runs of ``model`` process chunks of ``size`` items."""
    return patch.object(test.env.registry[model], "_run_chunk_size", size)


class ProgressAssertions:

    def _bus(self):
        """Trap the bus messages sent to users (they leave on commit)."""
        return patch.object(self.env.registry["res.users"], "_bus_send")

    def _progress_messages(self, bus_send, record):
        return [c.args[1] for c in bus_send.call_args_list
                if c.args[0] == PROGRESS and c.args[1]["model"] == record._name and c.args[1]["id"] == record.id]


@tagged("post_install", "-at_install")
class TestThresholdRunInTheBackground(ThresholdCommon, ProgressAssertions):
    """A manual below-threshold run over more than one chunk: the request
    clears the first chunk, the scheduler the others, one per call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transactions = cls.env["recon.deduction.transaction"]
        for i in range(5):
            cls.transactions |= cls._transaction([10.0, 5.0], ref=f"CHQ-{i}")
        cls.cron = cls.env.ref("recon_addon.ir_cron_recon_runs")

    def _start(self):
        with chunk_size(self, "recon.threshold.run", 2), self._bus() as bus_send:
            action = self.transactions.with_user(self.user).action_run_below_threshold()
        return self.env["recon.threshold.run"].browse(action["res_id"]), action, bus_send

    def _continue(self):
        with self._bus() as bus_send:
            self.env["recon.threshold.run"]._cron_process_runs(limit=2)
        return bus_send

    def _cleared(self):
        return self.transactions.deduction_ids.filtered(lambda d: d.state == "resolved")

    def test_first_chunk_clears_in_the_request_and_the_rest_waits(self):
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        run, action, bus_send = self._start()
        self.assertEqual(action["name"], "Run Summary", "the user sees the run at once")
        self.assertRecordValues(run, [{"state": "running", "user_id": self.user.id, "total_count": 5,
                                       "processed_count": 2, "progress": 40.0, "cleared_count": 4,
                                       "cleared_amount": 30.0}])
        self.assertEqual(self._cleared().transaction_id, self.transactions.sorted("id")[:2])
        self.assertEqual(run.pending_transaction_ids, self.transactions.sorted("id")[2:])
        self.assertIn("2 of 5 processed", run.summary)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]),
                         triggers + 1, "the scheduler is asked to continue")
        self.assertEqual(self._progress_messages(bus_send, run), [{
            "model": "recon.threshold.run", "id": run.id, "state": "running", "progress": 40.0, "done": False,
        }])
        self.assertFalse(self.rule.message_ids.filtered(lambda m: "Cleared" in (m.body or "")),
                         "the summary is logged on the rule when the run is done")

    def test_scheduler_finishes_the_run_in_chunks_and_notifies(self):
        run, _action, _bus_send = self._start()
        bus_send = self._continue()
        self.assertRecordValues(run, [{"state": "running", "processed_count": 4, "progress": 80.0}])
        self.assertFalse(self._progress_messages(bus_send, run)[0].get("notification"))
        bus_send = self._continue()
        self.assertRecordValues(run, [{"state": "done", "processed_count": 5, "progress": 100.0,
                                       "cleared_count": 10, "cleared_amount": 75.0, "left_count": 0,
                                       "refused_count": 0}])
        self.assertFalse(run.pending_transaction_ids)
        [message] = self._progress_messages(bus_send, run)
        self.assertTrue(message["done"])
        self.assertEqual(message["notification"]["type"], "success")
        self.assertIn("Cleared 10 for $\xa075.00", message["notification"]["message"])

        deductions = self.transactions.deduction_ids
        self.assertRecordValues(deductions, [{"state": "resolved", "open_amount": 0.0}] * 10)
        self.assertTrue(all(deductions.receivable_line_id.mapped("reconciled")))
        self.assertEqual(len(deductions.line_ids), 10, "one resolution line per deduction")
        self.assertEqual(deductions.line_ids.run_id, run)
        self.assertEqual(deductions.line_ids.create_uid, self.user,
                         "the scheduler clears as the user who started the run")
        self.assertAlmostEqual(self._account_balance(self.promo_account), 75.0)
        self.assertEqual(self.promotion_march.spent, 75.0)
        self.assertIn("Cleared 10", self.rule.message_ids[:1].body, "the summary is logged on the rule")

    def test_scheduler_with_nothing_left_changes_nothing(self):
        run, _action, _bus_send = self._start()
        self._continue()
        self._continue()
        moves = self.env["account.move"].search_count([])
        bus_send = self._continue()
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        bus_send.assert_not_called()
        self.assertRecordValues(run, [{"state": "done", "cleared_count": 10}])

    def test_interrupted_chunk_resumes_without_clearing_twice(self):
        run, _action, _bus_send = self._start()
        Run = self.env.registry["recon.threshold.run"]
        with patch.object(Run, "_run_count_progress", side_effect=RuntimeError("worker killed")), \
                self.assertRaises(RuntimeError), self.env.cr.savepoint():
            self._continue()
        self.env.invalidate_all()
        self.assertRecordValues(run, [{"state": "running", "processed_count": 2}])
        self.assertEqual(len(self._cleared()), 4, "the interrupted chunk left nothing behind")
        self.assertEqual(len(run.pending_transaction_ids), 3)

        # the chunk already cleared comes back (as if its end had been lost): it is passed over
        run.pending_transaction_ids |= self.transactions.sorted("id")[:2]
        moves = self.env["account.move"].search_count([])
        for __ in range(3):
            self._continue()
        self.assertRecordValues(run, [{"state": "done", "progress": 100.0, "cleared_count": 10,
                                       "cleared_amount": 75.0}])
        self.assertEqual(len(self.transactions.deduction_ids.line_ids), 10, "nothing is cleared twice")
        self.assertEqual(self.env["account.move"].search_count([]), moves + 6,
                         "a breakout and a clearing entry for each of the 3 transactions not processed before")
        self.assertAlmostEqual(self._account_balance(self.promo_account), 75.0)

    def test_run_held_by_another_worker_is_left_alone(self):
        run, _action, _bus_send = self._start()
        with patch.object(self.env.registry["recon.threshold.run"], "_recon_lock_rows",
                          lambda run, nowait=False: run.browse()):
            self.assertEqual(self.env["recon.threshold.run"]._cron_process_runs(limit=2), 0)
        self.assertRecordValues(run, [{"state": "running", "processed_count": 2}])

    def test_small_run_stays_in_the_request(self):
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        with chunk_size(self, "recon.threshold.run", 5), self._bus() as bus_send:
            run = self._run(self.transactions)
        self.assertRecordValues(run, [{"state": "done", "total_count": 5, "processed_count": 5,
                                       "progress": 100.0, "cleared_count": 10}])
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]), triggers)
        [message] = self._progress_messages(bus_send, run)
        self.assertTrue(message["done"])
        self.assertNotIn("notification", message, "the request shows the summary itself")

    def test_invoices_continue_in_the_background_too(self):
        invoices = self.env["account.move"]
        for __ in range(3):
            invoice = self._invoice(105.0, date="2024-03-05")
            self._pay(invoice, 100.0)
            invoices |= invoice
        with chunk_size(self, "recon.threshold.run", 2):
            action = invoices.action_run_below_threshold()
        run = self.env["recon.threshold.run"].browse(action["res_id"])
        self.assertRecordValues(run, [{"state": "running", "processed_count": 2, "progress": 66.7}])
        self.assertEqual(invoices.mapped("payment_state").count("paid"), 2)
        self._continue()
        self.assertRecordValues(run, [{"state": "done", "progress": 100.0, "cleared_count": 3,
                                       "cleared_amount": 15.0}])
        self.assertEqual(invoices.mapped("payment_state"), ["paid"] * 3)
        self.assertEqual(invoices.mapped("amount_residual"), [0.0] * 3)


@tagged("post_install", "-at_install")
class TestAdjustmentRunProgress(AdjustmentCommon, ProgressAssertions):

    def test_progress_moves_from_zero_to_hundred_across_scheduler_calls(self):
        rule = self._rule()
        for __ in range(5):
            self._account(100.0)
        self.Run._create_due_runs(now=datetime(2024, 3, 1, 0, 10))
        run = rule.run_ids
        self.assertRecordValues(run, [{"state": "pending", "progress": 0.0}])
        seen = []
        for minute in (10, 20, 30):
            self.Rule._cron_run_adjustments(batch_size=2, now=datetime(2024, 3, 1, 0, minute))
            seen.append((run.state, run.processed_count, run.total_count, run.progress))
        self.assertEqual(seen, [("running", 2, 5, 40.0), ("running", 4, 5, 80.0), ("done", 5, 5, 100.0)])
        self.assertIn("Adjusted 5 accounts of 1 debtors", run.summary)

    def test_run_now_in_the_background_notifies_its_user(self):
        rule = self._rule()
        for __ in range(3):
            self._account(100.0)
        with patch("odoo.addons.recon_addon.models.recon_adjustment_rule.RUN_NOW_LIMIT", 2), \
                self._bus() as bus_send:
            run = self.Run.browse(rule.action_run_now()["res_id"])
        self.assertRecordValues(run, [{"state": "running", "user_id": self.env.user.id, "progress": 66.7}])
        self.assertEqual([(m["progress"], m["done"]) for m in self._progress_messages(bus_send, run)],
                         [(66.7, False)])
        with self._bus() as bus_send:
            self._cron(datetime(2024, 3, 1, 0, 10))
        self.assertRecordValues(run, [{"state": "done", "progress": 100.0, "adjusted_count": 3}])
        [message] = self._progress_messages(bus_send, run)
        self.assertEqual(message["notification"]["title"], f"Adjustment run done: {run.display_name}")
        self.assertIn("Adjusted 3 accounts", message["notification"]["message"])

    def test_nightly_run_has_no_user_to_notify(self):
        rule = self._rule()
        self._account(100.0)
        with self._bus() as bus_send:
            self._cron(datetime(2024, 3, 1, 0, 10))
        self.assertRecordValues(rule.run_ids, [{"state": "done", "progress": 100.0, "user_id": False}])
        bus_send.assert_not_called()


@tagged("post_install", "-at_install")
class TestWriteOffBatchProgress(WriteOffCommon, ProgressAssertions):

    def test_progress_moves_from_the_first_chunk_to_hundred(self):
        invoices = self.env["account.move"]
        for days in (400, 300, 200, 100):
            invoices |= self._overdue_invoice(100.0, days_overdue=days)
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(self.manager).create({
            "file": self._file("\n".join(invoices.mapped("name") + ["INV/NONE"])), "filename": "four.txt",
            "reason_id": self.reason.id})
        wizard.action_preview()
        with chunk_size(self, "recon.write.off.batch", 2), self._bus() as bus_send:
            wizard.action_confirm()
        batch = wizard.batch_id
        # the unknown account is handled at once, two of the four are posted
        self.assertRecordValues(batch, [{"state": "queued", "total_count": 5, "processed_count": 3,
                                         "progress": 60.0}])
        self.assertIn("2 to go", batch.summary)
        self.assertEqual([m["progress"] for m in self._progress_messages(bus_send, batch)], [60.0])
        seen = []
        for __ in range(2):
            with chunk_size(self, "recon.write.off.batch", 1), self._bus() as bus_send:
                self.env["recon.write.off.batch"]._cron_process_runs()
            seen.append((batch.state, batch.progress))
        self.assertEqual(seen, [("queued", 80.0), ("done", 100.0)])
        [message] = self._progress_messages(bus_send, batch)
        self.assertEqual(message["notification"]["type"], "warning", "one account was not written off")
        self.assertIn("4 of 5 accounts written off", batch.summary)
        self.assertEqual(invoices.mapped("amount_residual"), [0.0] * 4)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 400.0)


@tagged("post_install", "-at_install")
class TestRunMenus(ThresholdCommon):

    def test_each_kind_of_run_has_a_menu(self):
        for xmlid, model in [("recon_addon.recon_menu_deduction_runs", "recon.threshold.run"),
                             ("recon_addon.recon_menu_adjustment_runs", "recon.adjustment.run"),
                             ("recon_addon.recon_menu_write_off_batches", "recon.write.off.batch")]:
            self.assertEqual(self.env.ref(xmlid).action.res_model, model)
