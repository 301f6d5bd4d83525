from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from odoo.addons.recon_addon.models.recon_ledger import Reversal

from .common_write_off import WriteOffCommon


@tagged("post_install", "-at_install")
class TestUndoWriteOff(WriteOffCommon):
    """The undo engine (recon.undo) on single write-offs and batches."""

    undo_reason = "Wrong account"

    def test_undo_reverses_the_write_off_and_reopens_the_invoice(self):
        invoice = self._overdue_invoice(120.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        write_off = invoice.recon_write_off_ids
        move = write_off.move_id

        undo = self._undo(write_off)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 1, "count_skipped": 0,
                                        "user_id": self.manager.id, "reason": "Wrong account"}])
        reversal = move.reversal_move_ids
        self.assertEqual(len(reversal), 1)
        self.assertRecordValues(reversal, [{"state": "posted", "reversed_entry_id": move.id,
                                            "recon_undo_id": undo.id}])
        self.assertIn("Wrong account", reversal.ref)
        # the pair is reconciled, the invoice open again with its residual
        self.assertTrue(all(line.reconciled for line in (move | reversal).line_ids
                            if line.account_id == self.receivable))
        self.assertRecordValues(invoice, [{"amount_residual": 120.0, "payment_state": "not_paid"}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 120.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)
        self.assertEqual(write_off.state, "cancelled")
        self.assertEqual(write_off.undone_by_id, self.manager)
        # history kept: the write-off, its entry and a note on the entry
        self.assertTrue(write_off.exists())
        self.assertIn("Wrong account", move.message_ids[0].body)
        # the invoice can be written off again
        invoice.action_write_off(reason=self.reason)
        self.assertEqual(len(invoice.recon_write_off_ids), 2)
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_undo_is_refused_twice_and_to_a_clerk(self):
        invoice = self._overdue_invoice(50.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        write_off = invoice.recon_write_off_ids
        with self.assertRaises(AccessError):
            write_off.with_user(self.clerk).action_undo()
        self._undo(write_off)
        with self.assertRaisesRegex(UserError, "undone already"):
            write_off.with_user(self.manager).action_undo()
        self.assertEqual(len(write_off.move_id.reversal_move_ids), 1)

    def test_database_key_refuses_a_second_undo(self):
        """Two requests at once: the second one's insert is refused by the
        unique key, whatever the checks before it saw."""
        invoice = self._overdue_invoice(50.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        write_off = invoice.recon_write_off_ids
        Undo = self.env["recon.undo"]
        Undo._create_locked([{"res_model": write_off._name, "res_id": write_off.id, "reason": "first",
                              "company_id": self.company.id}])
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            Undo._create_locked([{"res_model": write_off._name, "res_id": write_off.id, "reason": "second",
                                  "company_id": self.company.id}])

    def test_invoice_paid_since_its_write_off_is_skipped_and_listed(self):
        invoice = self._overdue_invoice(100.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        write_off = invoice.recon_write_off_ids
        # the customer paid after all: the write-off is unreconciled by hand
        # and the payment reconciled with the invoice
        write_off.move_id.line_ids.filtered(lambda line: line.account_id == self.receivable).remove_move_reconcile()
        payment = self._pay(invoice)

        undo = self._undo(write_off)

        self.assertRecordValues(undo, [{"state": "done", "count_undone": 0, "count_skipped": 1}])
        self.assertIn("reconciled by hand since its write-off", undo.skip_ids.reason)
        self.assertIn(payment.move_id.name if "move_id" in payment else payment.name, undo.skip_ids.reason)
        self.assertEqual(undo.skip_ids.partner_id, self.customer)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(write_off.move_id.reversal_move_ids)
        self.assertEqual(write_off.state, "posted")
        self.assertTrue(undo.skip_file)
        self.assertEqual(undo.action_download_skipped()["type"], "ir.actions.act_url")

    def test_undo_of_a_batch_in_chunks_reopens_every_invoice_once(self):
        invoices = self.env["account.move"]
        for days in (300, 200, 100):
            invoices |= self._overdue_invoice(100.0, days_overdue=days)
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(self.manager).create({
            "file": self._file("\n".join(invoices.mapped("name"))), "filename": "accounts.txt",
            "reason_id": self.reason.id})
        wizard.action_preview()
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertEqual(batch.state, "done")
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 300.0)
        # one invoice is undone alone first: the batch undo skips it
        single = batch.write_off_ids.filtered(lambda w: w.invoice_id == invoices[0])
        self._undo(single, reason="Customer paid")

        with patch.object(self.env.registry["recon.undo"], "_run_chunk_size", 1):
            undo = self._undo(batch, reason="Wrong file")
            self.assertEqual(undo.state, "running")
            self.assertEqual(undo.count_undone, 1)
            self.env["recon.undo"].with_user(SUPERUSER_ID)._cron_process_runs()
            self.env["recon.undo"].with_user(SUPERUSER_ID)._cron_process_runs()
        self.assertRecordValues(undo, [{"state": "done", "count_undone": 2, "total_count": 2}])
        self.assertEqual(set(invoices.mapped("amount_residual")), {100.0})
        self.assertEqual(set(invoices.mapped("payment_state")), {"not_paid"})
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"cancelled"})
        for write_off in batch.write_off_ids:
            self.assertEqual(len(write_off.move_id.reversal_move_ids), 1)
        self.assertIn("Wrong file", batch.message_ids[0].body)

    def test_batched_reversal_is_odoo_reversal(self):
        """The spine reverses many entries in one create and one
        reconciliation plan; each reversal is what Odoo's own reversal
        (``_reverse_moves`` then posting) makes of the same entry."""
        first, second = (self._overdue_invoice(75.0, days_overdue=200) for _i in range(2))
        (first | second).action_write_off(reason=self.reason)
        ours_move, core_move = first.recon_write_off_ids.move_id, second.recon_write_off_ids.move_id
        for move in (ours_move, core_move):
            move.line_ids.filtered(lambda line: line.account_id == self.receivable).remove_move_reconcile()
        result = self.env["recon.ledger"]._book([Reversal(source=first.recon_write_off_ids, move=ours_move)])
        ours = result.moves[0]
        core = core_move._reverse_moves([{"journal_id": core_move.journal_id.id}])
        core._post(soft=False)

        def shape(move, original):
            self.assertEqual(sorted(move.line_ids.mapped("name")), sorted(original.line_ids.mapped("name")))
            self.assertEqual(move.line_ids.partner_id, original.line_ids.partner_id)
            return [(line.account_id, line.balance, line.amount_currency, line.reconciled)
                    for line in move.line_ids.sorted("balance")]

        self.assertEqual(shape(ours, ours_move), shape(core, core_move))
        for reversal, original in ((ours, ours_move), (core, core_move)):
            self.assertRecordValues(reversal, [{"move_type": "entry", "state": "posted",
                                                "reversed_entry_id": original.id,
                                                "partner_id": original.partner_id.id}])
            self.assertTrue(all(line.reconciled for line in (original | reversal).line_ids
                                if line.account_id.reconcile))
            self.assertIn("This entry has been reversed from", reversal.message_ids.mapped("body")[-1])
        self.assertEqual(ours_move.payment_state, core_move.payment_state)

    def test_wizard_names_what_it_undoes_before_it_is_saved(self):
        invoice = self._overdue_invoice(40.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        write_off = invoice.recon_write_off_ids
        action = write_off.with_user(self.manager).action_undo()
        form = Form(self.env["recon.undo.wizard"].with_user(self.manager).with_context(**action["context"]))
        self.assertEqual(form.record_name, write_off.display_name)
        self.assertEqual(form.item_count, 1)
