"""The balance of an account per line item code, and the adjustment amount.

Plain Python, no ORM. Definitions (also in ``docs/adjustments.md``):

**Balance per line item code.** An account is a posted customer invoice
plus the adjustments posted on it. For each line item code (product):

* *invoice part*: the code's share of the invoice (the sum of its invoice
  lines, taxes included, divided by the sum of all invoice lines) times what
  is still open on the invoice (its residual). Payments and credits on the
  invoice therefore reduce every code pro rata. Lines without a product are
  counted under ``None`` ("no code").
* *adjustment part*: the open (unreconciled) receivable of the adjustments
  of that code posted on the account.

The account balance is the sum over all codes: the invoice residual plus
the open adjustments.

>>> balances = line_item_balances([(1, 900.0), (2, 100.0)], 500.0, [(3, 10.0)])
>>> balances == {1: 450.0, 2: 50.0, 3: 10.0}
True

**Adjustment amount.** A flat value, or a percentage of the balance of the
chosen codes (all codes when none is chosen); a negative value decreases
the account, never below zero.

>>> compute_adjustment("percent", 10.0, {1: 900.0, 2: 100.0}, product_keys=[1])
90.0
>>> compute_adjustment("flat", -500.0, {1: 300.0})
-300.0
"""
from odoo.tools.float_utils import float_round

ROUNDING = 0.01


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


def line_item_balances(invoice_lines, invoice_residual, adjustments=(), rounding=ROUNDING):
    """The open balance of an account per line item code.

    :param invoice_lines: iterable of ``(code, amount)``: the invoice's
        product lines, amounts taxes included, in the invoice currency
    :param invoice_residual: what is still open on the invoice (positive)
    :param adjustments: iterable of ``(code, open_amount)`` of the
        adjustments posted on the account
    :return: dict ``{code: balance}``, ordered by first appearance
    """
    invoiced = {}
    for code, amount in invoice_lines:
        invoiced[code] = invoiced.get(code, 0.0) + amount
    codes = list(invoiced)
    shares = distribute(invoice_residual, [invoiced[c] for c in codes], rounding)
    balances = dict(zip(codes, shares))
    for code, open_amount in adjustments:
        balances[code] = _round(balances.get(code, 0.0) + open_amount, rounding)
    return balances


def compute_adjustment(adjustment_type, value, balances, product_keys=None, rounding=ROUNDING):
    """The signed amount of an adjustment on an account.

    :param adjustment_type: ``"flat"`` (``value`` is the amount) or
        ``"percent"`` (``value`` percent of the balance of ``product_keys``,
        or of the whole balance when ``product_keys`` is empty)
    :param value: positive increases, negative decreases
    :param balances: the account's balance per line item code
    :return: the amount to post; a decrease is capped at the account
        balance so it never goes below zero (0.0 when nothing is open)
    """
    total = _round(sum(balances.values()), rounding)
    if adjustment_type == "flat":
        amount = value
    elif adjustment_type == "percent":
        codes = list(product_keys or balances)
        base = sum(balances.get(code, 0.0) for code in codes)
        amount = base * value / 100.0 if base > 0 else 0.0
    else:
        raise ValueError(f"unknown adjustment type {adjustment_type!r}")
    amount = _round(amount, rounding)
    if amount < 0:
        amount = -min(-amount, max(total, 0.0))
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
    return [(key, part) for (key, __), part in zip(open_ones, parts) if part]
