"""The entries the addon posts are in Odoo's Audit Trail.

With the company's audit trail on (Accounting > Settings > Audit Trail),
each entry shows, in Accounting > Reporting > Audit Trail, what an entry
made and posted by hand shows: its creation and its posting (Draft to
Posted, its number), in one note since they happen together, and the
invoices it settles show their new payment status. With the
audit trail off, the entries are posted without chatter.

The tests' environment switches mail tracking off (as Odoo's test classes
do): the entries must be in the trail whatever the caller's context says.
"""
from datetime import datetime
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.recon_addon.models.recon_ledger import Settlement

from .common import ReconCommon
from .common_write_off import WriteOffCommon
from .reward_common import RewardCommon
from .test_adjustment_rule import AdjustmentCommon
from .test_threshold_rule import ThresholdCommon


class AuditTrailCase:
    """Reads the trail as the Audit Trail menu does."""

    def _audit_trail(self, moves):
        """The Audit Trail report's lines of ``moves``, oldest first, once
        what core logs when the transaction ends is logged."""
        self.env.cr.precommit.run()
        # the menu reads what was committed (the company's audit trail
        # setting of the test included)
        self.env.flush_all()
        action = self.env.ref("account.action_account_audit_trail_report")
        return self.env["mail.message"].search(safe_eval(action.domain) + [
            ("model", "=", "account.move"),
            ("res_id", "in", moves.ids),
        ], order="id")

    def _tracked(self, message, field_name):
        """(old, new) of ``field_name`` in ``message``, as the report shows them."""
        values = message.sudo().tracking_value_ids.filtered(lambda t: t.field_id.name == field_name)
        if not values:
            return None
        formatted = values._tracking_value_format()[0]
        return formatted["oldValue"]["value"], formatted["newValue"]["value"]

    def assertInAuditTrail(self, moves):
        """Each of ``moves`` shows its creation and its posting (Draft to
        Posted, its number), logged together as they happened together (a
        reversal also, first, the note of what it reverses)."""
        self.assertTrue(moves)
        trail = self._audit_trail(moves)
        for move in moves:
            mine = trail.filtered(lambda m, move=move: m.res_id == move.id)
            if move.reversed_entry_id:
                # Odoo's own reversal notes what it reverses, as one made by hand
                self.assertEqual(len(mine), 2, f"{move.name}: its origin, then its creation and posting")
                reversed_note = mine[0]
                self.assertEqual(reversed_note.account_audit_log_preview,
                                 f"This entry has been reversed from {move.reversed_entry_id.display_name}\n")
                mine -= reversed_note
            self.assertEqual(len(mine), 1, f"{move.name}: its creation and posting")
            self.assertRecordValues(mine, [
                {"model": "account.move", "res_id": move.id, "message_type": "notification",
                 "subtype_id": self.env.ref("mail.mt_note").id, "author_id": self.env.user.partner_id.id},
            ])
            self.assertTrue(mine.account_audit_log_preview.startswith("Journal Entry created\n"))
            self.assertEqual(self._tracked(mine, "state"), ("Draft", "Posted"))
            self.assertIn("Draft ⇨ Posted (Status)", mine.account_audit_log_preview)
            number = self._tracked(mine, "name")
            if number:  # a move numbered when posted shows its number there
                self.assertEqual(number[1], move.name)
            self.assertEqual(mine.account_audit_log_move_id, move)

    def assertNotInAuditTrail(self, moves):
        self.assertTrue(moves)
        self.assertFalse(self._audit_trail(moves))
        self.assertFalse(self.env["mail.message"].search_count([
            ("model", "=", "account.move"), ("res_id", "in", moves.ids)]), "no chatter at all: the fast path")

    def _end_transaction(self):
        """What core logs when a transaction ends; the invoices a test makes
        are then as if posted in an earlier transaction, as in real use (a
        record made with tracking off is not tracked in its own transaction)."""
        self.env.cr.precommit.run()

    def assertPaymentStateTracked(self, invoice, old, new):
        trail = self._audit_trail(invoice)
        self.assertIn((old, new), [self._tracked(message, "payment_state") for message in trail],
                      f"{invoice.name}: its payment status change is in the audit trail")


