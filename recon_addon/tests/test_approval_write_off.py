from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common_write_off import WriteOffCommon


@tagged("post_install", "-at_install")
class ApprovalCommon(WriteOffCommon):
    """A requester with limits, a manager whose limits cover more and one
    whose limits cover less."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = [cls.env.ref("recon_addon.recon_addon_group_manager").id,
                  cls.env.ref("account.group_account_invoice").id]

        def manager(login, write_off_limit, batch_limit):
            return cls.env["res.users"].create({
                "name": login.replace("_", " ").title(), "login": login, "email": f"{login}@example.com",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)], "groups_id": [(6, 0, groups)],
                "recon_write_off_limit": write_off_limit, "recon_batch_limit": batch_limit,
            })

        cls.requester = manager("wo_requester", 100.0, 200.0)
        cls.approver = manager("wo_approver", 1000.0, 1000.0)
        cls.low_approver = manager("wo_low_approver", 50.0, 100.0)

    def _reject(self, record, user, reason="Customer is paying after all"):
        action = record.with_user(user).action_reject()
        wizard = self.env["recon.reject.wizard"].with_user(user).with_context(**action["context"]).create(
            {"reason": reason})
        wizard.action_confirm()

    def _assert_open(self, invoices, residuals):
        self.assertEqual(invoices.mapped("amount_residual"), residuals)
        self.assertEqual(set(invoices.mapped("payment_state")), {"not_paid"})
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), sum(residuals))
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 0.0)


@tagged("post_install", "-at_install")
class TestWriteOffApproval(ApprovalCommon):

    def _request(self, amount):
        invoice = self._overdue_invoice(amount, days_overdue=200)
        invoice.with_user(self.requester).action_write_off(reason=self.reason)
        return invoice, invoice.recon_write_off_ids

    def test_under_the_limit_posts_at_once(self):
        invoice, write_off = self._request(80.0)
        self.assertRecordValues(write_off, [{"state": "posted", "requested_by_id": False}])
        self.assertFalse(write_off.activity_ids)
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 80.0)

    def test_over_the_limit_waits_and_posts_nothing(self):
        invoice, write_off = self._request(150.0)
        self.assertRecordValues(write_off, [{"state": "to_approve", "move_id": False,
                                             "requested_by_id": self.requester.id}])
        self._assert_open(invoice, [150.0])
        askees = write_off.activity_ids.user_id
        self.assertIn(self.approver, askees)
        self.assertNotIn(self.requester, askees)
        self.assertNotIn(self.low_approver, askees)
        self.assertIn("waits for approval", write_off.message_ids[0].body)
        # the invoice stays reserved: it cannot be written off a second time
        with self.assertRaisesRegex(UserError, "waits for approval"):
            invoice.with_user(self.approver).action_write_off(reason=self.reason)
        self.assertEqual(len(invoice.recon_write_off_ids), 1)
        self._assert_open(invoice, [150.0])

    def test_approval_by_a_manager_whose_limit_covers_it_posts(self):
        invoice, write_off = self._request(150.0)
        self.assertTrue(write_off.with_user(self.approver).action_approve())
        self.assertRecordValues(write_off, [{"state": "posted", "approved_by_id": self.approver.id,
                                             "amount": 150.0}])
        self.assertFalse(write_off.activity_ids)
        self.assertRecordValues(write_off.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "balance": -150.0, "reconciled": True},
            {"account_id": self.bad_debt.id, "balance": 150.0, "reconciled": False},
        ])
        self.assertRecordValues(invoice, [{"amount_residual": 0.0, "payment_state": "paid"}])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 150.0)

    def test_approval_is_refused_to_a_low_limit_and_to_the_requester(self):
        invoice, write_off = self._request(150.0)
        with self.assertRaisesRegex(AccessError, "above your limit"):
            write_off.with_user(self.low_approver).action_approve()
        with self.assertRaisesRegex(AccessError, "cannot approve"):
            write_off.with_user(self.requester).action_approve()
        with self.assertRaises(AccessError):
            write_off.with_user(self.clerk).action_approve()
        self.assertRecordValues(write_off, [{"state": "to_approve", "move_id": False}])
        self._assert_open(invoice, [150.0])

    def test_reject_posts_nothing_and_frees_the_invoice(self):
        invoice, write_off = self._request(150.0)
        with self.assertRaises(AccessError):
            write_off.with_user(self.requester).action_reject()
        self._reject(write_off, self.approver)
        self.assertRecordValues(write_off, [{"state": "rejected", "move_id": False,
                                             "rejected_by_id": self.approver.id,
                                             "reject_reason": "Customer is paying after all"}])
        self.assertFalse(write_off.activity_ids)
        self._assert_open(invoice, [150.0])
        with self.assertRaisesRegex(UserError, "not waiting for approval"):
            write_off.with_user(self.approver).action_approve()
        # free again: written off by a manager whose limit covers it
        invoice.with_user(self.approver).action_write_off(reason=self.reason)
        self.assertEqual(sorted(invoice.recon_write_off_ids.mapped("state")), ["posted", "rejected"])
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 150.0)


@tagged("post_install", "-at_install")
class TestBatchApproval(ApprovalCommon):

    def _confirm(self, invoices, user=None):
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(user or self.requester).create({
            "file": self._file("\n".join(invoices.mapped("name"))), "filename": "accounts.txt",
            "reason_id": self.reason.id})
        wizard.action_preview()
        action = wizard.action_confirm()
        return wizard.batch_id, action

    def _waiting(self):
        invoices = self._overdue_invoice(150.0, days_overdue=200) + self._overdue_invoice(100.0, days_overdue=300)
        batch, action = self._confirm(invoices)
        self.assertEqual(action["params"]["type"], "warning")
        return invoices, batch

    def test_under_the_batch_limit_posts_at_once(self):
        # each above the requester's single write-off limit, together within the batch limit
        invoices = self._overdue_invoice(120.0, days_overdue=200) + self._overdue_invoice(60.0, days_overdue=300)
        batch, _action = self._confirm(invoices)
        self.assertRecordValues(batch, [{"state": "done", "count_written_off": 2, "amount_total": 180.0}])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 180.0)

    def test_over_the_batch_limit_waits_and_posts_nothing(self):
        invoices, batch = self._waiting()
        self.assertRecordValues(batch, [{"state": "to_approve", "requested_by_id": self.requester.id,
                                         "count_written_off": 0, "count_pending": 2}])
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"draft"})
        self.assertFalse(batch.write_off_ids.move_id)
        self._assert_open(invoices, [150.0, 100.0])
        askees = batch.activity_ids.user_id
        self.assertIn(self.approver, askees)
        self.assertNotIn(self.requester, askees)
        self.assertNotIn(self.low_approver, askees)
        # the scheduler leaves it alone
        self.env["recon.write.off.batch"].sudo()._cron_process_runs()
        self._assert_open(invoices, [150.0, 100.0])
        # the invoices stay reserved: another batch cannot write them off
        wizard = self.env["recon.bulk.write.off.wizard"].with_user(self.approver).create({
            "file": self._file(invoices[0].name), "filename": "again.txt", "reason_id": self.reason.id})
        wizard.action_preview()
        self.assertRecordValues(wizard.line_ids, [{"eligible": False, "reason": "terminated"}])

    def test_approval_posts_the_batch(self):
        invoices, batch = self._waiting()
        with self.assertRaisesRegex(AccessError, "above your limit"):
            batch.with_user(self.low_approver).action_approve()
        with self.assertRaisesRegex(AccessError, "cannot approve"):
            batch.with_user(self.requester).action_approve()
        self._assert_open(invoices, [150.0, 100.0])

        self.assertTrue(batch.with_user(self.approver).action_approve())
        self.assertRecordValues(batch, [{"state": "done", "approved_by_id": self.approver.id,
                                         "count_written_off": 2, "amount_total": 250.0}])
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"posted"})
        self.assertRecordValues(invoices, [{"amount_residual": 0.0, "payment_state": "paid"}] * 2)
        receivables = invoices.line_ids.filtered(lambda line: line.account_id == self.receivable)
        self.assertEqual(receivables.mapped("reconciled"), [True, True])
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer), 0.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 250.0)

    def test_reject_posts_nothing_and_frees_the_invoices(self):
        invoices, batch = self._waiting()
        self._reject(batch, self.approver, reason="Wrong file")
        self.assertRecordValues(batch, [{"state": "rejected", "rejected_by_id": self.approver.id,
                                         "reject_reason": "Wrong file", "count_written_off": 0,
                                         "count_pending": 0}])
        self.assertEqual(set(batch.write_off_ids.mapped("state")), {"rejected"})
        self.assertFalse(batch.write_off_ids.move_id)
        self.assertFalse(batch.activity_ids)
        self._assert_open(invoices, [150.0, 100.0])
        with self.assertRaisesRegex(UserError, "never posted"):
            batch.with_user(self.approver).action_undo()
        # free again: a new batch writes them off
        again, _action = self._confirm(invoices, user=self.approver)
        self.assertRecordValues(again, [{"state": "done", "count_written_off": 2}])
        self.assertEqual(invoices.mapped("amount_residual"), [0.0, 0.0])
        self.assertAlmostEqual(self._account_balance(self.bad_debt), 250.0)
