from unittest.mock import patch

import psycopg2

from odoo.tests import tagged

from .common_committed import CommittedDataCase
from .test_threshold_rule import ThresholdCommon


@tagged("post_install", "-at_install")
class TestRunEngine(ThresholdCommon):
    """What every kind of background run gets from ``recon.run.mixin``,
    seen on below-threshold runs."""

    def _start(self, count, chunk=1, ref="ENGINE"):
        transactions = self.env["recon.deduction.transaction"]
        for i in range(count):
            transactions |= self._transaction([10.0], ref=f"{ref}-{i}")
        with patch.object(self.env.registry["recon.threshold.run"], "_run_chunk_size", chunk):
            action = transactions.action_run_below_threshold()
        return self.env["recon.threshold.run"].browse(action["res_id"]), transactions

    def test_one_scheduled_action_serves_every_kind_of_run(self):
        self.assertEqual(sorted(self.env["recon.run.mixin"]._run_kinds()),
                         ["recon.adjustment.run", "recon.threshold.run", "recon.undo", "recon.write.off.batch"])
        self.assertEqual(self.env["recon.threshold.run"]._run_kinds(), ["recon.threshold.run"])
        cron = self.env.ref("recon_addon.ir_cron_recon_runs")
        self.assertEqual((cron.model_id.model, cron.code.strip()), ("recon.run.mixin", "model._cron_process_runs()"))
        for xmlid in ("ir_cron_recon_threshold_runs", "ir_cron_recon_write_off_batches", "ir_cron_recon_adjustments"):
            self.assertFalse(self.env.ref(f"recon_addon.{xmlid}", raise_if_not_found=False))

    def test_the_run_that_waited_longest_is_served_first(self):
        first, _transactions = self._start(3, ref="FIRST")
        second, _transactions = self._start(3, ref="SECOND")
        self.assertEqual((first + second).mapped("processed_count"), [1, 1])
        served = []
        for __ in range(4):
            before = {run: run.processed_count for run in first + second}
            self.assertEqual(self.env["recon.run.mixin"]._cron_process_runs(limit=1), 1)
            served += [run for run in first + second if run.processed_count > before[run]]
        self.assertEqual(served, [first, second, first, second])
        self.assertEqual((first + second).mapped("state"), ["done", "done"])

    def test_an_unexpected_error_is_pinned_on_its_item_and_the_others_go_on(self):
        run, transactions = self._start(4, chunk=1)
        culprit = transactions.sorted("id")[2]
        Run = self.env.registry["recon.threshold.run"]
        original = Run._process_transactions

        def process(run_self, chunk):
            if culprit in chunk:
                raise ValueError("broken data")
            return original(run_self, chunk)

        with patch.object(Run, "_process_transactions", process):
            self.env["recon.threshold.run"]._cron_process_runs(limit=3)
        self.assertRecordValues(run, [{"state": "done", "processed_count": 4, "cleared_count": 3,
                                       "refused_count": 1}])
        refused = run.line_ids.filtered(lambda line: line.result == "refused")
        self.assertEqual(refused.transaction_id, culprit)
        self.assertIn("Unexpected error, see the server log: broken data", refused.reason)
        self.assertEqual(culprit.deduction_ids.state, "new", "nothing of the culprit stays")
        self.assertEqual((transactions - culprit).deduction_ids.mapped("state"), ["resolved"] * 3)

    def test_a_concurrency_error_is_not_pinned_on_an_item(self):
        run, _transactions = self._start(2, chunk=1)
        error = psycopg2.errors.SerializationFailure("could not serialize access")
        with patch.object(self.env.registry["recon.threshold.run"], "_process_transactions", side_effect=error), \
                self.assertRaises(psycopg2.errors.SerializationFailure):
            self.env["recon.threshold.run"]._cron_process_runs()
        self.assertRecordValues(run, [{"state": "running", "processed_count": 1, "refused_count": 0}])


@tagged("post_install", "-at_install")
class TestRowLock(CommittedDataCase):
    """``_recon_lock_rows`` on rows another connection holds or changed."""

    def test_rows_held_or_changed_elsewhere_are_skipped(self):
        with self.registry.cursor() as cr:
            partners = self._env(cr)["res.partner"].create([{"name": f"Lock test {i}"} for i in range(3)])
            ids = partners.ids
        self.addCleanup(self._delete_partners, ids)
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            mine = self._env(cr1)["res.partner"].browse(ids)
            mine.mapped("name")  # the transaction's snapshot is taken
            other = self._env(cr2)["res.partner"].browse(ids)
            other[0].write({"name": "Lock test changed"})
            cr2.commit()  # changed since cr1's snapshot
            self.assertEqual(other[1]._recon_lock_rows(), other[1])  # held by cr2
            self.assertEqual(mine._recon_lock_rows(), mine[2], "the changed and the held rows are skipped")
            cr1.execute("SELECT 1")  # the transaction goes on
            with self.assertRaises(psycopg2.errors.LockNotAvailable):
                mine[1]._recon_lock_rows(nowait=True)
            cr1.execute("SELECT 1")
        finally:
            cr1.rollback()
            cr2.rollback()
            cr1.close()
            cr2.close()

    def _delete_partners(self, ids):
        with self.registry.cursor() as cr:
            self._env(cr)["res.partner"].browse(ids).unlink()
