from odoo import models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    def _recon_get_paid_in_part(self):
        """The moves of ``self`` with at least one payment, bank statement
        line or credit note (or, for a credit note, invoice) matched with
        their receivable: what the below-threshold rule may clear is only
        what such a short payment left open."""
        return self.filtered(lambda move: move._get_reconciled_payments()
                             or move._get_reconciled_statement_lines()
                             or move._get_reconciled_invoices())

    def action_run_below_threshold(self):
        """Clear the small open balances of the selected customer invoices and
        credit notes with the company's enabled below-threshold rule."""
        return self.env["recon.threshold.run"]._run_manually(self)

    def action_record_deductions(self):
        """Open a new deduction transaction for this invoice's open balance."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted" or self.currency_id.is_zero(self.amount_residual):
            raise UserError(self.env._(
                "%(name)s: deductions are recorded on posted customer invoices with an open balance.",
                name=self.display_name,
            ))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record Deductions"),
            "res_model": "recon.deduction.transaction",
            "view_mode": "form",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_currency_id": self.currency_id.id,
                "default_original_amount": self.amount_residual,
                "default_invoice_ids": [self.id],
                "default_ref": self.payment_reference or self.name,
                "default_company_id": self.company_id.id,
            },
        }
