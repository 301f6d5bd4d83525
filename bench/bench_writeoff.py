"""Bulk write-off of defaulted accounts: preview and confirm of one upload
file, then its undo, against Odoo's batch path and Odoo's form path for the
same write-offs, at two sizes ten times apart (200 and 2,000, the upload's
limit; 20 and 200 with --quick): per-item growth and peak memory.

- The addon's path: the wizard's preview and confirm (the request writes off
  the first chunk, the scheduler the rest, one transaction per call), in a
  company with the audit trail off and in one with it on (each entry has its
  creation and posting in the trail, as one made by hand has); then the batch
  of the company without the audit trail undone (``recon.undo``: every entry reversed with Odoo's own
  reversal, the pair reconciled, every invoice open again), in the request
  and then by the scheduler.
- Odoo's batch path (``common.settle_the_batch_way``), what an ORM developer
  writes: per chunk of 500 invoices, one transaction with ONE
  ``account.move.create`` of the same write-off entries (Dr the company's
  bad-debt account ``recon_bad_debt_account_id`` / Cr the receivable, in
  ``recon_journal_id``), ONE ``action_post`` and ONE ``_reconcile_plan``;
  tracking on, as the administrator. Measured on as many invoices as the
  addon's run, at both sizes.
- Odoo's form path, per invoice: a miscellaneous entry (Dr bad-debt account /
  Cr receivable) filled in its form and posted, then the invoice's "Add"
  button on the outstanding credit, then commit, what an accountant clicking
  through Odoo does (``common.write_off_like_the_ui``), measured on a sample
  (200; 20 with --quick).

Before anything is timed, each path runs once, untimed, on invoices of its
own (the form path on 1, the batch path and the addon's path in each company
on 20): the first call of a path in a process pays Python's and Odoo's
first-use costs (imports, caches, prepared queries), and which path the
order made pay them would otherwise weigh on the ratios.

Every run is checked afterwards: the invoices' open amounts (nothing left
after a write-off, everything open again after the undo), one entry posted
per invoice on the batch path.
"""
import base64
import time
from datetime import date, timedelta

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

INVOICE_AMOUNT = 100.0
WARM_UP = 20


def _company(env, name, audit_trail=False):
    company = make_company(env, name)
    company.check_account_audit_trail = audit_trail
    immediate = env.ref("account.account_payment_term_immediate")
    partners = env["res.partner"].with_company(company).create([
        {"name": f"Debtor {i}", "property_payment_term_id": immediate.id} for i in range(100)])
    return company, partners


def _invoices(env, company, partners, count):
    return make_invoices(env, company, partners, count, amount=INVOICE_AMOUNT,
                         invoice_date=date.today() - timedelta(days=400))


def _open_amount(registry, company_id, invoice_ids):
    with environment(registry, {"allowed_company_ids": [company_id]}) as env:
        return sum(env["account.move"].browse(invoice_ids).mapped("amount_residual"))


