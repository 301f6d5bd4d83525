from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    def _recon_reserve_numbers(self, last):
        """A chunk processed beside others numbers its entries in a block of
        its own (``recon.number.block``): the workers do not wait for each
        other on the journal's unique index."""
        chunk_id = self.env.context.get("recon_run_chunk")
        if not chunk_id:
            return super()._recon_reserve_numbers(last)
        return self.env["recon.number.block"]._reserve(self, last, chunk_id)
