"""The upgrade test's steps on one database, run by scripts/upgrade_test.sh
with the Odoo configuration of the version being tested:

    python3 scripts/upgrade_check.py -c CONF -d DB exercise
    python3 scripts/upgrade_check.py -c CONF -d DB snapshot OUT.json
    python3 scripts/upgrade_check.py -c CONF -d DB compare BEFORE.json

``exercise`` runs the addon's rules through their public methods (the names
every release keeps) and lets the scheduled actions finish the runs, so the
database holds runs, batches and entries of the old release. ``snapshot``
writes what an upgrade must keep. ``compare`` (on the upgraded database)
fails when a record, a stored value, an entry, a reconciliation, a balance or
a setting of the snapshot is gone or changed, or when a stored computed field
of the addon holds a value its compute method no longer gives.

It uses no code of the addon, only the ORM, so the same script reads the
database of any release."""
import argparse
import ast
import base64
import datetime
import json
import logging
import sys
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.module import get_module_path
from odoo.tools import config

_logger = logging.getLogger("upgrade_check")
MODULE = "recon_addon"
#: the entries' fields an upgrade must keep, line by line
LINE_FIELDS = ["move_id", "account_id", "partner_id", "debit", "credit", "balance", "amount_currency",
               "amount_residual", "reconciled", "full_reconcile_id", "date"]
MOVE_FIELDS = ["name", "state", "move_type", "date", "journal_id", "partner_id", "amount_total",
               "amount_residual", "payment_state", "reversed_entry_id"]


def norm(field, value):
    """A stored value as JSON, comparable between two releases."""
    if field.type == "many2one":
        return value.id or None
    if field.type in ("one2many", "many2many"):
        return sorted(value.ids)
    if field.type in ("float", "monetary"):
        return round(value or 0.0, 6)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if field.type == "binary":
        return bool(value)
    if field.type in ("html", "properties", "json"):
        return str(value) if value else None
    return value


def addon_models(env):
    """The addon's own models (not transient) and, for the core models it
    extends, the fields it adds: ``{model: [field names]}``, stored ones only."""
    data = env["ir.model.data"].search([("module", "=", MODULE), ("model", "=", "ir.model.fields")])
    fields = env["ir.model.fields"].browse(data.mapped("res_id")).exists()
    own = {m.model for m in env["ir.model"].browse(
        env["ir.model.data"].search([("module", "=", MODULE), ("model", "=", "ir.model")]).mapped("res_id"))
        if m.modules == MODULE}  # not the core models it extends
    result = {}
    for imf in fields:
        if set(imf.modules.split(", ")) != {MODULE}:
            continue  # a core field the addon extends: core's to upgrade
        model = env.get(imf.model)
        if model is None or model._transient or model._abstract:
            continue
        field = model._fields.get(imf.name)
        if field and field.store:
            result.setdefault(imf.model, set()).add(imf.name)
    for name in own:
        model = env.get(name)
        if model is None or model._transient or model._abstract:
            continue
        result.setdefault(name, set()).update(f for f, fld in model._fields.items()
                                             if fld.store and f not in ("write_date", "__last_update"))
    return {model: sorted(names) for model, names in sorted(result.items())}


def run_crons(env):
    """Let the addon's scheduled actions finish what the actions queued, as
    the scheduler would at night."""
    crons = env["ir.cron"].with_context(active_test=False).search([("model_id.model", "like", "recon.%")])
    for _round in range(30):
        for cron in crons:
            cron.method_direct_trigger()
        running = 0
        for name in ("recon.threshold.run", "recon.adjustment.run", "recon.write.off.batch"):
            model = env.get(name)
            if model is not None and "state" in model._fields:
                running += model.search_count([("state", "in", ("pending", "queued", "running"))])
        if not running:
            return
    raise SystemExit(f"runs still open after the scheduled actions ran 30 times: {running}")


def open_wizard(env, action):
    """The record of a wizard action (``res_id``), or a new one from its context."""
    model = env[action["res_model"]].with_context(**action.get("context", {}))
    return model.browse(action["res_id"]) if action.get("res_id") else model.create({})


