"""Who may do what: settled records are read-only, manual resolution books
only to accounts it may, public methods answer RPC, companies stay apart."""
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .deduction_common import DeductionCommon
from .test_adjustment_rule import AdjustmentCommon


def _user(env, login, groups, company):
    return env["res.users"].create({
        "name": login.replace("_", " ").title(),
        "login": login,
        "company_id": company.id,
        "company_ids": [Command.set(company.ids)],
        "groups_id": [Command.set([env.ref(group).id for group in groups])],
    })


@tagged("post_install", "-at_install")
class AccessCommon(DeductionCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.analyst = _user(cls.env, "recon_access_user", ["recon_addon.recon_addon_group_user"], cls.company)
        cls.manager = _user(cls.env, "recon_access_manager", ["recon_addon.recon_addon_group_manager"],
                            cls.company)
        cls.today = fields.Date.context_today(cls.env.user)

    def _as_each(self, records):
        """``records`` as the Reconciliation User and as the Manager."""
        return [records.with_user(self.analyst), records.with_user(self.manager)]

    def _assert_locked(self, records, vals, message=None):
        """A user gets an AccessError (no write right) or a UserError naming
        the record; nothing changes."""
        before = records.read(list(vals), load=None)
        for as_user in self._as_each(records):
            with self.subTest(user=as_user.env.user.login, fields=list(vals)):
                with self.assertRaises(UserError) as error:
                    as_user.write(vals)
                if isinstance(error.exception, UserError) and not isinstance(error.exception, AccessError):
                    self.assertIn(records[0].display_name, error.exception.args[0])
                    if message:
                        self.assertIn(message, error.exception.args[0])
        records.invalidate_recordset()
        self.assertEqual(records.read(list(vals), load=None), before)

    def _assert_undeletable(self, records):
        for as_user in self._as_each(records):
            with self.subTest(user=as_user.env.user.login), self.assertRaises(UserError):
                as_user.unlink()
        self.assertTrue(records.exists())


@tagged("post_install", "-at_install")
class TestAccess(AccessCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.transaction = cls._transaction([80.0, 30.0], breakout=True)
        cls.deduction = cls._by_amount(cls.transaction, 80.0)
        cls.other = cls._by_amount(cls.transaction, 30.0)
        cls.invoice = cls._invoice(50.0, date=cls.today - relativedelta(days=200), post=False)
        cls.invoice.invoice_payment_term_id = cls.pay_terms_a
        cls.invoice.action_post()
        cls.invoice.with_user(cls.manager).action_write_off(
            reason=cls.env.ref("recon_addon.recon_reason_uncollectible"))
        cls.write_off = cls.invoice.recon_write_off_ids

    # ------------------------------------------------------------------
    # Settled records are read-only
    # ------------------------------------------------------------------

    def test_resolution_line_refuses_its_figures_accounts_and_links(self):
        line = self.env["recon.deduction.line"].browse(self.deduction.with_user(self.analyst).resolve(
            "promotion", 30.0, promotion_id=self.promotion_march.id, reason_id=self.reason.id))
        other_promotion = self.env["recon.promotion"].create({
            "name": "Spring", "date_from": "2024-03-01", "date_to": "2024-03-31",
            "account_id": self.write_off_account.id,
        })
        for vals in ({"amount": 5.0}, {"account_id": self.revenue.id}, {"promotion_id": other_promotion.id},
                     {"move_id": False}, {"kind": "manual"}, {"deduction_id": self.other.id},
                     {"automated": True}, {"date": "2024-01-01"}):
            self._assert_locked(line, vals, "Reverse its journal entry")
        self._assert_undeletable(line)
        # the promotion's spent figure still matches the ledger
        self.assertEqual(self.promotion_march.spent, 30.0)
        self.assertAlmostEqual(self._account_balance(self.promo_account), 30.0)
        self.assertRecordValues(self.deduction, [{"open_amount": 50.0, "state": "in_progress"}])

    def test_resolution_lines_are_created_by_resolve_only(self):
        for model in self._as_each(self.env["recon.deduction.line"]):
            with self.subTest(user=model.env.user.login), self.assertRaisesRegex(UserError, "own actions"):
                model.create({"deduction_id": self.deduction.id, "kind": "manual", "amount": 10.0,
                              "account_id": self.revenue.id})
        self.assertFalse(self.deduction.line_ids)

    def test_deduction_void_state_and_links_are_set_by_void_only(self):
        for vals in ({"voided": True}, {"state": "void"}, {"void_move_id": self.transaction.move_id.id},
                     {"receivable_line_id": False}, {"amount": 70.0}, {"open_amount": 0.0},
                     {"line_ids": [Command.create({"kind": "manual", "amount": 10.0,
                                                   "account_id": self.revenue.id})]}):
            self._assert_locked(self.deduction, vals)
        self.assertRecordValues(self.deduction, [{"state": "new", "voided": False, "open_amount": 80.0}])
        # the claim's reference and reason stay free text
        self.deduction.with_user(self.analyst).write({"ref": "CLM-9", "reason": "Damaged goods"})
        # Void, as a Reconciliation User, posts the void entry
        self.deduction.with_user(self.analyst).action_void()
        self.assertRecordValues(self.deduction, [{"state": "void", "voided": True, "open_amount": 0.0}])
        self.assertTrue(self.deduction.void_move_id)
        self._assert_locked(self.deduction, {"voided": False})

    def test_deduction_status_cannot_be_given_at_creation(self):
        draft = self._transaction([10.0])
        with self.assertRaisesRegex(UserError, "own actions"):
            self.env["recon.deduction"].with_user(self.analyst).create({
                "transaction_id": draft.id, "amount": 5.0, "voided": True})
        created = self.env["recon.deduction"].with_user(self.analyst).create({
            "transaction_id": draft.id, "amount": 5.0, "ref": "CLM-2"})
        created.with_user(self.analyst).write({"amount": 6.0})
        self.assertEqual(created.amount, 6.0)

    def test_transaction_state_and_entry_are_set_by_breakout_only(self):
        for vals in ({"state": "draft"}, {"move_id": False}, {"original_amount": 1.0}):
            self._assert_locked(self.transaction, vals)
        self.transaction.with_user(self.analyst).write({"ref": "CHQ-2002"})
        self.assertEqual(self.transaction.state, "posted")


    def test_write_off_refuses_its_amount_account_links_and_state(self):
        self.assertEqual(self.write_off.state, "posted")
        for vals in ({"amount": 1.0}, {"account_id": self.revenue.id}, {"move_id": False},
                     {"invoice_id": self._invoice(5.0).id}, {"state": "cancelled"}, {"origin": "bulk"}):
            self._assert_locked(self.write_off, vals)
        self._assert_undeletable(self.write_off)
        self.assertRecordValues(self.invoice, [{"amount_residual": 0.0}])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 50.0)

    def test_write_offs_are_created_by_the_write_off_actions_only(self):
        invoice = self._invoice(20.0, date=self.today - relativedelta(days=200))
        with self.assertRaises(AccessError):
            self.env["recon.write.off"].with_user(self.analyst).create({
                "invoice_id": invoice.id, "account_id": self.bad_debt.id, "currency_id": invoice.currency_id.id})
        with self.assertRaisesRegex(UserError, "own actions"):
            self.env["recon.write.off"].with_user(self.manager).create({
                "invoice_id": invoice.id, "account_id": self.bad_debt.id, "currency_id": invoice.currency_id.id})


    def test_run_line_of_a_cleared_invoice_is_read_only(self):
        rule = self.env["recon.threshold.rule"].create({
            "name": "Below 100", "threshold": 100.0, "clearing_method": "write_off",
            "fund_type_id": self.fund_type.id,
        })
        rule.action_enable()
        invoice = self._invoice(1000.0, date="2024-03-05")
        # a short payment leaves 12.00: the balance the rule exists to clear
        self._pay(invoice, 988.0, "2024-03-20")
        action = invoice.with_user(self.analyst).action_run_below_threshold()
        run = self.env["recon.threshold.run"].browse(action["res_id"])
        line = run.line_ids
        self.assertRecordValues(line, [{"result": "cleared", "invoice_id": invoice.id, "amount": 12.0}])
        self.assertTrue(line.move_id)
        for vals in ({"amount": 1.0}, {"result": "refused"}, {"account_id": self.revenue.id},
                     {"move_id": False}, {"invoice_id": False}):
            self._assert_locked(line, vals)
        self._assert_undeletable(line)
        with self.assertRaisesRegex(UserError, "own actions"):
            self.env["recon.threshold.run.line"].with_user(self.analyst).create({
                "run_id": run.id, "result": "cleared", "invoice_id": invoice.id})
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])

    def test_clearing_of_an_owed_balance_is_read_only(self):
        self.company.recon_post_rewards = True
        payee = self.env["res.partner"].create({"name": "Field Rep"})
        reward = self.env["recon.reward"].create({"name": "Draw", "partner_id": payee.id, "amount": 40.0})
        reward.action_confirm()
        self.env["recon.reward.clearing"].with_user(self.manager)._clear_balances(
            payee, self.env.ref("recon_addon.recon_reason_uncollectible"))
        clearing = reward.clearing_id
        self.assertRecordValues(clearing, [{"amount": 40.0, "partner_id": payee.id}])
        for vals in ({"amount": 1.0}, {"move_id": False}, {"partner_id": self.customer.id}, {"date": "2024-01-01"}):
            self._assert_locked(clearing, vals)
        self._assert_undeletable(clearing)
        with self.assertRaisesRegex(UserError, "own actions"):
            self.env["recon.reward.clearing"].with_user(self.manager).create({"partner_id": payee.id,
                                                                               "amount": 5.0})


    # ------------------------------------------------------------------
    # Manual resolution books only to accounts it may
    # ------------------------------------------------------------------
    def _account(self, name, account_type, **vals):
        return self.env["account.account"].create({
            "name": name, "code": f"99{len(name):02d}{account_type[:2].upper()}", "account_type": account_type,
            **vals,
        })

    def test_manual_resolution_refuses_accounts_it_may_not_book_to(self):
        other_company = self.setup_other_company(name="Southern Branch")["company"]
        refused = [
            (self.receivable, "receivable"),
            (self.company_data["default_account_payable"], "payable"),
            (self.company_data["default_journal_bank"].default_account_id, "bank or cash"),
            (self._account("Company Card", "liability_credit_card"), "credit card"),
            (self._account("Old Expenses", "expense", deprecated=True), "deprecated"),
            (self.env["account.account"].with_company(other_company).create({
                "name": "Southern Expenses", "code": "619900", "account_type": "expense",
                "company_ids": [Command.set(other_company.ids)]}), "another company"),
        ]
        for account, why in refused:
            for deduction in (self.deduction, self.deduction.with_user(self.analyst)):
                with self.subTest(account=account.name, user=deduction.env.user.login):
                    with self.assertRaises(UserError) as error:
                        deduction.resolve("manual", 10.0, account_id=account.id, reason_id=self.reason.id)
                    self.assertIn(account.name, error.exception.args[0])
                    self.assertIn(why, error.exception.args[0])
        self.assertFalse(self.deduction.line_ids)
        self.assertEqual(self.deduction.open_amount, 80.0)
        # an expense account of the company is fine, and the wizard says the same
        wizard = self.env["recon.deduction.resolve.wizard"].with_user(self.analyst).create({
            "deduction_id": self.deduction.id, "kind": "manual", "amount": 80.0, "account_id": self.receivable.id,
            "reason_id": self.reason.id})
        with self.assertRaisesRegex(UserError, "receivable"):
            wizard.action_confirm()
        wizard.account_id = self.write_off_account
        wizard.action_confirm()
        self.assertRecordValues(self.deduction, [{"state": "resolved", "open_amount": 0.0}])
        self.assertAlmostEqual(self._account_balance(self.write_off_account), 80.0)


    # ------------------------------------------------------------------
    # Public methods answer RPC
    # ------------------------------------------------------------------
    def test_resolve_answers_with_the_ids_of_its_lines(self):
        deduction = self._transaction([40.0], breakout=True).deduction_ids
        ids = deduction.resolve("write_off", 15.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        self.assertIsInstance(ids, list)
        self.assertEqual(ids, deduction.line_ids.ids)

    def test_adjustment_rule_enable_and_disable_answer_true(self):
        rule = self.env["recon.adjustment.rule"].create({
            "name": "Monthly fee", "frequency": "monthly", "month_day": 1, "apply_limit": "unlimited",
            "product_id": self.env["product.product"].create({"name": "Fee", "type": "service"}).id,
            "adjustment_type": "flat", "value": 5.0,
        })
        self.assertIs(rule.action_enable(), True)
        self.assertIs(rule.action_disable(), True)


    # ------------------------------------------------------------------
    # Companies stay apart
    # ------------------------------------------------------------------
    def test_every_model_with_a_company_has_a_company_rule(self):
        missing = []
        for name, model in self.env.registry.items():
            if not name.startswith("recon.") or model._abstract or not model._auto:
                continue
            field = model._fields.get("company_id")
            if not field or not field.store:
                continue
            rules = self.env["ir.rule"].search([("model_id.model", "=", name), ("global", "=", True)])
            if not any("company_ids" in (rule.domain_force or "") for rule in rules):
                missing.append(name)
        self.assertEqual(missing, [])

    def test_bulk_upload_naming_another_companys_invoice_says_it_does_not_exist(self):
        other = self.setup_other_company(name="Eastern Branch")["company"]
        # of a year this company has no invoice of, so its number names nothing here
        theirs = self.init_invoice("out_invoice", partner=self.customer, amounts=[70.0], taxes=[],
                                   invoice_date=self.today - relativedelta(years=3), company=other)
        theirs.invoice_payment_term_id = self.pay_terms_a
        theirs.action_post()
        # a manager of both companies working in this one, and one of this company only
        both = _user(self.env, "recon_access_both", ["recon_addon.recon_addon_group_manager"], self.company)
        both.company_ids = [Command.link(other.id)]
        for user in (self.manager, both):
            wizard = self.env["recon.bulk.write.off.wizard"].with_user(user).with_context(
                allowed_company_ids=self.company.ids).create({
                    "file": self._b64(f"Account ID\n{theirs.name}\n"), "filename": "accounts.csv",
                    "reason_id": self.env.ref("recon_addon.recon_reason_uncollectible").id})
            wizard.action_preview()
            with self.subTest(user=user.login):
                self.assertRecordValues(wizard.line_ids, [{"account_ref": theirs.name, "eligible": False,
                                                           "reason": "not_found", "invoice_id": False}])
                self.assertEqual(wizard.line_ids._reason_label(), "Account ID doesn't exist")
        self.assertEqual(theirs.amount_residual, 70.0)

    @staticmethod
    def _b64(text):
        import base64
        return base64.b64encode(text.encode())


@tagged("post_install", "-at_install")
class TestAdjustmentsAreReadOnly(AdjustmentCommon):

    def test_posted_adjustment_refuses_its_figures_and_links(self):
        analyst = _user(self.env, "recon_adj_user", ["recon_addon.recon_addon_group_user"], self.company)
        manager = _user(self.env, "recon_adj_manager", ["recon_addon.recon_addon_group_manager"], self.company)
        rule = self._rule()
        invoice = self._coded_invoice([(self.principal, 100.0)], date="2024-01-15")
        run = self.Run._get_or_create(rule, fields.Date.to_date("2024-03-01"))
        run.with_user(manager)._run_continue()
        adjustment = self.env["recon.adjustment"].search([("rule_id", "=", rule.id)])
        self.assertRecordValues(adjustment, [{"invoice_id": invoice.id, "amount": 10.0}])
        self.assertTrue(adjustment.move_id)
        for vals in ({"amount": 1.0}, {"move_id": False}, {"invoice_id": False}, {"period_key": "x"}):
            for user in (analyst, manager):
                with self.subTest(user=user.login, vals=vals), self.assertRaises(UserError):
                    adjustment.with_user(user).write(vals)
        with self.assertRaisesRegex(UserError, "Post a decrease"):
            adjustment.with_user(manager).write({"amount": 1.0})
        with self.assertRaisesRegex(UserError, "own actions"):
            self.env["recon.adjustment"].with_user(manager).create({
                "rule_id": rule.id, "invoice_id": invoice.id, "partner_id": self.customer.id,
                "period_key": "other", "apply_limit": "unlimited", "date": "2024-03-02",
                "product_id": self.carrying_fee.id, "currency_id": invoice.currency_id.id, "amount": 1.0})
        self.assertEqual(adjustment.amount, 10.0)
        self.assertEqual(invoice._recon_account_balance()[invoice], 110.0)
