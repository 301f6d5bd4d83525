from odoo import api, fields, models


class ReconDeductionResolveWizard(models.TransientModel):
    """Resolve part or all of one deduction by hand."""

    _name = "recon.deduction.resolve.wizard"
    _description = "Resolve Deduction"
    _check_company_auto = True

    deduction_id = fields.Many2one("recon.deduction", required=True, check_company=True)
    company_id = fields.Many2one(related="deduction_id.company_id")
    currency_id = fields.Many2one(related="deduction_id.currency_id")
    open_amount = fields.Monetary(related="deduction_id.open_amount", currency_field="currency_id")
    kind = fields.Selection(
        [("promotion", "Clear to Promotion"), ("write_off", "Write Off to Fund Type"), ("manual", "Book to Account")],
        required=True, default="promotion",
    )
    amount = fields.Monetary(currency_field="currency_id", required=True,
                             help="How much of the open amount to resolve (its size; the sign follows the deduction).")
    promotion_id = fields.Many2one("recon.promotion", check_company=True)
    fund_type_id = fields.Many2one("recon.fund.type", check_company=True)
    reason_id = fields.Many2one("recon.write.off.reason", required=True,
                                domain="[('company_id', 'in', (company_id, False))]",
                                help="Why it is resolved: shown on the entry's labels and on the resolution.")
    account_id = fields.Many2one(
        "account.account", check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', "
               "'liability_payable', 'asset_cash', 'liability_credit_card'))]",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        deduction = self.env["recon.deduction"].browse(values.get("deduction_id"))
        if deduction and "amount" in fields_list:
            values["amount"] = abs(deduction.open_amount)
        return values

    def action_confirm(self):
        self.ensure_one()
        self.deduction_id.resolve(
            self.kind, self.amount,
            promotion_id=self.promotion_id.id, fund_type_id=self.fund_type_id.id, account_id=self.account_id.id,
            reason_id=self.reason_id.id,
        )
        return {"type": "ir.actions.act_window_close"}
