import psycopg2

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .deduction_common import DeductionCommon


@tagged("post_install", "-at_install")
class TestDeductionBreakout(DeductionCommon):

    def test_breakout_opens_one_receivable_item_per_deduction_and_pays_the_invoice(self):
        invoice = self._invoice(1000.0, date="2024-03-01")
        payment_short = 900.0  # the customer paid 900 and deducted 100
        self._pay(invoice, payment_short, "2024-03-10")
        self.assertEqual(invoice.amount_residual, 100.0)

        transaction = self._transaction([60.0, 55.0, -15.0], invoices=invoice)
        transaction.action_breakout()

        self.assertRecordValues(transaction, [{"state": "posted", "differential": 0.0, "open_amount": 100.0}])
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        move = transaction.move_id
        self.assertRecordValues(move, [{"state": "posted", "journal_id": self.recon_journal.id,
                                        "date": fields.Date.from_string("2024-03-10"),
                                        "recon_source_model": "recon.deduction.transaction",
                                        "recon_source_id": transaction.id}])
        self.assertRecordValues(move.line_ids.sorted("id"), [
            {"account_id": self.receivable.id, "balance": 60.0, "reconciled": False},
            {"account_id": self.receivable.id, "balance": 55.0, "reconciled": False},
            {"account_id": self.receivable.id, "balance": -15.0, "reconciled": False},
            {"account_id": self.receivable.id, "balance": -100.0, "reconciled": True},
        ])
        self.assertRecordValues(transaction.deduction_ids.sorted("id"), [
            {"amount": 60.0, "open_amount": 60.0, "state": "new"},
            {"amount": 55.0, "open_amount": 55.0, "state": "new"},
            {"amount": -15.0, "open_amount": -15.0, "state": "new"},
        ])
        # the customer still owes the 100 it deducted, now as three claims
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 100.0)

    def test_breakout_without_invoice_leaves_the_remittance_credit_open(self):
        transaction = self._transaction([40.0, 30.0], breakout=True)
        remittance = transaction.move_id.line_ids.sorted("id")[-1]
        self.assertRecordValues(remittance, [{"balance": -70.0, "reconciled": False, "amount_residual": -70.0}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)

    def test_breakout_spreads_the_credit_over_the_invoices_and_keeps_the_rest_open(self):
        first = self._invoice(30.0, date="2024-02-01")
        second = self._invoice(50.0, date="2024-02-15")
        transaction = self._transaction([100.0], invoices=first + second, breakout=True)
        self.assertEqual((first + second).mapped("payment_state"), ["paid", "paid"])
        unmatched = transaction.move_id.line_ids.filtered(lambda line: not line.reconciled and line.balance < 0)
        self.assertRecordValues(unmatched, [{"balance": -20.0}])

    def test_breakout_refuses_a_differential_and_posts_nothing(self):
        transaction = self._transaction([4000.0, 870.0], original=5000.0)
        self.assertEqual(transaction.differential, 130.0)
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, r"original amount .*5,000\.00.*4,870\.00.*differ by .*130\.00"):
            transaction.action_breakout()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(transaction.state, "draft")

    def test_breakout_refuses_a_transaction_without_deduction(self):
        transaction = self._transaction([], original=0.0)
        with self.assertRaisesRegex(UserError, "has no deduction"):
            transaction.action_breakout()

    def test_breakout_twice_is_refused(self):
        transaction = self._transaction([10.0], breakout=True)
        with self.assertRaisesRegex(UserError, "already broken out"):
            transaction.action_breakout()

    def test_broken_out_amounts_cannot_change(self):
        transaction = self._transaction([10.0], breakout=True)
        with self.assertRaisesRegex(UserError, "can no longer change"):
            transaction.original_amount = 20.0
        with self.assertRaisesRegex(UserError, "can no longer change"):
            transaction.deduction_ids.amount = 20.0
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            transaction.unlink()

    def test_no_deduction_is_added_to_a_broken_out_transaction(self):
        transaction = self._transaction([10.0], breakout=True)
        with self.assertRaisesRegex(UserError, "record new deductions on a new transaction"):
            self.env["recon.deduction"].create({"transaction_id": transaction.id, "amount": 5.0})

    @mute_logger("odoo.sql_db")
    def test_zero_deduction_is_refused(self):
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self._transaction([0.0])

    def test_display_name_follows_the_reason_and_the_transaction(self):
        transaction = self._transaction([40.0], ref="CHQ-2001")
        deduction = transaction.deduction_ids
        deduction.ref = False
        self.assertEqual(deduction.display_name, f"{transaction.name} / Promotion")
        deduction.reason = "Damaged goods"
        self.assertEqual(deduction.display_name, f"{transaction.name} / Damaged goods")
        deduction.ref = "CLM-9"
        self.assertEqual(deduction.display_name, f"{transaction.name} / CLM-9")

    def test_record_deductions_from_an_invoice(self):
        invoice = self._invoice(250.0)
        action = invoice.action_record_deductions()
        transaction = self.env["recon.deduction.transaction"].with_context(**action["context"]).create({})
        self.assertRecordValues(transaction, [{
            "partner_id": self.customer.id, "original_amount": 250.0,
            "invoice_ids": invoice.ids, "state": "draft",
        }])

    def test_record_deductions_refuses_a_paid_invoice(self):
        invoice = self._invoice(250.0)
        transaction = self._transaction([250.0], invoices=invoice, breakout=True)
        self.assertEqual(transaction.state, "posted")
        with self.assertRaisesRegex(UserError, "open balance"):
            invoice.action_record_deductions()


