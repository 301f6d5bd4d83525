from odoo import fields, models


class ReconFundType(models.Model):
    """A write-off category: where deductions that are not cleared to a
    promotion are written off (e.g. "Small balances", "Pricing errors")."""

    _name = "recon.fund.type"
    _description = "Deduction Fund Type"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    write_off_account_id = fields.Many2one(
        "account.account",
        string="Write-off Account",
        required=True,
        check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', 'liability_payable'))]",
        help="Account debited when a deduction is written off to this fund type.",
    )
    active = fields.Boolean(default=True)
