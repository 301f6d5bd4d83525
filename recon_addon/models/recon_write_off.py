from odoo import api, fields, models
from odoo.exceptions import UserError

from .recon_ledger import Settlement


class ReconWriteOff(models.Model):
    """One customer invoice written off as bad debt.

    The record exists before its entry is posted: the ledger spine links the
    entry back to it. A database constraint allows one write-off per invoice
    that is not undone, so the same invoice is never written off twice, even
    by two requests running at the same time.

    A write-off above its requester's limit (``recon_write_off_limit``) is
    not posted: it waits in To Approve, still reserving its invoice, until a
    manager approves it (posted then) or rejects it (the invoice is free
    again).
    """

    _name = "recon.write.off"
    _description = "Write-off"
    _inherit = ["recon.posted.mixin", "recon.undoable.mixin", "recon.approval.mixin"]
    _approval_kind = "write_off"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "invoice_id"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True,
        default=lambda self: self.env.company,
    )
    invoice_id = fields.Many2one(
        "account.move",
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
    reason_id = fields.Many2one(
        "recon.write.off.reason", readonly=True, index=True,
        check_company=True, ondelete="restrict",
        help="Why the invoice was written off; shown on the entry's label and reference. Required on every new "
        "write-off; empty on those made before reasons existed.",
    )
    origin = fields.Selection(
        [("bulk", "Bulk"), ("single", "Single")],
        required=True, readonly=True, default="single",
    )
    batch_id = fields.Many2one(
        "recon.write.off.batch", readonly=True, ondelete="restrict",
        check_company=True, index="btree_not_null",
    )
    user_id = fields.Many2one("res.users", string="Written Off By", readonly=True,
                              default=lambda self: self.env.user)
    state = fields.Selection(
        [("draft", "Posting"), ("to_approve", "To Approve"), ("posted", "Written Off"),
         ("rejected", "Rejected"), ("cancelled", "Undone")],
        compute="_compute_state", store=True, index=True,
        help="To Approve: above its requester's limit, nothing posted yet; the invoice stays reserved. "
        "Rejected: refused by a manager, nothing posted; the invoice may be written off again. "
        "Undone: the journal entry was reset to draft, cancelled or reversed; the invoice "
        "may be written off again.",
    )

    _sql_constraints = [
        (
            "invoice_open_unique",
            "EXCLUDE (invoice_id WITH =) WHERE (state IS NULL OR state NOT IN ('cancelled', 'rejected'))",
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

    @api.depends("move_id.state", "move_id.reversal_move_ids.state", "requested_by_id", "rejected_by_id")
    def _compute_state(self):
        for write_off in self:
            move = write_off.move_id
            if not move:
                write_off.state = ("rejected" if write_off.rejected_by_id
                                   else "to_approve" if write_off.requested_by_id else "draft")
            elif move.state != "posted" or "posted" in move.reversal_move_ids.mapped("state"):
                write_off.state = "cancelled"
            else:
                write_off.state = "posted"

    @api.model_create_multi
    def create(self, vals_list):
        # required on new write-offs, not in the database: those made before
        # reasons existed have none, and no reason is invented for them
        if self._recon_is_writer():  # anyone else is refused by recon.posted.mixin
            self.env["recon.write.off.reason"]._check_given(vals_list, self._recon_model_label())
        return super().create(vals_list)

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
        for vals, invoice in zip(vals_list, invoices, strict=False):
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
            write_offs = self._create_draft(vals_list)
            write_offs._post_pending(isolate=False)
        return write_offs

    @api.model
    def _create_and_post_or_request(self, vals_list):
        """Like :meth:`_create_and_post`, but a write-off above the current
        user's limit is not posted: it waits for approval (To Approve).

        :return: ``(posted write-offs, write-offs waiting for approval)``
        """
        with self.env.cr.savepoint():
            write_offs = self._create_draft(vals_list)
            waiting = write_offs.filtered(lambda write_off: write_off._approval_needed())
            posted = (write_offs - waiting)._post_pending(isolate=False)[0]
            waiting._approval_request()
        return posted, waiting

    @api.model
    def _create_draft(self, vals_list):
        """Create draft write-offs (each reserves its invoice), without the
        creation note and followers of the chatter."""
        return self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True)._create_locked(
            self._prepare_draft_vals_list(vals_list)).with_env(self.env)

    def _post_pending(self, isolate=True):
        """Post the entries of these draft write-offs through the ledger
        spine, in one batch, each for its invoice's open balance now.

        :param isolate: when True, a write-off that cannot be posted (paid or
            cancelled meanwhile, period locked …) is deleted and reported,
            and the others are posted; when False the first refusal raises.
        :return: ``(posted write-offs, [(invoice, reason)] of the failed ones)``
        """
        open_lines = self.invoice_id._recon_open_receivable_lines()
        failures = {}
        for write_off in self:
            invoice = write_off.invoice_id
            if invoice.state != "posted":
                failures[write_off] = self.env._("Account has already been terminated")
            elif not open_lines.get(invoice.id):
                failures[write_off] = self.env._("Nothing left open")
            if write_off in failures and not isolate:
                raise UserError(self.env._("%(invoice)s cannot be written off: %(reason)s.",
                                           invoice=invoice.display_name, reason=failures[write_off]))
        to_post = [write_off for write_off in self if write_off not in failures]
        amounts = [sum(open_lines[w.invoice_id.id].mapped("amount_residual_currency")) for w in to_post]
        result = self.env["recon.ledger"]._book(
            [w._get_settlement(open_lines[w.invoice_id.id]) for w in to_post], isolate=isolate)
        for write_off, amount, move, error in zip(to_post, amounts, result.moves, result.errors, strict=False):
            if move:
                write_off._write_locked({"move_id": move.id, "amount": amount})
            else:
                # the failure list shows the account in its own column: drop
                # the record name the spine's message starts with
                failures[write_off] = (error or "").removeprefix(f"{write_off.display_name}: ")
        failed = self.browse([write_off.id for write_off in failures])
        failures = [(write_off.invoice_id, reason) for write_off, reason in failures.items()]
        failed.unlink()
        return self - failed, failures

    def _get_settlement(self, open_lines):
        """Settle the open receivable items ``open_lines`` of the invoice
        against the write-off account."""
        self.ensure_one()
        invoice = self.invoice_id
        label = self.reason_id._label(self.env._("Write-off of %(invoice)s", invoice=invoice.name))
        return Settlement(source=self, items=open_lines, account=self.account_id,
                          partner=invoice.commercial_partner_id, label=label, date=self.date, ref=label)

    # ------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------
    def _approval_amount(self):
        """The invoice's open balance in company currency (the amount posted
        once it is)."""
        self.ensure_one()
        if self.move_id:
            return abs(self.amount_company)
        lines = self.invoice_id._recon_open_receivable_lines().get(self.invoice_id.id)
        return abs(sum(lines.mapped("amount_residual"))) if lines else 0.0

    def _approval_description(self):
        self.ensure_one()
        return self.env._("Write-off of %(invoice)s", invoice=self.invoice_id.display_name)

    def _approval_post(self):
        self._post_pending(isolate=False)

    def _approval_cancel(self):
        """Nothing was posted: the write-off is kept as Rejected and its
        invoice may be written off again."""
        self._recon_write({"state": "rejected"})

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    def _undo_check(self):
        if self.state != "posted":
            raise UserError(self.env._("The write-off of %(invoice)s is not posted: there is nothing to undo.",
                                       invoice=self.invoice_id.display_name))

    def _undo_item_domain(self):
        return self._name, [("id", "=", self.id), ("state", "=", "posted")]

    def _undo_moves(self, items):
        return {write_off: write_off.move_id for write_off in items}

    def _undo_skip_reasons(self, items):
        """A write-off unreconciled from its invoice since (to let a payment
        in, say) is left as it is: reversing it would not reopen the invoice."""
        skips = {}
        for write_off in items:
            lines = write_off.move_id.line_ids.filtered(lambda line: line.account_id.reconcile)
            if any(not line.company_currency_id.is_zero(line.amount_residual) for line in lines):
                paid_by = (write_off.invoice_id.line_ids.matched_debit_ids.debit_move_id
                           | write_off.invoice_id.line_ids.matched_credit_ids.credit_move_id).move_id
                skips[write_off] = self.env._(
                    "The invoice was reconciled by hand since its write-off (%(entries)s): reverse the write-off "
                    "in Accounting if it is still wrong.", entries=", ".join(paid_by.mapped("name")) or "-")
        return skips

    def _undo_restore(self, items, undo):
        """The reversal reopens the invoice; the write-off shows as Undone."""
        items.filtered(lambda write_off: not write_off.undo_id)._recon_write({"undo_id": undo.id})

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action()
