from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class ReconWriteOffReason(models.Model):
    """Why a balance was written off, cleared or forgiven: chosen on a
    write-off, a bulk batch (or a row of its file), a manual deduction
    resolution and a balance clearing, carried as a default by the
    below-threshold and adjustment rules. It shows on the entries' label and
    reference; its account, when set, is debited instead of the company's
    bad-debt account."""

    _name = "recon.write.off.reason"
    _description = "Write-off Reason"
    _order = "sequence, code, id"
    _check_company_auto = True
    _rec_names_search = ["code", "name"]

    sequence = fields.Integer(default=10)
    code = fields.Char(required=True, help="Short code, as written in the reason column of a bulk write-off file.")
    name = fields.Char(required=True, translate=True)
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company,
                                 help="Empty: the reason is offered in every company (without an account).")
    account_id = fields.Many2one(
        "account.account", string="Write-off Account", check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', 'liability_payable'))]",
        help="Debited by write-offs with this reason instead of the company's bad-debt account.",
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_company_unique", "UNIQUE(code, company_id)", "A write-off reason code must be unique per company."),
    ]

    @api.constrains("account_id", "company_id")
    def _check_account_company(self):
        for reason in self:
            if reason.account_id and not reason.company_id:
                raise ValidationError(self.env._(
                    "Write-off reason %(reason)s has an account: set its company too, or clear the account.",
                    reason=reason.display_name))

    @api.depends("code", "name")
    def _compute_display_name(self):
        for reason in self:
            reason.display_name = f"{reason.code} - {reason.name}" if reason.code else reason.name

    def _get_write_off_account(self, company):
        """The account a write-off with this reason debits in ``company``."""
        return self.account_id or company.recon_bad_debt_account_id

    @api.model
    def _find_by_code(self, code, company):
        """The active reason of ``company`` whose code (or name) is ``code``,
        case-insensitive; empty when none."""
        code = (code or "").strip()
        if not code:
            return self.browse()
        domain = [("company_id", "in", (company.id, False))]
        return (self.search(domain + [("code", "=ilike", code)], limit=1)
                or self.search(domain + [("name", "=ilike", code)], limit=1))

    @api.model
    def _check_given(self, vals_list, what):
        """Refuse new records (``what``: their kind) without a reason."""
        if any(not vals.get("reason_id") for vals in vals_list):
            raise UserError(self.env._(
                "A %(what)s needs a reason: choose one of Accounting > Configuration > Reconciliation > "
                "Write-off Reasons.", what=what))

    def _label(self, text):
        """``text`` followed by this reason, as entries show it."""
        return f"{text} ({self.name})" if self else text