def run(registry, args):
    sizes = (20, 200) if args.quick else (200, 2000)
    sample = 20 if args.quick else 200
    stamp = f"{time.time():.0f}"
    with environment(registry) as env:
        company, partners = _company(env, f"Bench Write-off {stamp}")
        ours = {n: _invoices(env, company, partners, n) for n in sizes}
        batch = {n: _invoices(env, company, partners, n).ids for n in sizes}
        form_ids = _invoices(env, company, partners, sample).ids
        names = {n: invoices.mapped("name") for n, invoices in ours.items()}
        ours = {n: invoices.ids for n, invoices in ours.items()}
        company_id = company.id
        journal_id, bad_debt_id = company.recon_journal_id.id, company.recon_bad_debt_account_id.id
        audit_company, audit_partners = _company(env, f"Bench Write-off Audit Trail {stamp}", True)
        audited = {n: _invoices(env, audit_company, audit_partners, n) for n in sizes}
        audited_names = {n: invoices.mapped("name") for n, invoices in audited.items()}
        audited = {n: invoices.ids for n, invoices in audited.items()}
        audit_company_id = audit_company.id
        warm_form = _invoices(env, company, partners, 1).id
        warm_batch = _invoices(env, company, partners, WARM_UP).ids
        warm_ours = {company_id: _invoices(env, company, partners, WARM_UP).mapped("name"),
                     audit_company_id: _invoices(env, audit_company, audit_partners, WARM_UP).mapped("name")}
    _warm_up(registry, company_id, journal_id, bad_debt_id, warm_form, warm_batch, warm_ours)

    with Timer() as form:
        for invoice_id in form_ids:
            _write_off_like_the_ui(registry, company_id, invoice_id)
    form_left = _open_amount(registry, company_id, form_ids)
    assert not form_left, f"form path: {form_left} left open"
    form_per_item = form.seconds / sample
    rows = [row("form path: write-off entry + add outstanding", sample, form.seconds,
                notes="per invoice: form onchanges emulated, one transaction each")]

    batch_per_item = {}
    for n in sizes:
        with environment(registry) as env:
            pairs = _batch_pairs(env, batch[n], bad_debt_id, "Batch write-off")
        with PeakMemory() as memory:
            seconds = settle_the_batch_way(registry, company_id, pairs, journal_id, date.today())
        posted = check_batch_path(registry, company_id, journal_id, [label for _i, _a, label in pairs],
                                  [item for item, _a, _l in pairs])
        left = _open_amount(registry, company_id, batch[n])
        assert not left, f"batch path: {left} left open"
        batch_per_item[n] = seconds / n
        rows.append(row(f"batch path: write off {n} invoices", n, seconds, memory=memory,
                        notes=f"create + post + reconcile plan per 500, tracking on; {posted} entries, "
                              f"open left {left:.2f}; {memory}"))

    audit_context = {"allowed_company_ids": [audit_company_id]}
    context = {"allowed_company_ids": [company_id]}
    for n in sizes:
        baselines = (form_per_item, batch_per_item[n])
        wizard_id, _eligible = _preview(registry, audit_context, audited_names[n])
        with PeakMemory() as audit_memory:
            audit_confirm, audit_written_off, _first = _confirm(registry, audit_context, wizard_id, n)
        audit_open_left = _open_amount(registry, audit_company_id, audited[n])

        with Timer() as preview:
            wizard_id, eligible = _preview(registry, context, names[n])
        with PeakMemory() as memory:
            confirm, written_off, first_chunk = _confirm(registry, context, wizard_id, n)
        with environment(registry, context) as env:
            batch_id = env["recon.bulk.write.off.wizard"].browse(wizard_id).batch_id.id
        open_left = _open_amount(registry, company_id, ours[n])
        assert written_off == n and not open_left, (written_off, open_left)
        assert audit_written_off == n and not audit_open_left, (audit_written_off, audit_open_left)

        with PeakMemory() as undo_memory:
            undo, undone, undo_open = _undo(registry, context, batch_id, ours[n], n)
        assert undone == n and round(undo_open, 2) == n * INVOICE_AMOUNT, (undone, undo_open)
        rows += [
            row(f"bulk write-off: preview ({n})", n, preview.seconds,
                notes=f"{eligible} eligible of {n}; target < 5 s"),
            row(f"bulk write-off: confirm {n}, audit trail off", n, confirm, *baselines, memory=memory,
                notes=f"{written_off} written off ({first_chunk} in the request, the rest by the "
                      f"scheduler), open left {open_left:.2f}; {memory}"),
            row(f"bulk write-off: confirm {n}, audit trail on", n, audit_confirm, *baselines,
                memory=audit_memory,
                notes=f"{audit_written_off} written off, open left {audit_open_left:.2f}; "
                      f"per-item vs audit trail off: {audit_confirm / confirm:.2f}x; {audit_memory}"),
            row(f"bulk write-off: undo of the batch of {n}", n, undo, *baselines, memory=undo_memory,
                notes=f"{undone} undone, open again {undo_open:.2f}; per-item vs the confirm: "
                      f"{undo / confirm:.2f}x (target <= 1.0x); {undo_memory}"),
        ]
    small, large = sizes
    by_name = {r["name"]: r for r in rows}
    for what in ("confirm {n}, audit trail off", "confirm {n}, audit trail on", "undo of the batch of {n}"):
        big = by_name["bulk write-off: " + what.format(n=large)]
        little = by_name["bulk write-off: " + what.format(n=small)]
        big["notes"] += f"; per-item {large} vs {small}: {big['per_item'] / little['per_item']:.2f}x"
    return rows


