"""Settle open invoice residuals through the ledger spine, against Odoo's
own path for the same work, in the same run on the same database.

- The addon's path: ``recon.ledger._book`` on batches of ``BATCH``
  requests, one transaction per batch (as a cron run would commit them).
- Odoo's path, what a user does in the web client for each invoice: fill a
  new miscellaneous entry in its form (receivable credit / bad-debt debit,
  with the form's onchanges, emulated by ``odoo.tests.Form``), save and post
  it, then add its credit to the invoice ("Outstanding credits > Add"), one
  transaction per invoice. HTTP and rendering costs are not counted.
- The addon's path again for a second company with the audit trail on
  (Accounting > Settings > Audit Trail): each entry is then logged as created
  and posted, as one made by hand is. Its batches alternate with those of the
  large run without the audit trail, so both meet the same machine.
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
    return settle_side_by_side(registry, [(company_id, invoice_ids)])[0]


def settle_side_by_side(registry, runs):
    """Settle each run's invoices ``[(company_id, invoice_ids)]`` in batches,
    one transaction each, the runs' batches taking turns; return each run's
    seconds."""
    seconds = [0.0] * len(runs)
    for start in range(0, max(len(ids) for _company, ids in runs), BATCH):
        for index, (company_id, invoice_ids) in enumerate(runs):
            batch_ids = invoice_ids[start:start + BATCH]
            if not batch_ids:
                continue
            with Timer() as timer:
                _settle_batch(registry, company_id, batch_ids)
            seconds[index] += timer.seconds
    return seconds


def _settle_batch(registry, company_id, invoice_ids):
    with environment(registry, {"allowed_company_ids": [company_id]}) as env:
        invoices = env["account.move"].browse(invoice_ids)
        bad_debt = env["res.company"].browse(company_id).recon_bad_debt_account_id
        result = env["recon.ledger"]._book([
            Settlement(items=receivable_line(inv), amount=inv.amount_residual,
                       account=bad_debt, source=inv, label="Write-off",
                       date=SETTLE_DATE)
            for inv in invoices
        ])
        assert not any(result.errors), result.errors


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
        audit_company = make_company(env, "Bench Spine Audit Trail Co")
        audit_company.check_account_audit_trail = True
        audited = make_invoices(env, audit_company, _customers(env, audit_company), sizes[1]).ids
        audit_company_id = audit_company.id

    odoo_seconds = settle_the_odoo_way(registry, company_id, baseline)
    _check_all_paid(registry, baseline)
    odoo_per_item = odoo_seconds / baseline_n
    rows = [row("odoo: entry + post + add outstanding, per invoice", baseline_n, odoo_seconds,
                notes="form onchanges emulated, one transaction per invoice")]
    small_seconds = settle_with_spine(registry, company_id, small)
    _check_all_paid(registry, small)
    large_seconds, audited_seconds = settle_side_by_side(
        registry, [(company_id, large), (audit_company_id, audited)])
    _check_all_paid(registry, large + audited)
    n = sizes[1]
    logged = _count_audit_trail(registry, audit_company_id, audited)
    assert logged == 2 * n, f"{logged} audit trail messages for {n} entries"
    growth = (large_seconds / n) / (small_seconds / sizes[0])
    rows += [
        row(f"spine: settle {sizes[0]} residuals", sizes[0], small_seconds, odoo_per_item,
            notes=f"batches of {BATCH}; audit trail off"),
        row(f"spine: settle {n} residuals", n, large_seconds, odoo_per_item,
            notes=f"batches of {BATCH}; audit trail off; per-item {n} vs {sizes[0]}: {growth:.2f}x"),
        row(f"spine: settle {n} residuals, audit trail on", n, audited_seconds, odoo_per_item,
            notes=f"batches of {BATCH}, taking turns with the run above; "
                  f"per-item vs audit trail off: {audited_seconds / large_seconds:.2f}x"),
    ]
    return rows


def _count_audit_trail(registry, company_id, invoice_ids):
    """The Audit Trail's messages on the entries that settled ``invoice_ids``."""
    with environment(registry) as env:
        moves = env["account.move"].search([
            ("company_id", "=", company_id),
            ("recon_source_model", "=", "account.move"),
            ("recon_source_id", "in", invoice_ids),
        ])
        return env["mail.message"].search_count([
            ("message_type", "=", "notification"),
            ("account_audit_log_activated", "=", True),
            ("model", "=", "account.move"),
            ("res_id", "in", moves.ids),
        ])
