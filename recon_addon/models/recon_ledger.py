"""The ledger spine: every journal entry the addon posts is made here.

Callers describe *what* to post as :class:`LedgerEntry` objects (or, for the
common case of settling an open item against an account, as
:class:`Settlement` objects); the spine validates all of them, creates every
move with one ``create()``, posts them together and reconciles each marked
line with its target through one ``_reconcile_plan``. Signs, currencies, lock
dates, journals and reconciliation rules live in this one file.

Example::

    ledger = env["recon.ledger"]
    result = ledger._settle([
        Settlement(target=invoice_receivable_line, amount=12.5,
                   account=company.recon_bad_debt_account_id,
                   label="Write-off", source=write_off_record),
    ])
    move = result.moves[0]
"""
from dataclasses import dataclass, field as dc_field
from datetime import date as date_type
from typing import Any

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero

#: moves created, posted and reconciled per ORM round trip inside a call
CHUNK_SIZE = 500

#: chatter off: the entries of companies without the audit trail
FAST_CONTEXT = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
#: chatter on whatever the caller's context: the audit trail is read from it
AUDIT_TRAIL_CONTEXT = dict.fromkeys(FAST_CONTEXT, False)


@dataclass
class LedgerLine:
    """One journal item of an entry.

    ``amount`` is signed, in the entry's currency: debit > 0, credit < 0.
    ``reconcile_with`` (journal items) are reconciled with this line once
    posted; the line must reduce their open residual, never exceed it.
    """

    account: Any
    amount: float
    partner: Any = None
    name: str | None = None
    date_maturity: date_type | None = None
    reconcile_with: Any = None
    product: Any = None


@dataclass
class LedgerEntry:
    """One journal entry asked for by ``source`` (any record)."""

    source: Any
    lines: list = dc_field(default_factory=list)
    label: str | None = None
    date: date_type | None = None
    currency: Any = None
    company: Any = None
    journal: Any = None
    ref: str | None = None


@dataclass
class Settlement:
    """Settle ``amount`` (in the target's currency, positive) of the open
    journal item ``target`` against ``account``."""

    target: Any
    amount: float
    account: Any
    source: Any
    label: str | None = None
    date: date_type | None = None
    journal: Any = None


@dataclass
class LedgerResult:
    """``moves[i]`` is the posted move of request ``i`` (an empty recordset
    when it failed) and ``errors[i]`` its error message, or ``None``."""

    moves: list
    errors: list

    @property
    def posted(self):
        return [m for m in self.moves if m]

    @property
    def failed(self):
        return [i for i, e in enumerate(self.errors) if e]


