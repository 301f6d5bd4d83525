from odoo import api, models
from odoo.exceptions import UserError

#: what the addon's own actions put in the context to write locked fields;
#: an object, so no RPC client can send it
_WRITER = object()
_WRITER_KEY = "recon_posted_writer"


class ReconPostedMixin(models.AbstractModel):
    """A record that stands for a posted journal entry.

    Its figures, accounts, links and state are the entry's: only the
    addon's own actions (post, void, reverse, clear) set them, through
    :meth:`_write_locked` and :meth:`_create_locked`. A plain ``write()``
    from a user or an RPC client on any other field than the free ones
    raises a UserError naming the record and the action to use. The
    superuser (upgrades, the scheduler's root jobs) is not stopped.
    """

    _name = "recon.posted.mixin"
    _description = "Record of a Posted Entry"

    #: fields anyone with write access may change at any time (free text)
    _recon_free_fields = frozenset()
    #: fields users may change until the record is posted
    _recon_draft_fields = frozenset()
    #: True: users create these records (with draft and free fields only);
    #: False: only the addon's actions create them
    _recon_user_create = False

    def _recon_is_posted(self):
        """Whether this record's entry is posted (its draft fields frozen)."""
        self.ensure_one()
        return bool(self.move_id)

    def _recon_locked_hint(self):
        """The sentence telling the user which action changes the record."""
        return self.env._("Reverse its journal entry in Accounting instead.")

    def _recon_is_writer(self):
        return self.env.su or self.env.context.get(_WRITER_KEY) is _WRITER

    def _write_locked(self, vals):
        """Write what the addon's own actions decide, past the checks of
        :meth:`write` (every other override still runs)."""
        return self.with_context(**{_WRITER_KEY: _WRITER}).write(vals)

    @api.model
    def _create_locked(self, vals_list):
        """Create records as the addon's own actions do; the records come
        back without the writer's right."""
        records = self.with_context(**{_WRITER_KEY: _WRITER}).create(vals_list)
        return records.with_env(self.env)

    @api.model_create_multi
    def create(self, vals_list):
        if not self._recon_is_writer():
            self.check_access("create")
            locked = set()
            if self._recon_user_create:
                for vals in vals_list:
                    locked |= {f for f, value in vals.items() if self._recon_is_locked_value(f, value)}
            if locked:
                raise UserError(self.env._(
                    "%(model)s records stand for posted journal entries: they are created by the "
                    "addon's own actions only (%(fields)s).",
                    model=self._recon_model_label(), fields=self._recon_field_names(locked),
                ))
            if not self._recon_user_create:
                raise UserError(self.env._(
                    "%(model)s records stand for posted journal entries: they are created by the "
                    "addon's own actions only.", model=self._recon_model_label(),
                ))
        return super().create(vals_list)

    def _recon_is_free(self, fname):
        return fname in self._recon_free_fields or fname.startswith(("message_", "activity_"))

    def _recon_is_locked_value(self, fname, value):
        """Whether a user may not give ``value`` to ``fname`` on a new record:
        a field that is neither free nor a draft field, unless left empty or
        at its default."""
        if self._recon_is_free(fname) or fname in self._recon_draft_fields or not value:
            return False
        field = self._fields.get(fname)
        return not (field and field.default and field.default(self) == value)

    def write(self, vals):
        if not self._recon_is_writer():
            self._recon_check_write(vals)
        return super().write(vals)

    def _recon_check_write(self, vals):
        self.check_access("write")
        fields_asked = {f for f in vals if not self._recon_is_free(f)}
        if not fields_asked or not self:
            return
        locked = fields_asked - self._recon_draft_fields
        record = self[:1]
        if not locked:
            posted = self.filtered(lambda r: r._recon_is_posted())
            if not posted:
                return
            locked, record = fields_asked, posted[0]
        raise UserError(self.env._(
            "%(record)s: %(fields)s can only be set by the addon's own actions, not by hand. "
            "%(hint)s",
            record=record.display_name,
            fields=self._recon_field_names(locked),
            hint=record._recon_locked_hint(),
        ))
