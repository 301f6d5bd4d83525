"""Start, kill and resume the addon's background runs, one process per step.

``tests/test_faults.py`` drives it against a database of its own; it can
also be run by hand on a scratch database (never on one you care about: it
reschedules every scheduled action of the database)::

    python3 tests/fault_worker.py -c .odoo.conf -d DB prepare threshold 500
    python3 tests/fault_worker.py -c .odoo.conf -d DB schedule threshold --hold-at 400
    python3 tests/fault_worker.py -c .odoo.conf -d DB schedule threshold

``prepare`` creates the items of one run kind and starts the run as a user
would (the first chunk is processed in that "request" and committed);
``schedule`` runs Odoo's own scheduler (``ir.cron._process_jobs``: a chunk
per transaction, committed between calls, re-called while the cron reports
records remaining) until the run is done; ``--hold-at N`` stops it in the
middle of a chunk, after the ledger has posted that chunk's entries in its
transaction and before the commit, as soon as N items are settled and
committed, and prints ``HOLD {...}``: the moment to kill it. Otherwise it
prints, as JSON, what an accountant would count before and after its work
(``check`` prints the same on its own).

Run kinds: ``threshold`` (a manual below-threshold run over more deduction
transactions than one chunk), ``adjustments`` (the nightly auto-adjustment
run), ``write_off`` (a bulk write-off batch confirmed from an uploaded file).
"""
import argparse
import base64
import json
import sys
import time
from datetime import date, timedelta

#: the scheduled action that continues every kind of run
RUNS_CRON = "recon_addon.ir_cron_recon_runs"
#: what the scheduler runs for each kind: the runs' action, and the action
#: that starts the kind's runs when it is due (the nightly adjustment run)
CRONS = {
    "threshold": [RUNS_CRON],
    "adjustments": [RUNS_CRON, "recon_addon.ir_cron_recon_adjustment_due_runs"],
    "write_off": [RUNS_CRON],
}
#: the action due now for each kind (a manual run has triggered the runs' action already)
DUE_NOW = {"adjustments": "recon_addon.ir_cron_recon_adjustment_due_runs"}
#: the source of the entries that settle an item of each kind (the ledger
#: call to stop in: a threshold chunk first breaks transactions out, then
#: clears their deductions)
SETTLING_SOURCE = {
    "threshold": "recon.threshold.run",
    "adjustments": "recon.adjustment",
    "write_off": "recon.write.off",
}
#: names that mark the data of each kind (one database holds all three)
THRESHOLD_REF = "FAULT-T/"
ADJUSTMENT_RULE = "Fault test: carrying fee"
ADJUSTMENT_PARTNER = "Fault Test Debtor"
WRITE_OFF_FILE = "fault-test-write-off.csv"
WRITE_OFF_PARTNER = "Fault Test Defaulter"


# ----------------------------------------------------------------------
# Committed progress, counted in SQL (also from a second connection)
# ----------------------------------------------------------------------
def settled_count(cr, kind):
    """Items of ``kind`` settled so far, as ``cr`` sees them."""
    if kind == "threshold":
        cr.execute("""
            SELECT COUNT(*) FROM recon_deduction_line l
              JOIN recon_deduction d ON d.id = l.deduction_id
              JOIN recon_deduction_transaction t ON t.id = d.transaction_id
             WHERE t.ref LIKE %s AND l.move_id IS NOT NULL""", [THRESHOLD_REF + "%"])
    elif kind == "adjustments":
        cr.execute("""
            SELECT COUNT(*) FROM recon_adjustment a JOIN recon_adjustment_rule r ON r.id = a.rule_id
             WHERE r.name = %s AND a.move_id IS NOT NULL""", [ADJUSTMENT_RULE])
    else:
        cr.execute("""
            SELECT COUNT(*) FROM recon_write_off w JOIN recon_write_off_batch b ON b.id = w.batch_id
             WHERE b.filename = %s AND w.move_id IS NOT NULL""", [WRITE_OFF_FILE])
    return cr.fetchone()[0]


# ----------------------------------------------------------------------
# prepare
# ----------------------------------------------------------------------
def _admin_env(env):
    admin = env.ref("base.user_admin")
    company = env.ref("base.main_company")
    return env(user=admin.id, context={"allowed_company_ids": company.ids, "tz": "UTC"}), company


