from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount

MANAGER_GROUP = "recon_addon.recon_addon_group_manager"


class ReconApprovalMixin(models.AbstractModel):
    """A write-off, bulk batch or balance clearing that waits for approval
    when its amount is above its requester's limit (``res.users``
    ``recon_*_limit``, or the user's approval level).

    Waiting, it has ``state == "to_approve"`` and nothing posted; an
    activity is scheduled for each manager whose limit covers it. Approving
    posts it, rejecting cancels it with a reason; nobody approves or rejects
    their own request. Every step is written in the chatter.

    Inheriting models have ``state`` (with ``to_approve``), ``company_id``
    and implement :meth:`_approval_amount`, :meth:`_approval_post` and
    :meth:`_approval_cancel`.
    """

    _name = "recon.approval.mixin"
    _description = "Reconciliation Approval"
    _inherit = ["mail.thread", "mail.activity.mixin"]

    #: which limit of the user applies: ``write_off``, ``batch`` or ``clearing``
    _approval_kind = None

    requested_by_id = fields.Many2one("res.users", readonly=True, copy=False,
                                      help="Who asked for this; set when it waits for approval.")
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    approval_date = fields.Datetime(string="Approved On", readonly=True, copy=False)
    rejected_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    reject_reason = fields.Text(string="Rejection Reason", readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------
    def _approval_amount(self):
        """The amount the limit is compared with, in company currency."""
        raise NotImplementedError

    def _approval_post(self):
        """Post what was approved."""
        raise NotImplementedError

    def _approval_cancel(self):
        """Cancel what was rejected: nothing is posted, what it reserved is free again."""
        raise NotImplementedError

    def _approval_description(self):
        """What waits, as the activity and the chatter name it."""
        self.ensure_one()
        return self.display_name

    # ------------------------------------------------------------------
    # Asking
    # ------------------------------------------------------------------
    def _approval_needed(self, user=None):
        """Whether this is above the limit of ``user`` (the current user)."""
        self.ensure_one()
        user = user or self.env.user
        return not user._recon_within_limit(self._approval_kind, self._approval_amount(), self.company_id)

    def _approval_approvers(self):
        """The managers of the company, other than the requester, whose
        limit covers this."""
        self.ensure_one()
        group = self.env.ref(MANAGER_GROUP)
        users = group.sudo().users.filtered(  # reading who is a manager; the activity is theirs to see
            lambda user: user.active and not user.share and self.company_id in user.company_ids
            and user != self.requested_by_id and not user._is_superuser()
            and user._recon_within_limit(self._approval_kind, self._approval_amount(), self.company_id))
        return users

    def _approval_request(self):
        """Put these records in To Approve (the caller posted nothing), and
        ask the approvers with an activity each."""
        for record in self:
            record._recon_write({"state": "to_approve", "requested_by_id": self.env.user.id,
                          "rejected_by_id": False, "reject_reason": False})
            amount = format_amount(self.env, record._approval_amount(), record.company_id.currency_id)
            limit = format_amount(self.env, self.env.user._recon_limit(record._approval_kind),
                                  self.env.user.company_id.currency_id)
            approvers = record._approval_approvers()
            note = self.env._("%(what)s (%(amount)s) is above the limit of %(user)s (%(limit)s) and waits "
                              "for approval.", what=record._approval_description(), amount=amount,
                              user=self.env.user.name, limit=limit)
            if not approvers:
                note += " " + self.env._("No manager has a limit that covers it: ask an administrator to raise "
                                         "one in Settings > Users.")
            record._message_log(body=Markup("<p>%s</p>") % note)
            for approver in approvers:
                record.activity_schedule("mail.mail_activity_data_todo", user_id=approver.id,
                                         summary=self.env._("Approve %(what)s", what=record._approval_description()),
                                         note=note)

    # ------------------------------------------------------------------
    # Deciding
    # ------------------------------------------------------------------
    def _approval_check_decider(self, verb):
        for record in self:
            if record.state != "to_approve":
                raise UserError(self.env._("%(record)s is not waiting for approval.", record=record.display_name))
            if not self.env.user.has_group(MANAGER_GROUP):
                raise AccessError(self.env._("Only a Reconciliation Manager can %(verb)s %(record)s.",
                                             verb=verb, record=record.display_name))
            if record.requested_by_id == self.env.user:
                raise AccessError(self.env._("%(user)s asked for %(record)s and cannot %(verb)s it: another "
                                             "manager has to.", user=self.env.user.name,
                                             record=record.display_name, verb=verb))

    def action_approve(self):
        """Approve and post; refused to the requester and to a manager whose
        limit does not cover the amount."""
        self._approval_check_decider(self.env._("approve"))
        for record in self:
            if record._approval_needed():
                raise AccessError(self.env._(
                    "%(record)s (%(amount)s) is above your limit: a manager with a higher limit has to approve "
                    "it.", record=record.display_name,
                    amount=format_amount(self.env, record._approval_amount(), record.company_id.currency_id)))
        self._recon_lock_rows(nowait=True)  # a second approval fails at once
        for record in self:
            record._recon_write({"approved_by_id": self.env.user.id, "approval_date": fields.Datetime.now()})
            record.activity_unlink(["mail.mail_activity_data_todo"])
            record._message_log(body=Markup("<p>%s</p>") % self.env._("Approved by %(user)s.",
                                                                       user=self.env.user.name))
            record._approval_post()
        return True

    def action_reject(self):
        """Ask for the reason, then reject (see :meth:`_approval_reject`)."""
        self._approval_check_decider(self.env._("reject"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject"),
            "res_model": "recon.reject.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_res_model": self._name, "default_res_ids": str(self.ids)},
        }

    def _approval_reject(self, reason):
        """Reject with ``reason``: nothing is posted, the request is cancelled."""
        self._approval_check_decider(self.env._("reject"))
        if not (reason or "").strip():
            raise UserError(self.env._("Give the reason of the rejection."))
        self._recon_lock_rows(nowait=True)
        for record in self:
            record._recon_write({"rejected_by_id": self.env.user.id, "reject_reason": reason})
            record.activity_unlink(["mail.mail_activity_data_todo"])
            record._message_log(body=Markup("<p>%s</p>") % self.env._(
                "Rejected by %(user)s: %(reason)s", user=self.env.user.name, reason=reason))
            record._approval_cancel()
        return True
