"""The ledger spine: every journal entry the addon posts is made here.

Callers ask for what to post with one of three recipes, and never give a
signed debit or credit: the spine reads every sign from the open items'
residuals or from the direction asked for.

- :class:`Settlement`: settle open journal items against an account (all
  that is open, or an amount taken from the items in the order given);
- :class:`Transfer`: move an amount for a partner from one account to
  another, the sending side settling given open items as far as they go,
  the receiving side in one or several journal items (a maturity schedule,
  one item per deduction …);
- :class:`Reversal`: reverse a posted move with Odoo's own reversal.

:meth:`ReconLedger._book` validates all the requests, creates every move with
one ``create()``, posts them together with one ``_post()`` and reconciles
every settling journal item with its items through one ``_reconcile_plan``.
The result tells, per request, its move, its error, and which journal item
answers which key the caller gave (example: docs/development.md, "Posting an
entry"). Signs, currencies, lock dates, journals, the audit trail and
reconciliation rules live in this one file.
"""
from contextlib import nullcontext
from dataclasses import dataclass, field as dc_field
from datetime import date as date_type
from typing import Any, NamedTuple

from markupsafe import escape

from odoo import Command, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import clean_context, float_compare, float_is_zero
from odoo.tools.mail import generate_tracking_message_id

from ..services.owed_balances import allocate_fifo, split_forgiveness

#: moves created, posted and reconciled per ORM round trip inside a call
CHUNK_SIZE = 500

#: chatter off: the entries of companies without the audit trail
FAST_CONTEXT = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
#: chatter on whatever the caller's context: the audit trail is read from it
AUDIT_TRAIL_CONTEXT = dict.fromkeys(FAST_CONTEXT, False)


@dataclass
class LedgerLine:
    """One journal item of an entry, as the spine builds it from a recipe.

    ``amount`` is signed, in the entry's currency: debit > 0, credit < 0.
    ``reconcile_with`` (journal items) are reconciled with this line once
    posted; the line must reduce their open residual, never exceed it.
    ``key`` names the line in the result (see :attr:`LedgerResult.lines`).
    """

    account: Any
    amount: float
    partner: Any = None
    name: str | None = None
    date_maturity: date_type | None = None
    reconcile_with: Any = None
    product: Any = None
    key: Any = None


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
    """Settle open journal items against ``account``: one entry, one journal
    item per settled item (reconciled with it) and the counterpart.

    ``amount`` (positive, in the items' currency) is what to settle, taken
    from the items in the order given (FIFO), each at most its open amount
    or its ``limits`` entry; ``None`` settles everything open. Asking for
    more than is open is refused, naming the item.

    ``groups`` (``[(items, label)]``, instead of ``items`` and ``amount``)
    settles the whole open amount of each group with one journal item
    reconciled with all of it. ``counterparts`` (``[(account, items,
    label)]``) splits the counterpart: each account takes the open amount
    of its items.

    Result keys: each settled item is the key of the journal item that
    settles it (the first item of a group for a group), ``key`` (default
    ``"counterpart"``) that of the counterpart.
    """

    source: Any
    items: Any = None
    account: Any = None
    amount: float | None = None
    limits: dict | None = None
    groups: list | None = None
    counterparts: list | None = None
    partner: Any = None
    label: str | None = None
    counterpart_label: str | None = None
    date: date_type | None = None
    ref: str | None = None
    product: Any = None
    key: Any = "counterpart"


class Part(NamedTuple):
    """One journal item of a :class:`Transfer`'s receiving side. ``amount``
    goes the transfer's way (negative: the other way, e.g. a repayment among
    deductions); ``key`` names its journal item in the result."""

    amount: float
    key: Any = None
    label: str | None = None
    date_maturity: date_type | None = None


@dataclass
class Transfer:
    """Move ``amount`` for ``partner`` out of ``from_account`` into
    ``to_account`` (a negative amount moves it back), or the sum of
    ``parts`` (then one journal item per part on ``to_account``).

    The sending side settles the open items ``settle`` (on
    ``from_account``) as far as they go and at most ``settle_amount``:
    with one journal item reconciled with all of them (their net open
    amount), or with ``fifo`` one per item, in the order given; the rest
    stays open on ``from_account`` (result key ``"rest"``).
    """

    source: Any
    from_account: Any
    to_account: Any
    partner: Any = None
    amount: float = 0.0
    parts: list | None = None
    settle: Any = None
    settle_amount: float | None = None
    fifo: bool = False
    currency: Any = None
    company: Any = None
    label: str | None = None
    from_label: str | None = None
    date: date_type | None = None
    ref: str | None = None
    product: Any = None
    key: Any = "to"