def exercise(env):
    """The rules of the release run as a user would run them."""
    counts = {}
    rules = env["recon.adjustment.rule"].search([("state", "=", "enabled")])
    for rule in rules:
        rule.action_run_now()
    counts["adjustment rules run"] = len(rules)
    # the release's own sample upload, made for its demo data
    sample = next(path for folder in ("examples", "demo")
                  if (path := Path(get_module_path(MODULE), folder, "recon_bulk_write_off_sample.csv")).exists())
    vals = {"file": base64.b64encode(sample.read_bytes()), "filename": sample.name}
    Wizard = env["recon.bulk.write.off.wizard"]
    if "reason_id" in Wizard._fields:  # releases with write-off reasons ask for one
        vals["reason_id"] = env["recon.write.off.reason"].search([], limit=1).id
    wizard = Wizard.create(vals)
    wizard.action_preview()
    counts["bulk write-off rows eligible"] = len(wizard.line_ids.filtered("eligible"))
    wizard.action_confirm()
    transactions = env["recon.deduction.transaction"].search([("state", "=", "new")])
    if transactions:
        transactions.action_breakout()
        transactions.action_run_below_threshold()
    counts["transactions broken out"] = len(transactions)
    payee = env["res.partner"].search([("recoverable_balance", ">", 0)], limit=1)
    if payee:
        action = payee.action_clear_recoverable_balance()
        if isinstance(action, dict) and action.get("res_model"):
            clear = open_wizard(env, action)
            if "reason_id" in clear._fields and not clear.reason_id:
                clear.reason_id = env["recon.write.off.reason"].search([], limit=1)
            clear.action_confirm()
    counts["payees cleared"] = len(payee)
    run_crons(env)
    for name in ("recon.adjustment", "recon.write.off", "recon.deduction.line", "recon.reward"):
        counts[name] = env[name].search_count([])
    print(json.dumps(counts, indent=1))
    if not counts["recon.adjustment"] or not counts["recon.write.off"]:
        raise SystemExit("the exercise posted no adjustment or no write-off: nothing to upgrade")


def snapshot(env):
    models = addon_models(env)
    snap = {"models": {}, "computed": {}, "moves": {}, "lines": {}, "params": {}}
    for name, fnames in models.items():
        model = env[name].with_context(active_test=False)
        records = model.search([], order="id")
        if name == "res.partner" or name.startswith(("account.", "res.")):
            # core records: only those the addon's fields say something about
            records = records.filtered(lambda r, fnames=fnames: any(r[f] for f in fnames))
        snap["models"][name] = {str(r.id): {f: norm(model._fields[f], r[f]) for f in fnames} for r in records}
        snap["computed"][name] = [f for f in fnames if model._fields[f].compute]
    lines = env["account.move.line"].search([], order="id")
    snap["lines"] = {str(line.id): {f: norm(line._fields[f], line[f]) for f in LINE_FIELDS} for line in lines}
    moves = env["account.move"].search([], order="id")
    snap["moves"] = {str(m.id): {f: norm(m._fields[f], m[f]) for f in MOVE_FIELDS} for m in moves}
    params = env["ir.config_parameter"].search([("key", "=like", "recon%")])
    snap["params"] = {p.key: p.value for p in params}
    snap["version"] = env["ir.module.module"].search([("name", "=", MODULE)]).latest_version
    return snap


def rewritten_fields(old_version, new_version):
    """``{"model.field": version}`` the migration scripts between the two
    versions rewrite on purpose (their ``REWRITES`` list)."""
    def key(version):
        return tuple(int(part) for part in version.split("."))
    rewrites = {}
    for script in sorted(Path(get_module_path(MODULE), "migrations").glob("*/*.py")):
        version = script.parent.name
        if not key(old_version) < key(version) <= key(new_version):
            continue
        for node in ast.parse(script.read_text()).body:
            if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["REWRITES"]:
                rewrites.update(dict.fromkeys(ast.literal_eval(node.value), version))
    return rewrites


