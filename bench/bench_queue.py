"""The addon's background runs spread over OCA's job queue (the
``recon_queue_job`` bridge) by a real Odoo server with one and two workers,
against the same runs on Odoo's scheduler, and a worker killed mid-chunk:
the nightly auto-adjustments over 100,000 open invoices of which 20,000
qualify for a monthly flat fee, and a below-threshold run of 10,000
transactions of five deductions (50,000 deductions); 2,000 / 400 and 100
transactions with --quick.

Its own databases: the benchmark ignores the database it is given (that one
has ``recon_addon`` only). It installs ``recon_queue_job`` (so ``queue_job``)
in a database of its own, ``<database>_queue``, builds the state there once
(the companies, invoices, rule and transactions of bench_adjustments and
bench_deductions, with their helpers) and uses it as a template: each
scenario runs on a fresh copy (``createdb -T``), dropped afterwards; every
database it created is dropped at the end, also on error. Creating the
100,000 invoices takes most of the benchmark's time (progress is printed).

Scenarios, for the adjustments and for the below-threshold run:

- **cron path**: today's scheduler path, in this process: the run created
  with the scheduler's engine (``default_engine='cron'``), then the runs'
  scheduled action called and committed in a loop until the run is done
  (``bench_adjustments._nightly``; for the below-threshold run the loop of
  ``bench_deductions._run_below_threshold``).
- **1 worker**, **2 workers**: an Odoo server started as a subprocess on the
  copy (with Odoo's ``odoo-bin``: see :func:`_odoo_command`), prefork with
  ``--workers W``, no cron thread, ``queue_job`` loaded server-wide (its job
  runner then runs as a process of its own) and the channels
  ``root:W,root.recon:W`` (``ODOO_QUEUE_JOB_CHANNELS``). Once the
  server answers HTTP and its job runner holds the database, a probe checks
  that the runs' channel runs W jobs at once: W + 1 jobs that wait on rows
  this process holds locked, W of them must be started together by
  different workers, the last one kept waiting. Then the run is created and
  handed to the job queue in this process (``_run_dispatch``: the plan job,
  which cuts the run into chunk jobs, then a finish job) and committed; the
  time runs from that commit until the run's state, polled every 0.5 s from
  a cursor of its own, says done. The notes give the jobs: the plan's and
  the finish's time, the chunk jobs, how many were seen running at once and
  on how many worker processes.
- **2 workers, 1 killed** (adjustments): the 2-worker run again on a fresh
  copy; once a chunk job has been running 0.3 s, the worker process that
  runs it (the job's ``worker_pid``) is killed (SIGKILL). The prefork
  server spawns a new worker; the job stays *started*: queue_job 18.0.1.7.0
  requeues a started job only from its "Jobs Garbage Collector"
  (``queue.job.requeue_stuck_jobs``), whose scheduled action as shipped
  checks enqueued jobs only (``started_delta=0``; checked here: it leaves
  the job started). The runs' scheduled action requeues it
  (``recon.run.chunk._queue_requeue_orphans``: a chunk job started over a
  minute ago whose chunk is pending and not locked has lost its worker).
  The server has no cron thread, so this process calls that part of the
  scheduled action every 0.5 s; the job is requeued a minute after it
  started, runs again, and the run finishes. The time includes that
  minute: the row proves the count, not a speed.

The below-threshold run is started without the request's first chunk
(``_run_manually`` processes 200 transactions in the request): on both
engines the whole run is the engine's.

Checked after each run, on its copy: the adjustments: one adjustment per
qualifying invoice (counted per invoice: no double, none missing, none
more), as many posted fee entries, and as many items on the receivable in
the company's reconciliation journal, 10.00 each (the run's count too);
the below-threshold run: every deduction cleared and resolved, its
receivable item reconciled.

Columns: ``n`` = fee entries posted / deductions cleared; ``total s`` = the
run, from the commit that hands it to its engine until it is done (on the
cron path: the scheduler's calls, the run created and committed before);
``s/item: ours`` = that / n. No baseline columns: the other benchmarks set
Odoo's batch and form paths beside the addon's; here the addon's own run is
measured on two engines, and the ratios are in the notes: throughput
(items/s), the 1-worker run's time per item / the cron path's, the 2-worker
throughput / the 1-worker's. The chunks of a run go side by side, each
numbering its entries in a block of its own (``recon.number.block``).

The server's workers, its job runner, PostgreSQL and this process share
the machine's cores (the report's last line counts them).
"""
import contextlib
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import psutil

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