def _posted_invoices(env, partner, count, invoice_date, amount):
    invoices = env["account.move"].create([{
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "invoice_date": invoice_date,
        "invoice_date_due": invoice_date,
        "invoice_line_ids": [(0, 0, {"name": f"Goods {i}", "quantity": 1, "price_unit": amount,
                                     "tax_ids": [(5, 0, 0)]})],
    } for i in range(count)])
    invoices.action_post()
    return invoices


def prepare_threshold(env, count):
    """``count`` transactions of one small deduction each, and a manual run
    over all of them: the request clears the first chunk, the scheduler the
    rest."""
    env, company = _admin_env(env)
    day = date.today() - timedelta(days=20)
    month_start = day.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    env["recon.threshold.rule"].search([("state", "=", "enabled")]).action_disable()
    promotion = env["recon.promotion"].create({
        "name": "Below Threshold (fault test)", "date_from": month_start, "date_to": month_end,
        "below_threshold": True, "account_id": company.recon_bad_debt_account_id.id, "company_id": company.id,
    })
    rule = env["recon.threshold.rule"].create({
        "name": "Fault test", "threshold": 100.0, "company_id": company.id,
        "clearing_method": "promotion", "promotion_ids": [(6, 0, promotion.ids)],
    })
    rule.action_enable()
    partners = env["res.partner"].create([{"name": f"Fault Test Customer {i}"} for i in range(10)])
    transactions = env["recon.deduction.transaction"].create([{
        "partner_id": partners[i % 10].id, "date": day, "ref": f"{THRESHOLD_REF}{i:04d}",
        "original_amount": 10.0 + i % 50, "company_id": company.id,
        "deduction_ids": [(0, 0, {"ref": f"D{i:04d}", "amount": 10.0 + i % 50})],
    } for i in range(count)])
    env.cr.commit()
    action = transactions.action_run_below_threshold()
    env.cr.commit()
    run = env["recon.threshold.run"].browse(action["res_id"])
    return {"items": count, "run": run.id, "state": run.state,
            "settled_by_request": settled_count(env.cr, "threshold")}


def prepare_adjustments(env, count):
    """``count`` overdue accounts of one debtor and a rule due today: the
    nightly process adjusts them, a batch per transaction."""
    env, company = _admin_env(env)
    company.partner_id.tz = "UTC"
    income = env["account.account"].search([("account_type", "=", "income"),
                                            ("company_ids", "in", company.ids)], limit=1)
    fee = env["product.product"].create({
        "name": "Carrying fee (fault test)", "type": "service", "lst_price": 0.0, "taxes_id": [(5, 0, 0)],
        "property_account_income_id": income.id,
    })
    debtor = env["res.partner"].create({"name": ADJUSTMENT_PARTNER})
    _posted_invoices(env, debtor, count, date.today() - timedelta(days=60), 100.0)
    env["recon.adjustment.rule"].create({
        "name": ADJUSTMENT_RULE, "state": "enabled", "frequency": "once", "once_date": date.today(),
        "apply_limit": "unlimited", "product_id": fee.id, "adjustment_type": "flat", "value": 10.0,
        "domain": repr([("partner_id", "=", debtor.id)]), "company_id": company.id,
    })
    env.cr.commit()
    return {"items": count, "settled_by_request": 0}


def prepare_write_off(env, count):
    """``count`` defaulted invoices listed in a file and the batch confirmed:
    the request posts the first chunk, the scheduler the rest."""
    env, company = _admin_env(env)
    defaulter = env["res.partner"].create({"name": WRITE_OFF_PARTNER})
    invoices = _posted_invoices(env, defaulter, count, date.today() - timedelta(days=200), 80.0)
    data = "Account ID;Customer\n" + "".join(f"{inv.name};{defaulter.name}\n" for inv in invoices)
    wizard = env["recon.bulk.write.off.wizard"].create({
        "file": base64.b64encode(data.encode()), "filename": WRITE_OFF_FILE,
        "reason_id": env.ref("recon_addon.recon_reason_uncollectible").id,
    })
    wizard.action_preview()
    env.cr.commit()
    wizard.action_confirm()
    env.cr.commit()
    batch = wizard.batch_id
    return {"items": count, "batch": batch.id, "state": batch.state,
            "settled_by_request": settled_count(env.cr, "write_off")}


