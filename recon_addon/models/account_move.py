from odoo import api, fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_status_id = fields.Many2one(
        "recon.collection.status",
        string="Collection Status",
        index="btree_not_null",
        tracking=True,
        copy=False,
        help="Where this customer invoice stands in collections.",
    )
    # The record that asked the ledger spine for this entry.
    recon_source_model = fields.Char(string="Requested By (Model)", readonly=True, copy=False, index="btree_not_null")
    recon_source_id = fields.Many2oneReference(
        string="Requested By (ID)", model_field="recon_source_model", readonly=True, copy=False,
    )
    recon_source_ref = fields.Reference(
        selection="_selection_recon_source_ref",
        string="Requested By",
        compute="_compute_recon_source_ref",
    )

    @api.model
    def _selection_recon_source_ref(self):
        return [(model, self.env[model]._description) for model in self.env.registry
                if model.startswith("recon.") and not self.env[model]._abstract]

    @api.depends("recon_source_model", "recon_source_id")
    def _compute_recon_source_ref(self):
        for move in self:
            model = move.recon_source_model
            move.recon_source_ref = (
                f"{model},{move.recon_source_id}"
                if model in self.env and move.recon_source_id else False
            )

    @api.model
    def _recon_default_collection_status(self):
        return self.env.ref("recon_addon.recon_collection_status_active", raise_if_not_found=False)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        to_mark = posted.filtered(
            lambda m: m.move_type == "out_invoice" and not m.collection_status_id
        )
        if to_mark:
            status = self._recon_default_collection_status()
            if status:
                to_mark.write({"collection_status_id": status.id})
        return posted
