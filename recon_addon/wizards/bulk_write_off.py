import base64

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.upload import parse_upload

REASONS = [
    ("not_found", "Account ID doesn't exist"),
    ("terminated", "Account has already been terminated"),
    ("settled", "Nothing left open"),
    ("not_in_default", "Account is not in default"),
    ("ambiguous", "Account ID matches several invoices"),
    ("unknown_reason", "Unknown write-off reason"),
]


class ReconBulkWriteOffWizard(models.TransientModel):
    """Upload a list of defaulted (or repossessed) accounts, preview what
    would be written off, then write off every eligible account as one
    batch."""

    _name = "recon.bulk.write.off.wizard"
    _description = "Bulk Write-off"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True,
                                 default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection([("upload", "Upload"), ("preview", "Preview"), ("done", "Done")],
                             default="upload", required=True, readonly=True)
    file = fields.Binary(string="Accounts File", attachment=False)
    filename = fields.Char()
    date = fields.Date(string="Write-off Date", required=True, default=fields.Date.context_today)
    account_id = fields.Many2one(
        "account.account", string="Write-off Account", required=True, check_company=True,
        default=lambda self: self.env.company.recon_bad_debt_account_id,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost', 'expense_other'))]",
    )
    reason_id = fields.Many2one(
        "recon.write.off.reason", required=True, check_company=True,
        help="Reason of every write-off of the batch; a \"Reason\" column in the file (a reason's code or "
        "name) gives a row its own.",
    )
    line_ids = fields.One2many("recon.bulk.write.off.wizard.line", "wizard_id", string="Preview",
                               readonly=True)
    upload_notes = fields.Text(readonly=True)
    count_listed = fields.Integer(compute="_compute_totals", string="Accounts")
    count_eligible = fields.Integer(compute="_compute_totals", string="Eligible")
    count_ineligible = fields.Integer(compute="_compute_totals", string="Not Eligible")
    amount_eligible = fields.Monetary(compute="_compute_totals", currency_field="currency_id",
                                      string="Amount to Write Off")
    batch_id = fields.Many2one("recon.write.off.batch", readonly=True, check_company=True)

    @api.depends("line_ids.eligible", "line_ids.open_amount_company")
    def _compute_totals(self):
        for wizard in self:
            eligible = wizard.line_ids.filtered("eligible")
            wizard.count_listed = len(wizard.line_ids)
            wizard.count_eligible = len(eligible)
            wizard.count_ineligible = wizard.count_listed - len(eligible)
            wizard.amount_eligible = sum(eligible.mapped("open_amount_company"))

    # ------------------------------------------------------------------
    # Preview
    # ------------------------------------------------------------------
    def action_preview(self):
        """Read the file and show one row per account, with whether and why
        it can be written off. Nothing is posted."""
        self.ensure_one()
        if self.state == "done":
            raise UserError(self.env._("This bulk write-off is already confirmed (batch %(batch)s).",
                                       batch=self.batch_id.name))
        if not self.file and not self.filename:
            raise UserError(self.env._("Choose the file listing the accounts to write off."))
        # an empty file (0 bytes) comes with its name only: the parser says it is empty
        rows, errors = parse_upload(base64.b64decode(self.file or b""), self.filename or "")
        fatal = [error for error in errors if error.fatal]
        if fatal:
            raise UserError(self.env._(fatal[0].message))
        self.line_ids.unlink()
        self.env["recon.bulk.write.off.wizard.line"].create(self._prepare_line_vals_list(rows))
        self.write({
            "state": "preview",
            "upload_notes": "\n".join(self.env._(error.message) for error in errors) or False,
        })
        return self._action_reopen()

    def _prepare_line_vals_list(self, rows):
        Move = self.env["account.move"]
        # the user's record rules apply: what they may not see reads as not existing
        invoices = Move.search([("name", "in", [row.ref for row in rows]), ("move_type", "=", "out_invoice"),
                                ("state", "in", ("posted", "cancel")), ("company_id", "=", self.company_id.id)])
        by_name = invoices.grouped("name")
        found = Move.concat(*(matches for matches in by_name.values() if len(matches) == 1))
        eligibility = found._recon_write_off_eligibility()
        centres = found._recon_fulfilment_centre()
        Reason = self.env["recon.write.off.reason"]
        row_reasons = {code: Reason._find_by_code(code, self.company_id) for code in {row.reason for row in rows}
                       if code}
        vals_list = []
        for row in rows:
            invoice = by_name.get(row.ref, Move)
            write_off_reason = row_reasons[row.reason] if row.reason else self.reason_id
            vals = {"wizard_id": self.id, "account_ref": row.ref, "file_line": row.line,
                    "reason_code": row.reason or False, "write_off_reason_id": write_off_reason.id}
            if len(invoice) != 1:
                vals.update(eligible=False, reason="ambiguous" if invoice else "not_found")
            else:
                reason, days = eligibility[invoice.id]
                if not reason and not write_off_reason:
                    reason = "unknown_reason"
                    vals["note"] = self.env._(
                        "No active write-off reason has the code or name \"%(code)s\": use the code of an "
                        "existing reason, or leave the cell empty for the batch's reason.", code=row.reason)
                vals.update(
                    invoice_id=invoice.id,
                    partner_id=invoice.commercial_partner_id.id,
                    fulfilment_centre=centres[invoice.id],
                    days_since_default=days or 0,
                    default_check=("repossessed" if invoice._recon_is_repossessed()
                                   else "in_default" if days is not None and days >= 0
                                   else "not_in_default"),
                    currency_id=invoice.currency_id.id,
                    open_amount=invoice.amount_residual if invoice.state == "posted" else 0.0,
                    open_amount_company=abs(invoice.amount_residual_signed) if invoice.state == "posted" else 0.0,
                    eligible=not reason,
                    reason=reason or False,
                )
            vals_list.append(vals)
        vals_list.sort(key=lambda v: ("invoice_id" not in v, v.get("days_since_default", 0), v["account_ref"]))
        for sequence, vals in enumerate(vals_list, start=1):
            vals["sequence"] = sequence
        return vals_list

    def action_upload_again(self):
        self.ensure_one()
        if self.state == "done":
            raise UserError(self.env._("This bulk write-off is already confirmed (batch %(batch)s).",
                                       batch=self.batch_id.name))
        self.line_ids.unlink()
        self.write({"state": "upload", "file": False, "filename": False, "upload_notes": False})
        return self._action_reopen()

    # ------------------------------------------------------------------
    # Confirm
    # ------------------------------------------------------------------
    def action_confirm(self):
        """Write off every eligible account of the preview as one batch: each
        gets a draft write-off at once (reserving the invoice), which the run
        engine posts. An account that became ineligible since the preview,
        or whose entry cannot be posted, is listed with its reason. Confirming
        the same preview twice (double click, two tabs) writes nothing twice:
        the wizard row is locked and its state checked, and the database
        refuses a second open write-off of an invoice.
        """
        self.ensure_one()
        self._check_confirmable()
        eligible = self.line_ids.filtered("eligible")
        if not eligible:
            raise UserError(self.env._("No account of %(file)s can be written off: see the reason on each row.",
                                       file=self.filename))
        batch = self.env["recon.write.off.batch"].create({
            "company_id": self.company_id.id,
            "filename": self.filename,
            "count_listed": len(self.line_ids),
            "reason_id": self.reason_id.id,
        })
        eligibility = eligible.invoice_id._recon_write_off_eligibility()
        labels = dict(self.env["recon.bulk.write.off.wizard.line"]._fields["reason"]._description_selection(self.env))
        failures, to_write_off = [], []
        for line in self.line_ids:
            # an eligible account may have become ineligible since the preview
            reason = eligibility[line.invoice_id.id][0] if line.eligible else line.reason
            if reason:
                failures.append({"sequence": line.sequence, "account_ref": line.account_ref,
                                 "reason": line.note or labels[reason], "invoice_id": line.invoice_id.id,
                                 "stage": "posting" if line.eligible else "preview"})
            else:
                to_write_off.append(line)
        WriteOff = self.env["recon.write.off"]
        WriteOff._create_draft([{
            "invoice_id": line.invoice_id.id,
            "company_id": self.company_id.id,
            "account_id": self._get_line_account(line).id,
            "reason_id": self._get_line_reason(line).id,
            "origin": "bulk",
            "batch_id": batch.id,
            "date": self.date,
        } for line in to_write_off])
        batch._add_failures(failures)
        self.write({"state": "done", "batch_id": batch.id})
        if batch._approval_needed():
            batch._approval_request()
        else:
            batch._run_continue(limit=batch._run_chunk_size)
        return batch._action_notify()

    def _get_line_reason(self, line):
        """The row's own reason (its Reason cell), else the batch's."""
        return line.write_off_reason_id if line.reason_code else self.reason_id

    def _get_line_account(self, line):
        """The account a row's write-off debits: the account of the row's own
        reason when it has one; else the batch reason's account, unless
        another account than the company's bad-debt account was chosen;
        else the chosen account."""
        reason = self._get_line_reason(line)
        if reason.account_id and (line.reason_code or not self.account_id
                                  or self.account_id == self.company_id.recon_bad_debt_account_id):
            return reason.account_id
        return self.account_id

    @api.onchange("reason_id")
    def _onchange_reason_id(self):
        if self.reason_id.account_id:
            self.account_id = self.reason_id.account_id

    def _check_confirmable(self):
        """Hold the wizard for this confirmation: a second one (double click,
        two tabs) is refused at once while the first one is under way, and
        finds the wizard done once it committed."""
        try:
            self._recon_lock_rows(nowait=True)
        except LockNotAvailable:
            raise UserError(self.env._("This bulk write-off is being confirmed in another window. Wait for it "
                                       "to finish, then open Collections > Write-off Batches.")) from None
        self.invalidate_recordset(["state", "batch_id"])
        if self.state == "done":
            raise UserError(self.env._("This bulk write-off is already confirmed (batch %(batch)s); nothing "
                                       "was written off again.", batch=self.batch_id.name))
        if self.state != "preview":
            raise UserError(self.env._("Preview the file before confirming the write-off."))

    def _action_reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Bulk Write-off"),
        }


