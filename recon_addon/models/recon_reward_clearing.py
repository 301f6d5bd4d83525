from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools.misc import formatLang

from ..services.owed_balances import owed_balance
from . import recon_undoable_mixin  # noqa: F401 (defined before its heirs)
from .recon_ledger import Transfer

MANAGER_GROUP = "recon_addon.recon_addon_group_manager"


class ReconRewardClearing(models.Model):
    """One clearing of a payee's owed balance: who forgave how much, when,
    why, which rewards it made non-recoverable and the forgiveness entry posted.

    Above the requester's clearing limit it waits in To Approve, nothing
    changed yet; approving clears it, rejecting cancels it. A manager can
    undo a cleared balance: the forgiveness entry is reversed and the rewards
    count again, the clearing stays as the record of both."""

    _name = "recon.reward.clearing"
    _description = "Owed Balance Clearing"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "partner_id"
    _inherit = ["recon.posted.mixin", "recon.undoable.mixin", "recon.approval.mixin"]
    _approval_kind = "clearing"

    partner_id = fields.Many2one("res.partner", string="Payee", required=True, readonly=True, index=True,
                                 ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, readonly=True, default=fields.Date.context_today)
    user_id = fields.Many2one("res.users", string="Cleared By", required=True, readonly=True,
                              default=lambda self: self.env.user)
    amount = fields.Monetary(string="Amount Forgiven", currency_field="currency_id", readonly=True)
    reward_ids = fields.One2many("recon.reward", "clearing_id", string="Rewards", readonly=True)
    forgiven_reward_ids = fields.Many2many(
        "recon.reward", "recon_reward_clearing_forgiven_rel", "clearing_id", "reward_id",
        string="Rewards Forgiven", readonly=True, copy=False,
        help="Every reward this clearing made non-recoverable, kept after an undo.")
    move_id = fields.Many2one("account.move", string="Forgiveness Entry", readonly=True, check_company=True)
    reason_id = fields.Many2one("recon.write.off.reason", readonly=True, index=True,
                                check_company=True, ondelete="restrict")
    state = fields.Selection(
        [("to_approve", "To Approve"), ("done", "Cleared"), ("rejected", "Rejected"), ("undone", "Undone")],
        required=True, readonly=True, default="done", index=True, copy=False,
        help="To Approve: above the requester's clearing limit, nothing changed yet. Cleared: the rewards "
        "are no longer recoverable. Rejected: nothing was changed. Undone: the rewards count again and the "
        "forgiveness entry is reversed.",
    )

    @api.depends_context("lang")
    @api.depends("partner_id", "date")
    def _compute_display_name(self):
        for clearing in self:
            clearing.display_name = self.env._(
                "Clearing of %(payee)s (%(date)s)", payee=clearing.partner_id.display_name or "",
                date=fields.Date.to_string(clearing.date) or "")

    def _recon_locked_hint(self):
        return self.env._("A clearing is the record of what was forgiven and stays as it is.")

    @api.ondelete(at_uninstall=False)
    def _unlink_except_recorded(self):
        if self:
            raise UserError(self.env._(
                "The clearing of %(payee)s's owed balance is the record of what was forgiven and "
                "cannot be deleted.", payee=self[0].partner_id.display_name))

    # ------------------------------------------------------------------
    # Clearing
    # ------------------------------------------------------------------
    @api.model
    def _check_clear_access(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._(
                "Only a Reconciliation Manager can clear owed balances (%(user)s is not one).",
                user=self.env.user.name,
            ))

    @api.model
    def _check_reason(self, reason):
        if not reason:
            raise UserError(self.env._(
                "Choose the reason of the clearing (uncollectible, goodwill …) before clearing owed balances."))
        return reason

    @api.model
    def _get_rewards_to_clear(self, partners, company):
        """``(recoverable confirmed rewards of partners in company, locked,
        {partner: (rewards, owed balance)})``."""
        rewards = self.env["recon.reward"].search([
            ("partner_id", "in", partners.ids),
            ("company_id", "=", company.id),
            ("state", "=", "confirmed"),
            ("recoverable", "=", True),
        ])
        rewards._recon_lock_rows(nowait=True)  # a second clearing fails at once, is retried
        by_partner = rewards.grouped("partner_id")
        balances = {}
        for partner in partners:
            partner_rewards = by_partner.get(partner, rewards.browse())
            balances[partner] = (partner_rewards, owed_balance(
                [(r.amount_company, True) for r in partner_rewards], company.currency_id.rounding))
        return rewards, balances

    @api.model
    def _clear_balances(self, partners, reason):
        """Forgive the owed balances of ``partners`` in the current company
        for ``reason`` (a ``recon.write.off.reason``).

        Every recoverable confirmed reward of each payee becomes
        non-recoverable (none is deleted) and is linked to a
        ``recon.reward.clearing``; when the company posts rewards, one
        forgiveness entry per payee (Dr forgiven advances / Cr advances
        receivable) is posted in one batch and reconciled with the payee's
        open advance items. Payees without a balance are skipped. A balance
        above the user's clearing limit is not cleared: its clearing waits
        for a manager's approval (state ``to_approve``).

        :return: the clearings made (cleared or waiting)
        """
        self._check_clear_access()
        self._check_reason(reason)
        company = self.env.company
        currency = company.currency_id
        _rewards, balances = self._get_rewards_to_clear(partners, company)
        todo = [(partner, balance) for partner, (_r, balance) in balances.items() if not currency.is_zero(balance)]
        if not todo:
            return self.browse()
        waiting = self.search([("partner_id", "in", [p.id for p, _b in todo]), ("company_id", "=", company.id),
                               ("state", "=", "to_approve")], limit=1)
        if waiting:
            raise UserError(self.env._(
                "The clearing of %(payee)s's owed balance of %(date)s waits for approval: approve or reject it "
                "before clearing again.", payee=waiting.partner_id.display_name,
                date=fields.Date.to_string(waiting.date)))
        clearings = self._create_locked([
            {"partner_id": partner.id, "company_id": company.id, "amount": balance, "reason_id": reason.id,
             "state": "to_approve"}
            for partner, balance in todo
        ])
        to_approve = clearings.filtered(lambda clearing: clearing._approval_needed())
        to_approve._approval_request()
        (clearings - to_approve)._post_clearings()
        return clearings

    def _post_clearings(self):
        """Clear these waiting clearings (one company): the payees' rewards
        become non-recoverable and the forgiveness entries are posted. The
        balance must still be the amount of the clearing."""
        if not self:
            return
        self._check_clear_access()
        company = self.company_id
        company.ensure_one()
        clearings = self.with_company(company)
        currency = company.currency_id
        rewards, balances = clearings._get_rewards_to_clear(clearings.partner_id, company)
        for clearing in clearings:
            if clearing.state != "to_approve" or clearing.move_id or clearing.forgiven_reward_ids:
                raise UserError(self.env._("The clearing of %(payee)s's owed balance is %(state)s already.",
                                           payee=clearing.partner_id.display_name, state=clearing._state_label()))
            balance = balances[clearing.partner_id][1]
            if currency.compare_amounts(balance, clearing.amount):
                raise UserError(self.env._(
                    "The owed balance of %(payee)s is %(balance)s now, not %(amount)s as when its clearing was "
                    "asked for: reject this clearing and clear the balance again.",
                    payee=clearing.partner_id.display_name,
                    balance=formatLang(self.env, balance, currency_obj=currency),
                    amount=formatLang(self.env, clearing.amount, currency_obj=currency)))
        clearings._recon_write({"state": "done", "date": fields.Date.context_today(self)})
        if company.recon_post_rewards:
            rewards._check_reward_accounts()
            open_items = clearings._get_open_advance_items(clearings.partner_id, company)
            result = self.env["recon.ledger"]._book([
                clearing._get_forgiveness_transfer(open_items.get(clearing.partner_id.id))
                for clearing in clearings
            ])
            for clearing, move in zip(clearings, result.moves, strict=False):
                clearing._write_locked({"move_id": move.id})
        for clearing in clearings:
            partner_rewards = balances[clearing.partner_id][0]
            partner_rewards._mark_cleared(clearing)
            clearing._write_locked({"forgiven_reward_ids": [fields.Command.set(partner_rewards.ids)]})
            clearing.partner_id._recon_log_note(clearing._prepare_chatter_note())

    def _state_label(self):
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    @api.model
    def _get_open_advance_items(self, partners, company):
        """``{partner_id: open items}`` of ``partners`` on the advances account."""
        lines = self.env["account.move.line"].search([
            ("account_id", "=", company.recon_advance_account_id.id),
            ("partner_id", "in", partners.ids),
            ("company_id", "=", company.id),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ], order="date, id")
        return {partner.id: items for partner, items in lines.grouped("partner_id").items()}

    def _get_forgiveness_transfer(self, open_items):
        """Dr forgiven advances / Cr advances receivable for the cleared
        amount (the other way for a negative balance), the credit reconciled
        with the payee's open advance items as far as they go."""
        self.ensure_one()
        company = self.company_id
        open_items = (open_items or self.env["account.move.line"]).filtered(
            lambda line: not line.company_currency_id.is_zero(line.amount_residual))
        return Transfer(
            source=self,
            from_account=company.recon_advance_account_id,
            to_account=company.recon_forgiven_account_id,
            partner=self.partner_id,
            amount=self.amount,
            settle=open_items,
            label=self.reason_id._label(
                self.env._("Forgiveness of owed balance: %s", self.partner_id.display_name)),
            date=self.date,
            currency=company.currency_id,
            company=company,
            ref=self.reason_id._label(self.env._("Clearing of %s", self.partner_id.display_name)),
        )

    def _prepare_chatter_note(self):
        self.ensure_one()
        note = self.env._(
            "Owed balance of %(amount)s in %(company)s cleared by %(user)s: %(count)s rewards are no "
            "longer recoverable.",
            amount=formatLang(self.env, self.amount, currency_obj=self.currency_id),
            company=self.company_id.name,
            user=self.user_id.name,
            count=len(self.reward_ids),
        )
        if self.reason_id:
            note += " " + self.env._("Reason: %s.", self.reason_id.name)
        if self.move_id:
            note += " " + self.env._("Forgiveness entry: %s.", self.move_id.name)
        return note

    # ------------------------------------------------------------------
    # Approval
    # ------------------------------------------------------------------
    def _approval_amount(self):
        self.ensure_one()
        return abs(self.amount)

    def _approval_description(self):
        self.ensure_one()
        return self.env._("Clearing of %(payee)s's owed balance", payee=self.partner_id.display_name)

    def _approval_post(self):
        """Clear the balance now, as the approver."""
        for company, clearings in self.grouped("company_id").items():
            clearings.with_company(company)._post_clearings()

    def _approval_cancel(self):
        """Nothing was changed: the rewards stay recoverable, the clearing is
        kept as rejected."""
        self._recon_write({"state": "rejected"})

    # ------------------------------------------------------------------
    # Undo
    # ------------------------------------------------------------------
    def _undo_check(self):
        if self.state != "done":
            raise UserError(self.env._(
                "The clearing of %(payee)s's owed balance is %(state)s: only a cleared balance can be undone.",
                payee=self.partner_id.display_name, state=self._state_label()))

    def _undo_item_domain(self):
        return self._name, [("id", "=", self.id), ("state", "=", "done")]

    def _undo_requires_entry(self):
        """A clearing made while the company did not post rewards has no
        entry: undoing it puts the rewards back only."""
        return False

    def _undo_moves(self, items):
        return {clearing: clearing.move_id for clearing in items}

    def _undo_skip_reasons(self, items):
        """A clearing whose rewards changed since (reversed, recoverable
        again, cleared by another clearing) or whose advance items were
        reconciled by hand with other entries (a repayment booked in
        Accounting) is left as it is: undoing it would count them twice."""
        skips = {}
        for clearing in items:
            rewards = clearing.forgiven_reward_ids or clearing.reward_ids
            changed = rewards.filtered(
                lambda r, clearing=clearing: r.state != "confirmed" or r.recoverable or r.clearing_id != clearing)
            if changed:
                skips[clearing] = self.env._(
                    "Reward %(reward)s changed since the clearing (it is %(state)s%(recoverable)s): record a new "
                    "reward instead.", reward=changed[0].display_name, state=changed[0]._state_label(),
                    recoverable=self.env._(", recoverable") if changed[0].recoverable else "")
                continue
            items_lines = rewards.move_id.line_ids.filtered(
                lambda line, clearing=clearing: line.account_id == clearing.company_id.recon_advance_account_id)
            partials = items_lines.matched_debit_ids | items_lines.matched_credit_ids
            own_moves = clearing.move_id | rewards.move_id | partials.exchange_move_id
            others = (partials.debit_move_id | partials.credit_move_id).move_id - own_moves
            if others:
                skips[clearing] = self.env._(
                    "Rewards of %(payee)s were repaid or reconciled by hand since the clearing (%(entries)s): "
                    "unreconcile them first, or record a new reward instead.",
                    payee=clearing.partner_id.display_name, entries=", ".join(others.mapped("name")))
        return skips

    def _undo_restore(self, items, undo):
        """The forgiveness entry is reversed (when there was one): the
        rewards count in the owed balance again, the clearing shows Undone
        and keeps the list of the rewards it had forgiven."""
        for clearing in items:
            rewards = clearing.reward_ids
            if not clearing.forgiven_reward_ids:
                clearing._recon_write({"forgiven_reward_ids": [fields.Command.set(rewards.ids)]})
            rewards._mark_uncleared()
            body = Markup("<p>%s</p>") % self.env._(
                "Recoverable again: the clearing of %(date)s was undone by %(user)s (%(reason)s).",
                date=fields.Date.to_string(clearing.date), user=undo.user_id.name, reason=undo.reason)
            rewards._message_log_batch(bodies={reward.id: body for reward in rewards})
        items._recon_write({"state": "undone", "undo_id": undo.id})

    def _undo_done(self, undo):
        res = super()._undo_done(undo)
        for clearing in self.filtered(lambda c: c.state == "undone"):
            clearing.partner_id._recon_log_note(self.env._(
                "Clearing of the owed balance of %(amount)s undone by %(user)s: %(reason)s.",
                amount=formatLang(self.env, clearing.amount, currency_obj=clearing.currency_id),
                user=undo.user_id.name, reason=undo.reason))
        return res
