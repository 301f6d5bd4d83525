"""The nightly auto-adjustment run against Odoo's batch path and Odoo's form
path for the same fees, in the same run on the same database, at two sizes
ten times apart in qualifying invoices (1,500 open of which 300 qualify, and
15,000 / 3,000; 200 / 40 and 2,000 / 400 with --quick): per-item growth and
peak memory.

For each size, a company gets ``N`` open invoices of which ``Q`` belong to
Retail debtors, and a monthly flat fee rule (10.00) on Retail accounts.

- The addon's path: the cron method called as the scheduler does (one
  transaction per call, committed, until it reports nothing left); it posts
  one fee entry per qualifying invoice through the spine (a ``Transfer``:
  Dr the receivable, for the debtor, due on the run's day / Cr the fee's
  income account). A second call the same day must add nothing.
- Odoo's batch path (``common.post_the_batch_way``), what an ORM developer
  writes for the same fee entries: per chunk of 500, one transaction with ONE
  ``account.move.create`` and ONE ``action_post`` (nothing to reconcile);
  tracking on, as the administrator. Measured on as many entries as the
  addon's run, at both sizes, after it; checked: one posted entry per
  qualifying invoice, 10.00 each on the receivable.
- Odoo's form path for a fee, what an accountant clicks for each account: a
  one-line customer invoice filled in its form, posted and committed one by
  one, measured on a sample (100; 20 with --quick).

Peak memory is the process's resident memory during the nightly run,
sampled every 50 ms (``common.PeakMemory``).
"""
from datetime import datetime

from common import (
    PeakMemory,
    Timer,
    check_batch_path,
    environment,
    make_company,
    make_invoices,
    post_the_batch_way,
    row,
)

QUICK_SIZES = [(200, 40), (2_000, 400)]
FULL_SIZES = [(1_500, 300), (15_000, 3_000)]
PARTNERS = 1_000
RETAIL_SHARE = 5  # one partner in five is Retail
CREATE_CHUNK = 2_000
RUN_AT = datetime(2024, 3, 1, 0, 10)
FEE = 10.0


