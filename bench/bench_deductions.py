"""Deductions: below-threshold runs clearing broken-out transactions of five
deductions each, against Odoo's batch path and Odoo's form path for the same
work, in the same run on the same database, at two sizes ten times apart
(60 and 600 transactions, i.e. 300 and 3,000 deductions; 10 and 100 with
--quick) for per-item growth and peak memory. ``LARGE`` adds one large run
(e.g. 2,000 transactions, 10,000 deductions); it is off, to keep ``make
bench`` within about 25 minutes (making the transactions costs more than
clearing them).

- The addon's path: ``action_run_below_threshold`` on the transactions (the
  request clears the first chunk, the scheduler the others, one chunk per
  call and per transaction); every deduction must end resolved.
- Odoo's batch path (``common.settle_the_batch_way``), what an ORM developer
  writes: per chunk of 500 deductions, one transaction with ONE
  ``account.move.create`` of the write-off entries (Dr the promotion's
  account / Cr the deduction's receivable item ``receivable_line_id``), ONE
  ``action_post`` and ONE ``_reconcile_plan`` of each entry's receivable
  item with the deduction's; tracking on, as the administrator. Measured on
  as many deductions as the two smaller runs (the large run is compared
  with the 3,000-deduction sample); every receivable item must end
  reconciled.
- Odoo's form path, per deduction: a miscellaneous entry filled in its form,
  posted, matched with the deduction's receivable item, one transaction each
  (``common.write_off_like_the_ui``), measured on a sample (200 deductions;
  20 with --quick): its cost per deduction does not depend on how many there
  are.
"""
import time
from datetime import date

from common import (
    PeakMemory,
    Timer,
    check_batch_path,
    environment,
    make_company,
    row,
    settle_the_batch_way,
    write_off_like_the_ui,
)

DEDUCTIONS_PER_TRANSACTION = 5
#: transactions of an extra large run (full sizes only), or None
LARGE = None
AMOUNTS = [12.5, 25.0, 37.5, 50.0, 62.5]
DAY = date(2024, 1, 15)


def _setup(env, name):
    company = make_company(env, name)
    env = env(context=dict(env.context, allowed_company_ids=[company.id], tracking_disable=True,
                           mail_create_nolog=True, mail_notrack=True))
    partners = env["res.partner"].create([{"name": f"Customer {i}", "company_id": company.id} for i in range(20)])
    account = env["account.account"].create({
        "name": "Trade Promotions", "code": "612900", "account_type": "expense",
        "company_ids": [(6, 0, company.ids)],
    })
    promotion = env["recon.promotion"].create({
        "name": "Below Threshold - January 2024", "date_from": "2024-01-01", "date_to": "2024-01-31",
        "below_threshold": True, "account_id": account.id, "company_id": company.id,
    })
    rule = env["recon.threshold.rule"].create({
        "name": "Below 100", "threshold": 100.0, "company_id": company.id,
        "promotion_ids": [(6, 0, promotion.ids)],
    })
    rule.action_enable()
    return env, company, partners, account


def _make_transactions(env, company, partners, count, batch=250):
    """``count`` broken-out transactions of five deductions each; returns their ids."""
    ids = []
    for start in range(0, count, batch):
        transactions = env["recon.deduction.transaction"].create([{
            "partner_id": partners[i % len(partners)].id,
            "company_id": company.id,
            "date": DAY,
            "ref": f"CHQ-{i}",
            "original_amount": sum(AMOUNTS),
            "deduction_ids": [(0, 0, {"ref": f"CLM-{i}-{k}", "amount": a}) for k, a in enumerate(AMOUNTS)],
        } for i in range(start, min(count, start + batch))])
        transactions.action_breakout()
        ids += transactions.ids
        env.cr.commit()
    return ids


def _odoo_path(registry, company_id, account_id, deduction_ids):
    """Odoo's one-by-one path, what a user clicking through does for each
    deduction: a miscellaneous entry filled in its form, posted, matched with
    the deduction's receivable item, one transaction each."""
    with Timer() as timer:
        for deduction_id in deduction_ids:
            with environment(registry, {"allowed_company_ids": [company_id]}) as env:
                deduction = env["recon.deduction"].browse(deduction_id)
                company = env["res.company"].browse(company_id)
                write_off_like_the_ui(env, deduction.receivable_line_id, env["account.account"].browse(account_id),
                                      company.recon_journal_id, DAY, deduction.display_name)
    return timer.seconds