import bench_adjustments
import bench_deductions
from common import Timer, environment, row

QUICK_SIZES = {"open": 2_000, "qualifying": 400, "transactions": 100}
FULL_SIZES = {"open": 100_000, "qualifying": 20_000, "transactions": 10_000}
WORKERS = (1, 2)
#: seconds between two looks at the run's state
POLL = 0.5
#: seconds a chunk job is seen running before its worker is killed
KILL_AFTER = 0.3
#: a run on the job queue may take this many times the cron path, at least
#: MIN_TIMEOUT seconds, before the benchmark gives up
TIMEOUT_FACTOR = 5
MIN_TIMEOUT = 300
SERVER_START_TIMEOUT = 180
SERVER_STOP_TIMEOUT = 30
#: seconds between two progress lines while the state is built
PROGRESS_EVERY = 30
TRANSACTIONS_PER_CALL = 1_000
STATE_LABEL = "queue"
DEDUCTIONS_COMPANY = "Deductions bench queue"


# ----------------------------------------------------------------------
# Databases
# ----------------------------------------------------------------------
def _pg(command, *args):
    """Run a PostgreSQL client (createdb, dropdb) with Odoo's connection settings."""
    options = []
    for flag, key in (("-h", "db_host"), ("-p", "db_port"), ("-U", "db_user")):
        if config[key]:
            options += [flag, str(config[key])]
    env = dict(os.environ)
    if config["db_password"]:
        env["PGPASSWORD"] = config["db_password"]
    done = subprocess.run([command, *options, *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode:
        raise RuntimeError(f"{command} {' '.join(args)} failed: {done.stderr.strip()}")


def _release(dbname):
    """Close this process's connections to ``dbname`` and forget its registry."""
    odoo.sql_db.close_db(dbname)
    Registry.delete(dbname)


def _load_registry(dbname):
    """The registry of ``dbname``, loaded with Odoo's test mode off: bench/run.py
    turns it on once its own registry is loaded, and a registry loaded in test
    mode runs every module's at_install tests."""
    test_enable = config["test_enable"]
    config["test_enable"] = False
    try:
        return Registry(dbname)
    finally:
        config["test_enable"] = test_enable


def _drop(dbname, tries=10):
    """Drop ``dbname``. Without ``--force``: PostgreSQL then stops the
    autovacuum workers of the database itself, where ``--force`` refuses to
    terminate them for a role that is not a superuser; another connection
    still closing (a stopped server's) is waited for."""
    _release(dbname)
    for attempt in range(tries):
        try:
            return _pg("dropdb", "--if-exists", dbname)
        except RuntimeError:
            if attempt == tries - 1:
                raise
            time.sleep(2)


def _install(conf, dbname, logdir):
    """A new database ``dbname`` with ``recon_queue_job`` (and so ``queue_job``)."""
    log_path = os.path.join(logdir, "install.log")
    with open(log_path, "wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", "odoo", "-c", conf, "-d", dbname, "-i", "recon_queue_job",
             "--without-demo=all", "--stop-after-init", "--no-http", "--log-level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=False)
    if done.returncode:
        raise RuntimeError(f"installing recon_queue_job in {dbname} failed:\n{_tail(log_path)}")


@contextlib.contextmanager
def _copy(template, dbname, created):
    """A fresh copy ``dbname`` of ``template`` and its registry, dropped after the block."""
    _pg("createdb", "-T", template, dbname)
    created.append(dbname)
    try:
        yield _load_registry(dbname)
    finally:
        _drop(dbname)
        created.remove(dbname)


def _tail(path, lines=40):
    with contextlib.suppress(OSError), open(path, errors="replace") as log:
        return "".join(log.readlines()[-lines:])
    return ""


# ----------------------------------------------------------------------
# The state, built once in the template
# ----------------------------------------------------------------------
@contextlib.contextmanager
def _progress(registry, what, total, query):
    """Print every PROGRESS_EVERY seconds how many of ``total`` ``query``
    (a count, read from a cursor of its own) counts, while the block runs."""
    stop = threading.Event()
    start = time.perf_counter()

    def report():
        while not stop.wait(PROGRESS_EVERY):
            with registry.cursor() as cr:
                cr.execute(query)
                done = cr.fetchone()[0]
            print(f"[bench]   {done:,} of {total:,} {what} ({time.perf_counter() - start:.0f} s)", flush=True)

    thread = threading.Thread(target=report, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _build_state(dbname, sizes):
    """The adjustments company (bench_adjustments' state at ``sizes``) and
    the below-threshold company with its transactions (bench_deductions'),
    committed; returns their ids."""
    registry = _load_registry(dbname)
    n, q, count = sizes["open"], sizes["qualifying"], sizes["transactions"]
    print(f"[bench] queue: building the state in {dbname}: {n:,} open invoices ({q:,} qualify), "
          f"{count:,} transactions x {bench_deductions.DEDUCTIONS_PER_TRANSACTION}", flush=True)
    with Timer() as timer:
        posted = SQL(
            "SELECT COUNT(*) FROM account_move m JOIN res_company c ON c.id = m.company_id "
            "WHERE c.name = %s AND m.move_type = 'out_invoice' AND m.state = 'posted'",
            f"Adjustments bench {STATE_LABEL}")
        with _progress(registry, "open invoices posted", n, posted):
            adjustments = bench_adjustments._setup(registry, n, q, STATE_LABEL)
        print(f"[bench]   {n:,} open invoices and the fee rule ({time.perf_counter() - timer.start:.0f} s)", flush=True)
        with environment(registry) as env:
            env, company, partners, _account = bench_deductions._setup(env, DEDUCTIONS_COMPANY)
            env.cr.commit()
            transactions = []
            for start in range(0, count, TRANSACTIONS_PER_CALL):
                transactions += bench_deductions._make_transactions(
                    env, company, partners, min(TRANSACTIONS_PER_CALL, count - start))
                env.invalidate_all()
                print(f"[bench]   {len(transactions):,} of {count:,} transactions broken out "
                      f"({time.perf_counter() - timer.start:.0f} s)", flush=True)
            deductions = {"company": company.id, "transactions": transactions}
    print(f"[bench] queue: state built in {timer.seconds:.0f} s", flush=True)
    return {"adjustments": dict(adjustments, open=n), "deductions": deductions}


# ----------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------
def _free_ports(count):
    sockets = [socket.socket() for _i in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _odoo_command():
    """How to start Odoo: its ``odoo-bin`` next to the ``odoo`` package
    when there is one, else ``python -m odoo``. A prefork server starts its
    gevent process with its own script again, and with ``-m odoo`` that is
    odoo/__main__.py, which cannot run alone: the server would spawn it
    again and again."""
    script = pathlib.Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "odoo"]


class Server:
    """An Odoo server on one database, prefork with ``workers`` workers and
    queue_job's runner; started in a session (process group) of its own."""

    def __init__(self, conf, dbname, workers, logdir):
        self.dbname = dbname
        self.workers = workers
        self.http_port, gevent_port = _free_ports(2)
        self.log_path = os.path.join(logdir, f"{dbname}.log")
        command = _odoo_command() + [
            "-c", conf, "-d", dbname, "--db-filter", f"^{dbname}$",
            "--http-port", str(self.http_port), "--gevent-port", str(gevent_port),
            "--workers", str(workers), "--max-cron-threads", "0", "--load", "base,web,queue_job",
            "--limit-time-real", "1200", "--limit-time-cpu", "1200", "--log-level", "warn"]
        env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=f"root:{workers},root.recon:{workers}")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)

    def processes(self):
        """The pids of the server's processes under its master (workers, job runner, gevent)."""
        try:
            return {child.pid for child in psutil.Process(self.process.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def check_alive(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"the Odoo server on {self.dbname} exited ({self.process.returncode}):\n"
                               f"{self.log()}")

    def log(self):
        return _tail(self.log_path)

    def wait_ready(self):
        """Until the server answers HTTP and its job runner holds the
        database (queue_job's runner takes an advisory lock on each database
        it serves, then reads its jobs and listens for new ones)."""
        from odoo.addons.queue_job.jobrunner.runner import PG_ADVISORY_LOCK_ID

        deadline = time.monotonic() + SERVER_START_TIMEOUT
        http = runner = False
        while not (http and runner):
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the Odoo server on {self.dbname} is not ready after {SERVER_START_TIMEOUT} s "
                                   f"(HTTP: {http}, job runner: {runner}):\n{self.log()}")
            time.sleep(0.5)
            if not http:
                url = f"http://127.0.0.1:{self.http_port}/web/health"
                with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                    http = response.status == 200
            if http:
                with odoo.sql_db.db_connect(self.dbname).cursor() as cr:
                    cr.execute(SQL(
                        "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s "
                        "AND l.classid = %s AND l.objid = %s AND l.objsubid = 1",
                        self.dbname, PG_ADVISORY_LOCK_ID >> 32, PG_ADVISORY_LOCK_ID & 0xFFFFFFFF))
                    runner = bool(cr.fetchone())

    def stop(self):
        """SIGTERM to the server's process group, SIGKILL after a while."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(SERVER_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # whatever is left of the group (a worker, the gevent process)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def _server(conf, dbname, workers, logdir):
    server = Server(conf, dbname, workers, logdir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _probe_parallel(registry, workers):
    """W + 1 jobs on the runs' channel, each writing a row this process
    holds locked: the job runner must start W of them together, in
    different workers, and keep the last one waiting (the channel's
    capacity). Returns how many were started at once."""
    from odoo.addons.recon_queue_job.models.recon_run_chunk import CHANNEL

    description = "Benchmark probe: runs in parallel"
    with environment(registry) as env:
        tags = env["res.partner.category"].create([{"name": f"Probe {i}"} for i in range(workers + 1)])
    with registry.cursor() as lock_cr:
        lock_cr.execute(SQL("SELECT id FROM res_partner_category WHERE id IN %s FOR UPDATE", tuple(tags.ids)))
        with environment(registry) as env:
            for tag in env["res.partner.category"].browse(tags.ids):
                tag.with_delay(channel=CHANNEL, description=description).write({"color": 1})

        def started():
            with registry.cursor() as cr:
                cr.execute(SQL("SELECT worker_pid FROM queue_job WHERE name = %s AND state = 'started'",
                               description))
                return [pid for [pid] in cr.fetchall()]

        deadline = time.monotonic() + 60
        while len(started()) < workers:
            if time.monotonic() > deadline:
                raise TimeoutError(f"probe: {len(started())} of {workers} jobs started at once after 60 s")
            time.sleep(0.2)
        time.sleep(1.0)  # the last job must wait for a place on the channel
        pids = started()
        lock_cr.rollback()
    assert len(pids) == workers == len(set(pids)), f"probe: jobs started at once by workers {pids}"
    deadline = time.monotonic() + 60
    while True:
        with registry.cursor() as cr:
            cr.execute(SQL("SELECT COUNT(*) FROM queue_job WHERE name = %s AND state != 'done'", description))
            if not cr.fetchone()[0]:
                break
        if time.monotonic() > deadline:
            raise TimeoutError("probe: jobs not done 60 s after the rows were released")
        time.sleep(0.2)
    return len(pids)


# ----------------------------------------------------------------------
# Waiting for a run on the job queue
# ----------------------------------------------------------------------
def _wait_for_run(registry, model, run_id, server, timeout, watch=None, poll=POLL):
    """Poll the run's state from a cursor of its own until it is done;
    ``watch(env)`` is called on each look. Returns (seconds, the most chunk
    jobs seen running at once). A failed job, a server that exits or a run
    not done within ``timeout`` seconds is an error."""
    Run = registry[model]
    start = time.perf_counter()
    most = 0
    while True:
        with registry.cursor() as cr:
            cr.execute(SQL("SELECT state FROM %s WHERE id = %s", SQL.identifier(Run._table), run_id))
            state = cr.fetchone()[0]
            seconds = time.perf_counter() - start
            if state not in Run._run_open_states:
                break
            cr.execute(SQL("SELECT COUNT(*) FROM queue_job WHERE state = 'started' AND method_name = '_queue_process'"))
            most = max(most, cr.fetchone()[0])
            cr.execute(SQL("SELECT name, exc_info FROM queue_job WHERE state = 'failed' LIMIT 1"))
            failed = cr.fetchone()
            if failed:
                raise RuntimeError(f"job failed: {failed[0]}\n{failed[1]}")
            if watch:
                watch(api.Environment(cr, SUPERUSER_ID, {}))
            if seconds > timeout:
                cr.execute(SQL("SELECT state, COUNT(*) FROM queue_job GROUP BY state"))
                raise TimeoutError(f"{model},{run_id} still {state} after {timeout:.0f} s; jobs by state: "
                                   f"{dict(cr.fetchall())}; server log:\n{server.log()}")
        server.check_alive()
        time.sleep(poll)
    assert state == "done", f"{model},{run_id} ended {state}"
    return seconds, most


def _job_stats(registry, model, most):
    """The run's jobs, as queue_job recorded them: a text for the notes."""
    with registry.cursor() as cr:
        cr.execute(SQL(
            "SELECT method_name, state, worker_pid, date_started, date_done, exec_time FROM queue_job "
            "WHERE model_name IN %s ORDER BY date_started", (model, "recon.run.chunk")))
        jobs = cr.dictfetchall()
    chunks = [job for job in jobs if job["method_name"] == "_queue_process"]
    assert chunks and all(job["state"] == "done" for job in jobs), [(j["method_name"], j["state"]) for j in jobs]
    # running at once by the records: their start and end dates, strictly overlapping
    events = sorted([(job["date_started"], 1) for job in chunks] + [(job["date_done"], -1) for job in chunks],
                    key=lambda event: (event[0], event[1]))
    running = overlap = 0
    for _when, step in events:
        running += step
        overlap = max(overlap, running)

    def took(method):
        return sum(job["exec_time"] or 0.0 for job in jobs if job["method_name"] == method)

    return (f"jobs: plan {took('_queue_plan'):.2f} s, {_count(len(chunks), 'chunk')} "
            f"({took('_queue_process'):.1f} s of work), at most {max(most, overlap)} running at once, on "
            f"{_count(len({job['worker_pid'] for job in chunks}), 'worker process', 'worker processes')}, "
            f"finish {took('_queue_finish'):.2f} s")


class WorkerKiller:
    """Called on each look at the run: kills (SIGKILL) the worker process of
    the first chunk job seen running for KILL_AFTER seconds, then plays the
    runs' scheduled action until that job is requeued."""

    def __init__(self, server):
        self.server = server
        self.seen = {}
        self.killed = None
        self.requeued_after = None
        self.left_started = None
        self.chunk_after_kill = None
        self.last_gc = 0.0

    def __call__(self, env):
        now = time.perf_counter()
        if not self.killed:
            return self._kill(env, now)
        job = env["queue.job"].browse(self.killed["job"])
        if self.left_started is None and now - self.killed["at"] >= 1.0:
            # the transaction of the killed worker is gone: nothing of the chunk stays
            self.chunk_after_kill = env["recon.run.chunk"].browse(self.killed["chunk"]).state
            # queue_job's garbage collector as its scheduled action calls it
            env["queue.job"].requeue_stuck_jobs()
            self.left_started = job.state == "started"
        if self.requeued_after is None and now - self.last_gc >= POLL:
            self.last_gc = now
            # what the runs' scheduled action does for the job queue
            requeued = env["recon.run.chunk"]._queue_requeue_orphans()
            assert set(requeued.ids) <= {job.id}, f"live chunk jobs requeued: {requeued.ids}"
            job.invalidate_recordset()
            if job.state != "started":
                self.requeued_after = now - self.killed["at"]

    def _kill(self, env, now):
        env.cr.execute(SQL("SELECT id, worker_pid FROM queue_job WHERE state = 'started' "
                           "AND method_name = '_queue_process'"))
        for job_id, pid in env.cr.fetchall():
            if now - self.seen.setdefault(job_id, now) < KILL_AFTER:
                continue
            processes = self.server.processes()
            assert pid in processes, f"worker {pid} of job {job_id} is not a process of the server"
            os.kill(pid, signal.SIGKILL)
            chunk_id = env["queue.job"].browse(job_id).records.id
            self.killed = {"job": job_id, "pid": pid, "chunk": chunk_id, "at": time.perf_counter(),
                           "running": now - self.seen[job_id], "processes": len(processes)}
            return

    def notes(self, env):
        assert self.killed, "no chunk job was seen running: nothing killed"
        job = env["queue.job"].browse(self.killed["job"])
        chunk = env["recon.run.chunk"].browse(self.killed["chunk"])
        assert self.chunk_after_kill == "pending", f"chunk {chunk.sequence} {self.chunk_after_kill} after the kill"
        assert self.left_started, "the garbage collector as shipped requeued the killed job"
        assert self.requeued_after is not None, "the killed job was never requeued"
        assert job.state == "done" and chunk.state == "done", (job.state, chunk.state)
        respawned = len(self.server.processes()) == self.killed["processes"]
        return (f"killed worker {self.killed['pid']} (SIGKILL) {self.killed['running']:.1f} s into chunk "
                f"{chunk.sequence}: chunk left pending, job left started; server respawned its worker: "
                f"{'yes' if respawned else 'no'}; queue_job's requeue_stuck_jobs() as its cron calls it leaves "
                f"the job started; the runs' scheduled action (its _queue_requeue_orphans, called in-process "
                f"every {POLL} s: no cron thread) requeued it {self.requeued_after:.0f} s after the kill; "
                f"chunk done by worker {job.worker_pid}")


# ----------------------------------------------------------------------
# The two kinds of run: start, scheduler path, check
# ----------------------------------------------------------------------
def _start_adjustments(registry, state, engine):
    """The hourly action after midnight: the day's run created (with the
    engine's default, or ``cron``) and handed to its engine; committed."""
    context = {"default_engine": "cron"} if engine == "cron" else {}
    with environment(registry, context) as env:
        env["recon.adjustment.run"]._cron_start_due_runs(now=bench_adjustments.RUN_AT)
        run = env["recon.adjustment.run"].search([("rule_id", "=", state["rule"])])
        assert run.engine == engine, (run.engine, engine)
        return run.id


def _schedule_adjustments(registry, run_id):
    return bench_adjustments._nightly(registry)


def _check_adjustments(registry, state, run_id):
    """The ledger after the run: one adjustment and one posted fee entry
    per qualifying invoice, its item on the receivable. Returns the counts."""
    qualifying = set(state["qualifying"])
    with environment(registry) as env:
        run = env["recon.adjustment.run"].browse(run_id)
        cr = env.cr
        cr.execute(SQL("SELECT invoice_id, COUNT(*) FROM recon_adjustment WHERE rule_id = %s AND state = 'posted' "
                       "GROUP BY invoice_id", state["rule"]))
        per_invoice = dict(cr.fetchall())
        cr.execute(SQL("SELECT COUNT(*) FROM recon_adjustment a JOIN account_move m ON m.id = a.move_id "
                       "WHERE a.rule_id = %s AND m.state = 'posted'", state["rule"]))
        posted = cr.fetchone()[0]
        journal = env["res.company"].browse(state["company"]).recon_journal_id
        cr.execute(SQL("SELECT COUNT(*), COALESCE(SUM(l.debit), 0) FROM account_move_line l "
                       "JOIN account_account a ON a.id = l.account_id "
                       "WHERE l.journal_id = %s AND l.parent_state = 'posted' AND a.account_type = 'asset_receivable'",
                       journal.id))
        items, debit = cr.fetchone()
        counts = {
            "invoices": len(qualifying),
            "adjusted": run.adjusted_count,
            "doubles": sum(count - 1 for count in per_invoice.values()),
            "missing": len(qualifying - set(per_invoice)),
            "more": len(set(per_invoice) - qualifying),
            "posted": posted,
            "items": items,
            "debit": round(debit, 2),
        }
    q = len(qualifying)
    expected = {"invoices": q, "adjusted": q, "doubles": 0, "missing": 0, "more": 0, "posted": q, "items": q,
                "debit": round(bench_adjustments.FEE * q, 2)}
    assert counts == expected, f"adjustments: {counts}, expected {expected}"
    return counts


def _start_below_threshold(registry, state, engine):
    """A below-threshold run on the transactions, as ``_run_manually``
    starts it but without processing a chunk in the request; handed to its
    engine and committed."""
    context = {"allowed_company_ids": [state["company"]]}
    if engine == "cron":
        context["default_engine"] = "cron"
    with environment(registry, context) as env:
        company = env["res.company"].browse(state["company"])
        rule = env["recon.threshold.rule"]._get_enabled_rule(company)
        run = env["recon.threshold.run"]._start(rule, origin="manual")
        run._queue(transactions=env["recon.deduction.transaction"].browse(state["transactions"]))
        run._run_dispatch()
        assert run.engine == engine, (run.engine, engine)
        return run.id


def _schedule_below_threshold(registry, run_id):
    """The scheduler's calls, each committed, as bench_deductions makes them."""
    with environment(registry) as env:
        run = env["recon.threshold.run"].browse(run_id)
        calls = 0
        while run.state == "running":
            env["recon.threshold.run"]._cron_process_runs()
            env.cr.commit()
            calls += 1
    return calls


def _check_below_threshold(registry, state, run_id):
    expected = len(state["transactions"]) * bench_deductions.DEDUCTIONS_PER_TRANSACTION
    with environment(registry) as env:
        run = env["recon.threshold.run"].browse(run_id)
        assert run.cleared_count == expected, f"cleared {run.cleared_count} of {expected}"
        deductions = env["recon.deduction"].search([("transaction_id", "in", state["transactions"])])
        assert len(deductions) == expected, f"{len(deductions)} deductions of {expected}"
        assert not deductions.filtered(lambda d: d.state != "resolved"), "deductions left unresolved"
        assert all(deductions.receivable_line_id.mapped("reconciled")), "receivable items left open"
    return {"cleared": expected}


class Kind:
    def __init__(self, key, model, label, start, schedule, check):
        self.key, self.model, self.label = key, model, label
        self.start, self.schedule, self.check = start, schedule, check


# ----------------------------------------------------------------------
# Scenarios
# ----------------------------------------------------------------------
def _count(n, noun, plural=None):
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _rate(n, seconds):
    return f"{n / seconds:.1f} items/s"


def _scenarios(kind, conf, template, state, n, logdir, created, fault=False):
    rows = []
    prefix = f"{template}_{kind.key}"

    print(f"[bench] queue: {kind.label}: cron path", flush=True)
    with _copy(template, f"{prefix}_cron", created) as registry:
        run_id = kind.start(registry, state, "cron")
        with Timer() as timer:
            calls = kind.schedule(registry, run_id)
        kind.check(registry, state, run_id)
    cron = timer.seconds
    rows.append(row(f"{kind.label}: cron path", n, cron,
                    notes=f"{_rate(n, cron)}; in this process, scheduler calls: {calls}, a commit each; checked"))
    timeout = max(MIN_TIMEOUT, TIMEOUT_FACTOR * cron)

    seconds = {}
    for workers in WORKERS:
        print(f"[bench] queue: {kind.label}: {_count(workers, 'worker')}", flush=True)
        with _copy(template, f"{prefix}_w{workers}", created) as registry, \
                _server(conf, f"{prefix}_w{workers}", workers, logdir) as server:
            probe = _probe_parallel(registry, workers)
            run_id = kind.start(registry, state, "queue_job")
            seconds[workers], most = _wait_for_run(registry, kind.model, run_id, server, timeout)
            jobs = _job_stats(registry, kind.model, most)
            kind.check(registry, state, run_id)
        notes = [_rate(n, seconds[workers])]
        if workers == 1:
            notes.append(f"per item vs the cron path: {seconds[1] / cron:.2f}x (1 worker s/item / cron s/item)")
        else:
            notes.append(f"throughput {workers} workers / 1 worker: {seconds[1] / seconds[workers]:.2f}x")
            notes.append(f"per item vs the cron path: {seconds[workers] / cron:.2f}x")
        notes += [jobs, f"probe: {probe} of {workers + 1} jobs started at once, by {_count(probe, 'worker')}",
                  "checked"]
        rows.append(row(f"{kind.label}: {_count(workers, 'worker')}", n, seconds[workers],
                        notes="; ".join(notes)))

    if fault:
        from odoo.addons.recon_queue_job.models.recon_run_chunk import ORPHAN_AFTER

        workers = WORKERS[-1]
        print(f"[bench] queue: {kind.label}: {workers} workers, one killed mid-chunk", flush=True)
        with _copy(template, f"{prefix}_kill", created) as registry, \
                _server(conf, f"{prefix}_kill", workers, logdir) as server:
            killer = WorkerKiller(server)
            run_id = kind.start(registry, state, "queue_job")
            fault_seconds, most = _wait_for_run(registry, kind.model, run_id, server,
                                                timeout + ORPHAN_AFTER.total_seconds() + 60, watch=killer, poll=0.1)
            counts = kind.check(registry, state, run_id)
            with environment(registry) as env:
                kill_notes = killer.notes(env)
            jobs = _job_stats(registry, kind.model, most)
        rows.append(row(f"{kind.label}: {workers} workers, 1 killed", n, fault_seconds, notes=(
            f"{_rate(n, fault_seconds)}; {kill_notes}; {jobs}; ledger: {counts['invoices']} qualifying invoices, "
            f"{counts['adjusted']} adjusted, {counts['doubles']} doubles, {counts['missing']} missing, "
            f"{counts['more']} more, {counts['posted']} posted fee entries, {counts['items']} items on the "
            f"receivable for {counts['debit']:.2f}")))
    return rows


def run(registry, args):
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    conf = str(pathlib.Path(args.config).resolve())
    template = f"{args.database}_queue"
    logdir = tempfile.mkdtemp(prefix="bench_queue_")
    created = []
    try:
        print(f"[bench] queue: installing recon_queue_job in a database of its own, {template}", flush=True)
        _drop(template)
        created.append(template)
        _install(conf, template, logdir)
        state = _build_state(template, sizes)
        _release(template)

        adjustments, deductions = state["adjustments"], state["deductions"]
        q, count = len(adjustments["qualifying"]), len(deductions["transactions"])
        kinds = [
            (Kind("adj", "recon.adjustment.run", f"adjustments {q}/{adjustments['open']}",
                  _start_adjustments, _schedule_adjustments, _check_adjustments), adjustments, q, True),
            (Kind("bt", "recon.threshold.run",
                  f"below threshold {count} x {bench_deductions.DEDUCTIONS_PER_TRANSACTION}",
                  _start_below_threshold, _schedule_below_threshold, _check_below_threshold),
             deductions, count * bench_deductions.DEDUCTIONS_PER_TRANSACTION, False),
        ]
        rows = []
        for kind, kind_state, n, fault in kinds:
            rows += _scenarios(kind, conf, template, kind_state, n, logdir, created, fault=fault)
        return rows
    finally:
        for dbname in reversed(created):
            try:
                _drop(dbname)
            except Exception as exc:  # noqa: BLE001 - drop the others, keep the benchmark's own error
                print(f"[bench] queue: could not drop {dbname}: {exc}", flush=True)
        shutil.rmtree(logdir, ignore_errors=True)
