from odoo import api, fields, models
from odoo.tools import SQL

#: the bus notification type the web client listens to (recon_run_progress_service.js)
PROGRESS_NOTIFICATION = "recon_addon.run_progress"


class ReconProgressMixin(models.AbstractModel):
    """How far a long run is: what it has to process, what it has processed,
    and a percentage for the progress bar of its list and form.

    A run that continues in the background (one chunk per scheduled call,
    each in its own transaction) tells its user after each chunk through
    the bus: the web client reloads the run when it is on screen, and shows
    a notification that opens the run when it is done. Bus messages are
    sent only when the transaction commits, so the user never sees progress
    that was rolled back.

    Inheriting models have a ``state`` and a ``user_id`` (who started the
    run) and say when they are done (:meth:`_is_progress_done`) and what
    the user is told then (:meth:`_get_done_notification`).
    """

    _name = "recon.progress.mixin"
    _description = "Progress of a Long Run"

    total_count = fields.Integer(string="To Process", readonly=True, copy=False,
                                 help="Records this run has to go through.")
    processed_count = fields.Integer(string="Processed", readonly=True, copy=False,
                                     help="Records this run has gone through so far.")
    progress = fields.Float(compute="_compute_progress", store=True, aggregator=False,
                            digits=(5, 1), help="Percentage of the records processed.")

    @api.depends(lambda self: ["total_count", "processed_count"]
                 + (["state"] if "state" in self._fields else []))
    def _compute_progress(self):
        for run in self:
            if run.total_count:
                run.progress = round(100.0 * min(run.processed_count, run.total_count) / run.total_count, 1)
            else:
                run.progress = 100.0 if run._is_progress_done() else 0.0

    def _lock(self):
        """Lock this run for the transaction; False if another worker holds it."""
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(SQL("SELECT id FROM %s WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED",
                                SQL.identifier(self._table), self.id))
        return bool(self.env.cr.fetchone())

    def _is_progress_done(self):
        self.ensure_one()
        return self.state == "done"

    def _get_done_notification(self):
        """``{type, title, message, sticky}`` of the notification the user
        gets when the run is done."""
        raise NotImplementedError

    def _send_progress(self, announce=False):
        """Tell each run's user how far it is (delivered after commit).

        :param announce: when the run is done, also show its summary in a
            notification that opens the run (the request that finished it
            did not show it itself: the scheduler did)
        """
        for run in self:
            if not run.user_id or run.user_id._is_superuser():
                continue  # a scheduled run nobody started by hand
            done = run._is_progress_done()
            payload = {
                "model": run._name,
                "id": run.id,
                "state": run.state,
                "progress": run.progress,
                "done": done,
            }
            if done and announce:
                payload["notification"] = run._get_done_notification()
            run.user_id._bus_send(PROGRESS_NOTIFICATION, payload)
