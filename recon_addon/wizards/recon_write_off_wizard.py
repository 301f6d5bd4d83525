from odoo import api, fields, models
from odoo.exceptions import UserError


class ReconWriteOffWizard(models.TransientModel):
    """Asks for the reason (and, optionally, another account) before the
    invoices are written off from their form or list."""

    _name = "recon.write.off.wizard"
    _description = "Write Off Invoices"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True,
                                 default=lambda self: self.env.company)
    invoice_ids = fields.Many2many(
        "account.move", string="Invoices", required=True, check_company=True,
        default=lambda self: self._default_invoice_ids(),
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
    )
    reason_id = fields.Many2one("recon.write.off.reason", required=True, check_company=True,
                                help="Shown on the entry's label and reference; its account, when set, is debited.")
    account_id = fields.Many2one(
        "account.account", string="Write-off Account", check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'in', ('expense', 'expense_direct_cost', "
               "'expense_other'))]",
        help="Empty: the reason's account, else the company's bad-debt account.",
    )

    @api.model
    def _default_invoice_ids(self):
        context = self.env.context
        if context.get("active_model") == "account.move":
            return context.get("active_ids") or ([context["active_id"]] if context.get("active_id") else [])
        return []

    @api.onchange("invoice_ids")
    def _onchange_invoice_ids(self):
        if self.invoice_ids:
            self.company_id = self.invoice_ids[0].company_id

    def action_confirm(self):
        """Write off the invoices; say so when a write-off waits for approval."""
        self.ensure_one()
        if not self.invoice_ids:
            raise UserError(self.env._("Choose the invoices to write off."))
        self.invoice_ids.action_write_off(account=self.account_id or None, reason=self.reason_id)
        waiting = self.invoice_ids.recon_write_off_ids.filtered(lambda write_off: write_off.state == "to_approve")
        if not waiting:
            return {"type": "ir.actions.act_window_close"}
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "warning",
            "title": self.env._("Waiting for approval"),
            "message": self.env._("%(invoices)s: above your write-off limit, nothing is posted until a manager "
                                  "approves it.", invoices=", ".join(waiting.invoice_id.mapped("name"))),
            "sticky": False,
            "next": {"type": "ir.actions.act_window_close"},
        }}
