"""What an auto-adjustment rule adjusts one account by, and why nothing.

Plain Python, no ORM. The amount is :func:`balances.compute_adjustment`
(see there and ``docs/adjustments.md``); when it comes out at zero, the
account is left alone and the preview and the run's report say why, as one
of three reasons:

* :data:`NOTHING_OPEN`: the rule decreases its line item code and nothing
  of that code is open on the account;
* :data:`NO_BASE`: a percentage of a balance that is nothing;
* :data:`ROUNDS_TO_ZERO`: anything else (a value too small for the
  currency).

>>> plan_adjustment("percent", 10.0, {1: 900.0, 2: 100.0}, 2, product_keys=[1])
(90.0, None)
>>> plan_adjustment("flat", -10.0, {1: 100.0}, 3)
(0.0, 'nothing_open')
>>> plan_adjustment("percent", 5.0, {1: 0.0}, 3)
(0.0, 'no_base')
>>> plan_adjustment("flat", 0.004, {1: 100.0}, 3)
(0.0, 'rounds_to_zero')
"""
from odoo.tools.float_utils import float_compare, float_is_zero

from .balances import ROUNDING, compute_adjustment

#: a decrease of a line item code of which nothing is open
NOTHING_OPEN = "nothing_open"
#: a percentage of a balance that is nothing
NO_BASE = "no_base"
#: the amount is too small for the currency
ROUNDS_TO_ZERO = "rounds_to_zero"


def plan_adjustment(adjustment_type, value, balances, code, product_keys=None, rounding=ROUNDING):
    """The signed amount a rule adjusts an account by, and why it is nothing.

    :param adjustment_type: ``"flat"`` or ``"percent"``
    :param value: the rule's value, in the account's currency for a flat
        one (positive increases, negative decreases); it may be unrounded,
        only its sign and the amount computed from it matter
    :param balances: the account's balance per line item code
    :param code: the rule's line item code
    :param product_keys: the codes a percentage is of (all when empty)
    :param rounding: the rounding of the account's currency
    :return: ``(amount, reason)``: ``amount`` as
        :func:`~odoo.addons.recon_addon.services.balances.compute_adjustment`
        returns it; ``reason`` is ``None`` when ``amount`` is not zero at
        ``rounding``, else :data:`NOTHING_OPEN`, :data:`NO_BASE` or
        :data:`ROUNDS_TO_ZERO`

    A decrease is checked first: a negative percentage of a code with
    nothing open has nothing open, whatever the rest of the balance.

    >>> plan_adjustment("percent", -50.0, {1: 0.0, 2: 0.0}, 1)
    (0.0, 'nothing_open')
    >>> plan_adjustment("flat", -5.0, {1: 0.004}, 1)     # open, but less than a cent
    (0.0, 'nothing_open')
    >>> plan_adjustment("flat", -5.0, {1: 300.0}, 1)
    (-5.0, None)
    """
    amount = compute_adjustment(adjustment_type, value, balances, code, product_keys, rounding)
    if not float_is_zero(amount, precision_rounding=rounding):
        return amount, None
    if value < 0 and float_compare(balances.get(code, 0.0), 0.0, precision_rounding=rounding) <= 0:
        return amount, NOTHING_OPEN
    if adjustment_type == "percent":
        return amount, NO_BASE
    return amount, ROUNDS_TO_ZERO
