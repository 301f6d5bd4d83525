from odoo.exceptions import UserError
from odoo.tests import tagged

from .common_write_off import WriteOffCommon


@tagged("post_install", "-at_install")
class TestWriteOffReasons(WriteOffCommon):
    """The reason of a single write-off and of a bulk batch (and its rows):
    required, shown on the entry, and its account debited."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.insolvent = cls.env.ref("recon_addon.recon_reason_insolvent")
        cls.legal_account = cls.env["account.account"].create({
            "name": "Bad Debts - Legal", "code": "681900", "account_type": "expense",
            "company_ids": [(6, 0, cls.company.ids)],
        })
        cls.legal = cls.env["recon.write.off.reason"].create({
            "code": "LEGAL", "name": "Lost in court", "company_id": cls.company.id,
            "account_id": cls.legal_account.id,
        })

    def _bulk(self, text, reason=None, user=None):
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(user or self.manager).create({
            "file": self._file(text), "filename": "accounts.csv", "reason_id": (reason or self.reason).id})
        wizard.action_preview()
        return wizard

    # ------------------------------------------------------------------
    # Single write-off
    # ------------------------------------------------------------------
    def test_reason_is_required(self):
        invoice = self._overdue_invoice(120.0, days_overdue=200)
        with self.assertRaisesRegex(UserError, "Give the reason of the write-off of"):
            invoice.with_user(self.manager).action_write_off()
        self.assertFalse(invoice.recon_write_off_ids)
        self.assertRecordValues(invoice, [{"amount_residual": 120.0, "payment_state": "not_paid"}])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)

    def test_new_records_need_a_reason_old_ones_keep_none(self):
        """The database column allows no reason (write-offs and batches made
        before reasons existed keep none); every new one needs one."""
        invoice = self._overdue_invoice(60.0, days_overdue=200)
        for model, vals in (("recon.write.off", {"invoice_id": invoice.id, "account_id": self.bad_debt.id,
                                                 "currency_id": invoice.currency_id.id}),
                            ("recon.write.off.batch", {"filename": "accounts.csv"})):
            Model = self.env[model].with_user(self.manager)
            with self.assertRaisesRegex(UserError, "needs a reason"):
                Model._create_locked([vals]) if hasattr(Model, "_create_locked") else Model.create([vals])
        self.assertFalse(self.env["recon.write.off"]._fields["reason_id"].required)
        self.assertFalse(invoice.recon_write_off_ids)

    def test_reason_account_replaces_the_bad_debt_account(self):
        invoice = self._overdue_invoice(90.0, days_overdue=200)
        invoice.with_user(self.manager).action_write_off(reason=self.legal)
        write_off = invoice.recon_write_off_ids
        self.assertRecordValues(write_off, [{"state": "posted", "reason_id": self.legal.id,
                                             "account_id": self.legal_account.id}])
        self.assertRecordValues(write_off.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -90.0, "reconciled": True},
            {"account_id": self.legal_account.id, "balance": 90.0, "reconciled": False},
        ])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.legal_account), 90.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)

    def test_explicit_account_wins_over_the_reason_account(self):
        fund_account = self.company_data["default_account_expense"]
        invoice = self._overdue_invoice(40.0, days_overdue=200)
        invoice.with_user(self.manager).action_write_off(account=fund_account, reason=self.legal.id)
        self.assertEqual(invoice.recon_write_off_ids.account_id, fund_account)
        self.assertAlmostEqual(self._account_balance(fund_account), 40.0)
        self.assertAlmostEqual(self._account_balance(self.legal_account), 0.0)

    def test_reason_given_by_code(self):
        invoice = self._overdue_invoice(40.0, days_overdue=200)
        invoice.with_user(self.manager).action_write_off(reason="insolv")
        self.assertEqual(invoice.recon_write_off_ids.reason_id, self.insolvent)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 40.0)
        other = self._overdue_invoice(30.0, days_overdue=200)
        with self.assertRaisesRegex(UserError, "NOPE"):
            other.with_user(self.manager).action_write_off(reason="NOPE")
        self.assertEqual(other.amount_residual, 30.0)

    def test_label_and_reference_name_the_reason(self):
        invoice = self._overdue_invoice(60.0, days_overdue=200)
        invoice.with_user(self.manager).action_write_off(reason=self.insolvent)
        move = invoice.recon_write_off_ids.move_id
        expected = f"Write-off of {invoice.name} (Customer insolvent)"
        self.assertEqual(move.ref, expected)
        self.assertEqual(set(move.line_ids.mapped("name")), {expected})

    def test_wizard_of_the_invoice_asks_for_the_reason(self):
        invoice = self._overdue_invoice(75.0, days_overdue=200)
        action = self.env.ref("recon_addon.recon_write_off_wizard_action")
        wizard = self.env[action.res_model].with_user(self.manager).with_context(
            active_model="account.move", active_ids=invoice.ids).create({"reason_id": self.legal.id})
        self.assertEqual(wizard.invoice_ids, invoice)
        self.assertEqual(wizard.action_confirm(), {"type": "ir.actions.act_window_close"})
        self.assertRecordValues(invoice.recon_write_off_ids, [{"state": "posted", "reason_id": self.legal.id}])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.legal_account), 75.0)

    # ------------------------------------------------------------------
    # Bulk
    # ------------------------------------------------------------------
    def test_row_reason_overrides_the_batch_reason(self):
        first = self._overdue_invoice(100.0, days_overdue=200)
        second = self._overdue_invoice(50.0, days_overdue=200)
        third = self._overdue_invoice(25.0, days_overdue=200)
        wizard = self._bulk(f"Account ID;Reason\n{first.name};INSOLV\n{second.name};\n{third.name};Lost in court\n")
        self.assertRecordValues(wizard.line_ids.sorted("account_ref"), [
            {"account_ref": first.name, "eligible": True, "write_off_reason_id": self.insolvent.id,
             "reason_code": "INSOLV"},
            {"account_ref": second.name, "eligible": True, "write_off_reason_id": self.reason.id,
             "reason_code": False},
            {"account_ref": third.name, "eligible": True, "write_off_reason_id": self.legal.id,
             "reason_code": "Lost in court"},
        ])
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertRecordValues(batch, [{"state": "done", "reason_id": self.reason.id, "count_written_off": 3}])
        by_invoice = {write_off.invoice_id: write_off for write_off in batch.write_off_ids}
        self.assertRecordValues(by_invoice[first] + by_invoice[second] + by_invoice[third], [
            {"state": "posted", "reason_id": self.insolvent.id, "account_id": self.bad_debt.id},
            {"state": "posted", "reason_id": self.reason.id, "account_id": self.bad_debt.id},
            {"state": "posted", "reason_id": self.legal.id, "account_id": self.legal_account.id},
        ])
        self.assertIn("(Customer insolvent)", by_invoice[first].move_id.ref)
        self.assertIn("(Uncollectible)", by_invoice[second].move_id.ref)
        self.assertEqual((first + second + third).mapped("amount_residual"), [0.0, 0.0, 0.0])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 150.0)
        self.assertAlmostEqual(self._account_balance(self.legal_account), 25.0)

    def test_unknown_reason_code_makes_the_row_ineligible(self):
        known = self._overdue_invoice(100.0, days_overdue=200)
        unknown = self._overdue_invoice(70.0, days_overdue=200)
        wizard = self._bulk(f"Account;Reason\n{known.name};UNCOLL\n{unknown.name};FRAUD9\n")
        row = wizard.line_ids.filtered(lambda line: line.invoice_id == unknown)
        self.assertRecordValues(row, [{"eligible": False, "reason": "unknown_reason", "reason_code": "FRAUD9"}])
        self.assertIn('"FRAUD9"', row.note)
        self.assertIn("FRAUD9", row._reason_label())
        self.assertEqual(wizard.count_eligible, 1)
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertRecordValues(batch, [{"count_written_off": 1, "count_failed": 1}])
        self.assertRecordValues(batch.failure_ids, [{"invoice_id": unknown.id, "stage": "preview"}])
        self.assertIn("FRAUD9", batch.failure_ids.reason)
        self.assertRecordValues(unknown, [{"amount_residual": 70.0, "payment_state": "not_paid"}])
        self.assertFalse(unknown.recon_write_off_ids)
        self.assertEqual(known.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 100.0)

    def test_reasons_group_write_offs_and_batches(self):
        invoice = self._overdue_invoice(30.0, days_overdue=200)
        invoice.with_user(self.manager).action_write_off(reason=self.insolvent)
        groups = self.env["recon.write.off"].read_group([("invoice_id", "=", invoice.id)], ["amount_company:sum"],
                                                        ["reason_id"])
        self.assertEqual([(g["reason_id"][0], g["amount_company"]) for g in groups], [(self.insolvent.id, 30.0)])
        data = self.env["recon.write.off"].search([("invoice_id", "=", invoice.id)]).export_data(
            ["reason_id/code"])["datas"]
        self.assertEqual(data, [["INSOLV"]])
