"""Helpers shared by the benchmarks: a committed environment, a company
with a chart of accounts, and many posted customer invoices made fast."""
import contextlib
import time
from datetime import date

from odoo import api, SUPERUSER_ID


@contextlib.contextmanager
def environment(registry, context=None):
    """An environment on its own cursor, committed when the block ends."""
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, dict(context or {}))


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def make_company(env, name):
    """A company with Odoo's generic chart, so with the addon's journal and
    accounts. Returns the company record."""
    company = env["res.company"].create({"name": name, "country_id": env.ref("base.us").id})
    admin = env.ref("base.user_admin")
    (env.user | admin).company_ids |= company
    # the accountant of the benchmarks sees full accounting features
    admin.groups_id |= env.ref("account.group_account_manager") | env.ref("account.group_account_user")
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    return company


def make_invoices(env, company, partners, count, amount=100.0, invoice_date=date(2024, 1, 15)):
    """``count`` posted customer invoices of ``amount``, cycling over
    ``partners``, created and posted in one call each."""
    env = env(context=dict(env.context, allowed_company_ids=[company.id],
                           tracking_disable=True, mail_create_nolog=True))
    journal = env["account.journal"].search([
        ("company_id", "=", company.id), ("type", "=", "sale")], limit=1)
    invoices = env["account.move"].create([{
        "move_type": "out_invoice",
        "company_id": company.id,
        "journal_id": journal.id,
        "partner_id": partners[i % len(partners)].id,
        "invoice_date": invoice_date,
        "invoice_line_ids": [(0, 0, {"name": "Goods", "quantity": 1, "price_unit": amount, "tax_ids": []})],
    } for i in range(count)])
    invoices.action_post()
    return invoices


def receivable_line(invoice):
    return invoice.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")


def row(name, n, seconds, baseline_per_item=None, notes=""):
    """One line of the report. ``ratio`` = Odoo's per-item time / ours."""
    per_item = seconds / n if n else 0.0
    return {
        "name": name,
        "n": n,
        "seconds": round(seconds, 3),
        "per_item": round(per_item, 5),
        "baseline_per_item": round(baseline_per_item, 5) if baseline_per_item else None,
        "ratio": round(baseline_per_item / per_item, 1) if baseline_per_item and per_item else None,
        "notes": notes,
    }


def write_off_like_the_ui(env, item, account, journal, entry_date, label="Write-off"):
    """Odoo's own path for one open item, what an accountant clicks in the
    web client: a new miscellaneous entry filled in its form (the form's
    onchanges emulated by ``odoo.tests.Form``), saved and posted, then its
    credit added to the invoice ("Outstanding credits > Add"), or matched with
    the item when the item is not an invoice's. Runs as the administrator.
    Returns the entry."""
    from odoo.tests import Form  # test mode is on once bench/run.py loaded the registry

    env = env(user=env.ref("base.user_admin"))
    item = item.with_env(env)
    amount = item.amount_residual
    form = Form(env["account.move"].with_context(default_move_type="entry", default_journal_id=journal.id))
    form.date = entry_date
    form.ref = label
    # the item's side first (settling it), then the counterpart
    for line_account, balance in ((item.account_id, -amount), (account, amount)):
        with form.line_ids.new() as line:
            line.account_id = line_account
            line.partner_id = item.partner_id
            line.name = label
            if balance > 0:
                line.debit = balance
            else:
                line.credit = -balance
    entry = form.save()
    entry.action_post()
    counterpart = entry.line_ids.filtered(lambda l: l.account_id == item.account_id)
    if item.move_id.is_invoice():
        item.move_id.js_assign_outstanding_line(counterpart.id)
    else:
        (counterpart + item).reconcile()
    return entry
