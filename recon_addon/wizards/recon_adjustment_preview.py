from odoo import api, fields, models
from odoo.osv import expression

from ..services.debtor_limits import select_within_debtor_limits

#: qualifying accounts listed in a preview (the counts cover all of them)
PREVIEW_LIMIT = 1000
#: examples listed per reason of exclusion
EXAMPLES_PER_REASON = 50


class ReconAdjustmentPreview(models.TransientModel):
    """What a rule would do today, without posting anything: the accounts it
    would adjust and by how much, and why the others are left out."""

    _name = "recon.adjustment.preview"
    _description = "Auto Adjustment Preview"

    rule_id = fields.Many2one("recon.adjustment.rule", required=True, readonly=True, ondelete="cascade")
    date = fields.Date(readonly=True)
    examined_count = fields.Integer(string="Open Accounts", readonly=True)
    skipped_status_count = fields.Integer(string="Excluded Status", readonly=True)
    skipped_overdue_count = fields.Integer(string="Not Overdue Enough", readonly=True)
    skipped_conditions_count = fields.Integer(string="Conditions Not Met", readonly=True)
    skipped_already_count = fields.Integer(string="Already Adjusted", readonly=True)
    qualifying_count = fields.Integer(string="Qualifying", readonly=True)
    adjust_count = fields.Integer(string="Would Be Adjusted", readonly=True,
                                  help="Among the listed qualifying accounts.")
    truncated = fields.Boolean(readonly=True)
    line_ids = fields.One2many("recon.adjustment.preview.line", "preview_id", readonly=True)

    def _build_preview(self):
        self.ensure_one()
        rule = self.rule_id
        day = rule._local_today()
        counts = rule._count_accounts(day)
        Move = rule._account_env()
        order = "invoice_date_due, id"
        candidates = Move.search(rule._get_qualifying_domain(day), order=order, limit=PREVIEW_LIMIT)
        # as the run does: the amounts first, then the debtor limits among
        # the accounts that have something to adjust
        amounts, reasons = rule._get_adjustment_amounts(candidates, day) if candidates else ({}, {})
        to_adjust = [invoice for invoice in candidates if invoice not in reasons]
        selected = {to_adjust[i] for i in select_within_debtor_limits(
            [invoice.commercial_partner_id.id for invoice in to_adjust],
            rule.max_debtors, rule.apply_limit == "once_per_debtor")}
        limit_reason = self.env._("Debtor limit (maximum debtors or once per debtor)")
        lines = [
            self._prepare_line_vals(invoice, amounts[invoice], False) if invoice in selected
            else self._prepare_line_vals(invoice, 0.0, reasons.get(invoice, limit_reason))
            for invoice in candidates
        ]
        reasons_left_out = {
            "status": self.env._("Excluded account status"),
            "overdue": self.env._("Not overdue enough"),
            "conditions": self.env._("Conditions not met"),
            "already": self.env._("Already adjusted by this rule"),
        }
        domain = rule._get_open_domain()
        for key, step in rule._get_exclusion_steps(day):
            if step:
                excluded = Move.search(domain + ["!"] + expression.normalize_domain(step),
                                       order=order, limit=EXAMPLES_PER_REASON)
                lines += [self._prepare_line_vals(invoice, 0.0, reasons_left_out[key]) for invoice in excluded]
                domain = domain + step
        self.write({
            "date": day,
            "examined_count": counts["examined"],
            **{f"skipped_{key}_count": counts[key] for key in reasons_left_out},
            "qualifying_count": counts["qualifying"],
            "adjust_count": sum(1 for vals in lines if vals["will_adjust"]),
            "truncated": counts["qualifying"] > len(candidates),
            "line_ids": [(5, 0, 0)] + [(0, 0, vals) for vals in lines],
        })

    @api.model
    def _prepare_line_vals(self, invoice, amount, reason):
        return {
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "invoice_date_due": invoice.invoice_date_due,
            "collection_status_id": invoice.collection_status_id.id,
            "open_amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "amount": amount,
            "will_adjust": not reason,
            "reason": reason or False,
        }


class ReconAdjustmentPreviewLine(models.TransientModel):
    _name = "recon.adjustment.preview.line"
    _description = "Auto Adjustment Preview Line"
    _order = "will_adjust desc, invoice_date_due, id"

    preview_id = fields.Many2one("recon.adjustment.preview", required=True, ondelete="cascade")
    invoice_id = fields.Many2one("account.move", string="Account", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Debtor", readonly=True)
    invoice_date_due = fields.Date(string="Due Date", readonly=True)
    collection_status_id = fields.Many2one("recon.collection.status", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    open_amount = fields.Monetary(currency_field="currency_id", readonly=True)
    amount = fields.Monetary(string="Adjustment", currency_field="currency_id", readonly=True)
    will_adjust = fields.Boolean(readonly=True)
    reason = fields.Char(string="Why Not", readonly=True)
