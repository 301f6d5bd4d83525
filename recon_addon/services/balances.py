"""The balance of an account per line item code, and the adjustment amount.

Plain Python, no ORM. Definitions (also in ``docs/adjustments.md``):

**Balance per line item code.** An account is a posted customer invoice
plus the adjustments posted on it. For each line item code (product):

* *invoice part*: the code's share of the invoice (the sum of its invoice
  lines, taxes included, divided by the sum of all invoice lines) times what
  is still open on the invoice (its residual). Payments and credits on the
  invoice therefore reduce every code pro rata. A decrease of one code that
  was taken off the invoice reduces that code only; what was paid before it
  is shared pro rata by all codes, what was paid after it by the codes
  still open. Lines without a product are counted under ``None`` ("no
  code").
* *adjustment part*: the open (unreconciled) receivable of the adjustments
  of that code posted on the account.

The account balance is the sum over all codes: the invoice residual plus
the open adjustments.

>>> balances = line_item_balances([(1, 900.0), (2, 100.0)], 500.0, [(3, 10.0)])
>>> balances == {1: 450.0, 2: 50.0, 3: 10.0}
True

Half paid, then 50 of code 2 waived on the invoice:

>>> line_item_balances([(1, 900.0), (2, 100.0)], 450.0, reductions=[(PRO_RATA, 500.0), (2, 50.0)])
{1: 450.0, 2: 0.0}

**Adjustment amount.** A flat value, or a percentage of the balance of the
chosen codes (all codes when none is chosen); a negative value decreases
the rule's own code, never below zero and never more than that code's
balance: the other codes are not touched.

>>> compute_adjustment("percent", 10.0, {1: 900.0, 2: 100.0}, 2, product_keys=[1])
90.0
>>> compute_adjustment("flat", -500.0, {1: 300.0}, 1)
-300.0
>>> compute_adjustment("flat", -10.0, {1: 100.0, 3: 5.0}, 3)
-5.0
"""
from odoo.tools.float_utils import float_round

ROUNDING = 0.01
#: the code of a reduction of the invoice shared by all its codes (a payment, a credit)
PRO_RATA = "pro rata"


def _round(value, rounding):
    return float_round(value, precision_rounding=rounding)


def distribute(total, weights, rounding=ROUNDING):
    """Split ``total`` in proportion to ``weights`` (a list of numbers),
    rounded, the rounding remainder on the largest part, so the parts always
    add up to ``total`` exactly. Zero weights get zero. When the weights sum
    to zero, everything is returned as zeros."""
    weight_sum = sum(weights)
    if not weights or not weight_sum:
        return [0.0] * len(weights)
    parts = [_round(total * w / weight_sum, rounding) for w in weights]
    gap = _round(total - sum(parts), rounding)
    if gap:
        biggest = max(range(len(parts)), key=lambda i: abs(weights[i]))
        parts[biggest] = _round(parts[biggest] + gap, rounding)
    return parts


def line_item_balances(invoice_lines, invoice_residual, adjustments=(), reductions=(), rounding=ROUNDING):
    """The open balance of an account per line item code.

    :param invoice_lines: iterable of ``(code, amount)``: the invoice's
        product lines, amounts taxes included, in the invoice currency
    :param invoice_residual: what is still open on the invoice (positive)
    :param adjustments: iterable of ``(code, open_amount)`` of the
        adjustments posted on the account
    :param reductions: iterable of ``(code, amount)``, in the order they
        were made, of what was taken off the invoice: by a decrease of that
        code, or, with the code :data:`PRO_RATA`, by a payment or credit
        shared by all codes. Only needed when there are decreases: without
        them, every code is its share of the residual.
    :return: dict ``{code: balance}``, ordered by first appearance
    """
    invoiced = {}
    for code, amount in invoice_lines:
        invoiced[code] = invoiced.get(code, 0.0) + amount
    codes = list(invoiced)
    reductions = list(reductions)
    if all(code == PRO_RATA for code, __ in reductions):
        shares = distribute(invoice_residual, [invoiced[c] for c in codes], rounding)
        balances = dict(zip(codes, shares, strict=False))
    else:
        balances = _replay(invoiced, invoice_residual, reductions, rounding)
    for code, open_amount in adjustments:
        balances[code] = _round(balances.get(code, 0.0) + open_amount, rounding)
    return balances


