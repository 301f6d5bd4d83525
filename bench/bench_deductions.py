"""Deductions: one below-threshold run clearing 2,000 transactions x 5
deductions, against Odoo's own one-by-one write-off path measured in the
same run (per deduction: a miscellaneous entry filled in its form, posted,
matched with the deduction's receivable item, one transaction each; see
``common.write_off_like_the_ui``).

The baseline is measured on a sample (200 deductions; 50 with --quick):
its cost per deduction does not depend on how many there are.
"""
import resource
import time
from datetime import date

from common import Timer, environment, make_company, row, write_off_like_the_ui

DEDUCTIONS_PER_TRANSACTION = 5
AMOUNTS = [12.5, 25.0, 37.5, 50.0, 62.5]
DAY = date(2024, 1, 15)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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


def run(registry, args):
    transactions = 50 if args.quick else 2000
    sample = 50 if args.quick else 200
    with environment(registry) as env:
        env, company, partners, account = _setup(env, f"Bench Deductions {time.time():.0f}")
        env.cr.commit()
        run_ids = _make_transactions(env, company, partners, transactions)
        baseline_ids = _make_transactions(env, company, partners, -(-sample // DEDUCTIONS_PER_TRANSACTION))
        baseline_deductions = env["recon.deduction.transaction"].browse(baseline_ids).deduction_ids.ids[:sample]
        company_id, account_id = company.id, account.id

    baseline = _odoo_path(registry, company_id, account_id, baseline_deductions)

    rss_before = _rss_mb()
    with environment(registry) as env:
        env = env(context=dict(env.context, allowed_company_ids=[company_id]))
        records = env["recon.deduction.transaction"].browse(run_ids)
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
        expected = transactions * DEDUCTIONS_PER_TRANSACTION
        assert cleared == expected, f"cleared {cleared} of {expected}"
        assert not env["recon.deduction"].search_count([("transaction_id", "in", run_ids), ("state", "!=", "resolved")])
    rss_after = _rss_mb()

    return [row(
        f"below-threshold run: {transactions} transactions x {DEDUCTIONS_PER_TRANSACTION}",
        cleared, timer.seconds, baseline_per_item=baseline / len(baseline_deductions),
        notes=(f"one run: the request, then {calls} scheduler calls, a commit each; "
               f"Odoo's path measured on {len(baseline_deductions)} deductions; "
               f"peak RSS {rss_before:.0f} -> {rss_after:.0f} MB"),
    )]
