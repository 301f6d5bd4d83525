from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.owed_balances import SEARCH_OPERATORS, balance_matches


class ResPartner(models.Model):
    _inherit = "res.partner"

    recon_company_currency_id = fields.Many2one(
        "res.currency", string="Balance Currency", compute="_compute_recon_company_currency_id",
    )
    recoverable_balance = fields.Monetary(
        string="Owed Balance",
        currency_field="recon_company_currency_id",
        compute="_compute_recoverable_balance",
        search="_search_recoverable_balance",
        groups="recon_addon.recon_addon_group_user",
        help="What the payee owes back in the current company: recoverable advances and draws less "
        "repayments, in company currency, each reward converted at its date.",
    )
    recon_reward_count = fields.Integer(
        string="Rewards", compute="_compute_recoverable_balance", groups="recon_addon.recon_addon_group_user",
    )

    @api.depends_context("company")
    def _compute_recon_company_currency_id(self):
        self.recon_company_currency_id = self.env.company.currency_id

    @api.depends_context("company")
    def _compute_recoverable_balance(self):
        balances = self._recon_get_balances(self.env.company)
        counts = dict(self.env["recon.reward"]._read_group(
            [("partner_id", "in", self._origin.ids), ("company_id", "=", self.env.company.id)],
            ["partner_id"], ["__count"],
        ))
        for partner in self:
            partner.recoverable_balance = balances.get(partner._origin.id, 0.0)
            partner.recon_reward_count = counts.get(partner._origin, 0)

    def _search_recoverable_balance(self, operator, value):
        """Payees whose owed balance in the current company matches, e.g.
        ``[('recoverable_balance', '!=', 0)]`` for everyone who owes."""
        if operator not in SEARCH_OPERATORS or not isinstance(value, (int, float)):
            raise UserError(self.env._("The owed balance can only be compared with a number."))
        company = self.env.company
        rounding = company.currency_id.rounding
        balances = self._recon_get_balances(company, all_payees=True)
        matching = [pid for pid, balance in balances.items() if balance_matches(balance, operator, value, rounding)]
        if balance_matches(0.0, operator, value, rounding):
            # payees without any reward match too: exclude those that do not
            return [("id", "not in", list(set(balances) - set(matching)))]
        return [("id", "in", matching)]

    def _recon_get_balances(self, company, all_payees=False):
        """Owed balances in ``company`` as ``{partner_id: amount}``, for
        ``self`` (or for every payee with ``all_payees``)."""
        domain = [("company_id", "=", company.id), ("state", "=", "confirmed"), ("recoverable", "=", True)]
        if not all_payees:
            domain.append(("partner_id", "in", self._origin.ids))
        return {
            partner.id: company.currency_id.round(amount)
            for partner, amount in self.env["recon.reward"]._read_group(
                domain, ["partner_id"], ["amount_company:sum"])
        }

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_recon_rewards(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_reward_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id, "search_default_filter_recoverable": 1}
        return action

    def action_clear_recoverable_balance(self):
        """Ask to confirm clearing these payees' owed balances in the current
        company (the confirmation shows the amounts); a payee without a
        balance is left alone and the user is told so."""
        return self.env["recon.reward.clear.wizard"]._action_open(
            [(partner, self.env.company) for partner in self]
        )

    def _recon_log_note(self, body):
        """Leave an audit note on the payee, written by the current user.

        Like Odoo's own tracking messages, the note is the record of what the
        user did and must not depend on the user's right to edit the contact,
        hence ``sudo()``; the author stays the user.
        """
        self.ensure_one()
        return self.sudo().message_post(
            body=body, author_id=self.env.user.partner_id.id, message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
