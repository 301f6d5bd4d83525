from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .recon_ledger import Settlement


class ReconDeductionLine(models.Model):
    """How part of a deduction was resolved, with the entry that did it."""

    _name = "recon.deduction.line"
    _description = "Deduction Resolution"
    _inherit = ["recon.posted.mixin"]
    _order = "id desc"
    _check_company_auto = True

    deduction_id = fields.Many2one("recon.deduction", required=True, ondelete="restrict", index=True,
                                   check_company=True)
    transaction_id = fields.Many2one(related="deduction_id.transaction_id", store=True)
    partner_id = fields.Many2one(related="deduction_id.partner_id", store=True, string="Customer")
    company_id = fields.Many2one(related="deduction_id.company_id", store=True, index=True, precompute=True)
    currency_id = fields.Many2one(related="deduction_id.currency_id", store=True, precompute=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    kind = fields.Selection(
        [("promotion", "Promotion"), ("write_off", "Write-off"), ("manual", "Manual")],
        required=True,
    )
    amount = fields.Monetary(currency_field="currency_id", required=True)
    amount_company = fields.Monetary(currency_field="company_currency_id", compute="_compute_amount_company",
                                     store=True, string="Amount (Company Currency)")
    promotion_id = fields.Many2one("recon.promotion", index="btree_not_null", check_company=True,
                                   ondelete="restrict")
    fund_type_id = fields.Many2one("recon.fund.type", check_company=True, ondelete="restrict")
    account_id = fields.Many2one("account.account", required=True, check_company=True, ondelete="restrict")
    move_id = fields.Many2one("account.move", string="Entry", readonly=True, check_company=True)
    automated = fields.Boolean(readonly=True)
    rule_id = fields.Many2one("recon.threshold.rule", readonly=True, ondelete="restrict")
    run_id = fields.Many2one("recon.threshold.run", readonly=True, ondelete="set null", index="btree_not_null")
    date = fields.Date(default=fields.Date.context_today, required=True)
    reason_id = fields.Many2one("recon.write.off.reason", ondelete="restrict", index="btree_not_null",
                                help="Why it was resolved: shown on the entry's labels.")
    undone = fields.Boolean(readonly=True, copy=False,
                            help="The run that posted it was undone: its entry is reversed and the deduction "
                                 "open again.")

    @api.depends("amount", "date")
    def _compute_amount_company(self):
        for line in self:
            if line.currency_id == line.company_currency_id:
                line.amount_company = line.amount
            else:
                line.amount_company = line.currency_id._convert(
                    line.amount, line.company_currency_id, line.company_id, line.date)

    def init(self):
        # Exactly once: one automated resolution per deduction that is not
        # undone, enforced by the database in the same transaction as its
        # entry. An undone run's lines stay as history and no longer count,
        # so the rule can clear the same deductions again. The former index
        # (on every automated line) is replaced on upgrade.
        self.env.cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier("recon_deduction_line_automated_unique")))
        self.env.cr.execute(SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (deduction_id) WHERE automated AND undone IS NOT TRUE",
            SQL.identifier("recon_deduction_line_automated_open_unique"), SQL.identifier(self._table),
        ))

    @api.constrains("kind", "promotion_id", "fund_type_id")
    def _check_kind(self):
        for line in self:
            if line.kind == "promotion" and not line.promotion_id:
                raise ValidationError(self.env._("A promotion clearing needs its promotion."))
            if line.kind == "write_off" and not line.fund_type_id:
                raise ValidationError(self.env._("A write-off needs its fund type."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if any(line.move_id for line in self):
            raise UserError(self.env._(
                "A resolution with a posted entry cannot be deleted. Reverse its entry in Accounting instead."))

    @api.model
    def _create_and_post(self, vals_list, date=None, source=None):
        """Create resolution lines and post their entries in one batch.

        The lines are inserted first, so a second automated line for the
        same deduction fails on the unique index before any entry is posted.
        Any refusal raises and nothing is posted.

        :param source: when given (a run), the lines of one transaction share
            one entry asked for by ``source``: one receivable line per
            deduction, one counterpart line per account; otherwise each line
            gets its own entry
        """
        lines = self._create_locked(vals_list)
        date = date or fields.Date.context_today(self)
        if source is None:
            groups = list(lines)
            requests = [Settlement(items=line.deduction_id.receivable_line_id, amount=abs(line.amount),
                                   account=line.account_id, source=line, label=line._get_label(), date=date)
                        for line in lines]
        else:
            groups = list(lines.grouped("transaction_id").values())
            requests = [group._get_clearing_settlement(source, date) for group in groups]
        result = self.env["recon.ledger"]._book(requests)
        for group, move in zip(groups, result.moves, strict=False):
            group._write_locked({"move_id": move.id, "date": date})
        return lines

    def _get_clearing_settlement(self, source, date):
        """Clear these lines in full (all of one transaction) in one entry:
        one receivable line for its deductions and one for its repayments,
        each reconciled with their items, and one counterpart line per
        promotion or fund type."""
        transaction = self.transaction_id
        transaction.ensure_one()
        groups = []
        for group in (self.filtered(lambda line: line.amount > 0), self.filtered(lambda line: line.amount < 0)):
            if group:
                refs = ", ".join(d.ref or str(d.id) for d in group.deduction_id)
                groups.append((group.deduction_id.receivable_line_id, self.env._(
                    "Below threshold: %(transaction)s (%(refs)s)", transaction=transaction.name, refs=refs)))
        reason = self.reason_id[:1]
        counterparts = [
            (account, lines.deduction_id.receivable_line_id, self.env._(
                "Below threshold: %(transaction)s to %(target)s",
                transaction=transaction.name, target=promotion.name or fund_type.name))
            for (account, promotion, fund_type), lines in self.grouped(
                lambda line: (line.account_id, line.promotion_id, line.fund_type_id)).items()
        ]
        return Settlement(
            source=source,
            groups=[(items, reason._label(label)) for items, label in groups],
            counterparts=[(account, items, reason._label(label)) for account, items, label in counterparts],
            partner=transaction.partner_id.commercial_partner_id,
            label=reason._label(self.env._("Below threshold: %(transaction)s", transaction=transaction.name)),
            ref=transaction.ref or transaction.name,
            date=date,
        )

    def _get_label(self):
        self.ensure_one()
        target = self.promotion_id.name or self.fund_type_id.name or self.account_id.display_name
        label = self.env._("%(deduction)s to %(target)s", deduction=self.deduction_id._get_label(), target=target)
        if self.automated:
            label = self.env._("Below threshold: %(label)s", label=label)
        return self.reason_id._label(label)
