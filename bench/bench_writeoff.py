"""Bulk write-off of defaulted accounts: preview and confirm of one upload
file, against the same write-offs done one by one the way Odoo's UI does it.

Odoo's path, per invoice: a miscellaneous entry (Dr bad-debt account /
Cr receivable) filled in its form and posted, then the invoice's "Add" button
on the outstanding credit, then commit — what an accountant clicking through
Odoo does (``common.write_off_like_the_ui``). It is measured on a sample and
reported per invoice.

The confirm is measured again for a second company with the audit trail on
(each entry logged as created and posted, as one made by hand is), before
the first company's, so that warming up counts against it.

Last, the batch is undone (``recon.undo``: every entry reversed with Odoo's
own reversal, the pair reconciled, every invoice open again), in the request
and then by the scheduler, and its per-item time is set beside the
confirm's.
"""
import base64
import time
from datetime import date, timedelta

from common import Timer, environment, make_company, make_invoices, receivable_line, row, write_off_like_the_ui


def run(registry, args):
    size = 200 if args.quick else 2000
    sample = 50 if args.quick else 200
    with environment(registry) as env:
        company = make_company(env, f"Bench Write-off {time.time():.0f}")
        immediate = env.ref("account.account_payment_term_immediate")
        partners = env["res.partner"].with_company(company).create([
            {"name": f"Debtor {i}", "property_payment_term_id": immediate.id} for i in range(100)])
        invoices = make_invoices(env, company, partners, size + sample,
                                 invoice_date=date.today() - timedelta(days=400))
        ours_ids, baseline_ids = invoices[:size].ids, invoices[size:].ids
        names = invoices[:size].mapped("name")
        company_id = company.id
        audit_company = make_company(env, f"Bench Write-off Audit Trail {time.time():.0f}")
        audit_company.check_account_audit_trail = True
        audit_partners = env["res.partner"].with_company(audit_company).create([
            {"name": f"Debtor {i}", "property_payment_term_id": immediate.id} for i in range(100)])
        audited = make_invoices(env, audit_company, audit_partners, size,
                                invoice_date=date.today() - timedelta(days=400))
        audited_ids, audited_names = audited.ids, audited.mapped("name")
        audit_company_id = audit_company.id

    audit_context = {"allowed_company_ids": [audit_company_id]}
    wizard_id, _eligible = _preview(registry, audit_context, audited_names)
    audit_confirm, audit_written_off, _first = _confirm(registry, audit_context, wizard_id, size)
    with environment(registry, audit_context) as env:
        audit_open_left = sum(env["account.move"].browse(audited_ids).mapped("amount_residual"))

    context = {"allowed_company_ids": [company_id]}
    with Timer() as preview:
        wizard_id, eligible = _preview(registry, context, names)
    confirm, written_off, first_chunk = _confirm(registry, context, wizard_id, size)
    with environment(registry, context) as env:
        batch_id = env["recon.bulk.write.off.wizard"].browse(wizard_id).batch_id.id
        open_left = sum(env["account.move"].browse(ours_ids).mapped("amount_residual"))

    with Timer() as baseline:
        for invoice_id in baseline_ids:
            _write_off_like_the_ui(registry, company_id, invoice_id)
    with environment(registry, context) as env:
        baseline_left = sum(env["account.move"].browse(baseline_ids).mapped("amount_residual"))

    undo, undone, undo_open = _undo(registry, context, batch_id, ours_ids, size)

    per_item = baseline.seconds / sample
    return [
        row("bulk write-off: preview", size, preview.seconds,
            notes=f"{eligible} eligible of {size}; target < 5 s"),
        row("bulk write-off: confirm (one batch)", size, confirm, per_item,
            notes=f"{written_off} written off ({first_chunk} in the request, the rest by the "
                  f"scheduler), open left {open_left:.2f}; "
                  f"Odoo's path on {sample} invoices, open left {baseline_left:.2f}; audit trail off"),
        row("bulk write-off: confirm, audit trail on", size, audit_confirm, per_item,
            notes=f"{audit_written_off} written off, open left {audit_open_left:.2f}; run first; "
                  f"per-item vs audit trail off: {audit_confirm / confirm:.2f}x"),
        row("bulk write-off: undo of the batch", size, undo, per_item,
            notes=f"{undone} undone, open again {undo_open:.2f}; per-item vs the confirm: "
                  f"{undo / confirm:.2f}x (target <= 1.0x)"),
    ]


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