class ReconBulkWriteOffWizardLine(models.TransientModel):
    """One account of the uploaded file, as the preview shows it."""

    _name = "recon.bulk.write.off.wizard.line"
    _description = "Bulk Write-off Preview Row"
    _order = "sequence, id"

    wizard_id = fields.Many2one("recon.bulk.write.off.wizard", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer()
    file_line = fields.Integer(string="Line", help="Line of the file where the account first appears.")
    account_ref = fields.Char(string="Account ID", required=True)
    invoice_id = fields.Many2one("account.move")
    partner_id = fields.Many2one("res.partner", string="Customer")
    fulfilment_centre = fields.Char()
    days_since_default = fields.Integer(
        help="Days since the account went into default; negative: days until it does.")
    default_check = fields.Selection(
        [("in_default", "In default"), ("not_in_default", "Not in default"), ("repossessed", "Repossessed")],
        string="Default",
        help="Whether the account may be written off for its days past due. Repossessed: its "
        "collection status is a repossession, so its days past due do not matter.")
    currency_id = fields.Many2one("res.currency")
    open_amount = fields.Monetary(currency_field="currency_id")
    company_currency_id = fields.Many2one(related="wizard_id.currency_id", string="Company Currency")
    open_amount_company = fields.Monetary(currency_field="company_currency_id",
                                          string="Open Amount (Company Currency)")
    eligible = fields.Boolean()
    reason = fields.Selection(REASONS, string="Why Not")
    note = fields.Char(string="Detail", help="What to change in the file for this row to be written off.")
    reason_code = fields.Char(string="Reason in File")
    write_off_reason_id = fields.Many2one("recon.write.off.reason", string="Write-off Reason",
                                          help="The row's reason in the file, else the batch's.")

    def _reason_label(self):
        self.ensure_one()
        return self.note or dict(self._fields["reason"]._description_selection(self.env)).get(self.reason, "")

