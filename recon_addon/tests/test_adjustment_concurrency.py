import logging
import threading
import time
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_committed import CommittedDataCase

_logger = logging.getLogger(__name__)

ACCOUNTS = 24
BATCH = 4


@tagged("post_install", "-at_install")
class TestAdjustmentConcurrency(CommittedDataCase):
    """Two workers, each with its own database connection, process the same
    adjustment run at the same time, a batch per transaction, until it is
    done. The data is committed (each worker sees only what the other has
    committed) and deleted afterwards."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            env = env(context=dict(env.context, allowed_company_ids=company.ids))
            income = env["account.account"].search([("account_type", "=", "income"),
                                                    ("company_ids", "in", company.ids)], limit=1)
            fee = env["product.product"].create({
                "name": "Carrying fee (two workers)", "type": "service", "lst_price": 0.0,
                "taxes_id": [Command.clear()], "property_account_income_id": income.id,
            })
            debtor = env["res.partner"].create({"name": "Two Workers Debtor"})
            due = fields.Date.context_today(env.user) - timedelta(days=60)
            invoices = env["account.move"].create([{
                "move_type": "out_invoice", "partner_id": debtor.id, "invoice_date": due, "invoice_date_due": due,
                "invoice_line_ids": [Command.create({"name": f"Goods {i}", "quantity": 1, "price_unit": 100.0,
                                                     "tax_ids": [Command.clear()]})],
            } for i in range(ACCOUNTS)])
            invoices.action_post()
            rule = env["recon.adjustment.rule"].create({
                "name": "Add 10, two workers", "state": "enabled", "frequency": "monthly", "month_day": 1,
                "apply_limit": "unlimited", "product_id": fee.id, "adjustment_type": "flat", "value": 10.0,
                "domain": repr([("partner_id", "=", debtor.id)]), "company_id": company.id,
            })
            run = env["recon.adjustment.run"]._get_or_create(rule, rule._local_today())
        self.addCleanup(self._cleanup, rule.id, fee.id, debtor.id)
        self.run_id, self.invoice_ids = run.id, invoices.ids

    def _cleanup(self, rule_id, product_id, partner_id):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            rule = env["recon.adjustment.rule"].browse(rule_id)
            moves = env["account.move.line"].search([("partner_id", "=", partner_id)]).move_id
            self._purge(cr, moves, referencing=[rule.adjustment_ids, rule.run_ids],
                        referenced=[rule, env["product.product"].browse(product_id),
                                    env["res.partner"].browse(partner_id)])

    def _work(self, name, start, batches, errors, retried):
        """One worker: a batch per transaction until the run is done. A batch
        refused by the database (the other worker adjusted an account or
        updated the run meanwhile) is rolled back and tried again, as the
        scheduler does."""
        try:
            start.wait(timeout=30)
            for __ in range(200):
                with self.registry.cursor() as cr:
                    run = self._env(cr)["recon.adjustment.run"].browse(self.run_id)
                    try:
                        walked = run._run_step(BATCH)
                        # A worker's own cursor, committed per batch as the scheduler does:
                        # the commit flushes the batch, where the database may refuse it.
                        cr.commit()  # pylint: disable=invalid-commit
                    except (psycopg2.IntegrityError, psycopg2.errors.SerializationFailure):
                        cr.rollback()
                        retried.append(name)
                        continue
                    if walked:
                        batches.append((name, walked))
                    if run.state == "done":
                        return
                    if not walked:
                        time.sleep(0.01)  # the other worker holds the run
            errors.append(f"{name} never saw the run done")
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(f"{name}: {exc!r}")

    def _run_two_workers(self):
        start = threading.Barrier(2)
        batches, errors, retried = [], [], []
        workers = [threading.Thread(target=self._work, args=(name, start, batches, errors, retried))
                   for name in ("first", "second")]
        # the refused inserts log an SQL error; muted here, in one thread: a
        # mute per worker thread lets the last one out restore the logger
        # with the other's mute still in place
        with mute_logger("odoo.sql_db"):
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=300)
        self.assertFalse(errors)
        return batches, retried

    def _assert_each_account_adjusted_once(self, batches, retried=()):
        _logger.info("[two workers] %s accounts; batches walked by each worker: %s; "
                     "batches refused by the database and retried: %s",
                     ACCOUNTS, [(name, sum(1 for n, __ in batches if n == name)) for name in ("first", "second")],
                     len(retried))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            run = env["recon.adjustment.run"].browse(self.run_id)
            invoices = env["account.move"].browse(self.invoice_ids)
            adjustments = run.rule_id.adjustment_ids
            self.assertEqual(sorted(adjustments.invoice_id.ids), sorted(invoices.ids))
            self.assertEqual(len(adjustments), ACCOUNTS, "one adjustment per account, none twice")
            entries = env["account.move"].search([("recon_source_model", "=", "recon.adjustment"),
                                                  ("recon_source_id", "in", adjustments.ids)])
            self.assertEqual(entries, adjustments.move_id, "one entry per adjustment, none without one")
            self.assertEqual(set(entries.mapped("state")), {"posted"})
            self.assertEqual(invoices.mapped("recon_account_balance"), [110.0] * ACCOUNTS)
            self.assertEqual(sum(walked for __, walked in batches), ACCOUNTS, "no account walked twice")
            self.assertRecordValues(run, [{"state": "done", "adjusted_count": ACCOUNTS, "failed_count": 0,
                                           "amount_total": 10.0 * ACCOUNTS}])

    def test_two_workers_on_one_run_adjust_each_account_once(self):
        batches, retried = self._run_two_workers()
        self._assert_each_account_adjusted_once(batches, retried)

    def test_without_the_run_lock_the_unique_key_still_adjusts_each_account_once(self):
        """Even when both workers get the run (its lock lost), the second
        insert of an account's adjustment waits for the first worker's
        commit and is refused, and its whole batch with it."""
        with patch.object(self.registry["recon.adjustment.run"], "_recon_lock_rows", lambda run, nowait=False: run):
            batches, retried = self._run_two_workers()
        self._assert_each_account_adjusted_once(batches, retried)