# ----------------------------------------------------------------------
# schedule
# ----------------------------------------------------------------------
def _only_these_crons_ready(env, kind):
    """Leave the scheduler nothing else to do: every other job later, this
    kind's now (a manual run has triggered the runs' job already; the
    nightly one is due)."""
    cron_ids = [env.ref(xmlid).id for xmlid in CRONS[kind]]
    env.cr.execute("UPDATE ir_cron SET nextcall = now() at time zone 'UTC' + interval '30 days' "
                   "WHERE id != ALL(%s)", [cron_ids])
    env.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id != ALL(%s)", [cron_ids])
    if kind in DUE_NOW:
        env.cr.execute("UPDATE ir_cron SET nextcall = now() at time zone 'UTC' WHERE id = %s",
                       [env.ref(DUE_NOW[kind]).id])
    env.cr.commit()
    return cron_ids


def _is_ready(cr, cron_ids):
    cr.execute("""SELECT 1 FROM ir_cron WHERE id = ANY(%s) AND active AND (nextcall <= now() at time zone 'UTC'
                  OR id IN (SELECT cron_id FROM ir_cron_trigger WHERE call_at <= now() at time zone 'UTC'))""",
               [cron_ids])
    return bool(cr.fetchone())


def hold_mid_chunk(registry, kind, at):
    """Make the ledger stop the process inside a chunk: once ``at`` items
    are settled and committed, the next call that settles items posts its
    entries (in the chunk's transaction, not committed), says so and waits
    to be killed."""
    from odoo.addons.recon_addon.models.recon_ledger import ReconLedger

    original = ReconLedger._book

    def _book(self, requests, isolate=False):
        result = original(self, requests, isolate=isolate)
        if not requests or requests[0].source._name != SETTLING_SOURCE[kind]:
            return result
        with registry.cursor() as other:  # another connection sees only what is committed
            committed = settled_count(other, kind)
            other.execute("SELECT COUNT(*) FROM account_move")
            committed_moves = other.fetchone()[0]
        if committed >= at:
            self.env.flush_all()
            self.env.cr.execute("SELECT COUNT(*) FROM account_move")
            posted_moves = self.env.cr.fetchone()[0]
            print("HOLD " + json.dumps({
                "committed": committed,
                "settling_moves_not_committed": len([m for m in result.moves if m]),
                "moves_not_committed": posted_moves - committed_moves,
            }), flush=True)
            while True:
                time.sleep(60)
        return result

    ReconLedger._book = _book


def schedule(registry, kind, hold_at=None, max_rounds=200):
    from odoo import SUPERUSER_ID, api

    from odoo.addons.base.models.ir_cron import ir_cron

    with registry.cursor() as cr:
        cron_ids = _only_these_crons_ready(api.Environment(cr, SUPERUSER_ID, {}), kind)
    if hold_at is not None:
        hold_mid_chunk(registry, kind, hold_at)
    rounds = 0
    while rounds < max_rounds:
        with registry.cursor() as cr:
            if not _is_ready(cr, cron_ids):
                break
        ir_cron._process_jobs(registry.db_name)
        rounds += 1
    with registry.cursor() as cr:
        return {"rounds": rounds, "settled": settled_count(cr, kind), "ready": _is_ready(cr, cron_ids)}


# ----------------------------------------------------------------------
# check
# ----------------------------------------------------------------------
def _per_item(cr, query, params):
    """``{count per item: number of items}`` of a query returning one count per item."""
    cr.execute(query, params)
    spread = {}
    for (n,) in cr.fetchall():
        spread[n] = spread.get(n, 0) + 1
    return spread


def _figures(items, spread, extra):
    return dict({
        "items": items,
        "settled_once": spread.get(1, 0),
        "doubles": sum(v for k, v in spread.items() if k > 1),
        "missing": spread.get(0, 0),
    }, **extra)


