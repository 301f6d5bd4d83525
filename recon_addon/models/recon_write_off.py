import base64
import logging

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from odoo.addons.recon_addon.models.recon_ledger import LedgerEntry, LedgerLine
from odoo.addons.recon_addon.services.upload import to_csv

_logger = logging.getLogger(__name__)

#: write-offs posted per transaction by a batch (in the confirming request,
#: then by the scheduler): tens of entries keep each transaction short
POST_CHUNK_SIZE = 100


class ReconWriteOff(models.Model):
    """One customer invoice written off as bad debt.

    The record exists before its entry is posted: the ledger spine links the
    entry back to it. A database constraint allows one write-off per invoice
    that is not undone, so the same invoice is never written off twice, even
    by two requests running at the same time.
    """

    _name = "recon.write.off"
    _description = "Write-off"
    _inherit = ["recon.posted.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "invoice_id"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True,
        default=lambda self: self.env.company,
    )
    invoice_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        check_company=True,
        ondelete="restrict",
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
        help="The customer invoice written off.",
    )
    partner_id = fields.Many2one(
        "res.partner", string="Debtor", compute="_compute_partner_id", store=True, index=True,
    )
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(
        currency_field="currency_id", readonly=True,
        help="Open balance written off, in the invoice's currency.",
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_company = fields.Monetary(
        string="Amount (Company Currency)",
        currency_field="company_currency_id",
        compute="_compute_amount_company",
        store=True,
    )
    account_id = fields.Many2one(
        "account.account", string="Write-off Account", required=True, readonly=True, check_company=True,
        help="Account debited with the written-off balance (the company's bad-debt account "
        "unless another was chosen).",
    )
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, copy=False, check_company=True,
        index="btree_not_null",
    )
    origin = fields.Selection(
        [("bulk", "Bulk"), ("single", "Single")],
        required=True, readonly=True, default="single",
    )
    batch_id = fields.Many2one(
        "recon.write.off.batch", string="Batch", readonly=True, ondelete="restrict",
        check_company=True, index="btree_not_null",
    )
    user_id = fields.Many2one("res.users", string="Written Off By", readonly=True,
                              default=lambda self: self.env.user)
    state = fields.Selection(
        [("draft", "Posting"), ("posted", "Written Off"), ("cancelled", "Undone")],
        compute="_compute_state", store=True, index=True,
        help="Undone: the journal entry was reset to draft, cancelled or reversed; the invoice "
        "may be written off again.",
    )

    _sql_constraints = [
        (
            "invoice_open_unique",
            "EXCLUDE (invoice_id WITH =) WHERE (state IS DISTINCT FROM 'cancelled')",
            "This invoice is already written off (or being written off by another user).",
        ),
    ]

    @api.depends("invoice_id.commercial_partner_id")
    def _compute_partner_id(self):
        for write_off in self:
            write_off.partner_id = write_off.invoice_id.commercial_partner_id

    @api.depends("move_id.amount_total_signed")
    def _compute_amount_company(self):
        for write_off in self:
            write_off.amount_company = write_off.move_id.amount_total_signed

    @api.depends("move_id.state", "move_id.reversal_move_ids.state")
    def _compute_state(self):
        for write_off in self:
            move = write_off.move_id
            if not move:
                write_off.state = "draft"
            elif move.state != "posted" or "posted" in move.reversal_move_ids.mapped("state"):
                write_off.state = "cancelled"
            else:
                write_off.state = "posted"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        for write_off in self:
            if write_off.move_id.state == "posted":
                raise UserError(self.env._(
                    "The write-off of %(invoice)s has a posted journal entry (%(move)s). Reverse "
                    "the entry instead of deleting the write-off.",
                    invoice=write_off.invoice_id.display_name, move=write_off.move_id.display_name,
                ))

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------
    @api.model
    def _prepare_draft_vals_list(self, vals_list):
        """Complete write-off values with the invoice's company, currency and
        current open balance (taken again when the entry is posted)."""
        invoices = self.env["account.move"].browse([vals["invoice_id"] for vals in vals_list])
        open_lines = invoices._recon_open_receivable_lines()
        Line = self.env["account.move.line"]
        for vals, invoice in zip(vals_list, invoices):
            vals.setdefault("company_id", invoice.company_id.id)
            vals["currency_id"] = invoice.currency_id.id
            vals["amount"] = sum(open_lines.get(invoice.id, Line).mapped("amount_residual_currency"))
        return vals_list

    @api.model
    def _create_and_post(self, vals_list):
        """Create write-offs and post their entries at once; any refusal
        raises a UserError naming the invoice and leaves nothing behind.

        :param vals_list: values of the write-offs (``invoice_id``,
            ``account_id``, ``origin``, ``date`` …)
        :return: the posted write-offs
        """
        with self.env.cr.savepoint():
            write_offs = self._create_locked(self._prepare_draft_vals_list(vals_list))
            write_offs._post_pending(isolate=False)
        return write_offs

    def _post_pending(self, isolate=True):
        """Post the entries of these draft write-offs through the ledger
        spine, in one batch, each for its invoice's open balance now.

        :param isolate: when True, a write-off that cannot be posted (paid or
            cancelled meanwhile, period locked …) is deleted and reported,
            and the others are posted; when False the first refusal raises.
        :return: ``(posted write-offs, [(invoice, reason)] of the failed ones)``
        """
        open_lines = self.invoice_id._recon_open_receivable_lines()
        failures = []
        failed_ids = []
        to_post = []
        for write_off in self:
            invoice = write_off.invoice_id
            reason = False
            if invoice.state != "posted":
                reason = self.env._("Account has already been terminated")
            elif not open_lines.get(invoice.id):
                reason = self.env._("Nothing left open")
            if reason and not isolate:
                raise UserError(self.env._("%(invoice)s cannot be written off: %(reason)s.",
                                           invoice=invoice.display_name, reason=reason))
            if reason:
                failed_ids.append(write_off.id)
                failures.append((invoice, reason))
            else:
                to_post.append(write_off)
        amounts = [sum(open_lines[w.invoice_id.id].mapped("amount_residual_currency")) for w in to_post]
        entries = [w._prepare_ledger_entry(open_lines[w.invoice_id.id]) for w in to_post]
        result = self.env["recon.ledger"]._post_entries(entries, isolate=isolate)
        for write_off, amount, move, error in zip(to_post, amounts, result.moves, result.errors):
            if move:
                write_off._write_locked({"move_id": move.id, "amount": amount})
            else:
                failed_ids.append(write_off.id)
                failures.append((write_off.invoice_id, self._failure_reason(write_off, error)))
        failed = self.browse(failed_ids)
        failed.unlink()
        return self - failed, failures

    def _post_pending_safely(self):
        """:meth:`_post_pending` for the scheduler: an unexpected error (not
        a refusal with a message) is pinned on the write-off that raised it,
        which is reported and removed, so the batch never loops on it.

        :return: ``[(invoice, reason)]`` of the write-offs not posted
        """
        try:
            with self.env.cr.savepoint():
                return self._post_pending(isolate=True)[1]
        except psycopg2.OperationalError:
            raise  # concurrency: the scheduler retries the whole run
        except Exception:  # noqa: BLE001 - find the culprit below, one savepoint each
            pass
        failures = []
        for write_off in self:
            try:
                with self.env.cr.savepoint():
                    failures += write_off._post_pending(isolate=True)[1]
            except psycopg2.OperationalError:
                raise
            except Exception as exc:
                _logger.exception("Write-off of %s could not be posted", write_off.invoice_id.name)
                failures.append((write_off.invoice_id, self.env._("Unexpected error, see the server log: %(error)s",
                                                                  error=exc)))
                write_off.unlink()
        return failures

    def _prepare_ledger_entry(self, open_lines):
        """One entry: Dr write-off account / Cr each open receivable item of
        the invoice (``open_lines``), reconciled with it."""
        self.ensure_one()
        invoice = self.invoice_id
        label = self.env._("Write-off of %(invoice)s", invoice=invoice.name)
        lines = [
            LedgerLine(
                account=line.account_id,
                amount=-line.amount_residual_currency,
                partner=line.partner_id,
                name=label,
                reconcile_with=line,
            )
            for line in open_lines
        ]
        lines.append(LedgerLine(
            account=self.account_id,
            amount=sum(open_lines.mapped("amount_residual_currency")),
            partner=invoice.commercial_partner_id,
            name=label,
        ))
        return LedgerEntry(
            source=self,
            lines=lines,
            label=label,
            date=self.date,
            currency=invoice.currency_id,
            company=invoice.company_id,
            ref=label,
        )

    @api.model
    def _failure_reason(self, write_off, error):
        """The spine's message without the leading record name (the failure
        list shows the account in its own column)."""
        prefix = f"{write_off.display_name}: "
        return error[len(prefix):] if error and error.startswith(prefix) else (error or "")

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action()


