from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import mute_logger

from odoo.addons.recon_addon.models.recon_ledger import ReconLedger

from .deduction_common import DeductionCommon


class ThresholdCommon(DeductionCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["recon.threshold.rule"].create({
            "name": "Below 100 to the monthly promotion",
            "threshold": 100.0,
            "clearing_method": "promotion",
            "promotion_ids": [Command.set(cls.promotion_march.ids)],
        })
        cls.rule.action_enable()
        cls.user = cls.env["res.users"].create({
            "name": "Deduction Analyst", "login": "analyst",
            "groups_id": [Command.set([cls.env.ref("recon_addon.recon_addon_group_user").id])],
            "company_id": cls.company.id, "company_ids": [Command.set(cls.company.ids)],
        })

    def _pay(self, invoice, amount, date="2024-03-20"):
        return super()._pay(invoice, amount, date)

    def _run(self, transactions):
        action = transactions.action_run_below_threshold()
        return self.env["recon.threshold.run"].browse(action.get("res_id")) or \
            self.env["recon.threshold.run"].search(action["domain"])


@tagged("post_install", "-at_install")
class TestThresholdRuleConfiguration(ThresholdCommon):

    def test_new_rule_is_saved_disabled_with_the_recommended_threshold(self):
        rule = self.env["recon.threshold.rule"].create({"name": "Draft rule", "clearing_method": "write_off",
                                                        "fund_type_id": self.fund_type.id})
        self.assertRecordValues(rule, [{"state": "disabled", "threshold": 100.0, "recommended_threshold": 100.0}])
        self.assertIn("Less than 3 months", rule.recommendation_note)

    @freeze_time("2024-06-15")
    def test_recommended_threshold_reads_the_last_three_months(self):
        self._transaction([5.0], date="2024-01-10")  # history older than 3 months
        self._transaction([10.0] * 30 + [500.0] * 10, date="2024-05-10")
        void = self._transaction([1.0] * 200, date="2024-05-11", breakout=True)
        void.deduction_ids.action_void()
        self.assertEqual(self.rule.recommended_threshold, 11.0)
        self.assertIn("Deductions under 11 hold 5.7% of the", self.rule.recommendation_note)
        self.assertIn("deductions since 03/15/2024: the share closest to 4%.",
                      self.rule.recommendation_note)  # the user's date format
        self.assertRecordValues(self.rule, [{"recommendation_off_target": False, "recommendation_warning": False,
                                             "lower_option_threshold": 0.0, "upper_option_threshold": 0.0}])
        self.rule.action_apply_recommended_threshold()
        self.assertEqual(self.rule.threshold, 11.0)

    @freeze_time("2024-06-15")
    def test_recommended_threshold_clears_the_share_closest_to_four_percent(self):
        """10, 20, 30, 40 and 900: under 21 clears 3% of the dollars, under 31
        (the first to reach 4%) 6%; 21 is recommended, and used it clears 3%
        of the ledger's deduction items."""
        self._transaction([5.0], date="2024-01-10", ref="OLD")  # history older than 3 months
        recent = self._transaction([10.0, 20.0, 30.0, 40.0, 900.0], date="2024-05-10", breakout=True)
        self.assertRecordValues(self.rule, [{"recommended_threshold": 21.0, "recommended_share": 0.03,
                                             "recommendation_off_target": False}])
        self.assertIn("Deductions under 21 hold 3.0% of the $\xa01,000.00 deducted in 5 deductions",
                      self.rule.recommendation_note)
        self.rule.action_apply_recommended_threshold()
        self.assertEqual(self.rule.threshold, 21.0)
        # the deduction items under the threshold hold 3% of the window's deducted dollars
        items = recent.deduction_ids.receivable_line_id
        below = items.filtered(lambda item: abs(item.balance) < self.rule.threshold)
        self.assertEqual(below.mapped("balance"), [10.0, 20.0])
        self.assertAlmostEqual(sum(below.mapped("balance")) / sum(items.mapped("balance")), 0.03)

    @freeze_time("2024-06-15")
    def test_no_threshold_near_four_percent_shows_both_neighbours_to_pick_from(self):
        """100 deductions of 5: under 5 clears nothing, under 6 clears all."""
        self._transaction([5.0], date="2024-01-10", ref="OLD")
        self._transaction([5.0] * 100, date="2024-05-10")
        self.assertRecordValues(self.rule, [{
            "recommended_threshold": 5.0, "recommended_share": 0.0, "recommendation_off_target": True,
            "lower_option_threshold": 5.0, "lower_option_share": 0.0,
            "upper_option_threshold": 6.0, "upper_option_share": 1.0,
        }])
        self.assertIn("Deductions under 5 hold 0.0% of the $\xa0500.00 deducted in 100 deductions",
                      self.rule.recommendation_note)
        self.assertEqual(self.rule.recommendation_warning,
                         "No whole threshold clears about 4% (2% to 6%) of the deduction dollars. "
                         "The thresholds on either side of 4%:")
        self.assertEqual(self.rule.upper_option_label, "Under $\xa06.00: clears 100.0% of the dollars")
        self.rule.action_apply_upper_option()
        self.assertEqual(self.rule.threshold, 6.0)
        self.rule.action_apply_lower_option()
        self.assertEqual(self.rule.threshold, 5.0)
        self.rule.action_apply_recommended_threshold()
        self.assertEqual(self.rule.threshold, 5.0)

    def test_no_neighbour_to_use_names_the_rule(self):
        with self.assertRaisesRegex(UserError, "Rule Below 100 to the monthly promotion: the recommendation "
                                               "has no such alternative"):
            self.rule.action_apply_upper_option()

    def test_enable_needs_a_promotion_or_a_fund_type(self):
        rule = self.env["recon.threshold.rule"].create({"name": "Empty", "clearing_method": "promotion"})
        with self.assertRaisesRegex(UserError, "add at least one active Below Threshold promotion"):
            rule.action_enable()
        rule.clearing_method = "write_off"
        with self.assertRaisesRegex(UserError, "choose a fund type"):
            rule.action_enable()

    def test_only_one_enabled_rule_per_company(self):
        second = self.env["recon.threshold.rule"].create({
            "name": "Write off below 5", "threshold": 5.0, "clearing_method": "write_off",
            "fund_type_id": self.fund_type.id,
        })
        with self.assertRaisesRegex(ValidationError, "already has an enabled below-threshold rule"):
            second.action_enable()
        self.rule.action_disable()
        second.action_enable()
        self.assertRecordValues(self.rule + second, [{"state": "disabled"}, {"state": "enabled"}])

    @mute_logger("odoo.sql_db")
    def test_one_enabled_rule_per_company_is_enforced_by_the_database(self):
        second = self.env["recon.threshold.rule"].create({
            "name": "Write off below 5", "threshold": 5.0, "clearing_method": "write_off",
            "fund_type_id": self.fund_type.id,
        })
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self.env.cr.execute("UPDATE recon_threshold_rule SET state = 'enabled' WHERE id = %s", [second.id])

    def test_two_promotions_for_one_month_name_the_month(self):
        other = self.promotion_march.copy({"name": "Below Threshold - March bis"})
        with self.assertRaisesRegex(ValidationError, "March 2024 has two Below Threshold promotions"):
            self.rule.promotion_ids = [Command.link(other.id)]

    def test_promotion_not_below_threshold_is_refused(self):
        other = self.promotion_march.copy({"name": "Spring display", "below_threshold": False,
                                           "date_from": "2024-04-01", "date_to": "2024-04-30"})
        with self.assertRaisesRegex(ValidationError, "is not a Below Threshold promotion"):
            self.rule.promotion_ids = [Command.link(other.id)]

    @mute_logger("odoo.sql_db")
    def test_threshold_must_be_positive(self):
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self.rule.threshold = 0.0
            self.rule.flush_recordset()

    def test_users_cannot_build_or_change_rules(self):
        with self.assertRaises(AccessError):
            self.rule.with_user(self.user).threshold = 500.0
        with self.assertRaises(AccessError):
            self.env["recon.threshold.rule"].with_user(self.user).create({"name": "Mine", "threshold": 10.0})
        with self.assertRaises(AccessError):
            self.rule.with_user(self.user).action_disable()

    def test_users_can_run_the_rule(self):
        transaction = self._transaction([40.0])
        self._run(transaction.with_user(self.user))
        self.assertEqual(transaction.deduction_ids.state, "resolved")

    def test_run_without_an_enabled_rule_names_the_fix(self):
        self.rule.action_disable()
        with self.assertRaisesRegex(UserError, "has no enabled below-threshold rule.*Deduction Automations"):
            self._transaction([40.0]).action_run_below_threshold()

    def test_cron_is_off_by_default(self):
        self.assertFalse(self.env.ref("recon_addon.ir_cron_recon_below_threshold").active)


@tagged("post_install", "-at_install")
class TestThresholdRunTransactions(ThresholdCommon):

    def test_worked_example(self):
        """Threshold 100: the issue's example, against the ledger."""
        transaction = self._transaction([40.0, 30.0, 10.0, 100.90, 100.0, -50.0, -1000.0, 20.0])
        transaction.action_breakout()
        manual = self._by_amount(transaction, 20.0)
        manual.resolve("write_off", 5.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        refused = self._transaction([4000.0, 870.0], original=5000.0)
        moves_before = self.env["account.move"].search_count([])

        with self.assertRaisesRegex(UserError, r"5,000\.00.*4,870\.00.*130\.00"):
            refused.action_run_below_threshold()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "nothing of it is posted")
        self.assertEqual(refused.state, "draft")

        run = self._run(transaction)

        cleared = self._by_amount(transaction, 40.0) + self._by_amount(transaction, 30.0) \
            + self._by_amount(transaction, 10.0) + self._by_amount(transaction, -50.0)
        self.assertRecordValues(cleared, [{"state": "resolved", "open_amount": 0.0}] * 4)
        for deduction in cleared:
            self.assertRecordValues(deduction.line_ids, [{
                "kind": "promotion", "automated": True, "rule_id": self.rule.id, "run_id": run.id,
                "promotion_id": self.promotion_march.id, "amount": deduction.amount,
            }])
            self.assertEqual(deduction.line_ids.move_id.state, "posted")
            self.assertTrue(deduction.receivable_line_id.reconciled)
        entry = cleared.line_ids.move_id
        self.assertRecordValues(entry, [{"state": "posted", "recon_source_model": "recon.threshold.run",
                                         "recon_source_id": run.id}])
        self.assertRecordValues(entry.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -80.0, "reconciled": True},   # 40 + 30 + 10
            {"account_id": self.promo_account.id, "balance": 30.0, "reconciled": False},
            {"account_id": self.receivable.id, "balance": 50.0, "reconciled": True},    # the repayment
        ])
        self.assertRecordValues(self._by_amount(transaction, 100.90) + self._by_amount(transaction, 100.0)
                                + self._by_amount(transaction, -1000.0), [
            {"state": "new", "open_amount": 100.90},
            {"state": "new", "open_amount": 100.0},
            {"state": "new", "open_amount": -1000.0},
        ])
        self.assertRecordValues(manual, [{"state": "in_progress", "open_amount": 15.0}])
        self.assertEqual(len(manual.line_ids), 1, "the deduction in progress is untouched")
        self.assertEqual(self.promotion_march.spent, 30.0)  # 40 + 30 + 10 - 50
        self.assertAlmostEqual(self._account_balance(self.promo_account), 30.0)
        self.assertRecordValues(run, [{"cleared_count": 4, "cleared_amount": 30.0, "left_count": 4,
                                       "left_amount": 100.90 + 100.0 - 1000.0 + 15.0, "refused_count": 0}])

    def test_run_on_many_refuses_the_differential_and_goes_on(self):
        good = self._transaction([40.0, 30.0])
        bad = self._transaction([4000.0, 870.0], original=5000.0)
        run = self._run(good + bad)
        self.assertEqual(good.state, "posted", "the run breaks out what is not yet broken out")
        self.assertEqual(good.deduction_ids.mapped("state"), ["resolved", "resolved"])
        self.assertRecordValues(bad, [{"state": "draft"}])
        self.assertFalse(bad.deduction_ids.line_ids)
        self.assertRecordValues(run.line_ids, [{"result": "refused", "transaction_id": bad.id}])
        self.assertIn("differ by", run.line_ids.reason)
        self.assertEqual(run.refused_count, 1)

    def test_deduction_without_a_promotion_for_its_month_is_left_and_reported(self):
        april = self._transaction([40.0], date="2024-04-10")
        run = self._run(april)
        self.assertEqual(april.deduction_ids.state, "new")
        self.assertRecordValues(run.line_ids, [{"result": "left", "deduction_id": april.deduction_ids.id,
                                                "reason": "No Below Threshold promotion for April 2024."}])

    def test_write_off_rule_clears_to_the_fund_type(self):
        self.rule.write({"clearing_method": "write_off", "fund_type_id": self.fund_type.id})
        transaction = self._transaction([40.0, -10.0], date="2024-04-10")
        self._run(transaction)
        self.assertEqual(transaction.deduction_ids.line_ids.mapped("kind"), ["write_off", "write_off"])
        self.assertAlmostEqual(self._account_balance(self.write_off_account), 30.0)
        self.assertTrue(all(transaction.deduction_ids.receivable_line_id.mapped("reconciled")))
        # only the remittance's own credit (no invoice given) is left on the customer
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), -30.0)

    def test_a_failure_on_one_deduction_posts_nothing_of_its_transaction(self):
        failing = self._transaction([40.0, 30.0], breakout=True)
        other = self._transaction([20.0], breakout=True)
        victim = self._by_amount(failing, 30.0)
        original_check = ReconLedger._check_entry

        def check_entry(ledger, entry):
            if any(line.reconcile_with and victim.receivable_line_id in line.reconcile_with for line in entry.lines):
                return "Period locked"
            return original_check(ledger, entry)

        with patch.object(ReconLedger, "_check_entry", check_entry):
            run = self._run(failing + other)
        self.assertEqual(failing.deduction_ids.mapped("state"), ["new", "new"])
        self.assertFalse(failing.deduction_ids.line_ids)
        self.assertEqual(failing.open_amount, 70.0)
        self.assertEqual(other.deduction_ids.state, "resolved")
        self.assertEqual(run.line_ids.filtered(lambda line: line.result == "refused").deduction_id,
                         failing.deduction_ids)
        self.assertEqual(run.cleared_count, 1)

    def test_second_run_changes_nothing(self):
        transaction = self._transaction([40.0, 300.0], breakout=True)
        self._run(transaction)
        lines = self.env["recon.deduction.line"].search([("transaction_id", "=", transaction.id)])
        run = self._run(transaction)
        self.assertEqual(self.env["recon.deduction.line"].search([("transaction_id", "=", transaction.id)]), lines)
        self.assertEqual(run.cleared_count, 0)

    def test_run_display_name_follows_its_rule(self):
        run = self._run(self._transaction([40.0], breakout=True))
        self.assertIn(self.rule.name, run.display_name)
        self.rule.name = "Small claims to the promotion"
        self.assertIn("Small claims to the promotion", run.display_name)

    @mute_logger("odoo.sql_db")
    def test_a_deduction_is_cleared_by_the_rule_at_most_once(self):
        """The unique index refuses a second automated resolution even when
        a run did not see the first one."""
        transaction = self._transaction([40.0], breakout=True)
        deduction = transaction.deduction_ids
        vals = deduction._prepare_resolution_vals("promotion", 10.0, promotion_id=self.promotion_march.id,
                                                  automated=True, rule=self.rule)
        self.env["recon.deduction.line"]._create_and_post([vals])
        with self.assertRaises(psycopg2.IntegrityError), self.env.cr.savepoint():
            self.env["recon.deduction.line"]._create_and_post([vals])

    def test_run_summary_is_posted_on_the_rule(self):
        self._run(self._transaction([40.0]))
        self.assertIn("Cleared 1", self.rule.message_ids[0].body)

    def test_runs_finished_together_each_leave_their_note_on_the_rule(self):
        first = self._run(self._transaction([40.0]))
        second = self._run(self._transaction([30.0], ref="CHQ-1002"))
        messages = self.rule.message_ids
        (first | second)._finish()
        notes = (self.rule.message_ids - messages).sorted("id")
        self.assertEqual(len(notes), 2)
        self.assertEqual([first.cleared_amount, second.cleared_amount], [40.0, 30.0])
        self.assertIn("40.00", notes[0].body)
        self.assertIn("30.00", notes[1].body)


