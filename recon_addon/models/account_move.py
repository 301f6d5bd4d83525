from markupsafe import Markup
from psycopg2 import errors as pgerrors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import formatLang, mute_logger

from ..services import balances as balance_service


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_status_id = fields.Many2one(
        "recon.collection.status",
        index="btree_not_null",
        tracking=True,
        copy=False,
        help="Where this customer invoice stands in collections.",
    )
    # The record that asked the ledger spine for this entry.
    recon_source_model = fields.Char(string="Requested By (Model)", readonly=True, copy=False, index="btree_not_null")
    recon_source_id = fields.Many2oneReference(
        string="Requested By (ID)", model_field="recon_source_model", readonly=True, copy=False,
    )
    recon_undo_id = fields.Many2one(
        "recon.undo", string="Undo", readonly=True, copy=False, index="btree_not_null",
        help="The undo this reversal was posted for.",
    )
    recon_source_ref = fields.Reference(
        selection="_selection_recon_source_ref",
        string="Requested By",
        compute="_compute_recon_source_ref",
    )

    @api.model
    def _selection_recon_source_ref(self):
        # the model's name as ir.model holds it: translated in the user's language
        IrModel = self.env["ir.model"]
        return [(model, IrModel._get(model).name or self.env[model]._description) for model in self.env.registry
                if model.startswith("recon.") and not self.env[model]._abstract]

    @api.depends("recon_source_model", "recon_source_id")
    def _compute_recon_source_ref(self):
        for move in self:
            model = move.recon_source_model
            move.recon_source_ref = (
                f"{model},{move.recon_source_id}"
                if model in self.env and move.recon_source_id else False
            )

    @api.model
    def _recon_default_collection_status(self):
        return self.env.ref("recon_addon.recon_collection_status_active", raise_if_not_found=False)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        to_mark = posted.filtered(lambda m: m.move_type == "out_invoice" and not m.collection_status_id)
        status = to_mark and self._recon_default_collection_status()
        if status:
            to_mark.write({"collection_status_id": status.id})
        return posted

    def _reconcile_reversed_moves(self, reverse_moves, move_reverse_cancel):
        """Core reconciles each reversal with its move when posting it, one
        ``reconcile()`` (one reconciliation plan) per move and account. When
        the ledger spine posts many reversals at once
        (``recon_reconcile_reversals_in_one_plan`` in the context), the same
        groups of items are reconciled in one plan: the same partials and
        full reconciles, made in one pass. Any other posting is core's."""
        if not self.env.context.get("recon_reconcile_reversals_in_one_plan"):
            return super()._reconcile_reversed_moves(reverse_moves, move_reverse_cancel)
        plan = []
        for move, reverse_move in zip(self, reverse_moves, strict=False):
            groups = (move.line_ids + reverse_move.line_ids).filtered(lambda line: not line.reconciled) \
                .grouped(lambda line: (line.account_id, line.currency_id))
            plan += [lines for (account, _currency), lines in groups.items()
                     if account.reconcile or account.account_type in ("asset_cash", "liability_credit_card")]
        if plan:
            # reconciling changes no invoice line: no sync around it (see recon.ledger)
            self.env["account.move.line"].with_context(
                move_reverse_cancel=move_reverse_cancel, skip_invoice_sync=True)._reconcile_plan(plan)
        return reverse_moves

    @api.depends("posted_before", "state", "journal_id", "date", "move_type", "origin_payment_id")
    def _compute_name(self):
        """Core numbers each posted entry on its own: it reads the journal's
        last number, then writes the next one in its own savepoint, retrying
        on a clash with the unique index. When the ledger spine posts many
        entries (``recon_number_in_batch`` in the context), the new entries
        of one journal and day are numbered as one chain (see
        :meth:`_recon_number_in_chains`); any other move is core's."""
        if not self.env.context.get("recon_number_in_batch"):
            return super()._compute_name()
        rest = self - self._recon_number_in_chains()
        if rest:
            super(AccountMove, rest)._compute_name()
        return None

    def _recon_number_in_chains(self):
        """Number the new journal entries of ``self`` being posted, per
        journal and day, as core would one after the other: the same sequence
        domain and format (core's ``_get_last_sequence`` and
        ``_get_sequence_format_param``), the same order (date, reference,
        id), the next numbers after the journal's last one, all written in one
        savepoint. The first entry of a period is numbered by core (it finds
        the period's format). A clash with the unique index (another
        transaction numbered in that journal meanwhile) leaves the chain to
        core, which retries number by number. Return the moves numbered."""
        todo = self.filtered(lambda m: m.state == "posted" and m.date and m.journal_id and m.move_type == "entry"
                             and not m.origin_payment_id and (not m.name or m.name == "/"))
        numbered = self.browse()
        chains = todo.grouped(lambda m: (m.date, m.journal_id.id))
        for key in sorted(chains):
            moves = chains[key].sorted(lambda m: (m.ref or "", m._origin.id))
            last = moves[0]._get_last_sequence()
            if not last:
                super(AccountMove, moves[0])._compute_name()
                numbered |= moves[0]
                last, moves = moves[0].name, moves[1:]
            if moves:
                last = moves._recon_reserve_numbers(last)
            if moves and moves._recon_write_chain(last):
                numbered |= moves
        numbered._inverse_name()
        return numbered

    def _recon_reserve_numbers(self, last):
        """Hook: the number after which ``self`` (one chain, in order) is
        numbered, ``last`` being the journal's last number as this
        transaction sees it. Here ``last``; an engine that numbers in several
        transactions at once gives each its own block of numbers (see
        recon_queue_job)."""
        return last

    def _recon_write_chain(self, last):
        """Give ``self``, in order, the numbers after ``last``; False when
        one of them is taken (nothing written)."""
        format_string, format_values = self[0]._get_sequence_format_param(last)
        names = [format_string.format(**dict(format_values, seq=format_values["seq"] + i))
                 for i in range(1, len(self) + 1)]
        # as core's _set_next_sequence: flush first, and have what depends on
        # the name computed after it
        self.flush_recordset()
        registry = self.env.registry
        for inverse_field, triggered_fields in registry._field_triggers[self._fields["name"]].items():
            for triggered_field in triggered_fields:
                if not triggered_field.store or not triggered_field.compute:
                    continue
                for field in registry.field_inverses[inverse_field[0]] if inverse_field else [None]:
                    self.env.add_to_compute(triggered_field, self[field.name] if field else self)
        try:
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                for move, name in zip(self, names, strict=False):
                    move.name = name
                self.flush_recordset(["name"])
        except (pgerrors.ExclusionViolation, pgerrors.UniqueViolation):
            for move in self:
                move.name = "/"
            return False
        self._compute_split_sequence()
        self.flush_recordset(["sequence_prefix", "sequence_number"])
        return True

    # ------------------------------------------------------------------
    # Write-off of defaulted accounts
    # ------------------------------------------------------------------
    recon_write_off_ids = fields.One2many("recon.write.off", "invoice_id", string="Write-offs", readonly=True)

    def _recon_open_receivable_lines(self):
        """``{invoice id: its receivable journal items still open}``, read in one query."""
        lines = self.env["account.move.line"].search([
            ("move_id", "in", self.ids),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("amount_residual_currency", "!=", 0.0),
        ], order="date_maturity, id")
        return {move.id: move_lines for move, move_lines in lines.grouped("move_id").items()}

    def _recon_write_off_eligibility(self, today=None):
        """Why each invoice can or cannot be written off.

        An invoice is *in default* when its oldest open due date is at least
        the company's "days past due before default" in the past; *days since
        default* count from that day (negative: not in default yet). An
        invoice whose collection status is a repossession is eligible
        whatever its days past due (see :meth:`_recon_is_repossessed`).

        :return: ``{invoice id: (reason, days since default)}``, reason False
            (eligible) or a code of the preview's reasons
        """
        today = today or fields.Date.context_today(self)
        open_lines = self._recon_open_receivable_lines()
        written_off = set(self.env["recon.write.off"].search([
            ("invoice_id", "in", self.ids), ("state", "not in", ("cancelled", "rejected")),
        ]).invoice_id.ids)
        result = {}
        for invoice in self:
            lines = open_lines.get(invoice.id)
            due = min(lines.mapped("date_maturity"), default=None) if lines else None
            due = due or invoice.invoice_date_due or invoice.invoice_date or invoice.date
            days = (today - due).days - invoice.company_id.recon_days_to_default if due else None
            if invoice.state == "cancel" or invoice.id in written_off:
                reason = "terminated"
            elif not lines:
                reason = "settled"
            elif (days is None or days < 0) and not invoice._recon_is_repossessed():
                reason = "not_in_default"
            else:
                reason = False
            result[invoice.id] = (reason, days)
        return result

    def _recon_is_repossessed(self):
        """Whether the goods of this invoice were repossessed (per its collection status)."""
        self.ensure_one()
        return self.collection_status_id.is_repossession

    def _recon_fulfilment_centre(self):
        """``{invoice id: name}`` of who serves the customer: the sales team
        when the database has one on invoices, else the warehouse of the
        invoice's sales orders, else the company (branch) that invoiced."""
        has_team = "team_id" in self._fields
        has_warehouse = ("sale_line_ids" in self.env["account.move.line"]._fields
                         and "warehouse_id" in self.env["sale.order"]._fields)
        result = {}
        for invoice in self:
            name = invoice.team_id.name if has_team and invoice.team_id else False
            if not name and has_warehouse:
                name = invoice.invoice_line_ids.sale_line_ids.order_id.warehouse_id[:1].name
            result[invoice.id] = name or invoice.company_id.name
        return result

    def action_write_off(self, account=None, reason=None):
        """Write off the whole open balance of these defaulted (or repossessed)
        customer invoices, each with its own posted entry reconciled with it.
        A write-off above the user's write-off limit is not posted: it waits
        for a manager's approval (state To Approve).

        :param account: account (record or id) debited; by default the
            reason's account, else the company's bad-debt account
        :param reason: the write-off reason (``recon.write.off.reason``
            record, id, or code): required
        :return: True
        """
        if not self.env.su and not self.env.user.has_group("recon_addon.recon_addon_group_manager"):
            raise AccessError(self.env._("Only Reconciliation managers may write off invoices."))
        account = self.env["account.account"].browse(account) if isinstance(account, int) else account
        Reason = self.env["recon.write.off.reason"]
        reason_code = None
        if isinstance(reason, str):
            reason_code, reason = reason, Reason
        elif isinstance(reason, int):
            reason = Reason.browse(reason)
        reason = reason or Reason
        if not reason and not reason_code:
            raise UserError(self.env._(
                "Give the reason of the write-off of %(invoices)s: choose a write-off reason (for example "
                "UNCOLL - Uncollectible) in Accounting > Configuration > Write-off Reasons and pass it as "
                "reason.", invoices=", ".join(self.mapped("display_name"))))
        eligibility = self._recon_write_off_eligibility()
        waiting_ids = set(self.env["recon.write.off"].search([
            ("invoice_id", "in", self.ids), ("state", "=", "to_approve")]).invoice_id.ids)
        labels = dict(self.env["recon.bulk.write.off.wizard.line"]._fields["reason"]._description_selection(self.env))
        vals_list = []
        for invoice in self:
            if invoice.move_type != "out_invoice" or invoice.state == "draft":
                raise UserError(self.env._("%(invoice)s is not a posted customer invoice; only those can be "
                                           "written off.", invoice=invoice.display_name))
            refusal, days = eligibility[invoice.id]
            if invoice.id in waiting_ids:
                raise UserError(self.env._("%(invoice)s cannot be written off: its write-off waits for approval. "
                                           "A manager approves or rejects it in Collections > Write-offs "
                                           "(filter To Approve).", invoice=invoice.display_name))
            if refusal:
                raise UserError(self.env._("%(invoice)s cannot be written off: %(reason)s.",
                                           invoice=invoice.display_name, reason=labels[refusal]))
            invoice_reason = Reason._find_by_code(reason_code, invoice.company_id) if reason_code else reason
            if not invoice_reason:
                raise UserError(self.env._("No active write-off reason has the code or name %(code)s in %(company)s: "
                                           "give the code of an existing reason.", code=reason_code,
                                           company=invoice.company_id.name))
            invoice_reason.ensure_one()
            write_off_account = account or invoice_reason._get_write_off_account(invoice.company_id)
            if not write_off_account:
                raise UserError(self.env._("Company %(company)s has no Bad Debt account. Set one in "
                                           "Accounting > Configuration > Settings > Reconciliation.",
                                           company=invoice.company_id.name))
            vals_list.append({
                "invoice_id": invoice.id,
                "company_id": invoice.company_id.id,
                "account_id": write_off_account.id,
                "reason_id": invoice_reason.id,
                "origin": "single",
            })
        self.env["recon.write.off"]._create_and_post_or_request(vals_list)
        return True

    def action_open_recon_write_offs(self):
        return self._recon_action_of_invoice("recon_addon.recon_write_off_action", context={"create": False})

    def _recon_action_of_invoice(self, xmlid, **values):
        """The window action ``xmlid`` on the records of this invoice."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        return dict(action, domain=[("invoice_id", "=", self.id)], **values)

    # ------------------------------------------------------------------
    # Auto-adjustments: the account's balance per line item code
    # ------------------------------------------------------------------
    recon_adjustment_ids = fields.One2many("recon.adjustment", "invoice_id", string="Adjustments",
                                           readonly=True)
    recon_account_balance = fields.Monetary(
        string="Account Balance", currency_field="currency_id", compute="_compute_recon_balances",
        help="What is open on the invoice plus its open adjustments.")
    recon_balance_html = fields.Html(
        string="Balance per Line Item Code", compute="_compute_recon_balances", sanitize=False)

    def _compute_recon_balances(self):
        accounts = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted" and m.id)
        balances = accounts._recon_line_item_balances() if accounts else {}
        products = self.env["product.product"].browse(
            [key for per_code in balances.values() for key in per_code if key])
        names = {p.id: p.display_name for p in products}
        self.recon_account_balance = 0.0
        self.recon_balance_html = False
        for move in accounts:
            per_code = balances[move]
            move.recon_account_balance = sum(per_code.values())
            rows = Markup().join(
                Markup("<tr><td>%s</td><td class='text-end'>%s</td></tr>") % (
                    names.get(code) or self.env._("No line item code"),
                    formatLang(self.env, amount, currency_obj=move.currency_id))
                for code, amount in per_code.items())
            move.recon_balance_html = Markup(
                "<table class='table table-sm o_recon_balances'><thead><tr><th>%s</th>"
                "<th class='text-end'>%s</th></tr></thead><tbody>%s</tbody><tfoot><tr><th>%s</th>"
                "<th class='text-end'>%s</th></tr></tfoot></table>") % (
                self.env._("Line item code"), self.env._("Balance"), rows, self.env._("Account balance"),
                formatLang(self.env, move.recon_account_balance, currency_obj=move.currency_id))

    def _recon_open_adjustment_items_by_invoice(self):
        """``{invoice: open receivable items of its adjustments}``: not of
        those undone, nor of those whose entry was reversed (in Accounting)."""
        Line = self.env["account.move.line"]
        result = {invoice: Line for invoice in self}
        adjustments = self.env["recon.adjustment"].search([
            ("invoice_id", "in", self.ids), ("state", "!=", "undone"),
            ("move_id", "any", [("reversal_move_ids", "not any", [("state", "=", "posted")])]),
        ])
        invoice_of_move = {adjustment.move_id: adjustment.invoice_id for adjustment in adjustments}
        for line in Line.search([
            ("move_id", "in", adjustments.move_id.ids),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("parent_state", "=", "posted"),
        ], order="date_maturity, id"):
            result[invoice_of_move[line.move_id]] |= line
        return result

    def _recon_open_adjustment_items(self):
        self.ensure_one()
        return self._recon_open_adjustment_items_by_invoice()[self]

    def _recon_line_item_balances(self):
        """``{invoice: {product id or None: balance}}`` in each invoice's
        currency; see :func:`~odoo.addons.recon_addon.services.balances.line_item_balances`."""
        items = self._recon_open_adjustment_items_by_invoice()
        result = {}
        for invoice in self:
            invoice_lines = [
                (line.product_id.id or None, line.price_total)
                for line in invoice.invoice_line_ids if line.display_type == "product"
            ]
            adjustments = [(line.product_id.id or None, line.amount_residual_currency)
                           for line in items[invoice]]
            result[invoice] = balance_service.line_item_balances(
                invoice_lines, invoice.amount_residual, adjustments, invoice._recon_reductions(),
                invoice.currency_id.rounding)
        return result

    def _recon_reductions(self):
        """What was taken off the invoice, in order, as ``(code, amount)``: a
        decrease of an adjustment rule under its line item code, anything else
        (payments, credits, write-offs) pro rata; empty when all is pro rata."""
        self.ensure_one()
        partials = self.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable").matched_credit_ids.sorted("id")
        reductions = []
        for partial in partials:
            counterpart = partial.credit_move_id
            code = balance_service.PRO_RATA
            if counterpart.move_id.recon_source_model == "recon.adjustment" and counterpart.product_id:
                code = counterpart.product_id.id
            reductions.append((code, partial.debit_amount_currency))
        if all(code == balance_service.PRO_RATA for code, __ in reductions):
            return []
        return reductions

    def _recon_account_balance(self):
        """``{invoice: open invoice amount + open adjustments}``."""
        return {invoice: sum(per_code.values())
                for invoice, per_code in self._recon_line_item_balances().items()}

    def action_open_recon_adjustments(self):
        return self._recon_action_of_invoice("recon_addon.recon_adjustment_action")

    # ------------------------------------------------------------------
    # Deductions and the below-threshold rule
    # ------------------------------------------------------------------
    def _recon_get_paid_in_part(self):
        """The moves of ``self`` with at least one payment, bank statement
        line or credit note (or, for a credit note, invoice) matched with
        their receivable: what the below-threshold rule may clear is only
        what such a short payment left open."""
        return self.filtered(lambda move: move._get_reconciled_payments()
                             or move._get_reconciled_statement_lines()
                             or move._get_reconciled_invoices())

    def action_run_below_threshold(self):
        """Clear the small open balances of the selected customer invoices and
        credit notes with the company's enabled below-threshold rule."""
        return self.env["recon.threshold.run"]._run_manually(self)

    def action_record_deductions(self):
        """Open a new deduction transaction for this invoice's open balance."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted" or self.currency_id.is_zero(self.amount_residual):
            raise UserError(self.env._(
                "%(name)s: deductions are recorded on posted customer invoices with an open balance.",
                name=self.display_name,
            ))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record Deductions"),
            "res_model": "recon.deduction.transaction",
            "view_mode": "form",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_currency_id": self.currency_id.id,
                "default_original_amount": self.amount_residual,
                "default_invoice_ids": [self.id],
                "default_ref": self.payment_reference or self.name,
                "default_company_id": self.company_id.id,
            },
        }
