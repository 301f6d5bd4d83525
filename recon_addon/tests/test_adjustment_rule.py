from datetime import date, datetime
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.recon_addon.models.recon_adjustment import ReconAdjustment

from .common import ReconCommon


@tagged("post_install", "-at_install")
class AdjustmentCommon(ReconCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "UTC"
        cls.fee_income = cls.env["account.account"].create({
            "name": "Fees and Interest Income", "code": "709900", "account_type": "income",
            "company_ids": [Command.set(cls.company.ids)],
        })
        cls.carrying_fee = cls._service("Carrying fee")
        cls.principal = cls._service("Principal")
        cls.interest = cls._service("Interest")
        cls.status_active = cls.env.ref("recon_addon.recon_collection_status_active")
        cls.status_disputed = cls.env.ref("recon_addon.recon_collection_status_disputed")
        cls.status_closed = cls.env.ref("recon_addon.recon_collection_status_closed")
        cls.retail = cls.env["res.partner.category"].create({"name": "Retail"})
        cls.Rule = cls.env["recon.adjustment.rule"]
        cls.Run = cls.env["recon.adjustment.run"]

    @classmethod
    def _service(cls, name):
        return cls.env["product.product"].create({
            "name": name, "type": "service", "lst_price": 0.0, "taxes_id": [Command.clear()],
            "property_account_income_id": cls.fee_income.id,
        })

    @classmethod
    def _rule(cls, **vals):
        return cls.Rule.create({
            "name": "Add 10 on the first of each month",
            "state": "enabled",
            "frequency": "monthly",
            "month_day": 1,
            "apply_limit": "unlimited",
            "product_id": cls.carrying_fee.id,
            "adjustment_type": "flat",
            "value": 10.0,
            **vals,
        })

    @classmethod
    def _coded_invoice(cls, lines, partner=None, date="2024-01-15", payment_term=None, fiscal_position=None):
        """A posted invoice whose lines carry line item codes: ``[(product, amount)]``
        (product None: a line without code), due on ``date`` unless a payment
        term says otherwise."""
        vals = {
            "move_type": "out_invoice",
            "partner_id": (partner or cls.customer).id,
            "invoice_date": date,
            "invoice_line_ids": [Command.create({
                "product_id": product.id if product else False,
                "name": product.name if product else "Goods", "quantity": 1,
                "price_unit": amount, "tax_ids": [Command.clear()],
            }) for product, amount in lines],
        }
        if fiscal_position:
            vals["fiscal_position_id"] = fiscal_position.id
        if payment_term:
            vals["invoice_payment_term_id"] = payment_term.id
        else:
            vals["invoice_date_due"] = date
        invoice = cls.env["account.move"].create(vals)
        invoice.action_post()
        return invoice

    @classmethod
    def _account(cls, amount, partner=None, date="2024-01-15"):
        """A posted invoice of ``amount`` without line item code, due on ``date``."""
        return cls._coded_invoice([(None, amount)], partner=partner, date=date)

    def _cron(self, when):
        """Call the cron as the scheduler does: again while it reports work done."""
        calls = 0
        while self.Rule._cron_run_adjustments(now=when):
            calls += 1
            self.assertLess(calls, 100, "the cron must finish")
        return calls

    def _run(self, rule, day):
        run = self.Run._get_or_create(rule, fields.Date.to_date(day))
        run._run_continue()
        return run

    def _adjustments(self, rule):
        return self.env["recon.adjustment"].search([("rule_id", "=", rule.id)], order="id")

    def _adjusted_income(self, account):
        """The balance the adjustment entries posted on ``account``."""
        return sum(self.env["account.move.line"].search([
            ("account_id", "=", account.id), ("parent_state", "=", "posted"),
            ("move_id.recon_source_model", "=", "recon.adjustment"),
        ]).mapped("balance"))


@tagged("post_install", "-at_install")
class TestWorkedExamples(AdjustmentCommon):

    def test_monthly_fee_is_added_once_per_scheduled_date(self):
        rule = self._rule()
        invoices = self._account(100.0) + self._account(200.0, partner=self.customer_b)

        self._cron(datetime(2024, 3, 1, 0, 10))
        adjustments = self._adjustments(rule)
        self.assertRecordValues(adjustments, [
            {"invoice_id": invoices[0].id, "partner_id": self.customer.id, "amount": 10.0,
             "period_key": "2024-03", "date": date(2024, 3, 1), "product_id": self.carrying_fee.id},
            {"invoice_id": invoices[1].id, "partner_id": self.customer_b.id, "amount": 10.0,
             "period_key": "2024-03", "date": date(2024, 3, 1), "product_id": self.carrying_fee.id},
        ])
        self.assertRecordValues(adjustments[0].move_id.line_ids.sorted("balance"), [
            {"account_id": self.fee_income.id, "balance": -10.0, "product_id": self.carrying_fee.id,
             "partner_id": self.customer.id, "reconciled": False},
            {"account_id": self.receivable.id, "balance": 10.0, "product_id": self.carrying_fee.id,
             "partner_id": self.customer.id, "reconciled": False},
        ])
        self.assertEqual(self._receivable_line(adjustments[0].move_id).date_maturity, date(2024, 3, 1))
        self.assertRecordValues(adjustments.move_id, [
            {"state": "posted", "journal_id": self.recon_journal.id,
             "recon_source_model": "recon.adjustment", "recon_source_id": adjustment.id}
            for adjustment in adjustments
        ])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 110.0)
        self.assertAlmostEqual(self._account_balance(self.fee_income), -20.0)
        self.assertEqual(invoices.mapped("recon_account_balance"), [110.0, 210.0])

    def test_second_run_the_same_day_adds_nothing(self):
        rule = self._rule()
        self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        moves_before = self.env["account.move"].search_count([])
        self._cron(datetime(2024, 3, 1, 0, 40))
        self._run(rule, "2024-03-01")  # even a Run now that day
        self.assertEqual(len(self._adjustments(rule)), 1)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)

    def test_next_month_adds_the_fee_again_and_other_days_nothing(self):
        rule = self._rule()
        invoice = self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        self._cron(datetime(2024, 3, 2, 0, 10))
        self.assertEqual(len(self._adjustments(rule)), 1)
        self._cron(datetime(2024, 4, 1, 0, 10))
        self.assertEqual(self._adjustments(rule).mapped("period_key"), ["2024-03", "2024-04"])
        self.assertAlmostEqual(invoice.recon_account_balance, 120.0)

    def test_retail_accounts_sixty_days_delinquent_are_adjusted_once(self):
        rule = self._rule(
            name="Add 5 to each Retail account 60 days delinquent", value=5.0,
            apply_limit="once_per_account", min_days_overdue=60,
            domain=f"[('partner_id.category_id', 'in', [{self.retail.id}])]",
        )
        self.customer.category_id = self.retail
        retail_invoice = self._account(100.0, date="2024-01-15")  # due the same day
        self._account(100.0, partner=self.customer_b, date="2024-01-15")  # not Retail

        self._run(rule, "2024-03-14")  # 59 days
        self.assertFalse(self._adjustments(rule))
        self._run(rule, "2024-03-15")  # 60 days
        self._run(rule, "2024-03-16")
        self._run(rule, "2024-04-20")
        self.assertRecordValues(self._adjustments(rule), [
            {"invoice_id": retail_invoice.id, "amount": 5.0, "period_key": "once", "date": date(2024, 3, 15)},
        ])

    def test_ten_percent_of_the_balance_not_including_interest(self):
        rule = self._rule(name="10% of the balance not including Interest", adjustment_type="percent",
                          value=10.0, product_id=self.interest.id,
                          balance_product_ids=[Command.set(self.principal.ids)])
        invoice = self._coded_invoice([(self.principal, 900.0), (self.interest, 100.0)])
        self._run(rule, "2024-03-01")
        self.assertRecordValues(self._adjustments(rule), [{"invoice_id": invoice.id, "amount": 90.0}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 190.0})

    def test_decrease_larger_than_the_balance_stops_at_zero_and_closes_the_account(self):
        rule = self._rule(name="Settlement credit", value=-500.0, product_id=self.principal.id,
                          zero_balance_status_id=self.status_closed.id)
        invoice = self._coded_invoice([(self.principal, 300.0)])
        self._run(rule, "2024-03-01")
        adjustment = self._adjustments(rule)
        self.assertRecordValues(adjustment, [{"amount": -300.0}])
        self.assertRecordValues(adjustment.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -300.0, "reconciled": True},
            {"account_id": self.fee_income.id, "balance": 300.0, "reconciled": False},
        ])
        self.assertRecordValues(invoice, [{
            "amount_residual": 0.0, "payment_state": "paid",
            "collection_status_id": self.status_closed.id, "recon_account_balance": 0.0,
        }])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)

    def test_max_debtors_adjusts_the_debtors_with_the_oldest_due_dates(self):
        rule = self._rule(max_debtors=2)
        partners = self.env["res.partner"].create([{"name": f"Debtor {i}"} for i in range(5)])
        dates = ["2024-01-20", "2024-01-05", "2024-01-25", "2024-01-10", "2024-01-15"]
        invoices = self.env["account.move"]
        for partner, day in zip(partners, dates, strict=False):
            invoices |= self._account(100.0, partner=partner, date=day)
        run = self._run(rule, "2024-03-01")
        self.assertEqual(self._adjustments(rule).invoice_id, invoices[1] + invoices[3])
        self.assertRecordValues(run, [{
            "state": "done", "examined_count": 5, "qualifying_count": 5, "adjusted_count": 2,
            "debtor_count": 2, "skipped_limit_count": 3, "amount_total": 20.0,
        }])


