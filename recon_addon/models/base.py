import psycopg2

from odoo import models
from odoo.tools import SQL


class Base(models.AbstractModel):
    _inherit = "base"

    def _recon_lock_rows(self, nowait=False):
        """Lock these records' rows for the transaction against a parallel
        worker (``FOR NO KEY UPDATE``: rows referring to them can still be
        created) and return the records this transaction holds. A row
        another transaction holds, or changed and committed since this one
        began (locking it would be a serialization failure), is skipped and
        left to that other worker.

        :param nowait: fail fast instead, for a request that must not go on
            without all the rows: raise ``LockNotAvailable`` (row held) or
            ``SerializationFailure`` (row changed meanwhile); Odoo retries
            the request on both
        """
        if not self.ids:
            return self
        self.flush_recordset()
        query = SQL("SELECT id FROM %s WHERE id = ANY(%s) FOR NO KEY UPDATE %s",
                    SQL.identifier(self._table), list(self.ids), SQL("NOWAIT") if nowait else SQL("SKIP LOCKED"))
        if nowait:
            with self.env.cr.savepoint(flush=False):  # the caller may catch the error and go on
                self.env.cr.execute(query)
            return self
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(query)
                locked_ids = {row[0] for row in self.env.cr.fetchall()}
        except psycopg2.errors.SerializationFailure:
            if len(self) == 1:
                return self.browse()
            # find the row(s) changed meanwhile: the others are locked one by one
            return self.browse().concat(*(record._recon_lock_rows() for record in self))
        return self.filtered(lambda record: record.id in locked_ids)

    def _recon_model_label(self):
        """The model's name as users read it: ``ir.model``'s, in their language."""
        return self.env["ir.model"]._get(self._name).name or self._description

    def _recon_field_names(self, fnames):
        """The labels of the fields ``fnames`` of this model, in the user's
        language, sorted and joined for a message."""
        return ", ".join(sorted(self._fields[f]._description_string(self.env) for f in fnames if f in self._fields))

    def _recon_write(self, vals):
        """Write what the addon's own actions decide: past the locks of a
        record that stands for a posted entry (``recon.posted.mixin``), a
        plain write on any other record."""
        return self._write_locked(vals) if hasattr(self, "_write_locked") else self.write(vals)
