"""Settle open invoice residuals through the ledger spine, against Odoo's
batch path and Odoo's form path for the same work, in the same run on the
same database, at two sizes ten times apart (300 and 3,000; 30 and 300 with
--quick): per-item growth (target <= 1.3x) and peak memory at both sizes.

- The addon's path: ``recon.ledger._book`` on batches of ``BATCH``
  requests, one transaction per batch (as a cron run would commit them),
  once in a company with the audit trail off and once in a company with it
  on (Accounting > Settings > Audit Trail: each entry then has its
  creation and posting in the trail, as one made by hand has).
- Odoo's batch path (``common.settle_the_batch_way``), what an ORM developer
  writes: per chunk of 500 invoices, one transaction with ONE
  ``account.move.create`` of the write-off entries (Dr bad-debt account /
  Cr receivable, in the addon's journal), ONE ``action_post`` and ONE
  ``_reconcile_plan`` of each entry's receivable item with the invoice's;
  tracking on, as the administrator. Measured on as many invoices as the
  addon's run, at both sizes.
- Odoo's form path, what a user does in the web client for each invoice:
  fill a new miscellaneous entry in its form (receivable credit / bad-debt
  debit, with the form's onchanges, emulated by ``odoo.tests.Form``), save
  and post it, then add its credit to the invoice ("Outstanding credits >
  Add"), one transaction per invoice, measured on a sample (200; 20 with
  --quick). HTTP and rendering costs are not counted.

Every run is checked afterwards: all its invoices paid, one entry posted
per invoice.
"""
import time
from datetime import date

from odoo.addons.recon_addon.models.recon_ledger import Settlement

from common import (
    PeakMemory,
    Timer,
    check_batch_path,
    environment,
    make_company,
    make_invoices,
    receivable_line,
    row,
    settle_the_batch_way,
    write_off_like_the_ui,
)

BATCH = 100
SETTLE_DATE = date(2024, 3, 1)


def _customers(env, company, count=20):
    return env["res.partner"].create([
        {"name": f"Bench Customer {i}", "company_id": company.id} for i in range(count)])


def settle_with_spine(registry, company_id, invoice_ids):
    """Settle ``invoice_ids`` in batches of ``BATCH``, one transaction
    each; return the seconds."""
    with Timer() as timer:
        for start in range(0, len(invoice_ids), BATCH):
            _settle_batch(registry, company_id, invoice_ids[start:start + BATCH])
    return timer.seconds


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


def settle_in_batch(registry, company_id, invoice_ids):
    """Odoo's batch path on ``invoice_ids``, checked; return the seconds."""
    with environment(registry) as env:
        company = env["res.company"].browse(company_id)
        invoices = env["account.move"].browse(invoice_ids)
        journal_id, bad_debt_id = company.recon_journal_id.id, company.recon_bad_debt_account_id.id
        pairs = [(receivable_line(inv).id, bad_debt_id, f"Batch write-off {inv.name}") for inv in invoices]
    seconds = settle_the_batch_way(registry, company_id, pairs, journal_id, SETTLE_DATE)
    check_batch_path(registry, company_id, journal_id, [label for _item, _account, label in pairs],
                     [item for item, _account, _label in pairs])
    _check_all_paid(registry, invoice_ids)
    return seconds


def _check_all_paid(registry, invoice_ids):
    with environment(registry) as env:
        open_left = env["account.move"].search_count([
            ("id", "in", invoice_ids), ("payment_state", "!=", "paid")])
        assert not open_left, f"{open_left} invoices still open"


def _count_entries(registry, company_id, invoice_ids):
    """The posted entries the spine made for ``invoice_ids``."""
    with environment(registry) as env:
        return env["account.move"].search_count([
            ("company_id", "=", company_id), ("state", "=", "posted"),
            ("recon_source_model", "=", "account.move"), ("recon_source_id", "in", invoice_ids),
        ])


def run(registry, args):
    sizes = (30, 300) if args.quick else (300, 3000)
    form_n = 20 if args.quick else 200
    stamp = f"{time.time():.0f}"
    with environment(registry) as env:
        company = make_company(env, f"Bench Spine {stamp}")
        customers = _customers(env, company)
        ours = {n: make_invoices(env, company, customers, n).ids for n in sizes}
        batch = {n: make_invoices(env, company, customers, n).ids for n in sizes}
        form = make_invoices(env, company, customers, form_n).ids
        company_id = company.id
        audit_company = make_company(env, f"Bench Spine Audit Trail {stamp}")
        audit_company.check_account_audit_trail = True
        audit_customers = _customers(env, audit_company)
        audited = {n: make_invoices(env, audit_company, audit_customers, n).ids for n in sizes}
        audit_company_id = audit_company.id

    form_seconds = settle_the_odoo_way(registry, company_id, form)
    _check_all_paid(registry, form)
    form_per_item = form_seconds / form_n
    rows = [row("form path: entry + post + add outstanding", form_n, form_seconds,
                notes="per invoice: form onchanges emulated, one transaction each")]
    batch_per_item = {}
    for n in sizes:
        with PeakMemory() as memory:
            seconds = settle_in_batch(registry, company_id, batch[n])
        batch_per_item[n] = seconds / n
        rows.append(row(f"batch path: settle {n} residuals", n, seconds, memory=memory,
                        notes=f"create + post + reconcile plan per 500, tracking on; {memory}"))

    measured = {}
    for n in sizes:
        for label, run_company_id, invoice_ids in (("off", company_id, ours[n]),
                                                    ("on", audit_company_id, audited[n])):
            with PeakMemory() as memory:
                seconds = settle_with_spine(registry, run_company_id, invoice_ids)
            _check_all_paid(registry, invoice_ids)
            posted = _count_entries(registry, run_company_id, invoice_ids)
            assert posted == n, f"{posted} entries posted for {n} invoices"
            measured[n, label] = (seconds, memory)
    small, large = sizes
    n = large
    logged = _count_audit_trail(registry, audit_company_id, audited[n])
    assert logged == n, f"{logged} audit trail messages for {n} entries (one each: created and posted)"
    for label in ("off", "on"):
        for size in sizes:
            seconds, memory = measured[size, label]
            notes = f"batches of {BATCH}; all paid, {size} entries; {memory}"
            if size == large:
                growth = (seconds / large) / (measured[small, label][0] / small)
                notes += f"; per-item {large} vs {small}: {growth:.2f}x (target <= 1.3x)"
            if label == "on":
                notes += f"; per-item vs audit trail off: {seconds / measured[size, 'off'][0]:.2f}x"
            rows.append(row(f"spine: settle {size} residuals, audit trail {label}", size, seconds,
                            form_per_item, batch_per_item[size], memory=memory, notes=notes))
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
