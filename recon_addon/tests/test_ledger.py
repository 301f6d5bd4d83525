from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.recon_addon.models.recon_ledger import LedgerEntry, LedgerLine, Part, Reversal, Settlement, Transfer

from .common import ReconCommon


@tagged("post_install", "-at_install")
class TestLedgerSpine(ReconCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ledger = cls.env["recon.ledger"]

    def _settle_all(self, invoices, amounts=None, date="2024-03-01", isolate=False):
        amounts = amounts or [abs(inv.amount_residual) for inv in invoices]
        return self.ledger._book([
            Settlement(
                items=self._receivable_line(invoice),
                amount=amount,
                account=self.bad_debt,
                label=f"Write-off {invoice.name}",
                source=invoice,
                date=fields.Date.from_string(date),
            )
            for invoice, amount in zip(invoices, amounts, strict=False)
        ], isolate=isolate)

    def test_batch_settles_each_invoice_with_its_own_reconciled_entry(self):
        invoices = self._invoice(100.0) + self._invoice(250.0) + self._invoice(40.0, partner=self.customer_b)
        result = self._settle_all(invoices)

        self.assertEqual(len([move for move in result.moves if move]), 3)
        self.assertEqual(len(set(m.id for m in result.moves)), 3, "one move per request")
        self.assertEqual(result.errors, [None, None, None])
        for invoice, move in zip(invoices, result.moves, strict=False):
            self.assertRecordValues(move, [{
                "state": "posted",
                "journal_id": self.recon_journal.id,
                "date": fields.Date.from_string("2024-03-01"),
                "recon_source_model": "account.move",
                "recon_source_id": invoice.id,
            }])
            self.assertRecordValues(move.line_ids.sorted("balance"), [
                {"account_id": self.receivable.id, "partner_id": invoice.partner_id.id,
                 "balance": -invoice.amount_total, "reconciled": True},
                {"account_id": self.bad_debt.id, "partner_id": invoice.partner_id.id,
                 "balance": invoice.amount_total, "reconciled": False},
            ])
            self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer_b), 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 390.0)

    def test_partial_settlement_reduces_the_residual_by_the_exact_amount(self):
        invoice = self._invoice(100.0)
        self._settle_all(invoice, amounts=[33.33])
        self.assertRecordValues(invoice, [{"amount_residual": 66.67, "payment_state": "partial"}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 66.67)

    def test_credit_note_settlement_mirrors_the_signs(self):
        refund = self._invoice(80.0, move_type="out_refund")
        move = self._settle_all(refund).moves[0]
        self.assertRecordValues(move.line_ids.sorted("balance"), [
            {"account_id": self.bad_debt.id, "balance": -80.0, "reconciled": False},
            {"account_id": self.receivable.id, "balance": 80.0, "reconciled": True},
        ])
        self.assertEqual(refund.amount_residual, 0.0)

    def test_settlement_larger_than_the_residual_is_refused_and_nothing_posts(self):
        good = self._invoice(100.0)
        bad = self._invoice(50.0)
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, rf"{bad.name}.*cannot settle 60.0.*only 50.0 is open"):
            self._settle_all(good + bad, amounts=[100.0, 60.0])
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(good.amount_residual, 100.0)

    def test_already_paid_item_is_refused(self):
        invoice = self._invoice(100.0)
        self._settle_all(invoice)
        with self.assertRaisesRegex(UserError, "nothing is left open"):
            self._settle_all(invoice, amounts=[10.0])

    def test_isolated_batch_posts_the_valid_requests_and_reports_the_others(self):
        paid, open_a, open_b = self._invoice(10.0), self._invoice(20.0), self._invoice(30.0)
        self._settle_all(paid)
        result = self._settle_all(paid + open_a + open_b, amounts=[10.0, 20.0, 30.0], isolate=True)
        self.assertFalse(result.moves[0])
        self.assertIn(paid.name, result.errors[0])
        self.assertEqual([i for i, error in enumerate(result.errors) if error], [0])
        self.assertEqual((open_a + open_b).mapped("amount_residual"), [0.0, 0.0])

    def test_isolated_batch_finds_a_failure_raised_while_posting(self):
        """A failure only the ORM sees (here an inactive journal currency
        mismatch is simulated by a locked journal) rolls back that request only."""
        open_a, open_b = self._invoice(20.0), self._invoice(30.0)
        other_journal = self.company_data["default_journal_misc"].copy({"code": "LOCK"})
        other_journal.restrict_mode_hash_table = False
        other_journal.active = False
        entries = [
            self.ledger._entry(Settlement(
                items=self._receivable_line(inv), amount=inv.amount_residual,
                account=self.bad_debt, source=inv, label="x",
                date=fields.Date.from_string("2024-03-01"),
            )) for inv in (open_a, open_b)
        ]
        entries[0].journal = other_journal
        result = self.ledger._book(entries, isolate=True)
        self.assertTrue(result.errors[0])
        self.assertFalse(result.errors[1])
        self.assertEqual(open_a.amount_residual, 20.0, "the failed request posted nothing")
        self.assertEqual(open_b.amount_residual, 0.0)

    def test_lock_date_refusal_names_the_record(self):
        invoice = self._invoice(100.0)
        self.company.fiscalyear_lock_date = fields.Date.from_string("2024-03-31")
        with self.assertRaisesRegex(UserError, rf"{invoice.name}: cannot post on .*locked"):
            self._settle_all(invoice, date="2024-03-01")
        self.assertEqual(invoice.amount_residual, 100.0)
        result = self._settle_all(invoice, date="2024-04-01")
        self.assertEqual(result.moves[0].date, fields.Date.from_string("2024-04-01"))
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_foreign_currency_item_is_settled_in_its_currency_with_exchange_difference(self):
        eur = self.setup_other_currency("EUR", rates=[("2024-01-01", 2.0), ("2024-03-01", 4.0)])
        invoice = self._invoice(200.0, currency=eur)  # 200 EUR = 100 in company currency on 15 Jan
        line = self._receivable_line(invoice)
        self.assertAlmostEqual(line.balance, 100.0)

        move = self._settle_all(invoice, date="2024-03-15").moves[0]

        self.assertRecordValues(move.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "currency_id": eur.id,
             "amount_currency": -200.0, "balance": -50.0, "reconciled": True},
            {"account_id": self.bad_debt.id, "currency_id": eur.id,
             "amount_currency": 200.0, "balance": 50.0, "reconciled": False},
        ])
        self.assertTrue(line.reconciled)
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        exchange = (line.matched_credit_ids.exchange_move_id
                    | line.full_reconcile_id.exchange_move_id)
        self.assertTrue(exchange, "Odoo books the rate difference on reconciliation")
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)

    def test_multi_line_entry_reconciles_the_marked_lines(self):
        """Generic entries: one open item split into two new open items."""
        invoice = self._invoice(100.0)
        target = self._receivable_line(invoice)
        entry = LedgerEntry(
            source=invoice,
            label="Split",
            date=fields.Date.from_string("2024-03-01"),
            lines=[
                LedgerLine(account=self.receivable, amount=-100.0, partner=self.customer,
                           reconcile_with=target),
                LedgerLine(account=self.receivable, amount=60.0, partner=self.customer),
                LedgerLine(account=self.receivable, amount=40.0, partner=self.customer),
            ],
        )
        move = self.ledger._book([entry]).moves[0]
        self.assertTrue(target.reconciled)
        self.assertEqual(sorted(move.line_ids.filtered(lambda line: not line.reconciled).mapped("amount_residual")),
                         [40.0, 60.0])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 100.0)

    def test_unbalanced_entry_is_refused(self):
        invoice = self._invoice(100.0)
        entry = LedgerEntry(source=invoice, lines=[
            LedgerLine(account=self.receivable, amount=10.0, partner=self.customer),
            LedgerLine(account=self.bad_debt, amount=-9.0),
        ])
        with self.assertRaisesRegex(UserError, "not balanced"):
            self.ledger._book([entry])

    def test_missing_journal_names_the_fix(self):
        invoice = self._invoice(100.0)
        self.company.recon_journal_id = False
        with self.assertRaisesRegex(UserError, "has no Reconciliation journal"):
            self._settle_all(invoice)

    def test_amount_settles_the_items_in_the_order_given_and_tells_which_item_settles_which(self):
        first, second, third = self._invoice(30.0), self._invoice(50.0), self._invoice(40.0)
        items = self._receivable_line(second) + self._receivable_line(first) + self._receivable_line(third)
        result = self.ledger._book([Settlement(
            source=first, items=items, amount=70.0, account=self.bad_debt, label="FIFO",
            date=fields.Date.from_string("2024-03-01"),
        )])
        self.assertEqual((first + second + third).mapped("amount_residual"), [10.0, 0.0, 40.0])
        lines = result.lines[0]
        self.assertRecordValues(lines[items[0]] + lines[items[1]] + lines["counterpart"], [
            {"account_id": self.receivable.id, "balance": -50.0, "reconciled": True},
            {"account_id": self.receivable.id, "balance": -20.0, "reconciled": True},
            {"account_id": self.bad_debt.id, "balance": 70.0, "reconciled": False},
        ])
        self.assertNotIn(items[2], lines)

    def test_transfer_splits_its_receiving_side_by_key_and_settles_what_is_open(self):
        invoice = self._invoice(100.0)
        item = self._receivable_line(invoice)
        result = self.ledger._book([Transfer(
            source=invoice, from_account=self.receivable, to_account=self.receivable, partner=self.customer,
            parts=[Part(90.0, key="a"), Part(50.0, key="b"), Part(-10.0, key="c")],
            settle=item, fifo=True, label="Split", date=fields.Date.from_string("2024-03-01"),
        )])
        lines = result.lines[0]
        self.assertRecordValues(lines["a"] + lines["b"] + lines["c"] + lines[item] + lines["rest"], [
            {"balance": 90.0, "reconciled": False},
            {"balance": 50.0, "reconciled": False},
            {"balance": -10.0, "reconciled": False},
            {"balance": -100.0, "reconciled": True},
            {"balance": -30.0, "reconciled": False},
        ])
        self.assertTrue(item.reconciled)

    def test_reversal_is_odoos_own_and_respects_the_lock_date(self):
        invoice = self._invoice(100.0)
        move = self._settle_all(invoice, amounts=[40.0]).moves[0]
        self.company.fiscalyear_lock_date = fields.Date.from_string("2024-03-31")
        with self.assertRaisesRegex(UserError, rf"{invoice.name}: cannot post on .*locked"):
            self.ledger._book([Reversal(source=invoice, move=move, date=fields.Date.from_string("2024-03-15"))])
        result = self.ledger._book([Reversal(source=invoice, move=move,
                                                date=fields.Date.from_string("2024-04-01"))])
        reversal = result.moves[0]
        self.assertRecordValues(reversal, [{"state": "posted", "reversed_entry_id": move.id,
                                            "journal_id": self.recon_journal.id,
                                            "recon_source_model": "account.move", "recon_source_id": invoice.id}])
        counterpart = move.line_ids.filtered(lambda line: line.account_id == self.bad_debt)
        self.assertEqual(result.lines[0][counterpart].balance, -40.0)
        self.assertEqual(invoice.amount_residual, 60.0, "the settled item is not reopened")
