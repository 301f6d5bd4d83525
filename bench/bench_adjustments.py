"""The nightly auto-adjustment run against Odoo's own path for a fee.

For each size, a company gets ``N`` open invoices of which ``Q`` belong to
Retail debtors; a monthly flat-fee rule on Retail accounts is applied by
calling the cron method as the scheduler does (one transaction per call,
committed, until it reports nothing left). Odoo's path for the same fee is a
one-line customer invoice filled in its form, posted and committed one by
one, measured on a sample in the same run. Peak memory is the growth of the
process's resident memory during the nightly run, sampled every 50 ms.
"""
import threading
from datetime import datetime

from common import Timer, environment, make_company, make_invoices, row

QUICK_SIZES = [(1_000, 200)]
FULL_SIZES = [(10_000, 2_000), (100_000, 20_000)]
PARTNERS = 1_000
RETAIL_SHARE = 5  # one partner in five is Retail
CREATE_CHUNK = 2_000
RUN_AT = datetime(2024, 3, 1, 0, 10)


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class PeakMemory:
    """Peak resident memory growth (MB) while the block runs."""

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
    for partner_ids, count in ((ids["retail"], q), (ids["other"], n - q)):
        for start in range(0, count, CREATE_CHUNK):
            with environment(registry) as env:
                make_invoices(env, env["res.company"].browse(ids["company"]),
                              env["res.partner"].browse(partner_ids), min(CREATE_CHUNK, count - start))
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


def run(registry, args):
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    rows = []
    baseline = None
    for n, q in sizes:
        label = f"{n}"
        ids = _setup(registry, n, q, label)
        with PeakMemory() as memory, Timer() as timer:
            calls = _nightly(registry)
        with environment(registry) as env:
            adjusted = env["recon.adjustment"].search_count([("rule_id", "=", ids["rule"])])
            run_record = env["recon.adjustment.run"].search([("rule_id", "=", ids["rule"])])
            assert adjusted == q == run_record.adjusted_count, (adjusted, q, run_record.adjusted_count)
        if baseline is None:  # after the run: these fee invoices would qualify too
            baseline = _odoo_fee_path(registry, ids, 30 if args.quick else 200)
        rows.append(row(
            f"nightly adjustments ({n} open, {q} qualify)", q, timer.seconds, baseline,
            notes=f"{calls} cron calls; peak memory +{memory.growth:.0f} MB",
        ))
        with PeakMemory() as memory, Timer() as timer:
            _nightly(registry)
        rows.append(row(f"second nightly call, same day ({n} open)", n, timer.seconds,
                        notes=f"adds nothing; peak memory +{memory.growth:.0f} MB"))
    return rows
