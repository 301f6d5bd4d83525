from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    recon_journal_id = fields.Many2one(
        related="company_id.recon_journal_id", readonly=False,
    )
    recon_days_to_default = fields.Integer(
        related="company_id.recon_days_to_default", readonly=False,
    )
    recon_bad_debt_account_id = fields.Many2one(
        related="company_id.recon_bad_debt_account_id", readonly=False,
    )
    recon_advance_account_id = fields.Many2one(
        related="company_id.recon_advance_account_id", readonly=False,
    )
    recon_commission_payable_account_id = fields.Many2one(
        related="company_id.recon_commission_payable_account_id", readonly=False,
    )
    recon_forgiven_account_id = fields.Many2one(
        related="company_id.recon_forgiven_account_id", readonly=False,
    )
    recon_post_rewards = fields.Boolean(
        related="company_id.recon_post_rewards", readonly=False,
    )
