"""Which accounts a run may adjust under its rule's debtor limits.

``partner_ids`` are the debtors of the candidate accounts, in the order the
run walks them. ``capacity`` is how many new debtors may still be adjusted;
debtors in ``known`` were already adjusted by this run and take no capacity.
With ``once_per_debtor``, only the first account of each debtor is kept::

    >>> select_within_debtor_limits([7, 7, 8, 9], capacity=2, once_per_debtor=True)
    [0, 2]
    >>> select_within_debtor_limits([7, 7, 8, 9], capacity=1, once_per_debtor=False, known={9})
    [0, 1, 3]
"""


def select_within_debtor_limits(partner_ids, capacity, once_per_debtor, known=()):
    """Return the positions in ``partner_ids`` of the accounts to adjust."""
    debtors, seen, selected = set(known), set(), []
    for position, partner_id in enumerate(partner_ids):
        if once_per_debtor and partner_id in seen:
            continue
        if partner_id not in debtors:
            if capacity < 1:
                continue
            capacity -= 1
            debtors.add(partner_id)
        seen.add(partner_id)
        selected.append(position)
    return selected