def check_threshold(env):
    cr = env.cr
    ref = THRESHOLD_REF + "%"
    cr.execute("SELECT COUNT(*) FROM recon_deduction d JOIN recon_deduction_transaction t ON t.id = d.transaction_id "
               "WHERE t.ref LIKE %s", [ref])
    items = cr.fetchone()[0]
    # resolution lines, and entries reconciled with each deduction's receivable item
    lines = _per_item(cr, """
        SELECT COUNT(l.id) FROM recon_deduction d JOIN recon_deduction_transaction t ON t.id = d.transaction_id
          LEFT JOIN recon_deduction_line l ON l.deduction_id = d.id AND l.move_id IS NOT NULL
         WHERE t.ref LIKE %s GROUP BY d.id""", [ref])
    clearings = _per_item(cr, """
        SELECT COUNT(p.id) FROM recon_deduction d JOIN recon_deduction_transaction t ON t.id = d.transaction_id
          LEFT JOIN account_partial_reconcile p ON p.debit_move_id = d.receivable_line_id
         WHERE t.ref LIKE %s GROUP BY d.id""", [ref])
    breakouts = _per_item(cr, """
        SELECT COUNT(m.id) FROM recon_deduction_transaction t
          LEFT JOIN account_move m ON m.recon_source_model = 'recon.deduction.transaction'
                                  AND m.recon_source_id = t.id AND m.state = 'posted'
         WHERE t.ref LIKE %s GROUP BY t.id""", [ref])
    cr.execute("""
        SELECT COUNT(*) FILTER (WHERE d.state != 'resolved'),
               COUNT(*) FILTER (WHERE ar.id IS NULL OR NOT ar.reconciled OR ar.amount_residual != 0)
          FROM recon_deduction d JOIN recon_deduction_transaction t ON t.id = d.transaction_id
          LEFT JOIN account_move_line ar ON ar.id = d.receivable_line_id
         WHERE t.ref LIKE %s""", [ref])
    unresolved, open_items = cr.fetchone()
    cr.execute("""SELECT COUNT(*) FROM account_move m WHERE m.recon_source_model = 'recon.threshold.run'
                  AND NOT EXISTS (SELECT 1 FROM recon_deduction_line l WHERE l.move_id = m.id)""")
    orphan_moves = cr.fetchone()[0]
    runs = env["recon.threshold.run"].search([("rule_id.name", "=", "Fault test")])
    return _figures(items, lines, {
        "clearing_reconciliations": clearings, "breakout_entries_per_transaction": breakouts,
        "unresolved": unresolved, "open_items": open_items, "orphan_moves": orphan_moves,
        "runs": [{"state": r.state, "cleared": r.cleared_count, "processed": r.processed_count,
                  "total": r.total_count, "pending": len(r.pending_transaction_ids)} for r in runs],
    })


def check_adjustments(env):
    cr = env.cr
    cr.execute("SELECT id FROM res_partner WHERE name = %s", [ADJUSTMENT_PARTNER])
    debtor_id = cr.fetchone()[0]
    cr.execute("SELECT id FROM recon_adjustment_rule WHERE name = %s", [ADJUSTMENT_RULE])
    rule_id = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM account_move WHERE partner_id = %s AND move_type = 'out_invoice'", [debtor_id])
    items = cr.fetchone()[0]
    adjustments = _per_item(cr, """
        SELECT COUNT(a.id) FROM account_move i
          LEFT JOIN recon_adjustment a ON a.invoice_id = i.id AND a.rule_id = %s AND a.move_id IS NOT NULL
         WHERE i.partner_id = %s AND i.move_type = 'out_invoice' GROUP BY i.id""", [rule_id, debtor_id])
    entries = _per_item(cr, """
        SELECT COUNT(m.id) FROM account_move i
          LEFT JOIN recon_adjustment a ON a.invoice_id = i.id AND a.rule_id = %s
          LEFT JOIN account_move m ON m.recon_source_model = 'recon.adjustment' AND m.recon_source_id = a.id
                                  AND m.state = 'posted'
         WHERE i.partner_id = %s AND i.move_type = 'out_invoice' GROUP BY i.id""", [rule_id, debtor_id])
    cr.execute("""SELECT COUNT(*) FROM account_move m WHERE m.recon_source_model = 'recon.adjustment'
                  AND NOT EXISTS (SELECT 1 FROM recon_adjustment a WHERE a.move_id = m.id)""")
    orphan_moves = cr.fetchone()[0]
    invoices = env["account.move"].search([("partner_id", "=", debtor_id), ("move_type", "=", "out_invoice")])
    balances = {}
    for balance in invoices.mapped("recon_account_balance"):
        balances[str(balance)] = balances.get(str(balance), 0) + 1
    runs = env["recon.adjustment.run"].search([("rule_id", "=", rule_id)])
    return _figures(items, adjustments, {
        "entries_per_account": entries, "orphan_moves": orphan_moves, "account_balances": balances,
        "runs": [{"state": r.state, "adjusted": r.adjusted_count, "failed": r.failed_count,
                  "processed": r.processed_count, "total": r.total_count} for r in runs],
    })


