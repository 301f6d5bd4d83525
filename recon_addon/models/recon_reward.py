from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang

from ..services.owed_balances import allocate_fifo
from .recon_ledger import Reversal, Transfer

#: fields frozen once a reward is confirmed (its entry reflects them)
LOCKED_FIELDS = {"partner_id", "date", "amount", "currency_id", "company_id", "recoverable"}
#: fields only Confirm, Reverse and Clear set (through ``_write_status``)
STATUS_FIELDS = {"state", "move_id", "reversal_move_id", "clearing_id"}
#: company accounts a posted reward needs
REWARD_ACCOUNT_FIELDS = ["recon_advance_account_id", "recon_commission_payable_account_id", "recon_forgiven_account_id"]


class ReconReward(models.Model):
    """A reward paid to a payee: an advance or recoverable draw (positive) or
    a repayment (negative). Recoverable rewards make up the payee's owed
    balance; confirming posts the entry when the company posts rewards."""

    _name = "recon.reward"
    _description = "Recoverable Reward"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Description", required=True, tracking=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Payee",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        ondelete="restrict",
        help="Who received the reward; for a sales rep, the user's partner.",
    )
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    amount = fields.Monetary(
        currency_field="currency_id",
        required=True,
        tracking=True,
        help="Positive: an advance or recoverable draw. Negative: a repayment.",
    )
    recoverable = fields.Boolean(
        default=True,
        tracking=True,
        help="Counts in the payee's owed balance. Clearing the balance makes it non-recoverable.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, compute="_compute_currency_id", store=True, readonly=False,
        precompute=True, help="Currency of the amount; the company's currency unless set.",
    )
    company_currency_id = fields.Many2one(related="company_id.currency_id", string="Company Currency")
    amount_company = fields.Monetary(
        string="Amount in Company Currency",
        currency_field="company_currency_id",
        compute="_compute_amount_company",
        store=True,
        help="The amount converted at the reward's date.",
    )
    kind = fields.Selection(
        [("advance", "Advance"), ("repayment", "Repayment")],
        compute="_compute_kind",
        store=True,
    )
    reference = fields.Char(
        string="Source Document", help="The commission plan, payroll run or document behind the reward.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("confirmed", "Confirmed"), ("reversed", "Reversed")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    move_id = fields.Many2one(
        "account.move", string="Journal Entry", readonly=True, copy=False, check_company=True, index="btree_not_null",
    )
    reversal_move_id = fields.Many2one(
        "account.move", string="Reversal Entry", readonly=True, copy=False, check_company=True,
    )
    clearing_id = fields.Many2one(
        "recon.reward.clearing",
        string="Cleared By",
        readonly=True,
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="The clearing that made this reward non-recoverable.",
    )

    _sql_constraints = [
        ("amount_not_zero", "CHECK(amount != 0)", "A reward needs an amount: positive for an advance, "
         "negative for a repayment."),
    ]

    @api.depends("company_id")
    def _compute_currency_id(self):
        for reward in self.filtered(lambda r: not r.currency_id):
            reward.currency_id = reward.company_id.currency_id

    @api.depends("amount", "currency_id", "company_id", "date")
    def _compute_amount_company(self):
        for reward in self:
            company = reward.company_id or self.env.company
            currency = reward.currency_id or company.currency_id
            reward.amount_company = currency._convert(
                reward.amount, company.currency_id, company, reward.date or fields.Date.context_today(self))

    @api.depends("amount")
    def _compute_kind(self):
        for reward in self:
            reward.kind = "repayment" if reward.amount < 0 else "advance"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_status_fields({f: v for f, v in vals.items() if v and v != "draft"})
        return super().create(vals_list)

    def write(self, vals):
        self._check_status_fields(vals, rewards=self)
        frozen = self.filtered(lambda r: r.state != "draft") if LOCKED_FIELDS.intersection(vals) else None
        if frozen:
            raise UserError(self.env._(
                "Reward %(reward)s is %(state)s: its payee, date, amount, currency, company and "
                "recoverable flag can no longer change. Reverse it and record a new one, or clear "
                "the payee's owed balance.",
                reward=frozen[0].display_name, state=frozen[0]._state_label(),
            ))
        return super().write(vals)

    def _state_label(self):
        return dict(self._fields["state"]._description_selection(self.env))[self.state]

    def _check_status_fields(self, vals, rewards=None):
        if status := STATUS_FIELDS.intersection(vals):
            raise UserError(self.env._(
                "%(reward)s: a reward's status, journal entries and clearing are set by Confirm, "
                "Reverse and Clear Balance only (%(fields)s).",
                reward=rewards[0].display_name if rewards else self.env._("New reward"),
                fields=self._recon_field_names(status),
            ))

    def _write_status(self, vals):
        """Write what Confirm, Reverse and Clear Balance decide, past the
        checks of :meth:`write` (still tracked)."""
        return super().write(vals)

    def _mark_cleared(self, clearing):
        """Make these rewards non-recoverable as part of ``clearing``: the
        only way a confirmed reward's recoverable flag changes (tracked)."""
        return self._write_status({"recoverable": False, "clearing_id": clearing.id})

    def _mark_uncleared(self):
        """Make these rewards recoverable again: their clearing was undone
        (tracked; the clearing keeps them in its forgiven rewards)."""
        return self._write_status({"recoverable": True, "clearing_id": False})

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if posted := self.filtered(lambda r: r.move_id):
            raise UserError(self.env._(
                "Reward %(reward)s has a posted journal entry (%(move)s) and cannot be deleted. "
                "Use Reverse to cancel it with a reversal entry.",
                reward=posted[0].display_name, move=posted[0].move_id.name,
            ))
        if cleared := self.filtered(lambda r: r.clearing_id):
            raise UserError(self.env._(
                "Reward %(reward)s was forgiven by the clearing of %(date)s and is kept as its record; "
                "it cannot be deleted.",
                reward=cleared[0].display_name, date=fields.Date.to_string(cleared[0].clearing_id.date),
            ))

    def unlink(self):
        notes = [(reward.partner_id, self.env._(
            "Reward deleted by %(user)s: %(reward)s, %(amount)s on %(date)s (%(state)s, %(recoverable)s).",
            user=self.env.user.name, reward=reward.name, date=fields.Date.to_string(reward.date),
            amount=formatLang(self.env, reward.amount, currency_obj=reward.currency_id), state=reward._state_label(),
            recoverable=self.env._("recoverable") if reward.recoverable else self.env._("not recoverable"),
        )) for reward in self]
        res = super().unlink()
        for partner, note in notes:
            partner._recon_log_note(note)
        return res

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_confirm(self):
        """Confirm draft rewards; post their entries (one batch) in the
        companies that post rewards."""
        drafts = self.filtered(lambda r: r.state == "draft")
        if drafts != self:
            raise UserError(self.env._(
                "Reward %(reward)s is already confirmed or reversed.",
                reward=(self - drafts)[0].display_name,
            ))
        drafts._recon_lock_rows(nowait=True)  # a second confirmation fails at once, is retried
        # the rate of the reward's date may have been loaded since the draft was saved
        self.env.add_to_compute(self._fields["amount_company"], drafts)
        if to_post := drafts.filtered(lambda r: r.company_id.recon_post_rewards):
            to_post._check_reward_accounts()
            settled = to_post._allocate_repayments()
            result = self.env["recon.ledger"]._book(
                [reward._get_transfer(settled.get(reward)) for reward in to_post]
            )
            for reward, move in zip(to_post, result.moves, strict=False):
                reward._write_status({"move_id": move.id})
        drafts._write_status({"state": "confirmed"})
        return True

    def action_reverse(self):
        """Cancel confirmed rewards. A posted entry is reversed (Odoo's
        reversal, dated today), its items reconciled with the original's
        where those are still fully open."""
        if invalid := self.filtered(lambda r: r.state != "confirmed" or r.clearing_id):
            reward = invalid[0]
            if reward.clearing_id:
                raise UserError(self.env._(
                    "Reward %(reward)s was forgiven when %(payee)s's owed balance was cleared; "
                    "its entry is settled by the forgiveness entry and cannot be reversed.",
                    reward=reward.display_name, payee=reward.partner_id.display_name,
                ))
            raise UserError(self.env._("Only a confirmed reward can be reversed (%(reward)s).",
                                       reward=reward.display_name))
        self._recon_lock_rows(nowait=True)  # a second reversal fails at once, is retried
        if posted := self.filtered(lambda r: r.move_id):
            result = self.env["recon.ledger"]._book([
                Reversal(source=reward, move=reward.move_id,
                         label=self.env._("Reversal: %s", reward.name), ref=reward.move_id.name)
                for reward in posted
            ])
            for reward, move in zip(posted, result.moves, strict=False):
                reward._write_status({"reversal_move_id": move.id})
        self._write_status({"state": "reversed"})
        return True

    def action_view_move(self):
        self.ensure_one()
        moves = self.move_id | self.reversal_move_id | self.clearing_id.move_id
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_journal_line")
        action.update({"domain": [("id", "in", moves.ids)], "context": {"create": False}})
        if len(moves) == 1:
            action.update({"res_id": moves.id, "views": [(False, "form")], "view_mode": "form"})
        return action

    # ------------------------------------------------------------------
    # Entries
    # ------------------------------------------------------------------
    def _check_reward_accounts(self):
        for company in self.company_id:
            if missing := [company._fields[f]._description_string(self.env) for f in REWARD_ACCOUNT_FIELDS
                           if not company[f]]:
                raise UserError(self.env._(
                    "Company %(company)s posts rewards but has no %(accounts)s. Set them in "
                    "Accounting > Configuration > Settings > Reconciliation, or turn off Post Rewards.",
                    company=company.name, accounts=", ".join(missing),
                ))

    def _get_debit_account(self):
        """Advances receivable for a recoverable reward; the forgiven-advances
        expense for one entered as non-recoverable (nothing to recover)."""
        self.ensure_one()
        company = self.company_id
        return company.recon_advance_account_id if self.recoverable else company.recon_forgiven_account_id

    def _allocate_repayments(self):
        """Which open advance items each recoverable repayment of ``self``
        settles: the payee's oldest first, each part of an advance given to
        one repayment only.

        Only repayments and advances in company currency are matched: in a
        foreign currency the match would realise an exchange difference and
        the advances account would no longer equal the owed balance (each
        reward counts at its own date's rate). Those stay open until the
        balance is cleared.

        :return: ``{repayment: (account.move.line, amount settled)}``
        """
        repayments = self.filtered(
            lambda r: r.recoverable and r.amount < 0 and r.currency_id == r.company_id.currency_id
        ).sorted(lambda r: (r.date, r.id))
        if not repayments:
            return {}
        items = self.env["account.move.line"].search([
            ("account_id", "in", repayments.company_id.recon_advance_account_id.ids),
            ("partner_id", "in", repayments.partner_id.ids),
            ("company_id", "in", repayments.company_id.ids),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
            ("currency_id", "in", repayments.currency_id.ids),
            ("amount_residual_currency", ">", 0),
        ], order="date, id")
        pools = defaultdict(dict)
        for item in items:
            key = (item.partner_id, item.company_id, item.currency_id, item.account_id)
            pools[key][item] = item.amount_residual_currency
        settled = {}
        for repayment in repayments:
            key = (repayment.partner_id, repayment.company_id, repayment.currency_id,
                   repayment.company_id.recon_advance_account_id)
            pool = pools[key]
            taken = allocate_fifo(-repayment.amount, pool, repayment.currency_id.rounding)
            for item, amount in taken.items():
                pool[item] -= amount
            if taken:
                settled[repayment] = (self.env["account.move.line"].union(*taken),
                                      repayment.currency_id.round(sum(taken.values())))
        return settled

    def _get_transfer(self, settled=None):
        """Advance: Dr advances receivable / Cr commissions payable, both on
        the payee; a repayment (negative amount) goes the other way, its
        credit reconciled with the advances it settles (``settled``: its
        ``(advance items, amount)`` from :meth:`_allocate_repayments`)."""
        self.ensure_one()
        repayment = self.amount < 0
        label = self.env._("Repayment: %s", self.name) if repayment else self.env._("Advance: %s", self.name)
        payable = self.company_id.recon_commission_payable_account_id
        items, amount = settled or (None, None)
        return Transfer(
            source=self,
            from_account=self._get_debit_account() if repayment else payable,
            to_account=payable if repayment else self._get_debit_account(),
            partner=self.partner_id,
            amount=abs(self.amount),
            settle=items,
            settle_amount=amount,
            label=label,
            date=self.date,
            currency=self.currency_id,
            company=self.company_id,
            ref=self.reference or self.name,
        )
