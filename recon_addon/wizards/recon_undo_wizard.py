from odoo import api, fields, models
from odoo.exceptions import UserError


class ReconUndoWizard(models.TransientModel):
    """Asks why before a run, batch, write-off or clearing is undone."""

    _name = "recon.undo.wizard"
    _description = "Undo"

    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", required=True, readonly=True)
    record_name = fields.Char(string="Undo", compute="_compute_preview")
    item_count = fields.Integer(string="Items to Undo", compute="_compute_preview")
    reason = fields.Text(required=True, help="Why: written in the chatter, on the reversals and on each entry.")

    def _target(self):
        self.ensure_one()
        if self.res_model not in self.env or "undo_id" not in self.env[self.res_model]._fields:
            raise UserError(self.env._("%(model)s records cannot be undone.", model=self.res_model))
        return self.env[self.res_model].browse(self.res_id).exists()

    @api.depends("res_model", "res_id")
    def _compute_preview(self):
        for wizard in self:
            target = wizard._target()
            model, domain = target._undo_item_domain()
            wizard.record_name = target.display_name
            wizard.item_count = self.env[model].search_count(domain)

    def action_confirm(self):
        self.ensure_one()
        target = self._target()
        if not target:
            raise UserError(self.env._("The record to undo no longer exists."))
        return target._undo(self.reason)._action_notify()


class ReconRejectWizard(models.TransientModel):
    """Asks why before a request waiting for approval is rejected."""

    _name = "recon.reject.wizard"
    _description = "Reject"

    res_model = fields.Char(required=True, readonly=True)
    res_ids = fields.Char(required=True, readonly=True)
    reason = fields.Text(required=True, help="Why: written in the chatter and told to the requester.")

    def action_confirm(self):
        self.ensure_one()
        if self.res_model not in self.env or "reject_reason" not in self.env[self.res_model]._fields:
            raise UserError(self.env._("%(model)s records cannot be rejected.", model=self.res_model))
        ids = [int(i) for i in self.res_ids.strip("[]").split(",") if i.strip()]
        self.env[self.res_model].browse(ids).exists()._approval_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