@tagged("post_install", "-at_install")
class TestSpineAuditTrail(AuditTrailCase, ReconCommon):

    def _settle(self, invoices, amounts=None):
        amounts = amounts or invoices.mapped("amount_residual")
        return self.env["recon.ledger"]._book([
            Settlement(items=self._receivable_line(invoice), amount=amount, account=self.bad_debt,
                       source=invoice, label=f"Write-off {invoice.name}",
                       date=fields.Date.from_string("2024-03-01"))
            for invoice, amount in zip(invoices, amounts, strict=False)
        ])

    def test_with_the_audit_trail_each_entry_shows_its_creation_and_posting(self):
        self.company.check_account_audit_trail = True
        invoices = self._invoice(100.0) + self._invoice(50.0, partner=self.customer_b)
        self._end_transaction()
        result = self._settle(invoices, [100.0, 20.0])
        moves = self.env["account.move"].union(*result.moves)
        self.assertRecordValues(moves, [{"state": "posted"}, {"state": "posted"}])
        self.assertInAuditTrail(moves)
        self.assertPaymentStateTracked(invoices[0], "Not Paid", "Paid")
        self.assertPaymentStateTracked(invoices[1], "Not Paid", "Partially Paid")

    def test_without_the_audit_trail_entries_are_posted_without_chatter(self):
        self.assertFalse(self.company.check_account_audit_trail)
        invoice = self._invoice(100.0)
        result = self._settle(invoice)
        self.assertRecordValues(result.moves[0], [{"state": "posted"}])
        self.assertRecordValues(invoice, [{"payment_state": "paid"}])
        self.assertNotInAuditTrail(result.moves[0])

    def test_a_request_that_fails_while_posting_leaves_no_trail_and_the_others_theirs(self):
        self.company.check_account_audit_trail = True
        open_a, open_b = self._invoice(20.0), self._invoice(30.0)
        self._end_transaction()
        inactive = self.company_data["default_journal_misc"].copy({"code": "LOCK"})
        inactive.active = False
        ledger = self.env["recon.ledger"]
        entries = [ledger._entry(Settlement(
            items=self._receivable_line(invoice), amount=invoice.amount_residual, account=self.bad_debt,
            source=invoice, label="x", date=fields.Date.from_string("2024-03-01"),
        )) for invoice in (open_a, open_b)]
        entries[0].journal = inactive
        moves_before = self.env["account.move"].search([]).ids
        result = ledger._book(entries, isolate=True)
        self.assertTrue(result.errors[0])
        self.assertFalse(result.moves[0])
        self.assertInAuditTrail(result.moves[1])
        self.assertEqual(open_a.amount_residual, 20.0)
        # nothing is left of the failed entry, not even a message
        new_moves = self.env["account.move"].search([("id", "not in", moves_before)])
        self.assertEqual(new_moves, result.moves[1])
        self.assertFalse(self.env["mail.message"].search_count([
            ("model", "=", "account.move"), ("res_id", "not in", moves_before + new_moves.ids),
            ("res_id", ">", max(moves_before))]))

    def test_the_trail_is_written_in_batch_not_one_message_per_entry_at_a_time(self):
        """Ten entries cost the same number of message inserts as one: the
        entries' creation and posting in one, the invoices' payment status in
        one."""
        self.company.check_account_audit_trail = True
        Message = self.registry["mail.message"]
        create = Message.create
        calls = []

        def counting_create(records, vals_list):
            calls.append(len(vals_list) if isinstance(vals_list, list) else 1)
            return create(records, vals_list)

        counted = {}
        for n in (1, 10):
            invoices = self.env["account.move"].union(*(self._invoice(10.0 + i) for i in range(n)))
            self._end_transaction()  # the invoices' own trail is not counted
            calls.clear()
            with patch.object(Message, "create", counting_create):
                result = self._settle(invoices)
            counted[n] = list(calls)
            self.assertInAuditTrail(self.env["account.move"].union(*result.moves))
        self.assertEqual(counted[1], [1, 1])
        self.assertEqual(counted[10], [10, 10], "one insert of ten messages for the entries' creation and "
                                                "posting, one for the invoices paid")


@tagged("post_install", "-at_install")
class TestDeductionAuditTrail(AuditTrailCase, ThresholdCommon):

    def test_breakout_clearing_and_resolution_entries_are_in_the_audit_trail(self):
        self.company.check_account_audit_trail = True
        invoice = self._invoice(100.0, date="2024-03-01")
        self._end_transaction()
        transaction = self._transaction([60.0, 25.0, 15.0], invoices=invoice, breakout=True)
        self.assertInAuditTrail(transaction.move_id)
        self.assertPaymentStateTracked(invoice, "Not Paid", "Paid")

        resolution = self.env["recon.deduction.line"].browse(self._by_amount(transaction, 60.0).resolve(
            "write_off", 60.0, fund_type_id=self.fund_type.id, reason_id=self.reason.id))
        self.assertInAuditTrail(resolution.move_id)

        run = self._run(transaction)
        cleared = self._by_amount(transaction, 25.0) + self._by_amount(transaction, 15.0)
        self.assertRecordValues(cleared, [{"state": "resolved"}] * 2)
        clearing = cleared.line_ids.move_id
        self.assertRecordValues(clearing, [{"state": "posted", "recon_source_model": "recon.threshold.run",
                                            "recon_source_id": run.id}])
        self.assertInAuditTrail(clearing)

    def test_below_threshold_run_on_invoices_is_in_the_audit_trail(self):
        self.company.check_account_audit_trail = True
        invoice = self._invoice(1000.0, date="2024-03-05")
        self._pay(invoice, 960.0)  # the rule clears what a short payment leaves
        self._end_transaction()
        action = invoice.action_run_below_threshold()
        run = self.env["recon.threshold.run"].browse(action["res_id"])
        self.assertInAuditTrail(run.line_ids.move_id)
        self.assertPaymentStateTracked(invoice, "Partially Paid", "Paid")

    def test_without_the_audit_trail_the_run_posts_without_chatter(self):
        transaction = self._transaction([60.0, 25.0], breakout=True)
        self._run(transaction)
        clearing = transaction.deduction_ids.line_ids.move_id
        self.assertEqual(len(clearing), 1)
        self.assertNotInAuditTrail(transaction.move_id + clearing)


