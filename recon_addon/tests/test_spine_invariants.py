"""What Odoo guarantees of a posted entry holds for the entries of the spine.

An accountant or an auditor checks, on the entries the addon posts, what
Odoo guarantees of any entry posted by hand: numbers without holes in the
journal's sequence of the month, lock dates, the hash chain of a secured
journal, the invoices' payment status and residual, and the chatter. Each
test compares the spine with what core does in the same situation.

The Audit Trail of the entries themselves (creation, posting, the reversal
note) is proved in test_audit_trail.py; here only what it does not cover.
"""
import threading
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.recon_addon.models.recon_ledger import Reversal, Settlement, Transfer

from .common import ReconCommon
from .common_committed import CommittedDataCase
from .test_audit_trail import AuditTrailCase

#: the context of a user in the web client: tracking and chatter on
NORMAL_CONTEXT = {"tracking_disable": False, "mail_create_nolog": False, "mail_notrack": False,
                  "mail_create_nosubscribe": False}


def _date(value):
    return fields.Date.from_string(value)


@tagged("post_install", "-at_install")
class SpineInvariantCase(ReconCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ledger = cls.env["recon.ledger"]

    def _settlement(self, invoice, date, amount=None):
        return Settlement(
            items=self._receivable_line(invoice), amount=amount or invoice.amount_residual,
            account=self.bad_debt, source=invoice, label=f"Write-off {invoice.name}", date=_date(date),
        )

    def _book(self, requests, isolate=False, ledger=None):
        result = (self.ledger if ledger is None else ledger)._book(requests, isolate=isolate)
        return result, self.env["account.move"].union(*result.moves)

    def _hand_entry(self, date, amount=10.0, journal=None, post=True, env=None):
        """A journal entry made and posted by hand (core's action_post) in
        the journal the spine posts to."""
        move = (env or self.env)["account.move"].create({
            "move_type": "entry",
            "journal_id": (journal or self.recon_journal).id,
            "date": _date(date),
            "line_ids": [
                Command.create({"account_id": self.bad_debt.id, "balance": amount, "name": "By hand"}),
                Command.create({"account_id": self.revenue.id, "balance": -amount, "name": "By hand"}),
            ],
        })
        if post:
            move.action_post()
        return move

    def _refused_by_core(self, invoice, date):
        """A request only core refuses (its counterpart account is
        deprecated): the spine's checks let it through, the ORM refuses it
        when the batch's entries are made."""
        account = self.bad_debt.copy({"code": "RECONDEP", "deprecated": True})
        request = self._settlement(invoice, date)
        request.account = account
        return request

    @contextmanager
    def _refusing_reconciliation(self):
        """Yield a function that makes the request settling an invoice, whose
        reconciliation core refuses: a failure once the entries are posted."""
        Line = self.registry["account.move.line"]
        reconcile_plan = Line._reconcile_plan
        refused = self.env["account.move.line"]

        def refuse_one(lines, plan):
            if any(refused & group for group in plan):
                # A test double's refusal, never shown to a user: translated, its
                # text would go into the addon's translation template.
                raise UserError("Refused while reconciling.")  # pylint: disable=translation-required
            return reconcile_plan(lines, plan)

        def make_failing(invoice):
            nonlocal refused
            refused = self._receivable_line(invoice)
            return self._settlement(invoice, "2024-03-05")

        with patch.object(Line, "_reconcile_plan", refuse_one):
            yield make_failing

    def _outstanding_credit(self, partner, amount, date, env=None):
        """What core settles an invoice with in the payment widget: a posted
        entry with an open credit on the customer's receivable."""
        move = (env or self.env)["account.move"].create({
            "move_type": "entry",
            "journal_id": self.recon_journal.id,
            "date": _date(date),
            "line_ids": [
                Command.create({"account_id": self.receivable.id, "partner_id": partner.id,
                                "balance": -amount, "name": "Outstanding credit"}),
                Command.create({"account_id": self.bad_debt.id, "partner_id": partner.id,
                                "balance": amount, "name": "Outstanding credit"}),
            ],
        })
        move.action_post()
        return move.line_ids.filtered(lambda line: line.account_id == self.receivable)


@tagged("post_install", "-at_install")
class TestSpineNumbering(SpineInvariantCase):
    """The journal's numbers, as core's ``_post`` gives them."""

    def assertNumbering(self, moves, prefix, numbers):
        """``moves`` are posted, numbered ``prefix`` + ``numbers`` (in
        their order), without a gap, and their names unique in the journal."""
        moves.invalidate_recordset()
        self.assertEqual(moves.mapped("state"), ["posted"] * len(moves))
        self.assertEqual(moves.mapped("sequence_prefix"), [prefix] * len(moves))
        self.assertEqual(moves.mapped("sequence_number"), numbers)
        self.assertEqual(moves.mapped("name"), [f"{prefix}{number:04d}" for number in numbers])
        self.assertFalse(any(moves.mapped("made_sequence_gap")),
                         [move.name for move in moves if move.made_sequence_gap])
        for move in moves:
            self.assertEqual(self.env["account.move"].search_count([
                ("journal_id", "=", move.journal_id.id), ("name", "=", move.name)]), 1, move.name)

    def test_one_call_numbers_its_entries_after_and_before_entries_posted_by_hand(self):
        # core's format for a general journal: code/year/month/number, reset monthly
        before = self._hand_entry("2024-03-01")
        prefix = f"{self.recon_journal.code}/2024/03/"
        self.assertNumbering(before, prefix, [1])
        invoices = self._invoice(100.0) + self._invoice(250.0) + self._invoice(40.0, partner=self.customer_b)
        _result, moves = self._book([self._settlement(invoice, "2024-03-05") for invoice in invoices])
        self.assertNumbering(moves.sorted("sequence_number"), prefix, [2, 3, 4])
        after = self._hand_entry("2024-03-06")
        self.assertNumbering(after, prefix, [5])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0] * 3)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 390.0 + 10.0 + 10.0)

    def test_entries_on_two_dates_of_a_month_are_numbered_in_date_order(self):
        invoices = [self._invoice(10.0 + i) for i in range(4)]
        dates = ["2024-03-20", "2024-03-10", "2024-03-20", "2024-03-10"]
        result, _moves = self._book([self._settlement(inv, date) for inv, date in zip(invoices, dates, strict=False)])
        prefix = f"{self.recon_journal.code}/2024/03/"
        early = result.moves[1] + result.moves[3]
        late = result.moves[0] + result.moves[2]
        self.assertEqual(set(early.mapped("date")), {_date("2024-03-10")})
        self.assertNumbering(early.sorted("sequence_number"), prefix, [1, 2])
        self.assertNumbering(late.sorted("sequence_number"), prefix, [3, 4])
        # a later entry of the month by hand continues the sequence
        self.assertNumbering(self._hand_entry("2024-03-25"), prefix, [5])

    def test_entries_of_two_months_get_each_month_s_own_sequence(self):
        self._hand_entry("2024-04-02")  # April already has an entry
        invoices = [self._invoice(10.0 + i) for i in range(4)]
        dates = ["2024-04-15", "2024-03-15", "2024-04-15", "2024-03-15"]
        result, _moves = self._book([self._settlement(inv, date) for inv, date in zip(invoices, dates, strict=False)])
        code = self.recon_journal.code
        march = result.moves[1] + result.moves[3]
        april = result.moves[0] + result.moves[2]
        self.assertNumbering(march.sorted("sequence_number"), f"{code}/2024/03/", [1, 2])
        self.assertNumbering(april.sorted("sequence_number"), f"{code}/2024/04/", [2, 3])
        # and core continues each month's sequence after them
        self.assertNumbering(self._hand_entry("2024-03-31"), f"{code}/2024/03/", [3])
        self.assertNumbering(self._hand_entry("2024-04-30"), f"{code}/2024/04/", [4])

    def test_chunks_of_one_call_follow_each_other(self):
        invoices = [self._invoice(10.0 + i) for i in range(5)]
        with patch("odoo.addons.recon_addon.models.recon_ledger.CHUNK_SIZE", 2):
            _result, moves = self._book([self._settlement(inv, "2024-03-05") for inv in invoices])
        self.assertNumbering(moves.sorted("sequence_number"), f"{self.recon_journal.code}/2024/03/", [1, 2, 3, 4, 5])
        self.assertNumbering(self._hand_entry("2024-03-06"), f"{self.recon_journal.code}/2024/03/", [6])

    def _check_no_hole(self, make_failing, message):
        invoices = [self._invoice(10.0 + i) for i in range(4)]
        prefix = f"{self.recon_journal.code}/2024/03/"
        self.assertNumbering(self._hand_entry("2024-03-01"), prefix, [1])
        requests = [self._settlement(inv, "2024-03-05") for inv in invoices]
        requests[1] = make_failing(invoices[1])
        result, moves = self._book(requests, isolate=True)
        self.assertEqual([bool(error) for error in result.errors], [False, True, False, False])
        self.assertRegex(result.errors[1], rf"^{invoices[1].name}: .*{message}")
        self.assertNumbering(moves.sorted("sequence_number"), prefix, [2, 3, 4])
        self.assertNumbering(self._hand_entry("2024-03-06"), prefix, [5])
        self.assertEqual([inv.amount_residual for inv in invoices], [0.0, 11.0, 0.0, 0.0])
        self.assertFalse(self.env["account.move"].search_count([
            ("journal_id", "=", self.recon_journal.id), ("state", "!=", "posted")]), "no draft left behind")

    def test_a_request_core_refuses_leaves_no_hole_in_the_numbers(self):
        """Isolated: the batch fails in core, each request is made again
        alone; the failed one takes no number."""
        self._check_no_hole(lambda invoice: self._refused_by_core(invoice, "2024-03-05"), "is deprecated")

    def test_a_request_failing_once_numbered_leaves_no_hole_in_the_numbers(self):
        """The same when the failure comes after the entries are numbered
        and posted: reconciling one of them fails."""
        with self._refusing_reconciliation() as refuse:
            self._check_no_hole(refuse, "Refused while reconciling")

    def test_a_reversal_and_transfers_take_the_next_numbers_of_the_month(self):
        invoice = self._invoice(100.0)
        _result, settled = self._book([self._settlement(invoice, "2024-03-05", amount=40.0)])
        _result, moves = self._book([
            Reversal(source=invoice, move=settled, date=_date("2024-03-06")),
            Transfer(source=invoice, from_account=self.bad_debt, to_account=self.receivable,
                     partner=self.customer, amount=15.0, label="Transfer", date=_date("2024-03-06")),
        ])
        prefix = f"{self.recon_journal.code}/2024/03/"
        self.assertNumbering(settled + moves.sorted("sequence_number"), prefix, [1, 2, 3])
        self.assertNumbering(self._hand_entry("2024-03-07"), prefix, [4])
        self.assertAlmostEqual(invoice.amount_residual, 60.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 115.0)


