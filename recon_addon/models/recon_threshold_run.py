import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError


class ReconThresholdRun(models.Model):
    """One run of the below-threshold rule: who, when, what it cleared,
    what it left and why. Cleared deductions are its resolution lines;
    every other outcome is a line of the run.

    The run engine (``recon.run.mixin``) processes the transactions and
    invoices the run keeps to process (``pending_*_ids``) in chunks. A
    chunk's entries and its removal from the pending records commit
    together; a record processed twice clears nothing twice (resolved
    deductions are passed over, and the unique key of automated resolution
    lines refuses a second one).
    """

    _name = "recon.threshold.run"
    _inherit = ["recon.run.mixin", "recon.undoable.mixin"]
    _description = "Below-Threshold Run"
    _order = "id desc"
    _check_company_auto = True
    #: transactions (and invoices) a chunk processes: at about 6 ms per
    #: deduction a chunk stays a few seconds, well under a request's CPU limit
    _run_chunk_size = 200
    _run_failed_field = "refused_count"

    rule_id = fields.Many2one("recon.threshold.rule", required=True, ondelete="restrict", readonly=True,
                              check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True,
                                 default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id", string="Currency")
    user_id = fields.Many2one("res.users", string="Run By", readonly=True, default=lambda self: self.env.user)
    date = fields.Datetime(readonly=True, default=fields.Datetime.now)
    origin = fields.Selection([("manual", "Manual"), ("cron", "Scheduled")], required=True, readonly=True,
                              default="manual")
    threshold = fields.Monetary(currency_field="currency_id", readonly=True)
    reason_id = fields.Many2one("recon.write.off.reason", readonly=True, ondelete="restrict",
                                help="The rule's reason when the run started: on its entries' labels and lines.")
    cleared_count = fields.Integer(readonly=True)
    cleared_amount = fields.Monetary(currency_field="currency_id", readonly=True)
    left_count = fields.Integer(readonly=True)
    left_amount = fields.Monetary(currency_field="currency_id", readonly=True)
    refused_count = fields.Integer(readonly=True)
    skipped_count = fields.Integer(readonly=True)
    line_ids = fields.One2many("recon.threshold.run.line", "run_id", string="Outcomes", readonly=True)
    deduction_line_ids = fields.One2many("recon.deduction.line", "run_id", string="Cleared Deductions",
                                         readonly=True)
    summary = fields.Text(compute="_compute_summary")
    state = fields.Selection([("running", "Running"), ("done", "Done")], required=True, readonly=True,
                             default="running", index=True)
    pending_transaction_ids = fields.Many2many(
        "recon.deduction.transaction", "recon_threshold_run_pending_transaction_rel", "run_id", "transaction_id",
        string="Transactions to Process", readonly=True, copy=False)
    pending_invoice_ids = fields.Many2many(
        "account.move", "recon_threshold_run_pending_invoice_rel", "run_id", "move_id",
        string="Invoices to Process", readonly=True, copy=False)

    @api.depends_context("lang")
    @api.depends("rule_id.name", "date")
    def _compute_display_name(self):
        for run in self:
            run.display_name = self.env._("%(rule)s run of %(date)s", rule=run.rule_id.name,
                                          date=fields.Datetime.to_string(run.date))

    @api.depends_context("lang")
    @api.depends("cleared_count", "cleared_amount", "left_count", "left_amount", "refused_count", "skipped_count",
                 "state", "processed_count", "total_count")
    def _compute_summary(self):
        for run in self:
            fmt = run.currency_id.format
            counts = dict(processed=run.processed_count, total=run.total_count, cleared=run.cleared_count,
                          cleared_amount=fmt(run.cleared_amount), left=run.left_count, left_amount=fmt(run.left_amount),
                          refused=run.refused_count, skipped=run.skipped_count)
            if run.state == "running":
                run.summary = self.env._(
                    "Running: %(processed)s of %(total)s processed so far. Cleared %(cleared)s for "
                    "%(cleared_amount)s; left open %(left)s; refused %(refused)s; skipped %(skipped)s.", **counts)
            else:
                run.summary = self.env._("Cleared %(cleared)s for %(cleared_amount)s; left open %(left)s for "
                                         "%(left_amount)s; refused %(refused)s; skipped %(skipped)s.", **counts)

    # ------------------------------------------------------------------
    # Life of a run
    # ------------------------------------------------------------------
    @api.model
    def _start(self, rule, origin="manual"):
        error = rule._get_configuration_error()
        if error:
            raise UserError(error)
        return self.create({
            "rule_id": rule.id,
            "company_id": rule.company_id.id,
            "origin": origin,
            "threshold": rule.threshold,
            "reason_id": rule.reason_id.id,
        })

    @api.model
    def _run_manually(self, records):
        """One run per company of ``records`` (deduction transactions or
        invoices), its first chunk processed now; returns the action that
        shows the run summaries."""
        runs = self
        for company, company_records in records.grouped("company_id").items():
            rule = self.env["recon.threshold.rule"]._get_enabled_rule(company)
            run = self._start(rule, origin="manual")
            kind = "invoices" if company_records._name == "account.move" else "transactions"
            run._queue(**{kind: company_records})
            run._run_continue(limit=run._run_chunk_size)
            runs |= run
        return runs._action_open()

    def _queue(self, transactions=None, invoices=None):
        """Keep ``transactions`` and ``invoices`` on the run, to process."""
        self.ensure_one()
        transactions, invoices = transactions or [], invoices or []
        self.write({
            "pending_transaction_ids": [Command.link(t.id) for t in transactions],
            "pending_invoice_ids": [Command.link(i.id) for i in invoices],
            "total_count": self.total_count + len(transactions) + len(invoices),
        })

    # ------------------------------------------------------------------
    # Hooks of the run engine
    # ------------------------------------------------------------------
    def _run_as_owner(self):
        # the scheduler clears as the user who started the run
        return self.with_user(self.user_id).with_company(self.company_id)

    def _run_next_chunk(self, limit):
        """The next ``limit`` pending transactions and ``limit`` pending invoices."""
        self.ensure_one()
        transactions = self.env["recon.deduction.transaction"].search(
            [("id", "in", self.pending_transaction_ids.ids)], order="date, id", limit=limit)
        invoices = self.env["account.move"].search(
            [("id", "in", self.pending_invoice_ids.ids)], order="id", limit=limit)
        return [*transactions, *invoices]

    def _run_process_chunk(self, items):
        """Process the transactions and invoices of ``items`` and take them
        off the pending records."""
        self.ensure_one()
        for model, process in (("recon.deduction.transaction", self._process_transactions),
                               ("account.move", self._process_invoices)):
            records = self.env[model].concat(*(item for item in items if item._name == model))
            if records:
                process(records)
        self._unqueue(items)

    def _run_record_failure(self, item, message):
        self.ensure_one()
        self.env["recon.threshold.run.line"]._create_locked([self._outcome("refused", message, item)])
        self._unqueue(item)

    def _unqueue(self, items):
        """Take ``items`` (transactions and invoices) off the records to process."""
        self.ensure_one()
        self._run_write({
            "pending_transaction_ids": [Command.unlink(t.id) for t in items if t._name != "account.move"],
            "pending_invoice_ids": [Command.unlink(i.id) for i in items if i._name == "account.move"],
        })

    def _run_count_progress(self):
        """Count the outcomes so far."""
        aggregates = ["__count", "amount_company:sum"]
        for run in self:
            domain = [("run_id", "=", run.id)]
            groups = {group[0]: group[1:] for group in
                      self.env["recon.threshold.run.line"]._read_group(domain, ["result"], aggregates)}
            lines, lines_amount = self.env["recon.deduction.line"]._read_group(domain, [], aggregates)[0]
            invoices, invoices_amount = groups.get("cleared", (0, 0.0))
            left, left_amount = groups.get("left", (0, 0.0))
            run.write({
                "cleared_count": lines + invoices,
                "cleared_amount": (lines_amount or 0.0) + invoices_amount,
                "left_count": left,
                "left_amount": left_amount,
                "refused_count": groups.get("refused", (0, 0.0))[0],
                "skipped_count": groups.get("skipped", (0, 0.0))[0],
            })

    def _finish(self):
        """Count the outcomes, mark the runs done and tell the rule's
        followers (the run engine tells the user)."""
        self._run_count_progress()
        for run in self:
            run.write({"state": "done", "processed_count": run.total_count})
        # one note per run on its rule, in one call per round: a call writes
        # at most one note per rule, so a rule's second run waits a round
        by_rule = {}
        for run in self:
            by_rule.setdefault(run.rule_id.id, []).append(run.summary)
        for depth in range(max(map(len, by_rule.values()), default=0)):
            bodies = {rule_id: notes[depth] for rule_id, notes in by_rule.items() if depth < len(notes)}
            self.rule_id.browse(list(bodies))._message_log_batch(bodies)

    def _run_done_title(self):
        return self.env._("Below-threshold run done: %(run)s", run=self.display_name)

    def _action_open(self):
        action = {"type": "ir.actions.act_window", "res_model": self._name}
        if len(self) == 1:
            return dict(action, name=self.env._("Run Summary"), res_id=self.id, view_mode="form", target="new")
        return dict(action, name=self.env._("Run Summaries"), view_mode="list,form", domain=[("id", "in", self.ids)])

    def _outcome(self, result, reason, record):
        """Values of the run line telling what became of ``record`` (a
        transaction, one of its deductions or an invoice)."""
        vals = {"run_id": self.id, "result": result, "reason": reason, "currency_id": record.currency_id.id}
        if record._name == "account.move":
            return dict(vals, invoice_id=record.id,
                        amount=record.amount_residual * (-1 if record.move_type == "out_refund" else 1))
        if record._name == "recon.deduction":
            return dict(vals, transaction_id=record.transaction_id.id, deduction_id=record.id,
                        amount=record.open_amount)
        return dict(vals, transaction_id=record.id, amount=record.original_amount)

    def _to_clear(self, records, outcomes, check):
        """Of ``records`` (deductions or invoices), those the rule clears now
        with their counterpart ``(account, promotion, fund type)``: passed by
        ``check`` (which returns None or the ``(result, reason)`` outcome),
        below the threshold, with a counterpart, held by this transaction.
        The others are added to ``outcomes``."""
        rule = self.rule_id
        candidates = {}
        for record in records:
            outcome = check(record)
            if outcome is None:
                if record._name == "account.move":
                    amount, currency = record.amount_residual_signed, record.company_currency_id
                    day = record.invoice_date or record.date
                else:
                    amount, currency, day = record.amount, record.currency_id, record.date
                if not rule._is_below(amount, currency, day):
                    outcome = ("left", self.env._("Not below the threshold."))
                elif (counterpart := rule._get_counterpart(day, record.partner_id)) is None:
                    outcome = ("left", rule._get_no_counterpart_reason(day, record.partner_id))
                else:
                    candidates[record] = counterpart
                    continue
            outcomes.append(self._outcome(*outcome, record))
        todo = records.browse([record.id for record in candidates])
        held = todo._recon_lock_rows()
        outcomes += [self._outcome("skipped", self.env._("Being cleared by another run."), record)
                     for record in todo - held]
        return {record: candidates[record] for record in held}

    # ------------------------------------------------------------------
    # Transactions
    # ------------------------------------------------------------------
    def _process_transactions(self, transactions):
        """Break out and clear the small deductions of ``transactions``.

        A transaction with a differential is refused; the others are broken
        out when needed, then each of their new deductions strictly below the
        threshold is cleared in full. The deductions of one transaction clear
        together or not at all.
        """
        self.ensure_one()
        outcomes = []
        refused = transactions.browse()
        for transaction in transactions.filtered(lambda t: t.state == "draft"):
            error = transaction._get_breakout_refusal()
            if error:
                outcomes.append(self._outcome("refused", error, transaction))
                refused |= transaction
        todo = transactions - refused
        locked = todo._recon_lock_rows()
        outcomes += [self._outcome("skipped", self.env._("Being processed by another run."), transaction)
                     for transaction in todo - locked]
        for transaction, error in locked.filtered(lambda t: t.state == "draft")._breakout(isolate=True).items():
            outcomes.append(self._outcome("refused", error, transaction))
            locked -= transaction

        in_progress = ("left", self.env._("In progress: it has manual resolution lines."))
        to_clear = self._to_clear(locked.deduction_ids.filtered(lambda d: d.state in ("new", "in_progress")),
                                  outcomes, lambda d: in_progress if d.state == "in_progress" else None)
        by_transaction = {}
        for deduction, (_account, promotion, fund_type) in to_clear.items():
            vals = deduction._prepare_resolution_vals(
                "promotion" if promotion else "write_off", deduction.open_amount,
                promotion_id=promotion.id, fund_type_id=fund_type.id,
                automated=True, rule=self.rule_id, run=self,
            )
            by_transaction.setdefault(deduction.transaction_id.id, []).append(vals)
        if by_transaction and self._clear_chunk([vals for group in by_transaction.values() for vals in group]):
            # find the culprits: one savepoint per transaction, only on failure
            for vals_list in by_transaction.values():
                error = self._clear_chunk(vals_list)
                if error:
                    outcomes += [self._outcome("refused", error, self.env["recon.deduction"].browse(
                        vals["deduction_id"])) for vals in vals_list]
        # keep memory flat on long runs: what is posted need not stay in the cache
        self.env.invalidate_all(flush=True)
        self.env["recon.threshold.run.line"]._create_locked(outcomes)

    def _clear_chunk(self, vals_list):
        """Clear one batch in a savepoint.

        :return: None when it posted; otherwise why, and nothing of it stays
        """
        Line = self.env["recon.deduction.line"]
        try:
            with self.env.cr.savepoint():
                Line._create_and_post(vals_list, source=self)
        except (UserError, ValidationError) as exc:
            return exc.args[0]
        except psycopg2.IntegrityError:
            # the unique index: another run cleared one of them meanwhile
            return self.env._("Already cleared by another run.")
        return None

    # ------------------------------------------------------------------
    # Invoices
    # ------------------------------------------------------------------
    def _process_invoices(self, invoices):
        """Clear the small open balances that a payment or a credit note
        left on posted customer invoices and credit notes, each with its own
        entry reconciled with the invoice. An invoice nothing was ever
        matched with is skipped: its balance is not a short payment."""
        self.ensure_one()
        active = self.env["account.move"]._recon_default_collection_status()
        busy_invoices = self.env["recon.deduction"].search([
            ("state", "=", "in_progress"), ("transaction_id.invoice_ids", "in", invoices.ids),
        ]).transaction_id.invoice_ids
        paid_in_part = invoices._recon_get_paid_in_part()

        def check(invoice):
            if invoice.state != "posted" or invoice.move_type not in ("out_invoice", "out_refund"):
                return "refused", self.env._("%(name)s is not a posted customer invoice or credit note.",
                                             name=invoice.display_name)
            if invoice.currency_id.is_zero(invoice.amount_residual):
                return "skipped", self.env._("Nothing is open.")
            if invoice.collection_status_id and invoice.collection_status_id != active:
                return "skipped", self.env._("Collection status is %(status)s.",
                                             status=invoice.collection_status_id.name)
            if invoice in busy_invoices:
                return "skipped", self.env._("A deduction on this invoice is in progress.")
            if invoice not in paid_in_part:
                return "skipped", self.env._("Never paid: no payment or credit note is matched with it yet. The "
                                             "rule clears only what a short payment leaves open.")
            return None

        outcomes = []
        to_clear = self._to_clear(invoices, outcomes, check)
        RunLine = self.env["recon.threshold.run.line"]
        RunLine._create_locked(outcomes)
        if not to_clear:
            return
        run_lines = RunLine._create_locked([dict(
            self._outcome("cleared", self.env._("Below the threshold."), invoice),
            account_id=account.id, promotion_id=promotion.id, fund_type_id=fund_type.id,
            reason_id=self.reason_id.id,
        ) for invoice, (account, promotion, fund_type) in to_clear.items()])
        result = self.env["recon.ledger"]._book(
            [run_line._get_settlement() for run_line in run_lines], isolate=True)
        for run_line, move, error in zip(run_lines, result.moves, result.errors, strict=False):
            run_line._write_locked({"result": "refused", "reason": error} if error else {"move_id": move.id})

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    # The items of the undo are the entries the run posted: one per
    # transaction (shared by its cleared deductions) and one per invoice. An
    # entry is reversed whole or not at all, so a deduction something
    # depends on leaves the entry of its transaction as it is (listed).
    def _undo_check(self):
        if self.state != "done":
            raise UserError(self.env._("%(run)s is still running: undo it once it is done.", run=self.display_name))

    def _undo_item_domain(self):
        moves = self.deduction_line_ids.move_id | self.line_ids.move_id
        return "account.move", [("id", "in", moves.ids)]

    def _undo_moves(self, items):
        return {move: move for move in items}

    def _undo_skip_reasons(self, items):
        """An entry whose deduction was resolved by hand or voided since the
        run, or that was unreconciled by hand, is left as it is."""
        skips = {}
        lines_by_move = self.deduction_line_ids.grouped("move_id")
        for move in items:
            reasons = []
            for line in lines_by_move.get(move, self.env["recon.deduction.line"]):
                deduction = line.deduction_id
                later = deduction.line_ids.filtered(lambda other, line=line: other.id > line.id and not other.undone)
                if deduction.voided:
                    reasons.append(self.env._("Deduction %(name)s was voided since the run.",
                                              name=deduction.display_name))
                elif later:
                    reasons.append(self.env._(
                        "Deduction %(name)s was resolved by hand since the run (%(entries)s): reverse that "
                        "resolution first, or leave this entry as it is.",
                        name=deduction.display_name, entries=", ".join(later.move_id.mapped("name")) or "-"))
            if not reasons:
                open_items = move.line_ids.filtered(
                    lambda item: item.account_id.reconcile and not item.company_currency_id.is_zero(
                        item.amount_residual))
                if open_items:
                    reasons.append(self.env._(
                        "Its entry was unreconciled by hand since the run: reverse it in Accounting if it is "
                        "still wrong."))
            if reasons:
                skips[move] = " ".join(reasons)
        return skips

    def _undo_restore(self, items, undo):
        """The reversals reopen the deductions and invoices; the run's lines
        of those entries stay, marked undone, and no longer count."""
        self.deduction_line_ids.filtered(lambda line: line.move_id in items and not line.undone) \
            ._recon_write({"undone": True})
        self.line_ids.filtered(lambda line: line.move_id in items and not line.undone)._recon_write({"undone": True})

    def _undo_done(self, undo):
        res = super()._undo_done(undo)
        self.rule_id._message_log(body=undo._get_chatter_note())
        return res
