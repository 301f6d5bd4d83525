from dateutil.relativedelta import relativedelta
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_write_off import WriteOffCommon


@tagged("post_install", "-at_install")
class TestSingleWriteOff(WriteOffCommon):
    """account.move.action_write_off and the recon.write.off record."""

    def test_write_off_posts_the_open_balance_to_bad_debt_reconciled(self):
        invoice = self._overdue_invoice(120.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)

        write_off = invoice.recon_write_off_ids
        self.assertRecordValues(write_off, [{
            "origin": "single", "batch_id": False, "state": "posted", "amount": 120.0,
            "amount_company": 120.0, "partner_id": self.customer.id, "account_id": self.bad_debt.id,
            "date": self.today, "company_id": self.company.id,
        }])
        move = write_off.move_id
        self.assertRecordValues(move, [{
            "state": "posted", "journal_id": self.recon_journal.id,
            "recon_source_model": "recon.write.off", "recon_source_id": write_off.id,
        }])
        self.assertRecordValues(move.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "partner_id": self.customer.id, "balance": -120.0, "reconciled": True},
            {"account_id": self.bad_debt.id, "partner_id": self.customer.id, "balance": 120.0, "reconciled": False},
        ])
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 120.0)

    def test_invoice_opens_its_write_offs(self):
        invoice = self._overdue_invoice(20.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        action = invoice.action_open_recon_write_offs()
        self.assertEqual(self.env["recon.write.off"].search(action["domain"]), invoice.recon_write_off_ids)

    def test_invoice_and_write_off_account_have_distinct_labels(self):
        """The form and list show the invoice written off beside the account
        debited: "Invoice" and "Write-off Account", never two "Account"s."""
        labels = self.env["recon.write.off"].fields_get(["invoice_id", "account_id"], ["string"])
        self.assertEqual(labels, {"invoice_id": {"string": "Invoice"},
                                  "account_id": {"string": "Write-off Account"}})

    def test_write_off_to_a_chosen_account(self):
        fund_account = self.company_data["default_account_expense"]
        invoice = self._overdue_invoice(80.0, days_overdue=120)
        invoice.action_write_off(account=fund_account, reason=self.reason)
        self.assertEqual(invoice.recon_write_off_ids.account_id, fund_account)
        self.assertAlmostEqual(self._account_balance(fund_account), 80.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)

    def test_partly_paid_invoice_writes_off_what_is_left(self):
        invoice = self._overdue_invoice(100.0, days_overdue=150)
        self._pay(invoice, 30.0)
        invoice.action_write_off(reason=self.reason)
        self.assertEqual(invoice.recon_write_off_ids.amount, 70.0)
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 70.0)

    def test_installments_are_all_settled_and_default_counts_from_the_oldest(self):
        invoice = self.init_invoice("out_invoice", partner=self.customer, amounts=[1000.0], taxes=[],
                                    invoice_date=self.today - relativedelta(days=95))
        invoice.invoice_payment_term_id = self.pay_terms_b
        invoice.action_post()
        receivables = self._receivable_line(invoice)
        self.assertEqual(len(receivables), 2)
        reason, days = invoice._recon_write_off_eligibility()[invoice.id]
        self.assertEqual((reason, days), (False, 5), "30% was due 95 days ago: in default 5 days")
        invoice.action_write_off(reason=self.reason)
        self.assertTrue(all(receivables.mapped("reconciled")))
        self.assertEqual(invoice.recon_write_off_ids.amount, 1000.0)

    def test_default_starts_exactly_at_days_to_default(self):
        on_the_day = self._overdue_invoice(10.0, days_overdue=90)
        day_before = self._overdue_invoice(10.0, days_overdue=89)
        eligibility = (on_the_day + day_before)._recon_write_off_eligibility()
        self.assertEqual(eligibility[on_the_day.id], (False, 0))
        self.assertEqual(eligibility[day_before.id], ("not_in_default", -1))

    def test_days_to_default_is_the_companys(self):
        self.company.recon_days_to_default = 30
        invoice = self._overdue_invoice(10.0, days_overdue=45)
        self.assertEqual(invoice._recon_write_off_eligibility()[invoice.id], (False, 15))

    def test_not_in_default_is_refused(self):
        invoice = self._overdue_invoice(50.0, days_overdue=10)
        with self.assertRaisesRegex(UserError, rf"{invoice.name} cannot be written off: Account is not in default"):
            invoice.action_write_off(reason=self.reason)
        self.assertEqual(invoice.amount_residual, 50.0)

    def test_repossessed_account_is_written_off_before_default(self):
        """Goods taken back: the account is written off 30 days past due,
        60 days before it would reach default."""
        repossessed = self._overdue_invoice(240.0, days_overdue=30)
        repossessed.collection_status_id = self.env.ref("recon_addon.recon_collection_status_repossessed")
        bad_debt_before = self._account_balance(self.bad_debt)
        receivable = self._receivable_line(repossessed)

        repossessed.action_write_off(reason=self.reason)

        self.assertRecordValues(repossessed.recon_write_off_ids, [{
            "origin": "single", "state": "posted", "amount": 240.0, "account_id": self.bad_debt.id}])
        self.assertRecordValues(repossessed.recon_write_off_ids.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -240.0, "reconciled": True},
            {"account_id": self.bad_debt.id, "balance": 240.0, "reconciled": False},
        ])
        self.assertRecordValues(repossessed, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertTrue(receivable.reconciled)
        self.assertAlmostEqual(self._account_balance(self.bad_debt) - bad_debt_before, 240.0)

    def test_same_days_without_repossession_is_refused_as_not_in_default(self):
        invoice = self._overdue_invoice(240.0, days_overdue=30)
        self.assertEqual(invoice.collection_status_id.code, "active")
        bad_debt_before = self._account_balance(self.bad_debt)
        with self.assertRaisesRegex(UserError, rf"{invoice.name} cannot be written off: Account is not in default"):
            invoice.action_write_off(reason=self.reason)
        self.assertEqual(invoice.amount_residual, 240.0)
        self.assertFalse(invoice.recon_write_off_ids)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), bad_debt_before)

    def test_any_status_marked_as_repossession_counts(self):
        seized = self.env["recon.collection.status"].create({
            "name": "Goods seized", "code": "seized", "is_repossession": True})
        legal = self.env.ref("recon_addon.recon_collection_status_legal")
        not_yet_due = self._overdue_invoice(10.0, days_overdue=5)
        in_legal = self._overdue_invoice(10.0, days_overdue=30)
        not_yet_due.collection_status_id = seized
        in_legal.collection_status_id = legal
        eligibility = (not_yet_due + in_legal)._recon_write_off_eligibility()
        self.assertEqual(eligibility[not_yet_due.id], (False, -85), "days are still told")
        self.assertEqual(eligibility[in_legal.id], ("not_in_default", -60))

    def test_repossession_does_not_reopen_a_settled_or_terminated_account(self):
        status = self.env.ref("recon_addon.recon_collection_status_repossessed")
        paid = self._overdue_invoice(50.0, days_overdue=10)
        self._pay(paid)
        written_off = self._overdue_invoice(50.0, days_overdue=10)
        written_off.collection_status_id = status
        written_off.action_write_off(reason=self.reason)
        paid.collection_status_id = status
        eligibility = (paid + written_off)._recon_write_off_eligibility()
        self.assertEqual(eligibility[paid.id][0], "settled")
        self.assertEqual(eligibility[written_off.id][0], "terminated")

    def test_status_list_and_form_show_the_repossession_flag(self):
        views = self.env["recon.collection.status"].get_views([(False, "list"), (False, "form")])["views"]
        for view_type in ("list", "form"):
            with self.subTest(view=view_type):
                self.assertIn('name="is_repossession"', views[view_type]["arch"])
        self.assertRecordValues(
            self.env["recon.collection.status"].search([("is_repossession", "=", True)]),
            [{"code": "repossessed", "name": "Repossessed"}])

    def test_already_written_off_is_refused_as_terminated(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        with self.assertRaisesRegex(UserError, "Account has already been terminated"):
            invoice.action_write_off(reason=self.reason)
        self.assertEqual(len(invoice.recon_write_off_ids), 1)

    def test_cancelled_invoice_is_terminated(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.button_draft()
        invoice.button_cancel()
        self.assertEqual(invoice._recon_write_off_eligibility()[invoice.id][0], "terminated")

    def test_paid_invoice_has_nothing_left_open(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        self._pay(invoice)
        with self.assertRaisesRegex(UserError, "Nothing left open"):
            invoice.action_write_off(reason=self.reason)

    def test_draft_invoice_is_refused(self):
        invoice = self._invoice(50.0, post=False)
        with self.assertRaisesRegex(UserError, "not a posted customer invoice"):
            invoice.action_write_off(reason=self.reason)

    def test_missing_bad_debt_account_is_named(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        self.company.recon_bad_debt_account_id = False
        with self.assertRaisesRegex(UserError, "has no Bad Debt account"):
            invoice.action_write_off(reason=self.reason)

    def test_locked_period_is_refused_and_nothing_posts(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        self.company.fiscalyear_lock_date = self.today
        with self.assertRaisesRegex(UserError, rf"{invoice.name}: cannot post on .*locked"):
            invoice.action_write_off(reason=self.reason)
        self.assertFalse(self.env["recon.write.off"].search([("invoice_id", "=", invoice.id)]))
        self.assertEqual(invoice.amount_residual, 50.0)

    def test_foreign_currency_invoice_is_written_off_in_its_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2020-01-01", 2.0)])
        invoice = self._overdue_invoice(200.0, days_overdue=100, currency=eur)
        invoice.action_write_off(reason=self.reason)
        self.assertRecordValues(invoice.recon_write_off_ids, [{
            "currency_id": eur.id, "amount": 200.0, "amount_company": 100.0}])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 100.0)

    def test_only_managers_write_off(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        with self.assertRaises(AccessError):
            invoice.with_user(self.clerk).action_write_off(reason=self.reason)
        invoice.with_user(self.manager).action_write_off(reason=self.reason)
        self.assertEqual(invoice.recon_write_off_ids.user_id, self.manager)

    def test_clerk_reads_write_offs_but_cannot_create_them(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        self.assertEqual(invoice.recon_write_off_ids.with_user(self.clerk).amount, 50.0)
        with self.assertRaises(AccessError):
            self.env["recon.write.off"].with_user(self.clerk).create({
                "invoice_id": invoice.id, "account_id": self.bad_debt.id, "currency_id": invoice.currency_id.id,
            })


@tagged("post_install", "-at_install")
class TestWriteOffRecord(WriteOffCommon):

    def test_second_open_write_off_of_an_invoice_is_refused_by_the_database(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env["recon.write.off"]._create_locked({
                    "invoice_id": invoice.id, "account_id": self.bad_debt.id,
                    "currency_id": invoice.currency_id.id, "reason_id": self.reason.id,
                })
                self.env.flush_all()

    def test_reversed_write_off_is_undone_and_the_invoice_can_be_written_off_again(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        first = invoice.recon_write_off_ids
        first.move_id._reverse_moves(cancel=True)
        self.assertEqual(first.state, "cancelled")
        self.assertEqual(invoice.amount_residual, 50.0)
        self.assertEqual(invoice._recon_write_off_eligibility()[invoice.id][0], False)
        invoice.action_write_off(reason=self.reason)
        self.assertEqual(invoice.recon_write_off_ids.mapped("state"), ["posted", "cancelled"])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 50.0)

    def test_posted_write_off_cannot_be_deleted(self):
        invoice = self._overdue_invoice(50.0, days_overdue=100)
        invoice.action_write_off(reason=self.reason)
        with self.assertRaisesRegex(UserError, "Reverse the entry instead"):
            invoice.recon_write_off_ids.unlink()

    def test_other_companys_write_offs_are_invisible(self):
        other = self.setup_other_company(name="Northern Branch")["company"]
        invoice = self.init_invoice("out_invoice", partner=self.customer, amounts=[70.0], taxes=[],
                                    invoice_date=self.today - relativedelta(days=200), company=other)
        invoice.invoice_payment_term_id = self.pay_terms_a
        invoice.action_post()
        invoice.with_company(other).action_write_off(reason=self.reason)
        write_off = self.env["recon.write.off"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(write_off.company_id, other)
        self.manager.company_ids = [Command.link(other.id)]
        as_manager = self.env["recon.write.off"].with_user(self.manager)
        self.assertFalse(as_manager.with_context(allowed_company_ids=[self.company.id]).search(
            [("id", "=", write_off.id)]))
        self.assertTrue(as_manager.with_context(allowed_company_ids=[other.id]).search(
            [("id", "=", write_off.id)]))
