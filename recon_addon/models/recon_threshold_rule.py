from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, format_date, formatLang

from ..services import thresholds


class ReconThresholdRule(models.Model):
    """The below-threshold rule: deductions (and the small balances short
    payments leave on invoices) strictly below ``threshold`` are cleared in
    full, to the Below Threshold promotion of their month or written off to
    a fund type.

    Managers build and change rules; users run them. At most one rule is
    enabled per company (a unique index, not only a Python check).
    """

    _name = "recon.threshold.rule"
    _inherit = ["mail.thread"]
    _description = "Below-Threshold Rule"
    _order = "state desc, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    threshold = fields.Monetary(
        currency_field="currency_id", required=True, tracking=True,
        default=lambda self: self._get_recommendation().threshold,
        help="Deductions, and invoice balances left by a short payment, strictly below this amount "
             "(in company currency, in absolute value) are cleared in full.",
    )
    recommended_threshold = fields.Monetary(
        currency_field="currency_id", compute="_compute_recommended_threshold",
        help="The whole amount under which the deductions of the last 3 months hold the share of "
             "the deducted dollars closest to 4% (on a tie, the smaller amount).",
    )
    recommended_share = fields.Float(
        string="Share Cleared", compute="_compute_recommended_threshold",
        help="The share of the deduction dollars of the last 3 months the recommended threshold clears.",
    )
    recommendation_note = fields.Text(compute="_compute_recommended_threshold")
    recommendation_off_target = fields.Boolean(
        string="No Threshold Near 4%", compute="_compute_recommended_threshold",
        help="No whole threshold clears between 2% and 6% of the deduction dollars of the last 3 months.",
    )
    recommendation_warning = fields.Char(compute="_compute_recommended_threshold")
    lower_option_threshold = fields.Monetary(
        string="Threshold Below 4%", currency_field="currency_id", compute="_compute_recommended_threshold",
        help="The threshold clearing the largest share under 4% of the deduction dollars.")
    lower_option_share = fields.Float(string="Share Cleared Below 4%", compute="_compute_recommended_threshold")
    upper_option_threshold = fields.Monetary(
        string="Threshold Above 4%", currency_field="currency_id", compute="_compute_recommended_threshold",
        help="The smallest threshold clearing 4% or more of the deduction dollars.")
    upper_option_share = fields.Float(string="Share Cleared Above 4%", compute="_compute_recommended_threshold")
    lower_option_label = fields.Char(compute="_compute_recommended_threshold")
    upper_option_label = fields.Char(compute="_compute_recommended_threshold")
    amount_chart = fields.Html(
        string="Deduction Dollars by Amount", compute="_compute_recommended_threshold", sanitize=False,
        help="The deduction dollars of the last 3 months per amount range (company currency), with "
             "the ranges holding the recommended and the current threshold marked.",
    )
    clearing_method = fields.Selection(
        [("promotion", "Clear to Promotion"), ("write_off", "Write Off")],
        required=True, default="promotion", tracking=True,
    )
    fund_type_id = fields.Many2one("recon.fund.type", check_company=True, tracking=True,
                                   help="Fund type written off to when the clearing method is Write Off.")
    promotion_ids = fields.Many2many(
        "recon.promotion",
        string="Promotions",
        check_company=True,
        domain="[('below_threshold', '=', True)]",
        help="Below Threshold promotions, at most one per month: a deduction clears to the one "
             "whose period holds its transaction date.",
    )
    state = fields.Selection(
        [("disabled", "Disabled"), ("enabled", "Enabled")],
        default="disabled", required=True, readonly=True, copy=False, tracking=True,
    )
    reason_id = fields.Many2one(
        "recon.write.off.reason", check_company=True, tracking=True, ondelete="restrict",
        default=lambda self: self._default_reason_id(),
        help="Shown on the labels of the entries the rule posts and stored on its runs and their lines.")
    run_ids = fields.One2many("recon.threshold.run", "rule_id", string="Runs")
    run_count = fields.Integer(compute="_compute_run_count")

    _sql_constraints = [
        ("threshold_positive", "CHECK(threshold > 0)", "The threshold must be above zero."),
    ]

    @api.model
    def _default_reason_id(self):
        """The small-balance reason of the data, when it is still there."""
        reason = self.env.ref("recon_addon.recon_reason_small_balance", raise_if_not_found=False)
        return reason.id if reason and reason.active else False

    def init(self):
        self.env.cr.execute(SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (company_id) WHERE state = 'enabled'",
            SQL.identifier("recon_threshold_rule_one_enabled"), SQL.identifier(self._table),
        ))

    # ------------------------------------------------------------------
    # Recommendation
    # ------------------------------------------------------------------
    @api.model
    def _get_deduction_samples(self, company):
        """``(samples, oldest, today)``: ``(date, amount in company currency)``
        of the non-void deductions of the last 3 months, the oldest one's date."""
        today = fields.Date.context_today(self)
        Deduction = self.env["recon.deduction"]
        domain = [("company_id", "=", company.id), ("state", "!=", "void")]
        oldest = Deduction.search(domain, order="date asc", limit=1).date or None
        rows = Deduction.search_read(
            domain + [("date", ">=", thresholds.window_start(today)), ("date", "<=", today)],
            ["date", "amount_company"],
        )
        return [(row["date"], row["amount_company"]) for row in rows], oldest, today

    @api.model
    def _get_recommendation(self, company=None):
        samples, oldest, today = self._get_deduction_samples(company or self.env.company)
        return thresholds.recommend_threshold(samples, today, oldest=oldest)

    @api.model
    def _format_share(self, share):
        """A share (0 to 1) as a percentage with one decimal: "3.5%"."""
        return f"{formatLang(self.env, 100 * share, digits=1)}%"

    @api.model
    def _describe_recommendation(self, rec, company):
        """The recommendation in words, with its warnings."""
        fmt = company.currency_id.format
        since = format_date(self.env, rec.since)
        if rec.basis == "short_history":
            lines = [self.env._("Less than 3 months of deductions (none dated on or before %(date)s): "
                                "%(threshold)s is recommended until there is more history.",
                                date=since, threshold=rec.threshold)]
        elif rec.basis == "no_recent":
            lines = [self.env._("No deduction since %(date)s: %(threshold)s is recommended.",
                                date=since, threshold=rec.threshold)]
        else:
            lines = [self.env._("Deductions under %(threshold)s hold %(share)s of the %(total)s deducted in "
                                "%(count)s deductions since %(date)s: the share closest to 4%%.",
                                threshold=rec.threshold, share=self._format_share(rec.share), total=fmt(rec.total),
                                count=rec.count, date=since)]
        if rec.few:
            lines.append(self.env._("Only %(count)s deductions in the last 3 months: the figure may move a lot.",
                                    count=rec.count))
        if rec.outlier:
            lines.append(self.env._("One deduction of %(amount)s holds %(share)s%% of the dollars: outliers drive "
                                    "the figure.", amount=fmt(rec.outlier), share=round(100 * rec.outlier / rec.total)))
        return "\n".join(lines)

    @api.model
    def _describe_option(self, option, company):
        """"Under $ 6.00: clears 100.0% of the dollars", or ``False``."""
        if not option:
            return False
        return self.env._("Under %(threshold)s: clears %(share)s of the dollars",
                          threshold=company.currency_id.format(option.threshold),
                          share=self._format_share(option.share))

    @api.depends("company_id", "threshold")
    def _compute_recommended_threshold(self):
        """The recommendation of the rule's company (when no threshold clears
        about 4 %, also the thresholds on either side of 4 %) and its chart."""
        for company, rules in self.grouped("company_id").items():
            company = company or self.env.company
            samples, oldest, today = self._get_deduction_samples(company)
            recommendation = thresholds.recommend_threshold(samples, today, oldest=oldest)
            below, above = recommendation.below, recommendation.above
            rules.update({
                "recommended_threshold": recommendation.threshold,
                "recommended_share": recommendation.share or 0.0,
                "recommendation_note": self._describe_recommendation(recommendation, company),
                "recommendation_off_target": recommendation.off_target,
                "recommendation_warning": recommendation.off_target and self.env._(
                    "No whole threshold clears about 4% (2% to 6%) of the deduction dollars. "
                    "The thresholds on either side of 4%:"),
                "lower_option_threshold": below.threshold if below else 0.0,
                "lower_option_share": below.share if below else 0.0,
                "upper_option_threshold": above.threshold if above else 0.0,
                "upper_option_share": above.share if above else 0.0,
                "lower_option_label": self._describe_option(below, company),
                "upper_option_label": self._describe_option(above, company),
            })
            buckets = thresholds.bucket_amounts(samples, today)
            for rule in rules:
                rule.amount_chart = rule._render_amount_chart(buckets, recommendation, company)

    def _render_amount_chart(self, buckets, recommendation, company):
        """The SVG bar chart of ``buckets`` (QWeb escapes every value)."""
        labels = dict(self.env["recon.deduction"]._fields["amount_bucket"]._description_selection(self.env))
        return self.env["ir.qweb"]._render("recon_addon.recon_threshold_rule_amount_chart", {
            "chart": thresholds.chart_layout(
                buckets, recommended=recommendation.threshold, current=self.threshold),
            "labels": labels,
            "since": recommendation.since,
            "format_amount": lambda amount: formatLang(self.env, amount, currency_obj=company.currency_id),
            "format_whole": lambda amount: formatLang(self.env, amount, currency_obj=company.currency_id,
                                                      rounding_unit="units"),
            "format_date": lambda day: format_date(self.env, day),
        })

    def _compute_run_count(self):
        counts = dict(self.env["recon.threshold.run"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.run_count = counts.get(rule, 0)

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("promotion_ids")
    def _check_promotions(self):
        """Active promotions only: an archived one clears nothing (restoring
        it is checked by the promotion, :meth:`recon.promotion._check_rules_one_per_month`)."""
        for rule in self:
            by_month = defaultdict(list)
            for promotion in rule.with_context(active_test=False).promotion_ids.filtered("active"):
                if not promotion.below_threshold:
                    raise ValidationError(self.env._(
                        "Rule %(rule)s: promotion %(promotion)s is not a Below Threshold promotion. "
                        "Remove it from the rule or tick Below Threshold.",
                        rule=rule.name, promotion=promotion.name,
                    ))
                by_month[thresholds.month_key(promotion.date_from)].append(promotion)
            for promotions in by_month.values():
                if len(promotions) > 1:
                    raise ValidationError(self.env._(
                        "Rule %(rule)s: %(month)s has two Below Threshold promotions (%(names)s). "
                        "Keep one promotion per month.",
                        rule=rule.name, month=self._month_label(promotions[0].date_from),
                        names=", ".join(p.name for p in promotions),
                    ))

    @api.constrains("state", "company_id")
    def _check_one_enabled(self):
        """The unique index guarantees it; this gives the error its words."""
        for rule in self.filtered(lambda r: r.state == "enabled"):
            rule._check_no_other_enabled(excluded=self)

    @api.model
    def _month_label(self, day):
        """"March 2024", in the user's language."""
        return format_date(self.env, day, date_format="MMMM y")

    def _get_configuration_error(self):
        self.ensure_one()
        if self.clearing_method == "write_off" and not self.fund_type_id.write_off_account_id:
            return self.env._("Rule %(rule)s writes off: choose a fund type with a write-off account.",
                              rule=self.name)
        if self.clearing_method == "promotion" and not self.promotion_ids.filtered("active"):
            return self.env._("Rule %(rule)s clears to promotions: add at least one active Below "
                              "Threshold promotion.", rule=self.name)
        return None

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_enable(self):
        for rule in self:
            if error := rule._get_configuration_error():
                raise UserError(error)
        if len(self.company_id) < len(self):
            raise ValidationError(self.env._("Enable one below-threshold rule per company at a time."))
        for rule in self:
            rule._check_no_other_enabled(excluded=rule)
        self.write({"state": "enabled"})
        return True

    def _check_no_other_enabled(self, excluded):
        """Refuse this rule being enabled beside another enabled rule of its
        company (other than the ``excluded`` rules)."""
        other = self.search([("company_id", "=", self.company_id.id), ("state", "=", "enabled"),
                             ("id", "not in", excluded.ids)], limit=1)
        if other:
            raise ValidationError(self.env._(
                "Company %(company)s already has an enabled below-threshold rule (%(other)s). "
                "Disable it before enabling %(rule)s.",
                company=self.company_id.name, other=other.name, rule=self.name,
            ))

    def action_disable(self):
        self.write({"state": "disabled"})
        return True

    def action_apply_recommended_threshold(self):
        return self._apply_option("recommended_threshold")

    def action_apply_lower_option(self):
        """Use the threshold clearing the largest share under 4 %."""
        return self._apply_option("lower_option_threshold")

    def action_apply_upper_option(self):
        """Use the smallest threshold clearing 4 % or more."""
        return self._apply_option("upper_option_threshold")

    def _apply_option(self, field):
        for rule in self:
            if not rule[field]:
                raise UserError(self.env._(
                    "Rule %(rule)s: the recommendation has no such alternative; use the recommended "
                    "threshold or type one.", rule=rule.name))
            rule.threshold = rule[field]
        return True

    def action_open_deduction_chart(self):
        """The deductions of the last 3 months in a graph by amount range:
        the figures behind the chart of the rule's form."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Deductions since %(date)s", date=format_date(self.env, thresholds.window_start(today))),
            "res_model": "recon.deduction",
            "view_mode": "graph,pivot,list,form",
            "views": [(self.env.ref("recon_addon.recon_deduction_view_graph_bucket").id, "graph"),
                      (False, "pivot"), (False, "list"), (False, "form")],
            "domain": [("company_id", "=", self.company_id.id), ("state", "!=", "void"),
                       ("date", ">=", thresholds.window_start(today)), ("date", "<=", today)],
            "context": {"pivot_row_groupby": ["amount_bucket"], "pivot_measures": ["__count", "amount_size"]},
        }

    def action_open_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_threshold_run_action")
        return dict(action, name=self.env._("Runs"), domain=[("rule_id", "=", self.id)])

    @api.model
    def _get_enabled_rule(self, company):
        rule = self.search([("company_id", "=", company.id), ("state", "=", "enabled")], limit=1)
        if not rule:
            raise UserError(self.env._(
                "Company %(company)s has no enabled below-threshold rule. Build and enable one in "
                "Accounting > Configuration > Deduction Automations.",
                company=company.name,
            ))
        return rule

    # ------------------------------------------------------------------
    # Clearing targets
    # ------------------------------------------------------------------
    def _get_counterpart(self, day, partner):
        """``(account, promotion, fund_type)`` a deduction or balance dated
        ``day`` clears to, or ``None`` when the rule has no promotion for
        that month (and ``partner``)."""
        self.ensure_one()
        if self.clearing_method == "write_off":
            return self.fund_type_id.write_off_account_id, self.env["recon.promotion"], self.fund_type_id
        for promotion in self.promotion_ids:
            if promotion.active and promotion._covers_month(day, partner):
                return promotion.account_id, promotion, self.env["recon.fund.type"]
        return None

    def _get_no_counterpart_reason(self, day, partner):
        """Why nothing dated ``day`` of ``partner`` can clear (see :meth:`_get_counterpart`)."""
        self.ensure_one()
        month = self._month_label(day)
        if of_month := self.promotion_ids.filtered(lambda p: p.active and p._covers_month(day)):
            return self.env._("The Below Threshold promotion of %(month)s (%(promotion)s) is not for %(customer)s.",
                              month=month, promotion=of_month[0].name,
                              customer=partner.commercial_partner_id.display_name)
        return self.env._("No Below Threshold promotion for %(month)s.", month=month)

    def _is_below(self, amount, currency, day):
        """Is ``|amount|`` (in ``currency``) strictly below the threshold?"""
        self.ensure_one()
        size = (currency or self.currency_id)._convert(abs(amount), self.currency_id, self.company_id, day)
        return self.currency_id.compare_amounts(size, self.threshold) < 0

    def _get_period_domain(self, field):
        """Records dated within the month of one of the rule's promotions
        (all dates for a write-off rule)."""
        self.ensure_one()
        if self.clearing_method == "write_off":
            return []
        Promotion = self.env["recon.promotion"]
        return expression.OR([
            [(field, ">=", Promotion._month_bounds(p.date_from)[0]),
             (field, "<=", Promotion._month_bounds(p.date_to)[1])]
            for p in self.promotion_ids.filtered("active")
        ])

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    def _get_transaction_candidates_domain(self):
        """Transactions with a new deduction under the threshold, compared in
        company currency (``amount_size``), not in the transaction's currency."""
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            "|", ("state", "=", "posted"), ("differential", "=", 0),
            ("deduction_ids", "any", [("state", "=", "new"), ("amount_size", "<", self.threshold)]),
            *self._get_period_domain("date"),
        ]

    def _get_invoice_candidates_domain(self):
        """Partly paid invoices whose open balance in company currency
        (``amount_residual_signed``) is under the threshold."""
        self.ensure_one()
        threshold = self.threshold
        active = self.env["account.move"]._recon_default_collection_status()
        return [
            ("company_id", "=", self.company_id.id),
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            # a payment or a credit note is matched with it: a short payment (checked again by the run)
            ("payment_state", "=", "partial"),
            ("amount_residual_signed", ">", -threshold),
            ("amount_residual_signed", "<", threshold),
            ("amount_residual_signed", "!=", 0),
            "|", ("collection_status_id", "=", False), ("collection_status_id", "=", active.id),
            *self._get_period_domain("invoice_date"),
        ]

    @api.model
    def _cron_run_below_threshold(self, batch_size=200):
        """Daily: run each company's enabled rule on a batch of transactions
        and invoices that have something to clear, report progress and
        return; the scheduler calls again while work remains."""
        done = remaining = 0
        for rule in self.search([("state", "=", "enabled")]):
            rule = rule.with_company(rule.company_id)
            transactions = self.env["recon.deduction.transaction"].search(
                rule._get_transaction_candidates_domain(), order="date, id")
            invoices = self.env["account.move"].search(rule._get_invoice_candidates_domain(), order="id")
            if not transactions and not invoices:
                continue
            run = self.env["recon.threshold.run"]._start(rule, origin="cron")
            run._queue(transactions=transactions[:batch_size], invoices=invoices[:batch_size])
            run._run_step(batch_size)
            handled = len(transactions[:batch_size]) + len(invoices[:batch_size])
            done += handled
            if run.cleared_count:
                # only ask for another call when this one made progress
                remaining += len(transactions) + len(invoices) - handled
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