@tagged("post_install", "-at_install")
class TestThresholdPromotionOfTheMonth(ThresholdCommon):
    """A deduction or an invoice balance clears to the promotion of its
    month, whatever days of the month the promotion's period covers; a rule
    keeps one promotion per month whatever is changed on the promotion."""

    def test_promotion_of_part_of_the_month_catches_the_whole_month(self):
        self.promotion_march.date_to = "2024-03-15"
        transaction = self._transaction([40.0, -10.0], date="2024-03-20")
        invoice = self._invoice(1000.0, date="2024-03-20")
        self._pay(invoice, 999.40)

        self.env["recon.threshold.rule"]._cron_run_below_threshold()

        run = self.env["recon.threshold.run"].search([("rule_id", "=", self.rule.id)])
        self.assertRecordValues(run, [{"cleared_count": 3, "cleared_amount": 30.60, "left_count": 0}])
        self.assertRecordValues(transaction.deduction_ids, [
            {"state": "resolved", "open_amount": 0.0}, {"state": "resolved", "open_amount": 0.0}])
        self.assertEqual(transaction.deduction_ids.line_ids.promotion_id, self.promotion_march)
        self.assertTrue(all(transaction.deduction_ids.receivable_line_id.mapped("reconciled")))
        self.assertRecordValues(run.line_ids, [{"result": "cleared", "invoice_id": invoice.id,
                                                "promotion_id": self.promotion_march.id, "amount": 0.60}])
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertAlmostEqual(self.promotion_march.spent, 30.60)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 30.60)

    def test_month_without_a_promotion_stays_open_and_the_run_says_why(self):
        self.promotion_march.date_to = "2024-03-15"
        april = self._transaction([40.0], date="2024-04-20", breakout=True)
        run = self._run(april)
        self.assertRecordValues(april.deduction_ids, [{"state": "new", "open_amount": 40.0}])
        self.assertFalse(april.deduction_ids.receivable_line_id.reconciled)
        self.assertRecordValues(run.line_ids, [{"result": "left", "deduction_id": april.deduction_ids.id,
                                                "reason": "No Below Threshold promotion for April 2024."}])
        self.assertEqual(run.cleared_count, 0)

    def test_promotion_for_other_customers_names_them_in_the_run(self):
        self.promotion_march.partner_ids = [Command.set(self.customer_b.ids)]
        transaction = self._transaction([40.0])
        run = self._run(transaction)
        self.assertEqual(transaction.deduction_ids.state, "new")
        self.assertEqual(run.line_ids.reason, "The Below Threshold promotion of March 2024 "
                                              "(Below Threshold - March 2024) is not for Harbour Foods.")

    def _april(self, **vals):
        return self.promotion_march.copy(dict({
            "name": "Below Threshold - April 2024", "date_from": "2024-04-01", "date_to": "2024-04-30"}, **vals))

    def test_moving_a_promotion_into_the_month_of_another_is_refused(self):
        april = self._april()
        self.rule.promotion_ids = [Command.link(april.id)]
        with self.assertRaisesRegex(ValidationError, r"Rule Below 100 to the monthly promotion: March 2024 has "
                                                     r"two Below Threshold promotions \(Below Threshold - April "
                                                     r"2024, Below Threshold - March 2024\)"):
            april.write({"date_from": "2024-03-16", "date_to": "2024-03-31"})

    def test_restoring_an_archived_promotion_into_a_taken_month_is_refused(self):
        self.promotion_march.action_archive()
        other = self.promotion_march.copy({"name": "Below Threshold - March bis", "active": True})
        self.rule.promotion_ids = [Command.link(other.id)]
        self.assertEqual(self.rule.promotion_ids, other)
        with self.assertRaisesRegex(ValidationError, "March 2024 has two Below Threshold promotions.*March bis"):
            self.promotion_march.action_unarchive()

    def test_unticking_below_threshold_of_a_promotion_of_a_rule_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "promotion Below Threshold - March 2024 is not a Below "
                                                     "Threshold promotion. Remove it from the rule"):
            self.promotion_march.below_threshold = False

    def test_promotions_of_no_rule_change_freely(self):
        spare = self._april(name="Spare")
        spare.write({"date_from": "2024-03-16", "date_to": "2024-03-31", "below_threshold": False})
        spare.action_archive()
        spare.action_unarchive()
        self.assertTrue(spare.active)


