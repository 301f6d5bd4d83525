from odoo import fields, models
from odoo.exceptions import AccessError, UserError

MANAGER_GROUP = "recon_addon.recon_addon_group_manager"


class ReconUndoableMixin(models.AbstractModel):
    """What a manager can undo: a below-threshold run, an adjustment run, a
    write-off batch, a single write-off, a balance clearing.

    :meth:`action_undo` asks for a reason (``recon.undo.wizard``); confirming
    creates one ``recon.undo`` (a database key allows one per record), which
    reverses, chunk by chunk, the entries of this record's items with Odoo's
    own reversal and puts the items back (:meth:`_undo_restore`). An item
    something depends on is skipped and listed with the reason.

    Inheriting models implement :meth:`_undo_item_domain`,
    :meth:`_undo_moves` and :meth:`_undo_restore`, and may refine
    :meth:`_undo_check`, :meth:`_undo_skip_reasons` and :meth:`_undo_done`.
    """

    _name = "recon.undoable.mixin"
    _description = "Undoable Reconciliation Record"

    undo_id = fields.Many2one("recon.undo", readonly=True, copy=False, index="btree_not_null")
    undone_by_id = fields.Many2one(related="undo_id.user_id", string="Undone By")
    undo_date = fields.Datetime(related="undo_id.date", string="Undone On")
    undo_reason = fields.Text(related="undo_id.reason", string="Undo Reason")

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _undo_item_domain(self):
        """``(model name, domain)`` of the items to undo: records with
        posted entries, gone through in id order."""
        raise NotImplementedError

    def _undo_moves(self, items):
        """``{item: account.move recordset}``: the posted entries of each
        of ``items`` to reverse."""
        raise NotImplementedError

    def _undo_restore(self, items, undo):
        """Put ``items`` back as they were before (their entries are
        reversed now)."""
        raise NotImplementedError

    def _undo_requires_entry(self):
        """Whether an item without a posted entry is skipped ("No posted
        entry to reverse"). False: such an item is only put back
        (:meth:`_undo_restore`), e.g. a clearing made while the company did
        not post rewards."""
        return True

    def _undo_check(self):
        """Raise a UserError naming the record when it cannot be undone now
        (still posting, waiting for approval …)."""

    def _undo_skip_reasons(self, items):
        """``{item: reason}`` of the items to leave as they are because
        something depends on them (paid or resolved since …)."""
        return {}

    def _undo_done(self, undo):
        """Called once every item is undone or skipped."""
        if "message_ids" in self._fields:
            self._message_log(body=undo._get_chatter_note())

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def _undo_check_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only a Reconciliation Manager can undo %(record)s.",
                                         record=self[:1].display_name))

    def _undo_check_undoable(self):
        self._undo_check_access()
        for record in self:
            if record.undo_id:
                raise UserError(self.env._("%(record)s was undone already (%(undo)s).",
                                           record=record.display_name, undo=record.undo_id.display_name))
            record._undo_check()

    def action_undo(self):
        """Ask for the reason of the undo (managers)."""
        self.ensure_one()
        self._undo_check_undoable()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Undo %(record)s", record=self.display_name),
            "res_model": "recon.undo.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_res_model": self._name, "default_res_id": self.id},
        }

    def _undo(self, reason):
        """Undo this record for ``reason``: reverse what fits in this
        request; the scheduler does the rest. Returns the ``recon.undo``."""
        self.ensure_one()
        self._undo_check_undoable()
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason of the undo of %(record)s.", record=self.display_name))
        self._recon_lock_rows(nowait=True)  # a double click waits for nothing, it fails at once
        undo = self.env["recon.undo"]._start(self, reason.strip())
        self._recon_write({"undo_id": undo.id})
        undo._run_continue(limit=undo._run_chunk_size)
        return undo
