"""Owed-balance arithmetic for recoverable rewards, without the ORM.

A payee's owed balance is the sum of their recoverable rewards in company
currency: advances and draws count positive, repayments negative::

    >>> owed_balance([(100.0, True), (-40.0, True), (25.0, False)], 0.01)
    60.0

Clearing a balance posts its forgiveness against the payee's open advance
items. When the ledger holds less than the balance (some rewards were
confirmed while posting was off), only what is open can be reconciled::

    >>> split_forgiveness(60.0, 45.0, 0.01)
    (45.0, 15.0)

A repayment settles the payee's oldest open advances first::

    >>> allocate_fifo(70.0, {"jan": 50.0, "feb": 40.0}, 0.01)
    {'jan': 50.0, 'feb': 20.0}
"""
import operator as py_operator

from odoo.tools.float_utils import float_compare, float_is_zero, float_round

#: operators ``res.partner.recoverable_balance`` can be searched with
SEARCH_OPERATORS = {
    "=": py_operator.eq,
    "!=": py_operator.ne,
    "<": py_operator.lt,
    "<=": py_operator.le,
    ">": py_operator.gt,
    ">=": py_operator.ge,
}


def owed_balance(rewards, rounding):
    """Sum of the recoverable amounts.

    :param rewards: iterable of ``(amount_in_company_currency, recoverable)``
    :param rounding: the company currency's rounding
    :return: the owed balance, rounded
    """
    return float_round(sum(amount for amount, recoverable in rewards if recoverable),
                       precision_rounding=rounding)


def balance_matches(balance, operator, value, rounding):
    """Whether ``balance`` satisfies ``balance <operator> value``, comparing
    amounts at the currency's rounding (so 0.001 equals 0 for a cent currency).

    :raises ValueError: for an operator not in :data:`SEARCH_OPERATORS`
    """
    if operator not in SEARCH_OPERATORS:
        raise ValueError(f"unsupported operator {operator!r}")
    comparison = float_compare(balance or 0.0, value or 0.0, precision_rounding=rounding)
    return SEARCH_OPERATORS[operator](comparison, 0)


def split_forgiveness(balance, open_amount, rounding):
    """Split a forgiven ``balance`` into the part reconciled with the payee's
    open advance items (net ``open_amount``) and the rest left open.

    Both amounts are signed the same way (positive: the payee owes). Nothing
    is reconciled when the open items point the other way.

    :return: ``(reconciled, rest)`` with ``reconciled + rest == balance``
    """
    if float_is_zero(open_amount, precision_rounding=rounding) or (open_amount > 0) != (balance > 0):
        return 0.0, balance
    reconciled = min(abs(balance), abs(open_amount)) * (1 if balance > 0 else -1)
    reconciled = float_round(reconciled, precision_rounding=rounding)
    return reconciled, float_round(balance - reconciled, precision_rounding=rounding)


def allocate_fifo(amount, open_amounts, rounding):
    """Take ``amount`` from the open amounts, oldest first.

    :param amount: positive amount to allocate
    :param open_amounts: ordered mapping ``key -> open amount`` (positive);
        the caller keeps it between calls and subtracts what was taken, so
        two repayments never settle the same part of an advance
    :return: ``{key: amount taken}`` in order; their sum is at most ``amount``
    """
    taken = {}
    left = amount
    for key, available in open_amounts.items():
        if float_compare(left, 0.0, precision_rounding=rounding) <= 0:
            break
        if float_compare(available, 0.0, precision_rounding=rounding) <= 0:
            continue
        take = float_round(min(available, left), precision_rounding=rounding)
        taken[key] = take
        left = float_round(left - take, precision_rounding=rounding)
    return taken
