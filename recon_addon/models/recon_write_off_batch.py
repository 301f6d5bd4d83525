import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..services.upload import to_csv


class ReconWriteOffBatch(models.Model):
    """One bulk write-off: the uploaded file, who confirmed it and when, the
    write-offs it posted and the accounts it could not write off.

    Confirming a preview creates the batch with one draft write-off per
    eligible account (which reserves the invoice); the run engine
    (``recon.run.mixin``) posts them. Its progress counts the listed
    accounts handled (written off, or not with a reason).

    A batch whose total is above its requester's batch limit waits in To
    Approve: its draft write-offs reserve the invoices, nothing is posted.
    Approving it hands it to the run engine; rejecting it marks its
    write-offs Rejected (the invoices are free again).
    """

    _name = "recon.write.off.batch"
    _description = "Write-off Batch"
    _inherit = ["recon.approval.mixin", "recon.run.mixin", "recon.undoable.mixin"]
    _approval_kind = "batch"
    _order = "date desc, id desc"
    _check_company_auto = True
    #: write-offs posted per transaction (in the confirming request, then by
    #: the scheduler): tens of entries keep each transaction short
    _run_chunk_size = 200
    _run_open_states = ("queued",)
    _run_failed_field = "count_failed"

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    filename = fields.Char(string="File", readonly=True)
    user_id = fields.Many2one("res.users", string="Confirmed By", readonly=True,
                              default=lambda self: self.env.user)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    state = fields.Selection([("to_approve", "To Approve"), ("queued", "Posting"), ("done", "Done"),
                              ("rejected", "Rejected")], required=True, readonly=True,
                             default="queued", index=True)
    reason_id = fields.Many2one(
        "recon.write.off.reason", readonly=True, index=True,
        check_company=True, ondelete="restrict",
        help="Reason of the batch's write-offs, unless a row of the file gave its own. Required on every new "
        "batch; empty on those made before reasons existed.",
    )
    date_done = fields.Datetime(string="Done On", readonly=True)
    write_off_ids = fields.One2many("recon.write.off", "batch_id", string="Write-offs", readonly=True)
    failure_ids = fields.One2many("recon.write.off.failure", "batch_id", string="Accounts Not Written Off",
                                  readonly=True)
    count_listed = fields.Integer(string="Accounts Listed", readonly=True,
                                  help="Distinct accounts in the uploaded file.")
    count_written_off = fields.Integer(compute="_compute_totals", store=True, string="Written Off")
    count_failed = fields.Integer(compute="_compute_totals", store=True, string="Not Written Off")
    count_pending = fields.Integer(compute="_compute_totals", store=True, string="Still to Post")
    amount_total = fields.Monetary(compute="_compute_totals", store=True, currency_field="currency_id",
                                   string="Total Written Off")
    total_count = fields.Integer(compute="_compute_totals", store=True, string="To Process")
    processed_count = fields.Integer(compute="_compute_totals", store=True, string="Processed")
    summary = fields.Text(compute="_compute_summary")
    failure_file = fields.Binary(string="Failure List", readonly=True, attachment=True)
    failure_filename = fields.Char(readonly=True)

    @api.depends("count_listed", "write_off_ids.state", "write_off_ids.amount_company", "failure_ids")
    def _compute_totals(self):
        for batch in self:
            posted = batch.write_off_ids.filtered(lambda w: w.state == "posted")
            batch.count_written_off = len(posted)
            batch.amount_total = sum(posted.mapped("amount_company"))
            batch.count_failed = len(batch.failure_ids)
            batch.count_pending = len(batch.write_off_ids.filtered(lambda w: w.state == "draft"))
            batch.total_count = batch.count_listed
            batch.processed_count = max(0, batch.count_listed - batch.count_pending)

    @api.depends_context("lang")
    @api.depends("state", "count_listed", "count_written_off", "count_failed", "count_pending", "amount_total")
    def _compute_summary(self):
        for batch in self:
            amount = format_amount(self.env, batch.amount_total, batch.currency_id)
            if batch.state == "to_approve":
                batch.summary = self.env._("Waiting for approval: %(pending)s accounts to write off (%(amount)s); "
                                           "nothing is posted yet.", pending=batch.count_pending,
                                           amount=format_amount(self.env, batch._approval_amount(),
                                                                batch.currency_id))
            elif batch.state == "rejected":
                batch.summary = self.env._("Rejected: nothing was written off.")
            elif batch.state == "queued":
                batch.summary = self.env._("Posting: %(done)s accounts written off so far (%(amount)s), "
                                           "%(pending)s to go; %(failed)s not written off.",
                                           done=batch.count_written_off, amount=amount,
                                           pending=batch.count_pending, failed=batch.count_failed)
            else:
                batch.summary = self.env._("%(done)s of %(listed)s accounts written off (%(amount)s); %(failed)s not "
                                           "written off.", done=batch.count_written_off, listed=batch.count_listed,
                                           amount=amount, failed=batch.count_failed)

    @api.model_create_multi
    def create(self, vals_list):
        self.env["recon.write.off.reason"]._check_given(vals_list, self._recon_model_label())
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("recon.write.off.batch") or "/"
        return super().create(vals_list)

    def action_open_write_offs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_write_off_action")
        action["domain"] = [("batch_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_download_failures(self):
        self.ensure_one()
        if not self.failure_file:
            raise UserError(self.env._("Batch %(batch)s has no account left to follow up.", batch=self.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/failure_file/"
                   f"{self.failure_filename or 'failures.csv'}?download=true",
            "target": "download",
        }

    # ------------------------------------------------------------------
    # Posting, in chunks
    # ------------------------------------------------------------------
    def _run_next_chunk(self, limit):
        """The next ``limit`` draft write-offs of this batch."""
        self.ensure_one()
        return self.env["recon.write.off"].search(
            [("batch_id", "=", self.id), ("state", "=", "draft")], limit=limit, order="id")

    def _run_process_chunk(self, write_offs):
        """Post ``write_offs`` as the batch's user; the accounts refused are
        listed with their reason."""
        self.ensure_one()
        write_offs = write_offs.with_user(self.user_id).with_context(allowed_company_ids=self.company_id.ids)
        self._add_posting_failures(write_offs._post_pending(isolate=True)[1])

    def _run_record_failure(self, write_off, message):
        """The account is listed with the error; its draft write-off is
        removed (the invoice is free again)."""
        invoice = write_off.invoice_id
        write_off.unlink()
        self._add_posting_failures([(invoice, message)])

    def _add_posting_failures(self, failures):
        """List ``failures``, ``(invoice, reason)`` pairs, as refused at posting."""
        self._add_failures([{"invoice_id": invoice.id, "account_ref": invoice.name, "stage": "posting",
                             "reason": reason} for invoice, reason in failures])
        self.flush_recordset(["count_pending"])

    def _add_failures(self, vals_list):
        self.ensure_one()
        start = max(self.failure_ids.mapped("sequence"), default=0)
        return self.env["recon.write.off.failure"].create([
            dict(vals, batch_id=self.id, sequence=vals.get("sequence") or start + index)
            for index, vals in enumerate(vals_list, start=1)
        ])

    def _finish(self):
        """Done: keep the failure list as CSV, log the summary, tell the user."""
        for batch in self:
            values = {"state": "done", "date_done": fields.Datetime.now()}
            if batch.failure_ids:
                stages = dict(batch.failure_ids._fields["stage"]._description_selection(self.env))
                data = to_csv(
                    [self.env._("Account ID"), self.env._("Customer"), self.env._("Stage"), self.env._("Reason")],
                    [[f.account_ref, f.invoice_id.commercial_partner_id.name, stages[f.stage], f.reason]
                     for f in batch.failure_ids],
                )
                values.update(
                    failure_file=base64.b64encode(data),
                    failure_filename=self.env._("%(batch)s not written off.csv", batch=batch.name).replace("/", "-"),
                )
            batch.write(values)
        self._post_summary()

    def _post_summary(self):
        """One note per batch on its chatter, all written at once."""
        self._message_log_batch({
            batch.id: Markup("<p>%s</p>") % self.env._(
                "%(done)s of %(listed)s accounts of %(file)s written off, %(amount)s in total; "
                "%(failed)s not written off.",
                done=batch.count_written_off, listed=batch.count_listed, file=batch.filename or "",
                amount=format_amount(self.env, batch.amount_total, batch.currency_id),
                failed=batch.count_failed,
            )
            for batch in self
        })

    # ------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------
    def _approval_amount(self):
        """Total open balance, in company currency, of the accounts this
        batch writes off (what is posted already, and what is still to post)."""
        self.ensure_one()
        write_offs = self.write_off_ids.filtered(lambda write_off: write_off.state != "rejected")
        posted = write_offs.filtered("move_id")
        pending = write_offs - posted
        open_lines = pending.invoice_id._recon_open_receivable_lines()
        return (sum(abs(amount) for amount in posted.mapped("amount_company"))
                + sum(abs(sum(open_lines[w.invoice_id.id].mapped("amount_residual")))
                      for w in pending if w.invoice_id.id in open_lines))

    def _approval_description(self):
        self.ensure_one()
        return self.env._("Bulk write-off %(batch)s (%(count)s accounts)", batch=self.name,
                          count=len(self.write_off_ids))

    def _approval_post(self):
        """Approved: the run engine posts the write-offs, as on confirmation."""
        for batch in self:
            batch.write({"state": "queued"})
            batch._run_continue(limit=batch._run_chunk_size)

    def _approval_cancel(self):
        """Rejected: its write-offs are kept as Rejected, nothing posted, and
        their invoices may be written off again."""
        for batch in self:
            batch.write_off_ids.filtered(lambda write_off: write_off.state == "draft")._recon_write({
                "rejected_by_id": self.env.user.id, "reject_reason": batch.reject_reason, "state": "rejected"})
            batch.write({"state": "rejected", "date_done": fields.Datetime.now()})

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    def _undo_check(self):
        if self.state in ("to_approve", "rejected"):
            raise UserError(self.env._("Batch %(batch)s was never posted: there is nothing to undo.",
                                       batch=self.name))
        if self.state != "done":
            raise UserError(self.env._("Batch %(batch)s is still posting: undo it once it is done.",
                                       batch=self.name))

    def _undo_item_domain(self):
        return "recon.write.off", [("batch_id", "=", self.id), ("state", "=", "posted")]

    def _undo_moves(self, items):
        return items._undo_moves(items)

    def _undo_restore(self, items, undo):
        items._undo_restore(items, undo)

    def _run_done_title(self):
        return self.env._("Bulk write-off %(batch)s done", batch=self.name)

    def _get_done_notification(self):
        return dict(super()._get_done_notification(), message=self.env._(
            "%(done)s accounts written off (%(amount)s); %(failed)s not written off.", done=self.count_written_off,
            amount=format_amount(self.env, self.amount_total, self.currency_id), failed=self.count_failed))

    def _action_notify(self):
        """What the confirming user sees: the batch is done, or posting
        continues in the background and a notification will follow."""
        self.ensure_one()
        if self.state == "to_approve":
            return {"type": "ir.actions.client", "tag": "display_notification", "params": {
                "type": "warning",
                "title": self.env._("Bulk write-off %(batch)s waits for approval", batch=self.name),
                "message": self.env._("Its total (%(amount)s) is above your batch limit: nothing is posted until a "
                                      "manager approves it.", amount=format_amount(
                                          self.env, self._approval_amount(), self.currency_id)),
                "sticky": False,
                "next": self._get_records_action(context={}),
            }}
        params = self._get_done_notification() if self.state == "done" else {
            "type": "info",
            "title": self.env._("Bulk write-off %(batch)s is posting", batch=self.name),
            "message": self.env._("%(done)s accounts written off so far, %(pending)s to go. Posting continues "
                                  "in the background; you will be notified when the batch is done.",
                                  done=self.count_written_off, pending=self.count_pending),
            "sticky": False,
        }
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": dict(params, next=self._get_records_action(context={}))}