@tagged("post_install", "-at_install")
class TestDeductionResolution(DeductionCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transaction = cls._transaction([80.0, -25.0], breakout=True)
        cls.deduction = cls._by_amount(cls.transaction, 80.0)
        cls.repayment = cls._by_amount(cls.transaction, -25.0)

    def _resolve(self, deduction, *args, **kwargs):
        """``resolve()`` answers RPC with the ids of the lines it made."""
        kwargs.setdefault("reason_id", self.reason.id)
        return self.env["recon.deduction.line"].browse(deduction.resolve(*args, **kwargs))

    def test_partial_clearing_to_a_promotion_leaves_it_in_progress(self):
        line = self._resolve(self.deduction, "promotion", 30.0, promotion_id=self.promotion_march.id)
        self.assertRecordValues(line, [{"kind": "promotion", "amount": 30.0, "automated": False,
                                        "account_id": self.promo_account.id}])
        self.assertRecordValues(line.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -30.0, "reconciled": True},
            {"account_id": self.promo_account.id, "balance": 30.0, "reconciled": False},
        ])
        self.assertRecordValues(self.deduction, [{"open_amount": 50.0, "state": "in_progress"}])
        self.assertEqual(self.deduction.receivable_line_id.amount_residual, 50.0)
        self.assertEqual(self.promotion_march.spent, 30.0)

    def test_full_write_off_to_a_fund_type_resolves_it(self):
        self.deduction.resolve("write_off", 80.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        self.assertRecordValues(self.deduction, [{"open_amount": 0.0, "state": "resolved"}])
        self.assertTrue(self.deduction.receivable_line_id.reconciled)
        self.assertAlmostEqual(self._account_balance(self.write_off_account), 80.0)

    def test_repayment_mirrors_the_signs(self):
        line = self._resolve(self.repayment, "manual", 25.0, account_id=self.revenue.id)
        self.assertEqual(line.amount, -25.0)
        self.assertRecordValues(line.move_id.line_ids.sorted("balance"), [
            {"account_id": self.revenue.id, "balance": -25.0},
            {"account_id": self.receivable.id, "balance": 25.0},
        ])
        self.assertRecordValues(self.repayment, [{"open_amount": 0.0, "state": "resolved"}])

    def test_resolving_more_than_open_is_refused(self):
        with self.assertRaisesRegex(UserError, "at most its open amount"):
            self.deduction.resolve("promotion", 80.01, promotion_id=self.promotion_march.id, reason_id=self.reason.id)

    def test_resolution_needs_its_target(self):
        with self.assertRaisesRegex(UserError, "choose the promotion"):
            self.deduction.resolve("promotion", 10.0, reason_id=self.reason.id)
        with self.assertRaisesRegex(UserError, "choose the fund type"):
            self.deduction.resolve("write_off", 10.0, reason_id=self.reason.id)
        with self.assertRaisesRegex(UserError, "choose the account"):
            self.deduction.resolve("manual", 10.0, reason_id=self.reason.id)

    def test_resolution_of_a_deduction_not_broken_out_is_refused(self):
        draft = self._transaction([10.0])
        with self.assertRaisesRegex(UserError, "Break out its transaction first"):
            draft.deduction_ids.resolve("manual", 10.0, account_id=self.revenue.id, reason_id=self.reason.id)

    def test_wizard_resolves_the_open_amount_by_default(self):
        action = self.deduction.action_open_resolve_wizard()
        wizard = self.env[action["res_model"]].with_context(**action["context"]).create({
            "kind": "write_off", "fund_type_id": self.fund_type.id, "reason_id": self.reason.id,
        })
        self.assertEqual(wizard.amount, 80.0)
        wizard.action_confirm()
        self.assertEqual(self.deduction.state, "resolved")

    def test_resolution_line_with_an_entry_cannot_be_deleted(self):
        line = self._resolve(self.deduction, "promotion", 10.0, promotion_id=self.promotion_march.id)
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            line.unlink()

    def test_void_sends_the_amount_back_to_the_customer(self):
        self.deduction.action_void()
        self.assertRecordValues(self.deduction, [{"state": "void", "open_amount": 0.0}])
        self.assertTrue(self.deduction.receivable_line_id.reconciled)
        reopened = self.deduction.void_move_id.line_ids.filtered(lambda line: not line.reconciled)
        self.assertRecordValues(reopened, [{"account_id": self.receivable.id, "partner_id": self.customer.id,
                                            "amount_residual": 80.0}])
        # voiding moves the claim back to the customer without changing its balance
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)

    def test_void_refuses_a_deduction_with_resolution_lines(self):
        self.deduction.resolve("promotion", 10.0, promotion_id=self.promotion_march.id, reason_id=self.reason.id)
        with self.assertRaisesRegex(UserError, "has resolution lines"):
            self.deduction.action_void()

    def test_void_twice_is_refused(self):
        self.deduction.action_void()
        with self.assertRaisesRegex(UserError, "already void"):
            self.deduction.action_void()

    def test_void_of_a_draft_deduction_is_refused(self):
        draft = self._transaction([10.0])
        with self.assertRaisesRegex(UserError, "not broken out yet"):
            draft.deduction_ids.action_void()