@tagged("post_install", "-at_install")
class TestSpineLockDates(SpineInvariantCase):
    """A locked period refuses the spine's entries as it refuses core's."""

    def _count_moves(self):
        return self.env["account.move"].search_count([])

    def _check_refused(self, lock_field):
        invoices = self._invoice(100.0) + self._invoice(50.0)
        self.company[lock_field] = _date("2024-03-31")
        # core never posts into the locked period either: it moves an entry by hand after the lock date
        self.assertGreater(self._hand_entry("2024-03-10").date, _date("2024-03-31"))
        before = self._count_moves()
        requests = [self._settlement(invoices[0], "2024-04-02"), self._settlement(invoices[1], "2024-03-10")]
        with self.assertRaisesRegex(UserError, rf"^{invoices[1].name}: cannot post on 2024-03-10.*locked"):
            self._book(requests)
        self.assertEqual(self._count_moves(), before, "nothing is posted, not even the valid request")
        self.assertEqual(invoices.mapped("amount_residual"), [100.0, 50.0])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 150.0)

    def test_the_fiscal_lock_date_refuses_the_whole_call_and_posts_nothing(self):
        self._check_refused("fiscalyear_lock_date")

    def test_the_hard_lock_date_refuses_the_whole_call_and_posts_nothing(self):
        self._check_refused("hard_lock_date")

    def test_isolated_call_reports_the_locked_request_and_posts_the_others(self):
        invoices = self._invoice(100.0) + self._invoice(50.0) + self._invoice(30.0)
        self.company.fiscalyear_lock_date = _date("2024-03-31")
        before = self._count_moves()
        result, moves = self._book([
            self._settlement(invoices[0], "2024-04-02"),
            self._settlement(invoices[1], "2024-03-10"),
            self._settlement(invoices[2], "2024-04-03"),
        ], isolate=True)
        self.assertFalse(result.moves[1])
        self.assertRegex(result.errors[1], rf"^{invoices[1].name}: cannot post on 2024-03-10.*locked")
        self.assertEqual([bool(error) for error in result.errors], [False, True, False])
        self.assertEqual(self._count_moves(), before + 2)
        self.assertEqual(moves.mapped("state"), ["posted", "posted"])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 50.0, 0.0])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 50.0)

    def test_the_sale_lock_date_stops_what_it_stops_for_core(self):
        """Odoo's sales lock date locks the sales journals only: an entry in
        the (general) Reconciliation journal posts on its date, by hand and by
        the spine; in a sales journal, core moves an entry by hand after the
        lock date and the spine refuses it."""
        invoices = self._invoice(100.0) + self._invoice(50.0)
        self.company.sale_lock_date = _date("2024-03-31")
        by_hand = self._hand_entry("2024-03-10")
        self.assertRecordValues(by_hand, [{"state": "posted", "date": _date("2024-03-10")}])
        _result, moves = self._book([self._settlement(invoices[0], "2024-03-10")])
        self.assertRecordValues(moves, [{"state": "posted", "journal_id": self.recon_journal.id,
                                          "date": _date("2024-03-10")}])
        self.assertEqual(invoices[0].amount_residual, 0.0)

        sales = self.company_data["default_journal_sale"]
        self.assertGreater(self._hand_entry("2024-03-10", journal=sales).date, _date("2024-03-31"))
        entry = self.ledger._entry(self._settlement(invoices[1], "2024-03-10"))
        entry.journal = sales
        before = self._count_moves()
        with self.assertRaisesRegex(UserError, rf"^{invoices[1].name}: cannot post on 2024-03-10.*locked"):
            self._book([entry])
        self.assertEqual(self._count_moves(), before)
        self.assertEqual(invoices[1].amount_residual, 50.0)

    def test_a_reversal_into_a_locked_period_is_refused_and_posts_nothing(self):
        invoice = self._invoice(100.0)
        _result, settled = self._book([self._settlement(invoice, "2024-03-05", amount=40.0)])
        self.company.hard_lock_date = _date("2024-03-31")
        before = self._count_moves()
        with self.assertRaisesRegex(UserError, rf"^{invoice.name}: cannot post on 2024-03-20.*locked"):
            self._book([Reversal(source=invoice, move=settled, date=_date("2024-03-20"))])
        self.assertEqual(self._count_moves(), before)
        self.assertFalse(settled.reversal_move_ids)
        self.assertEqual(invoice.amount_residual, 60.0)


