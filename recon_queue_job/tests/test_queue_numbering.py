"""Chunks side by side number their entries in blocks of their own: a
block another chunk holds is left to it, a chunk processed again numbers in
the block it reserved before, and a chunk done gives its block up."""
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import perform_jobs
from .test_queue_adjustments import NIGHT, QueueAdjustmentCommon


@tagged("post_install", "-at_install")
class TestQueueNumbering(QueueAdjustmentCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Block = cls.env["recon.number.block"].sudo()  # the engine's bookkeeping

    def _plan(self, trap):
        """The night's run planned: ``(run, its chunks)``."""
        self.env["recon.adjustment.run"]._cron_start_due_runs(now=NIGHT)
        run = self.Run.search([("date", "=", "2024-03-01")])
        trap.perform_enqueued_jobs()
        chunks = self.env["recon.run.chunk"].search([("run_model", "=", run._name), ("run_id", "=", run.id)])
        self.assertEqual(chunks.mapped("parallel"), [True] * 3)
        return run, chunks

    def _numbers(self, rule):
        """``{invoice: (sequence prefix, number)}`` of the fee entries of ``rule``."""
        return {adjustment.invoice_id: (adjustment.move_id.sequence_prefix, adjustment.move_id.sequence_number)
                for adjustment in self._adjustments(rule)}

    def _last_number(self, journal, prefix):
        self.env.flush_all()
        self.env.cr.execute("SELECT MAX(sequence_number) FROM account_move WHERE journal_id = %s "
                            "AND sequence_prefix = %s", (journal.id, prefix))
        return self.env.cr.fetchone()[0] or 0

    def _commit(self):
        """What follows the commit of a chunk's transaction."""
        self.env.flush_all()
        self.env.cr.postcommit.run()

    def test_chunks_number_in_their_own_blocks_and_give_them_up_when_done(self):
        rule = self._rule()
        with trap_jobs() as trap:
            run, chunks = self._plan(trap)
            chunks[2]._queue_process()  # the last chunk first: one entry, the period's first
            (prefix, number), = self._numbers(rule).values()
            journal = self._adjustments(rule).move_id.journal_id
            block = dict(company_id=self.env.company.id, journal_id=journal.id, sequence_prefix=prefix)
            # another worker holds numbers number+1 … number+10 for a chunk of its own
            other = self.Block.create(dict(block, first=number + 1, last=number + 10, chunk_id=chunks[1].id + 1000))
            # the first chunk was processed before and rolled back: its block stays
            self.Block.create(dict(block, first=number + 11, last=number + 12, chunk_id=chunks[0].id))
            due_order = self.invoices.sorted(lambda invoice: (invoice.invoice_date_due, invoice.id))
            chunks[1]._queue_process()
            numbers = self._numbers(rule)
            self.assertEqual([numbers[invoice] for invoice in due_order[2:4]],
                             [(prefix, number + 13), (prefix, number + 14)],
                             "a new block after the numbers taken and the blocks held")
            self._commit()
            self.assertEqual(self.Block.search([("chunk_id", "=", chunks[1].id)]), self.Block,
                             "a chunk done gives its block up")
            chunks[0]._queue_process()
            numbers = self._numbers(rule)
            self.assertEqual([numbers[invoice] for invoice in due_order[:2]],
                             [(prefix, number + 11), (prefix, number + 12)],
                             "the chunk processed again numbers in the block it reserved before")
            self._commit()
            self.assertEqual(self.Block.search([("journal_id", "=", journal.id)]), other,
                             "the other worker's block is its own")
            perform_jobs(self, trap)
        self.assertRecordValues(run, [{"state": "done", "adjusted_count": 5, "amount_total": 50.0}])
        moves = self._adjustments(rule).move_id
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(len(set(moves.mapped("name"))), 5)
        self.assertEqual(self._last_number(journal, prefix), number + 14)
        # the other worker's chunk is gone without giving its block up: the
        # scheduler's watchdog drops the blocks no pending chunk holds
        self.env["recon.run.mixin"]._cron_process_runs()
        self.assertFalse(other.exists())

    def test_a_chunk_numbers_after_what_its_own_transaction_numbered(self):
        """A block is reserved after the numbers the chunk's transaction sees
        too (another run posting in the same journal earlier in it)."""
        rule = self._rule()
        with trap_jobs() as trap:
            run, chunks = self._plan(trap)
            self.env["recon.adjustment"]._post_for_rule(rule, {self.invoices[0]: 10.0}, run.date)
            seen = self._adjustments(rule).move_id
            chunks[1]._queue_process()
            perform_jobs(self, trap)
            self._commit()
        moves = self._adjustments(rule).move_id
        self.assertEqual(len(moves), 5)
        self.assertTrue(all(move.sequence_number > seen.sequence_number for move in moves - seen))
        self.assertEqual(len(set(moves.mapped("name"))), 5)
        self.assertFalse(self.Block.search([("chunk_id", "in", chunks.ids)]))
