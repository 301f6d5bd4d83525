from odoo import fields, models

#: the approval limits of a user: kind -> (user field, level field)
LIMIT_FIELDS = {
    "write_off": ("recon_write_off_limit", "write_off_limit"),
    "batch": ("recon_batch_limit", "batch_limit"),
    "clearing": ("recon_clearing_limit", "clearing_limit"),
}


class ResUsers(models.Model):
    _inherit = "res.users"

    recon_approval_level_id = fields.Many2one(
        "recon.approval.level", string="Reconciliation Approval Level",
        help="Approval limits this user shares with others; a limit set on the user replaces the level's.")
    recon_limit_currency_id = fields.Many2one(related="company_id.currency_id", string="Limit Currency")
    recon_write_off_limit = fields.Monetary(
        string="Write-off Limit", currency_field="recon_limit_currency_id",
        help="Largest single write-off this user posts without approval, in company currency; zero: the "
             "level's limit, or none.")
    recon_batch_limit = fields.Monetary(
        string="Bulk Batch Limit", currency_field="recon_limit_currency_id",
        help="Largest bulk write-off batch (total) this user posts without approval; zero: the level's limit, "
             "or none.")
    recon_clearing_limit = fields.Monetary(
        string="Clearing Limit", currency_field="recon_limit_currency_id",
        help="Largest owed balance this user clears without approval; zero: the level's limit, or none.")

    def _recon_limit(self, kind):
        """This user's limit for ``kind`` (``write_off``, ``batch`` or
        ``clearing``), in company currency; 0.0 means no limit."""
        self.ensure_one()
        user_field, level_field = LIMIT_FIELDS[kind]
        user = self.sudo()  # limits are read by whoever checks a request, set by administrators only
        return user[user_field] or user.recon_approval_level_id[level_field] or 0.0

    def _recon_within_limit(self, kind, amount, company):
        """Whether ``amount`` (in the currency of ``company``) is within this
        user's limit (set in the currency of the user's company)."""
        limit = self._recon_limit(kind)
        if not limit:
            return True
        currency = self.sudo().company_id.currency_id
        amount = company.currency_id._convert(abs(amount), currency, company, fields.Date.context_today(self))
        return currency.compare_amounts(amount, limit) <= 0

    def action_view_recon_rewards(self):
        self.ensure_one()
        return self.partner_id.action_view_recon_rewards()