@tagged("post_install", "-at_install")
class TestSpineHashChain(SpineInvariantCase):
    """A journal secured with a hash: the spine's entries are in the chain
    and Odoo's integrity report verifies it."""

    def _integrity(self, journal):
        results = self.company._check_hash_integrity()["results"]
        return [result for result in results if result["journal_name"].startswith(f"{journal.name} (")]

    def test_entries_and_reversal_of_the_spine_are_hashed_and_the_chain_verified(self):
        journal = self.recon_journal
        journal.restrict_mode_hash_table = True
        invoices = self._invoice(100.0) + self._invoice(60.0) + self._invoice(30.0, partner=self.customer_b)
        before = self._hand_entry("2024-03-01")
        _result, moves = self._book([self._settlement(invoice, "2024-03-05") for invoice in invoices])
        _result, reversal = self._book([Reversal(source=invoices[0], move=moves[0], date=_date("2024-03-06"))])
        after = self._hand_entry("2024-03-07")
        chain = (before + moves + reversal + after).sorted("sequence_number")
        chain.invalidate_recordset()
        self.assertEqual(chain.mapped("sequence_number"), [1, 2, 3, 4, 5, 6])
        self.assertTrue(all(chain.mapped("inalterable_hash")), [m.name for m in chain if not m.inalterable_hash])
        self.assertEqual(len(set(chain.mapped("inalterable_hash"))), 6)
        self.assertRecordValues(reversal, [{"reversed_entry_id": moves[0].id, "state": "posted"}])

        results = self._integrity(journal)
        self.assertEqual(len(results), 1, results)
        self.assertEqual(results[0]["status"], "verified", results[0]["msg_cover"])
        self.assertEqual((results[0]["first_move_name"], results[0]["last_move_name"]),
                         (chain[0].name, chain[-1].name))

        # the check can fail: an entry altered behind the ORM breaks the chain
        self.env.cr.execute(SQL("UPDATE account_move_line SET name = 'Altered' WHERE id = %s",
                                moves[1].line_ids[0].id))
        self.env.invalidate_all()
        self.assertEqual(self._integrity(journal)[0]["status"], "corrupted")

    def _check_chain_whole(self, make_failing):
        journal = self.recon_journal
        journal.restrict_mode_hash_table = True
        invoices = [self._invoice(10.0 + i) for i in range(3)]
        requests = [self._settlement(inv, "2024-03-05") for inv in invoices]
        requests[0] = make_failing(invoices[0])
        result, moves = self._book(requests, isolate=True)
        self.assertEqual([bool(error) for error in result.errors], [True, False, False])
        after = self._hand_entry("2024-03-06")
        chain = (moves + after).sorted("sequence_number")
        self.assertEqual(chain.mapped("sequence_number"), [1, 2, 3])
        self.assertTrue(all(chain.mapped("inalterable_hash")))
        self.assertEqual([result["status"] for result in self._integrity(journal)], ["verified"])
        self.assertEqual([inv.amount_residual for inv in invoices], [10.0, 0.0, 0.0])

    def test_a_request_core_refuses_leaves_the_chain_whole(self):
        self._check_chain_whole(lambda invoice: self._refused_by_core(invoice, "2024-03-05"))

    def test_a_request_failing_once_hashed_leaves_the_chain_whole(self):
        with self._refusing_reconciliation() as refuse:
            self._check_chain_whole(refuse)

    def test_a_secured_entry_cannot_be_reset_to_draft(self):
        self.recon_journal.restrict_mode_hash_table = True
        invoice = self._invoice(100.0)
        _result, move = self._book([self._settlement(invoice, "2024-03-05")])
        self.assertTrue(move.inalterable_hash)
        with self.assertRaisesRegex(UserError, "locked journal entry"):
            move.button_draft()
        self.assertEqual(invoice.amount_residual, 0.0)