@tagged("post_install", "-at_install")
class TestAdjustmentRules(AdjustmentCommon):

    def test_max_debtors_accepts_ten_billion_exactly(self):
        rule = self._rule(max_debtors=10_000_000_000)
        rule.invalidate_recordset()
        self.assertEqual(rule.max_debtors, 10_000_000_000)
        self.env.cr.execute("SELECT max_debtors FROM recon_adjustment_rule WHERE id = %s", [rule.id])
        self.assertEqual(int(self.env.cr.fetchone()[0]), 10_000_000_000)
        self._account(100.0)
        self._run(rule, "2024-03-01")
        self.assertEqual(len(self._adjustments(rule)), 1)

    def test_max_debtors_outside_one_to_ten_billion_is_refused(self):
        for value in (0, -3, 10_000_000_001):
            with self.subTest(value=value), self.assertRaisesRegex(ValidationError, "whole number"):
                self._rule(max_debtors=value)

    def test_invalid_schedule_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "no such day"):
            self._rule(frequency="yearly", month="2", month_day=30)

    def test_zero_value_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be zero"):
            self._rule(value=0.0)

    def test_negative_minimum_days_overdue_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self._rule(min_days_overdue=-1)

    def test_conditions_that_are_not_a_domain_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "not a valid domain"):
            self._rule(domain="[('no_such_field', '=', 1)]")

    def test_conditions_are_never_executed_as_code(self):
        with self.assertRaisesRegex(ValidationError, "not a valid domain"):
            self._rule(domain="__import__('os').getcwd()")

    def test_excluded_status_never_qualifies(self):
        rule = self._rule(excluded_status_ids=[Command.set(self.status_disputed.ids)])
        active = self._account(100.0)
        disputed = self._account(100.0)
        disputed.collection_status_id = self.status_disputed
        run = self._run(rule, "2024-03-01")
        self.assertEqual(self._adjustments(rule).invoice_id, active)
        self.assertRecordValues(run, [{"examined_count": 2, "skipped_status_count": 1,
                                       "qualifying_count": 1, "adjusted_count": 1}])

    def test_run_report_counts_each_reason(self):
        rule = self._rule(min_days_overdue=30, domain="[('amount_total', '>=', 50)]",
                          excluded_status_ids=[Command.set(self.status_disputed.ids)])
        self._account(100.0, date="2024-01-15").collection_status_id = self.status_disputed
        self._account(100.0, date="2024-02-20")          # 10 days overdue
        self._account(20.0, date="2024-01-15")           # amount below the condition
        self._account(100.0, date="2024-01-15")          # qualifies
        run = self._run(rule, "2024-03-01")
        self.assertRecordValues(run, [{
            "examined_count": 4, "skipped_status_count": 1, "skipped_overdue_count": 1,
            "skipped_conditions_count": 1, "skipped_already_count": 0, "qualifying_count": 1,
            "adjusted_count": 1, "skipped_limit_count": 0, "state": "done",
        }])

    def test_once_per_debtor_adjusts_the_debtors_oldest_account_only(self):
        rule = self._rule(apply_limit="once_per_debtor")
        self._account(100.0, date="2024-02-01")
        oldest = self._account(100.0, date="2024-01-10")
        other_debtor = self._account(100.0, partner=self.customer_b, date="2024-02-01")
        run = self._run(rule, "2024-03-01")
        self.assertEqual(self._adjustments(rule).invoice_id, oldest + other_debtor)
        self.assertEqual(run.skipped_limit_count, 1)
        self._run(rule, "2024-04-01")
        self.assertEqual(len(self._adjustments(rule)), 2, "never twice for a debtor")

    def test_once_per_debtor_is_guarded_by_a_unique_index(self):
        rule = self._rule(apply_limit="once_per_debtor")
        first = self._account(100.0)
        second = self._account(100.0)
        self.env["recon.adjustment"]._post_for_rule(rule, {first: 10.0}, date(2024, 3, 1))
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.adjustment"]._post_for_rule(rule, {second: 10.0}, date(2024, 3, 1))

    def test_posted_adjustment_cannot_be_deleted(self):
        rule = self._rule()
        self._account(100.0)
        self._run(rule, "2024-03-01")
        with self.assertRaisesRegex(UserError, "posted"):
            self._adjustments(rule).unlink()

    def test_unique_key_blocks_a_duplicate_adjustment(self):
        rule = self._rule()
        invoice = self._account(100.0)
        vals = {"rule_id": rule.id, "invoice_id": invoice.id, "partner_id": self.customer.id,
                "period_key": "2024-03-01", "apply_limit": "unlimited", "date": "2024-03-01",
                "product_id": self.carrying_fee.id, "currency_id": invoice.currency_id.id, "amount": 10.0}
        self.env["recon.adjustment"]._create_locked(vals)
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.adjustment"]._create_locked(vals)

    def test_a_second_worker_with_the_same_batch_posts_nothing(self):
        """Two workers that picked the same accounts: the second one's insert
        hits the unique key and its whole batch, entries included, is undone."""
        rule = self._rule()
        invoices = self._account(100.0) + self._account(100.0)
        amounts = {invoice: 10.0 for invoice in invoices}
        self.env["recon.adjustment"]._post_for_rule(rule, amounts, date(2024, 3, 1))
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.adjustment"]._post_for_rule(rule, amounts, date(2024, 3, 1))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(len(self._adjustments(rule)), 2)
        self.assertEqual(invoices.mapped("recon_account_balance"), [110.0, 110.0])

    def test_increase_adds_to_the_line_item_the_account_already_carries(self):
        rule = self._rule(product_id=self.interest.id)
        invoice = self._coded_invoice([(self.principal, 900.0), (self.interest, 100.0)])
        self._run(rule, "2024-03-01")
        self._run(rule, "2024-04-01")
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 120.0})
        self.assertIn("Interest", invoice.recon_balance_html)
        self.assertEqual(len(invoice.recon_adjustment_ids), 2)

    def test_new_line_item_is_added_to_the_account(self):
        rule = self._rule()
        invoice = self._coded_invoice([(self.principal, 900.0)])
        self._run(rule, "2024-03-01")
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.carrying_fee.id: 10.0})

    def test_partly_paid_invoice_balance_is_pro_rated(self):
        rule = self._rule(adjustment_type="percent", value=10.0, product_id=self.interest.id,
                          balance_product_ids=[Command.set(self.principal.ids)])
        invoice = self._coded_invoice([(self.principal, 900.0), (self.interest, 100.0)])
        self._pay(invoice, 500.0, "2024-02-01")
        self._run(rule, "2024-03-01")
        self.assertRecordValues(self._adjustments(rule), [{"amount": 45.0}])

    def test_decrease_reduces_the_same_line_item_first(self):
        fee = self._rule()
        waiver = self._rule(name="Waive fees", value=-4.0, frequency="weekly", weekday="4")
        invoice = self._account(100.0)
        self._run(fee, "2024-03-01")
        self._run(waiver, "2024-03-01")
        fee_item = self._receivable_line(self._adjustments(fee).move_id)
        self.assertRecordValues(fee_item, [{"amount_residual": 6.0, "reconciled": False}])
        self.assertRecordValues(invoice, [{"amount_residual": 100.0, "recon_account_balance": 106.0}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {None: 100.0, self.carrying_fee.id: 6.0})

    def test_recalculated_payment_plan_spreads_the_increase_over_open_installments(self):
        rule = self._rule(value=20.0, recalculate_payment_plan=True)
        invoice = self._coded_invoice([(self.principal, 1000.0)], date="2024-01-15",
                                      payment_term=self.pay_terms_b)
        installments = self._receivable_line(invoice).sorted("date_maturity")
        self._run(rule, "2024-03-01")
        items = self._receivable_line(self._adjustments(rule).move_id).sorted("date_maturity")
        self.assertRecordValues(items, [
            {"date_maturity": installments[0].date_maturity, "balance": 6.0},
            {"date_maturity": installments[1].date_maturity, "balance": 14.0},
        ])

    def test_without_recalculation_the_increase_is_due_on_the_adjustment_date(self):
        rule = self._rule(value=20.0)
        self._coded_invoice([(self.principal, 1000.0)], payment_term=self.pay_terms_b)
        self._run(rule, "2024-03-01")
        self.assertRecordValues(self._receivable_line(self._adjustments(rule).move_id), [
            {"date_maturity": date(2024, 3, 1), "balance": 20.0},
        ])

    def test_chatter_notes_on_account_and_debtor_name_the_rule_and_amount(self):
        rule = self._rule(name="Monthly carrying fee")
        invoice = self._account(100.0)
        self._run(rule, "2024-03-01")
        for record in (invoice, self.customer):
            note = record.message_ids[:1]
            self.assertIn("Monthly carrying fee", note.body)
            self.assertIn("10.00", note.body)

    def test_posting_failure_is_reported_on_the_run_and_nothing_is_recorded(self):
        rule = self._rule()
        self._account(100.0)
        self.company.fiscalyear_lock_date = "2024-03-31"
        run = self._run(rule, "2024-03-01")
        self.assertFalse(self._adjustments(rule))
        self.assertRecordValues(run, [{"state": "done", "failed_count": 1, "adjusted_count": 0}])
        self.assertIn("locked", run.failure_log)

    def test_percent_of_codes_the_account_does_not_carry_is_skipped(self):
        rule = self._rule(adjustment_type="percent", value=10.0,
                          balance_product_ids=[Command.set(self.interest.ids)])
        self._coded_invoice([(self.principal, 100.0)])
        run = self._run(rule, "2024-03-01")
        self.assertFalse(self._adjustments(rule))
        self.assertRecordValues(run, [{"skipped_zero_count": 1, "skipped_limit_count": 0}])

    def test_run_now_on_a_disabled_rule_is_refused(self):
        rule = self._rule(state="disabled")
        with self.assertRaisesRegex(UserError, "disabled"):
            rule.action_run_now()

    def test_run_now_adjusts_today_and_opens_the_run(self):
        rule = self._rule()
        invoice = self._account(100.0)
        action = rule.action_run_now()
        run = self.Run.browse(action["res_id"])
        self.assertRecordValues(run, [{"trigger": "manual", "state": "done", "adjusted_count": 1,
                                       "date": rule._local_today()}])
        self.assertEqual(run.adjustment_ids.invoice_id, invoice)

    def test_run_now_leaves_large_runs_to_the_scheduler(self):
        rule = self._rule()
        for __ in range(3):
            self._account(100.0)
        with patch("odoo.addons.recon_addon.models.recon_adjustment_rule.RUN_NOW_LIMIT", 2), \
                patch.object(type(self.env["ir.cron"]), "_trigger") as trigger:
            run = self.Run.browse(rule.action_run_now()["res_id"])
        self.assertRecordValues(run, [{"state": "running", "adjusted_count": 2}])
        trigger.assert_called_once()
        self._cron(datetime(2024, 3, 1, 0, 10))  # not due that day: only finishes the open run
        self.assertRecordValues(run, [{"state": "done", "adjusted_count": 3}])

    def test_preview_posts_nothing_and_explains_exclusions(self):
        rule = self._rule(excluded_status_ids=[Command.set(self.status_disputed.ids)], max_debtors=1)
        first = self._account(100.0, date="2024-01-10")
        second = self._account(50.0, partner=self.customer_b, date="2024-01-20")
        disputed = self._account(70.0, date="2024-01-15")
        disputed.collection_status_id = self.status_disputed
        moves_before = self.env["account.move"].search_count([])
        wizard = self.env["recon.adjustment.preview"].browse(rule.action_preview()["res_id"])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertFalse(self._adjustments(rule))
        self.assertRecordValues(wizard, [{"examined_count": 3, "skipped_status_count": 1,
                                          "qualifying_count": 2, "adjust_count": 1}])
        lines = {line.invoice_id: line for line in wizard.line_ids}
        self.assertRecordValues(lines[first], [{"will_adjust": True, "amount": 10.0, "reason": False}])
        self.assertIn("Debtor limit", lines[second].reason)
        self.assertEqual(lines[disputed].reason, "Excluded account status")


@tagged("post_install", "-at_install")
class TestOncePerPeriod(AdjustmentCommon):
    """An unlimited rule applies at most once per account per period of its
    schedule (ISO week, month, year), by the scheduler or by Run now,
    whatever its day is changed to."""

    def _run_now(self, rule, when):
        with freeze_time(when):
            return self.Run.browse(rule.action_run_now()["res_id"])

    def test_run_now_mid_month_does_not_charge_the_monthly_fee_again(self):
        rule = self._rule()
        invoice = self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        run = self._run_now(rule, "2024-03-15 10:00:00")
        self.assertRecordValues(run, [{"date": date(2024, 3, 15), "trigger": "manual", "state": "done",
                                       "skipped_already_count": 1, "qualifying_count": 0,
                                       "adjusted_count": 0}])
        self.assertRecordValues(self._adjustments(rule), [
            {"invoice_id": invoice.id, "date": date(2024, 3, 1), "period_key": "2024-03", "amount": 10.0}])
        self.assertAlmostEqual(self._account_balance(self.fee_income), -10.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 110.0)
        self.assertRecordValues(invoice, [{"amount_residual": 100.0, "recon_account_balance": 110.0}])

        # Run now in April charges April's fee, and the scheduler on 1 May charges May's
        self._run_now(rule, "2024-04-15 10:00:00")
        self._cron(datetime(2024, 5, 1, 0, 10))
        self.assertEqual(self._adjustments(rule).mapped("period_key"), ["2024-03", "2024-04", "2024-05"])
        self.assertAlmostEqual(self._account_balance(self.fee_income), -30.0)
        invoice.invalidate_recordset()
        self.assertAlmostEqual(invoice.recon_account_balance, 130.0)

    def test_run_now_before_the_scheduled_day_takes_the_months_charge(self):
        rule = self._rule(month_day=20)
        invoice = self._account(100.0)
        self._run_now(rule, "2024-03-05 10:00:00")
        self._cron(datetime(2024, 3, 20, 0, 10))
        self.assertRecordValues(self._adjustments(rule), [{"date": date(2024, 3, 5), "period_key": "2024-03"}])
        self.assertRecordValues(rule.run_ids.sorted("date"), [
            {"date": date(2024, 3, 5), "trigger": "manual", "adjusted_count": 1, "skipped_already_count": 0},
            {"date": date(2024, 3, 20), "trigger": "cron", "adjusted_count": 0, "skipped_already_count": 1},
        ])
        self.assertAlmostEqual(invoice.recon_account_balance, 110.0)

    def test_moving_the_rule_day_mid_month_does_not_charge_again(self):
        rule = self._rule()
        invoice = self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        rule.month_day = 20
        self._cron(datetime(2024, 3, 20, 0, 10))
        self.assertRecordValues(rule.run_ids.sorted("date"), [
            {"date": date(2024, 3, 1), "adjusted_count": 1, "skipped_already_count": 0},
            {"date": date(2024, 3, 20), "adjusted_count": 0, "skipped_already_count": 1},
        ])
        self.assertEqual(len(self._adjustments(rule)), 1)
        self.assertAlmostEqual(self._account_balance(self.fee_income), -10.0)
        self._cron(datetime(2024, 4, 20, 0, 10))
        self.assertRecordValues(self._adjustments(rule), [
            {"date": date(2024, 3, 1), "period_key": "2024-03"},
            {"date": date(2024, 4, 20), "period_key": "2024-04"},
        ])
        self.assertAlmostEqual(self._account_balance(self.fee_income), -20.0)
        self.assertAlmostEqual(invoice.recon_account_balance, 120.0)

    def test_weekly_rule_applies_once_per_iso_week(self):
        rule = self._rule(frequency="weekly", weekday="0")  # Mondays
        invoice = self._account(100.0)
        self._cron(datetime(2024, 12, 23, 0, 10))            # Monday of 2024-W52
        self._run_now(rule, "2024-12-27 10:00:00")           # Friday, same week
        rule.weekday = "6"
        self._cron(datetime(2024, 12, 29, 0, 10))            # Sunday, same week
        self._run_now(rule, "2024-12-31 10:00:00")           # Tuesday of 2025-W01
        self._cron(datetime(2025, 1, 5, 0, 10))              # Sunday of 2025-W01
        self.assertRecordValues(self._adjustments(rule), [
            {"date": date(2024, 12, 23), "period_key": "2024-W52"},
            {"date": date(2024, 12, 31), "period_key": "2025-W01"},
        ])
        self.assertAlmostEqual(invoice.recon_account_balance, 120.0)
        self.assertAlmostEqual(self._account_balance(self.fee_income), -20.0)

    def test_yearly_rule_applies_once_per_calendar_year(self):
        rule = self._rule(frequency="yearly", month="3", month_day=1)
        invoice = self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        rule.month = "9"
        self._run_now(rule, "2024-06-10 10:00:00")
        self._cron(datetime(2024, 9, 1, 0, 10))
        self._cron(datetime(2025, 9, 1, 0, 10))
        self.assertEqual(self._adjustments(rule).mapped("period_key"), ["2024", "2025"])
        self.assertAlmostEqual(invoice.recon_account_balance, 120.0)

    def test_database_refuses_a_second_adjustment_in_the_same_period(self):
        """Not only the run's search: PostgreSQL itself refuses the row."""
        for frequency, extra, first, second in [
            ("monthly", {}, date(2024, 3, 1), date(2024, 3, 31)),
            ("weekly", {"weekday": "0"}, date(2024, 12, 30), date(2025, 1, 5)),
            ("yearly", {"month": "3"}, date(2024, 3, 1), date(2024, 12, 31)),
        ]:
            with self.subTest(frequency=frequency):
                rule = self._rule(frequency=frequency, **extra)
                invoice = self._account(100.0)
                self.env["recon.adjustment"]._post_for_rule(rule, {invoice: 10.0}, first)
                moves_before = self.env["account.move"].search_count([])
                with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), \
                        self.env.cr.savepoint():
                    self.env["recon.adjustment"]._post_for_rule(rule, {invoice: 10.0}, second)
                self.assertEqual(self.env["account.move"].search_count([]), moves_before)
                self.assertEqual(len(self._adjustments(rule)), 1)
                self.assertAlmostEqual(invoice.recon_account_balance, 110.0)

    def test_once_limits_stay_once_ever(self):
        per_account = self._rule(apply_limit="once_per_account")
        per_debtor = self._rule(apply_limit="once_per_debtor")
        self._account(100.0)
        for day in ("2024-03-01", "2024-04-01", "2025-03-01"):
            self._run(per_account, day)
            self._run(per_debtor, day)
        self.assertEqual((self._adjustments(per_account) + self._adjustments(per_debtor)).mapped("period_key"),
                         ["once", "once"])

    def test_upgrade_gives_existing_adjustments_the_period_of_their_schedule(self):
        """Adjustments made while the key was the date: the first of an
        account in a period takes the period's key, a second one charged in
        the same month keeps its date, and the month counts as adjusted."""
        kept_before = self.env["recon.adjustment"]._migrate_period_keys()  # other data of the database
        monthly = self._rule()
        weekly = self._rule(frequency="weekly", weekday="4")
        once = self._rule(apply_limit="once_per_account")
        invoice = self._account(100.0)
        other = self._account(100.0, partner=self.customer_b)

        def legacy(rule, amounts, day):
            """An adjustment as the addon made it before: keyed by its date."""
            self.env["recon.adjustment"]._post_for_rule(rule, amounts, day)
            self._adjustments(rule).filtered(lambda a: a.date == day)._write_locked(
                {"period_key": day.isoformat()})
            self.env.flush_all()

        legacy(monthly, {invoice: 10.0, other: 10.0}, date(2024, 3, 1))
        legacy(monthly, {invoice: 10.0}, date(2024, 3, 15))   # the double charge of the bug
        legacy(monthly, {invoice: 10.0}, date(2024, 4, 1))
        legacy(weekly, {invoice: 10.0}, date(2024, 3, 1))
        self.env["recon.adjustment"]._post_for_rule(once, {invoice: 10.0}, date(2024, 3, 1))

        self.assertEqual(self.env["recon.adjustment"]._migrate_period_keys(), kept_before + 1)

        self.assertRecordValues(self._adjustments(monthly), [
            {"invoice_id": invoice.id, "date": date(2024, 3, 1), "period_key": "2024-03"},
            {"invoice_id": other.id, "date": date(2024, 3, 1), "period_key": "2024-03"},
            {"invoice_id": invoice.id, "date": date(2024, 3, 15), "period_key": "2024-03-15"},
            {"invoice_id": invoice.id, "date": date(2024, 4, 1), "period_key": "2024-04"},
        ])
        self.assertEqual(self._adjustments(weekly).period_key, "2024-W09")
        self.assertEqual(self._adjustments(once).period_key, "once")
        self.assertEqual(self.env["recon.adjustment"]._migrate_period_keys(), kept_before + 1,
                         "a second upgrade changes nothing")
        self.assertEqual(self._adjustments(monthly).mapped("period_key"),
                         ["2024-03", "2024-03", "2024-03-15", "2024-04"])
        # a run later in March adds nothing; one later in April adjusts only
        # the account that had no April adjustment yet
        self._run(monthly, "2024-03-20")
        self._run(monthly, "2024-04-20")
        self.assertRecordValues(self._adjustments(monthly)[4:], [
            {"invoice_id": other.id, "date": date(2024, 4, 20), "period_key": "2024-04"}])
        self.assertEqual((invoice + other).mapped("recon_account_balance"), [150.0, 120.0])


