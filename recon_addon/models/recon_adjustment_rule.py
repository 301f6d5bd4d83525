"""Auto-adjustment rules: fees, interest and credits applied to accounts.

A rule says *when* (its schedule), *which accounts* (excluded statuses,
minimum days overdue, a domain on the invoice), *how often* (apply limit,
maximum debtors per run) and *what* (a line item code, a flat or percent
value). Applying it is done by :class:`recon.adjustment.run`, one run per
rule and date, in batches; every adjustment is a :class:`recon.adjustment`
and a journal entry posted through the ledger spine.
"""
from datetime import timedelta

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.safe_eval import datetime as safe_datetime, safe_eval

from ..services import adjustments as adjustment_service
from ..services.schedules import Schedule, check_schedule, is_due, period_key

#: the largest "maximum number of debtors" a rule accepts
MAX_DEBTORS_LIMIT = 10_000_000_000
#: accounts "Run now" adjusts while the user waits; the scheduler does the rest
RUN_NOW_LIMIT = 500

WEEKDAYS = [
    ("0", "Monday"), ("1", "Tuesday"), ("2", "Wednesday"), ("3", "Thursday"),
    ("4", "Friday"), ("5", "Saturday"), ("6", "Sunday"),
]
MONTHS = [
    ("1", "January"), ("2", "February"), ("3", "March"), ("4", "April"), ("5", "May"),
    ("6", "June"), ("7", "July"), ("8", "August"), ("9", "September"), ("10", "October"),
    ("11", "November"), ("12", "December"),
]


