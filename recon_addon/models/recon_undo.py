import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..services.upload import to_csv
from .recon_ledger import Reversal


class ReconUndo(models.Model):
    """The undo of one run, batch, write-off or clearing: who undid it, when
    and why, the entries it reversed and the items it left as they were.

    A unique key allows one undo per record, so a double click or two
    managers at once reverse nothing twice. The undo is a background run
    (``recon.run.mixin``): the request that confirms it reverses the first
    chunk, the scheduler the rest; each item's entries are reversed with
    Odoo's own reversal (``reversed_entry_id`` set, the pair reconciled)
    after the items they had settled are unreconciled, all in one savepoint
    per chunk.
    """

    _name = "recon.undo"
    _description = "Undo"
    _inherit = ["recon.posted.mixin", "recon.run.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True
    _run_chunk_size = 200
    _run_open_states = ("running",)
    _run_failed_field = "count_skipped"
    #: the engine's own bookkeeping, written as each chunk commits
    _recon_free_fields = frozenset({"waiting_since", "processed_count"})

    res_model = fields.Char(string="Undone Model", required=True, readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Undone Record", model_field="res_model", required=True,
                                      readonly=True)
    record_name = fields.Char(string="Record", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    user_id = fields.Many2one("res.users", string="Undone By", required=True, readonly=True,
                              default=lambda self: self.env.user)
    date = fields.Datetime(string="Undone On", required=True, readonly=True, default=fields.Datetime.now)
    reason = fields.Text(required=True, readonly=True)
    state = fields.Selection([("running", "Undoing"), ("done", "Done")], required=True, readonly=True,
                             default="running", index=True)
    date_done = fields.Datetime(string="Done On", readonly=True)
    cursor_id = fields.Integer(readonly=True, copy=False,
                               help="Last item gone through: the next chunk starts after it.")
    count_undone = fields.Integer(string="Undone", readonly=True)
    count_skipped = fields.Integer(string="Skipped", readonly=True)
    reversal_ids = fields.One2many("account.move", compute="_compute_reversal_ids", string="Reversals")
    skip_ids = fields.One2many("recon.undo.skip", "undo_id", string="Skipped Items", readonly=True)
    skip_file = fields.Binary(string="Skipped List", readonly=True, attachment=True)
    skip_filename = fields.Char(readonly=True)
    summary = fields.Text(compute="_compute_summary")

    _sql_constraints = [
        ("record_unique", "UNIQUE(res_model, res_id)", "This record is already undone (or being undone)."),
    ]

    def _recon_is_posted(self):
        return True

    def _recon_locked_hint(self):
        return self.env._("An undo is the record of what was reversed and stays as it is.")

    @api.depends_context("lang")
    @api.depends("record_name")
    def _compute_display_name(self):
        for undo in self:
            undo.display_name = self.env._("Undo of %(record)s", record=undo.record_name or "")

    def _compute_reversal_ids(self):
        Move = self.env["account.move"]
        for undo in self:
            undo.reversal_ids = Move.search([("recon_undo_id", "=", undo.id)]) if undo.id else Move

    @api.depends_context("lang")
    @api.depends("state", "count_undone", "count_skipped", "total_count", "processed_count")
    def _compute_summary(self):
        for undo in self:
            if undo.state == "running":
                undo.summary = self.env._("Undoing: %(done)s of %(total)s items undone so far, %(skipped)s skipped.",
                                          done=undo.count_undone, total=undo.total_count,
                                          skipped=undo.count_skipped)
            else:
                undo.summary = self.env._("%(done)s of %(total)s items undone; %(skipped)s skipped.",
                                          done=undo.count_undone, total=undo.total_count,
                                          skipped=undo.count_skipped)

    # ------------------------------------------------------------------
    # Starting
    # ------------------------------------------------------------------
    @api.model
    def _start(self, record, reason):
        """The undo of ``record`` (a ``recon.undoable.mixin``), counted and
        queued; the unique key refuses a second one."""
        model, domain = record._undo_item_domain()
        vals = {
            "res_model": record._name,
            "res_id": record.id,
            "record_name": record.display_name,
            "company_id": record.company_id.id,
            "reason": reason,
            "total_count": self.env[model].search_count(domain),
        }
        try:
            with self.env.cr.savepoint():
                return self._create_locked([vals])
        except Exception as exc:
            if getattr(exc, "pgcode", None) == "23505":  # unique_violation: another request undid it
                raise UserError(self.env._("%(record)s was undone already.", record=record.display_name)) from exc
            raise

    def _target(self):
        self.ensure_one()
        return self.env[self.res_model].browse(self.res_id)

    # ------------------------------------------------------------------
    # The run
    # ------------------------------------------------------------------
    def _run_as_owner(self):
        self.ensure_one()
        return self.with_user(self.user_id).with_company(self.company_id).with_context(
            allowed_company_ids=self.company_id.ids)

    def _run_next_chunk(self, limit):
        self.ensure_one()
        model, domain = self._target()._undo_item_domain()
        return self.env[model].search([("id", ">", self.cursor_id)] + domain, order="id", limit=limit)

    def _run_process_chunk(self, items):
        """Reverse the entries of ``items`` in one batch and put them back;
        the skipped are listed."""
        self.ensure_one()
        target = self._target()
        all_moves = target._undo_moves(items)
        skips = dict(self._default_skip_reasons(items, all_moves))
        skips.update(target._undo_skip_reasons(items.filtered(lambda item: item not in skips)))
        todo = items.filtered(lambda item: item not in skips)
        moves_by_item = {item: all_moves[item] for item in todo}
        moves = self.env["account.move"].union(*moves_by_item.values()) if moves_by_item else self.env["account.move"]
        reconciled = moves.line_ids.filtered(lambda line: line.matched_debit_ids or line.matched_credit_ids)
        # the invoices these entries settled: open again, their payment
        # status change logged in one batch, not one message each at commit
        settled = (reconciled.matched_debit_ids.debit_move_id | reconciled.matched_credit_ids.credit_move_id).move_id
        reconciled.remove_move_reconcile()
        self.env["recon.ledger"]._log_pending_tracking(settled - moves)
        label = self.env._("Undo: %(reason)s", reason=self.reason)
        requests = [
            Reversal(source=item, move=move, label=label,
                     ref=self.env._("Undo of %(entry)s: %(reason)s", entry=move.name, reason=self.reason))
            for item in todo for move in moves_by_item[item]
        ]
        result = self.env["recon.ledger"]._book(requests, isolate=False)
        reversals = self.env["account.move"].union(*result.moves) if result.moves else self.env["account.move"]
        reversals.write({"recon_undo_id": self.id})
        target._undo_restore(todo, self)
        if moves:
            moves._message_log_batch(bodies={move.id: Markup("<p>%s</p>") % self.env._(
                "Undone by %(user)s: %(reason)s", user=self.user_id.name, reason=self.reason)
                for move in moves})
        self._add_skips(skips)
        self._run_write({"cursor_id": max(items.ids), "count_undone": self.count_undone + len(todo)})

    def _default_skip_reasons(self, items, moves_by_item):
        """Items whose entries are gone, reversed already, or whose settled
        items were reconciled with other entries since."""
        requires_entry = self._target()._undo_requires_entry()
        moves = self.env["account.move"].union(*moves_by_item.values()) if moves_by_item else None
        if moves:  # read what the checks below need for all items at once
            partials = moves.line_ids.matched_debit_ids | moves.line_ids.matched_credit_ids
            counterparts = partials.debit_move_id | partials.credit_move_id
            (counterparts.matched_debit_ids | counterparts.matched_credit_ids).mapped("debit_move_id.move_id.name")
            moves.reversal_move_ids.mapped("state")
        for item in items:
            moves = moves_by_item.get(item, self.env["account.move"])
            if not moves:
                if requires_entry:
                    yield item, self.env._("No posted entry to reverse.")
            elif moves.filtered(lambda move: move.state != "posted"):
                yield item, self.env._("Its entry is no longer posted.")
            elif moves.reversal_move_ids.filtered(lambda move: move.state == "posted"):
                yield item, self.env._("Its entry was reversed already (%(reversal)s).",
                                       reversal=", ".join(moves.reversal_move_ids.mapped("name")))
            else:
                later = self._reconciled_since(moves)
                if later:
                    yield item, self.env._("Reconciled with other entries since (%(entries)s): unreconcile them "
                                           "first.", entries=", ".join(later.mapped("name")))

    def _reconciled_since(self, moves):
        """Entries reconciled, after ``moves``, with the items ``moves`` settled."""
        lines = moves.line_ids
        partials = lines.matched_debit_ids | lines.matched_credit_ids
        if not partials:
            return self.env["account.move"]
        counterparts = (partials.debit_move_id | partials.credit_move_id) - lines
        later = (counterparts.matched_debit_ids | counterparts.matched_credit_ids).filtered(
            lambda partial: partial.id > max(partials.ids))
        return (later.debit_move_id | later.credit_move_id).move_id - moves - counterparts.move_id

    def _run_record_failure(self, item, message):
        self._add_skips({item: message})
        self._run_write({"cursor_id": max(self.cursor_id, item.id)})

    def _add_skips(self, skips):
        if not skips:
            return
        start = len(self.skip_ids)
        self.env["recon.undo.skip"]._create_locked([{
            "undo_id": self.id,
            "sequence": start + index,
            "res_model": item._name,
            "res_id": item.id,
            "item_name": item.display_name,
            "partner_id": item.partner_id.id if "partner_id" in item._fields else False,
            "reason": reason,
        } for index, (item, reason) in enumerate(skips.items(), start=1)])
        self._run_write({"count_skipped": self.count_skipped + len(skips)})

    def _finish(self):
        for undo in self:
            values = {"state": "done", "date_done": fields.Datetime.now()}
            if undo.skip_ids:
                data = to_csv([self.env._("Item"), self.env._("Partner"), self.env._("Reason")],
                              [[s.item_name, s.partner_id.name, s.reason] for s in undo.skip_ids])
                values.update(skip_file=base64.b64encode(data),
                              skip_filename=self.env._("%(undo)s skipped.csv", undo=undo.display_name)
                              .replace("/", "-"))
            undo._recon_write(values)
            undo._target()._undo_done(undo)

    def _get_chatter_note(self):
        self.ensure_one()
        return Markup("<p>%s</p>") % self.env._(
            "Undone by %(user)s on %(date)s: %(reason)s. %(summary)s",
            user=self.user_id.name, date=fields.Datetime.to_string(self.date), reason=self.reason,
            summary=self.summary)

    def _run_done_title(self):
        return self.display_name

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_open_record(self):
        self.ensure_one()
        return self._target()._get_records_action()

    def action_open_reversals(self):
        self.ensure_one()
        return self.reversal_ids._get_records_action(name=self.env._("Reversals"))

    def action_download_skipped(self):
        self.ensure_one()
        if not self.skip_file:
            raise UserError(self.env._("%(undo)s skipped nothing.", undo=self.display_name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/skip_file/{self.skip_filename or 'skipped.csv'}"
                   "?download=true",
            "target": "download",
        }

    def _action_notify(self):
        """What the manager sees after confirming: done, or going on in the
        background with a notification to follow."""
        self.ensure_one()
        params = self._get_done_notification() if self.state == "done" else {
            "type": "info", "title": self.display_name, "sticky": False,
            "message": self.env._("%(summary)s The rest is undone in the background; you will be notified.",
                                  summary=self.summary),
        }
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": dict(params, next={"type": "ir.actions.act_window_close"})}


class ReconUndoSkip(models.Model):
    """An item an undo left as it was, and why."""

    _name = "recon.undo.skip"
    _description = "Item Not Undone"
    _inherit = ["recon.posted.mixin"]
    _order = "undo_id, sequence, id"

    undo_id = fields.Many2one("recon.undo", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="undo_id.company_id", store=True)
    sequence = fields.Integer()
    res_model = fields.Char(readonly=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    item_name = fields.Char(string="Item", readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True)
    reason = fields.Char(readonly=True)

    def _recon_is_posted(self):
        return True
