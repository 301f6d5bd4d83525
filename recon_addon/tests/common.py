from odoo import fields
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class ReconCommon(AccountTestInvoicingCommon):
    """Fixtures shared by the addon's tests: a company with a chart of
    accounts (so with the addon's journal and accounts), two customers, and
    helpers to make posted invoices and read the ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.receivable = cls.company_data["default_account_receivable"]
        cls.revenue = cls.company_data["default_account_revenue"]
        cls.bad_debt = cls.company.recon_bad_debt_account_id
        cls.recon_journal = cls.company.recon_journal_id
        cls.customer = cls.env["res.partner"].create({"name": "Harbour Foods"})
        cls.customer_b = cls.env["res.partner"].create({"name": "Mill Street Grocers"})

    @classmethod
    def _invoice(cls, amount, partner=None, date="2024-01-15", move_type="out_invoice",
                 currency=None, post=True):
        """A customer invoice of ``amount`` without taxes."""
        return cls.init_invoice(
            move_type,
            partner=partner or cls.customer,
            invoice_date=fields.Date.from_string(date),
            amounts=[amount],
            taxes=[],
            currency=currency,
            post=post,
        )

    def _pay(self, invoice, amount, date):
        """Register a payment of ``amount`` on ``invoice`` as the user does
        from the invoice (Odoo's payment wizard), dated ``date``."""
        return self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids,
        ).create({"amount": amount, "payment_date": date})._create_payments()

    @staticmethod
    def _receivable_line(move):
        return move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")

    def _account_balance(self, account, partner=None):
        domain = [("account_id", "=", account.id), ("parent_state", "=", "posted")]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return sum(self.env["account.move.line"].search(domain).mapped("balance"))

    #: the reason an undo is given in the tests, unless they give one
    undo_reason = "Undone by mistake"

    def _undo(self, record, reason=None, user=None):
        """Undo ``record`` as a manager (``self.manager`` unless ``user``)
        does: its Undo button, the reason, Confirm; return its recon.undo."""
        user = user or self.manager
        action = record.with_user(user).action_undo()
        self.assertEqual(action["res_model"], "recon.undo.wizard")
        wizard = self.env["recon.undo.wizard"].with_user(user).with_context(**action["context"]).create(
            {"reason": reason or self.undo_reason})
        self.assertEqual(wizard.action_confirm()["tag"], "display_notification")
        return record.undo_id