def check_write_off(env):
    cr = env.cr
    cr.execute("SELECT id FROM res_partner WHERE name = %s", [WRITE_OFF_PARTNER])
    defaulter_id = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM account_move WHERE partner_id = %s AND move_type = 'out_invoice'",
               [defaulter_id])
    items = cr.fetchone()[0]
    write_offs = _per_item(cr, """
        SELECT COUNT(w.id) FROM account_move i
          LEFT JOIN recon_write_off w ON w.invoice_id = i.id AND w.move_id IS NOT NULL
         WHERE i.partner_id = %s AND i.move_type = 'out_invoice' GROUP BY i.id""", [defaulter_id])
    # write-off entries reconciled with each invoice's receivable
    entries = _per_item(cr, """
        SELECT COUNT(DISTINCT c.move_id) FROM account_move i
          JOIN account_move_line ar ON ar.move_id = i.id AND ar.display_type = 'payment_term'
          LEFT JOIN account_partial_reconcile p ON p.debit_move_id = ar.id
          LEFT JOIN account_move_line c ON c.id = p.credit_move_id
         WHERE i.partner_id = %s AND i.move_type = 'out_invoice' GROUP BY i.id""", [defaulter_id])
    cr.execute("""SELECT COUNT(*) FILTER (WHERE amount_residual != 0) FROM account_move
                  WHERE partner_id = %s AND move_type = 'out_invoice'""", [defaulter_id])
    open_invoices = cr.fetchone()[0]
    cr.execute("""SELECT COUNT(*) FROM recon_write_off w JOIN recon_write_off_batch b ON b.id = w.batch_id
                  WHERE b.filename = %s AND w.state != 'posted'""", [WRITE_OFF_FILE])
    not_posted = cr.fetchone()[0]
    cr.execute("""SELECT COUNT(*) FROM account_move m WHERE m.recon_source_model = 'recon.write.off'
                  AND NOT EXISTS (SELECT 1 FROM recon_write_off w WHERE w.move_id = m.id)""")
    orphan_moves = cr.fetchone()[0]
    batches = env["recon.write.off.batch"].search([("filename", "=", WRITE_OFF_FILE)])
    return _figures(items, write_offs, {
        "entries_per_invoice": entries, "open_invoices": open_invoices, "write_offs_not_posted": not_posted,
        "orphan_moves": orphan_moves,
        "batches": [{"state": b.state, "written_off": b.count_written_off, "failed": b.count_failed,
                     "pending": b.count_pending} for b in batches],
    })


def check(env, kind):
    figures = {"threshold": check_threshold, "adjustments": check_adjustments, "write_off": check_write_off}[kind](env)
    figures["settled"] = settled_count(env.cr, kind)
    env.cr.execute("SELECT COUNT(*) FROM account_move WHERE state = 'draft'")
    figures["draft_moves"] = env.cr.fetchone()[0]
    # every posted entry balances
    env.cr.execute("""SELECT COUNT(*) FROM (SELECT move_id FROM account_move_line GROUP BY move_id
                      HAVING ROUND(SUM(balance), 2) != 0) unbalanced""")
    figures["unbalanced_moves"] = env.cr.fetchone()[0]
    return figures


# ----------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("command", choices=["prepare", "schedule", "check"])
    parser.add_argument("kind", choices=sorted(CRONS))
    parser.add_argument("count", nargs="?", type=int, default=300)
    parser.add_argument("--hold-at", type=int, default=None)
    args = parser.parse_args(argv)

    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--no-http"])
    odoo.service.server.load_server_wide_modules()
    registry = odoo.modules.registry.Registry(args.database)
    if args.command == "schedule":
        # what the database holds before and after the scheduler's work
        with registry.cursor() as cr:
            before = check(api.Environment(cr, SUPERUSER_ID, {}), args.kind)
        answer = schedule(registry, args.kind, hold_at=args.hold_at)
        with registry.cursor() as cr:
            answer.update(before=before, after=check(api.Environment(cr, SUPERUSER_ID, {}), args.kind))
    else:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            if args.command == "prepare":
                answer = {"threshold": prepare_threshold, "adjustments": prepare_adjustments,
                          "write_off": prepare_write_off}[args.kind](env, args.count)
            else:
                answer = check(env, args.kind)
    print("RESULT " + json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