def compare(env, before):
    after = snapshot(env)
    rewritten = rewritten_fields(before["version"], after["version"])
    for field, version in sorted(rewritten.items()):
        print(f"{field}: rewritten on purpose by the migration to {version}")
    problems = changed_records(before, after, rewritten)
    for kind in ("moves", "lines"):
        for rid, values in before[kind].items():
            if rid not in after[kind]:
                problems.append(f"{kind} {rid}: gone")
            elif after[kind][rid] != values:
                diff = {f: (v, after[kind][rid][f]) for f, v in values.items() if after[kind][rid][f] != v}
                problems.append(f"{kind} {rid}: {diff}")
    for key, value in before["params"].items():
        if after["params"].get(key) != value:
            problems.append(f"setting {key}: {value!r} became {after['params'].get(key)!r}")
    problems += stale_computed_fields(env)
    return after, problems


def changed_records(before, after, rewritten):
    """What changed in the addon's records between the two snapshots, but
    for computed fields and the fields the migrations rewrite on purpose."""
    problems = []
    for name, records in before["models"].items():
        if name not in after["models"]:
            problems.append(f"{name}: the model is gone")
            continue
        now = after["models"][name]
        computed_now = set(after["computed"][name])
        for rid, values in records.items():
            if rid not in now:
                # core records are kept only when an addon field is set
                if not name.startswith(("account.", "res.")):
                    problems.append(f"{name}({rid}): the record is gone")
                continue
            for fname, value in values.items():
                if fname not in now[rid]:
                    continue  # a field the new release dropped on purpose
                if fname in computed_now or fname in before["computed"].get(name, ()):
                    continue  # checked against its compute method below
                if f"{name}.{fname}" in rewritten:
                    continue
                if now[rid][fname] != value:
                    problems.append(f"{name}({rid}).{fname}: {value!r} became {now[rid][fname]!r}")
    return problems


def stale_computed_fields(env):
    """Stored computed fields of the addon whose stored value differs from
    what their compute method gives now: the upgrade should have recomputed
    them (a migration script under migrations/)."""
    problems = []
    with env.cr.savepoint(flush=False) as savepoint:
        for name, fnames in addon_models(env).items():
            model = env[name].with_context(active_test=False)
            records = model.search([])
            for fname in fnames:
                field = model._fields[fname]
                if not field.compute or not field.readonly or not records:
                    # an editable computed field holds what the user chose
                    continue
                env.invalidate_all()
                stored = {r.id: norm(field, r[fname]) for r in records}
                env.add_to_compute(field, records)
                fresh = {r.id: norm(field, r[fname]) for r in records}
                stale = [rid for rid in stored if stored[rid] != fresh[rid]]
                for rid in stale[:5]:
                    problems.append(f"{name}({rid}).{fname} is stale: stored {stored[rid]!r}, "
                                    f"its compute gives {fresh[rid]!r}")
                if len(stale) > 5:
                    problems.append(f"{name}.{fname}: {len(stale) - 5} more stale records")
        savepoint.rollback()
    env.invalidate_all()
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("step", choices=["exercise", "snapshot", "compare"])
    parser.add_argument("file", nargs="?")
    args = parser.parse_args()
    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    odoo.netsvc.init_logger()
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tz": "UTC"})
        if args.step == "exercise":
            exercise(env)
        elif args.step == "snapshot":
            snap = snapshot(env)
            Path(args.file).write_text(json.dumps(snap, indent=0, sort_keys=True))
            print(f"{MODULE} {snap['version']}: " + ", ".join(
                f"{len(v)} {k}" for k, v in sorted(snap["models"].items()) if v)
                + f"; {len(snap['moves'])} entries, {len(snap['lines'])} journal items")
        else:
            before = json.loads(Path(args.file).read_text())
            after, problems = compare(env, before)
            print(f"{MODULE} {before['version']} -> {after['version']}: "
                  f"{sum(len(v) for v in before['models'].values())} records, {len(before['moves'])} entries, "
                  f"{len(before['lines'])} journal items, the settings of "
                  f"{len(before['models'].get('res.company', {}))} companies compared")
            for problem in problems:
                print("LOST OR STALE:", problem)
            if problems:
                sys.exit(f"{len(problems)} problem(s) after the upgrade")
            print("nothing lost, no stale stored computed field")


if __name__ == "__main__":
    main()