def _take_pro_rata(balances, amount, rounding):
    """Take ``amount`` off the open codes of ``balances``, in proportion."""
    codes = list(balances)
    weights = [max(balances[c], 0.0) for c in codes]
    if not any(weights):
        weights = [1.0] * len(codes)
    parts = distribute(amount, weights, rounding)
    for code, part in zip(codes, parts, strict=False):
        balances[code] = _round(balances[code] - part, rounding)


def _replay(invoiced, invoice_residual, reductions, rounding):
    """The invoice part per code when some decreases took one code off the
    invoice: the reductions are taken in order, pro rata ones from all open
    codes, a decrease from its code (anything beyond that code's balance
    pro rata); what the reductions do not explain (later payments, rounding)
    is shared pro rata at the end, so the parts add up to the residual."""
    codes = list(invoiced)
    # what was open before the first reduction, shared as the invoice lines are
    opening = invoice_residual + sum(amount for __, amount in reductions)
    balances = dict(zip(codes, distribute(opening, [invoiced[c] for c in codes], rounding), strict=False))
    pending = 0.0
    for code, amount in reductions:
        if code == PRO_RATA:
            pending += amount
            continue
        if pending:
            _take_pro_rata(balances, pending, rounding)
            pending = 0.0
        taken = min(amount, max(balances.get(code, 0.0), 0.0))
        if code in balances:
            balances[code] = _round(balances[code] - taken, rounding)
        if _round(amount - taken, rounding):
            _take_pro_rata(balances, amount - taken, rounding)
    rest = _round(sum(balances.values()) - invoice_residual, rounding)
    if rest:
        _take_pro_rata(balances, rest, rounding)
    return balances


def compute_adjustment(adjustment_type, value, balances, code, product_keys=None, rounding=ROUNDING):
    """The signed amount of an adjustment of line item ``code`` on an account.

    :param adjustment_type: ``"flat"`` (``value`` is the amount) or
        ``"percent"`` (``value`` percent of the balance of ``product_keys``,
        or of the whole balance when ``product_keys`` is empty)
    :param value: positive increases, negative decreases
    :param balances: the account's balance per line item code
    :param code: the line item code the adjustment is posted on
    :return: the amount to post; a decrease is capped at the balance of
        ``code``, so it never takes anything off another code and never
        goes below zero (0.0 when nothing of ``code`` is open)
    """
    if adjustment_type == "flat":
        amount = value
    elif adjustment_type == "percent":
        codes = list(product_keys or balances)
        base = sum(balances.get(key, 0.0) for key in codes)
        amount = base * value / 100.0 if base > 0 else 0.0
    else:
        raise ValueError(f"unknown adjustment type {adjustment_type!r}")
    amount = _round(amount, rounding)
    if amount < 0:
        amount = -min(-amount, max(_round(balances.get(code, 0.0), rounding), 0.0))
    return amount + 0.0  # no negative zero


def spread(amount, installments, rounding=ROUNDING):
    """Spread ``amount`` over open installments in proportion to their open
    amounts.

    :param installments: list of ``(key, open_amount)`` (e.g. due date and
        residual); installments with nothing open get nothing
    :return: list of ``(key, part)`` for the installments that get a part;
        the parts add up to ``amount`` exactly
    """
    open_ones = [(key, open_amount) for key, open_amount in installments if open_amount > 0]
    parts = distribute(amount, [open_amount for __, open_amount in open_ones], rounding)
    return [(key, part) for (key, __), part in zip(open_ones, parts, strict=False) if part]
