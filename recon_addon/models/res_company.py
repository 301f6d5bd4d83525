from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

DEFAULT_DAYS_TO_DEFAULT = 90

# (company field, account name, account type, reconcile, first code tried);
# the names are translated when the account is created (``self.env._(name)``)
DEFAULT_ACCOUNTS = [
    ("recon_bad_debt_account_id", _lt("Bad Debts"), "expense", False, "689100"),
    ("recon_advance_account_id", _lt("Advances to Payees"), "asset_current", True, "131900"),
    ("recon_commission_payable_account_id", _lt("Commissions Payable"), "liability_current", True, "421900"),
    ("recon_forgiven_account_id", _lt("Forgiven Advances"), "expense", False, "689200"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    recon_journal_id = fields.Many2one(
        "account.journal",
        string="Reconciliation Journal",
        check_company=True,
        domain="[('type', '=', 'general')]",
        help="Miscellaneous journal that receives every entry the addon posts.",
    )
    recon_days_to_default = fields.Integer(
        string="Days Past Due Before Default",
        default=DEFAULT_DAYS_TO_DEFAULT,
        help="An invoice overdue by at least this many days is in default "
        "and may be written off.",
    )
    recon_bad_debt_account_id = fields.Many2one(
        "account.account",
        string="Bad Debt Account",
        check_company=True,
        help="Expense account debited when an invoice is written off.",
    )
    recon_advance_account_id = fields.Many2one(
        "account.account",
        string="Advances Receivable Account",
        check_company=True,
        help="Account debited with advances and recoverable draws paid to payees.",
    )
    recon_commission_payable_account_id = fields.Many2one(
        "account.account",
        string="Commissions Payable Account",
        check_company=True,
        help="Account credited with advances owed to payees.",
    )
    recon_forgiven_account_id = fields.Many2one(
        "account.account",
        string="Forgiven Advances Account",
        check_company=True,
        help="Expense account debited when a payee's owed balance is forgiven.",
    )
    recon_post_rewards = fields.Boolean(
        string="Post Rewards",
        default=True,
        help="Post a journal entry for each recoverable reward.",
    )

    @api.constrains("recon_days_to_default")
    def _check_recon_days_to_default(self):
        for company in self:
            if company.recon_days_to_default < 0:
                raise ValidationError(self.env._(
                    "Company %(company)s: the days past due before default cannot be "
                    "negative (%(days)s). Set 0 or more in Accounting settings.",
                    company=company.name, days=company.recon_days_to_default,
                ))

    def _recon_setup_defaults(self):
        """Create or pick the journal and accounts the addon needs. Only fills
        what is empty: it runs again at install, chart loading and upgrade
        without overwriting a user's choice."""
        Journal = self.env["account.journal"]
        Account = self.env["account.account"]
        for company in self:
            if not company.chart_template and not Account.search_count(
                Account._check_company_domain(company), limit=1
            ):
                continue  # no chart of accounts yet: done when one is loaded
            vals = {}
            if not company.recon_journal_id:
                journal = Journal.search([
                    *Journal._check_company_domain(company),
                    ("type", "=", "general"),
                    ("code", "=", "RECON"),
                ], limit=1) or Journal.with_company(company).create({
                    "name": self.env._("Reconciliation"),
                    "code": "RECON",
                    "type": "general",
                    "company_id": company.id,
                    "show_on_dashboard": False,
                })
                vals["recon_journal_id"] = journal.id
            for field, name, account_type, reconcile, code in DEFAULT_ACCOUNTS:
                if not company[field]:
                    vals[field] = company._recon_find_or_create_account(
                        self.env._(name), account_type, reconcile, code
                    ).id
            if vals:
                company.write(vals)

    def _recon_find_or_create_account(self, name, account_type, reconcile, code):
        self.ensure_one()
        Account = self.env["account.account"].with_company(self)
        domain = Account._check_company_domain(self)
        if account := Account.search([*domain, ("name", "=", name), ("account_type", "=", account_type)], limit=1):
            return account
        while Account.search_count([*domain, ("code", "=", code)], limit=1):
            code = str(int(code) + 1)
        return Account.create({
            "name": name,
            "code": code,
            "account_type": account_type,
            "reconcile": reconcile,
            "company_ids": [(6, 0, [self.id])],
        })

