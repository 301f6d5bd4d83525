"""Helpers shared by the benchmarks: a committed environment, a company
with a chart of accounts, many posted customer invoices made fast, a peak
memory sampler, and the two baselines every benchmark sets beside the
addon's run:

- **Odoo's form path** (:func:`write_off_like_the_ui`): what an accountant
  clicks in the web client, one entry filled in its form, posted and matched,
  one transaction per item;
- **Odoo's batch path** (:func:`settle_the_batch_way`,
  :func:`post_the_batch_way`): what an ORM developer writes for the same
  work: per chunk of ``CHUNK_SIZE`` items (the spine's), ONE
  ``account.move.create(vals_list)``, ONE ``action_post()`` and, when the
  work settles items, ONE ``account.move.line._reconcile_plan(pairs)``, one
  transaction each, as the administrator, in core's normal context (tracking
  on, as core's payment wizard runs it; ``skip_invoice_sync`` on create, as
  the payment register does).
"""
import contextlib
import threading
import time
from datetime import date

from odoo import SUPERUSER_ID, Command, api

from odoo.addons.recon_addon.models.recon_ledger import CHUNK_SIZE


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
    return invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")


def row(name, n, seconds, form_per_item=None, batch_per_item=None, memory=None, notes=""):
    """One line of the report: ``n`` items in ``seconds``, beside the two
    baselines' seconds per item (``form_per_item``: Odoo's form path,
    ``batch_per_item``: Odoo's batch path). ``ratio_form`` and
    ``ratio_batch`` = the baseline's per-item time / ours (above 1: ours is
    faster). ``memory`` is a :class:`PeakMemory` of the run, if measured."""
    per_item = seconds / n if n else 0.0

    def ratio(baseline):
        return round(baseline / per_item, 2) if baseline and per_item else None

    return {
        "name": name,
        "n": n,
        "seconds": round(seconds, 3),
        "per_item": round(per_item, 5),
        "batch_per_item": round(batch_per_item, 5) if batch_per_item else None,
        "form_per_item": round(form_per_item, 5) if form_per_item else None,
        "ratio_batch": ratio(batch_per_item),
        "ratio_form": ratio(form_per_item),
        "peak_rss_mb": round(memory.peak) if memory else None,
        "rss_growth_mb": round(memory.growth) if memory else None,
        "notes": notes,
    }


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class PeakMemory:
    """Peak resident memory of the process (``peak``, MB) while the block
    runs, and its growth over the start (``growth``), sampled every 50 ms
    from /proc/self/status (VmRSS) by a thread."""

    def __enter__(self):
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())
        self.growth = self.peak - self.start

    def __str__(self):
        return f"peak RSS {self.peak:.0f} MB (+{self.growth:.0f})"


def _batch_env(env, company_id):
    """``env`` as core's batch path runs: the administrator, the company
    allowed, tracking on whatever the benchmark's context held."""
    return env(user=env.ref("base.user_admin"), context={"allowed_company_ids": [company_id]})


def _entry_vals(company_id, journal_id, entry_date, label, lines):
    return {
        "move_type": "entry",
        "company_id": company_id,
        "journal_id": journal_id,
        "date": entry_date,
        "ref": label,
        "line_ids": [Command.create(dict(line, name=line.get("name", label))) for line in lines],
    }


def settle_the_batch_way(registry, company_id, pairs, journal_id, entry_date, chunk=CHUNK_SIZE):
    """Odoo's batch path for settling open journal items: ``pairs`` =
    ``[(open journal item id, counterpart account id, label)]``; per item an
    entry crediting (or debiting) the item's open amount on its account,
    for its partner, against the counterpart account, then reconciled with
    the item. Per chunk of ``chunk`` items, one transaction: one
    ``create()``, one ``action_post()``, one ``_reconcile_plan()``.
    Returns the seconds taken (reading the items included)."""
    with Timer() as timer:
        for start in range(0, len(pairs), chunk):
            part = pairs[start:start + chunk]
            with environment(registry) as env:
                env = _batch_env(env, company_id)
                items = env["account.move.line"].browse([item_id for item_id, _account, _label in part])
                vals_list = []
                for item, (_item_id, account_id, label) in zip(items, part, strict=False):
                    amount = item.amount_residual
                    vals_list.append(_entry_vals(company_id, journal_id, entry_date, label, [
                        {"account_id": item.account_id.id, "partner_id": item.partner_id.id, "balance": -amount},
                        {"account_id": account_id, "partner_id": item.partner_id.id, "balance": amount},
                    ]))
                moves = env["account.move"].with_context(skip_invoice_sync=True).create(vals_list)
                moves.action_post()
                plan = []
                for move, item in zip(moves, items, strict=False):
                    settling = move.line_ids.filtered(lambda line, item=item: line.account_id == item.account_id)
                    plan.append(settling + item)
                env["account.move.line"]._reconcile_plan(plan)
    return timer.seconds


def post_the_batch_way(registry, company_id, entries, journal_id, entry_date, chunk=CHUNK_SIZE):
    """Odoo's batch path for entries that settle nothing: ``entries`` =
    ``[(label, [journal item vals])]`` (``account_id``, ``partner_id``,
    ``balance``, optional ``date_maturity``, ``product_id`` …). Per chunk of
    ``chunk`` entries, one transaction: one ``create()``, one
    ``action_post()``. Returns the seconds taken."""
    with Timer() as timer:
        for start in range(0, len(entries), chunk):
            with environment(registry) as env:
                env = _batch_env(env, company_id)
                moves = env["account.move"].with_context(skip_invoice_sync=True).create([
                    _entry_vals(company_id, journal_id, entry_date, label, lines)
                    for label, lines in entries[start:start + chunk]])
                moves.action_post()
    return timer.seconds


def check_batch_path(registry, company_id, journal_id, labels, item_ids=()):
    """Assert the batch path's ledger effect: one posted entry per label in
    ``journal_id``, and every item of ``item_ids`` reconciled with nothing
    left open. Returns the number of entries posted."""
    with environment(registry) as env:
        posted = env["account.move"].search_count([
            ("company_id", "=", company_id), ("journal_id", "=", journal_id),
            ("state", "=", "posted"), ("ref", "in", list(labels))])
        assert posted == len(labels), f"batch path: {posted} entries posted of {len(labels)}"
        items = env["account.move.line"].browse(list(item_ids))
        still_open = items.filtered(lambda line: not line.reconciled or not line.currency_id.is_zero(
            line.amount_residual))
        assert not still_open, f"batch path: {len(still_open)} items left open"
    return posted


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
    counterpart = entry.line_ids.filtered(lambda line: line.account_id == item.account_id)
    if item.move_id.is_invoice():
        item.move_id.js_assign_outstanding_line(counterpart.id)
    else:
        (counterpart + item).reconcile()
    return entry