@tagged("post_install", "-at_install")
class TestSpinePaymentState(SpineInvariantCase):
    """The invoices the spine settles have the status and residual core
    computes, and that core's payment widget gives the same invoice."""

    def assertAsComputedFromScratch(self, invoice):
        """The stored residual and status are what core's computes give now."""
        self.env.invalidate_all()
        stored = (invoice.amount_residual, invoice.payment_state,
                  invoice.line_ids.mapped("amount_residual"), invoice.line_ids.mapped("reconciled"))
        invoice.line_ids._compute_amount_residual()
        invoice._compute_amount()
        invoice._compute_payment_state()
        computed = (invoice.amount_residual, invoice.payment_state,
                    invoice.line_ids.mapped("amount_residual"), invoice.line_ids.mapped("reconciled"))
        self.assertEqual(stored, computed, invoice.name)

    def _settle_by_core(self, invoice, amount, date):
        credit = self._outstanding_credit(invoice.partner_id, amount, date)
        invoice.js_assign_outstanding_line(credit.id)
        return credit

    def test_full_and_partial_settlements_give_core_s_status_and_residual(self):
        for amount, state in ((100.0, "paid"), (40.0, "partial"), (99.99, "partial")):
            with self.subTest(amount=amount):
                by_spine, by_core = self._invoice(100.0), self._invoice(100.0)
                self._book([self._settlement(by_spine, "2024-03-05", amount=amount)])
                self._settle_by_core(by_core, amount, "2024-03-05")
                self.assertRecordValues(by_spine + by_core, [
                    {"payment_state": state, "amount_residual": 100.0 - amount}] * 2)
                self.assertEqual(self._receivable_line(by_spine).reconciled, state == "paid")
                self.assertEqual(self._receivable_line(by_core).reconciled, state == "paid")
                self.assertAsComputedFromScratch(by_spine)
                self.assertAsComputedFromScratch(by_core)

    def test_credit_note_and_two_steps_to_paid_as_core(self):
        refund = self._invoice(80.0, move_type="out_refund")
        self._book([Settlement(items=self._receivable_line(refund), amount=80.0, account=self.bad_debt,
                               source=refund, label="Refund", date=_date("2024-03-05"))])
        by_core = self._invoice(80.0, move_type="out_refund")
        self._settle_by_core(by_core, -80.0, "2024-03-05")
        # a credit note settled by an entry alone is 'reversed' for core
        self.assertRecordValues(refund + by_core, [{"payment_state": "reversed", "amount_residual": 0.0}] * 2)
        self.assertAsComputedFromScratch(refund)

        invoice = self._invoice(100.0)
        self._book([self._settlement(invoice, "2024-03-05", amount=30.0)])
        self.assertRecordValues(invoice, [{"payment_state": "partial", "amount_residual": 70.0}])
        self._book([self._settlement(invoice, "2024-03-06", amount=70.0)])
        self.assertRecordValues(invoice, [{"payment_state": "paid", "amount_residual": 0.0}])
        self.assertAsComputedFromScratch(invoice)

    def test_an_invoice_paid_then_settled_is_in_payment_as_core_says(self):
        """A bank payment not yet matched with a bank statement leaves the
        invoice 'In Payment' where that status is used (the accountant app
        turns it on through ``_get_invoice_in_payment_state``; community
        says 'Paid'); the spine settling the rest keeps core's rule."""
        Move = self.registry["account.move"]
        for in_payment in ("paid", "in_payment"):
            with self.subTest(in_payment=in_payment), \
                    patch.object(Move, "_get_invoice_in_payment_state", lambda self, state=in_payment: state):
                by_spine, by_core = self._invoice(100.0), self._invoice(100.0)
                self._pay(by_spine, 60.0, "2024-03-01")
                self._pay(by_core, 60.0, "2024-03-01")
                self.assertRecordValues(by_spine + by_core, [{"payment_state": "partial"}] * 2)
                self._book([self._settlement(by_spine, "2024-03-05")])
                self._settle_by_core(by_core, 40.0, "2024-03-05")
                self.assertRecordValues(by_spine + by_core, [
                    {"payment_state": in_payment, "amount_residual": 0.0}] * 2)
                self.assertAsComputedFromScratch(by_spine)