def _batch_pairs(env, invoice_ids, bad_debt_id, label):
    """What ``settle_the_batch_way`` takes to write the invoices off:
    ``(receivable line id, bad debt account id, entry label)`` each."""
    return [(receivable_line(inv).id, bad_debt_id, f"{label} {inv.name}")
            for inv in env["account.move"].browse(invoice_ids)]


def _warm_up(registry, company_id, journal_id, bad_debt_id, form_id, batch_ids, ours):
    """Each path once, untimed (see the module's docstring): ``ours`` maps
    each company to the names of its invoices to write off."""
    _write_off_like_the_ui(registry, company_id, form_id)
    with environment(registry) as env:
        pairs = _batch_pairs(env, batch_ids, bad_debt_id, "Warm-up write-off")
    settle_the_batch_way(registry, company_id, pairs, journal_id, date.today())
    for some_company_id, names in ours.items():
        context = {"allowed_company_ids": [some_company_id]}
        wizard_id, _eligible = _preview(registry, context, names)
        _seconds, written_off, _first = _confirm(registry, context, wizard_id, len(names))
        assert written_off == len(names), f"warm-up: {written_off} of {len(names)} written off"


def _preview(registry, context, names):
    """Upload the invoices ``names`` and preview them; return the wizard's
    id and how many accounts are eligible."""
    content = ("Account ID;Customer\n" + "\n".join(f"{name};x" for name in names)).encode()
    with environment(registry, context) as env:
        wizard = env["recon.bulk.write.off.wizard"].create({
            "file": base64.b64encode(content), "filename": "bench.csv",
            "reason_id": env.ref("recon_addon.recon_reason_uncollectible").id})
        wizard.action_preview()
        return wizard.id, wizard.count_eligible


def _confirm(registry, context, wizard_id, size):
    """Confirm the previewed wizard and let the scheduler finish the batch.

    :return: (seconds of the confirm and the scheduler's calls, accounts
        written off, accounts written off in the request itself)
    """
    written_off = 0
    with Timer() as confirm:
        with environment(registry, context) as env:
            wizard = env["recon.bulk.write.off.wizard"].browse(wizard_id)
            wizard.action_confirm()
            batch_id = wizard.batch_id.id
            first_chunk = wizard.batch_id.count_written_off
        # the scheduler: one chunk per transaction until the batch is done
        for _call in range(size):
            with environment(registry, context) as env:
                batch = env["recon.write.off.batch"].browse(batch_id)
                if batch.state == "done":
                    written_off = batch.count_written_off
                    break
                env["recon.write.off.batch"]._cron_process_runs()
    return confirm.seconds, written_off, first_chunk


def _undo(registry, context, batch_id, invoice_ids, size):
    """Undo the batch: the request reverses the first chunk, the scheduler
    the rest. :return: (seconds, write-offs undone, open amount of the
    invoices afterwards)"""
    with Timer() as timer:
        with environment(registry, context) as env:
            undo_id = env["recon.write.off.batch"].browse(batch_id)._undo("Benchmark").id
        for _call in range(size):
            with environment(registry, context) as env:
                if env["recon.undo"].browse(undo_id).state == "done":
                    break
                env["recon.undo"]._cron_process_runs()
    with environment(registry, context) as env:
        undo = env["recon.undo"].browse(undo_id)
        return timer.seconds, undo.count_undone, sum(env["account.move"].browse(invoice_ids).mapped("amount_residual"))


def _write_off_like_the_ui(registry, company_id, invoice_id):
    with environment(registry, {"allowed_company_ids": [company_id]}) as env:
        invoice = env["account.move"].browse(invoice_id)
        company = invoice.company_id
        write_off_like_the_ui(env, receivable_line(invoice), company.recon_bad_debt_account_id,
                              company.recon_journal_id, date.today(), f"Write-off {invoice.name}")
