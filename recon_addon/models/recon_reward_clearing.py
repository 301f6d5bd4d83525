from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang

from odoo.addons.recon_addon.models.recon_ledger import Transfer
from odoo.addons.recon_addon.services.owed_balances import owed_balance

MANAGER_GROUP = "recon_addon.recon_addon_group_manager"


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

    # ------------------------------------------------------------------
    # Clearing
    # ------------------------------------------------------------------
    @api.model
    def _check_clear_access(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._(
                "Only a Reconciliation Manager can clear owed balances (%(user)s is not one).",
                user=self.env.user.name,
            ))

    @api.model
    def _clear_balances(self, partners):
        """Forgive the owed balances of ``partners`` in the current company.

        Every recoverable confirmed reward of each payee becomes
        non-recoverable (none is deleted) and is linked to a
        ``recon.reward.clearing``; when the company posts rewards, one
        forgiveness entry per payee (Dr forgiven advances / Cr advances
        receivable) is posted in one batch and reconciled with the payee's
        open advance items. Payees without a balance are skipped.

        :return: the clearings made
        """
        self._check_clear_access()
        company = self.env.company
        currency = company.currency_id
        rewards = self.env["recon.reward"].search([
            ("partner_id", "in", partners.ids),
            ("company_id", "=", company.id),
            ("state", "=", "confirmed"),
            ("recoverable", "=", True),
        ])
        rewards._recon_lock_rows(nowait=True)  # a second clearing fails at once, is retried
        by_partner = rewards.grouped("partner_id")
        todo = []
        for partner in partners:
            partner_rewards = by_partner.get(partner, rewards.browse())
            balance = owed_balance([(r.amount_company, True) for r in partner_rewards], currency.rounding)
            if not currency.is_zero(balance):
                todo.append((partner, partner_rewards, balance))
        if not todo:
            return self.browse()
        clearings = self._create_locked([
            {"partner_id": partner.id, "company_id": company.id, "amount": balance}
            for partner, _rewards, balance in todo
        ])
        if company.recon_post_rewards:
            rewards._check_reward_accounts()
            open_items = self._get_open_advance_items(partners, company)
            result = self.env["recon.ledger"]._book([
                clearing._get_forgiveness_transfer(open_items.get(clearing.partner_id.id))
                for clearing in clearings
            ])
            for clearing, move in zip(clearings, result.moves):
                clearing._write_locked({"move_id": move.id})
        for (partner, partner_rewards, _balance), clearing in zip(todo, clearings):
            partner_rewards._mark_cleared(clearing)
            partner._recon_log_note(clearing._prepare_chatter_note())
        return clearings

    @api.model
    def _get_open_advance_items(self, partners, company):
        """``{partner_id: open items}`` of ``partners`` on the advances account."""
        lines = self.env["account.move.line"].search([
            ("account_id", "=", company.recon_advance_account_id.id),
            ("partner_id", "in", partners.ids),
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ], order="date, id")
        return {partner.id: items for partner, items in lines.grouped("partner_id").items()}

    def _get_forgiveness_transfer(self, open_items):
        """Dr forgiven advances / Cr advances receivable for the cleared
        amount (the other way for a negative balance), the credit reconciled
        with the payee's open advance items as far as they go."""
        self.ensure_one()
        company = self.company_id
        open_items = (open_items or self.env["account.move.line"]).filtered(
            lambda l: not l.company_currency_id.is_zero(l.amount_residual))
        return Transfer(
            source=self,
            from_account=company.recon_advance_account_id,
            to_account=company.recon_forgiven_account_id,
            partner=self.partner_id,
            amount=self.amount,
            settle=open_items,
            label=self.env._("Forgiveness of owed balance: %s", self.partner_id.display_name),
            date=self.date,
            currency=company.currency_id,
            company=company,
        )

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
