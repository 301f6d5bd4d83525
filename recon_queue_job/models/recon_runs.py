from odoo import models


class ReconThresholdRun(models.Model):
    _inherit = "recon.threshold.run"

    def _run_take(self, items):
        self._unqueue(items)


class ReconWriteOffBatch(models.Model):
    _inherit = "recon.write.off.batch"

    def _run_pending_items(self, items):
        return items.filtered(lambda write_off: write_off.state == "draft")


class ReconUndo(models.Model):
    _inherit = "recon.undo"

    def _run_pending_items(self, items):
        model, domain = self._target()._undo_item_domain()
        return self.env[model].search([("id", "in", items.ids)] + domain, order="id")

    def _run_take(self, items):
        self._recon_write({"cursor_id": max(items.ids)})
