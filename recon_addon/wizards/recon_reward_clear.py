from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang


class ReconRewardClearWizard(models.TransientModel):
    """Confirmation before clearing owed balances: one line per payee and
    company with the amount that will be forgiven."""

    _name = "recon.reward.clear.wizard"
    _description = "Clear Owed Balances"

    line_ids = fields.One2many("recon.reward.clear.wizard.line", "wizard_id", string="Balances", readonly=True)
    skipped_partner_ids = fields.Many2many("res.partner", string="Nothing to Clear", readonly=True,
                                           help="Selected payees without an owed balance; they are left alone.")
    summary = fields.Char(compute="_compute_summary")
    reason_id = fields.Many2one(
        "recon.write.off.reason",
        domain="['|', ('company_id', '=', False), ('company_id', 'in', company_ids)]",
        help="Why the balances are forgiven: stored on each clearing and shown on its forgiveness entry.")
    company_ids = fields.Many2many("res.company", compute="_compute_company_ids")

    @api.depends("line_ids")
    def _compute_summary(self):
        for wizard in self:
            total = " + ".join(
                formatLang(self.env, sum(lines.mapped("balance")), currency_obj=currency)
                for currency, lines in wizard.line_ids.grouped("currency_id").items())
            if len(wizard.line_ids) == 1:
                wizard.summary = self.env._(
                    "The owed balance of %(payee)s, %(total)s, will be forgiven.",
                    payee=wizard.line_ids.partner_id.display_name, total=total,
                )
            else:
                wizard.summary = self.env._(
                    "%(count)s owed balances, %(total)s in total, will be forgiven.",
                    count=len(wizard.line_ids), total=total,
                )

    @api.depends("line_ids")
    def _compute_company_ids(self):
        for wizard in self:
            wizard.company_ids = wizard.line_ids.company_id

    @api.model
    def _action_open(self, pairs):
        """The confirmation for ``pairs`` of ``(res.partner, res.company)``,
        or a notification when none of them owes anything."""
        self.env["recon.reward.clearing"]._check_clear_access()
        lines, skipped = [], self.env["res.partner"]
        by_company = defaultdict(lambda: self.env["res.partner"])
        for partner, company in pairs:
            by_company[company] |= partner
        for company, partners in by_company.items():
            balances = partners._recon_get_balances(company)
            for partner in partners:
                balance = balances.get(partner.id, 0.0)
                if company.currency_id.is_zero(balance):
                    skipped |= partner
                else:
                    lines.append({"partner_id": partner.id, "company_id": company.id, "balance": balance})
        if not lines:
            return self._notification("info", self.env._("Nothing to clear"), self.env._(
                "%(payees)s: no owed balance, nothing was changed.", payees=", ".join(skipped.mapped("display_name"))))
        wizard = self.create({
            "line_ids": [fields.Command.create(vals) for vals in lines],
            "skipped_partner_ids": [fields.Command.set(skipped.ids)],
        })
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Clear Owed Balances"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_confirm(self):
        """Clear the balances, each payee in its company."""
        self.ensure_one()
        self.env["recon.reward.clearing"]._check_clear_access()
        self.env["recon.reward.clearing"]._check_reason(self.reason_id)
        by_company = self.line_ids.grouped("company_id")
        for company, lines in by_company.items():
            if self.reason_id.company_id and self.reason_id.company_id != company:
                raise UserError(self.env._(
                    "Reason %(reason)s belongs to %(other)s and cannot clear balances in %(company)s: choose a "
                    "reason of that company or one shared by all companies.", reason=self.reason_id.display_name,
                    other=self.reason_id.company_id.name, company=company.name))
            balances = lines.partner_id._recon_get_balances(company)
            changed = lines.filtered(
                lambda line, company=company, balances=balances: company.currency_id.compare_amounts(
                    balances.get(line.partner_id.id, 0.0), line.balance)
            )
            if changed:
                raise UserError(self.env._(
                    "The owed balance of %(payee)s changed since this confirmation was opened. "
                    "Close it and clear again to see the current amount.",
                    payee=changed[0].partner_id.display_name,
                ))
        clearings = self.env["recon.reward.clearing"]
        for company, lines in by_company.items():
            clearings |= self.env["recon.reward.clearing"].with_company(company)._clear_balances(
                lines.partner_id, self.reason_id)
        waiting = clearings.filtered(lambda clearing: clearing.state == "to_approve")
        cleared = clearings - waiting
        if waiting:
            message = self.env._(
                "%(count)s owed balances (%(payees)s) are above your clearing limit and wait for a manager's "
                "approval; %(cleared)s cleared.", count=len(waiting),
                payees=", ".join(waiting.partner_id.mapped("display_name")), cleared=len(cleared))
            return self._notification("warning", self.env._("Waiting for approval"), message,
                                      next={"type": "ir.actions.act_window_close"})
        message = (
            self.env._("The owed balance of %(payee)s was forgiven.", payee=clearings.partner_id.display_name)
            if len(clearings) == 1
            else self.env._("%(count)s owed balances forgiven.", count=len(clearings))
        )
        return self._notification("success", self.env._("Owed balances cleared"), message,
                                  next={"type": "ir.actions.act_window_close"})

    @api.model
    def _notification(self, kind, title, message, **params):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "title": title, "message": message, "sticky": False, **params},
        }


class ReconRewardClearWizardLine(models.TransientModel):
    _name = "recon.reward.clear.wizard.line"
    _description = "Owed Balance to Clear"

    wizard_id = fields.Many2one("recon.reward.clear.wizard", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Payee", required=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    balance = fields.Monetary(string="Owed Balance", currency_field="currency_id", readonly=True)
