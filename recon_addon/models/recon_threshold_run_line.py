
from odoo import api, fields, models
from odoo.exceptions import UserError

from .recon_ledger import Settlement


class ReconThresholdRunLine(models.Model):
    _name = "recon.threshold.run.line"
    _description = "Below-Threshold Run Outcome"
    _inherit = ["recon.posted.mixin"]
    _order = "id"
    _check_company_auto = True

    run_id = fields.Many2one("recon.threshold.run", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="run_id.company_id", store=True, precompute=True)
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    result = fields.Selection([("cleared", "Cleared"), ("left", "Left Open"), ("refused", "Refused"),
                               ("skipped", "Skipped")], required=True)
    reason = fields.Char()
    transaction_id = fields.Many2one("recon.deduction.transaction", ondelete="cascade", index="btree_not_null")
    deduction_id = fields.Many2one("recon.deduction", ondelete="cascade")
    invoice_id = fields.Many2one("account.move", ondelete="cascade", index="btree_not_null")
    partner_id = fields.Many2one("res.partner", string="Customer", compute="_compute_partner_id", store=True)
    currency_id = fields.Many2one("res.currency")
    amount = fields.Monetary(currency_field="currency_id")
    amount_company = fields.Monetary(currency_field="company_currency_id", compute="_compute_amount_company",
                                     store=True, string="Amount (Company Currency)")
    promotion_id = fields.Many2one("recon.promotion", ondelete="restrict", index="btree_not_null")
    fund_type_id = fields.Many2one("recon.fund.type", ondelete="restrict")
    account_id = fields.Many2one("account.account", ondelete="restrict")
    move_id = fields.Many2one("account.move", string="Entry", readonly=True)
    reason_id = fields.Many2one("recon.write.off.reason", string="Resolution Reason", readonly=True,
                                ondelete="restrict")
    undone = fields.Boolean(readonly=True, copy=False,
                            help="The run was undone: this clearing's entry is reversed and the invoice open again.")

    @api.depends("run_id", "invoice_id", "deduction_id", "transaction_id")
    def _compute_display_name(self):
        for line in self:
            record = line.invoice_id or line.deduction_id or line.transaction_id
            line.display_name = f"{line.run_id.display_name}: {record.display_name or ''}"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        posted = self.filtered("move_id")
        if posted:
            raise UserError(self.env._(
                "%(line)s has a posted journal entry (%(move)s) and cannot be deleted. Reverse the "
                "entry in Accounting instead.", line=posted[0].display_name, move=posted[0].move_id.name))

    @api.depends("transaction_id", "invoice_id")
    def _compute_partner_id(self):
        for line in self:
            line.partner_id = (line.transaction_id.partner_id or line.invoice_id.partner_id).commercial_partner_id

    @api.depends("amount", "currency_id", "move_id")
    def _compute_amount_company(self):
        for line in self:
            counterpart = line.move_id.line_ids.filtered(
                lambda move_line, line=line: move_line.account_id == line.account_id)[:1]
            if counterpart:
                line.amount_company = counterpart.balance
            elif not line.currency_id or line.currency_id == line.company_currency_id:
                line.amount_company = line.amount
            else:
                line.amount_company = line.currency_id._convert(
                    line.amount, line.company_currency_id, line.company_id, fields.Date.context_today(line))

    def _get_settlement(self):
        """Close the invoice's open receivable items against the line's account."""
        self.ensure_one()
        invoice = self.invoice_id
        items = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            and not line.currency_id.is_zero(line.amount_residual_currency))
        label = self.reason_id._label(self.env._("Below threshold: %(invoice)s to %(target)s", invoice=invoice.name,
                                                 target=self.promotion_id.name or self.fund_type_id.name))
        return Settlement(source=self, items=items, account=self.account_id,
                          partner=invoice.commercial_partner_id, label=label, ref=invoice.name)
