"""Kill a background run in the middle of a chunk, start the scheduler
again, and count what the ledger holds.

For each run that continues in the background (a below-threshold run over
more transactions than one chunk, the nightly auto-adjustment run, a bulk
write-off batch), in a database of its own (a copy of the test database,
dropped afterwards):

1. ``fault_worker.py prepare`` creates the items and starts the run as a
   user would; the request settles the first chunk and commits;
2. ``fault_worker.py schedule --hold-at N`` runs Odoo's scheduler in another
   process; once N items are settled and committed, it stops in the next
   chunk right after the ledger posted that chunk's entries, before the
   commit, and is killed there (SIGKILL);
3. ``fault_worker.py schedule`` in a fresh process counts first: the
   database holds exactly the N committed items, nothing of the killed
   chunk, no draft entry; then it finishes the run;
4. every item is settled exactly once (no double, none missing), every
   entry is posted, balanced and linked to its record, what it settles is
   reconciled (an adjustment's increase stays open, as it should), and the
   run says done.

``pytest -s`` shows the figures of each run kind.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

import odoo
from odoo.tools import SQL

WORKER = Path(__file__).with_name("fault_worker.py")

#: run kind, items, items settled and committed when the process is killed
#: (the request settles the first chunk; the kill falls in a later one)
RUNS = [
    ("threshold", 450, 400),   # chunks of 200 transactions: request, scheduler, killed in the third
    ("adjustments", 500, 400),  # batches of 200 accounts, all by the scheduler: killed in the third
    ("write_off", 460, 400),   # chunks of 200 write-offs: request, scheduler, killed in the third
]
TIMEOUT = 600
#: the tables the runs fill
VACUUMED = [
    "res_partner", "product_template", "product_product", "account_move", "account_move_line",
    "account_partial_reconcile", "account_full_reconcile", "mail_message", "mail_followers",
    "recon_deduction_transaction", "recon_deduction", "recon_deduction_line", "recon_threshold_run",
    "recon_threshold_run_line", "recon_adjustment", "recon_adjustment_run", "recon_write_off",
    "recon_write_off_batch", "recon_write_off_failure",
]


def _postgres():
    """A connection to the maintenance database, outside any transaction."""
    cr = odoo.sql_db.db_connect("postgres").cursor()
    cr._cnx.autocommit = True
    return cr


def _copy_database(source, target):
    """``target`` as a copy of ``source`` (and of its files); False when the
    copy is refused (someone else is connected to ``source``)."""
    odoo.sql_db.close_db(source)  # this process's idle connections
    for attempt in range(5):
        cr = _postgres()
        try:
            cr.execute(SQL("CREATE DATABASE %s TEMPLATE %s", SQL.identifier(target), SQL.identifier(source)))
            break
        except Exception:  # noqa: BLE001 - "source database is being accessed by other users"
            time.sleep(1 + attempt)
        finally:
            cr.close()
    else:
        return False
    source_files = odoo.tools.config.filestore(source)
    if os.path.isdir(source_files):
        shutil.copytree(source_files, odoo.tools.config.filestore(target))
    _vacuum(target)
    return True


def _vacuum(name):
    """Give the copy's planner sound statistics. Tests that were rolled back
    leave the accounting tables with empty pages analysed as "no rows per
    page": the planner then takes hundreds of rows inserted in one
    transaction for one and a chunk's queries take minutes instead of
    seconds. Vacuum removes the empty pages; the analyser starts afresh."""
    cr = odoo.sql_db.db_connect(name).cursor()
    cr._cnx.autocommit = True
    try:
        cr.execute(SQL("VACUUM ANALYZE %s", SQL(", ").join(SQL.identifier(table) for table in VACUUMED)))
    finally:
        cr.close()
    odoo.sql_db.close_db(name)


def _drop_database(name):
    odoo.sql_db.close_db(name)
    cr = _postgres()
    try:
        cr.execute(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(name)))
    finally:
        cr.close()
    shutil.rmtree(odoo.tools.config.filestore(name), ignore_errors=True)


@pytest.fixture(scope="module")
def fault_db(request):
    """``(configuration file, database)``: a database of this module's own."""
    config = request.config.getoption("--odoo-config")
    source = request.config.getoption("--odoo-database")
    name = f"{source}_faults_{os.getpid()}"[:63]
    _drop_database(name)
    if not _copy_database(source, name):
        subprocess.run([sys.executable, "-m", "odoo", "-c", config, "-d", name, "-i", "recon_addon",
                        "--without-demo=all", "--stop-after-init", "--no-http", "--log-level=warn"],
                       check=True, timeout=TIMEOUT)
    try:
        yield config, name
    finally:
        _drop_database(name)