@tagged("post_install", "-at_install")
class TestDebtorLimitAcrossBatches(AdjustmentCommon):
    """The maximum debtors per run counts debtors actually adjusted, oldest
    due first over the whole run, and once per debtor holds across batches."""

    def _scenario(self):
        """Ten accounts of eight debtors, due 1 to 10 January, walked in
        batches of three. The rule charges 10% of the Interest open on the
        account; D3 carries no interest (nothing to adjust) and D4's entry
        cannot be posted (its fiscal position maps the fee income to an
        account deprecated since)."""
        rule = self._rule(name="10% of the interest", adjustment_type="percent", value=10.0,
                          balance_product_ids=[Command.set(self.interest.ids)],
                          apply_limit="once_per_debtor", max_debtors=4)
        old_income = self.env["account.account"].create({
            "name": "Old fee income", "code": "709800", "account_type": "income",
            "company_ids": [Command.set(self.company.ids)],
        })
        mapped = self.env["account.fiscal.position"].create({
            "name": "Old fees", "company_id": self.company.id,
            "account_ids": [Command.create({"account_src_id": self.fee_income.id,
                                            "account_dest_id": old_income.id})],
        })
        debtors = self.env["res.partner"].create([{"name": f"D{i}"} for i in range(1, 9)])
        d = dict(zip(range(1, 9), debtors, strict=False))
        with_interest = [(self.principal, 100.0), (self.interest, 50.0)]
        plan = [  # (debtor, lines, fiscal position)
            (1, with_interest, None),                      # batch 1: adjusted
            (2, with_interest, None),                      # batch 1: adjusted
            (1, with_interest, None),                      # batch 1: D1's second account
            (1, with_interest, None),                      # left out by the search: D1 adjusted
            (3, [(self.principal, 100.0)], None),          # batch 2: nothing to adjust
            (4, with_interest, mapped),                    # batch 2: fails to post
            (5, with_interest, None),                      # batch 2: adjusted (the 3rd debtor)
            (6, with_interest, None),                      # batch 3: adjusted (the 4th debtor)
            (7, with_interest, None),                      # batch 3: limit reached
            (2, with_interest, None),                      # left out by the search: D2 adjusted
        ]
        invoices = self.env["account.move"]
        for day, (debtor, lines, position) in enumerate(plan, start=1):
            invoices |= self._coded_invoice(lines, partner=d[debtor], date=f"2024-01-{day:02d}",
                                            fiscal_position=position)
        old_income.deprecated = True
        return rule, invoices, d, old_income

    def _assert_ledger(self, rule, run, invoices, d, old_income):
        adjustments = self._adjustments(rule)
        self.assertRecordValues(adjustments.sorted(lambda a: a.invoice_id.invoice_date_due), [
            {"invoice_id": invoices[0].id, "partner_id": d[1].id, "amount": 5.0, "period_key": "once"},
            {"invoice_id": invoices[1].id, "partner_id": d[2].id, "amount": 5.0, "period_key": "once"},
            {"invoice_id": invoices[6].id, "partner_id": d[5].id, "amount": 5.0, "period_key": "once"},
            {"invoice_id": invoices[7].id, "partner_id": d[6].id, "amount": 5.0, "period_key": "once"},
        ])
        self.assertEqual(len(adjustments.move_id.filtered(lambda m: m.state == "posted")), 4)
        self.assertRecordValues(run, [{
            "state": "done", "examined_count": 10, "qualifying_count": 10, "adjusted_count": 4,
            "debtor_count": 4, "skipped_zero_count": 1, "failed_count": 1, "skipped_limit_count": 4,
            "amount_total": 20.0,
        }])
        self.assertIn(invoices[5].name, run.failure_log)
        self.assertIn(f"{invoices[4].name}: No balance on the line item codes of the percentage", run.skip_log)
        self.assertAlmostEqual(self._adjusted_income(self.fee_income), -20.0)
        self.assertAlmostEqual(self._adjusted_income(old_income), 0.0)
        self.assertEqual(invoices.mapped("recon_account_balance"),
                         [155.0, 155.0, 150.0, 150.0, 100.0, 150.0, 155.0, 155.0, 150.0, 150.0])
        # once per debtor, across batches and runs: D1 and D2 are never adjusted again
        self._run(rule, "2024-04-01")
        self.assertEqual(len(self._adjustments(rule).filtered(lambda a: a.partner_id in d[1] + d[2])), 2)
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env["recon.adjustment"]._post_for_rule(rule, {invoices[9]: 5.0}, date(2024, 5, 1))

    def test_scheduler_adjusts_the_oldest_debtors_that_get_an_adjustment(self):
        rule, invoices, d, old_income = self._scenario()
        calls = 0
        while self.Rule._cron_run_adjustments(batch_size=3, now=datetime(2024, 3, 1, 0, 10)):
            calls += 1
        self.assertEqual(calls, 3, "three batches of three accounts")
        self._assert_ledger(rule, rule.run_ids, invoices, d, old_income)

    def test_run_now_adjusts_the_oldest_debtors_that_get_an_adjustment(self):
        rule, invoices, d, old_income = self._scenario()
        with patch.object(self.env.registry["recon.adjustment.run"], "_run_chunk_size", 3), \
                freeze_time("2024-03-01 10:00:00"):
            run = self.Run.browse(rule.action_run_now()["res_id"])
        self.assertRecordValues(run, [{"trigger": "manual", "processed_count": 10}])
        self._assert_ledger(rule, run, invoices, d, old_income)

    def test_preview_agrees_with_the_run(self):
        rule, invoices, d, old_income = self._scenario()
        old_income.deprecated = False  # the preview cannot foresee a posting failure
        with freeze_time("2024-03-01 10:00:00"):
            wizard = self.env["recon.adjustment.preview"].browse(rule.action_preview()["res_id"])
        lines = {line.invoice_id: line for line in wizard.line_ids}
        self.assertEqual(wizard.line_ids.filtered("will_adjust").invoice_id,
                         invoices[0] + invoices[1] + invoices[5] + invoices[6])
        self.assertIn("No balance", lines[invoices[4]].reason)
        self.assertIn("Debtor limit", lines[invoices[7]].reason)
        with freeze_time("2024-03-01 10:00:00"):
            run = self.Run.browse(rule.action_run_now()["res_id"])
        self.assertEqual(run.adjustment_ids.invoice_id, wizard.line_ids.filtered("will_adjust").invoice_id)
        self.assertEqual(run.adjustment_ids.mapped("amount"), [5.0] * 4)