def _setup(registry, n, q, label):
    """A company with ``n`` open invoices, ``q`` of them of Retail debtors,
    a fee product and an enabled monthly rule on Retail accounts."""
    with environment(registry) as env:
        company = make_company(env, f"Adjustments bench {label}")
        company.partner_id.tz = "UTC"
        retail = env["res.partner.category"].create({"name": f"Retail {label}"})
        retail_partners = env["res.partner"].create([
            {"name": f"Retail debtor {label} {i}", "category_id": [(6, 0, retail.ids)]}
            for i in range(PARTNERS // RETAIL_SHARE)])
        other_partners = env["res.partner"].create([
            {"name": f"Debtor {label} {i}"} for i in range(PARTNERS - len(retail_partners))])
        fee = env["product.product"].create({"name": f"Carrying fee {label}", "type": "service"})
        ids = dict(company=company.id, retail=retail_partners.ids, other=other_partners.ids,
                   fee=fee.id, category=retail.id)
    ids["qualifying"] = []
    for partner_ids, count in ((ids["retail"], q), (ids["other"], n - q)):
        for start in range(0, count, CREATE_CHUNK):
            with environment(registry) as env:
                invoices = make_invoices(env, env["res.company"].browse(ids["company"]),
                                         env["res.partner"].browse(partner_ids), min(CREATE_CHUNK, count - start))
                if partner_ids is ids["retail"]:
                    ids["qualifying"] += invoices.ids
    with environment(registry) as env:
        rule = env["recon.adjustment.rule"].create({
            "name": f"Add 10 on the first of each month ({label})",
            "company_id": ids["company"],
            "state": "enabled",
            "frequency": "monthly",
            "month_day": 1,
            "apply_limit": "unlimited",
            "product_id": ids["fee"],
            "adjustment_type": "flat",
            "value": 10.0,
            "domain": f"[('partner_id.category_id', 'in', [{ids['category']}])]",
        })
        ids["rule"] = rule.id
    return ids


def _nightly(registry):
    """Call the cron as the scheduler does; return the number of calls."""
    calls = 0
    while True:
        with environment(registry) as env:
            done = env["recon.adjustment.rule"]._cron_run_adjustments(now=RUN_AT)
        if not done:
            return calls
        calls += 1


def _odoo_fee_path(registry, ids, sample):
    """Odoo's own path for a fee, what an accountant clicks for each account:
    a one-line customer invoice filled in its form (the form's onchanges
    emulated by ``odoo.tests.Form``), saved and posted, each committed."""
    from odoo.tests import Form  # test mode is on once bench/run.py loaded the registry

    with Timer() as timer:
        for i in range(sample):
            with environment(registry, {"allowed_company_ids": [ids["company"]]}) as env:
                env = env(user=env.ref("base.user_admin"))
                form = Form(env["account.move"].with_context(default_move_type="out_invoice"))
                form.partner_id = env["res.partner"].browse(ids["retail"][i % len(ids["retail"])])
                form.invoice_date = RUN_AT.date()
                with form.invoice_line_ids.new() as line:
                    line.product_id = env["product.product"].browse(ids["fee"])
                    line.quantity = 1
                    line.price_unit = 10.0
                    line.tax_ids.clear()
                form.save().action_post()
    return timer.seconds / sample


def _batch_fees(registry, ids):
    """Odoo's batch path for the fees of the qualifying invoices, checked;
    return (seconds, entries posted)."""
    day = RUN_AT.date()
    with environment(registry) as env:
        company = env["res.company"].browse(ids["company"])
        fee = env["product.product"].browse(ids["fee"])
        income = fee.product_tmpl_id.with_company(company)._get_product_accounts()["income"]
        entries = []
        for invoice in env["account.move"].browse(ids["qualifying"]):
            receivable = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
            partner_id = invoice.commercial_partner_id.id
            entries.append((f"Batch fee on {invoice.name}", [
                {"account_id": receivable[:1].account_id.id, "partner_id": partner_id, "balance": FEE,
                 "date_maturity": day, "product_id": fee.id},
                {"account_id": income.id, "partner_id": partner_id, "balance": -FEE, "product_id": fee.id},
            ]))
        journal_id = company.recon_journal_id.id
    seconds = post_the_batch_way(registry, ids["company"], entries, journal_id, day)
    labels = [label for label, _lines in entries]
    posted = check_batch_path(registry, ids["company"], journal_id, labels)
    with environment(registry) as env:
        debited = sum(env["account.move.line"].search([
            ("company_id", "=", ids["company"]), ("move_id.ref", "in", labels),
            ("account_id.account_type", "=", "asset_receivable")]).mapped("debit"))
        assert round(debited, 2) == FEE * len(labels), f"batch path: {debited} on the receivable"
    return seconds, posted


def run(registry, args):
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    rows = []
    form_per_item = None
    first = None
    for n, q in sizes:
        label = f"{n} {datetime.now():%H%M%S}"
        ids = _setup(registry, n, q, label)
        with PeakMemory() as memory, Timer() as timer:
            calls = _nightly(registry)
        with environment(registry) as env:
            adjusted = env["recon.adjustment"].search_count([("rule_id", "=", ids["rule"])])
            run_record = env["recon.adjustment.run"].search([("rule_id", "=", ids["rule"])])
            assert adjusted == q == run_record.adjusted_count, (adjusted, q, run_record.adjusted_count)
            posted = env["recon.adjustment"].search([("rule_id", "=", ids["rule"])]).move_id.filtered(
                lambda move: move.state == "posted")
            assert len(posted) == q, f"{len(posted)} fee entries posted for {q} adjustments"
        with PeakMemory() as second_memory, Timer() as second:
            _nightly(registry)
        with environment(registry) as env:
            assert env["recon.adjustment"].search_count([("rule_id", "=", ids["rule"])]) == q
        with PeakMemory() as batch_memory:
            batch_seconds, batch_posted = _batch_fees(registry, ids)
        if form_per_item is None:  # after the run: these fee invoices would qualify too
            sample = 20 if args.quick else 100
            form_per_item = _odoo_fee_path(registry, ids, sample)
            rows.append(row("form path: fee invoice, per account", sample, form_per_item * sample,
                            notes="one-line customer invoice, form onchanges emulated, one transaction each"))
        rows.append(row(f"batch path: {q} fee entries", q, batch_seconds, memory=batch_memory,
                        notes=f"create + post per 500, tracking on; {batch_posted} entries, "
                              f"{FEE * batch_posted:.2f} on the receivable; {batch_memory}"))
        notes = f"{calls} cron calls; {q} fee entries posted; {memory}"
        if first:
            notes += f"; per-item vs {first[0]} qualifying: {(timer.seconds / q) / first[1]:.2f}x"
        else:
            first = (q, timer.seconds / q)
        rows.append(row(f"nightly adjustments ({n} open, {q} qualify)", q, timer.seconds,
                        form_per_item, batch_seconds / q, memory=memory, notes=notes))
        rows.append(row(f"second nightly call, same day ({n} open)", n, second.seconds, memory=second_memory,
                        notes=f"adds nothing; {second_memory}"))
    return rows