class ReconLedger(models.AbstractModel):
    _name = "recon.ledger"
    _description = "Reconciliation Ledger Spine"

    # ------------------------------------------------------------------
    # Public entry points
    # ------------------------------------------------------------------
    def _settle(self, settlements, isolate=False):
        """Settle open journal items, each against its counterpart account.

        :param settlements: list of :class:`Settlement`
        :param isolate: when False, any invalid request raises a UserError
            before anything is created and nothing is posted; when True, the
            valid requests are posted and the others reported in the result.
        :return: :class:`LedgerResult`
        """
        return self._post_entries(
            [self._prepare_settlement_entry(s) for s in settlements], isolate=isolate
        )

    def _post_entries(self, entries, isolate=False):
        """Create, post and reconcile many journal entries at once.

        :param entries: list of :class:`LedgerEntry`
        :param isolate: see :meth:`_settle`
        :return: :class:`LedgerResult`
        """
        Move = self.env["account.move"]
        moves = [Move] * len(entries)
        errors = [None] * len(entries)
        for index, entry in enumerate(entries):
            error = self._check_entry(entry)
            if error and not isolate:
                raise UserError(error)
            errors[index] = error
        valid = [i for i, e in enumerate(errors) if not e]
        for start in range(0, len(valid), CHUNK_SIZE):
            chunk = valid[start:start + CHUNK_SIZE]
            if not isolate:
                created = self._create_post_reconcile([entries[i] for i in chunk])
                for i, move in zip(chunk, created):
                    moves[i] = move
                continue
            try:
                with self.env.cr.savepoint():
                    created = self._create_post_reconcile([entries[i] for i in chunk])
                for i, move in zip(chunk, created):
                    moves[i] = move
            except (UserError, ValidationError):
                # find the culprits: one savepoint per entry, only on failure
                for i in chunk:
                    try:
                        with self.env.cr.savepoint():
                            moves[i] = self._create_post_reconcile([entries[i]])[0]
                    except (UserError, ValidationError) as exc:
                        errors[i] = self._describe_failure(entries[i], exc)
        return LedgerResult(moves=moves, errors=errors)

    # ------------------------------------------------------------------
    # Preparation and validation
    # ------------------------------------------------------------------
    def _prepare_settlement_entry(self, settlement):
        target = settlement.target
        residual = target.amount_residual_currency
        sign = 1 if residual > 0 else -1
        return LedgerEntry(
            source=settlement.source,
            label=settlement.label,
            date=settlement.date,
            currency=target.currency_id,
            company=target.company_id,
            journal=settlement.journal,
            lines=[
                LedgerLine(
                    account=target.account_id,
                    amount=-sign * settlement.amount,
                    partner=target.partner_id,
                    name=settlement.label,
                    reconcile_with=target,
                ),
                LedgerLine(
                    account=settlement.account,
                    amount=sign * settlement.amount,
                    partner=target.partner_id,
                    name=settlement.label,
                ),
            ],
        )

    def _entry_company(self, entry):
        return entry.company or (entry.source.company_id if "company_id" in entry.source else self.env.company)

    def _check_entry(self, entry):
        """Return why ``entry`` cannot be posted, naming the record, or None."""
        source = entry.source.display_name or entry.source._description
        company = self._entry_company(entry)
        currency = entry.currency or company.currency_id
        journal = entry.journal or company.recon_journal_id
        if not journal:
            return self.env._(
                "%(record)s: company %(company)s has no Reconciliation journal. Set one in "
                "Accounting > Configuration > Settings > Reconciliation.",
                record=source, company=company.name,
            )
        if len(entry.lines) < 2:
            return self.env._("%(record)s: a journal entry needs at least two lines.", record=source)
        total = sum(line.amount for line in entry.lines)
        if not currency.is_zero(total):
            return self.env._(
                "%(record)s: the entry is not balanced (%(total)s).",
                record=source, total=currency.round(total),
            )
        accounting_date = entry.date or fields.Date.context_today(self)
        for line in entry.lines:
            if not line.account:
                return self.env._("%(record)s: a line of the entry has no account. Configure the missing "
                                  "account and try again.", record=source)
            if float_compare(line.amount, 0.0, precision_rounding=currency.rounding) == 0 and not line.reconcile_with:
                continue
            if line.reconcile_with:
                error = self._check_reconcile_target(source, line, currency, accounting_date)
                if error:
                    return error
        locks = company._get_violated_lock_dates(accounting_date, False, journal)
        if locks:
            return self.env._(
                "%(record)s: cannot post on %(date)s, the period is locked (%(locks)s). "
                "Use a date after the lock date or ask an adviser to lift it.",
                record=source,
                date=accounting_date,
                locks=self.env["res.company"]._format_lock_dates(locks),
            )
        return None

    def _check_reconcile_target(self, source, line, currency, accounting_date):
        targets = line.reconcile_with
        if any(t.parent_state != "posted" for t in targets):
            return self.env._("%(record)s: the journal item to settle is not posted.", record=source)
        if any(t.reconciled for t in targets):
            return self.env._("%(record)s: nothing is left open on %(item)s.",
                              record=source, item=targets[0].move_id.display_name)
        if any(t.account_id != line.account for t in targets):
            return self.env._("%(record)s: the journal item to settle is on another account.", record=source)
        if not line.account.reconcile and line.account.account_type not in ("asset_cash", "liability_credit_card"):
            return self.env._("%(record)s: account %(account)s does not allow reconciliation.",
                              record=source, account=line.account.display_name)
        same_currency = all(t.currency_id == currency for t in targets)
        open_amount = sum(targets.mapped("amount_residual_currency" if same_currency else "amount_residual"))
        rounding = currency.rounding if same_currency else targets.company_currency_id[:1].rounding
        amount = line.amount
        if not same_currency:
            amount = currency._convert(line.amount, targets.company_currency_id[:1],
                                       targets.company_id[:1], accounting_date)
        if float_is_zero(open_amount, precision_rounding=rounding):
            return self.env._("%(record)s: nothing is left open on %(item)s.",
                              record=source, item=targets[0].move_id.display_name)
        if (amount > 0) == (open_amount > 0):
            return self.env._("%(record)s: the settlement would increase the open amount of %(item)s "
                              "instead of reducing it.", record=source, item=targets[0].move_id.display_name)
        if float_compare(abs(amount), abs(open_amount), precision_rounding=rounding) > 0:
            return self.env._(
                "%(record)s: cannot settle %(amount)s on %(item)s, only %(open)s is open.",
                record=source,
                amount=abs(round(amount, 6)),
                item=targets[0].move_id.display_name,
                open=abs(round(open_amount, 6)),
            )
        return None

    def _describe_failure(self, entry, exc):
        source = entry.source.display_name or entry.source._description
        message = exc.args[0] if exc.args else str(exc)
        return message if message.startswith(source) else f"{source}: {message}"

    # ------------------------------------------------------------------
    # The work
    # ------------------------------------------------------------------
    def _prepare_move_vals(self, entry):
        company = self._entry_company(entry)
        currency = entry.currency or company.currency_id
        journal = entry.journal or company.recon_journal_id
        move_date = entry.date or fields.Date.context_today(self)
        line_vals = []
        balances = []
        for line in entry.lines:
            balance = currency._convert(line.amount, company.currency_id, company, move_date) \
                if currency != company.currency_id else line.amount
            balances.append(company.currency_id.round(balance))
        # keep the entry balanced in company currency after conversion
        gap = company.currency_id.round(sum(balances))
        if gap:
            biggest = max(range(len(balances)), key=lambda i: abs(balances[i]))
            balances[biggest] -= gap
        for line, balance in zip(entry.lines, balances):
            vals = {
                "account_id": line.account.id,
                "partner_id": (line.partner or self.env["res.partner"]).id,
                "name": line.name or entry.label,
                "currency_id": currency.id,
                "amount_currency": line.amount,
                "balance": balance,
            }
            if line.date_maturity:
                vals["date_maturity"] = line.date_maturity
            if line.product:
                vals["product_id"] = line.product.id
            line_vals.append((0, 0, vals))
        return {
            "move_type": "entry",
            "journal_id": journal.id,
            "company_id": company.id,
            "date": move_date,
            "ref": entry.ref or entry.label,
            "currency_id": currency.id,
            "recon_source_model": entry.source._name,
            "recon_source_id": entry.source.id,
            "line_ids": line_vals,
        }

    def _create_post_reconcile(self, entries):
        """Create, post and reconcile ``entries``; return their moves in order.

        The entries of companies that keep the audit trail
        (``check_account_audit_trail``) get the trail an entry posted by hand
        gets (see :meth:`_create_and_post`); the others are made without
        chatter, the fast path.
        """
        audited = [bool(self._entry_company(entry).check_account_audit_trail) for entry in entries]
        moves = [None] * len(entries)
        for audit_trail in (False, True):
            indexes = [i for i, flag in enumerate(audited) if flag is audit_trail]
            if not indexes:
                continue
            created = self._create_and_post([entries[i] for i in indexes], audit_trail)
            for i, move in zip(indexes, created):
                moves[i] = move
        plan = []
        for entry, move in zip(entries, moves):
            lines = move.line_ids.sorted("id")
            for line, spec in zip(lines, entry.lines):
                if spec.reconcile_with:
                    plan.append(line + spec.reconcile_with)
        if plan:
            Line = self.env["account.move.line"]
            if any(audited):
                # the settled invoices' payment status changes in a context
                # that tracks it, as after core's payment wizard, whatever the
                # caller's context says; core logs it when the transaction ends
                Line = Line.with_context(**AUDIT_TRAIL_CONTEXT)
            Line._reconcile_plan(plan)
            if any(audited):
                # computed now, in that context, not later in the caller's
                Line.env["account.move"].flush_model(["payment_state"])
        return moves

    def _create_and_post(self, entries, audit_trail):
        """Create and post the moves of ``entries`` in one ``create()`` and
        one ``_post()``.

        With ``audit_trail``, tracking stays on, as for an entry made by hand
        or by core's payment wizard: core logs each move's creation ("Journal
        Entry created", one insert for all), and the posting's tracked changes
        (Draft to Posted, Checked …) are logged here, one message per move,
        all in one insert. Core drops the tracking of a move in the
        transaction that created it, so it would not log the posting at all
        (and logs tracked changes one move at a time when a transaction ends).
        """
        context = AUDIT_TRAIL_CONTEXT if audit_trail else FAST_CONTEXT
        Move = self.env["account.move"].with_context(skip_invoice_sync=True, **context)
        moves = Move.create([self._prepare_move_vals(entry) for entry in entries])
        if not audit_trail:
            moves._post(soft=False)
            return moves
        tracked = Move._track_get_fields()
        before = {move.id: {fname: move[fname] for fname in tracked} for move in moves}
        moves._post(soft=False)
        self._log_tracked_changes(moves, before)
        return moves

    def _log_tracked_changes(self, moves, before):
        """Log, on each of ``moves``, the changes of its tracked fields since
        ``before`` ({move id: {field name: value}}) as core's tracking does (a
        note with tracking values, shown in the Audit Trail), with one
        ``mail.message`` insert and one ``mail.tracking.value`` insert."""
        tracked = moves.fields_get(
            list(moves._track_get_fields()), attributes=("string", "type", "selection", "currency_field"))
        commands = {}
        for move in moves:
            _changes, tracking_commands = move._mail_track(tracked, before[move.id])
            if tracking_commands:
                commands[move] = tracking_commands
        if not commands:
            return
        changed = moves.browse([move.id for move in commands])
        messages = changed._message_log_batch(bodies={})
        # the values come from core's _mail_track; core writes them as
        # superuser too (mail.thread._message_log_batch)
        self.env["mail.tracking.value"].sudo().create([
            dict(command[2], mail_message_id=message.id)
            for move, message in zip(changed, messages)
            for command in commands[move]
        ])