@tagged("post_install", "-at_install")
class TestSpineChatter(AuditTrailCase, SpineInvariantCase):
    """The invoice's chatter and the entries' Audit Trail as after core."""

    def _payment_state_changes(self, invoice):
        self.env.cr.precommit.run()
        messages = self.env["mail.message"].search([("model", "=", "account.move"), ("res_id", "=", invoice.id)])
        return [change for change in (self._tracked(message, "payment_state") for message in messages) if change]

    def test_an_invoice_settled_by_the_spine_shows_its_payment_status_as_with_core(self):
        self.assertFalse(self.company.check_account_audit_trail)
        env = self.env(context=dict(self.env.context, **NORMAL_CONTEXT))
        by_spine = self._invoice(100.0).with_env(env)
        by_core = self._invoice(100.0).with_env(env)
        partly = self._invoice(100.0).with_env(env)
        self._end_transaction()  # the invoices were posted earlier
        credit = self._outstanding_credit(self.customer, 100.0, "2024-03-05", env=env)
        by_core.js_assign_outstanding_line(credit.id)
        env.flush_all()  # as at the end of the user's request
        self._book([self._settlement(by_spine, "2024-03-05"), self._settlement(partly, "2024-03-05", 30.0)],
                   ledger=self.ledger.with_env(env))
        self.assertEqual(self._payment_state_changes(by_core), [("Not Paid", "Paid")])
        self.assertEqual(self._payment_state_changes(by_spine), [("Not Paid", "Paid")])
        self.assertEqual(self._payment_state_changes(partly), [("Not Paid", "Partially Paid")])
        self.assertEqual((by_spine + partly).mapped("amount_residual"), [0.0, 70.0])

    def test_audit_trail_entries_show_what_an_entry_posted_by_hand_shows(self):
        """test_audit_trail.py proves each entry's creation and posting are
        there; here, that they show the same tracked fields as an entry
        made and posted by hand, with numbers in the month's sequence."""
        self.company.check_account_audit_trail = True
        env = self.env(context=dict(self.env.context, **NORMAL_CONTEXT))
        invoices = self._invoice(100.0) + self._invoice(50.0)
        self._hand_entry("2024-03-01", env=env)
        # numbered when posted (not the first of the month), as the spine's entries
        by_hand = self._hand_entry("2024-03-02", env=env, post=False)
        self._end_transaction()
        by_hand.action_post()
        _result, moves = self._book([self._settlement(invoice, "2024-03-05") for invoice in invoices])
        self.assertInAuditTrail(moves)
        trail = self._audit_trail(by_hand + moves)

        def posting_fields(move):
            posting = trail.filtered(lambda m: m.res_id == move.id)[-1]
            return sorted(posting.sudo().tracking_value_ids.field_id.mapped("name"))

        hand_fields = posting_fields(by_hand)
        self.assertIn("state", hand_fields)
        self.assertIn("name", hand_fields)
        for move in moves:
            self.assertEqual(posting_fields(move), hand_fields, move.name)
            number = self._tracked(trail.filtered(lambda m, move=move: m.res_id == move.id)[-1], "name")
            if number:
                self.assertEqual(number[1], move.name)
        self.assertEqual(sorted(moves.mapped("sequence_number")), [3, 4])


