from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.exception import RetryableJobError

from .recon_run_chunk import CHANNEL, live_job_keys


class ReconRunMixin(models.AbstractModel):
    """Runs on the job queue: a run's plan job cuts what it has left into
    chunks, one job each, which the job runner hands to as many workers as
    the ``root.recon`` channel has; a last job, once they are all done, adds
    up their outcomes on the run and finishes it. A run whose chunks depend
    on each other (``_run_queue_sequential``) has them run one after the
    other instead, each writing the run as the scheduler's chunks do.

    Exactly once: a chunk is marked done in the transaction of its items;
    the jobs have identity keys (a second plan or chunk job for the same
    run, plan and chunk is not created); and the database keys of each kind
    of run (one adjustment per account and period, one write-off per
    account …) refuse a double."""

    _inherit = "recon.run.mixin"

    engine = fields.Selection(selection_add=[("queue_job", "Job queue")], ondelete={"queue_job": "set default"})
    queue_generation = fields.Integer(
        string="Plans", readonly=True, copy=False,
        help="How many times the run was planned on the job queue (a run reopened is planned again).")
    queue_processed_base = fields.Integer(readonly=True, copy=False)

    @api.model
    def _run_default_engine(self):
        return "queue_job"

    # ------------------------------------------------------------------
    # Hooks of each kind of run (defaults)
    # ------------------------------------------------------------------
    def _run_queue_sequential(self):
        """True when the run's chunks must run one after the other (a later
        chunk depends on what an earlier one did). Chunks side by side post
        into the same journals: each numbers its entries in a block of
        numbers of its own (``recon.number.block``)."""
        return False

    def _run_pending_items(self, items):
        """Those of ``items`` (planned for a chunk) still to process."""
        return items

    def _run_take(self, items):
        """Take the planned ``items`` off what the run has left (its cursor
        or its queue): the chunks now hold them."""

    def _queue_position_fields(self):
        """Fields that hold the run's position: not kept from the chunks."""
        return {"cursor_id", "cursor_date", "waiting_since", "processed_count"}

    def _queue_deferred_computes(self):
        """The run's stored computed fields, recomputed once its chunks are
        done rather than by each chunk (they would write the run's row)."""
        return [field for field in self._fields.values() if field.store and field.compute]

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    @api.model
    def _cron_process_runs(self, limit=None):
        """The scheduler processes its own runs; it hands those on the job
        queue to their jobs again, in case a job was lost (cancelled by
        hand, its database restored …): the identity keys and the plan make
        this a no-op for a run whose jobs are there. It also requeues the
        chunk jobs whose worker died, and drops the number blocks no chunk
        holds any more."""
        for kind in self._run_kinds():
            Run = self.env[kind]
            Run.search(Run._run_open_domain() + [("engine", "=", "queue_job")])._run_dispatch()
        self.env["recon.run.chunk"]._queue_requeue_orphans()
        self.env["recon.number.block"]._gc()
        return super()._cron_process_runs(limit=limit)

    def _run_dispatch(self):
        res = super()._run_dispatch()
        for run in self.filtered(lambda run: run.engine == "queue_job" and run._run_is_open()):
            run.with_delay(channel=CHANNEL, identity_key=run._queue_key("plan"),
                           description=self.env._("Plan %(run)s", run=run.display_name))._queue_plan()
        return res

    def _queue_key(self, what):
        self.ensure_one()
        return f"recon:{self._name}:{self.id}:{self.queue_generation}:{what}"

    def _run_write(self, vals):
        chunk_id = self.env.context.get("recon_run_chunk")
        if not chunk_id:
            return super()._run_write(vals)
        self.env["recon.run.chunk"].browse(chunk_id)._add_outcome(self, vals)
        return True

    def _queue_lock(self):
        """Lock the run's row for this transaction, or have the job retried
        once the other transaction is over, however long it takes: a wait
        for a lock is no failure (a second plan job waits for the first,
        then finds the run planned)."""
        self.ensure_one()
        if not self._recon_lock_rows():
            raise RetryableJobError(f"{self._name},{self.id} is being processed by another worker", seconds=2,
                                    ignore_retry=True)

    def _queue_plan(self):
        """Job: cut what the run has left into chunks of its chunk size, one
        job each, and the job that finishes the run after them. Planned
        already: the chunks not done that have no job any more (cancelled
        by hand …) get one again, and the finish after them."""
        self.ensure_one()
        self._queue_lock()
        if not self._run_is_open():
            return "nothing to do: the run is not open"
        Chunk = self.env["recon.run.chunk"].sudo()  # the engine's own bookkeeping, as queue_job's jobs
        run = self._run_as_owner()
        chunks = Chunk.search([("run_model", "=", self._name), ("run_id", "=", self.id),
                               ("generation", "=", self.queue_generation)])
        if chunks:
            chunks = chunks.filtered(lambda chunk: chunk.state == "pending")._queue_without_job()
            if not chunks and self._queue_has_job("finish"):
                return "planned already"
            result = f"planned already; chunks enqueued again: {len(chunks)}"
        else:
            items = run._run_next_chunk(None)
            if not items:
                run._finish()
                run._send_progress(announce=True)
                return "nothing left: run finished"
            run._run_take(items)
            parallel = not run._run_queue_sequential()
            size = run._run_chunk_size
            refs = [[item._name, item.id] for item in items]
            chunks = Chunk.create([{
                "run_model": self._name,
                "run_id": self.id,
                "company_id": self.company_id.id,
                "generation": self.queue_generation,
                "sequence": index,
                "items": refs[start:start + size],
                "parallel": parallel,
            } for index, start in enumerate(range(0, len(refs), size), start=1)])
            run._recon_write({"queue_processed_base": run.processed_count})
            result = f"{len(items)} items in {len(chunks)} chunks"
        jobs = [chunk.delayable(channel=CHANNEL, identity_key=chunk._queue_key(), description=self.env._(
            "%(run)s: chunk %(chunk)s", run=run.display_name, chunk=chunk.sequence,
        ))._queue_process() for chunk in chunks]
        finish = self.delayable(channel=CHANNEL, identity_key=self._queue_key("finish"), description=self.env._(
            "Finish %(run)s", run=run.display_name))._queue_finish(self.queue_generation)
        if not jobs:
            finish.delay()
        elif all(chunks.mapped("parallel")):
            group(*jobs).on_done(finish).delay()
        else:
            chain(*jobs).on_done(finish).delay()
        return result

    def _queue_has_job(self, what):
        """Whether the job ``what`` of this run's plan is in the queue, to run or running."""
        return bool(live_job_keys(self.env, [self._queue_key(what)]))

    def _queue_finish(self, generation):
        """Job, once the plan's chunks are done: add their outcomes up on the
        run, then finish it (or plan what came in meanwhile)."""
        self.ensure_one()
        self._queue_lock()
        if generation != self.queue_generation or not self._run_is_open():
            return "nothing to do: finished already"
        chunks = self.env["recon.run.chunk"].sudo().search([
            ("run_model", "=", self._name), ("run_id", "=", self.id), ("generation", "=", generation)])
        if chunks.filtered(lambda chunk: chunk.state != "done"):
            raise RetryableJobError(f"{self._name},{self.id}: chunks still pending", seconds=10)
        run = self._run_as_owner()
        vals = {}
        texts = {}
        for chunk in chunks:
            for fname, value in (chunk.outcome or {}).items():
                if isinstance(value, str):
                    texts.setdefault(fname, []).append(value)
                else:
                    vals[fname] = vals.get(fname, 0) + value
        vals = {fname: run[fname] + increment for fname, increment in vals.items()}
        for fname, parts in texts.items():
            vals[fname] = run._queue_merge_text(fname, parts)
        if vals:
            run._recon_write(vals)
        run._queue_count_processed()
        run._recon_write({"queue_generation": generation + 1})
        if run._run_next_chunk(1):
            run._run_dispatch()  # items that came in meanwhile: a new plan
        else:
            run._finish()
        run._send_progress(announce=True)
        return f"{len(chunks)} chunks added up"

    def _queue_merge_text(self, fname, parts):
        """The run's text ``fname`` with the chunks' ``parts`` appended."""
        return "\n".join(filter(None, [self[fname], *parts]))

    def _queue_count_processed(self, count=None):
        """The run's progress: ``count`` more items processed, or as many as
        its chunks done hold; its stored computed fields recomputed."""
        self.ensure_one()
        if not self._fields["processed_count"].compute:
            if count is None:
                self.env.cr.execute(SQL(
                    "SELECT COALESCE(SUM(jsonb_array_length(items)), 0) FROM recon_run_chunk "
                    "WHERE run_model = %s AND run_id = %s AND generation = %s AND state = 'done'",
                    self._name, self.id, self.queue_generation))
                processed = self.queue_processed_base + self.env.cr.fetchone()[0]
            else:
                processed = self.processed_count + count
            self._recon_write({"processed_count": processed})
        for field in self._queue_deferred_computes():
            self.env.add_to_compute(field, self)
        self.flush_recordset()

    def _queue_refresh_progress(self):
        self.env["recon.run.chunk"]._refresh_progress(self._name, self.id)