def _batch_path(registry, company_id, account_id, deduction_ids):
    """Odoo's batch path on ``deduction_ids``, checked; return the seconds."""
    with environment(registry) as env:
        journal_id = env["res.company"].browse(company_id).recon_journal_id.id
        pairs = [(deduction.receivable_line_id.id, account_id, f"Batch {deduction.display_name} {deduction.id}")
                 for deduction in env["recon.deduction"].browse(deduction_ids)]
    seconds = settle_the_batch_way(registry, company_id, pairs, journal_id, DAY)
    check_batch_path(registry, company_id, journal_id, [label for _item, _account, label in pairs],
                     [item for item, _account, _label in pairs])
    return seconds


def _deductions(registry, transaction_ids):
    with environment(registry) as env:
        return env["recon.deduction.transaction"].browse(transaction_ids).deduction_ids.ids


def _run_below_threshold(registry, company_id, transaction_ids):
    """One below-threshold run on ``transaction_ids``, checked; return
    (seconds, deductions cleared, scheduler calls)."""
    with environment(registry) as env:
        env = env(context=dict(env.context, allowed_company_ids=[company_id]))
        records = env["recon.deduction.transaction"].browse(transaction_ids)
        with Timer() as timer:
            # the request clears the first chunk; the scheduler the others,
            # one chunk per call and per transaction
            action = records.action_run_below_threshold()
            env.cr.commit()
            result = env["recon.threshold.run"].browse(action["res_id"])
            calls = 0
            while result.state == "running":
                env["recon.threshold.run"]._cron_process_runs()
                env.cr.commit()
                calls += 1
        result.invalidate_recordset()
        cleared = result.cleared_count
        expected = len(transaction_ids) * DEDUCTIONS_PER_TRANSACTION
        assert cleared == expected, f"cleared {cleared} of {expected}"
        deductions = env["recon.deduction"].search([("transaction_id", "in", transaction_ids)])
        assert not deductions.filtered(lambda d: d.state != "resolved"), "deductions left unresolved"
        assert all(deductions.receivable_line_id.mapped("reconciled")), "receivable items left open"
    return timer.seconds, cleared, calls


def run(registry, args):
    sizes = (10, 100) if args.quick else (60, 600)
    large = None if args.quick else LARGE
    sample = 20 if args.quick else 200
    with environment(registry) as env:
        env, company, partners, account = _setup(env, f"Bench Deductions {time.time():.0f}")
        env.cr.commit()
        company_id, account_id = company.id, account.id
        ours = {n: _make_transactions(env, company, partners, n) for n in sizes + ((large,) if large else ())}
        batch = {n: _make_transactions(env, company, partners, n) for n in sizes}
        form_ids = _make_transactions(env, company, partners, -(-sample // DEDUCTIONS_PER_TRANSACTION))
    form_deductions = _deductions(registry, form_ids)[:sample]

    form = _odoo_path(registry, company_id, account_id, form_deductions)
    form_per_item = form / len(form_deductions)
    rows = [row("form path: write-off entry + match, per deduction", len(form_deductions), form,
                notes="form onchanges emulated, one transaction each")]
    batch_per_item = {}
    for n in sizes:
        deduction_ids = _deductions(registry, batch[n])
        with PeakMemory() as memory:
            seconds = _batch_path(registry, company_id, account_id, deduction_ids)
        batch_per_item[n] = seconds / len(deduction_ids)
        rows.append(row(f"batch path: {len(deduction_ids)} deductions", len(deduction_ids), seconds,
                        memory=memory, notes=f"create + post + reconcile plan per 500, tracking on; "
                                             f"all reconciled; {memory}"))

    first = None
    for n in sizes + ((large,) if large else ()):
        with PeakMemory() as memory:
            seconds, cleared, calls = _run_below_threshold(registry, company_id, ours[n])
        baseline_n = n if n in batch_per_item else sizes[-1]
        notes = (f"one run: the request, then {calls} scheduler calls, a commit each; all resolved; "
                 f"{memory}")
        if baseline_n != n:
            notes += f"; batch path measured on {baseline_n * DEDUCTIONS_PER_TRANSACTION} deductions"
        if first:
            notes += f"; per-item vs {first[0]} transactions: {(seconds / cleared) / first[1]:.2f}x"
        else:
            first = (n, seconds / cleared)
        rows.append(row(f"below-threshold run: {n} transactions x {DEDUCTIONS_PER_TRANSACTION}", cleared, seconds,
                        form_per_item, batch_per_item[baseline_n], memory=memory, notes=notes))
    return rows
