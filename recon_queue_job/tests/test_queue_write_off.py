"""A bulk write-off batch on the job queue: the request writes off the
first chunk, as on the scheduler; the rest is planned in chunk jobs."""
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.recon_addon.tests.common_write_off import WriteOffCommon

from .common import perform_jobs, share_the_test_transaction, small_chunks


@tagged("post_install", "-at_install")
class TestQueueWriteOff(WriteOffCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        share_the_test_transaction(cls)
        cls.invoices = cls.env["account.move"].concat(*(
            cls._overdue_invoice(100.0 + i, days_overdue=200, partner=(cls.customer, cls.customer_b)[i % 2])
            for i in range(5)))

    def setUp(self):
        super().setUp()
        small_chunks(self, 2, "recon.write.off.batch")

    def _confirm(self):
        content = "Account ID;Customer\n" + "\n".join(f"{invoice.name};x" for invoice in self.invoices)
        wizard = self.env["recon.bulk.write.off.wizard"].create({
            "file": self._file(content), "filename": "accounts.csv", "reason_id": self.reason.id})
        wizard.action_preview()
        wizard.action_confirm()
        return wizard.batch_id

    def test_the_rest_of_a_batch_is_written_off_by_chunk_jobs(self):
        bad_debt_before = self._account_balance(self.bad_debt)
        with trap_jobs() as trap:
            batch = self._confirm()
            self.assertRecordValues(batch, [{"engine": "queue_job", "state": "queued", "count_written_off": 2}])
            trap.assert_jobs_count(1, only=batch._queue_plan)
            trap.perform_enqueued_jobs()  # the plan: 3 write-offs left, chunks of 2 and 1
            chunks = self.env["recon.run.chunk"].search([("run_model", "=", batch._name), ("run_id", "=", batch.id)])
            self.assertEqual([len(chunk.items) for chunk in chunks], [2, 1])
            # a chunk's job run twice (its worker killed after the commit)
            self.assertEqual(chunks[0]._queue_process(), "2 of 2 items processed")
            self.assertEqual(chunks[0]._queue_process(), "done already")
            perform_jobs(self, trap)
        self.assertRecordValues(batch, [{
            "state": "done", "count_written_off": 5, "count_failed": 0, "count_pending": 0, "amount_total": 510.0,
        }])
        self.assertEqual(len(batch.write_off_ids), 5)
        self.assertEqual(batch.write_off_ids.invoice_id, self.invoices)
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"posted"})
        self.assertEqual(self.invoices.mapped("amount_residual"), [0.0] * 5)
        self.assertAlmostEqual(self._account_balance(self.bad_debt) - bad_debt_before, 510.0)
