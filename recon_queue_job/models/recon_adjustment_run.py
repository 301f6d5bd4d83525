from odoo import models

from odoo.addons.recon_addon.models.recon_adjustment_rule import MAX_DEBTORS_LIMIT


class ReconAdjustmentRun(models.Model):
    _inherit = "recon.adjustment.run"

    def _run_queue_sequential(self):
        """Debtor limits (a maximum of debtors per run, once per debtor) are
        counted over the whole run: its chunks then run one after the other."""
        rule = self.rule_id
        return (super()._run_queue_sequential()
                or rule.apply_limit == "once_per_debtor" or rule.max_debtors < MAX_DEBTORS_LIMIT)

    def _run_pending_items(self, items):
        """The planned accounts that still qualify: not adjusted for the
        period since (by another process), still open and overdue."""
        rule = self.rule_id
        return rule._account_env().search([("id", "in", items.ids)] + rule._get_qualifying_domain(self.date),
                                          order="invoice_date_due, id")

    def _run_take(self, items):
        last = items[-1]
        self._recon_write({"cursor_date": last.invoice_date_due, "cursor_id": last.id})

    def _queue_merge_text(self, fname, parts):
        if fname != "skip_log":
            return super()._queue_merge_text(fname, parts)
        more = self._skip_log_more()  # recon_addon's words, as its chunks wrote them
        return self._append_skip_log([line for part in parts for line in part.splitlines() if line != more])
