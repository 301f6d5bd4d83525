from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import formatLang

from odoo.addons.recon_addon.services import balances as balance_service


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

    # ------------------------------------------------------------------
    # Auto-adjustments: the account's balance per line item code
    # ------------------------------------------------------------------
    recon_adjustment_ids = fields.One2many("recon.adjustment", "invoice_id", string="Adjustments",
                                           readonly=True)
    recon_account_balance = fields.Monetary(
        string="Account Balance", currency_field="currency_id", compute="_compute_recon_balances",
        help="What is open on the invoice plus its open adjustments.")
    recon_balance_html = fields.Html(
        string="Balance per Line Item Code", compute="_compute_recon_balances", sanitize=False)

    def _compute_recon_balances(self):
        accounts = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted" and m.id)
        balances = accounts._recon_line_item_balances() if accounts else {}
        products = self.env["product.product"].browse(
            [key for per_code in balances.values() for key in per_code if key])
        names = {p.id: p.display_name for p in products}
        for move in self:
            per_code = balances.get(move)
            if per_code is None:
                move.recon_account_balance = 0.0
                move.recon_balance_html = False
                continue
            move.recon_account_balance = sum(per_code.values())
            rows = Markup().join(
                Markup("<tr><td>%s</td><td class='text-end'>%s</td></tr>") % (
                    names.get(code) or self.env._("No line item code"),
                    formatLang(self.env, amount, currency_obj=move.currency_id))
                for code, amount in per_code.items())
            move.recon_balance_html = Markup(
                "<table class='table table-sm o_recon_balances'><thead><tr><th>%s</th>"
                "<th class='text-end'>%s</th></tr></thead><tbody>%s</tbody><tfoot><tr><th>%s</th>"
                "<th class='text-end'>%s</th></tr></tfoot></table>") % (
                self.env._("Line item code"), self.env._("Balance"), rows, self.env._("Account balance"),
                formatLang(self.env, move.recon_account_balance, currency_obj=move.currency_id))

    def _recon_open_adjustment_items_by_invoice(self):
        """``{invoice: open receivable items of its adjustments}``."""
        Line = self.env["account.move.line"]
        result = {invoice: Line for invoice in self}
        adjustments = self.env["recon.adjustment"].search_read(
            [("invoice_id", "in", self.ids), ("move_id", "!=", False)], ["invoice_id", "move_id"])
        if not adjustments:
            return result
        invoice_of_move = {a["move_id"][0]: a["invoice_id"][0] for a in adjustments}
        lines = Line.search([
            ("move_id", "in", list(invoice_of_move)),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("parent_state", "=", "posted"),
        ], order="date_maturity, id")
        for line in lines:
            invoice = self.browse(invoice_of_move[line.move_id.id])
            result[invoice] |= line
        return result

    def _recon_open_adjustment_items(self):
        self.ensure_one()
        return self._recon_open_adjustment_items_by_invoice()[self]

    def _recon_line_item_balances(self):
        """``{invoice: {product id or None: balance}}`` in each invoice's
        currency; see :func:`~odoo.addons.recon_addon.services.balances.line_item_balances`."""
        items = self._recon_open_adjustment_items_by_invoice()
        result = {}
        for invoice in self:
            invoice_lines = [
                (line.product_id.id or None, line.price_total)
                for line in invoice.invoice_line_ids if line.display_type == "product"
            ]
            adjustments = [(line.product_id.id or None, line.amount_residual_currency)
                           for line in items[invoice]]
            result[invoice] = balance_service.line_item_balances(
                invoice_lines, invoice.amount_residual, adjustments, invoice.currency_id.rounding)
        return result

    def _recon_account_balance(self):
        """``{invoice: open invoice amount + open adjustments}``."""
        return {invoice: sum(per_code.values())
                for invoice, per_code in self._recon_line_item_balances().items()}

    def action_open_recon_adjustments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_adjustment_action")
        action["domain"] = [("invoice_id", "=", self.id)]
        return action