@tagged("post_install", "-at_install")
class TestPromotionAndFundType(DeductionCommon):

    def test_promotion_period_is_one_month(self):
        with self.assertRaisesRegex(ValidationError, "within one month"):
            self.env["recon.promotion"].create({
                "name": "Spring", "date_from": "2024-03-01", "date_to": "2024-04-30",
                "account_id": self.promo_account.id,
            })

    @mute_logger("odoo.sql_db")
    def test_promotion_end_before_start_is_refused(self):
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self.env["recon.promotion"].create({
                "name": "Backwards", "date_from": "2024-03-10", "date_to": "2024-03-01",
                "account_id": self.promo_account.id,
            })

    def test_promotion_restricted_to_customers_covers_only_them(self):
        self.promotion_march.partner_ids = [Command.set(self.customer.ids)]
        day = fields.Date.from_string("2024-03-05")
        self.assertTrue(self.promotion_march._covers_month(day, self.customer))
        self.assertFalse(self.promotion_march._covers_month(day, self.customer_b))
        self.assertFalse(self.promotion_march._covers_month(fields.Date.from_string("2024-04-01"), self.customer))

    def test_promotion_covers_its_whole_month(self):
        self.promotion_march.date_to = "2024-03-15"
        self.assertTrue(self.promotion_march._covers_month(fields.Date.from_string("2024-03-31")))
        self.assertFalse(self.promotion_march._covers_month(fields.Date.from_string("2024-02-29")))

    def test_user_cannot_change_fund_types(self):
        user = self.env["res.users"].create({
            "name": "Deduction Analyst", "login": "analyst_ft",
            "groups_id": [Command.set([self.env.ref("recon_addon.recon_addon_group_user").id])],
            "company_id": self.company.id, "company_ids": [Command.set(self.company.ids)],
        })
        with self.assertRaises(AccessError):
            self.fund_type.with_user(user).name = "Changed"


@tagged("post_install", "-at_install")
class TestDeductionMultiCompany(DeductionCommon):

    def test_other_company_records_are_invisible(self):
        other = self.setup_other_company()["company"]
        transaction = self._transaction([10.0])
        user = self.env["res.users"].create({
            "name": "Other Analyst", "login": "analyst_other",
            "groups_id": [Command.set([self.env.ref("recon_addon.recon_addon_group_user").id])],
            "company_id": other.id, "company_ids": [Command.set(other.ids)],
        })
        Transaction = self.env["recon.deduction.transaction"].with_user(user)
        self.assertFalse(Transaction.search([("id", "=", transaction.id)]))
        self.assertFalse(
            self.env["recon.deduction"].with_user(user).search([("id", "in", transaction.deduction_ids.ids)]))
        self.assertFalse(self.env["recon.promotion"].with_user(user).search([("id", "=", self.promotion_march.id)]))
        self.assertFalse(self.env["recon.fund.type"].with_user(user).search([("id", "=", self.fund_type.id)]))
