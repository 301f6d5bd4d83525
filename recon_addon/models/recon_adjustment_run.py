import logging

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, mute_logger

from ..services.debtor_limits import select_within_debtor_limits

_logger = logging.getLogger(__name__)

#: lines kept in a run's skip log; the count covers all
SKIP_LOG_LIMIT = 200


class ReconAdjustmentRun(models.Model):
    """One application of a rule on one date: what was examined, adjusted
    and skipped (by reason), and where the process stands.

    The run engine (``recon.run.mixin``) walks the qualifying accounts in
    order of due date (oldest first) and id, in chunks. The run keeps its
    position (``cursor_date``, ``cursor_id``) in the same transaction as the
    adjustments of each chunk, so a process killed mid-run resumes after the
    last committed chunk. The unique keys of ``recon.adjustment`` guarantee
    exactly one adjustment per account and period even if the position were
    lost. Progress counts the qualifying accounts walked so far.
    """

    _name = "recon.adjustment.run"
    _inherit = ["recon.run.mixin", "recon.undoable.mixin"]
    _description = "Auto Adjustment Run"
    _check_company_auto = True
    _order = "date desc, id desc"
    #: accounts adjusted per transaction
    _run_chunk_size = 200
    _run_open_states = ("pending", "running")
    _run_failed_field = "failed_count"

    rule_id = fields.Many2one("recon.adjustment.rule", required=True, ondelete="cascade",
                              index=True, check_company=True)
    company_id = fields.Many2one("res.company", required=True, index=True,
                                 default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True)
    trigger = fields.Selection([("cron", "Nightly"), ("manual", "Run now")], default="cron",
                               required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
        default="pending", required=True, readonly=True, index=True)
    examined_count = fields.Integer(string="Accounts Examined", readonly=True)
    skipped_status_count = fields.Integer(string="Skipped: Excluded Status", readonly=True)
    skipped_overdue_count = fields.Integer(string="Skipped: Not Overdue Enough", readonly=True)
    skipped_conditions_count = fields.Integer(string="Skipped: Conditions Not Met", readonly=True)
    skipped_already_count = fields.Integer(string="Skipped: Already Adjusted", readonly=True)
    qualifying_count = fields.Integer(string="Accounts Qualifying", readonly=True)
    skipped_zero_count = fields.Integer(string="Skipped: Nothing to Adjust", readonly=True)
    skipped_limit_count = fields.Integer(
        string="Skipped: Debtor Limits", readonly=True,
        help="Qualifying accounts left out by the maximum debtors per run or by 'once per debtor'.")
    failed_count = fields.Integer(string="Failed", readonly=True)
    adjusted_count = fields.Integer(string="Accounts Adjusted", readonly=True)
    debtor_count = fields.Integer(string="Debtors Adjusted", readonly=True)
    amount_total = fields.Monetary(currency_field="currency_id", readonly=True,
                                   help="Sum of the adjustments, in the company currency.")
    adjustment_ids = fields.One2many("recon.adjustment", "run_id", string="Adjustments")
    failure_log = fields.Text(readonly=True)
    skip_log = fields.Text(
        string="Skipped with Nothing to Adjust", readonly=True,
        help="Accounts the rule qualified but had nothing to adjust, with the reason "
        "(e.g. nothing open on the line item code a decrease takes off).")
    cursor_date = fields.Date(readonly=True, copy=False)
    user_id = fields.Many2one("res.users", string="Started By", readonly=True,
                              help="Who pressed Run now; empty for the nightly process.")
    summary = fields.Text(compute="_compute_summary")
    cursor_id = fields.Integer(readonly=True, copy=False)

    def init(self):
        """One run per rule and date, not counting the runs undone: after an
        undo, Run now starts a new run the same day. Replaces the unique
        constraint of version 18.0.1.2.0 (idempotent)."""
        res = super().init()
        self.env.cr.execute(SQL("ALTER TABLE recon_adjustment_run DROP CONSTRAINT IF EXISTS "
                                "recon_adjustment_run_rule_date_unique"))
        self.env.cr.execute(SQL("CREATE UNIQUE INDEX IF NOT EXISTS recon_adjustment_run_rule_date_open_unique "
                                "ON recon_adjustment_run (rule_id, date) WHERE undo_id IS NULL"))
        return res

    @api.depends("rule_id", "date")
    def _compute_display_name(self):
        for run in self:
            run.display_name = f"{run.rule_id.name or ''} ({run.date or ''})"

    @api.depends_context("lang")
    @api.depends("state", "processed_count", "total_count", "adjusted_count", "debtor_count", "amount_total",
                 "examined_count", "qualifying_count", "failed_count")
    def _compute_summary(self):
        for run in self:
            counts = dict(processed=run.processed_count, total=run.total_count, adjusted=run.adjusted_count,
                          debtors=run.debtor_count, amount=run.currency_id.format(run.amount_total),
                          examined=run.examined_count, qualifying=run.qualifying_count, failed=run.failed_count)
            if run._run_is_open():
                run.summary = self.env._("Running: %(processed)s of %(total)s qualifying accounts walked so far; "
                                         "%(adjusted)s adjusted for %(amount)s.", **counts)
            else:
                run.summary = self.env._("Adjusted %(adjusted)s accounts of %(debtors)s debtors for %(amount)s; "
                                         "%(examined)s examined, %(qualifying)s qualifying, %(failed)s failed.",
                                         **counts)

    def _run_done_title(self):
        return self.env._("Adjustment run done: %(run)s", run=self.display_name)

    # ------------------------------------------------------------------
    # Creation
    # ------------------------------------------------------------------
    @api.model
    def _get_or_create(self, rule, day, trigger="cron"):
        """The run of ``rule`` on ``day``; a finished run is reopened so that
        accounts that qualified since are adjusted (the others are not: their
        adjustments exist). A run undone stays as it is: a new one is
        created."""
        run = self.search([("rule_id", "=", rule.id), ("date", "=", day), ("undo_id", "=", False)], limit=1)
        user = self.env.user if trigger == "manual" else self.env["res.users"]
        if not run:
            return self.create({"rule_id": rule.id, "company_id": rule.company_id.id,
                                "date": day, "trigger": trigger, "user_id": user.id})
        if run.state in ("done", "failed"):
            run.write({"state": "pending", "cursor_date": False, "cursor_id": 0, "trigger": trigger,
                       "user_id": user.id})
        elif user:
            run.user_id = user
        return run

    @api.model
    def _create_due_runs(self, now=None):
        """A pending run for each enabled rule due today in its company's time
        zone that has none yet. Two workers doing this at once create one run:
        the second insert hits the unique (rule, date) key and is skipped."""
        for rule in self.env["recon.adjustment.rule"].search([("state", "=", "enabled")]):
            day = rule._local_today(now)
            if not rule._is_due(day) or self.search_count(
                    [("rule_id", "=", rule.id), ("date", "=", day)], limit=1):
                continue
            try:
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                    self.create({"rule_id": rule.id, "company_id": rule.company_id.id, "date": day})
            except psycopg2.IntegrityError:
                _logger.info("Run of rule %s on %s already created by another worker", rule.id, day)

    @api.model
    def _cron_start_due_runs(self, now=None):
        """Hourly, so that each company's first call after its local
        midnight starts the day's runs; the run engine processes them."""
        self._create_due_runs(now=now)
        self.search(self._run_open_domain())._run_dispatch()

    @api.model
    def _cron_run_adjustments(self, batch_size=None, now=None):
        """Start the runs due, then process the next chunk of ``batch_size``
        accounts of the open runs; return how many accounts were walked."""
        self._create_due_runs(now=now)
        return self._cron_process_runs(limit=batch_size)

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    def _start(self):
        """Count the accounts and the reasons of exclusion. A reopened run
        counts the accounts it adjusted before as qualifying, not as already
        adjusted."""
        self.ensure_one()
        counts = self.rule_id._count_accounts(self.date)
        self.write({
            "state": "running",
            "examined_count": counts["examined"],
            "skipped_status_count": counts["status"],
            "skipped_overdue_count": counts["overdue"],
            "skipped_conditions_count": counts["conditions"],
            "skipped_already_count": max(0, counts["already"] - self.adjusted_count),
            "qualifying_count": counts["qualifying"] + self.adjusted_count,
            "skipped_zero_count": 0,
            "failed_count": 0,
            "failure_log": False,
            "skip_log": False,
            "total_count": counts["qualifying"] + self.adjusted_count,
            "processed_count": self.adjusted_count,
        })

    def _finish(self):
        self.ensure_one()
        self.write({
            "state": "done",
            "processed_count": self.total_count,
            "skipped_limit_count": max(0, self.qualifying_count - self.adjusted_count
                                       - self.skipped_zero_count - self.failed_count),
        })

    def _get_batch_domain(self):
        """Qualifying accounts after the cursor, within the debtor limit."""
        self.ensure_one()
        rule = self.rule_id
        domain = rule._get_qualifying_domain(self.date)
        if self.cursor_date:
            domain = domain + [
                "|", ("invoice_date_due", ">", self.cursor_date),
                "&", ("invoice_date_due", "=", self.cursor_date), ("id", ">", self.cursor_id),
            ]
        if self.debtor_count >= rule.max_debtors:
            domain = domain + [("commercial_partner_id", "in", SQL(
                "(SELECT partner_id FROM recon_adjustment WHERE run_id = %s)", self.id))]
        return domain

    def _adjust_within_debtor_limits(self, candidates, amounts):
        """Post the adjustments of ``candidates`` (accounts with something to
        adjust, in due-date order) under the debtor limits: at most
        ``max_debtors`` debtors per run, one account per debtor when the
        rule is once per debtor. Only debtors actually adjusted take a
        place: when an account fails to post, the place goes to the next
        debtor in due-date order (or, once per debtor, to the debtor's next
        account).

        :return: ``(posted, errors, new_debtors)``
        """
        self.ensure_one()
        rule = self.rule_id
        once_per_debtor = rule.apply_limit == "once_per_debtor"
        partners = self.env["account.move"].concat(*candidates).commercial_partner_id
        known = {partner.id for [partner] in self.env["recon.adjustment"]._read_group(
            [("run_id", "=", self.id), ("partner_id", "in", partners.ids)], ["partner_id"])}
        capacity = rule.max_debtors - self.debtor_count
        posted, errors, new_debtors, tried = self.env["recon.adjustment"], [], set(), set()
        while True:
            pending = [inv for inv in candidates if inv not in tried
                       and not (once_per_debtor and inv.commercial_partner_id.id in known)]
            positions = select_within_debtor_limits(
                [invoice.commercial_partner_id.id for invoice in pending], capacity, once_per_debtor, known)
            if not positions:
                break
            chosen = [pending[i] for i in positions]
            tried.update(chosen)
            done, failures = self.env["recon.adjustment"]._post_for_rule(
                rule, {inv: amounts[inv] for inv in chosen}, self.date, run=self)
            posted |= done
            errors += failures
            adjusted = set(done.partner_id.ids) - known
            capacity -= len(adjusted)
            known |= adjusted
            new_debtors |= adjusted
        return posted, errors, new_debtors

    # ------------------------------------------------------------------
    # Hooks of the run engine
    # ------------------------------------------------------------------
    @api.model
    def _run_open_domain(self):
        # disabling a rule stops its run in progress
        return super()._run_open_domain() + [("rule_id.state", "=", "enabled")]

    def _run_next_chunk(self, limit):
        """The next ``limit`` qualifying accounts of this run (a pending run
        is started first)."""
        self.ensure_one()
        if self.state == "pending":
            self._start()
        return self.rule_id._account_env().search(self._get_batch_domain(), order="invoice_date_due, id",
                                                  limit=limit)

    def _run_process_chunk(self, invoices):
        """Adjust ``invoices`` and move the run's position past them."""
        self.ensure_one()
        amounts, reasons = self.rule_id._get_adjustment_amounts(invoices, self.date)
        candidates = [inv for inv in invoices if inv not in reasons]
        posted, errors, new_debtors = self._adjust_within_debtor_limits(candidates, amounts)
        last = invoices[-1]
        vals = {
            "adjusted_count": self.adjusted_count + len(posted),
            "debtor_count": self.debtor_count + len(new_debtors),
            "amount_total": self.amount_total + sum(posted.mapped("amount_company")),
            "cursor_date": last.invoice_date_due,
            "cursor_id": last.id,
            "skipped_zero_count": self.skipped_zero_count + len(reasons),
            "failed_count": self.failed_count + len(errors),
        }
        if errors:
            vals["failure_log"] = "\n".join(filter(None, [self.failure_log, *errors]))
        if reasons:
            vals["skip_log"] = self._append_skip_log(
                [f"{invoice.name}: {reason}" for invoice, reason in reasons.items()])
        self._run_write(vals)

    def _run_record_failure(self, invoice, message):
        self.ensure_one()
        self._run_write({
            "cursor_date": invoice.invoice_date_due,
            "cursor_id": invoice.id,
            "failed_count": self.failed_count + 1,
            "failure_log": "\n".join(filter(None, [self.failure_log, f"{invoice.name}: {message}"])),
        })

    def _skip_log_more(self):
        """The line that ends a full skip log, in the user's language."""
        return self.env._("… more accounts skipped with nothing to adjust (see the count).")

    def _append_skip_log(self, lines):
        """The skip log with ``lines`` added, up to :data:`SKIP_LOG_LIMIT` lines."""
        self.ensure_one()
        more = self._skip_log_more()
        logged = self.skip_log.splitlines() if self.skip_log else []
        room = max(SKIP_LOG_LIMIT - len(logged), 0)
        logged += lines[:room]
        if len(lines) > room and logged[-1] != more:
            logged.append(more)
        return "\n".join(logged)

    def action_open_adjustments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("recon_addon.recon_adjustment_action")
        action["domain"] = [("run_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    def _undo_check(self):
        if self.state not in ("done", "failed"):
            raise UserError(self.env._("Run %(run)s is still running: undo it once it is done.",
                                       run=self.display_name))

    def _undo_item_domain(self):
        return "recon.adjustment", [("run_id", "=", self.id), ("state", "=", "posted"), ("move_id", "!=", False)]

    def _undo_moves(self, items):
        return {adjustment: adjustment.move_id for adjustment in items}

    def _undo_skip_reasons(self, items):
        """Increases something depends on stay as they are: a fee item
        reconciled since (paid, or taken off by a decrease), or an account
        paid or reconciled since the adjustment. Decreases reconciled with
        other entries since are skipped by the undo engine itself."""
        skips = {}
        for adjustment in items.filtered(lambda a: a.amount > 0):
            fee_items = adjustment.move_id.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable")
            partials = fee_items.matched_debit_ids | fee_items.matched_credit_ids
            invoice = adjustment.invoice_id
            if partials:
                entries = (partials.debit_move_id | partials.credit_move_id).move_id - adjustment.move_id
                skips[adjustment] = self.env._(
                    "Its item on account %(invoice)s was reconciled since (%(entries)s): unreconcile it first, "
                    "or correct the account with a decrease.",
                    invoice=invoice.name, entries=", ".join(entries.mapped("name")) or "-")
            elif adjustment.invoice_residual and invoice.currency_id.compare_amounts(
                    invoice.amount_residual, adjustment.invoice_residual):
                lines = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
                entries = (lines.matched_debit_ids.debit_move_id | lines.matched_credit_ids.credit_move_id).move_id
                skips[adjustment] = self.env._(
                    "Account %(invoice)s was paid or reconciled since the adjustment (%(entries)s): correct it "
                    "with a decrease if the fee should not stand.",
                    invoice=invoice.name, entries=", ".join(entries.mapped("name")) or "-")
        return skips

    def _undo_restore(self, items, undo):
        """The reversals reopen the invoices (a decrease) or settle the fee
        items (an increase, also where they were spread over the payment
        plan); the adjustments show as Undone, no longer count in the line
        item code balances nor as already adjusted, and the accounts get
        back the status a decrease to zero replaced."""
        items._recon_write({"state": "undone", "undo_id": undo.id})
        items._restore_status()

    def _undo_done(self, undo):
        """A note on the rule, which is where its runs are followed."""
        self.rule_id._message_log(body=Markup("<p>%s</p>%s") % (self.display_name, undo._get_chatter_note()))
