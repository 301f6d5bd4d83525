from odoo import api, fields, models
from odoo.exceptions import UserError

from .recon_ledger import Part, Transfer


class ReconDeductionTransaction(models.Model):
    """One customer remittance whose short-paid amount (``original_amount``)
    is broken out into deductions.

    Breaking it out posts one open receivable item per deduction and the
    balancing credit, reconciled with the short-paid invoices: the customer's
    balance does not change, it is only split into claims that can each be
    cleared, written off or voided.
    """

    _name = "recon.deduction.transaction"
    _inherit = ["mail.thread", "mail.activity.mixin", "recon.posted.mixin"]
    # the state and the breakout entry are set by Break Out only
    _recon_free_fields = frozenset({"ref", "deduction_ids"})
    _recon_draft_fields = frozenset({"name", "partner_id", "date", "currency_id", "original_amount",
                                     "invoice_ids", "company_id"})
    _recon_user_create = True
    _description = "Deduction Transaction"
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Number", readonly=True, copy=False, default="/")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company,
                                 readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, check_company=True,
                                 tracking=True, index=True)
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    ref = fields.Char(string="Reference", help="Remittance or cheque number.")
    currency_id = fields.Many2one("res.currency", required=True,
                                  default=lambda self: self.env.company.currency_id)
    original_amount = fields.Monetary(
        currency_field="currency_id", tracking=True,
        help="The amount the customer deducted from the remittance, to be broken out.",
    )
    invoice_ids = fields.Many2many(
        "account.move",
        string="Short-paid Invoices",
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted'), "
               "('payment_state', 'in', ('not_paid', 'partial')), "
               "('commercial_partner_id', '=', commercial_partner_id)]",
        help="Invoices the deducted amount is settled against when the transaction is broken out.",
    )
    commercial_partner_id = fields.Many2one(related="partner_id.commercial_partner_id")
    deduction_ids = fields.One2many("recon.deduction", "transaction_id", string="Deductions", copy=True)
    deduction_total = fields.Monetary(currency_field="currency_id", compute="_compute_differential", store=True,
                                      string="Broken Out")
    differential = fields.Monetary(
        currency_field="currency_id", compute="_compute_differential", store=True,
        help="Original amount minus the deductions and repayments broken out; must be zero to break out.",
    )
    open_amount = fields.Monetary(currency_field="currency_id", compute="_compute_open_amount",
                                  string="Open Deductions")
    state = fields.Selection(
        [("draft", "Draft"), ("posted", "Broken Out")],
        default="draft", required=True, readonly=True, copy=False, tracking=True, index=True,
        group_expand=True,
    )
    move_id = fields.Many2one("account.move", string="Breakout Entry", readonly=True, copy=False,
                              check_company=True)

    @api.depends("original_amount", "deduction_ids.amount")
    def _compute_differential(self):
        for transaction in self:
            total = sum(transaction.deduction_ids.mapped("amount"))
            transaction.deduction_total = total
            transaction.differential = transaction.currency_id.round(transaction.original_amount - total)

    @api.depends("deduction_ids.open_amount")
    def _compute_open_amount(self):
        for transaction in self:
            transaction.open_amount = sum(transaction.deduction_ids.mapped("open_amount"))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("recon.deduction.transaction") or "/"
        return super().create(vals_list)

    def write(self, vals):
        locked = {"partner_id", "date", "currency_id", "original_amount", "invoice_ids"} & set(vals)
        posted = self.filtered(lambda t: t.state == "posted") if locked else None
        if posted:
            raise UserError(self.env._(
                "%(name)s is broken out: its customer, date, currency, amount and invoices can no "
                "longer change. Void its deductions instead.", name=posted[0].display_name,
            ))
        return super().write(vals)

    def _recon_is_posted(self):
        self.ensure_one()
        return self.state == "posted"

    def _recon_locked_hint(self):
        return self.env._("Void its deductions instead.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if posted := self.filtered(lambda t: t.state == "posted"):
            raise UserError(self.env._("%(name)s is broken out and cannot be deleted. Void its deductions instead.",
                                       name=posted[0].display_name))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_breakout(self):
        """Post the breakout of the transactions; any refusal raises and
        nothing is posted."""
        self._breakout(isolate=False)
        return True

    def action_run_below_threshold(self):
        """Run the company's enabled below-threshold rule on these transactions:
        one with a differential is refused, among many the run lists it."""
        if len(self) == 1 and self.state == "draft" and (error := self._get_breakout_refusal()):
            raise UserError(error)
        return self.env["recon.threshold.run"]._run_manually(self)

    def action_open_deductions(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Deductions"),
            "res_model": "recon.deduction",
            "view_mode": "list,form",
            "domain": [("transaction_id", "in", self.ids)],
            "context": {"create": False},
        }

    # ------------------------------------------------------------------
    # Breakout
    # ------------------------------------------------------------------
    def _get_breakout_refusal(self):
        """Why this transaction cannot be broken out, or None."""
        self.ensure_one()
        if self.state != "draft":
            return self.env._("%(name)s is already broken out.", name=self.display_name)
        if not self.deduction_ids:
            return self.env._("%(name)s has no deduction to break out. Add its deductions first.",
                              name=self.display_name)
        if not self.currency_id.is_zero(self.differential):
            fmt = self.currency_id.format
            return self.env._(
                "%(name)s cannot be broken out: the original amount %(original)s and the deductions "
                "broken out %(broken)s differ by %(differential)s. Correct the deductions so the "
                "differential is zero.",
                name=self.display_name,
                original=fmt(self.original_amount),
                broken=fmt(self.deduction_total),
                differential=fmt(self.differential),
            )
        return None

    def _get_breakout_transfer(self):
        """The breakout: a receivable item per deduction (key: the
        deduction), the remittance on the other side, settling the
        short-paid invoices' open items, earliest due first."""
        self.ensure_one()
        receivables = self.invoice_ids.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable")
        account = receivables[:1].account_id or self.partner_id.with_company(
            self.company_id).property_account_receivable_id
        open_items = receivables.filtered(
            lambda line: not line.reconciled and line.currency_id == self.currency_id
            and line.amount_residual_currency > 0
        ).sorted(lambda line: (line.date_maturity or line.date, line.id))
        return Transfer(
            source=self,
            from_account=account,
            to_account=account,
            partner=self.partner_id.commercial_partner_id,
            parts=[Part(deduction.amount, key=deduction, label=deduction._get_label())
                   for deduction in self.deduction_ids.sorted("id")],
            settle=open_items,
            fifo=True,
            label=self.env._("Deduction breakout %(name)s", name=self.name),
            from_label=self.env._("Remittance %(ref)s", ref=self.ref or self.name),
            ref=self.ref or self.name,
            date=self.date,
            currency=self.currency_id,
            company=self.company_id,
        )

    def _breakout(self, isolate=False):
        """Break out the transactions in one batch; ``isolate``: post the others
        and return ``{transaction: refusal}`` instead of raising the first refusal."""
        errors = {}
        for transaction in self:
            if error := transaction._get_breakout_refusal():
                if not isolate:
                    raise UserError(error)
                errors[transaction] = error
        valid = self.filtered(lambda t: t not in errors)
        if not valid:
            return errors
        result = self.env["recon.ledger"]._book(
            [transaction._get_breakout_transfer() for transaction in valid], isolate=isolate)
        for transaction, move, items, error in zip(valid, result.moves, result.lines, result.errors, strict=False):
            if error:
                errors[transaction] = error
                continue
            transaction._write_locked({"state": "posted", "move_id": move.id})
            for deduction in transaction.deduction_ids:
                deduction._write_locked({"receivable_line_id": items[deduction].id})
        return errors
