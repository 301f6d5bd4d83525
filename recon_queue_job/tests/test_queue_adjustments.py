"""Nightly adjustments on the job queue: the run is planned in chunks, one
job each, and finished by a last job; every account is adjusted exactly
once, whatever the jobs do twice."""
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.tests.common import trap_jobs
from odoo.addons.recon_addon.tests.test_adjustment_rule import AdjustmentCommon

from .common import perform_jobs, share_the_test_transaction, small_chunks

NIGHT = datetime(2024, 3, 1, 0, 10)


class QueueAdjustmentCommon(AdjustmentCommon):
    """Five open accounts of two debtors, runs in chunks of two."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        share_the_test_transaction(cls)
        cls.invoices = cls.env["account.move"].concat(*(
            cls._account(100.0 + i, partner=(cls.customer, cls.customer_b)[i % 2]) for i in range(5)))

    def setUp(self):
        super().setUp()
        small_chunks(self, 2, self.Run._name)  # five accounts make three chunks


@tagged("post_install", "-at_install")
class TestQueueAdjustments(QueueAdjustmentCommon):

    def _planned(self, trap):
        """The night's run, its plan job done: its chunk jobs are in ``trap``."""
        run = self._night()
        trap.perform_enqueued_jobs()
        return run

    def _night(self):
        """The hourly scheduled action after midnight: creates the day's run
        and hands it to the job queue; the runs' scheduled action finds
        nothing to do."""
        self.env["recon.adjustment.run"]._cron_start_due_runs(now=NIGHT)
        self.assertFalse(self.env["recon.run.mixin"]._cron_process_runs(), "the scheduler leaves it to the jobs")
        return self.Run.search([("date", "=", "2024-03-01")])

    def test_the_night_run_is_planned_in_chunks_and_adjusts_each_account_once(self):
        rule = self._rule()
        with trap_jobs() as trap:
            run = self._night()
            self.assertRecordValues(run, [{"engine": "queue_job", "state": "pending"}])
            trap.assert_jobs_count(1, only=run._queue_plan)
            trap.perform_enqueued_jobs()  # the plan
            chunks = self.env["recon.run.chunk"].search([("run_model", "=", run._name), ("run_id", "=", run.id)])
            self.assertEqual([len(chunk.items) for chunk in chunks], [2, 2, 1])
            self.assertTrue(all(chunks.mapped("parallel")))
            self.assertEqual(trap.jobs_count(), 4, "a job per chunk, and the finish")
            trap.assert_jobs_count(1, only=chunks[0]._queue_process)
            trap.assert_jobs_count(1, only=run._queue_finish)
            self.assertEqual(run.total_count, 5)
            perform_jobs(self, trap)
        self.assertRecordValues(run, [{
            "state": "done", "adjusted_count": 5, "debtor_count": 2, "amount_total": 50.0,
            "processed_count": 5, "qualifying_count": 5, "queue_generation": 1,
        }])
        self.assertEqual(set(chunks.mapped("state")), {"done"})
        adjustments = self._adjustments(rule)
        self.assertEqual(adjustments.invoice_id, self.invoices)
        self.assertEqual(set(adjustments.move_id.mapped("state")), {"posted"})
        self.assertAlmostEqual(self._adjusted_income(self.fee_income), -50.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 100 + 102 + 104 + 30.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer_b), 101 + 103 + 20.0)

    def test_a_chunk_job_run_twice_adjusts_nothing_twice(self):
        rule = self._rule()
        with trap_jobs() as trap:
            run = self._planned(trap)
            chunk = self.env["recon.run.chunk"].search([("run_id", "=", run.id)], limit=1)
            # a worker killed after the commit: the job is run again
            self.assertEqual(chunk._queue_process(), "2 of 2 items processed")
            self.assertEqual(chunk._queue_process(), "done already")
            perform_jobs(self, trap)  # its own job too, then the others
        self.assertEqual(len(self._adjustments(rule)), 5)
        self.assertEqual(self._adjustments(rule).invoice_id, self.invoices)
        self.assertRecordValues(run, [{"state": "done", "adjusted_count": 5, "amount_total": 50.0}])

    def test_a_run_dispatched_twice_is_planned_once(self):
        self._rule()
        run = self._night()  # the jobs are stored, not run
        run._run_dispatch()  # the hourly action again
        Job = self.env["queue.job"].sudo()  # what Job Queue > Jobs shows its managers
        self.assertEqual(Job.search_count([("identity_key", "=", run._queue_key("plan"))]), 1)
        self.assertEqual(run._queue_plan(), "5 items in 3 chunks")
        self.assertEqual(Job.search_count([("identity_key", "like", f"recon:{run._name}:{run.id}:0:chunk:%")]), 3)
        self.assertEqual(run._queue_plan(), "planned already")
        # a chunk's job cancelled by hand: planning again gives it a job again
        chunk = self.env["recon.run.chunk"].search([("run_id", "=", run.id)], limit=1)
        Job.search([("identity_key", "=", chunk._queue_key())]).state = "cancelled"
        self.assertEqual(run._queue_plan(), "planned already; chunks enqueued again: 1")
        self.assertEqual(Job.search_count([("identity_key", "=", chunk._queue_key()),
                                           ("state", "=", "pending")]), 1)

    def test_accounts_adjusted_meanwhile_by_another_process_are_left_out(self):
        rule = self._rule()
        with trap_jobs() as trap:
            run = self._planned(trap)
            # another process adjusts the first account for the period meanwhile
            done, errors = self.env["recon.adjustment"]._post_for_rule(
                rule, {self.invoices[0]: 10.0}, run.date)
            self.assertFalse(errors)
            perform_jobs(self, trap)
        adjustments = self._adjustments(rule)
        self.assertEqual(len(adjustments), 5, "one per account and period")
        self.assertEqual(adjustments.invoice_id, self.invoices)
        self.assertRecordValues(run, [{"state": "done", "adjusted_count": 4}])

    def test_debtor_limits_run_the_chunks_one_after_the_other(self):
        rule = self._rule(max_debtors=1)
        with trap_jobs() as trap:
            run = self._planned(trap)
            chunks = self.env["recon.run.chunk"].search([("run_id", "=", run.id)])
            self.assertFalse(any(chunks.mapped("parallel")))
            perform_jobs(self, trap)
        adjustments = self._adjustments(rule)
        self.assertEqual(adjustments.partner_id, self.customer, "one debtor at most: the first due")
        self.assertEqual(len(adjustments), 3)
        self.assertRecordValues(run, [{"state": "done", "adjusted_count": 3, "debtor_count": 1,
                                       "processed_count": 5}])

    def test_runs_started_before_the_bridge_stay_on_the_scheduler(self):
        rule = self._rule()
        run = self.Run._get_or_create(rule, NIGHT.date())
        run.engine = "cron"
        self.assertEqual(self.env["recon.run.mixin"]._cron_process_runs(), 2)
        self.assertEqual(len(self._adjustments(rule)), 2)

    def test_a_chunk_job_whose_worker_died_is_requeued_by_the_scheduler(self):
        self._rule()
        run = self._night()  # the jobs are stored, not run
        run._queue_plan()
        chunks = self.env["recon.run.chunk"].search([("run_id", "=", run.id), ("run_model", "=", run._name)])
        Job = self.env["queue.job"].sudo()
        jobs = [Job.search([("identity_key", "=", chunk._queue_key())]) for chunk in chunks]
        now = fields.Datetime.now()
        # the first chunk's worker was killed two minutes ago; the second's
        # job started a moment ago; the third's committed its chunk just now
        jobs[0].write({"state": "started", "date_started": now - timedelta(minutes=2)})
        jobs[1].write({"state": "started", "date_started": now - timedelta(seconds=10)})
        jobs[2].write({"state": "started", "date_started": now - timedelta(minutes=2)})
        chunks[2].sudo().state = "done"
        self.env["recon.run.mixin"]._cron_process_runs()
        self.assertEqual([job.state for job in jobs], ["pending", "started", "started"])

    def test_a_plan_job_meeting_the_run_locked_waits_without_failing(self):
        """A second plan job (dispatched again while the first runs) meets
        the run locked: it is retried once the lock is gone, without using
        up its retries (a job out of retries is failed)."""
        self._rule()
        run = self._night()
        with patch.object(type(run), "_recon_lock_rows", lambda records: records.browse()), \
                self.assertRaises(RetryableJobError) as caught:
            run._queue_plan()
        self.assertTrue(caught.exception.ignore_retry)
        self.assertFalse(self.env["recon.run.chunk"].search([("run_id", "=", run.id), ("run_model", "=", run._name)]))
        self.assertEqual(run._queue_plan(), "5 items in 3 chunks", "planned once the lock is gone")
