from odoo import fields, models


class ReconWriteOffFailure(models.Model):
    """An account of a batch that was not written off, and why."""

    _name = "recon.write.off.failure"
    _description = "Account Not Written Off"
    _order = "batch_id, sequence, id"
    _check_company_auto = True

    batch_id = fields.Many2one("recon.write.off.batch", required=True, ondelete="cascade", index=True,
                               check_company=True)
    company_id = fields.Many2one(related="batch_id.company_id", store=True, index=True)
    sequence = fields.Integer()
    account_ref = fields.Char(string="Account ID", required=True)
    invoice_id = fields.Many2one("account.move", string="Account", check_company=True,
                                 ondelete="set null")
    stage = fields.Selection(
        [("preview", "Not Eligible"), ("posting", "Failed at Posting")],
        required=True, default="posting",
    )
    reason = fields.Char(required=True)