@tagged("post_install", "-at_install")
class TestDecreaseOnALineItemCode(AdjustmentCommon):
    """A decrease takes only its line item code's open balance off the
    account, and debits that code's income account with exactly that."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.late_fee_income = cls.env["account.account"].create({
            "name": "Late Fee Income", "code": "709700", "account_type": "income",
            "company_ids": [Command.set(cls.company.ids)],
        })
        cls.late_fee = cls.env["product.product"].create({
            "name": "Late fee", "type": "service", "lst_price": 0.0, "taxes_id": [Command.clear()],
            "property_account_income_id": cls.late_fee_income.id,
        })

    def test_waiving_more_late_fee_than_is_open_takes_only_the_late_fee(self):
        fee = self._rule(name="Late fee", value=5.0, product_id=self.late_fee.id)
        waiver = self._rule(name="Waive late fees", value=-10.0, product_id=self.late_fee.id,
                            frequency="weekly", weekday="4")
        invoice = self._coded_invoice([(self.principal, 100.0)])
        self._run(fee, "2024-03-01")
        run = self._run(waiver, "2024-03-08")
        waived = self._adjustments(waiver)
        self.assertRecordValues(waived, [{"invoice_id": invoice.id, "amount": -5.0, "amount_company": -5.0}])
        self.assertRecordValues(waived.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -5.0, "product_id": self.late_fee.id,
             "reconciled": True},
            {"account_id": self.late_fee_income.id, "balance": 5.0, "product_id": self.late_fee.id,
             "reconciled": False},
        ])
        fee_item = self._receivable_line(self._adjustments(fee).move_id)
        self.assertRecordValues(fee_item, [{"amount_residual": 0.0, "reconciled": True}])
        self.assertRecordValues(invoice, [{"amount_residual": 100.0, "payment_state": "not_paid",
                                           "recon_account_balance": 100.0}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice], {self.principal.id: 100.0})
        self.assertAlmostEqual(self._account_balance(self.late_fee_income), 0.0)  # charged 5, waived 5
        self.assertAlmostEqual(self._adjusted_income(self.fee_income), 0.0)  # the principal's income untouched
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 100.0)
        self.assertRecordValues(run, [{"adjusted_count": 1, "amount_total": -5.0}])

    def test_decrease_with_nothing_left_on_the_code_is_skipped_with_the_reason(self):
        waiver = self._rule(name="Waive late fees", value=-10.0, product_id=self.late_fee.id)
        invoice = self._coded_invoice([(self.principal, 100.0)])
        moves_before = self.env["account.move"].search_count([])
        wizard = self.env["recon.adjustment.preview"].browse(waiver.action_preview()["res_id"])
        self.assertRecordValues(wizard.line_ids, [{"invoice_id": invoice.id, "will_adjust": False,
                                                   "amount": 0.0,
                                                   "reason": "Nothing open on line item code Late fee"}])
        run = self._run(waiver, "2024-03-01")
        self.assertFalse(self._adjustments(waiver))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertRecordValues(run, [{"state": "done", "qualifying_count": 1, "adjusted_count": 0,
                                       "skipped_zero_count": 1, "skipped_limit_count": 0, "failed_count": 0}])
        self.assertEqual(run.skip_log, f"{invoice.name}: Nothing open on line item code Late fee")
        self.assertRecordValues(invoice, [{"amount_residual": 100.0, "recon_account_balance": 100.0}])
        self.assertAlmostEqual(self._account_balance(self.late_fee_income), 0.0)

    def test_skip_log_names_the_first_accounts_and_says_there_are_more(self):
        waiver = self._rule(name="Waive late fees", value=-10.0, product_id=self.late_fee.id)
        invoices = self.env["account.move"]
        for day in ("2024-01-10", "2024-01-11", "2024-01-12"):
            invoices |= self._coded_invoice([(self.principal, 100.0)], date=day)
        run = self.Run._get_or_create(waiver, date(2024, 3, 1))
        with patch("odoo.addons.recon_addon.models.recon_adjustment_run.SKIP_LOG_LIMIT", 2):
            run._run_continue(chunk_size=2)
        self.assertRecordValues(run, [{"state": "done", "skipped_zero_count": 3, "adjusted_count": 0}])
        self.assertEqual(run.skip_log.splitlines(), [
            f"{invoices[0].name}: Nothing open on line item code Late fee",
            f"{invoices[1].name}: Nothing open on line item code Late fee",
            "… more accounts skipped with nothing to adjust (see the count).",
        ])

    def test_decrease_of_a_code_on_the_invoice_leaves_the_other_codes(self):
        """Interest invoiced 100 and charged 10 by a rule; waiving 150 of
        interest takes the 10, then 100 off the invoice, as interest only:
        the principal stays 900, also after a later payment."""
        charge = self._rule(name="Interest", value=10.0, product_id=self.interest.id)
        waiver = self._rule(name="Waive interest", value=-150.0, product_id=self.interest.id,
                            frequency="weekly", weekday="4")
        invoice = self._coded_invoice([(self.principal, 900.0), (self.interest, 100.0)])
        self._run(charge, "2024-03-01")
        self._run(waiver, "2024-03-08")
        waived = self._adjustments(waiver)
        self.assertRecordValues(waived, [{"amount": -110.0}])
        self.assertRecordValues(waived.move_id.line_ids.sorted(lambda line: (line.balance, line.id)), [
            {"account_id": self.receivable.id, "balance": -100.0, "reconciled": True},
            {"account_id": self.receivable.id, "balance": -10.0, "reconciled": True},
            {"account_id": self.fee_income.id, "balance": 110.0, "reconciled": False},
        ])
        self.assertRecordValues(invoice, [{"amount_residual": 900.0, "recon_account_balance": 900.0}])
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 900.0, self.interest.id: 0.0})
        self.assertAlmostEqual(self._adjusted_income(self.fee_income), -10.0 + 110.0)
        self._pay(invoice, 450.0, "2024-03-10")
        self.assertEqual(invoice._recon_line_item_balances()[invoice],
                         {self.principal.id: 450.0, self.interest.id: 0.0})
        # a second waiver finds no interest left
        run = self._run(waiver, "2024-03-15")
        self.assertEqual(len(self._adjustments(waiver)), 1)
        self.assertRecordValues(run, [{"skipped_zero_count": 1, "adjusted_count": 0}])


@tagged("post_install", "-at_install")
class TestNightlyCron(AdjustmentCommon):

    def test_cron_starts_runs_at_midnight_in_the_company_time_zone(self):
        self.company.partner_id.tz = "Pacific/Auckland"  # UTC+13 in March
        rule = self._rule()
        self._account(100.0)
        self.Rule._cron_run_adjustments(now=datetime(2024, 2, 29, 10, 30))  # 23:30 local
        self.assertFalse(rule.run_ids)
        self.Rule._cron_run_adjustments(now=datetime(2024, 2, 29, 11, 30))  # 00:30 local, 1 March
        self.assertRecordValues(rule.run_ids, [{"date": date(2024, 3, 1), "state": "done",
                                                "adjusted_count": 1}])

    def test_disabled_rules_are_not_run(self):
        rule = self._rule(state="disabled")
        self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        self.assertFalse(rule.run_ids)

    def test_disabling_a_rule_stops_its_run_in_progress(self):
        rule = self._rule()
        for __ in range(3):
            self._account(100.0)
        self.Rule._cron_run_adjustments(batch_size=2, now=datetime(2024, 3, 1, 0, 10))
        rule.action_disable()
        self._cron(datetime(2024, 3, 1, 0, 20))
        self.assertRecordValues(rule.run_ids, [{"state": "running", "adjusted_count": 2}])

    def test_cron_works_in_batches_and_reports_progress(self):
        rule = self._rule()
        for __ in range(5):
            self._account(100.0)
        progress = []
        with patch.object(type(self.env["ir.cron"]), "_notify_progress",
                          lambda self, done, remaining, deactivate=False: progress.append((done, remaining))):
            self.Rule._cron_run_adjustments(batch_size=2, now=datetime(2024, 3, 1, 0, 10))
            self.assertEqual(len(self._adjustments(rule)), 2)
            self.Rule._cron_run_adjustments(batch_size=2, now=datetime(2024, 3, 1, 0, 20))
            self.Rule._cron_run_adjustments(batch_size=2, now=datetime(2024, 3, 1, 0, 30))
        self.assertEqual(progress, [(2, 1), (2, 1), (1, 0)])
        self.assertEqual(len(self._adjustments(rule)), 5)
        self.assertEqual(rule.run_ids.state, "done")

    def test_kill_mid_batch_then_rerun_leaves_one_adjustment_per_account(self):
        rule = self._rule()
        invoices = self.env["account.move"]
        for __ in range(5):
            invoices |= self._account(100.0)
        when = datetime(2024, 3, 1, 0, 10)
        self.Rule._cron_run_adjustments(batch_size=2, now=when)  # first batch committed
        original = ReconAdjustment._post_for_rule

        def killed(adjustment_self, rule, amounts, day, run=None):
            original(adjustment_self, rule, amounts, day, run=run)
            raise KeyboardInterrupt("worker killed after posting, before commit")

        # the killed transaction is rolled back, as PostgreSQL does when the connection drops
        with patch.object(ReconAdjustment, "_post_for_rule", killed), \
                self.assertRaises(KeyboardInterrupt), self.env.cr.savepoint():
            self.Rule._cron_run_adjustments(batch_size=2, now=when)
        self.env.invalidate_all()
        self.assertEqual(len(self._adjustments(rule)), 2)
        self._cron(datetime(2024, 3, 1, 0, 40))
        self._cron(datetime(2024, 3, 1, 0, 50))
        adjustments = self._adjustments(rule)
        self.assertEqual(adjustments.invoice_id, invoices)
        self.assertEqual(len(adjustments.move_id), 5)
        self.assertEqual(invoices.mapped("recon_account_balance"), [110.0] * 5)

    def test_rerun_with_a_lost_position_adjusts_nobody_twice(self):
        rule = self._rule()
        for __ in range(3):
            self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        run = rule.run_ids
        run.write({"state": "running", "cursor_date": False, "cursor_id": 0})
        self._cron(datetime(2024, 3, 1, 0, 20))
        self.assertEqual(len(self._adjustments(rule)), 3)

    def test_run_locked_by_another_worker_is_left_alone(self):
        rule = self._rule()
        self._account(100.0)
        run = self.Run._get_or_create(rule, date(2024, 3, 1))
        with patch.object(type(run), "_recon_lock_rows", lambda self, nowait=False: self.browse()):
            self.assertEqual(self.Rule._cron_run_adjustments(now=datetime(2024, 3, 1, 0, 10)), 0)
        self.assertFalse(self._adjustments(rule))

    def test_second_run_for_the_same_rule_and_date_is_refused(self):
        rule = self._rule()
        self.Run.create({"rule_id": rule.id, "date": "2024-03-01"})
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.Run.create({"rule_id": rule.id, "date": "2024-03-01"})


@tagged("post_install", "-at_install")
class TestAdjustmentMultiCompany(AdjustmentCommon):

    def test_rule_never_adjusts_another_companys_accounts(self):
        other = self.setup_other_company()["company"]
        rule = self._rule()
        other_invoice = self.env["account.move"].with_company(other).create({
            "move_type": "out_invoice", "partner_id": self.customer.id, "invoice_date": "2024-01-15",
            "company_id": other.id,
            "invoice_line_ids": [Command.create({"name": "Goods", "price_unit": 100.0,
                                                 "tax_ids": [Command.clear()]})],
        })
        other_invoice.action_post()
        mine = self._account(100.0)
        self._run(rule, "2024-03-01")
        self.assertEqual(self._adjustments(rule).invoice_id, mine)

    def test_other_companys_rules_runs_and_adjustments_are_invisible(self):
        rule = self._rule()
        self._account(100.0)
        self._run(rule, "2024-03-01")
        other = self.setup_other_company()["company"]
        user = self.env["res.users"].create({
            "name": "Other company manager", "login": "other_recon_manager",
            "company_id": other.id, "company_ids": [Command.set(other.ids)],
            "groups_id": [Command.set([self.env.ref("recon_addon.recon_addon_group_manager").id])],
        })
        for model in ("recon.adjustment.rule", "recon.adjustment.run", "recon.adjustment"):
            records = self.env[model].with_user(user)
            self.assertFalse(records.search([]), model)
        with self.assertRaises(AccessError):
            rule.with_user(user).read(["name"])
