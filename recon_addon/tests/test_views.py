from lxml import etree, html

from odoo import Command, fields
from odoo.tests import Form, freeze_time, tagged

from .deduction_common import DeductionCommon


@tagged("post_install", "-at_install")
class TestAnalysisViews(DeductionCommon):
    """Pivots, graphs, the transactions' kanban and activities: the views an
    accountant opens instead of reading lists."""

    def _assert_views_load(self, action_xmlid, view_types):
        action = self.env.ref(action_xmlid)
        self.assertEqual(action.view_mode.split(",")[0], "list")
        self.assertLessEqual({*view_types, "list", "form"} - {"search"}, set(action.view_mode.split(",")))
        result = self.env[action.res_model].get_views([(False, view_type) for view_type in view_types])
        for view_type in view_types:
            self.assertIn(f"<{view_type}", result["views"][view_type]["arch"])

    def test_pivot_and_graph_views_load_from_their_actions(self):
        for action in ("recon_addon.recon_deduction_action", "recon_addon.recon_adjustment_action",
                       "recon_addon.recon_write_off_action", "recon_addon.recon_reward_action"):
            with self.subTest(action=action):
                self._assert_views_load(action, ["pivot", "graph", "search"])

    def test_transaction_kanban_and_activity_views_load(self):
        self._assert_views_load("recon_addon.recon_deduction_transaction_action", ["kanban", "activity"])
        arch = self.env["recon.deduction.transaction"].get_views([(False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn('default_group_by="state"', arch)
        self.assertIn('widget="kanban_activity"', arch)

    def test_transaction_board_has_a_column_per_status_even_when_empty(self):
        transaction = self._transaction([40.0])
        groups = self.env["recon.deduction.transaction"].web_read_group(
            [("id", "=", transaction.id)], ["state"], ["state"])["groups"]
        self.assertEqual([(g["state"], g["state_count"]) for g in groups], [("draft", 1), ("posted", 0)])

    def test_graph_and_pivot_measures_are_in_company_currency(self):
        for model in ("recon.deduction", "recon.adjustment", "recon.write.off", "recon.reward"):
            with self.subTest(model=model):
                views = self.env[model].get_views([(False, "pivot"), (False, "graph")])["views"]
                self.assertIn('name="amount_company" type="measure"', views["graph"]["arch"])
                # deductions: the pivot starts with what is still open
                measure = "open_amount_company" if model == "recon.deduction" else "amount_company"
                self.assertIn(f'name="{measure}" type="measure"', views["pivot"]["arch"])


@tagged("post_install", "-at_install")
class TestDeductionAmounts(DeductionCommon):
    """The company-currency amounts and amount range of a deduction, that the
    pivot, the graph and the rule's chart read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 1 USD = 2 EUR
        cls.eur = cls.setup_other_currency("EUR", rates=[("2024-01-01", 2.0)])

    def _eur_transaction(self, amounts, date="2024-03-10"):
        return self.env["recon.deduction.transaction"].create({
            "partner_id": self.customer.id,
            "date": date,
            "currency_id": self.eur.id,
            "original_amount": sum(amounts),
            "deduction_ids": [Command.create({"ref": f"EUR-{i}", "amount": amount})
                              for i, amount in enumerate(amounts, start=1)],
        })

    def test_amounts_in_company_currency_and_their_range(self):
        transaction = self._eur_transaction([60.0, -30.0])
        self.assertRecordValues(transaction.deduction_ids.sorted("amount"), [
            {"amount": -30.0, "amount_company": -15.0, "amount_size": 15.0, "amount_bucket": "01_10",
             "open_amount_company": -15.0},
            {"amount": 60.0, "amount_company": 30.0, "amount_size": 30.0, "amount_bucket": "02_25",
             "open_amount_company": 30.0},
        ])

    def test_broken_out_deduction_carries_its_ledger_figures(self):
        transaction = self._eur_transaction([60.0])
        transaction.action_breakout()
        deduction = transaction.deduction_ids
        self.assertEqual(deduction.amount_company, deduction.receivable_line_id.balance)
        self.assertAlmostEqual(deduction.amount_company, 30.0)
        deduction.resolve("write_off", 20.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id)
        self.assertAlmostEqual(deduction.open_amount_company, deduction.receivable_line_id.amount_residual)
        self.assertAlmostEqual(deduction.open_amount_company, 20.0)

    def test_void_deduction_has_nothing_open(self):
        transaction = self._transaction([40.0], breakout=True)
        transaction.deduction_ids.action_void()
        self.assertRecordValues(transaction.deduction_ids, [
            {"state": "void", "amount_company": 40.0, "open_amount_company": 0.0}])

    def test_read_group_by_amount_range_in_amount_order(self):
        self._transaction([5.0, 12.0, 20.0, 300.0, -40.0, 7000.0])
        groups = self.env["recon.deduction"]._read_group(
            [("partner_id", "=", self.customer.id)], ["amount_bucket"], ["__count", "amount_size:sum"],
            order="amount_bucket")
        self.assertEqual(groups, [("00_0", 1, 5.0), ("01_10", 2, 32.0), ("02_25", 1, 40.0), ("05_250", 1, 300.0),
                                  ("09_5000", 1, 7000.0)])


@tagged("post_install", "-at_install")
@freeze_time("2024-06-15")
class TestThresholdAmountChart(DeductionCommon):
    """The deduction dollars of the last 3 months per amount range, on the
    below-threshold rule's form, with the recommended and the current
    threshold marked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["recon.threshold.rule"].create({
            "name": "Below threshold", "threshold": 100.0, "clearing_method": "write_off",
            "fund_type_id": cls.fund_type.id,
        })

    def _chart(self, rule=None):
        rule = rule or self.rule
        rule.invalidate_recordset(["amount_chart", "recommended_threshold"])
        return html.fromstring(str(rule.amount_chart))

    def _bars(self, chart):
        return {g.get("data-bucket"): g for g in chart.xpath("//g[contains(@class, 'o_recon_bucket')]")}

    def _known_history(self):
        self._transaction([5.0], date="2024-01-10")  # history older than 3 months
        self._transaction([10.0] * 30 + [500.0] * 10, date="2024-05-10")
        void = self._transaction([1.0] * 200, date="2024-05-11", breakout=True)
        void.deduction_ids.action_void()

    def test_chart_marks_the_bucket_of_the_recommended_and_of_the_current_threshold(self):
        self._known_history()
        self.assertEqual(self.rule.recommended_threshold, 11.0)
        chart = self._chart()
        bars = self._bars(chart)
        self.assertEqual(len(bars), 10)
        self.assertEqual({key: g.get("data-marks") for key, g in bars.items() if g.get("data-marks")},
                         {"01_10": "recommended", "04_100": "current"})
        self.assertIn("o_recon_bucket_recommended", bars["01_10"].get("class"))
        self.assertIn("o_recon_bucket_current", bars["04_100"].get("class"))
        self.assertEqual([key for key, g in bars.items() if "o_recon_bucket_cleared" in g.get("class")],
                         ["00_0", "01_10", "02_25", "03_50"])
        # each bar says what it holds; the void deductions and the old one are left out
        self.assertEqual(bars["01_10"].findtext("title"), "10 to 25: 30 deductions, $\xa0300.00")
        self.assertEqual(bars["06_500"].findtext("title"), "500 to 1,000: 10 deductions, $\xa05,000.00")
        self.assertEqual(bars["00_0"].findtext("title"), "Under 10: 0 deductions, $\xa00.00")
        markers = chart.xpath("//g[contains(@class, 'o_recon_marker')]/text")
        self.assertEqual([" ".join(m.text_content().split()) for m in markers],
                         ["Recommended: $ 11.00", "Threshold: $ 100.00"])
        legend = chart.xpath("//g[hasclass('o_recon_chart_legend')]")[0].text_content()
        self.assertIn("Range of the recommended threshold", legend)
        self.assertIn("Range of the threshold", legend)

    def test_chart_follows_the_threshold_being_edited(self):
        self._known_history()
        with Form(self.rule) as form:
            form.threshold = 12.0
            chart = html.fromstring(str(form.amount_chart))
        bars = self._bars(chart)
        self.assertEqual(bars["01_10"].get("data-marks"), "current recommended")
        self.assertEqual([key for key, g in bars.items() if "o_recon_bucket_cleared" in g.get("class")], ["00_0"])

    def test_chart_reads_company_currency_amounts(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0)])
        self._transaction([5.0], date="2024-01-10")
        self.env["recon.deduction.transaction"].create({
            "partner_id": self.customer.id, "date": "2024-05-10", "currency_id": eur.id,
            "original_amount": 60.0, "deduction_ids": [Command.create({"ref": "EUR-1", "amount": 60.0})],
        })
        bars = self._bars(self._chart())
        self.assertEqual(bars["02_25"].findtext("title"), "25 to 50: 1 deductions, $\xa030.00")
        self.assertEqual(bars["03_50"].findtext("title"), "50 to 100: 0 deductions, $\xa00.00")

    def test_chart_without_recent_deductions_says_so(self):
        chart = self._chart()
        self.assertFalse(chart.xpath("//svg"))
        self.assertIn("No deduction since 03/15/2024", " ".join(chart.text_content().split()))

    def test_chart_is_kept_whole_by_the_html_field(self):
        """The field is not sanitized: what the form receives is the SVG QWeb rendered."""
        self._known_history()
        value = self.rule.read(["amount_chart"])[0]["amount_chart"]
        self.assertIn("<svg", value)
        self.assertIn('data-marks="recommended"', value)
        self.assertIn("viewBox=", value)

    def test_see_deductions_opens_the_graph_by_amount_range_of_the_window(self):
        self._known_history()
        self._transaction([70.0], date="2024-06-16")  # after today: left out
        action = self.rule.action_open_deduction_chart()
        self.assertEqual(action["views"][0], (self.env.ref("recon_addon.recon_deduction_view_graph_bucket").id,
                                              "graph"))
        graph = self.env["recon.deduction"].get_views([(action["views"][0][0], "graph")])["views"]["graph"]
        self.assertIn('name="amount_bucket"', graph["arch"])
        self.assertIn('name="amount_size" type="measure"', graph["arch"])
        groups = self.env["recon.deduction"]._read_group(action["domain"], ["amount_bucket"],
                                                         ["__count", "amount_size:sum"])
        self.assertEqual(groups, [("01_10", 30, 300.0), ("06_500", 10, 5000.0)])

    def test_form_shows_the_thresholds_on_either_side_of_four_percent_when_none_is_near(self):
        """100 deductions of 5: the form warns and offers 5 (0%) and 6 (100%),
        each with a Use button; with a share near 4% the warning is hidden."""
        self._transaction([5.0], date="2024-01-10")
        self._transaction([5.0] * 100, date="2024-05-10")
        arch = self.env["recon.threshold.rule"].get_views([(False, "form")])["views"]["form"]["arch"]
        block = html.fromstring(arch).xpath("//div[@name='threshold_options']")[0]
        self.assertEqual(block.get("invisible"), "not recommendation_off_target")
        self.assertEqual(block.xpath(".//field[not(@invisible)]/@name"), [
            "recommendation_warning", "lower_option_label", "upper_option_label"])
        self.assertEqual(block.xpath(".//button/@name"), ["action_apply_lower_option", "action_apply_upper_option"])
        self.assertTrue(html.fromstring(arch).xpath("//button[@name='action_apply_recommended_threshold']"))
        with Form(self.rule) as form:
            self.assertTrue(form.recommendation_off_target)
            self.assertEqual((form.lower_option_threshold, form.upper_option_threshold), (5.0, 6.0))
            self.assertIn("No whole threshold clears about 4%", form.recommendation_warning)
            self.assertEqual((form.lower_option_label, form.upper_option_label), (
                "Under $\xa05.00: clears 0.0% of the dollars", "Under $\xa06.00: clears 100.0% of the dollars"))

    def test_form_hides_the_warning_when_a_threshold_clears_about_four_percent(self):
        self._known_history()
        with Form(self.rule) as form:
            self.assertFalse(form.recommendation_off_target)
            self.assertEqual(form.recommended_threshold, 11.0)


@tagged("post_install", "-at_install")
class TestTransactionActivities(DeductionCommon):

    def test_user_of_the_reconciliation_group_schedules_a_follow_up(self):
        user = self.env["res.users"].create({
            "name": "Deduction Analyst", "login": "analyst_activities",
            "groups_id": [Command.set([self.env.ref("recon_addon.recon_addon_group_user").id])],
            "company_id": self.company.id, "company_ids": [Command.set(self.company.ids)],
        })
        transaction = self._transaction([40.0, 60.0]).with_user(user)
        deadline = fields.Date.add(fields.Date.context_today(transaction), days=-1)
        activity = transaction.activity_schedule(
            "mail.mail_activity_data_todo", date_deadline=deadline,
            summary="Ask Harbour Foods for the promotion proof", user_id=user.id)
        self.assertRecordValues(transaction, [{
            "activity_ids": activity.ids, "activity_state": "overdue",
            "activity_summary": "Ask Harbour Foods for the promotion proof", "activity_user_id": user.id,
        }])
        Transaction = self.env["recon.deduction.transaction"].with_user(user)
        self.assertEqual(Transaction.search([("activity_user_id", "=", user.id)]), transaction)
        self.assertEqual(Transaction.search([("my_activity_date_deadline", "<", fields.Date.today())]), transaction)
        activity.with_user(user).action_feedback(feedback="Proof received")
        self.assertFalse(transaction.activity_ids)
        self.assertIn("Proof received", transaction.message_ids[0].body)


@tagged("post_install", "-at_install")
class TestInvoiceFormExtension(DeductionCommon):

    def test_collection_status_sits_after_the_header_delivery_date(self):
        """The invoice form has two delivery dates (header and Other Info):
        the collection status and the entry's source follow the header one,
        and appear once."""
        arch = etree.fromstring(self.env["account.move"].get_views([(False, "form")])["views"]["form"]["arch"])
        header = arch.xpath("//group[@id='header_right_group']")[0]
        names = [node.get("name") for node in header.xpath("./field")]
        delivery = names.index("delivery_date")
        self.assertEqual(names[delivery + 1:delivery + 4],
                         ["collection_status_id", "recon_source_model", "recon_source_ref"])
        for name in ("collection_status_id", "recon_source_model", "recon_source_ref"):
            self.assertEqual(len(arch.xpath(f"//field[@name='{name}']")), 1, name)
        self.assertEqual(len(arch.xpath("//field[@name='delivery_date']")), 2)

    def test_invoice_form_opens_with_its_collection_status(self):
        invoice = self._invoice(100.0)
        form = Form(invoice)
        self.assertEqual(form.collection_status_id, invoice.collection_status_id)
        self.assertEqual(invoice.collection_status_id.code, "active")