class ReconAdjustmentRule(models.Model):
    _name = "recon.adjustment.rule"
    _description = "Auto Adjustment Rule"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "sequence, id"

    name = fields.Char(string="Description", required=True, tracking=True)
    sequence = fields.Integer(default=10)
    state = fields.Selection(
        [("disabled", "Disabled"), ("enabled", "Enabled")],
        default="disabled", required=True, tracking=True,
        help="Only enabled rules are applied by the nightly process.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    # A whole number up to 10,000,000,000 does not fit PostgreSQL's int4 (an
    # Odoo Integer): a numeric(16, 0) column holds it exactly.
    max_debtors = fields.Float(
        string="Maximum Debtors per Run",
        digits=(16, 0),
        required=True,
        default=MAX_DEBTORS_LIMIT,
        tracking=True,
        help="At most this many debtors are adjusted per run: among the debtors that get an "
        "adjustment, those with the oldest due account first. Accounts with nothing to adjust "
        "or that fail to post take no place. Any whole number from 1 to 10,000,000,000.",
    )
    excluded_status_ids = fields.Many2many(
        "recon.collection.status",
        "recon_adjustment_rule_excluded_status_rel", "rule_id", "status_id",
        string="Excluded Account Statuses",
        help="Accounts in any of these statuses never qualify.",
    )
    # schedule
    frequency = fields.Selection(
        [("once", "One time"), ("weekly", "Weekly"), ("monthly", "Monthly"), ("yearly", "Yearly")],
        required=True, default="monthly", tracking=True,
    )
    once_date = fields.Date(string="Date")
    weekday = fields.Selection(WEEKDAYS)
    month_day = fields.Integer(
        string="Day of Month", default=1,
        help="1 to 31; a day the month does not have falls on its last day.",
    )
    month = fields.Selection(MONTHS)
    apply_limit = fields.Selection(
        [
            ("unlimited", "Unlimited times"),
            ("once_per_account", "Only once per account"),
            ("once_per_debtor", "Only once per debtor"),
        ],
        string="Apply", required=True, default="unlimited", tracking=True,
        help="Unlimited: at most once per account per period of the schedule (ISO week, "
        "calendar month or calendar year), whether the nightly process or Run now applies it. "
        "Once per debtor: one account per debtor, the one with the oldest due date.",
    )
    # amount
    product_id = fields.Many2one(
        "product.product", string="Line Item Code", required=True, check_company=True,
        domain="[('type', '=', 'service')]",
        help="Service product of the adjustment; its income account receives the entry.",
    )
    adjustment_type = fields.Selection(
        [("flat", "Flat fee"), ("percent", "% of balance")],
        string="Amount Type", required=True, default="flat",
    )
    value = fields.Float(
        required=True, digits=(16, 4), tracking=True,
        help="Flat: amount in the company currency. Percent: percentage of the balance. "
        "Negative values decrease the line item code's balance on the account, never more: "
        "other line item codes are not touched.",
    )
    reason_id = fields.Many2one(
        "recon.write.off.reason", string="Default Reason", check_company=True, tracking=True,
        help="Why the rule adjusts accounts: shown on the label and reference of its entries and kept on "
        "each adjustment.",
    )
    zero_balance_status_id = fields.Many2one(
        "recon.collection.status", string="Status When Balance Reaches Zero",
        help="Account status set when a decrease brings the account's balance to zero.",
    )
    balance_product_ids = fields.Many2many(
        "product.product",
        "recon_adjustment_rule_balance_product_rel", "rule_id", "product_id",
        string="Line Item Codes in Balance", check_company=True,
        help="For a percentage: the line item codes whose balance counts. Empty: the whole balance.",
    )
    # conditions
    min_days_overdue = fields.Integer(
        string="Minimum Days Overdue",
        help="Only accounts with an installment open at least this many days past its "
        "due date qualify. 0: no overdue condition.",
    )
    domain = fields.Char(
        string="Conditions", default="[]",
        help="Which invoices qualify (partner category, amount, journal, due date...).",
    )
    recalculate_payment_plan = fields.Boolean(
        string="Recalculate Payment Plans upon Adjustment",
        help="Spread an increase over the account's open installments, in proportion to "
        "their open amounts, instead of making it due on the adjustment date.",
    )
    run_ids = fields.One2many("recon.adjustment.run", "rule_id", string="Runs")
    adjustment_ids = fields.One2many("recon.adjustment", "rule_id", string="Adjustments")
    adjustment_count = fields.Integer(compute="_compute_adjustment_count")
    run_count = fields.Integer(compute="_compute_adjustment_count")

    @api.depends("adjustment_ids", "run_ids")
    def _compute_adjustment_count(self):
        adjustments = dict(self.env["recon.adjustment"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        runs = dict(self.env["recon.adjustment.run"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.adjustment_count = adjustments.get(rule, 0)
            rule.run_count = runs.get(rule, 0)

    # ------------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------------
    @api.constrains("max_debtors", "value", "min_days_overdue", "frequency", "once_date", "weekday", "month_day",
                    "month")
    def _check_settings(self):
        for rule in self:
            value = rule.max_debtors
            if value != int(value) or not 1 <= value <= MAX_DEBTORS_LIMIT:
                raise ValidationError(self.env._(
                    "Rule %(rule)s: the maximum number of debtors must be a whole number "
                    "from 1 to 10,000,000,000 (got %(value)s).",
                    rule=rule.name, value=value,
                ))
            if not rule.value:
                raise ValidationError(self.env._(
                    "Rule %(rule)s: the value cannot be zero. Use a positive value to increase "
                    "accounts and a negative one to decrease them.", rule=rule.name,
                ))
            if rule.min_days_overdue < 0:
                raise ValidationError(self.env._(
                    "Rule %(rule)s: the minimum days overdue cannot be negative.", rule=rule.name,
                ))
            if error := check_schedule(rule._get_schedule()):
                raise ValidationError(self.env._(
                    "Rule %(rule)s: the schedule is not valid (%(error)s).", rule=rule.name, error=self.env._(error),
                ))

    @api.constrains("domain", "company_id")
    def _check_domain(self):
        for rule in self:
            try:
                self.env["account.move"]._search(rule._get_condition_domain())
            except Exception as exc:  # noqa: BLE001 - reported to the user with the rule's name
                raise ValidationError(self.env._(
                    "Rule %(rule)s: the conditions are not a valid domain on invoices (%(error)s). "
                    "Edit them with the domain editor.", rule=rule.name, error=exc,
                )) from exc

    # ------------------------------------------------------------------
    # Schedule and conditions
    # ------------------------------------------------------------------
    def _get_schedule(self):
        self.ensure_one()
        return Schedule(
            frequency=self.frequency,
            once_date=self.once_date or None,
            weekday=int(self.weekday) if self.weekday else None,
            month_day=self.month_day or None,
            month=int(self.month) if self.month else None,
        )

    def _is_due(self, day):
        self.ensure_one()
        return is_due(self._get_schedule(), day)

    def _get_period_key(self, day):
        self.ensure_one()
        return period_key(self.frequency, self.apply_limit, day)

    def _local_today(self, now=None):
        """Today in the time zone of the rule's company (its partner's, UTC if unset)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        tz = pytz.timezone(self.company_id.partner_id.tz or "UTC")
        return pytz.utc.localize(now).astimezone(tz).date()

    def _get_condition_domain(self):
        """The rule's conditions as a domain on ``account.move``: parsed with
        ``safe_eval`` (literals, ``context_today()``, ``relativedelta``), never
        executed as code, and searched with the ORM."""
        self.ensure_one()
        context = {
            "context_today": lambda: fields.Date.context_today(self),
            "datetime": safe_datetime,
            "relativedelta": relativedelta,
        }
        domain = safe_eval(self.domain or "[]", context)
        if not isinstance(domain, (list, tuple)):
            raise ValueError(self.env._("a domain must be a list"))
        return list(domain)

    def _get_open_domain(self):
        """Accounts of the rule's company: posted customer invoices with an open balance."""
        self.ensure_one()
        return [
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("amount_residual", ">", 0),
        ]

    def _get_fresh_domain(self, day):
        """Accounts (and debtors) the rule has not adjusted yet for this
        period; undone adjustments do not count."""
        self.ensure_one()
        if self.apply_limit == "once_per_debtor":
            return [("commercial_partner_id", "not in", SQL(
                "(SELECT partner_id FROM recon_adjustment WHERE rule_id = %s AND state != 'undone')", self.id))]
        if self.apply_limit == "once_per_account":
            return [("id", "not in", SQL(
                "(SELECT invoice_id FROM recon_adjustment WHERE rule_id = %s AND state != 'undone')", self.id))]
        return [("id", "not in", SQL(
            "(SELECT invoice_id FROM recon_adjustment WHERE rule_id = %s AND period_key = %s "
            "AND state != 'undone')",
            self.id, self._get_period_key(day)))]

    def _get_exclusion_steps(self, day):
        """``[(key, domain)]``: what an open account must also meet, in the
        order the run's report and the preview count the accounts left out."""
        self.ensure_one()
        status = [("collection_status_id", "not in", self.excluded_status_ids.ids)] if self.excluded_status_ids else []
        overdue = [("line_ids", "any", [
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("date_maturity", "<=", day - timedelta(days=self.min_days_overdue)),
        ])] if self.min_days_overdue else []
        return [
            ("status", status),
            ("overdue", overdue),
            ("conditions", self._get_condition_domain()),
            ("already", self._get_fresh_domain(day)),
        ]

    def _get_qualifying_domain(self, day):
        """Accounts the rule adjusts on ``day``, before the debtor limits."""
        self.ensure_one()
        return self._get_open_domain() + [term for __, step in self._get_exclusion_steps(day) for term in step]

    def _account_env(self):
        """The invoice model as the rule's company sees it."""
        self.ensure_one()
        return self.env["account.move"].with_company(self.company_id).with_context(
            allowed_company_ids=[self.company_id.id])

    def _count_accounts(self, day):
        """How many open accounts there are, and why those that do not qualify
        are left out, for the run's report and the preview."""
        self.ensure_one()
        Move = self._account_env()
        domain = self._get_open_domain()
        previous = Move.search_count(domain)
        counts = {"examined": previous}
        for key, step in self._get_exclusion_steps(day):
            count = previous
            if step:
                domain = domain + step
                count = Move.search_count(domain)
            counts[key] = previous - count
            previous = count
        counts["qualifying"] = previous
        return counts

    # ------------------------------------------------------------------
    # Amounts (posted by recon.adjustment._post_for_rule)
    # ------------------------------------------------------------------
    def _get_adjustment_amounts(self, invoices, day):
        """What the rule adjusts each account by (the decision is
        :func:`~odoo.addons.recon_addon.services.adjustments.plan_adjustment`).

        :return: ``({invoice: signed amount}, {invoice: why nothing})``
        """
        self.ensure_one()
        balances = invoices._recon_line_item_balances()
        company_currency = self.company_id.currency_id
        amounts, reasons = {}, {}
        for invoice in invoices:
            currency = invoice.currency_id
            value = self.value
            if self.adjustment_type == "flat" and currency != company_currency:
                # unrounded: the service rounds the amount, and a tiny
                # decrease keeps its sign for the reason
                value = company_currency._convert(value, currency, self.company_id, day, round=False)
            amount, reason = adjustment_service.plan_adjustment(
                self.adjustment_type, value, balances[invoice], self.product_id.id,
                self.balance_product_ids.ids, currency.rounding)
            amounts[invoice] = amount
            if reason:
                reasons[invoice] = self._get_nothing_reason(reason)
        return amounts, reasons

    def _get_nothing_reason(self, reason):
        """The words of a reason of :mod:`~odoo.addons.recon_addon.services.adjustments`
        why the rule adjusts an account by nothing."""
        self.ensure_one()
        if reason == adjustment_service.NOTHING_OPEN:
            return self.env._("Nothing open on line item code %(code)s",
                              code=self.product_id.display_name)
        if reason == adjustment_service.NO_BASE:
            return self.env._("No balance on the line item codes of the percentage")
        return self.env._("The amount rounds to zero")

    # ------------------------------------------------------------------
    # Actions and the nightly process
    # ------------------------------------------------------------------
    def action_enable(self):
        self.write({"state": "enabled"})
        return True

    def action_disable(self):
        self.write({"state": "disabled"})
        return True

    def action_preview(self):
        self.ensure_one()
        wizard = self.env["recon.adjustment.preview"].create({"rule_id": self.id})
        wizard._build_preview()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Preview of %(rule)s", rule=self.name),
            "res_model": "recon.adjustment.preview",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_run_now(self):
        """Apply the rule today (company time zone), whatever its schedule: the
        first accounts at once, the rest by the scheduler; open the run's report."""
        self.ensure_one()
        if self.state != "enabled":
            raise UserError(self.env._(
                "Rule %(rule)s is disabled. Enable it before running it.", rule=self.name))
        if self.env["recon.undo"].search_count([("res_model", "=", "recon.adjustment.run"),
                                                ("res_id", "in", self.run_ids.ids), ("state", "=", "running")],
                                               limit=1):
            raise UserError(self.env._(
                "A run of rule %(rule)s is being undone. Run the rule again once the undo is done.",
                rule=self.name))
        run = self.env["recon.adjustment.run"]._get_or_create(self, self._local_today(), trigger="manual")
        run._run_continue(limit=RUN_NOW_LIMIT)
        return {
            "type": "ir.actions.act_window",
            "res_model": "recon.adjustment.run",
            "res_id": run.id,
            "view_mode": "form",
        }

    def action_open_adjustments(self):
        return self._action_open_of_rule("recon_addon.recon_adjustment_action")

    def action_open_runs(self):
        return self._action_open_of_rule("recon_addon.recon_adjustment_run_action")

    def _action_open_of_rule(self, xmlid):
        self.ensure_one()
        return dict(self.env["ir.actions.act_window"]._for_xml_id(xmlid), domain=[("rule_id", "=", self.id)])

    @api.model
    def _cron_run_adjustments(self, batch_size=None, now=None):
        """The nightly process; see :meth:`recon.adjustment.run._cron_run_adjustments`."""
        return self.env["recon.adjustment.run"]._cron_run_adjustments(batch_size=batch_size, now=now)