@tagged("post_install", "-at_install")
class TestWriteOffAuditTrail(AuditTrailCase, WriteOffCommon):

    def test_single_and_bulk_write_offs_are_in_the_audit_trail(self):
        self.company.check_account_audit_trail = True
        single = self._overdue_invoice(120.0, days_overdue=200)
        bulk = self._overdue_invoice(300.0, days_overdue=400, partner=self.customer_b)
        self._end_transaction()
        single.action_write_off(reason=self.reason)
        self.assertInAuditTrail(single.recon_write_off_ids.move_id)
        self.assertPaymentStateTracked(single, "Not Paid", "Paid")

        wizard = self.env["recon.bulk.write.off.wizard"].create({
            "file": self._file(f"Account ID\n{bulk.name}\n"), "filename": "accounts.csv",
            "reason_id": self.reason.id})
        wizard.action_preview()
        wizard.action_confirm()
        self.assertRecordValues(wizard.batch_id, [{"count_written_off": 1}])
        self.assertInAuditTrail(wizard.batch_id.write_off_ids.move_id)
        self.assertPaymentStateTracked(bulk, "Not Paid", "Paid")

    def test_without_the_audit_trail_write_offs_post_without_chatter(self):
        invoice = self._overdue_invoice(120.0, days_overdue=200)
        invoice.action_write_off(reason=self.reason)
        self.assertNotInAuditTrail(invoice.recon_write_off_ids.move_id)


@tagged("post_install", "-at_install")
class TestAdjustmentAuditTrail(AuditTrailCase, AdjustmentCommon):

    def test_adjustments_are_in_the_audit_trail(self):
        self.company.check_account_audit_trail = True
        rule = self._rule()
        invoice = self._coded_invoice([(self.principal, 100.0)])
        self._coded_invoice([(self.principal, 200.0)], partner=self.customer_b)
        self._end_transaction()
        self._cron(datetime(2024, 3, 1, 0, 10))
        increases = self._adjustments(rule)
        self.assertEqual(len(increases), 2)
        self.assertInAuditTrail(increases.move_id)

        # a decrease takes only its own line item code: the principal
        credit = self._rule(name="Settlement credit", value=-500.0, product_id=self.principal.id)
        self._run(credit, "2024-03-01")
        decreases = self._adjustments(credit)
        self.assertEqual(decreases.mapped("amount"), [-100.0, -200.0])
        self.assertInAuditTrail(decreases.move_id)
        self.assertPaymentStateTracked(invoice, "Not Paid", "Paid")

    def test_without_the_audit_trail_adjustments_post_without_chatter(self):
        rule = self._rule()
        self._account(100.0)
        self._cron(datetime(2024, 3, 1, 0, 10))
        self.assertNotInAuditTrail(self._adjustments(rule).move_id)


@tagged("post_install", "-at_install")
class TestRewardAuditTrail(AuditTrailCase, RewardCommon):

    def test_rewards_their_reversal_and_their_clearing_are_in_the_audit_trail(self):
        self.company.check_account_audit_trail = True
        draw = self._reward(1000.0, date="2024-01-10")
        reversed_draw = self._reward(200.0, date="2024-01-12")
        reversed_draw.action_reverse()
        self.assertInAuditTrail(draw.move_id + reversed_draw.move_id + reversed_draw.reversal_move_id)

        action = self.rep.action_clear_recoverable_balance()
        self._clear_wizard(action).action_confirm()
        self.assertTrue(draw.clearing_id.move_id)
        self.assertInAuditTrail(draw.clearing_id.move_id)

    def test_without_the_audit_trail_rewards_post_without_chatter(self):
        draw = self._reward(1000.0, date="2024-01-10")
        self.assertNotInAuditTrail(draw.move_id)