@dataclass
class Reversal:
    """Reverse ``move`` with Odoo's own reversal (``_reverse_moves``: the
    reversal's ``reversed_entry_id`` is ``move``), dated ``date`` (today by
    default). Each of its reconcilable items still fully open is reconciled
    with its mirror; result keys: the original item of each mirror."""

    source: Any
    move: Any
    date: date_type | None = None
    journal: Any = None
    label: str | None = None
    ref: str | None = None

    @property
    def company(self):
        return self.move.company_id


@dataclass
class LedgerResult:
    """``moves[i]`` is the posted move of request ``i`` (an empty recordset
    when it failed) and ``errors[i]`` its error message, or ``None``.
    ``lines[i]`` maps the keys of request ``i`` to their journal items."""

    moves: list
    errors: list
    lines: list = dc_field(default_factory=list)


class ReconLedger(models.AbstractModel):
    _name = "recon.ledger"
    _description = "Reconciliation Ledger Spine"

    def _book(self, requests, isolate=False):
        """Create, post and reconcile one entry per request, in one batch.

        :param requests: list of :class:`Settlement`, :class:`Transfer`,
            :class:`Reversal` (or prepared :class:`LedgerEntry`)
        :param isolate: when False, any invalid request raises a UserError
            before anything is created and nothing is posted; when True, the
            valid requests are posted and the others reported in the result.
        :return: :class:`LedgerResult`
        """
        entries = [self._entry(request) for request in requests]
        moves = [self.env["account.move"]] * len(entries)
        errors = [None] * len(entries)
        keyed = [{} for _entry in entries]
        for index, entry in enumerate(entries):
            error = self._check_entry(entry)
            if error and not isolate:
                raise UserError(error)
            errors[index] = error
        valid = [i for i, e in enumerate(errors) if not e]
        chunks = [valid[start:start + CHUNK_SIZE] for start in range(0, len(valid), CHUNK_SIZE)]
        while chunks:
            chunk = chunks.pop(0)
            try:
                with self.env.cr.savepoint() if isolate else nullcontext():
                    created = self._create_post_reconcile([entries[i] for i in chunk])
            except (UserError, ValidationError) as exc:
                if not isolate:
                    raise
                if len(chunk) > 1:
                    # find the culprits: one savepoint per entry, only on failure
                    chunks[:0] = [[i] for i in chunk]
                else:
                    errors[chunk[0]] = self._describe_failure(entries[chunk[0]], exc)
                continue
            for i, (move, lines) in zip(chunk, created, strict=False):
                moves[i], keyed[i] = move, lines
        return LedgerResult(moves=moves, errors=errors, lines=keyed)

    # ------------------------------------------------------------------
    # Recipes to entries: every sign is decided here
    # ------------------------------------------------------------------
    def _entry(self, request):
        """The :class:`LedgerEntry` (or :class:`Reversal`) that posts ``request``."""
        if isinstance(request, Settlement):
            return self._entry_for_settlement(request)
        if isinstance(request, Transfer):
            return self._entry_for_transfer(request)
        return request

    def _entry_for_settlement(self, request):
        groups = request.groups
        items = request.items
        if groups:
            items = self.env["account.move.line"].union(*[group for group, _label in groups])
        first = items[:1]
        currency = first.currency_id
        label = request.label
        lines = []

        def item_line(targets, amount, name, key):
            return LedgerLine(account=targets[:1].account_id, amount=amount,
                              partner=request.partner or targets[:1].partner_id, name=name or label,
                              reconcile_with=targets, product=request.product, key=key)

        if groups or request.amount is None:
            for group, group_label in groups or [(item, None) for item in items]:
                open_amount = currency.round(sum(group.mapped("amount_residual_currency")))
                lines.append(item_line(group, -open_amount, group_label, group[:1]))
        else:
            net = sum(items.mapped("amount_residual_currency"))
            sign = 1 if (net if len(items) > 1 else first.amount_residual_currency) > 0 else -1
            limits = request.limits or {}
            pool = {item: min(sign * item.amount_residual_currency, limits.get(item, float("inf")))
                    for item in items}
            taken = allocate_fifo(request.amount, pool, currency.rounding or 0.01)
            left = currency.round(request.amount - sum(taken.values()))
            if not currency.is_zero(left):
                # more than is open: ask for it on the last item, refused
                # by the check with the item's name
                last = items[-1:]
                taken[last] = currency.round(taken.get(last, 0.0) + left)
            for item, amount in taken.items():
                lines.append(item_line(item, -sign * amount, None, item))
        counterparts = [(request.account, -sum(line.amount for line in lines), None, request.key)]
        if request.counterparts:
            counterparts = [(account, sum(group.mapped("amount_residual_currency")), name, (request.key, account))
                            for account, group, name in request.counterparts]
        partner = request.partner or first.partner_id
        lines += [LedgerLine(account=account, amount=currency.round(amount), partner=partner,
                             name=name or request.counterpart_label or label, product=request.product, key=key)
                  for account, amount, name, key in counterparts]
        return LedgerEntry(source=request.source, label=label, date=request.date, currency=currency,
                           company=first.company_id, ref=request.ref, lines=lines)

    def _entry_for_transfer(self, request):
        company = self._entry_company(request)
        currency = request.currency or company.currency_id
        label = request.label
        from_label = request.from_label or label

        def line(account, amount, name, key, **kwargs):
            return LedgerLine(account=account, amount=amount, partner=request.partner, name=name,
                              product=request.product, key=key, **kwargs)

        lines = [line(request.to_account, currency.round(part.amount), part.label or label, part.key,
                      date_maturity=part.date_maturity)
                 for part in request.parts or [Part(request.amount, key=request.key)]]
        total = currency.round(sum(line.amount for line in lines))
        sign = 1 if total > 0 else -1
        settle = request.settle
        reached = 0.0
        if settle and not currency.is_zero(total):
            most = abs(total) if request.settle_amount is None else min(abs(total), request.settle_amount)
            if request.fifo:
                # the sending line reduces the items open the transfer's way
                pool = {item: sign * item.amount_residual_currency for item in settle}
                for item, amount in allocate_fifo(most, pool, currency.rounding).items():
                    lines.append(line(request.from_account, -sign * amount, from_label, item, reconcile_with=item))
                    reached += sign * amount
            else:
                same_currency = all(item.currency_id == currency for item in settle)
                open_amount = sum(settle.mapped("amount_residual_currency" if same_currency
                                                else "amount_residual"))
                reconciled, _rest = split_forgiveness(sign * most, open_amount, currency.rounding)
                if not currency.is_zero(reconciled):
                    lines.append(line(request.from_account, -reconciled, from_label, "settled", reconcile_with=settle))
                    reached = reconciled
        rest = currency.round(total - reached)
        if not currency.is_zero(rest) or len(lines) < 2:
            lines.append(line(request.from_account, -rest, from_label, "rest"))
        return LedgerEntry(source=request.source, label=label, date=request.date, currency=currency,
                           company=company, ref=request.ref, lines=lines)

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    def _entry_company(self, entry):
        return entry.company or (entry.source.company_id if "company_id" in entry.source else self.env.company)

    def _check_entry(self, entry):
        """Return why ``entry`` cannot be posted, naming the record, or None."""
        source = entry.source.display_name or entry.source._description
        company = self._entry_company(entry)
        journal = entry.journal or company.recon_journal_id
        accounting_date = entry.date or fields.Date.context_today(self)
        if not journal:
            return self.env._(
                "%(record)s: company %(company)s has no Reconciliation journal. Set one in "
                "Accounting > Configuration > Settings > Reconciliation.",
                record=source, company=company.name,
            )
        if isinstance(entry, Reversal):
            if entry.move.state != "posted":
                return self.env._("%(record)s: the entry %(move)s to reverse is not posted.",
                                  record=source, move=entry.move.display_name)
        else:
            error = self._check_lines(entry, source, entry.currency or company.currency_id, accounting_date)
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

    def _check_lines(self, entry, source, currency, accounting_date):
        if len(entry.lines) < 2:
            return self.env._("%(record)s: a journal entry needs at least two lines.", record=source)
        total = sum(line.amount for line in entry.lines)
        if not currency.is_zero(total):
            return self.env._(
                "%(record)s: the entry is not balanced (%(total)s).",
                record=source, total=currency.round(total),
            )
        for line in entry.lines:
            if not line.account:
                return self.env._("%(record)s: a line of the entry has no account. Configure the missing "
                                  "account and try again.", record=source)
            if line.reconcile_with:
                error = self._check_reconcile_target(source, line, currency, accounting_date)
                if error:
                    return error
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
        amount = line.amount if same_currency else currency._convert(
            line.amount, targets.company_currency_id[:1], targets.company_id[:1], accounting_date)
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
        for line, balance in zip(entry.lines, balances, strict=False):
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
            # a draft's name; the number comes with posting
            # (account.move._recon_number_in_chains)
            "name": "/",
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
        """Create, post and reconcile ``entries``; return, in order, each
        one's move and ``{key: journal item}``. The entries of companies with
        the audit trail (``check_account_audit_trail``) get the trail an entry
        posted by hand gets (see :meth:`_create_and_post`); the others are
        made without chatter, the fast path.
        """
        audited = [bool(self._entry_company(entry).check_account_audit_trail) for entry in entries]
        moves = {}
        for audit_trail in (False, True):
            indexes = [i for i, flag in enumerate(audited) if flag is audit_trail]
            if indexes:
                created = self._create_and_post([entries[i] for i in indexes], audit_trail)
                moves.update(zip(indexes, created, strict=False))
        moves = [moves[i] for i in range(len(entries))]
        plan = []
        keyed = []
        for entry, move in zip(entries, moves, strict=False):
            pairs = self._match_lines(entry, move)
            keyed.append({key: line for key, line, _targets in pairs if key is not None})
            plan.extend(line + targets for _key, line, targets in pairs if targets)
        if plan:
            Line = self.env["account.move.line"]
            if any(audited):
                # the settled invoices' payment status changes in a context
                # that tracks it, as after core's payment wizard, whatever the
                # caller's context says; core logs it when the transaction ends
                Line = Line.with_context(**AUDIT_TRAIL_CONTEXT)
            # reconciling changes no invoice line (no tax, no payment term):
            # core's sync of the invoices' dynamic lines around it is skipped,
            # as core's payment wizard skips it when creating its payments
            Line.with_context(skip_invoice_sync=True)._reconcile_plan(plan)
            # computed now, in that context, not later in the caller's
            Line.env["account.move"].flush_model(["payment_state"])
            settled = self.env["account.move.line"].union(*[lines[1:] for lines in plan]).move_id
            self._log_pending_tracking(settled)
        return list(zip(moves, keyed, strict=False))

    def _match_lines(self, entry, move):
        """``[(key, journal item, items to reconcile it with)]`` of ``move``,
        the move made for ``entry``.

        The items of a :class:`LedgerEntry` are created from its lines, in
        their order, by this file alone; a :class:`Reversal`'s mirror items
        are matched with the original items they reverse by account,
        partner, currency and amount.
        """
        if not isinstance(entry, Reversal):
            return [(spec.key, line, spec.reconcile_with)
                    for line, spec in zip(move.line_ids.sorted("id"), entry.lines, strict=False)]
        mirrors = {}
        for line in move.line_ids:
            mirrors.setdefault(self._mirror_key(line, -1), []).append(line)
        pairs = []
        for original in entry.move.line_ids:
            candidates = mirrors.get(self._mirror_key(original, 1))
            if not candidates:
                continue
            mirror = candidates.pop(0)
            fully_open = (
                (original.account_id.reconcile
                 or original.account_id.account_type in ("asset_cash", "liability_credit_card"))
                and not original.reconciled
                and original.currency_id.compare_amounts(
                    original.amount_residual_currency, original.amount_currency) == 0
            )
            pairs.append((original, mirror, original if fully_open else None))
        return pairs

    @staticmethod
    def _mirror_key(line, sign):
        return (line.account_id.id, line.partner_id.id, line.currency_id.id,
                line.currency_id.round(sign * line.amount_currency))

    def _create_and_post(self, entries, audit_trail):
        """Create and post the moves of ``entries`` in one ``create()`` (one
        ``_reverse_moves()`` for reversals) and one ``_post()``.

        With ``audit_trail``, the chatter is on, as for an entry made by hand
        (its creator follows it), and each move gets one note, made here for
        all in one insert: its creation ("Journal Entry created", core's
        text) with the tracked changes of its posting (Draft to Posted, its
        number …). Core would log the creation alone: it drops the tracking
        of a move in the transaction that created it.
        """
        # the creation is logged with the posting, below; core discards the
        # tracking of moves created in the transaction (mail.thread.create)
        context = dict(AUDIT_TRAIL_CONTEXT, mail_create_nolog=True, mail_notrack=True) \
            if audit_trail else FAST_CONTEXT
        Move = self.env["account.move"].with_context(skip_invoice_sync=True, **context)
        created = {}
        new = [i for i, entry in enumerate(entries) if not isinstance(entry, Reversal)]
        reversals = [i for i, entry in enumerate(entries) if isinstance(entry, Reversal)]
        if new:
            vals_list = [self._prepare_move_vals(entries[i]) for i in new]
            if not self.env["account.analytic.distribution.model"].search_count([], limit=1):
                # with no analytic distribution model, core's compute looks
                # each item's (none) up, one search per partner and product,
                # and leaves the distribution empty: it is empty here already
                for vals in vals_list:
                    for command in vals["line_ids"]:
                        command[2].setdefault("analytic_distribution", False)
            created.update(zip(new, Move.create(vals_list), strict=False))
        if reversals:
            originals = Move.browse([entries[i].move.id for i in reversals])
            created.update(zip(reversals, self._reverse_moves(originals, [{
                "name": "/",
                "date": entries[i].date or fields.Date.context_today(self),
                "journal_id": (entries[i].journal or entries[i].company.recon_journal_id).id,
                "ref": entries[i].ref or entries[i].label,
                "recon_source_model": entries[i].source._name,
                "recon_source_id": entries[i].source.id,
            } for i in reversals]), strict=False))
        moves = Move.browse([created[i].id for i in range(len(entries))])
        tracked = Move._track_get_fields() if audit_trail else ()
        before = {move.id: {fname: move[fname] for fname in tracked} for move in moves}
        post_context = {"recon_reconcile_reversals_in_one_plan": True, "recon_number_in_batch": True}
        if any(isinstance(entry, Reversal) and entry.move.move_type != "entry" for entry in entries):
            # a reversal of an invoice (core's reversal) reconciles it when
            # posted: the invoice's new status is tracked
            post_context["mail_notrack"] = False
        # reversals are reconciled with their moves as core does, in one plan.
        # The new moves' posting is not tracked by core (see above): preparing
        # it would cost one tracking callback per move, each keeping its own
        # environment alive until the commit, and every later
        # ``with_context`` of the transaction would scan them all.
        moves.with_context(**post_context)._post(soft=False)
        if audit_trail:
            self._log_tracked_changes(moves, before, {move: move._creation_message() for move in moves})
        return moves

    def _reverse_moves(self, originals, default_values_list):
        """The draft reversals of ``originals``, as Odoo's
        ``account.move._reverse_moves`` (without ``cancel``) makes them: each
        a copy of its move with ``default_values_list[i]``, the reverse type,
        ``reversed_entry_id`` and the move's partner, its items' balances
        negated, and the "reversed from" note in its chatter. Core copies one
        move per ``create()``; the journal entries the spine posts (type
        ``entry``) are copied here in one ``create()`` with the same values;
        any other move goes through core's method. Posting reconciles each
        reversal with its move (core's ``_post``), in one plan (see
        ``account.move._reconcile_reversed_moves``)."""
        entries = originals.filtered(lambda move: move.move_type == "entry")
        if entries != originals:
            return originals._reverse_moves(default_values_list)
        Move = originals.with_context(include_business_fields=True)
        vals_list = []
        for move, default_values in zip(Move, default_values_list, strict=False):
            vals_list += move.copy_data(dict(default_values, move_type="entry", reversed_entry_id=move.id,
                                             partner_id=move.partner_id.id))
        for vals in vals_list:
            # core writes these negated after the copy; they are created negated here
            for command in vals["line_ids"]:
                if command[0] == Command.CREATE:
                    command[2].update(balance=-command[2]["balance"],
                                      amount_currency=-command[2]["amount_currency"])
        reversals = Move.browse().create(vals_list)
        reversals._message_log_batch(bodies={
            reversal.id: self.env._("This entry has been reversed from %s", move._get_html_link())
            for move, reversal in zip(originals, reversals, strict=False)
        })
        return reversals.with_env(originals.env)

    def _log_tracked_changes(self, moves, before, bodies):
        """Log on each of ``moves`` a note (shown in the Audit Trail), all in
        one batch: its text in ``bodies`` ({move: text}) with the changes of
        its tracked fields since ``before`` ({move id: {field name: value}}),
        as core's tracking shows them."""
        tracked = moves.fields_get(
            list(moves._track_get_fields()), attributes=("string", "type", "selection", "currency_field"))
        logs = {}
        for move in moves:
            _changes, tracking_commands = move._mail_track(tracked, before[move.id])
            logs[move] = (tracking_commands, None, bodies[move])
        self._log_tracking(moves, logs)

    def _log_pending_tracking(self, records):
        """Log now, in one batch, the tracking that core logs one record at a
        time when the transaction ends (``mail.thread._track_finalize``), for
        ``records``: the invoices whose payment status a settlement changed.
        The same messages: the tracking values of the changed fields, the
        subtype the change triggers ("Paid" for a paid invoice), the current
        user as author. Left to core: records whose tracking was given a body
        or an author, and records with followers of that subtype (core
        notifies them)."""
        # their tracked fields computed now, which records what core would log
        records.flush_recordset(list(records._track_get_fields()))
        data = self.env.cr.precommit.data
        pending = data.get(f"mail.tracking.{records._name}") or {}
        special = set(data.get(f"mail.tracking.message.{records._name}", ())) \
            | set(data.get(f"mail.tracking.author.{records._name}", ()))
        records = records.filtered(lambda r: pending.get(r.id) and r.id not in special)
        if not records:
            return
        records = records.sudo().with_context(clean_context(self.env.context))
        tracked = records.fields_get(
            list(records._track_get_fields()), attributes=("string", "type", "selection", "currency_field"))
        logs, changed = {}, {}
        for record in records:
            initial = pending[record.id]
            changed[record], tracking_commands = record._mail_track(tracked, initial)
            if changed[record]:
                subtype = record._track_subtype({fname: initial[fname] for fname in changed[record]})
                logs[record] = (tracking_commands, subtype or None)
        subtypes = {subtype.id for _commands, subtype in logs.values() if subtype}
        if subtypes:
            followed = set(self.env["mail.followers"].sudo().search([
                ("res_model", "=", records._name), ("res_id", "in", records.ids),
                ("subtype_ids", "in", list(subtypes)),
            ]).mapped("res_id"))
            records = records.filtered(lambda r: r.id not in followed)
        self._log_tracking(records, {record: logs[record] + ("",) for record in records if record in logs})
        for record in records:
            del pending[record.id]
            record._message_track_post_template(changed[record])

    def _log_tracking(self, records, logs):
        """Create the tracking messages ``logs`` ({record: (tracking value
        commands, subtype or None for a note, text)}) of ``records`` with one
        ``mail.message`` create, as core's ``_message_log`` (a note) and
        ``message_post`` (a subtype) make them, without notifications."""
        if not logs:
            return
        # core logs tracking as superuser too (mail.thread._track_finalize)
        records = records.sudo()
        author_id, email_from = records._message_compute_author(None, None, raise_on_email=False)
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        reply_to = self.env["mail.thread"]._notify_get_reply_to(default=email_from)[False]
        records._message_create([{
            "author_id": author_id,
            "email_from": email_from,
            "model": records._name,
            "res_id": record.id,
            "record_alias_domain_id": False,
            "record_company_id": False,
            "record_name": record.display_name if subtype else False,
            "body": escape(body),
            "message_type": "notification",
            "is_internal": not subtype,
            "subtype_id": subtype.id if subtype else note,
            "tracking_value_ids": tracking_commands,
            "email_add_signature": False,
            "message_id": generate_tracking_message_id("message-notify"),
            "reply_to": reply_to,
        } for record, (tracking_commands, subtype, body) in logs.items()])