class ReconWriteOffBatch(models.Model):
    """One bulk write-off: the uploaded file, who confirmed it and when, the
    write-offs it posted and the accounts it could not write off.

    Confirming a preview creates the batch with one draft write-off per
    eligible account (which reserves the invoice) and posts the first
    :data:`POST_CHUNK_SIZE` of them at once; the scheduler posts the rest,
    a chunk per transaction, then the batch is done and its user notified.
    Its progress counts the listed accounts handled (written off, or not
    with a reason) out of all the accounts of the file.
    """

    _name = "recon.write.off.batch"
    _description = "Write-off Batch"
    _inherit = ["mail.thread", "recon.progress.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

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
    state = fields.Selection([("queued", "Posting"), ("done", "Done")], required=True, readonly=True,
                             default="queued", index=True)
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
    total_count = fields.Integer(compute="_compute_progress_counts", store=True, string="To Process")
    processed_count = fields.Integer(compute="_compute_progress_counts", store=True, string="Processed")
    summary = fields.Text(compute="_compute_summary")
    failure_file = fields.Binary(string="Failure List", readonly=True, attachment=True)
    failure_filename = fields.Char(readonly=True)

    @api.depends("write_off_ids.state", "write_off_ids.amount_company", "failure_ids")
    def _compute_totals(self):
        for batch in self:
            posted = batch.write_off_ids.filtered(lambda w: w.state == "posted")
            batch.count_written_off = len(posted)
            batch.amount_total = sum(posted.mapped("amount_company"))
            batch.count_failed = len(batch.failure_ids)
            batch.count_pending = len(batch.write_off_ids.filtered(lambda w: w.state == "draft"))

    @api.depends("count_listed", "count_pending")
    def _compute_progress_counts(self):
        for batch in self:
            batch.total_count = batch.count_listed
            batch.processed_count = max(0, batch.count_listed - batch.count_pending)

    @api.depends("state", "count_listed", "count_written_off", "count_failed", "count_pending", "amount_total")
    def _compute_summary(self):
        for batch in self:
            amount = format_amount(self.env, batch.amount_total, batch.currency_id)
            if batch.state == "queued":
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
    def _process_pending(self, limit=None, announce=False):
        """Post up to ``limit`` draft write-offs of these batches, as their
        users, finish the batches that have nothing left to post, and tell
        their users how far they are.

        :param announce: tell the user with a notification when a batch is
            done (the scheduler finished it, not the user's request)
        :return: how many write-offs were handled (posted or failed)
        """
        drafts = self.env["recon.write.off"].search(
            [("batch_id", "in", self.ids), ("state", "=", "draft")],
            limit=limit or POST_CHUNK_SIZE, order="batch_id, id",
        )
        touched = drafts.batch_id
        for batch in self:
            mine = drafts.filtered(lambda w: w.batch_id == batch)
            if not mine:
                continue
            mine = mine.with_user(batch.user_id).with_context(allowed_company_ids=batch.company_id.ids)
            failures = mine._post_pending_safely()
            batch._add_failures([{
                "invoice_id": invoice.id, "account_ref": invoice.name, "stage": "posting", "reason": reason,
            } for invoice, reason in failures])
        self.flush_recordset(["count_pending"])
        self.filtered(lambda b: b.state == "queued" and not b.count_pending)._finish()
        touched._send_progress(announce=announce)
        return len(drafts)

    @api.model
    def _cron_process_write_offs(self):
        """Post the next chunk of the queued batches; the scheduler calls
        again while some remain."""
        batches = self.search([("state", "=", "queued")], order="id")
        if not batches:
            return
        done = batches._process_pending(limit=POST_CHUNK_SIZE, announce=True)
        remaining = sum(batches.mapped("count_pending"))
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

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
        """Each batch's own record of what happened, on its chatter: one
        note per batch, all written at once."""
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

    def _get_done_notification(self):
        self.ensure_one()
        return {
            "type": "success" if not self.count_failed else "warning",
            "title": self.env._("Bulk write-off %(batch)s done", batch=self.name),
            "message": self.env._("%(done)s accounts written off (%(amount)s); %(failed)s not written off.",
                                  done=self.count_written_off,
                                  amount=format_amount(self.env, self.amount_total, self.currency_id),
                                  failed=self.count_failed),
            "sticky": bool(self.count_failed),
        }

    def _action_notify(self):
        """What the confirming user sees: the batch is done, or posting
        continues in the background and a notification will follow."""
        self.ensure_one()
        if self.state == "done":
            params = self._get_done_notification()
        else:
            params = {
                "type": "info",
                "title": self.env._("Bulk write-off %(batch)s is posting", batch=self.name),
                "message": self.env._("%(done)s accounts written off so far, %(pending)s to go. Posting continues "
                                      "in the background; you will be notified when the batch is done.",
                                      done=self.count_written_off, pending=self.count_pending),
                "sticky": False,
            }
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": dict(params, next={
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "views": [(False, "form")],
                "target": "current",
            }),
        }


class ReconWriteOffFailure(models.Model):
    """An account of a batch that was not written off, and why."""

    _name = "recon.write.off.failure"
    _description = "Account Not Written Off"
    _order = "batch_id, sequence, id"
    _check_company_auto = True

    batch_id = fields.Many2one("recon.write.off.batch", required=True, ondelete="cascade", index=True,
                               check_company=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    sequence = fields.Integer()
    account_ref = fields.Char(string="Account ID", required=True)
    invoice_id = fields.Many2one("account.move", string="Account", check_company=True,
                                 ondelete="set null")
    stage = fields.Selection(
        [("preview", "Not Eligible"), ("posting", "Failed at Posting")],
        required=True, default="posting",
    )
    reason = fields.Char(required=True)