@tagged("post_install", "-at_install")
class TestThresholdRunInvoices(ThresholdCommon):

    def test_small_balances_are_cleared_and_the_invoices_paid(self):
        invoice = self._invoice(1000.0, date="2024-03-05")
        self._pay(invoice, 999.40)
        refund = self._invoice(80.0, date="2024-03-06", move_type="out_refund")
        self._pay(refund, 79.0)
        run = self._run_invoices(invoice + refund)
        self.assertRecordValues(invoice + refund, [
            {"amount_residual": 0.0, "payment_state": "paid"},
            {"amount_residual": 0.0, "payment_state": "paid"},
        ])
        self.assertRecordValues(run.line_ids.sorted("id"), [
            {"result": "cleared", "invoice_id": invoice.id, "amount": 0.60, "promotion_id": self.promotion_march.id},
            {"result": "cleared", "invoice_id": refund.id, "amount": -1.0, "promotion_id": self.promotion_march.id},
        ])
        self.assertRecordValues(run.line_ids.sorted("id")[0].move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -0.60, "reconciled": True},
            {"account_id": self.promo_account.id, "balance": 0.60, "reconciled": False},
        ])
        self.assertAlmostEqual(self.promotion_march.spent, -0.40)
        self.assertRecordValues(run, [{"cleared_count": 2, "cleared_amount": -0.40}])

    def _run_invoices(self, invoices):
        action = invoices.action_run_below_threshold()
        return self.env["recon.threshold.run"].browse(action["res_id"])

    def test_never_paid_invoice_stays_open_and_is_not_counted(self):
        """A small invoice nothing was matched with is not a short payment:
        it stays open, nothing is posted and the run clears nothing."""
        invoice = self._invoice(5.0, date="2024-03-05")
        moves_before = self.env["account.move"].search_count([])
        run = self._run_invoices(invoice)
        self.assertRecordValues(invoice, [{"amount_residual": 5.0, "payment_state": "not_paid"}])
        self.assertFalse(self._receivable_line(invoice).reconciled)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "nothing is posted")
        self.assertRecordValues(run.line_ids, [{"result": "skipped", "invoice_id": invoice.id, "move_id": False}])
        self.assertIn("Never paid", run.line_ids.reason)
        self.assertRecordValues(run, [{"cleared_count": 0, "cleared_amount": 0.0, "left_count": 0}])
        self.assertEqual(self.promotion_march.spent, 0.0)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.0)

    def test_balance_a_credit_note_left_is_cleared(self):
        invoice = self._invoice(10.0, date="2024-03-05")
        refund = self._invoice(8.0, date="2024-03-06", move_type="out_refund")
        (self._receivable_line(invoice) + self._receivable_line(refund)).reconcile()
        self.assertRecordValues(invoice + refund, [{"amount_residual": 2.0}, {"amount_residual": 0.0}])
        run = self._run_invoices(invoice)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertTrue(self._receivable_line(invoice).reconciled)
        self.assertRecordValues(run.line_ids, [{"result": "cleared", "invoice_id": invoice.id, "amount": 2.0}])
        self.assertRecordValues(run.line_ids.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -2.0, "reconciled": True},
            {"account_id": self.promo_account.id, "balance": 2.0, "reconciled": False},
        ])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)

    def test_balance_at_or_above_the_threshold_is_left(self):
        invoice = self._invoice(300.0, date="2024-03-05")
        self._pay(invoice, 200.0)
        run = self._run_invoices(invoice)
        self.assertEqual(invoice.amount_residual, 100.0)
        self.assertRecordValues(run.line_ids, [{"result": "left", "reason": "Not below the threshold."}])

    def test_invoice_without_a_promotion_for_its_month_is_left(self):
        invoice = self._invoice(100.0, date="2024-04-05")
        self._pay(invoice, 90.0)
        run = self._run_invoices(invoice)
        self.assertEqual(invoice.amount_residual, 10.0)
        self.assertEqual(run.line_ids.reason, "No Below Threshold promotion for April 2024.")

    def test_invoice_not_active_in_collections_is_skipped(self):
        invoice = self._invoice(10.0, date="2024-03-05")
        invoice.collection_status_id = self.env.ref("recon_addon.recon_collection_status_disputed")
        run = self._run_invoices(invoice)
        self.assertEqual(invoice.amount_residual, 10.0)
        self.assertRecordValues(run.line_ids, [{"result": "skipped", "reason": "Collection status is Disputed."}])

    def test_invoice_with_a_deduction_in_progress_is_skipped(self):
        invoice = self._invoice(50.0, date="2024-03-05")
        self._invoice(10.0, date="2024-03-05")
        transaction = self._transaction([30.0], invoices=invoice, breakout=True)
        transaction.deduction_ids.resolve("write_off", 10.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        self.assertEqual(invoice.amount_residual, 20.0)
        run = self._run_invoices(invoice)
        self.assertEqual(invoice.amount_residual, 20.0)
        self.assertEqual(run.line_ids.reason, "A deduction on this invoice is in progress.")

    def test_vendor_bill_is_refused(self):
        bill = self._invoice(10.0, date="2024-03-05", move_type="in_invoice")
        run = self._run_invoices(bill)
        self.assertEqual(run.line_ids.result, "refused")
        self.assertEqual(bill.amount_residual, 10.0)


@tagged("post_install", "-at_install")
class TestThresholdCron(ThresholdCommon):

    def test_cron_clears_what_is_due_and_a_second_run_changes_nothing(self):
        draft = self._transaction([40.0, 250.0])
        posted = self._transaction([15.0], breakout=True)
        with_differential = self._transaction([10.0], original=20.0)
        april = self._transaction([10.0], date="2024-04-02")
        invoice = self._invoice(105.0, date="2024-03-05")
        self._pay(invoice, 100.0)
        Run = self.env["recon.threshold.run"]

        self.env["recon.threshold.rule"]._cron_run_below_threshold()

        run = Run.search([("rule_id", "=", self.rule.id)])
        self.assertRecordValues(run, [{"origin": "cron", "cleared_count": 3, "cleared_amount": 60.0}])
        self.assertEqual(self._by_amount(draft, 40.0).state, "resolved")
        self.assertEqual(self._by_amount(draft, 250.0).state, "new")
        self.assertEqual(posted.deduction_ids.state, "resolved")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(with_differential.state, "draft")
        self.assertEqual(april.state, "draft", "no promotion for April: not picked")

        self.env["recon.threshold.rule"]._cron_run_below_threshold()
        self.assertEqual(Run.search([("rule_id", "=", self.rule.id)]), run, "nothing left to do, no new run")

    def test_cron_clears_short_paid_invoices_only(self):
        """The night after posting, a never-paid small invoice is not written
        off; the balance a short payment left is."""
        never_paid = self._invoice(5.0, date="2024-03-05")
        short_paid = self._invoice(1000.0, date="2024-03-05")
        self._pay(short_paid, 999.40)

        self.env["recon.threshold.rule"]._cron_run_below_threshold()

        run = self.env["recon.threshold.run"].search([("rule_id", "=", self.rule.id)])
        self.assertRecordValues(run, [{"origin": "cron", "cleared_count": 1, "cleared_amount": 0.60,
                                       "left_count": 0, "skipped_count": 0, "refused_count": 0}])
        self.assertEqual(run.line_ids.invoice_id, short_paid, "the never-paid invoice is not in the run")
        self.assertRecordValues(never_paid + short_paid, [
            {"amount_residual": 5.0, "payment_state": "not_paid"},
            {"amount_residual": 0.0, "payment_state": "paid"},
        ])
        self.assertFalse(self._receivable_line(never_paid).reconciled)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 0.60)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 5.0)

    def test_cron_compares_foreign_currency_deductions_in_company_currency(self):
        """EUR remittances in a USD company: 60 EUR is 120 USD on 10 March
        (not below 100: not even fetched) and 150 EUR is 75 USD on 20 March
        (below: picked and cleared, at the same rate as today's)."""
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 0.5), ("2024-03-15", 2.0)])
        Transaction = self.env["recon.deduction.transaction"]
        small, large = Transaction.create([{
            "partner_id": self.customer.id, "date": date, "currency_id": eur.id, "original_amount": amount,
            "ref": ref, "deduction_ids": [Command.create({"ref": f"{ref}-1", "amount": amount})],
        } for date, amount, ref in [("2024-03-20", 150.0, "EUR-SMALL"), ("2024-03-10", 60.0, "EUR-LARGE")]])

        self.env["recon.threshold.rule"]._cron_run_below_threshold()

        run = self.env["recon.threshold.run"].search([("rule_id", "=", self.rule.id)])
        self.assertRecordValues(run, [{"cleared_count": 1, "cleared_amount": 75.0, "left_count": 0,
                                       "total_count": 1}])
        self.assertFalse(run.line_ids, "the large one is not fetched, so not reported")
        self.assertRecordValues(small.deduction_ids, [{"state": "resolved", "open_amount": 0.0,
                                                       "amount_company": 75.0}])
        self.assertTrue(small.deduction_ids.receivable_line_id.reconciled)
        self.assertRecordValues(small.deduction_ids.line_ids.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -75.0, "amount_currency": -150.0,
             "currency_id": eur.id, "reconciled": True},
            {"account_id": self.promo_account.id, "balance": 75.0, "amount_currency": 150.0,
             "currency_id": eur.id, "reconciled": False},
        ])
        self.assertAlmostEqual(self.promotion_march.spent, 75.0)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 75.0)
        self.assertRecordValues(large, [{"state": "draft", "move_id": False}])
        self.assertRecordValues(large.deduction_ids, [{"state": "new", "amount_company": 120.0}])

    def test_cron_works_in_batches(self):
        transactions = self.env["recon.deduction.transaction"]
        for _i in range(3):
            transactions |= self._transaction([10.0])
        self.env["recon.threshold.rule"]._cron_run_below_threshold(batch_size=2)
        self.assertEqual(transactions.mapped("state").count("posted"), 2)
        self.env["recon.threshold.rule"]._cron_run_below_threshold(batch_size=2)
        self.assertEqual(transactions.mapped("state"), ["posted"] * 3)

    def test_cron_ignores_other_companies_rule_state(self):
        other = self.setup_other_company()["company"]
        self.assertFalse(self.env["recon.threshold.rule"].search([("company_id", "=", other.id)]))
        transaction = self._transaction([40.0])
        self.rule.action_disable()
        self.env["recon.threshold.rule"]._cron_run_below_threshold()
        self.assertEqual(transaction.state, "draft")


@tagged("post_install", "-at_install")
class TestThresholdMultiCompany(ThresholdCommon):

    def test_other_company_rules_and_runs_are_invisible(self):
        other = self.setup_other_company()["company"]
        self._run(self._transaction([40.0]))
        user = self.env["res.users"].create({
            "name": "Other Analyst", "login": "analyst_other_rule",
            "groups_id": [Command.set([self.env.ref("recon_addon.recon_addon_group_manager").id])],
            "company_id": other.id, "company_ids": [Command.set(other.ids)],
        })
        self.assertFalse(self.env["recon.threshold.rule"].with_user(user).search([]))
        self.assertFalse(self.env["recon.threshold.run"].with_user(user).search([]))
        self.assertFalse(self.env["recon.deduction.line"].with_user(user).search([]))
