"""Settle open invoice residuals through the ledger spine, against Odoo's
own path for the same work, in the same run on the same database.

- The addon's path: ``recon.ledger._settle`` on batches of ``BATCH``
  requests, one transaction per batch (as a cron run would commit them).
- Odoo's path, what a user does in the web client for each invoice: fill a
  new miscellaneous entry in its form (receivable credit / bad-debt debit,
  with the form's onchanges, emulated by ``odoo.tests.Form``), save and post
  it, then add its credit to the invoice ("Outstanding credits > Add"), one
  transaction per invoice. HTTP and rendering costs are not counted.
"""
from datetime import date

from common import Timer, environment, make_company, make_invoices, receivable_line, row, write_off_like_the_ui

from odoo.addons.recon_addon.models.recon_ledger import Settlement

BATCH = 100
SETTLE_DATE = date(2024, 3, 1)


def _customers(env, company, count=20):
    return env["res.partner"].create([
        {"name": f"Bench Customer {i}", "company_id": company.id} for i in range(count)])


def settle_with_spine(registry, company_id, invoice_ids):
    with Timer() as timer:
        for start in range(0, len(invoice_ids), BATCH):
            with environment(registry, {"allowed_company_ids": [company_id]}) as env:
                invoices = env["account.move"].browse(invoice_ids[start:start + BATCH])
                bad_debt = env["res.company"].browse(company_id).recon_bad_debt_account_id
                result = env["recon.ledger"]._settle([
                    Settlement(target=receivable_line(inv), amount=inv.amount_residual,
                               account=bad_debt, source=inv, label="Write-off",
                               date=SETTLE_DATE)
                    for inv in invoices
                ])
                assert not any(result.errors), result.errors
    return timer.seconds


def settle_the_odoo_way(registry, company_id, invoice_ids):
    with Timer() as timer:
        for invoice_id in invoice_ids:
            with environment(registry, {"allowed_company_ids": [company_id]}) as env:
                invoice = env["account.move"].browse(invoice_id)
                company = invoice.company_id
                write_off_like_the_ui(env, receivable_line(invoice), company.recon_bad_debt_account_id,
                                      company.recon_journal_id, SETTLE_DATE, f"Write-off {invoice.name}")
    return timer.seconds


def _check_all_paid(registry, invoice_ids):
    with environment(registry) as env:
        open_left = env["account.move"].search_count([
            ("id", "in", invoice_ids), ("payment_state", "!=", "paid")])
        assert not open_left, f"{open_left} invoices still open"


def run(registry, args):
    sizes = (30, 300) if args.quick else (300, 3000)
    baseline_n = 30 if args.quick else 300
    with environment(registry) as env:
        company = make_company(env, "Bench Spine Co")
        customers = _customers(env, company)
        small = make_invoices(env, company, customers, sizes[0]).ids
        large = make_invoices(env, company, customers, sizes[1]).ids
        baseline = make_invoices(env, company, customers, baseline_n).ids
        company_id = company.id

    odoo_seconds = settle_the_odoo_way(registry, company_id, baseline)
    _check_all_paid(registry, baseline)
    odoo_per_item = odoo_seconds / baseline_n
    rows = [row("odoo: entry + post + add outstanding, per invoice", baseline_n, odoo_seconds,
                notes="form onchanges emulated, one transaction per invoice")]
    per_item = {}
    for n, ids in zip(sizes, (small, large)):
        seconds = settle_with_spine(registry, company_id, ids)
        _check_all_paid(registry, ids)
        per_item[n] = seconds / n
        rows.append(row(f"spine: settle {n} residuals", n, seconds, odoo_per_item,
                        notes=f"batches of {BATCH}"))
    growth = per_item[sizes[1]] / per_item[sizes[0]]
    rows[-1]["notes"] += f"; per-item {sizes[1]} vs {sizes[0]}: {growth:.2f}x"
    return rows
