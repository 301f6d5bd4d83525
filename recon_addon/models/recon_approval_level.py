from odoo import fields, models


class ReconApprovalLevel(models.Model):
    """A set of approval limits shared by several users (e.g. "Clerk",
    "Supervisor", "Controller"). A limit set on the user replaces the
    level's; a limit left at zero on both means no limit."""

    _name = "recon.approval.level"
    _description = "Reconciliation Approval Level"
    _order = "sequence, id"

    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    write_off_limit = fields.Monetary(
        string="Write-off Limit", currency_field="currency_id",
        help="Largest single write-off posted without approval; zero: no limit.")
    batch_limit = fields.Monetary(
        string="Bulk Batch Limit", currency_field="currency_id",
        help="Largest bulk write-off batch (total of its accounts) posted without approval; zero: no limit.")
    clearing_limit = fields.Monetary(
        currency_field="currency_id",
        help="Largest owed balance cleared without approval; zero: no limit.")
    user_ids = fields.One2many("res.users", "recon_approval_level_id", string="Users")
