from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def action_view_recon_rewards(self):
        self.ensure_one()
        return self.partner_id.action_view_recon_rewards()
