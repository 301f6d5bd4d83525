from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from odoo.addons.recon_addon.models.recon_ledger import LedgerEntry, LedgerLine
from odoo.addons.recon_addon.services.owed_balances import split_forgiveness


class ReconRewardClearing(models.Model):
    """One clearing of a payee's owed balance: who forgave how much, when,
    which rewards it made non-recoverable and the forgiveness entry posted."""

    _name = "recon.reward.clearing"
    _description = "Owed Balance Clearing"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"
    _inherit = ["recon.posted.mixin"]

    partner_id = fields.Many2one("res.partner", string="Payee", required=True, readonly=True, index=True,
                                 ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    user_id = fields.Many2one("res.users", string="Cleared By", required=True, readonly=True,
                              default=lambda self: self.env.user)
    amount = fields.Monetary(string="Amount Forgiven", currency_field="currency_id", readonly=True)
    reward_ids = fields.One2many("recon.reward", "clearing_id", string="Rewards", readonly=True)
    move_id = fields.Many2one("account.move", string="Forgiveness Entry", readonly=True, check_company=True)

    def _recon_locked_hint(self):
        return self.env._("A clearing is the record of what was forgiven and stays as it is.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        if self:
            raise UserError(self.env._(
                "The clearing of %(payee)s's owed balance is the record of what was forgiven and "
                "cannot be deleted.", payee=self[0].partner_id.display_name))

    def _prepare_forgiveness_entry(self, open_items):
        """Dr forgiven advances / Cr advances receivable for the cleared
        amount (mirrored for a negative balance), the credit reconciled with
        the payee's open advance items as far as they go."""
        self.ensure_one()
        company = self.company_id
        currency = company.currency_id
        label = self.env._("Forgiveness of owed balance: %s", self.partner_id.display_name)
        open_items = (open_items or self.env["account.move.line"]).filtered(
            lambda l: not l.company_currency_id.is_zero(l.amount_residual))
        reconciled, rest = split_forgiveness(self.amount, sum(open_items.mapped("amount_residual")),
                                             currency.rounding)
        lines = [LedgerLine(account=company.recon_forgiven_account_id, amount=self.amount,
                            partner=self.partner_id, name=label)]
        if not currency.is_zero(reconciled):
            lines.append(LedgerLine(account=company.recon_advance_account_id, amount=-reconciled,
                                    partner=self.partner_id, name=label, reconcile_with=open_items))
        if not currency.is_zero(rest):
            lines.append(LedgerLine(account=company.recon_advance_account_id, amount=-rest,
                                    partner=self.partner_id, name=label))
        return LedgerEntry(source=self, label=label, date=self.date, currency=currency, company=company,
                           lines=lines)

    def _prepare_chatter_note(self):
        self.ensure_one()
        note = self.env._(
            "Owed balance of %(amount)s in %(company)s cleared by %(user)s: %(count)s rewards are no "
            "longer recoverable.",
            amount=formatLang(self.env, self.amount, currency_obj=self.currency_id),
            company=self.company_id.name,
            user=self.user_id.name,
            count=len(self.reward_ids),
        )
        if self.move_id:
            note += " " + self.env._("Forgiveness entry: %s.", self.move_id.name)
        return note