def _worker(fault_db, *args):
    """Run one step of the worker to its end; its answer."""
    config, database = fault_db
    done = subprocess.run([sys.executable, str(WORKER), "-c", config, "-d", database, *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT)
    answers = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and answers, done.stdout[-2000:] + done.stderr[-4000:]
    return json.loads(answers[-1][len("RESULT "):])


def _kill_mid_chunk(fault_db, kind, hold_at):
    """Run the scheduler until it holds a chunk's posted entries uncommitted,
    then SIGKILL it; what it said when it stopped."""
    config, database = fault_db
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, str(WORKER), "-c", config, "-d", database, "schedule", kind,
             "--hold-at", str(hold_at)],
            stdout=subprocess.PIPE, stderr=log, text=True)
        watchdog = threading.Timer(TIMEOUT, process.kill)
        watchdog.start()
        try:
            for line in process.stdout:
                if line.startswith("HOLD "):
                    os.kill(process.pid, signal.SIGKILL)
                    return json.loads(line[len("HOLD "):])
            log.seek(0)
            pytest.fail(f"the scheduler ended before the kill point: {log.read()[-4000:]}")
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()


@pytest.mark.parametrize(("kind", "items", "hold_at"), RUNS, ids=[run[0] for run in RUNS])
def test_run_killed_mid_chunk_resumes_and_settles_each_item_once(fault_db, kind, items, hold_at):
    prepared = _worker(fault_db, "prepare", kind, items)
    assert prepared["items"] == items
    assert prepared["settled_by_request"] < hold_at

    held = _kill_mid_chunk(fault_db, kind, hold_at)
    assert held["committed"] >= hold_at and held["settling_moves_not_committed"] > 0

    resumed = _worker(fault_db, "schedule", kind)
    after_kill, final = resumed["before"], resumed["after"]
    assert after_kill["settled"] == held["committed"], "nothing of the killed chunk stays"
    assert (after_kill["doubles"], after_kill["draft_moves"], after_kill["orphan_moves"],
            after_kill["unbalanced_moves"]) == (0, 0, 0, 0)
    assert not resumed["ready"], "the scheduler has nothing left to do"
    print(f"\n[faults] {kind}: {items} items; {prepared['settled_by_request']} settled by the request; "
          f"killed with {held['committed']} settled and committed and "
          f"{held['settling_moves_not_committed']} settling entries posted but not committed "
          f"({held['moves_not_committed']} entries in all); after the kill {after_kill['settled']} settled; "
          f"after the restart {final['settled_once']} settled once, doubles {final['doubles']}, "
          f"missing {final['missing']}, draft entries {final['draft_moves']}, "
          f"unbalanced entries {final['unbalanced_moves']}, orphan entries {final['orphan_moves']}")
    assert (final["settled_once"], final["doubles"], final["missing"]) == (items, 0, 0)
    assert (final["draft_moves"], final["unbalanced_moves"], final["orphan_moves"]) == (0, 0, 0)
    if kind == "threshold":
        assert final["clearing_reconciliations"] == {"1": items}
        assert final["breakout_entries_per_transaction"] == {"1": items}
        assert (final["unresolved"], final["open_items"]) == (0, 0)
        assert final["runs"] == [{"state": "done", "cleared": items, "processed": items, "total": items,
                                  "pending": 0}]
    elif kind == "adjustments":
        assert final["entries_per_account"] == {"1": items}
        assert final["account_balances"] == {"110.0": items}
        assert final["runs"] == [{"state": "done", "adjusted": items, "failed": 0, "processed": items,
                                  "total": items}]
    else:
        assert final["entries_per_invoice"] == {"1": items}
        assert (final["open_invoices"], final["write_offs_not_posted"]) == (0, 0)
        assert final["batches"] == [{"state": "done", "written_off": items, "failed": 0, "pending": 0}]
