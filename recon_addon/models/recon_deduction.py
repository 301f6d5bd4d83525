from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services import thresholds
from .recon_ledger import Settlement


class ReconDeduction(models.Model):
    """One claim of a customer on a transaction: positive, a deduction the
    customer took; negative, a repayment.

    Once the transaction is broken out, the deduction is its own open
    receivable item and ``open_amount`` is that item's residual: the ledger's
    figure, never a copy of it.
    """

    _name = "recon.deduction"
    _description = "Deduction"
    _inherit = ["recon.posted.mixin"]
    # users record deductions; once broken out only the claim's reference and
    # reason change; void, state and the ledger links are set by the actions
    _recon_free_fields = frozenset({"ref", "reason"})
    _recon_draft_fields = frozenset({"amount", "transaction_id"})
    _recon_user_create = True
    _order = "date desc, transaction_id desc, id"
    _check_company_auto = True
    _rec_names_search = ["ref", "transaction_id.name", "partner_id.name"]

    transaction_id = fields.Many2one("recon.deduction.transaction", required=True, ondelete="cascade",
                                     index=True, check_company=True)
    company_id = fields.Many2one(related="transaction_id.company_id", store=True, index=True, precompute=True)
    currency_id = fields.Many2one(related="transaction_id.currency_id", store=True, precompute=True)
    partner_id = fields.Many2one(related="transaction_id.partner_id", store=True, index=True,
                                 string="Customer", precompute=True)
    date = fields.Date(related="transaction_id.date", store=True, precompute=True)
    ref = fields.Char(string="Claim Reference", help="The customer's reference for this claim.")
    reason = fields.Char()
    amount = fields.Monetary(currency_field="currency_id", required=True,
                             help="Positive: a deduction the customer took. Negative: a repayment.")
    receivable_line_id = fields.Many2one("account.move.line", string="Receivable Item", readonly=True,
                                         copy=False, index="btree_not_null", check_company=True)
    open_amount = fields.Monetary(
        currency_field="currency_id", compute="_compute_open_amount", store=True,
        help="What is still open on the deduction's receivable item.",
    )
    void_move_id = fields.Many2one("account.move", string="Void Entry", readonly=True, copy=False,
                                   check_company=True)
    voided = fields.Boolean(readonly=True, copy=False)
    line_ids = fields.One2many("recon.deduction.line", "deduction_id", string="Resolutions", copy=False)
    state = fields.Selection(
        [("new", "New"), ("in_progress", "In Progress"), ("resolved", "Resolved"), ("void", "Void")],
        compute="_compute_state", store=True, index=True, default="new",
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_company = fields.Monetary(
        string="Amount (Company Currency)", currency_field="company_currency_id",
        compute="_compute_amount_company", store=True,
        help="Once broken out, the balance of the deduction's receivable item; before, the amount "
             "converted at the transaction date.",
    )
    amount_size = fields.Monetary(
        string="Size (Company Currency)", currency_field="company_currency_id",
        compute="_compute_amount_company", store=True,
        help="The amount in company currency without its sign: what the below-threshold rule "
             "compares with its threshold.",
    )
    amount_bucket = fields.Selection(
        thresholds.bucket_selection(), compute="_compute_amount_company", store=True,
        help="The size range of the deduction, in company currency.",
    )
    open_amount_company = fields.Monetary(
        string="Open Amount (Company Currency)", currency_field="company_currency_id",
        compute="_compute_open_amount", store=True,
    )

    _sql_constraints = [
        ("amount_not_zero", "CHECK(amount <> 0)", "A deduction amount cannot be zero."),
    ]

    @api.depends("amount", "amount_company", "voided", "receivable_line_id.amount_residual_currency",
                 "receivable_line_id.amount_residual")
    def _compute_open_amount(self):
        for deduction in self:
            if deduction.voided:
                deduction.open_amount = deduction.open_amount_company = 0.0
            elif deduction.receivable_line_id:
                deduction.open_amount = deduction.receivable_line_id.amount_residual_currency
                deduction.open_amount_company = deduction.receivable_line_id.amount_residual
            else:
                deduction.open_amount = deduction.amount
                deduction.open_amount_company = deduction.amount_company

    @api.depends("amount", "currency_id", "date", "company_id", "receivable_line_id.balance")
    def _compute_amount_company(self):
        for deduction in self:
            company = deduction.company_id or self.env.company
            if deduction.receivable_line_id:
                amount = deduction.receivable_line_id.balance
            else:
                amount = (deduction.currency_id or company.currency_id)._convert(
                    deduction.amount, company.currency_id, company,
                    deduction.date or fields.Date.context_today(self))
            deduction.amount_company = amount
            deduction.amount_size = abs(amount)
            deduction.amount_bucket = thresholds.bucket_key(amount) if amount else False

    @api.depends("voided", "open_amount", "receivable_line_id", "line_ids", "line_ids.undone")
    def _compute_state(self):
        """Lines of an undone run are history: they do not count."""
        for deduction in self:
            if deduction.voided:
                deduction.state = "void"
            elif deduction.receivable_line_id and deduction.currency_id.is_zero(deduction.open_amount):
                deduction.state = "resolved"
            elif deduction.line_ids.filtered(lambda line: not line.undone):
                deduction.state = "in_progress"
            else:
                deduction.state = "new"

    @api.depends("ref", "reason", "transaction_id.name")
    def _compute_display_name(self):
        for deduction in self:
            label = deduction.ref or deduction.reason or deduction.id
            deduction.display_name = f"{deduction.transaction_id.name} / {label}"

    @api.model_create_multi
    def create(self, vals_list):
        deductions = super().create(vals_list)
        if posted := deductions.transaction_id.filtered(lambda t: t.state == "posted"):
            raise UserError(self.env._(
                "%(name)s is already broken out: record new deductions on a new transaction.",
                name=posted[0].display_name,
            ))
        return deductions

    def write(self, vals):
        broken_out = self.filtered("receivable_line_id") if {"amount", "transaction_id"} & set(vals) else None
        if broken_out:
            raise UserError(self.env._(
                "Deduction %(name)s is broken out: its amount can no longer change. "
                "Void it and record a new one.", name=broken_out[0].display_name,
            ))
        return super().write(vals)

    def _recon_is_posted(self):
        self.ensure_one()
        return bool(self.receivable_line_id)

    def _recon_locked_hint(self):
        return self.env._("Void it (Void) or resolve it (Resolve) instead.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if broken_out := self.filtered("receivable_line_id"):
            raise UserError(self.env._("Deduction %(name)s is broken out and cannot be deleted. Void it instead.",
                                       name=broken_out[0].display_name))

    def _get_label(self):
        self.ensure_one()
        parts = [self.ref, self.reason]
        return " - ".join(p for p in parts if p) or self.env._("Deduction %(name)s", name=self.display_name)

    # ------------------------------------------------------------------
    # Void
    # ------------------------------------------------------------------
    def action_void(self):
        """Void deductions without resolution lines: their receivable item is
        closed and the amount goes back to the customer's open balance, so
        mass clearing never picks them."""
        for deduction in self:
            if deduction.state == "void":
                error = self.env._("Deduction %(name)s is already void.", name=deduction.display_name)
            elif deduction.line_ids.filtered(lambda line: not line.undone) or deduction.state != "new":
                error = self.env._("Deduction %(name)s has resolution lines and cannot be voided.",
                                   name=deduction.display_name)
            elif not deduction.receivable_line_id:
                error = self.env._("Deduction %(name)s is not broken out yet: delete it from its transaction "
                                   "instead.", name=deduction.display_name)
            else:
                continue
            raise UserError(error)
        # close the deduction's item and reopen the amount as a plain
        # receivable of the customer
        result = self.env["recon.ledger"]._book([
            Settlement(
                source=deduction,
                items=deduction.receivable_line_id,
                account=deduction.receivable_line_id.account_id,
                label=self.env._("Voided deduction %(name)s", name=deduction.display_name),
                counterpart_label=self.env._("Back to customer: %(name)s", name=deduction._get_label()),
            )
            for deduction in self
        ])
        for deduction, move in zip(self, result.moves, strict=False):
            deduction._write_locked({"voided": True, "void_move_id": move.id})
        return True

    # ------------------------------------------------------------------
    # Manual resolution
    # ------------------------------------------------------------------
    def resolve(self, kind, amount, promotion_id=False, fund_type_id=False, account_id=False, reason_id=False):
        """Resolve ``amount`` of this deduction (its size, in the deduction's
        currency; all of it when equal to its open amount): clear it to a
        promotion, write it off to a fund type, or (``manual``) book it to an
        account, for ``reason_id`` (a ``recon.write.off.reason``, required).
        Returns the ids of the ``recon.deduction.line`` created, posted."""
        self.ensure_one()
        vals = self._prepare_resolution_vals(kind, amount, promotion_id, fund_type_id, account_id,
                                             reason_id=reason_id)
        return self.env["recon.deduction.line"]._create_and_post([vals]).ids

    def _prepare_resolution_vals(self, kind, amount, promotion_id=False, fund_type_id=False,
                                 account_id=False, automated=False, rule=False, run=False, reason_id=False):
        """Values of a resolution line; a resolution by hand needs its reason,
        the rule's carry the run's (``run.reason_id``)."""
        self.ensure_one()
        if self.state not in ("new", "in_progress"):
            state = dict(self._fields["state"]._description_selection(self.env))[self.state]
            raise UserError(self.env._("Deduction %(name)s is %(state)s: nothing to resolve.",
                                       name=self.display_name, state=state))
        if not self.receivable_line_id:
            raise UserError(self.env._("Deduction %(name)s is not broken out yet. Break out its transaction first.",
                                       name=self.display_name))
        size = abs(amount or 0.0)
        open_size = abs(self.open_amount)
        if self.currency_id.is_zero(size) or self.currency_id.compare_amounts(size, open_size) > 0:
            raise UserError(self.env._(
                "Deduction %(name)s: resolve an amount above zero and at most its open amount %(open)s "
                "(asked %(asked)s).",
                name=self.display_name, open=self.currency_id.format(open_size),
                asked=self.currency_id.format(size),
            ))
        reason = self.env["recon.write.off.reason"].browse(reason_id) if reason_id else (run and run.reason_id)
        if not automated and not reason:
            raise UserError(self.env._("Deduction %(name)s: choose the reason of the resolution.",
                                       name=self.display_name))
        if reason and reason.company_id and reason.company_id != self.company_id:
            raise UserError(self.env._("Deduction %(name)s: reason %(reason)s belongs to another company. "
                                       "Choose a reason of %(company)s.", name=self.display_name,
                                       reason=reason.name, company=self.company_id.name))
        promotion = self.env["recon.promotion"].browse(promotion_id)
        fund_type = self.env["recon.fund.type"].browse(fund_type_id)
        account = self.env["account.account"].browse(account_id)
        if kind == "promotion":
            if not promotion:
                raise UserError(self.env._("Deduction %(name)s: choose the promotion to clear it to.",
                                           name=self.display_name))
            account = promotion.account_id
        elif kind == "write_off":
            if not fund_type:
                raise UserError(self.env._("Deduction %(name)s: choose the fund type to write it off to.",
                                           name=self.display_name))
            account = fund_type.write_off_account_id
        elif kind == "manual":
            if not account:
                raise UserError(self.env._("Deduction %(name)s: choose the account to book it to.",
                                           name=self.display_name))
            self._check_manual_account(account)
        else:
            raise UserError(self.env._("Unknown resolution kind %(kind)s.", kind=kind))
        sign = 1 if self.open_amount > 0 else -1
        return {
            "deduction_id": self.id,
            "kind": kind,
            "amount": sign * size,
            "promotion_id": promotion.id if kind == "promotion" else False,
            "fund_type_id": fund_type.id if kind == "write_off" else False,
            "account_id": account.id,
            "automated": automated,
            "rule_id": rule and rule.id,
            "run_id": run and run.id,
            "reason_id": reason.id if reason else False,
        }

    def _check_manual_account(self, account):
        """Refuse booking this deduction to an account it may not go to: a
        receivable or payable (the claim would only move between partners'
        open items), cash, bank or credit card (no money moved), a
        deprecated account or one of another company."""
        self.ensure_one()
        account = account.sudo()  # only to read its type and companies, whoever may see it
        forbidden = {
            "asset_receivable": self.env._("a receivable account"),
            "liability_payable": self.env._("a payable account"),
            "asset_cash": self.env._("a bank or cash account"),
            "liability_credit_card": self.env._("a credit card account"),
        }
        if account.account_type in forbidden:
            why = forbidden[account.account_type]
        elif account.deprecated:
            why = self.env._("deprecated")
        elif self.company_id not in account.company_ids:
            why = self.env._("an account of another company")
        else:
            return
        raise UserError(self.env._(
            "Deduction %(name)s cannot be booked to %(account)s: it is %(why)s. Choose an expense or "
            "income account of %(company)s.",
            name=self.display_name, account=account.display_name, why=why, company=self.company_id.name,
        ))

    def action_open_resolve_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Deduction"),
            "res_model": "recon.deduction.resolve.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_deduction_id": self.id},
        }
