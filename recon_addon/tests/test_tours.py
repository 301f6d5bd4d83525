from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import ReconCommon


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


@tagged("post_install", "-at_install")
class TestCapabilityTours(ReconCommon, HttpCase):
    """One tour per capability, as an accountant clicks through it; the
    ledger is checked afterwards the way an accountant would check it.

    The tours work in a company of their own, so that what they read on
    screen (a recommended threshold, the accounts a rule examines) depends
    on this test's records only, not on other tests' or demo data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.setup_other_company(name="Harbour Trading")["company"]
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=cls.company.ids))
        cls.today = fields.Date.context_today(cls.env["res.partner"])
        # The accountant who configures the rules (Accounting > Configuration
        # needs the accounting administrators' group).
        cls.chief = new_test_user(
            cls.env, login="chief_accountant", name="Chief Accountant", company_id=cls.company.id,
            groups="base.group_user,account.group_account_manager,recon_addon.recon_addon_group_manager",
        )
        # The collections / payroll side: a reconciliation manager only.
        cls.recon_manager = new_test_user(
            cls.env, login="recon_manager", name="Reconciliation Manager", company_id=cls.company.id,
            groups="base.group_user,recon_addon.recon_addon_group_manager",
        )

    def _posted_invoice(self, partner, amount, invoice_date, journal=None, name=None):
        """A posted customer invoice without taxes, due on its date."""
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": invoice_date,
            "invoice_date_due": invoice_date,
            "invoice_line_ids": [Command.create({"name": "Goods", "quantity": 1, "price_unit": amount,
                                                 "tax_ids": [Command.clear()]})],
        }
        if journal:
            vals["journal_id"] = journal.id
        if name:
            vals["name"] = name
        invoice = self.env["account.move"].create(vals)
        invoice.action_post()
        return invoice

    def test_deductions_tour(self):
        """Build and enable a below-threshold rule, run it on a broken-out
        transaction: its deductions clear to this month's promotion."""
        promo_account = self.env["account.account"].create({
            "name": "Trade Promotions", "code": "612900", "account_type": "expense",
        })
        month_start = self.today.replace(day=1)
        promotion = self.env["recon.promotion"].create({
            "name": f"Below Threshold {month_start:%B %Y}",
            "date_from": month_start,
            "date_to": month_start + relativedelta(months=1, days=-1),
            "below_threshold": True,
            "account_id": promo_account.id,
        })
        transaction = self.env["recon.deduction.transaction"].create({
            "partner_id": self.customer.id,
            "date": self.today,
            "ref": "CHQ-4410",
            "original_amount": 75.5,
            "deduction_ids": [
                Command.create({"ref": "CLM-1", "reason": "Promotion", "amount": 45.5}),
                Command.create({"ref": "CLM-2", "reason": "Short shipment", "amount": 30.0}),
            ],
        })
        transaction.action_breakout()
        deductions = transaction.deduction_ids
        self.assertEqual(transaction.open_amount, 75.5)

        self.start_tour("/web", "recon_deductions_tour", login=self.chief.login)

        rule = self.env["recon.threshold.rule"].search([("name", "=", "Small claims to the monthly promotion")])
        self.assertRecordValues(rule, [{
            "threshold": 100.0, "clearing_method": "promotion", "promotion_ids": promotion.ids,
            "state": "enabled",
        }])
        self.assertRecordValues(deductions, [
            {"state": "resolved", "open_amount": 0.0},
            {"state": "resolved", "open_amount": 0.0},
        ])
        self.assertEqual(deductions.receivable_line_id.mapped("amount_residual"), [0.0, 0.0])
        self.assertEqual(deductions.receivable_line_id.mapped("reconciled"), [True, True])
        self.assertRecordValues(deductions.line_ids.sorted("amount"), [
            {"kind": "promotion", "promotion_id": promotion.id, "amount": 30.0, "automated": True},
            {"kind": "promotion", "promotion_id": promotion.id, "amount": 45.5, "automated": True},
        ])
        self.assertEqual(deductions.line_ids.move_id.state, "posted")
        self.assertAlmostEqual(self._account_balance(promo_account), 75.5)
        run = self.env["recon.threshold.run"].search([("rule_id", "=", rule.id)])
        self.assertRecordValues(run, [{
            "origin": "manual", "user_id": self.chief.id, "threshold": 100.0,
            "cleared_count": 2, "cleared_amount": 75.5, "left_count": 0, "refused_count": 0,
            "skipped_count": 0,
        }])
        self.assertEqual(run.deduction_line_ids, deductions.line_ids)

    def test_adjustments_tour(self):
        """Create a fee rule in its form and preview it: the preview lists
        the overdue account and why the others are left out; nothing is
        posted."""
        fee_income = self.env["account.account"].create({
            "name": "Fees Income", "code": "709900", "account_type": "income",
        })
        late_fee = self.env["product.product"].create({
            "name": "Late fee", "type": "service", "lst_price": 0.0, "taxes_id": [Command.clear()],
            "property_account_income_id": fee_income.id,
        })
        disputed = self.env.ref("recon_addon.recon_collection_status_disputed")
        overdue_date = self.today - timedelta(days=60)
        overdue = self._posted_invoice(self.env["res.partner"].create({"name": "Overdue Bakery"}), 400.0, overdue_date)
        in_dispute = self._posted_invoice(self.env["res.partner"].create({"name": "Disputing Diner"}), 250.0,
                                   overdue_date)
        in_dispute.collection_status_id = disputed
        recent = self._posted_invoice(self.env["res.partner"].create({"name": "Fresh Market"}), 90.0,
                               self.today - timedelta(days=5))
        invoices = overdue + in_dispute + recent
        moves_before = self.env["account.move"].search_count([])

        self.start_tour("/web", "recon_adjustments_tour", login=self.chief.login)

        rule = self.env["recon.adjustment.rule"].search([("name", "=", "Late fee on overdue accounts")])
        self.assertRecordValues(rule, [{
            "state": "disabled", "frequency": "monthly", "month_day": 1, "apply_limit": "unlimited",
            "product_id": late_fee.id, "adjustment_type": "flat", "value": 25.0,
            "excluded_status_ids": disputed.ids, "min_days_overdue": 30, "company_id": self.company.id,
        }])
        preview = self.env["recon.adjustment.preview"].search([("rule_id", "=", rule.id)])
        self.assertRecordValues(preview, [{
            "examined_count": 3, "skipped_status_count": 1, "skipped_overdue_count": 1,
            "skipped_conditions_count": 0, "skipped_already_count": 0, "qualifying_count": 1,
            "adjust_count": 1,
        }])
        self.assertRecordValues(preview.line_ids.sorted(lambda line: (not line.will_adjust, line.invoice_id.id)), [
            {"invoice_id": overdue.id, "will_adjust": True, "amount": 25.0, "reason": False},
            {"invoice_id": in_dispute.id, "will_adjust": False, "amount": 0.0,
             "reason": "Excluded account status"},
            {"invoice_id": recent.id, "will_adjust": False, "amount": 0.0, "reason": "Not overdue enough"},
        ])
        # previewing posts nothing
        self.assertFalse(self.env["recon.adjustment"].search([("rule_id", "=", rule.id)]))
        self.assertFalse(rule.run_ids)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(invoices.mapped("amount_residual"), [400.0, 250.0, 90.0])
        self.assertAlmostEqual(self._account_balance(fee_income), 0.0)

    def test_bulk_write_off_tour(self):
        """Upload a list of accounts, preview, write off the eligible ones
        and read the batch's failure list."""
        journal = self.env["account.journal"].create({
            "name": "Archived Sales", "code": "ARCH", "type": "sale", "company_id": self.company.id,
            "default_account_id": self.env["account.journal"].search([
                ("type", "=", "sale"), ("company_id", "=", self.company.id)], limit=1).default_account_id.id,
        })
        harbour = self.env["res.partner"].create({"name": "Harbour Foods Ltd"})
        mill = self.env["res.partner"].create({"name": "Mill Street Grocers"})
        deli = self.env["res.partner"].create({"name": "Corner Deli"})
        old = self._posted_invoice(harbour, 1250.0, self.today - timedelta(days=400), journal, "ARCH/00001")
        defaulted = self._posted_invoice(mill, 480.5, self.today - timedelta(days=200), journal, "ARCH/00002")
        recent = self._posted_invoice(deli, 300.0, self.today - timedelta(days=10), journal, "ARCH/00003")
        cancelled = self._posted_invoice(deli, 75.0, self.today - timedelta(days=300), journal, "ARCH/00004")
        cancelled.button_draft()
        cancelled.button_cancel()
        bad_debt = self.company.recon_bad_debt_account_id
        bad_debt_before = self._account_balance(bad_debt)

        self.start_tour("/web", "recon_bulk_write_off_tour", login=self.recon_manager.login)

        batch = self.env["recon.write.off.batch"].search([("filename", "=", "defaulted_accounts.csv")])
        self.assertRecordValues(batch, [{
            "state": "done", "user_id": self.recon_manager.id, "count_listed": 5,
            "count_written_off": 2, "count_failed": 3, "amount_total": 1730.5,
        }])
        self.assertRecordValues(batch.write_off_ids.sorted("amount"), [
            {"invoice_id": defaulted.id, "origin": "bulk", "state": "posted", "amount": 480.5},
            {"invoice_id": old.id, "origin": "bulk", "state": "posted", "amount": 1250.0},
        ])
        self.assertRecordValues(old + defaulted, [
            {"amount_residual": 0.0, "payment_state": "paid"},
            {"amount_residual": 0.0, "payment_state": "paid"},
        ])
        receivables = (old + defaulted).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable")
        self.assertEqual(receivables.mapped("reconciled"), [True, True])
        self.assertAlmostEqual(self._account_balance(bad_debt) - bad_debt_before, 1730.5)
        bad_debt_lines = batch.write_off_ids.move_id.line_ids.filtered(lambda line: line.account_id == bad_debt)
        self.assertAlmostEqual(sum(bad_debt_lines.mapped("balance")), 1730.5)
        self.assertRecordValues(recent + cancelled, [
            {"state": "posted", "amount_residual": 300.0, "payment_state": "not_paid"},
            {"state": "cancel", "amount_residual": 75.0, "payment_state": "not_paid"},
        ])
        self.assertFalse(self.env["recon.write.off"].search([("invoice_id", "in", (recent + cancelled).ids)]))
        self.assertRecordValues(batch.failure_ids.sorted("account_ref"), [
            {"account_ref": "ARCH/00003", "invoice_id": recent.id, "stage": "preview",
             "reason": "Account is not in default"},
            {"account_ref": "ARCH/00004", "invoice_id": cancelled.id, "stage": "preview",
             "reason": "Account has already been terminated"},
            {"account_ref": "ARCH/09999", "invoice_id": False, "stage": "preview",
             "reason": "Account ID doesn't exist"},
        ])

    def test_rewards_tour(self):
        """Open a payee who owes advances back and clear the balance: the
        balance is zero, the rewards stay, the forgiveness entry is posted."""
        rep = self.env["res.partner"].create({"name": "Northern Rep"})
        rewards = self.env["recon.reward"]
        for name, amount, days in (("January draw", 1000.0, 90), ("February draw", 500.0, 60),
                                   ("March repayment", -300.0, 30)):
            rewards |= self.env["recon.reward"].create({
                "name": name, "partner_id": rep.id, "amount": amount,
                "date": self.today - timedelta(days=days), "recoverable": True,
            })
        rewards.action_confirm()
        self.assertEqual(rep.recoverable_balance, 1200.0)

        self.start_tour("/web", "recon_rewards_tour", login=self.recon_manager.login)

        rep.invalidate_recordset(["recoverable_balance"])
        self.assertEqual(rep.recoverable_balance, 0.0)
        clearing = self.env["recon.reward.clearing"].search([("partner_id", "=", rep.id)])
        self.assertRecordValues(clearing, [{
            "amount": 1200.0, "user_id": self.recon_manager.id, "company_id": self.company.id,
        }])
        self.assertEqual(clearing.reward_ids, rewards)
        self.assertRecordValues(rewards, [
            {"state": "confirmed", "recoverable": False, "clearing_id": clearing.id},
        ] * 3)
        advance = self.company.recon_advance_account_id
        forgiven = self.company.recon_forgiven_account_id
        self.assertRecordValues(clearing.move_id, [{
            "state": "posted", "journal_id": self.company.recon_journal_id.id,
        }])
        self.assertRecordValues(clearing.move_id.line_ids.sorted("balance"), [
            {"account_id": advance.id, "partner_id": rep.id, "balance": -1200.0, "reconciled": True},
            {"account_id": forgiven.id, "partner_id": rep.id, "balance": 1200.0, "reconciled": False},
        ])
        advance_items = rewards.move_id.line_ids.filtered(lambda line: line.account_id == advance)
        self.assertEqual(advance_items.mapped("reconciled"), [True, True, True])
        self.assertAlmostEqual(sum(self.env["account.move.line"].search([
            ("account_id", "=", advance.id), ("partner_id", "=", rep.id), ("parent_state", "=", "posted"),
        ]).mapped("balance")), 0.0)
