import base64
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ReconCommon


@tagged("post_install", "-at_install")
class TestWriteOffUndoTour(ReconCommon, HttpCase):
    """A manager undoes a bulk write-off batch in the browser; the ledger is
    checked afterwards. In a company of its own, like the other tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.setup_other_company(name="Harbour Trading")["company"]
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=cls.company.ids))
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        cls.recon_manager = new_test_user(
            cls.env, login="recon_undo_manager", name="Reconciliation Manager", company_id=cls.company.id,
            email="recon_undo_manager@example.com", groups="base.group_user,recon_addon.recon_addon_group_manager",
        )

    def _posted_invoice(self, partner, amount, invoice_date):
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": invoice_date,
            "invoice_date_due": invoice_date,
            "invoice_line_ids": [Command.create({"name": "Goods", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})],
        })
        invoice.action_post()
        return invoice

    def test_undo_write_off_batch_tour(self):
        harbour = self.env["res.partner"].create({"name": "Harbour Foods Ltd"})
        mill = self.env["res.partner"].create({"name": "Mill Street Grocers"})
        invoices = (self._posted_invoice(harbour, 1250.0, self.today - timedelta(days=400))
                    + self._posted_invoice(mill, 480.5, self.today - timedelta(days=200)))
        bad_debt = self.company.recon_bad_debt_account_id
        receivable = invoices.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable").account_id
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(self.recon_manager).create({
            "file": base64.b64encode(("Account ID\n" + "\n".join(invoices.mapped("name"))).encode()),
            "filename": "wrong_accounts.csv",
            "reason_id": self.env.ref("recon_addon.recon_reason_uncollectible").id,
        })
        wizard.action_preview()
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertRecordValues(batch, [{"state": "done", "count_written_off": 2, "amount_total": 1730.5}])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])
        self.assertAlmostEqual(self._account_balance(bad_debt), 1730.5)

        self.start_tour("/web", "recon_write_off_undo_tour", login=self.recon_manager.login)

        undo = batch.undo_id
        self.assertRecordValues(undo, [{"state": "done", "count_undone": 2, "count_skipped": 0,
                                        "user_id": self.recon_manager.id, "reason": "Wrong file uploaded"}])
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"cancelled"})
        self.assertRecordValues(invoices, [
            {"amount_residual": 1250.0, "payment_state": "not_paid"},
            {"amount_residual": 480.5, "payment_state": "not_paid"},
        ])
        self.assertAlmostEqual(self._account_balance(receivable), 1730.5)
        self.assertAlmostEqual(self._account_balance(bad_debt), 0.0)
        for write_off in batch.write_off_ids:
            reversal = write_off.move_id.reversal_move_ids
            self.assertRecordValues(reversal, [{"state": "posted", "recon_undo_id": undo.id}])
            self.assertTrue(all(line.reconciled for line in (write_off.move_id | reversal).line_ids
                                if line.account_id == receivable))
