import logging
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields, models
from odoo.tools import SQL, mute_logger

from odoo.addons.queue_job.exception import RetryableJobError

_logger = logging.getLogger(__name__)

#: the job channel of the runs' jobs (data/queue_job_data.xml)
CHANNEL = "root.recon"
#: a chunk job started this long ago whose chunk is pending and not locked
#: has lost its worker
ORPHAN_AFTER = timedelta(minutes=1)


def live_job_keys(env, keys):
    """Those of the job identity ``keys`` that have a job in the queue, to
    run or running (queue_job's own records, read as its runner does)."""
    return set(env["queue.job"].sudo().search([
        ("identity_key", "in", list(keys)),
        ("state", "not in", ("done", "cancelled", "failed")),
    ]).mapped("identity_key"))


class ReconRunChunk(models.Model):
    """What one job of a run processes: a slice of the items the run had
    left when its plan was made (``recon.run.mixin._queue_plan``).

    A chunk is marked done in the transaction that processes its items, so
    it is done exactly once: a job retried after a crashed worker, or a
    second job for the same chunk, finds it locked (and is retried later) or
    done (and does nothing).

    While chunks run side by side, what each one would write on its run (its
    counts and logs) is kept here (``outcome``) and added to the run by the
    job that finishes the plan: the workers never write the same row.
    """

    _name = "recon.run.chunk"
    _description = "Run Chunk (Job Queue)"
    _order = "run_model, run_id, generation, sequence"

    run_model = fields.Char(required=True, index=True, readonly=True)
    run_id = fields.Many2oneReference(model_field="run_model", required=True, index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    generation = fields.Integer(required=True, readonly=True,
                                help="The run's plan this chunk belongs to (a run reopened is planned again).")
    sequence = fields.Integer(required=True, readonly=True)
    items = fields.Json(required=True, readonly=True, help="[[model, id], …] in processing order")
    parallel = fields.Boolean(readonly=True, help="Processed beside the run's other chunks.")
    state = fields.Selection([("pending", "Pending"), ("done", "Done")], default="pending", required=True,
                             readonly=True, index=True)
    outcome = fields.Json(readonly=True, help="What the chunk adds to its run: {field: increment or text}.")

    _sql_constraints = [
        ("chunk_unique", "unique(run_model, run_id, generation, sequence)",
         "A run's plan has one chunk per position."),
    ]

    def _run(self):
        """The run of this chunk, in the environment it is processed in."""
        self.ensure_one()
        return self.env[self.run_model].browse(self.run_id)._run_as_owner()

    def _queue_key(self):
        self.ensure_one()
        return f"recon:{self.run_model}:{self.run_id}:{self.generation}:chunk:{self.sequence}"

    def _queue_without_job(self):
        """The chunks with no job in the queue, to run or running."""
        live = live_job_keys(self.env, [chunk._queue_key() for chunk in self])
        return self.filtered(lambda chunk: chunk._queue_key() not in live)

    def _queue_process(self):
        """Job: process the chunk's items, once.

        The chunk's row is locked first (a second job for it waits in the
        queue and finds it done); items another process settled since the
        plan are left out by the run (``_run_pending_items``)."""
        self.ensure_one()
        self.flush_recordset(["state"])
        try:
            with mute_logger("odoo.sql_db"):
                self.env.cr.execute(SQL("SELECT state FROM recon_run_chunk WHERE id = %s FOR UPDATE NOWAIT",
                                        self.id))
        except psycopg2.errors.LockNotAvailable as exc:
            # no failure: the job waits for the other one, then finds the chunk done
            raise RetryableJobError(f"chunk {self.id} is being processed by another job", seconds=5,
                                    ignore_retry=True) from exc
        if self.env.cr.fetchone()[0] == "done":
            return "done already"
        run = self._run()
        items = run._run_pending_items(self._records())
        if items:
            if self.parallel:
                run = run.with_context(recon_run_chunk=self.id)
                with self.env.protecting(run._queue_deferred_computes(), run):
                    self._process(run, items)
            else:
                self._process(run, items)
                run._queue_count_processed(len(self.items))
        self.sudo().write({"state": "done"})
        self.env["recon.number.block"]._release(self.ids)
        if self.parallel:
            self.env.cr.postcommit.add(run._queue_refresh_progress)
        return f"{len(items)} of {len(self.items)} items processed"

    @api.model
    def _queue_requeue_orphans(self):
        """Requeue the chunk jobs whose worker died (killed, its host lost):
        queue_job leaves them *started* (its garbage collector requeues
        started jobs only when told after how long). A chunk being processed
        holds its row locked from the start of its job: a chunk job started
        over a minute ago whose chunk is still pending and not locked has no
        worker any more. Its chunk stays locked until this transaction
        commits, so the job requeued waits for it. Return the jobs requeued."""
        jobs = self.env["queue.job"].sudo().search([
            ("state", "=", "started"), ("model_name", "=", self._name), ("method_name", "=", "_queue_process"),
            ("date_started", "<=", fields.Datetime.now() - ORPHAN_AFTER),
        ])
        chunks = self.sudo().browse({chunk_id for job in jobs for chunk_id in job.records.ids}).exists()
        orphans = chunks.filtered(lambda chunk: chunk.state == "pending")._recon_lock_rows()
        jobs = jobs.filtered(lambda job: job.records.ids and set(job.records.ids) <= set(orphans.ids))
        for job in jobs:
            _logger.warning("Chunk job %s (%s) lost its worker: requeued", job.uuid, job.name)
        jobs.requeue()
        return jobs

    def _process(self, run, items):
        try:
            run._run_process_isolated(items)
        except psycopg2.IntegrityError as exc:
            # a unique key refused what another worker just did: the job is
            # retried, and the items done meanwhile are left out
            raise RetryableJobError(str(exc), seconds=5) from exc

    def _records(self):
        """The chunk's items, in order, those that still exist."""
        self.ensure_one()
        by_model = {}
        for model, record_id in self.items:
            by_model.setdefault(model, set()).add(record_id)
        existing = {(model, record.id) for model, ids in by_model.items()
                    for record in self.env[model].browse(ids).exists()}
        records = [self.env[model].browse(record_id) for model, record_id in self.items
                   if (model, record_id) in existing]
        models_ = {record._name for record in records}
        if len(models_) == 1:
            return self.env[models_.pop()].concat(*records)
        return records

    def _add_outcome(self, run, vals):
        """Keep what ``run`` would have written (``vals``, absolute values
        computed from the run as it was when the chunk started) as
        increments: numbers as the difference, texts as what was appended.
        The run's position (its cursor, its queue of items) is not kept: the
        plan took the items out of it."""
        self.ensure_one()
        outcome = dict(self.outcome or {})
        for fname, value in vals.items():
            field = run._fields[fname]
            if fname in run._queue_position_fields() or field.type in ("many2many", "one2many", "many2one"):
                continue
            if field.type in ("integer", "float", "monetary"):
                outcome[fname] = outcome.get(fname, 0) + (value or 0) - (run[fname] or 0)
            elif field.type == "text":
                before = run[fname] or ""
                added = (value or "")[len(before):].lstrip("\n") if (value or "").startswith(before) else value
                if added:
                    outcome[fname] = "\n".join(filter(None, [outcome.get(fname), added]))
            else:
                raise ValueError(f"{run._name}.{fname} cannot be written by chunks running side by side")
        self.sudo().write({"outcome": outcome})

    @api.model
    def _refresh_progress(self, run_model, run_id):
        """After a chunk commits: the run's progress from the chunks done, in
        a transaction of its own; when another worker updates it at the same
        moment, this one gives way (the next chunk, or the finish, counts)."""
        registry = self.env.registry
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                with mute_logger("odoo.sql_db"):  # a lock not obtained is no error here
                    cr.execute(SQL("SELECT 1 FROM %s WHERE id = %s FOR UPDATE NOWAIT",
                                   SQL.identifier(env[run_model]._table), run_id))
                run = env[run_model].browse(run_id)
                if not run.exists() or not run._run_is_open():
                    return
                run._queue_count_processed()
                run._send_progress()
        except psycopg2.OperationalError:
            _logger.debug("Progress of %s,%s left to the next chunk", run_model, run_id)
