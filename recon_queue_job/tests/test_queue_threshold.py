"""A below-threshold run and its undo on the job queue: the request clears
the first chunk, the rest goes to chunk jobs side by side; each deduction is
cleared once, each entry reversed once, and the ledger says so."""
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.recon_addon.tests.test_undo_threshold import UndoThresholdCommon

from .common import perform_jobs, share_the_test_transaction, small_chunks


@tagged("post_install", "-at_install")
class TestQueueThreshold(UndoThresholdCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        share_the_test_transaction(cls)
        cls.transactions = cls.env["recon.deduction.transaction"].concat(*(
            cls._transaction([10.0 + index, 5.0], ref=f"CHQ-{index}", breakout=True) for index in range(5)))

    def setUp(self):
        super().setUp()
        small_chunks(self, 1, "recon.threshold.run", "recon.undo")

    def _chunks(self, run):
        return self.env["recon.run.chunk"].search([("run_model", "=", run._name), ("run_id", "=", run.id)])

    def test_a_run_and_its_undo_on_the_queue_settle_each_item_once(self):
        receivable_before = self._account_balance(self.receivable, self.customer)
        with trap_jobs() as trap:
            run = self._run(self.transactions)
            self.assertRecordValues(run, [{"engine": "queue_job", "state": "running", "cleared_count": 2}])
            trap.assert_jobs_count(1, only=run._queue_plan)
            trap.perform_enqueued_jobs()  # the plan: the 4 transactions left, a chunk each
            chunks = self._chunks(run)
            self.assertEqual(len(chunks), 4)
            self.assertTrue(all(chunks.mapped("parallel")))
            self.assertFalse(run.pending_transaction_ids, "the chunks hold the transactions")
            # the last chunk first, and one job run twice
            chunks[-1]._queue_process()
            self.assertEqual(chunks[-1]._queue_process(), "done already")
            perform_jobs(self, trap)
        self.assertRecordValues(run, [{"state": "done", "cleared_count": 10, "cleared_amount": 85.0,
                                       "left_count": 0, "refused_count": 0, "processed_count": 5}])
        deductions = self.transactions.deduction_ids
        self.assertEqual(set(deductions.mapped("state")), {"resolved"})
        self.assertEqual(len(deductions.line_ids), 10, "one resolution line per deduction")
        self.assertTrue(all(deductions.receivable_line_id.mapped("reconciled")))
        moves = run.deduction_line_ids.move_id
        self.assertEqual(len(moves), 5, "one entry per transaction")
        self.assertEqual(len(set(moves.mapped("name"))), 5)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 85.0)
        self.assertAlmostEqual(self.promotion_march.spent, 85.0)

        with trap_jobs() as trap:
            undo = self._undo(run)
            self.assertRecordValues(undo, [{"engine": "queue_job", "count_undone": 1}])
            perform_jobs(self, trap)
        self.assertRecordValues(undo, [{"state": "done", "count_undone": 5, "count_skipped": 0, "total_count": 5}])
        self.assertEqual(len(self._chunks(undo)), 4)
        for move in moves:
            self.assertEqual(len(move.reversal_move_ids), 1, move.name)
            self.assertEqual(move.reversal_move_ids.state, "posted")
        self.assertEqual(set(deductions.mapped("state")), {"new"})
        self.assertEqual(deductions.mapped("open_amount"), deductions.mapped("amount"))
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), receivable_before)
