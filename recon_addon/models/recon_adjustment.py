import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, formatLang

from ..services import balances as balance_service
from ..services.schedules import ONCE_KEY
from .recon_ledger import Part, Settlement, Transfer

_logger = logging.getLogger(__name__)

#: the unique keys of adjustments not undone: one per (rule, account,
#: period), and one per (rule, debtor) for rules applied once per debtor
UNIQUE_INDEXES = {
    "recon_adjustment_rule_invoice_period_open_unique":
        "(rule_id, invoice_id, period_key) WHERE state != 'undone'",
    "recon_adjustment_rule_debtor_once_unique":
        "(rule_id, partner_id) WHERE apply_limit = 'once_per_debtor' AND state != 'undone'",
}


class ReconAdjustment(models.Model):
    """One adjustment a rule applied to one account (invoice) for one period.

    The unique key (rule, invoice, period key) is what makes a rule apply at
    most once per account and period, whatever happens to the process that
    applies it: it is inserted in the same transaction as the posted entry.
    The period key is the period of the rule's schedule the adjustment
    belongs to (``2024-W09``, ``2024-03``, ``2024``; ``once`` for one-time
    rules and the once-only limits, see
    :func:`~odoo.addons.recon_addon.services.schedules.period_key`), so
    PostgreSQL refuses a second adjustment of an account in the same week,
    month or year, whichever day and by whichever process it is applied.
    Rules applied once per debtor add a unique (rule, debtor) index.
    """

    _name = "recon.adjustment"
    _description = "Applied Adjustment"
    _inherit = ["recon.posted.mixin"]
    _check_company_auto = True
    _order = "date desc, id desc"

    rule_id = fields.Many2one("recon.adjustment.rule", required=True, ondelete="restrict",
                              index=True, check_company=True)
    run_id = fields.Many2one("recon.adjustment.run", ondelete="set null", index="btree_not_null",
                             check_company=True)
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    invoice_id = fields.Many2one("account.move", string="Account", required=True, ondelete="restrict",
                                 index=True, check_company=True)
    partner_id = fields.Many2one("res.partner", string="Debtor", required=True, ondelete="restrict",
                                 index=True)
    period_key = fields.Char(
        required=True,
        help="For rules applied unlimited times, the period of the schedule: ISO week (2024-W09), "
        "month (2024-03) or year (2024); 'once' for one-time rules and the once-only limits.")
    apply_limit = fields.Selection(
        [("unlimited", "Unlimited times"), ("once_per_account", "Only once per account"),
         ("once_per_debtor", "Only once per debtor")],
        required=True, help="The rule's apply limit when the adjustment was made.")
    date = fields.Date(required=True)
    product_id = fields.Many2one("product.product", string="Line Item Code", required=True,
                                 ondelete="restrict")
    currency_id = fields.Many2one("res.currency", required=True)
    amount = fields.Monetary(currency_field="currency_id",
                             help="Positive: the account was increased; negative: decreased.")
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_company = fields.Monetary(
        string="Amount (Company Currency)", currency_field="company_currency_id",
        compute="_compute_amount_company", store=True,
        help="The receivable the entry added (negative: removed), in the company currency.")
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, copy=False,
                              index="btree_not_null", check_company=True)
    reason_id = fields.Many2one(
        "recon.write.off.reason", readonly=True, ondelete="restrict", index="btree_not_null",
        help="The rule's default reason when the adjustment was made; shown on the entry's label.")
    state = fields.Selection(
        [("posted", "Posted"), ("undone", "Undone")], default="posted", required=True, readonly=True,
        index=True, help="Undone: the entry was reversed by the undo of its run; the rule may adjust the "
        "account again in the same period.")
    undo_id = fields.Many2one("recon.undo", readonly=True, copy=False, index="btree_not_null")
    invoice_residual = fields.Monetary(
        string="Account Open After", currency_field="currency_id", readonly=True,
        help="What was open on the invoice right after the adjustment: an increase is undone only while "
        "the invoice is still open by this amount (not paid or reconciled since).")
    previous_status_id = fields.Many2one(
        "recon.collection.status", string="Status Before", readonly=True, ondelete="set null",
        help="The account's status before this adjustment set the rule's zero-balance status; an undo "
        "puts it back.")
    zero_status_id = fields.Many2one(
        "recon.collection.status", string="Status Set", readonly=True, ondelete="set null",
        help="The zero-balance status this adjustment gave the account, if any.")

    @api.depends("move_id")
    def _compute_amount_company(self):
        for adjustment in self:
            adjustment.amount_company = sum(adjustment.move_id.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable").mapped("balance"))

    def init(self):
        """The exactly-once keys, counting the adjustments not undone: after
        an undo the rule may adjust the same account (or debtor) again. The
        unique constraint of version 18.0.1.2.0 and the index without the
        state are replaced (idempotent)."""
        res = super().init()
        cr = self.env.cr
        cr.execute(SQL("ALTER TABLE recon_adjustment DROP CONSTRAINT IF EXISTS "
                       "recon_adjustment_rule_invoice_period_unique"))
        for name, definition in UNIQUE_INDEXES.items():
            cr.execute(SQL("SELECT indexdef FROM pg_indexes WHERE tablename = 'recon_adjustment' "
                           "AND indexname = %s", name))
            row = cr.fetchone()
            if row and "undone" not in row[0]:
                cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
            cr.execute(SQL("CREATE UNIQUE INDEX IF NOT EXISTS %s ON recon_adjustment %s",
                           SQL.identifier(name), SQL(definition)))
        return res

    @api.model
    def _migrate_period_keys(self):
        """Give the adjustments of rules applied unlimited times the period
        key of their rule's schedule (it used to be the date).

        The earliest adjustment of an account in a period takes the key;
        a later one in the same period (charged twice before the key meant
        the period) keeps its date as key, so that both stay recorded and
        the period counts as adjusted.

        :return: the number of adjustments that kept their date
        """
        self.env.cr.execute(SQL("""
            WITH keyed AS (
                SELECT a.id, a.rule_id, a.invoice_id, a.date,
                       CASE r.frequency
                           WHEN 'weekly' THEN to_char(a.date, 'IYYY-"W"IW')
                           WHEN 'monthly' THEN to_char(a.date, 'YYYY-MM')
                           WHEN 'yearly' THEN to_char(a.date, 'YYYY')
                           ELSE %(once)s
                       END AS new_key
                  FROM recon_adjustment a
                  JOIN recon_adjustment_rule r ON r.id = a.rule_id
                 WHERE a.apply_limit = 'unlimited'
            ), ranked AS (
                SELECT id, rule_id, invoice_id, new_key,
                       row_number() OVER (PARTITION BY rule_id, invoice_id, new_key
                                          ORDER BY date, id) AS position
                  FROM keyed
            )
            UPDATE recon_adjustment a
               SET period_key = ranked.new_key
              FROM ranked
             WHERE ranked.id = a.id
               AND ranked.position = 1
               AND a.period_key != ranked.new_key
               AND NOT EXISTS (
                   SELECT 1 FROM recon_adjustment b
                    WHERE b.rule_id = ranked.rule_id AND b.invoice_id = ranked.invoice_id
                      AND b.period_key = ranked.new_key AND b.id != ranked.id)
        """, once=ONCE_KEY))
        self.env.cr.execute(SQL("""
            SELECT count(*) FROM recon_adjustment
             WHERE apply_limit = 'unlimited' AND period_key ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
        """))
        kept = self.env.cr.fetchone()[0]
        if kept:
            _logger.warning("%s adjustments were a second adjustment of their account in the same "
                            "period of their rule's schedule; they keep their date as period key.", kept)
        self.invalidate_model(["period_key"])
        return kept

    @api.depends_context("lang")
    @api.depends("rule_id", "invoice_id")
    def _compute_display_name(self):
        for adjustment in self:
            adjustment.display_name = self.env._(
                "%(rule)s on %(invoice)s",
                rule=adjustment.rule_id.name or "", invoice=adjustment.invoice_id.name or "")

    def _recon_locked_hint(self):
        return self.env._("Post a decrease with an adjustment rule, or reverse its entry in Accounting.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        posted = self.filtered(lambda a: a.move_id.state == "posted")
        if posted:
            raise UserError(self.env._(
                "Adjustment %(adjustment)s has a posted journal entry and cannot be deleted. "
                "Reverse it with a decrease, or reset the entry to draft first.",
                adjustment=posted[0].display_name))

    # ------------------------------------------------------------------
    # Posting
    # ------------------------------------------------------------------
    @api.model
    def _post_for_rule(self, rule, amounts, day, run=None):
        """Record and post the adjustments ``{invoice: amount}`` of ``rule``
        on ``day``.

        The rows are inserted first, in the transaction of their moves: their
        unique keys make a second worker wait, then fail, instead of
        adjusting an account twice. Those that cannot be posted are removed.

        :return: ``(adjustments, errors)``: the posted adjustments, and the
            error message of each account that could not be posted
        """
        rule.ensure_one()
        key = rule._get_period_key(day)
        invoices = list(amounts)
        adjustments = self._create_locked([{
            "rule_id": rule.id,
            "run_id": run.id if run else False,
            "company_id": rule.company_id.id,
            "invoice_id": invoice.id,
            "partner_id": invoice.commercial_partner_id.id,
            "period_key": key,
            "apply_limit": rule.apply_limit,
            "date": day,
            "product_id": rule.product_id.id,
            "currency_id": invoice.currency_id.id,
            "amount": amounts[invoice],
            "reason_id": rule.reason_id.id,
        } for invoice in invoices])
        decreased = self.env["account.move"].concat(*[inv for inv in invoices if amounts[inv] < 0])
        items = decreased._recon_open_adjustment_items_by_invoice() if decreased else {}
        failed = self.browse()
        errors = []
        requests, prepared = [], self.browse()
        for adjustment, invoice in zip(adjustments, invoices, strict=False):
            try:
                requests.append(adjustment._get_ledger_request(day, items.get(invoice)))
                prepared |= adjustment
            except UserError as exc:
                failed |= adjustment
                errors.append(f"{adjustment.display_name}: {exc.args[0]}")
        result = self.env["recon.ledger"]._book(requests, isolate=True)
        for adjustment, move, error in zip(prepared, result.moves, result.errors, strict=False):
            if error:
                failed |= adjustment
                errors.append(error)
            else:
                adjustment._write_locked({"move_id": move.id,
                                          "invoice_residual": adjustment.invoice_id.amount_residual})
        posted = adjustments - failed
        failed.unlink()
        posted._set_zero_balance_status()
        posted._log_on_chatter()
        return posted, errors

    def _get_ledger_request(self, day, adjustment_items=None):
        """What the spine posts for this adjustment: an increase moves the
        amount from the income account to the account's receivable (spread
        over the remaining installments when the rule recalculates the
        payment plan); a decrease settles the open items of the rule's line
        item code against the income account, its open adjustments first.

        :param adjustment_items: the open receivable items of the account's
            adjustments, when already read
        :raise UserError: when less of the code is open than the decrease
        """
        self.ensure_one()
        rule, invoice = self.rule_id, self.invoice_id
        amount = self.amount
        currency = invoice.currency_id
        partner = invoice.commercial_partner_id
        label = self.reason_id._label(self.env._("%(rule)s on %(invoice)s", rule=rule.name, invoice=invoice.name))
        open_items = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
            and line.amount_residual_currency > 0
        ).sorted(lambda line: (line.date_maturity or day, line.id))
        income = rule.product_id.product_tmpl_id.with_company(rule.company_id)._get_product_accounts()["income"]
        if income and invoice.fiscal_position_id:
            income = invoice.fiscal_position_id.map_account(income)
        if amount > 0:
            receivable = (open_items or invoice.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"))[:1].account_id
            schedule = [(day, amount)]
            if rule.recalculate_payment_plan and len(open_items) > 1:
                schedule = balance_service.spread(
                    amount, [(line.date_maturity, line.amount_residual_currency) for line in open_items],
                    currency.rounding) or schedule
            return Transfer(
                source=self, from_account=income, to_account=receivable, partner=partner,
                parts=[Part(part, date_maturity=due) for due, part in schedule],
                label=label, date=day, currency=currency, company=rule.company_id, product=rule.product_id,
            )
        # take the decrease off this code only: its open adjustments first,
        # then its part of the invoice (the installments, oldest first);
        # _get_adjustment_amounts caps it at the code's balance
        if adjustment_items is None:
            adjustment_items = invoice._recon_open_adjustment_items()
        same_code = adjustment_items.filtered(lambda line: line.product_id == rule.product_id)
        # the open balance of the code on the invoice itself, not on its adjustments
        invoice_part = currency.round(invoice._recon_line_item_balances()[invoice].get(rule.product_id.id, 0.0)
                                      - sum(same_code.mapped("amount_residual_currency")))
        limits = {}
        for item in open_items:
            limits[item] = min(item.amount_residual_currency, invoice_part)
            invoice_part = currency.round(invoice_part - limits[item])
        available = currency.round(
            sum(max(item.amount_residual_currency, 0.0) for item in same_code)
            + sum(max(limit, 0.0) for limit in limits.values()))
        if currency.compare_amounts(available, -amount) < 0:
            raise UserError(self.env._(
                "Rule %(rule)s cannot take %(amount)s of %(code)s off account %(invoice)s: "
                "only %(open)s of that line item code is open. Preview the rule again.",
                rule=rule.name, code=rule.product_id.display_name, invoice=invoice.name,
                amount=formatLang(self.env, -amount, currency_obj=currency),
                open=formatLang(self.env, available, currency_obj=currency)))
        return Settlement(
            source=self, items=same_code + open_items, amount=-amount, limits=limits, account=income,
            partner=partner, label=label, date=day, product=rule.product_id,
        )

    def _set_zero_balance_status(self):
        """Give accounts a decrease brought to zero their rule's status; the
        adjustment keeps the status it replaced, for an undo."""
        decreases = self.filtered(lambda a: a.amount < 0 and a.rule_id.zero_balance_status_id)
        if not decreases:
            return
        balances = decreases.invoice_id._recon_account_balance()
        zeroed = decreases.filtered(lambda a: a.invoice_id.currency_id.is_zero(balances[a.invoice_id]))
        for status, adjustments in zeroed.grouped(lambda a: a.rule_id.zero_balance_status_id).items():
            changed = adjustments.filtered(lambda a, status=status: a.invoice_id.collection_status_id != status)
            for previous, same in changed.grouped(lambda a: a.invoice_id.collection_status_id).items():
                same._write_locked({"previous_status_id": previous.id, "zero_status_id": status.id})
            changed.invoice_id.write({"collection_status_id": status.id})

    def _restore_status(self):
        """Put back the status these adjustments replaced, on the accounts
        that still have the status the adjustment set (one changed by hand
        since stays as it is)."""
        changed = self.filtered(lambda a: a.zero_status_id and a.invoice_id.collection_status_id == a.zero_status_id)
        for previous, adjustments in changed.grouped("previous_status_id").items():
            adjustments.invoice_id.write({"collection_status_id": previous.id})

    def _log_on_chatter(self):
        """A note on each account and each debtor naming the rule and the amount."""
        if not self:
            return
        invoice_bodies = defaultdict(list)
        partner_bodies = defaultdict(list)
        for adjustment in self:
            body = Markup("%s <b>%s</b>: %s %s (%s)") % (
                self.env._("Adjustment rule"), adjustment.rule_id.name,
                formatLang(self.env, adjustment.amount, currency_obj=adjustment.currency_id),
                adjustment.product_id.display_name, adjustment.move_id.name)
            invoice_bodies[adjustment.invoice_id.id].append(body)
            partner_bodies[adjustment.partner_id.id].append(
                Markup("%s: %s") % (adjustment.invoice_id.name, body))

        def join(bodies):
            return Markup("<br/>").join(bodies)

        self.invoice_id._message_log_batch({k: join(v) for k, v in invoice_bodies.items()})
        self.partner_id._message_log_batch({k: join(v) for k, v in partner_bodies.items()})
