from collections import defaultdict
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ReconPromotion(models.Model):
    """A trade fund for one period (a month): deductions cleared to it are
    booked to its expense account. A "Below Threshold" promotion receives
    the small deductions the below-threshold rule clears."""

    _name = "recon.promotion"
    _description = "Deduction Promotion"
    _order = "date_from desc, name, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    date_from = fields.Date(
        string="From", required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1),
    )
    date_to = fields.Date(
        string="To", required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1) + relativedelta(months=1, days=-1),
    )
    below_threshold = fields.Boolean(
        help="The below-threshold rule may clear small deductions to this promotion.",
    )
    account_id = fields.Many2one(
        "account.account",
        string="Expense Account",
        required=True,
        check_company=True,
        domain="[('deprecated', '=', False), ('account_type', 'not in', ('asset_receivable', 'liability_payable'))]",
        help="Account debited when a deduction is cleared to this promotion.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        check_company=True,
        help="Customers the promotion is for; leave empty for all customers.",
    )
    budget = fields.Monetary(currency_field="currency_id")
    spent = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_spent",
        help="Deductions cleared to this promotion, in company currency.",
    )
    line_ids = fields.One2many("recon.deduction.line", "promotion_id", string="Clearing Lines")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("date_check", "CHECK(date_from <= date_to)", "A promotion must end on or after the day it starts."),
    ]

    @api.depends("line_ids.amount_company", "line_ids.undone")
    def _compute_spent(self):
        spent = defaultdict(float)
        for model, domain in [
            # the lines of an undone run are history: their entries are reversed
            ("recon.deduction.line", [("promotion_id", "in", self.ids), ("undone", "=", False)]),
            ("recon.threshold.run.line", [("promotion_id", "in", self.ids), ("result", "=", "cleared"),
                                          ("undone", "=", False)]),
        ]:
            for promotion, total in self.env[model]._read_group(domain, ["promotion_id"], ["amount_company:sum"]):
                spent[promotion] += total
        for promotion in self:
            promotion.spent = spent[promotion]

    @api.constrains("date_from", "date_to")
    def _check_one_month(self):
        for promotion in self:
            if self._month_bounds(promotion.date_from) != self._month_bounds(promotion.date_to):
                raise ValidationError(self.env._(
                    "Promotion %(name)s: its period must lie within one month "
                    "(%(start)s to %(end)s spans several). Split it into monthly promotions.",
                    name=promotion.name, start=promotion.date_from, end=promotion.date_to,
                ))

    @api.constrains("date_from", "date_to", "below_threshold", "active")
    def _check_rules_one_per_month(self):
        """Moving a promotion to another month, unticking Below Threshold or
        restoring an archived promotion must keep each of its rules with at
        most one active Below Threshold promotion per month."""
        rules = self.env["recon.threshold.rule"].with_context(active_test=False).search(
            [("promotion_ids", "in", self.ids)])
        # the rules' links as stored: a cached list may have dropped archived promotions
        rules.invalidate_recordset(["promotion_ids"])
        rules._check_promotions()

    def _covers_month(self, day, partner=None):
        """Is this the promotion of ``day``'s month (its period overlaps that
        month) and for ``partner`` (any customer when it names none)?"""
        self.ensure_one()
        start, end = self._month_bounds(day)
        for_partner = not partner or not self.partner_ids or partner.commercial_partner_id in self.partner_ids
        return self.date_from <= end and self.date_to >= start and for_partner

    @api.model
    def _month_bounds(self, day):
        """First and last day of ``day``'s month."""
        start = date(day.year, day.month, 1)
        return start, start + relativedelta(months=1, days=-1)
