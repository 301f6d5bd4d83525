from odoo import fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestTours(HttpCase):
    """What an accountant clicks through, in a real browser."""

    def test_foundation_tour(self):
        partner = self.env["res.partner"].create({"name": "Harbour Foods"})
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": fields.Date.today(),
            "invoice_line_ids": [(0, 0, {"name": "Goods", "quantity": 1, "price_unit": 120.0, "tax_ids": []})],
        })
        invoice.action_post()
        self.start_tour("/web", "recon_foundation_tour", login="admin")
