from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from odoo.addons.recon_addon.models.recon_ledger import LedgerEntry, LedgerLine


class ReconWriteOff(models.Model):
    """One customer invoice written off as bad debt.

    The record exists before its entry is posted: the ledger spine links the
    entry back to it. A database constraint allows one write-off per invoice
    that is not undone, so the same invoice is never written off twice, even
    by two requests running at the same time.
    """

    _name = "recon.write.off"
    _description = "Write-off"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "invoice_id"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True,
        default=lambda self: self.env.company,
    )
    invoice_id = fields.Many2one(
        "account.move",
        string="Account",
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
                raise UserError(_(
                    "The write-off of %(invoice)s has a posted journal entry (%(move)s). Reverse "
                    "the entry instead of deleting the write-off.",
                    invoice=write_off.invoice_id.display_name, move=write_off.move_id.display_name,
                ))

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------
    @api.model
    def _create_and_post(self, vals_list, isolate=False):
        """Create write-offs and post their entries through the ledger spine
        in one batch.

        :param vals_list: values of the write-offs (``invoice_id``,
            ``account_id``, ``origin``, ``batch_id``, ``date``); the amount is
            the invoice's open balance at posting time.
        :param isolate: see ``recon.ledger._post_entries``: when True, a
            write-off that cannot be posted is removed and reported instead
            of stopping the others.
        :return: ``(posted write-offs, [(invoice, reason)] of the failed ones)``
        """
        Line = self.env["account.move.line"]
        invoices = self.env["account.move"].browse([vals["invoice_id"] for vals in vals_list])
        open_lines = invoices._recon_open_receivable_lines()
        for vals, invoice in zip(vals_list, invoices):
            vals.setdefault("company_id", invoice.company_id.id)
            vals["currency_id"] = invoice.currency_id.id
            vals["amount"] = sum(open_lines.get(invoice.id, Line).mapped("amount_residual_currency"))
        if not isolate:
            for invoice in invoices.filtered(lambda inv: not open_lines.get(inv.id)):
                raise UserError(_("%(invoice)s: nothing is left open to write off.",
                                  invoice=invoice.display_name))
        if not isolate:
            with self.env.cr.savepoint():  # a refusal leaves no write-off behind
                return self._create_and_post_all(vals_list, open_lines)
        write_offs = self.create(vals_list)
        failures = []
        failed_ids = []
        to_post = []
        for write_off in write_offs:
            if open_lines.get(write_off.invoice_id.id):
                to_post.append(write_off)
            else:
                failed_ids.append(write_off.id)
                failures.append((write_off.invoice_id, _("Nothing left open")))
        entries = [write_off._prepare_ledger_entry(open_lines[write_off.invoice_id.id]) for write_off in to_post]
        result = self.env["recon.ledger"]._post_entries(entries, isolate=isolate)
        for write_off, move, error in zip(to_post, result.moves, result.errors):
            if move:
                write_off.move_id = move
            else:
                failed_ids.append(write_off.id)
                failures.append((write_off.invoice_id, self._failure_reason(write_off, error)))
        failed = self.browse(failed_ids)
        failed.unlink()
        return write_offs - failed, failures

    @api.model
    def _create_and_post_all(self, vals_list, open_lines):
        write_offs = self.create(vals_list)
        entries = [write_off._prepare_ledger_entry(open_lines[write_off.invoice_id.id]) for write_off in write_offs]
        result = self.env["recon.ledger"]._post_entries(entries)
        for write_off, move in zip(write_offs, result.moves):
            write_off.move_id = move
        return write_offs, []

    def _prepare_ledger_entry(self, open_lines):
        """One entry: Dr write-off account / Cr each open receivable item of
        the invoice (``open_lines``), reconciled with it."""
        self.ensure_one()
        invoice = self.invoice_id
        label = _("Write-off of %(invoice)s", invoice=invoice.name)
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
    write-offs it posted and the accounts it could not write off."""

    _name = "recon.write.off.batch"
    _description = "Write-off Batch"
    _inherit = ["mail.thread"]
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
    write_off_ids = fields.One2many("recon.write.off", "batch_id", string="Write-offs", readonly=True)
    failure_ids = fields.One2many("recon.write.off.failure", "batch_id", string="Accounts Not Written Off", readonly=True)
    count_listed = fields.Integer(string="Accounts Listed", readonly=True,
                                  help="Distinct accounts in the uploaded file.")
    count_written_off = fields.Integer(compute="_compute_totals", store=True, string="Written Off")
    count_failed = fields.Integer(compute="_compute_totals", store=True, string="Not Written Off")
    amount_total = fields.Monetary(compute="_compute_totals", store=True, currency_field="currency_id",
                                   string="Total Written Off")
    failure_file = fields.Binary(string="Failure List", readonly=True, attachment=True)
    failure_filename = fields.Char(readonly=True)

    @api.depends("write_off_ids.state", "write_off_ids.amount_company", "failure_ids")
    def _compute_totals(self):
        for batch in self:
            posted = batch.write_off_ids.filtered(lambda w: w.state == "posted")
            batch.count_written_off = len(posted)
            batch.amount_total = sum(posted.mapped("amount_company"))
            batch.count_failed = len(batch.failure_ids)

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
            raise UserError(_("Batch %(batch)s has no account left to follow up.", batch=self.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/failure_file/"
                   f"{self.failure_filename or 'failures.csv'}?download=true",
            "target": "download",
        }

    def _post_summary(self):
        """The batch's own record of what happened, on its chatter."""
        for batch in self:
            body = Markup("<p>%s</p>") % _(
                "%(done)s of %(listed)s accounts of %(file)s written off, %(amount)s in total; "
                "%(failed)s not written off.",
                done=batch.count_written_off, listed=batch.count_listed, file=batch.filename or "",
                amount=format_amount(self.env, batch.amount_total, batch.currency_id),
                failed=batch.count_failed,
            )
            batch._message_log(body=body)

    def _action_notify_done(self):
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if not self.count_failed else "warning",
                "title": _("Bulk write-off %(batch)s done", batch=self.name),
                "message": _("%(done)s accounts written off (%(amount)s); %(failed)s not written off.",
                             done=self.count_written_off,
                             amount=format_amount(self.env, self.amount_total, self.currency_id),
                             failed=self.count_failed),
                "sticky": bool(self.count_failed),
                "next": {
                    "type": "ir.actions.act_window",
                    "res_model": self._name,
                    "res_id": self.id,
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
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
