import logging
from datetime import datetime

import psycopg2

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

#: the bus notification type the web client listens to (recon_run_progress_service.js)
PROGRESS_NOTIFICATION = "recon_addon.run_progress"
#: the scheduled action that continues every kind of run
RUNS_CRON = "recon_addon.ir_cron_recon_runs"
#: errors never pinned on an item: concurrency (serialization failure,
#: deadlock, lock not available) and a unique key refusing what another
#: worker just did; the whole transaction is rolled back and retried
RETRIED_ERRORS = (psycopg2.OperationalError, psycopg2.IntegrityError)


class ReconRunMixin(models.AbstractModel):
    """The engine of the addon's background runs: a run is a record with
    items to go through (deduction transactions, accounts to adjust,
    write-offs to post), a chunk per transaction. The request that starts a
    run processes what fits in it (:meth:`_run_continue`), the scheduler the
    rest, one chunk per call (:meth:`_cron_process_runs`), serving the run
    that has waited longest whatever its kind. A run keeps all its state in
    the database, committed with each chunk, so a run interrupted mid-chunk
    resumes after its last committed chunk.

    After each background chunk the run tells its user through the bus: the
    web client reloads the run when it is on screen, and shows a
    notification that opens the run when it is done. Bus messages are sent
    only when the transaction commits, so the user never sees progress that
    was rolled back.

    Inheriting models have a ``state``, a ``company_id``, a ``user_id`` (who
    started the run) and a ``summary``, and implement the hooks below.
    """

    _name = "recon.run.mixin"
    _description = "Background Run"

    #: items one chunk processes, in one transaction
    _run_chunk_size = 100
    #: states of a run with work left
    _run_open_states = ("running",)
    #: the field counting the items that failed: a run done with failures
    #: tells its user with a warning that stays on screen
    _run_failed_field = None

    total_count = fields.Integer(string="To Process", readonly=True, copy=False,
                                 help="Records this run has to go through.")
    processed_count = fields.Integer(string="Processed", readonly=True, copy=False,
                                     help="Records this run has gone through so far.")
    progress = fields.Float(compute="_compute_progress", store=True, aggregator=False,
                            digits=(5, 1), help="Percentage of the records processed.")
    engine = fields.Selection(
        [("cron", "Odoo scheduler")], required=True, readonly=True, copy=False,
        default=lambda self: self._run_default_engine(),
        help="What processes the run in the background: Odoo's scheduled action, one chunk per call; or, "
             "with the Job Queue bridge installed, jobs that the job runner spreads over its workers.")
    waiting_since = fields.Datetime(
        readonly=True, copy=False, default=fields.Datetime.now,
        help="When the run was created or last had a chunk processed: the scheduler serves the run that has "
             "waited longest.")

    @api.depends(lambda self: ["total_count", "processed_count"]
                 + (["state"] if "state" in self._fields else []))
    def _compute_progress(self):
        for run in self:
            if run.total_count:
                run.progress = round(100.0 * min(run.processed_count, run.total_count) / run.total_count, 1)
            else:
                run.progress = 100.0 if run.state == "done" else 0.0

    @api.model
    def _run_default_engine(self):
        """The engine of a new run (:attr:`engine`)."""
        return "cron"

    # ------------------------------------------------------------------
    # Hooks of each kind of run
    # ------------------------------------------------------------------
    def _run_next_chunk(self, limit):
        """The next items to process (at most ``limit`` of each sort the run
        processes), in processing order: a recordset or a list of records;
        empty when the run has nothing left."""
        raise NotImplementedError

    def _run_process_chunk(self, items):
        """Process ``items`` (what :meth:`_run_next_chunk` returned, or one
        of them) and record them as processed. Called in a savepoint: when
        it raises, nothing of it stays."""
        raise NotImplementedError

    def _run_record_failure(self, item, message):
        """Record that ``item`` raised an unexpected error (``message``) and
        take it off the items left to process: the run never loops on it."""
        raise NotImplementedError

    def _run_write(self, vals):
        """Record on the run what a chunk did (its counts, logs and
        position): the kinds of run write their progress through here, so
        that another engine may keep it elsewhere while chunks run side by
        side."""
        return self._recon_write(vals)

    def _run_count_progress(self):
        """Update the run's own counts after a chunk (the run is not done)."""

    def _finish(self):
        """Mark the run done once it has nothing left to process."""
        raise NotImplementedError

    def _run_as_owner(self):
        """The run in the environment it is processed in."""
        self.ensure_one()
        return self.with_company(self.company_id)

    @api.model
    def _run_open_domain(self):
        """Runs with work left."""
        return [("state", "in", self._run_open_states)]

    @api.model
    def _run_scheduler_domain(self):
        """Runs with work left that the scheduler continues (those of its engine)."""
        return self._run_open_domain() + [("engine", "=", "cron")]

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    def _run_is_open(self):
        self.ensure_one()
        return self.state in self._run_open_states

    def _run_step(self, limit=None):
        """Process the next chunk of at most ``limit`` items of this run in
        the current transaction, and finish the run when nothing is left.

        :return: how many items were processed (0 when another worker holds
            the run or it had nothing left)
        """
        self.ensure_one()
        if not self._run_is_open() or not self._recon_lock_rows():
            return 0
        run = self._run_as_owner()
        items = run._run_next_chunk(limit or run._run_chunk_size)
        if not items:
            run._finish()
            return 0
        run._run_process_isolated(items)
        # to the microsecond: chunks follow each other within a second
        vals = {"waiting_since": datetime.now()}
        if not run._fields["processed_count"].compute:
            vals["processed_count"] = run.processed_count + len(items)
        run.write(vals)
        if run._run_next_chunk(1):
            run._run_count_progress()
        else:
            run._finish()
        return len(items)

    def _run_process_isolated(self, items):
        """Process ``items`` in a savepoint; when that raises an unexpected
        error (not a refusal the hooks report themselves), process them
        again one by one, each in its own savepoint, and record the items
        that raise. :data:`RETRIED_ERRORS` are raised: the whole transaction
        is retried."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._run_process_chunk(items)
            return
        except RETRIED_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - find the culprits below, one savepoint each
            _logger.info("Chunk of %s failed; processing its items one by one", self, exc_info=True)
        for index in range(len(items)):
            item = items[index:index + 1]
            try:
                with self.env.cr.savepoint():
                    self._run_process_chunk(item)
            except RETRIED_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - any error of one item is recorded as its failure
                _logger.exception("%s could not process %s", self, item)
                self._run_record_failure(item[0], self.env._(
                    "Unexpected error, see the server log: %(error)s", error=exc))

    def _run_continue(self, limit=None, chunk_size=None):
        """Process this run now, in chunks, up to ``limit`` items (to the
        end when ``None``), hand what is left to the scheduler and tell the
        user how far the run is; return how many items were processed."""
        self.ensure_one()
        chunk_size = chunk_size or self._run_chunk_size
        processed = 0
        while limit is None or processed < limit:
            step = self._run_step(chunk_size if limit is None else min(chunk_size, limit - processed))
            if not step:
                break
            processed += step
        if self._run_is_open():
            self._run_dispatch()
        self._send_progress()
        return processed

    def _run_dispatch(self):
        """Hand what is left of these open runs to their background engine:
        here Odoo's scheduler, which is called as soon as possible."""
        if self.filtered(lambda run: run.engine == "cron"):
            self.env.ref(RUNS_CRON)._trigger()

    @api.model
    def _run_kinds(self):
        """The run models this model stands for: itself, or every kind of
        run when called on the mixin."""
        if not self._abstract:
            return [self._name]
        return [name for name in self.env.registry.descendants([self._name], "_inherit")
                if not self.env[name]._abstract and not self.env[name]._transient]

    @api.model
    def _run_queue(self):
        """The open runs, the one that has waited longest first."""
        runs = []
        for kind in self._run_kinds():
            Run = self.env[kind]
            runs += Run.search(Run._run_scheduler_domain(), order="waiting_since, id")
        return sorted(runs, key=lambda run: (run.waiting_since or fields.Datetime.now(), run._name, run.id))

    @api.model
    def _cron_process_runs(self, limit=None):
        """The scheduler's call: process the next chunk of the run that has
        waited longest (of any kind, or of this model's kind when called on
        a run model) and report progress to the scheduler, which calls again
        while runs are open. A run another worker holds is passed over; a
        run found with nothing left is finished, and the next one served.

        :return: how many items were processed
        """
        processed = 0
        for run in self._run_queue():
            processed = run._run_step(limit)
            if processed or not run._run_is_open():
                run._run_as_owner()._send_progress(announce=True)
            if processed:
                break
        remaining = sum(self.env[kind].search_count(self.env[kind]._run_scheduler_domain())
                        for kind in self._run_kinds())
        self.env["ir.cron"]._notify_progress(done=processed, remaining=remaining)
        return processed

    # ------------------------------------------------------------------
    # Telling the user
    # ------------------------------------------------------------------
    def _run_done_title(self):
        """Title of the notification the user gets when the run is done."""
        raise NotImplementedError

    def _get_done_notification(self):
        """``{type, title, message, sticky}`` of the notification the user
        gets when the run is done."""
        self.ensure_one()
        failed = bool(self[self._run_failed_field])
        return {"type": "warning" if failed else "success", "title": self._run_done_title(),
                "message": self.summary, "sticky": failed}

    def _send_progress(self, announce=False):
        """Tell each run's user how far it is (delivered after commit); with
        ``announce``, the notification of a run done too (the scheduler
        finished it, so no request showed its summary)."""
        for run in self:
            if not run.user_id or run.user_id._is_superuser():
                continue  # a scheduled run nobody started by hand
            done = run.state == "done"
            payload = {
                "model": run._name,
                "id": run.id,
                "state": run.state,
                "progress": run.progress,
                "done": done,
            }
            if done and announce:
                # in the language of the user it tells, not of the worker that finished the run
                payload["notification"] = run.with_context(lang=run.user_id.lang)._get_done_notification()
            run.user_id._bus_send(PROGRESS_NOTIFICATION, payload)