@tagged("post_install", "-at_install")
class TestSpineNumberingConcurrency(CommittedDataCase):
    """Two transactions post into the Reconciliation journal, in the same
    month, at once: the second waits for the first, both post, and the
    numbers are unique and follow each other. The entries are committed in
    a month no other test uses (September 2018) and deleted afterwards."""

    MONTH = "2018-09"

    def _setup_committed_data(self, seed=True):
        """The customer of the test's entries; with ``seed``, an entry posted
        by hand (and committed) opens the month's sequence."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            self.assertTrue(company.recon_journal_id)
            self.assertFalse(env["account.move"].search_count([
                ("journal_id", "=", company.recon_journal_id.id),
                ("date", ">=", f"{self.MONTH}-01"), ("date", "<=", f"{self.MONTH}-30")]), "the month is unused")
            partner = env["res.partner"].create({"name": "Concurrent Numbering Customer"})
        self.addCleanup(self._cleanup, partner.id)
        if seed:
            with self.registry.cursor() as cr:
                self._by_hand(self._env(cr), company.id, partner.id, [5.0], 1)
        return company.id, partner.id

    def _cleanup(self, partner_id):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            moves = env["account.move.line"].search([("partner_id", "=", partner_id)]).move_id
            self._purge(cr, moves, referenced=[env["res.partner"].browse(partner_id)])

    def _by_spine(self, env, company_id, partner_id, amounts, day):
        company = env["res.company"].browse(company_id)
        partner = env["res.partner"].browse(partner_id)
        result = env["recon.ledger"]._book([Transfer(
            source=partner, company=company, partner=partner, amount=amount,
            from_account=company.recon_bad_debt_account_id, to_account=company.recon_bad_debt_account_id,
            label=f"Concurrent {amount}", date=_date(f"{self.MONTH}-{day:02d}"),
        ) for amount in amounts])
        return [move.id for move in result.moves]

    def _by_hand(self, env, company_id, partner_id, amounts, day):
        company = env["res.company"].browse(company_id)
        account = company.recon_bad_debt_account_id
        moves = env["account.move"].create([{
            "move_type": "entry", "journal_id": company.recon_journal_id.id, "company_id": company_id,
            "date": _date(f"{self.MONTH}-{day:02d}"),
            "line_ids": [Command.create({"account_id": account.id, "partner_id": partner_id, "balance": amount}),
                         Command.create({"account_id": account.id, "partner_id": partner_id, "balance": -amount})],
        } for amount in amounts])
        moves.action_post()
        return moves.ids

    def _race(self, company_id, post_first, post_second):
        """``post_first`` in one transaction; ``post_second`` in another,
        started before the first commits; return the ids each posted and
        the error of the second, if any."""
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        second, failure = [], []
        try:
            env1 = self._env(cr1)(context={"allowed_company_ids": [company_id]})
            env2 = self._env(cr2)(context={"allowed_company_ids": [company_id]})
            # both read the journal before either posts
            for env in (env1, env2):
                env["account.move"].search_count([("journal_id", "=", env.company.recon_journal_id.id)])
            first = post_first(env1)

            def run_second():
                try:
                    second.extend(post_second(env2))
                    cr2.commit()
                except Exception as exc:  # reported by the test
                    cr2.rollback()
                    failure.append(exc)

            thread = threading.Thread(target=run_second)
            # a second transaction refused by the database logs an SQL error:
            # the test reports it (failure), so it is muted here, in this thread
            with mute_logger("odoo.sql_db"):
                thread.start()
                thread.join(timeout=3)
                self.assertTrue(thread.is_alive(), "the second transaction waits for the first's numbers")
                cr1.commit()
                thread.join(timeout=60)
            self.assertFalse(thread.is_alive())
        finally:
            cr1.close()
            cr2.close()
        return first, second, failure

    def assertNumberedInOrder(self, first, second, numbers):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            moves = env["account.move"].browse(first + second).sorted("sequence_number")
            self.assertEqual(moves.mapped("state"), ["posted"] * len(moves))
            self.assertEqual(len(set(moves.mapped("sequence_prefix"))), 1)
            self.assertEqual(moves.mapped("sequence_number"), numbers)
            self.assertEqual(len(set(moves.mapped("name"))), len(moves))
            self.assertEqual(sorted(moves.browse(first).mapped("sequence_number")), numbers[:len(first)],
                             "the first to post has the first numbers")
            self.assertFalse(any(moves.mapped("made_sequence_gap")))

    def test_two_transactions_number_the_same_month_without_duplicate_or_gap(self):
        company_id, partner_id = self._setup_committed_data()
        first, second, failure = self._race(
            company_id,
            lambda env: self._by_spine(env, company_id, partner_id, [10.0, 20.0], 10),
            lambda env: self._by_spine(env, company_id, partner_id, [30.0, 40.0, 50.0], 12),
        )
        self.assertFalse(failure, failure)
        self.assertNumberedInOrder(first, second, [2, 3, 4, 5, 6])

    def test_the_spine_and_a_user_posting_by_hand_at_once(self):
        company_id, partner_id = self._setup_committed_data()
        first, second, failure = self._race(
            company_id,
            lambda env: self._by_hand(env, company_id, partner_id, [10.0], 10),
            lambda env: self._by_spine(env, company_id, partner_id, [30.0, 40.0], 12),
        )
        self.assertFalse(failure, failure)
        self.assertNumberedInOrder(first, second, [2, 3, 4])

    def test_first_entries_of_an_empty_month_number_after_each_other(self):
        """Odoo 18 names the first draft of an empty month when it is
        created and keeps that name when posting: when two transactions make
        the first entries of a month at once by hand, the second fails on
        the unique number (Odoo does not retry it), and leaves nothing. The
        spine creates its drafts unnamed and numbers them when posting,
        where core retries a taken number: the second waits for the first
        and takes the next numbers, no duplicate, no gap."""
        company_id, partner_id = self._setup_committed_data(seed=False)
        first, second, failure = self._race(
            company_id,
            lambda env: self._by_hand(env, company_id, partner_id, [10.0, 20.0], 10),
            lambda env: self._by_hand(env, company_id, partner_id, [30.0, 40.0], 12),
        )
        self.assertEqual([type(exc).__name__ for exc in failure], ["UniqueViolation"])
        self.assertFalse(second)
        self.assertNumberedInOrder(first, second, [1, 2])
        with self.registry.cursor() as cr:
            self.assertEqual(self._env(cr)["account.move.line"].search_count(
                [("partner_id", "=", partner_id)]), 4, "by hand: only the first transaction's entries")
        self._cleanup(partner_id)

        company_id, partner_id = self._setup_committed_data(seed=False)
        first, second, failure = self._race(
            company_id,
            lambda env: self._by_spine(env, company_id, partner_id, [10.0, 20.0], 10),
            lambda env: self._by_spine(env, company_id, partner_id, [30.0, 40.0], 12),
        )
        self.assertFalse(failure, failure)
        self.assertNumberedInOrder(first, second, [1, 2, 3, 4])
