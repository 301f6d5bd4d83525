import base64
import codecs
import csv
import io
from contextlib import closing
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from hypothesis import given, strategies as st

from odoo import SUPERUSER_ID
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.recon_addon.services.upload import parse_upload

from .common_write_off import WriteOffCommon
from .upload_strategies import FORMULA_REFS, hostile_files, hostile_settings, write_csv


@tagged("post_install", "-at_install")
class TestBulkWriteOff(WriteOffCommon):
    """Collections > Bulk Write-off: upload, preview, confirm."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eligible_old = cls._overdue_invoice(300.0, days_overdue=400, partner=cls.customer)
        cls.eligible_new = cls._overdue_invoice(120.0, days_overdue=95, partner=cls.customer_b)
        cls.not_in_default = cls._overdue_invoice(40.0, days_overdue=30)
        cls.paid = cls._overdue_invoice(60.0, days_overdue=200)
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.paid.ids,
        ).create({"payment_date": cls.today})._create_payments()
        cls.written_off = cls._overdue_invoice(70.0, days_overdue=200)
        cls.written_off.action_write_off(reason=cls.reason)

    def _wizard(self, text, filename="accounts.csv", user=None, encoding="utf-8"):
        Wizard = self.env["recon.bulk.write.off.wizard"]
        if user:
            Wizard = Wizard.with_user(user)
        return Wizard.create({"file": self._file(text, encoding), "filename": filename, "reason_id": self.reason.id})

    def _preview(self, text, **kwargs):
        wizard = self._wizard(text, **kwargs)
        wizard.action_preview()
        return wizard

    def _mixed_file(self):
        return "\n".join([
            "Account ID;Customer",
            f"{self.not_in_default.name};x",
            f"{self.eligible_old.name};x",
            "INV/1999/99999;unknown",
            f"{self.paid.name};x",
            f"{self.eligible_new.name};x",
            f"{self.written_off.name};x",
            "",
        ])

    # 1. upload ---------------------------------------------------------
    def test_one_account_per_line_txt(self):
        wizard = self._preview(f"{self.eligible_old.name}\n\n  {self.eligible_new.name}  \n", filename="ids.txt")
        self.assertEqual(wizard.line_ids.mapped("invoice_id"), self.eligible_new + self.eligible_old)

    def test_latin1_csv_with_comma(self):
        wizard = self._preview(f"Client,Invoice\nCrème Brûlée,{self.eligible_old.name}\n", encoding="latin-1")
        self.assertEqual(wizard.line_ids.invoice_id, self.eligible_old)

    def test_utf8_bom_csv(self):
        data = codecs.BOM_UTF8 + f"Number\n{self.eligible_old.name}\n".encode()
        wizard = self._preview(data)
        self.assertEqual(wizard.line_ids.invoice_id, self.eligible_old)

    def test_duplicates_are_listed_once_and_reported(self):
        name = self.eligible_old.name
        wizard = self._preview(f"{name}\n{name}\n{self.eligible_new.name}\n{name}\n", filename="ids.txt")
        self.assertEqual(len(wizard.line_ids), 2)
        self.assertIn(f"{name} is listed 3 times (lines 1, 2, 4); it is written off once.", wizard.upload_notes)
        self.assertEqual(wizard.count_listed, 2)

    def test_binary_file_is_refused(self):
        wizard = self._wizard(b"PK\x03\x04\x00\x00\x08\x00" + bytes(range(40)), filename="accounts.csv")
        with self.assertRaisesRegex(UserError, "accounts.csv is not a text file"):
            wizard.action_preview()
        self.assertEqual(wizard.state, "upload")

    def test_empty_file_is_refused(self):
        wizard = self._wizard(b"\n \n", filename="accounts.csv")
        with self.assertRaisesRegex(UserError, "accounts.csv lists no account"):
            wizard.action_preview()

    def test_file_of_zero_bytes_is_refused_as_empty(self):
        wizard = self._wizard(b"", filename="accounts.csv")
        with self.assertRaisesRegex(UserError, "accounts.csv lists no account"):
            wizard.action_preview()

    def test_missing_file_is_refused(self):
        wizard = self.env["recon.bulk.write.off.wizard"].create({"reason_id": self.reason.id})
        with self.assertRaisesRegex(UserError, "Choose the file"):
            wizard.action_preview()

    def test_spreadsheet_file_is_refused(self):
        wizard = self._wizard(b"PK\x03\x04", filename="accounts.xlsx")
        with self.assertRaisesRegex(UserError, r"accounts.xlsx is not a .csv or .txt file"):
            wizard.action_preview()

    # hostile files -------------------------------------------------------
    def test_nul_byte_is_refused_naming_the_file_and_line(self):
        wizard = self._wizard(f"{self.eligible_old.name}\nINV\x00/2\n", filename="accounts.csv")
        with self.assertRaisesRegex(UserError, r"accounts.csv is not a text file: line 2 holds a control "
                                               r"character \(U\+0000\)\. Save the list as CSV"):
            wizard.action_preview()
        self.assertEqual(wizard.state, "upload")

    def test_100_kb_line_is_skipped_and_the_others_previewed(self):
        wizard = self._preview(f"{self.eligible_old.name}\n{'X' * 100_000}\n{self.eligible_new.name}\n",
                               filename="ids.txt")
        self.assertEqual(wizard.line_ids.invoice_id, self.eligible_old + self.eligible_new)
        self.assertIn("Line 2: \"XXXXXXXXXXXXXXXXXXXX…\" is too long to be an account ID", wizard.upload_notes)

    def test_utf16_file_without_bom_is_previewed(self):
        wizard = self._preview(f"Account\r\n{self.eligible_old.name}\r\n", encoding="utf-16-le")
        self.assertEqual(wizard.line_ids.invoice_id, self.eligible_old)

    @hostile_settings(40)
    @given(data=st.data())
    def test_preview_of_a_hostile_file_is_a_clear_error_or_rows_and_posts_nothing(self, data):
        """Random bytes, any text in any encoding, NUL bytes, 100 kB lines,
        formula cells, empty and header-only files, 2,001 accounts: the
        preview raises a UserError naming the file, or lists what the
        file holds; it never posts, whatever the file."""
        known = (self.eligible_old + self.eligible_new + self.not_in_default + self.paid).mapped("name")
        content, filename = data.draw(hostile_files(known_refs=known), label="upload")
        moves = self.env["account.move"].search_count([])
        write_offs = self.env["recon.write.off"].search_count([])
        with closing(self.env.cr.savepoint()):
            wizard = self._wizard(content, filename=filename)
            try:
                wizard.action_preview()
            except UserError as error:
                self.assertIn(filename, str(error))
                self.assertRecordValues(wizard, [{"state": "upload", "count_listed": 0}])
            else:
                rows, _errors = parse_upload(content, filename)
                self.assertEqual(wizard.state, "preview")
                self.assertEqual(sorted(wizard.line_ids.mapped("account_ref")), sorted(row.ref for row in rows))
                self.assertLessEqual(wizard.line_ids.filtered("eligible").invoice_id,
                                     self.eligible_old + self.eligible_new)
            self.assertEqual(self.env["account.move"].search_count([]), moves, "a preview posts nothing")
            self.assertEqual(self.env["recon.write.off"].search_count([]), write_offs)

    @hostile_settings(6)
    @given(refs=st.lists(FORMULA_REFS, min_size=1, max_size=4, unique=True))
    def test_formula_references_are_unknown_accounts_and_exported_as_text(self, refs):
        """=HYPERLINK(…), +1, -2+3, @SUM(…) are never evaluated: they name
        no invoice, and the failure list writes them as text."""
        with closing(self.env.cr.savepoint()):
            text = write_csv([["Account"], [self.eligible_old.name], *([ref] for ref in refs)], delimiter=",")
            wizard = self._preview(text)
            unknown = wizard.line_ids - wizard.line_ids.filtered("invoice_id")
            self.assertEqual(sorted(unknown.mapped("account_ref")), sorted(refs))
            self.assertEqual(set(unknown.mapped("reason")), {"not_found"})
            wizard.action_confirm()
            self.assertEqual(wizard.batch_id.write_off_ids.invoice_id, self.eligible_old)
            rows = list(csv.reader(io.StringIO(
                base64.b64decode(wizard.batch_id.failure_file).decode("utf-8-sig"), newline="")))
            self.assertEqual(sorted(rows[1:]), sorted(
                ["'" + ref, "", "Not Eligible", "Account ID doesn't exist"] for ref in refs))

    # 3. the 2,000 limit ------------------------------------------------
    def test_2000_accounts_are_previewed(self):
        refs = [self.eligible_old.name] + [f"NOPE/{i:05d}" for i in range(1999)]
        wizard = self._preview("\n".join(refs), filename="ids.txt")
        self.assertEqual(wizard.count_listed, 2000)
        self.assertEqual(wizard.count_eligible, 1)
        self.assertEqual(wizard.line_ids[0].invoice_id, self.eligible_old)

    def test_2001_accounts_are_refused_with_count_and_limit_and_nothing_kept(self):
        refs = [f"NOPE/{i:05d}" for i in range(2001)]
        wizard = self._wizard("\n".join(refs), filename="ids.txt")
        with self.assertRaisesRegex(UserError, "lists 2001 accounts; one file may list at most 2000"):
            wizard.action_preview()
        self.assertFalse(wizard.line_ids)
        self.assertEqual(wizard.state, "upload")

    # 2. preview ----------------------------------------------------------
    def test_preview_rows_reasons_order_and_totals(self):
        moves_before = self.env["account.move"].search_count([])
        wizard = self._preview(self._mixed_file())
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "preview posts nothing")
        self.assertRecordValues(wizard, [{
            "state": "preview", "count_listed": 6, "count_eligible": 2, "count_ineligible": 4,
            "amount_eligible": 420.0,
        }])
        lines = wizard.line_ids
        self.assertEqual(lines.mapped("account_ref"), [
            self.not_in_default.name, self.eligible_new.name, self.paid.name, self.written_off.name,
            self.eligible_old.name, "INV/1999/99999"])
        self.assertRecordValues(lines, [
            {"invoice_id": self.not_in_default.id, "partner_id": self.customer.id,
             "days_since_default": -60, "open_amount": 40.0, "eligible": False, "reason": "not_in_default"},
            {"invoice_id": self.eligible_new.id, "partner_id": self.customer_b.id,
             "days_since_default": 5, "open_amount": 120.0, "eligible": True, "reason": False},
            {"invoice_id": self.paid.id, "partner_id": self.customer.id,
             "days_since_default": 110, "open_amount": 0.0, "eligible": False, "reason": "settled"},
            {"invoice_id": self.written_off.id, "partner_id": self.customer.id,
             "days_since_default": 110, "open_amount": 0.0, "eligible": False, "reason": "terminated"},
            {"invoice_id": self.eligible_old.id, "partner_id": self.customer.id,
             "days_since_default": 310, "open_amount": 300.0, "eligible": True, "reason": False},
            {"invoice_id": False, "partner_id": False,
             "days_since_default": 0, "open_amount": 0.0, "eligible": False, "reason": "not_found"},
        ])
        self.assertEqual(lines.mapped("fulfilment_centre"), [self.company.name] * 5 + [False])

    def test_repossessed_account_is_eligible_whatever_its_days(self):
        repossessed = self._overdue_invoice(80.0, days_overdue=30, partner=self.customer_b)
        repossessed.collection_status_id = self.env.ref("recon_addon.recon_collection_status_repossessed")
        wizard = self._preview(f"{repossessed.name}\n{self.not_in_default.name}\n{self.eligible_new.name}\n",
                               filename="ids.txt")
        self.assertRecordValues(wizard.line_ids.sorted("open_amount"), [
            {"invoice_id": self.not_in_default.id, "days_since_default": -60,
             "default_check": "not_in_default", "open_amount": 40.0, "eligible": False,
             "reason": "not_in_default"},
            {"invoice_id": repossessed.id, "days_since_default": -60, "default_check": "repossessed",
             "open_amount": 80.0, "eligible": True, "reason": False},
            {"invoice_id": self.eligible_new.id, "days_since_default": 5, "default_check": "in_default",
             "open_amount": 120.0, "eligible": True, "reason": False},
        ])
        self.assertRecordValues(wizard, [{"count_eligible": 2, "amount_eligible": 200.0}])

    def test_repossessed_account_is_written_off_and_the_same_days_without_is_not(self):
        repossessed = self._overdue_invoice(80.0, days_overdue=30, partner=self.customer_b)
        repossessed.collection_status_id = self.env.ref("recon_addon.recon_collection_status_repossessed")
        bad_debt_before = self._account_balance(self.bad_debt)
        wizard = self._preview(f"{repossessed.name}\n{self.not_in_default.name}\n", filename="ids.txt")
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertRecordValues(batch, [{"count_written_off": 1, "count_failed": 1, "amount_total": 80.0}])
        self.assertRecordValues(batch.write_off_ids.move_id.line_ids.sorted("balance"), [
            {"account_id": self.receivable.id, "partner_id": self.customer_b.id, "balance": -80.0,
             "reconciled": True},
            {"account_id": self.bad_debt.id, "partner_id": self.customer_b.id, "balance": 80.0,
             "reconciled": False},
        ])
        self.assertRecordValues(repossessed + self.not_in_default, [
            {"amount_residual": 0.0, "payment_state": "paid"},
            {"amount_residual": 40.0, "payment_state": "not_paid"},
        ])
        self.assertAlmostEqual(self._account_balance(self.bad_debt) - bad_debt_before, 80.0)
        self.assertRecordValues(batch.failure_ids, [{
            "account_ref": self.not_in_default.name, "stage": "preview",
            "reason": "Account is not in default"}])

    def test_repossession_lifted_after_the_preview_fails_at_posting(self):
        repossessed = self._overdue_invoice(80.0, days_overdue=30)
        repossessed.collection_status_id = self.env.ref("recon_addon.recon_collection_status_repossessed")
        wizard = self._preview(f"{repossessed.name}\n{self.eligible_old.name}\n", filename="ids.txt")
        repossessed.collection_status_id = self.env.ref("recon_addon.recon_collection_status_active")
        wizard.action_confirm()
        self.assertRecordValues(wizard.batch_id.failure_ids, [{
            "invoice_id": repossessed.id, "stage": "posting", "reason": "Account is not in default"}])
        self.assertEqual(repossessed.amount_residual, 80.0)
        self.assertEqual(wizard.batch_id.write_off_ids.invoice_id, self.eligible_old)

    def test_other_companys_invoice_reads_as_not_existing(self):
        other = self.setup_other_company(name="Northern Branch")["company"]
        foreign = self.init_invoice("out_invoice", partner=self.customer, amounts=[10.0], taxes=[],
                                    invoice_date=self.today - relativedelta(days=300), company=other)
        foreign.name = "NB/INV/0001"
        foreign.action_post()
        wizard = self._preview(f"{foreign.name}\nNB/INV/0404\n", filename="ids.txt")
        self.assertEqual(wizard.line_ids.mapped("reason"), ["not_found", "not_found"])
        self.assertEqual(set(wizard.line_ids.mapped(lambda line: line._reason_label())), {"Account ID doesn't exist"})
        self.assertFalse(wizard.line_ids.invoice_id)

    def test_reason_labels_are_the_issue_words(self):
        labels = dict(self.env["recon.bulk.write.off.wizard.line"]._fields["reason"].selection)
        self.assertEqual([labels[code] for code in ("not_found", "not_in_default", "terminated", "settled")], [
            "Account ID doesn't exist", "Account is not in default",
            "Account has already been terminated", "Nothing left open",
        ])

    def test_preview_again_after_another_upload_replaces_the_rows(self):
        wizard = self._preview(self.eligible_old.name, filename="ids.txt")
        wizard.action_upload_again()
        self.assertRecordValues(wizard, [{"state": "upload", "file": False, "count_listed": 0}])
        wizard.file = self._file(self.eligible_new.name)
        wizard.filename = "ids.txt"
        wizard.action_preview()
        self.assertEqual(wizard.line_ids.invoice_id, self.eligible_new)

    # 4.-6. confirm ------------------------------------------------------
    def test_confirm_writes_off_every_eligible_account_as_one_batch(self):
        bad_debt_before = self._account_balance(self.bad_debt)
        wizard = self._preview(self._mixed_file(), filename="march.csv")
        action = wizard.action_confirm()

        batch = wizard.batch_id
        self.assertRecordValues(batch, [{
            "filename": "march.csv", "user_id": self.env.user.id, "company_id": self.company.id,
            "count_listed": 6, "count_written_off": 2, "count_failed": 4, "amount_total": 420.0,
        }])
        self.assertTrue(batch.name.startswith("WOB/"))
        self.assertRecordValues(batch.write_off_ids.sorted("amount"), [
            {"invoice_id": self.eligible_new.id, "origin": "bulk", "amount": 120.0, "state": "posted",
             "account_id": self.bad_debt.id},
            {"invoice_id": self.eligible_old.id, "origin": "bulk", "amount": 300.0, "state": "posted",
             "account_id": self.bad_debt.id},
        ])
        for write_off in batch.write_off_ids:
            self.assertRecordValues(write_off.move_id.line_ids.sorted("balance"), [
                {"account_id": self.receivable.id, "balance": -write_off.amount, "reconciled": True},
                {"account_id": self.bad_debt.id, "balance": write_off.amount, "reconciled": False},
            ])
        self.assertEqual((self.eligible_old + self.eligible_new).mapped("amount_residual"), [0.0, 0.0])
        self.assertEqual(self.not_in_default.amount_residual, 40.0)
        self.assertAlmostEqual(self._account_balance(self.bad_debt) - bad_debt_before, 420.0)
        self.assertAlmostEqual(self._account_balance(self.receivable, self.customer_b), 0.0)
        self.assertRecordValues(batch.failure_ids, [
            {"account_ref": self.not_in_default.name, "stage": "preview", "reason": "Account is not in default"},
            {"account_ref": self.paid.name, "stage": "preview", "reason": "Nothing left open"},
            {"account_ref": self.written_off.name, "stage": "preview",
             "reason": "Account has already been terminated"},
            {"account_ref": "INV/1999/99999", "stage": "preview", "reason": "Account ID doesn't exist"},
        ])
        self.assertEqual(wizard.state, "done")
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("2 accounts written off", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["res_id"], batch.id)

    def test_bulk_and_single_write_offs_are_told_apart(self):
        wizard = self._preview(self.eligible_old.name, filename="ids.txt")
        wizard.action_confirm()
        WriteOff = self.env["recon.write.off"]
        self.assertEqual(WriteOff.search([("origin", "=", "bulk")]).invoice_id, self.eligible_old)
        single = WriteOff.search([("origin", "=", "single")])
        self.assertEqual(single.invoice_id, self.written_off)
        self.assertFalse(single.batch_id)

    def test_batch_gets_a_summary_message(self):
        wizard = self._preview(self._mixed_file(), filename="march.csv")
        wizard.action_confirm()
        message = wizard.batch_id.message_ids[:1]
        self.assertIn("2 of 6 accounts of march.csv written off", message.body)
        self.assertIn("4 not written off", message.body)

    def test_summaries_of_several_batches_are_written_in_one_call(self):
        batches = self.env["recon.write.off.batch"]
        for invoice, filename in ((self.eligible_old, "old.txt"), (self.eligible_new, "new.txt")):
            wizard = self._preview(invoice.name, filename=filename)
            wizard.action_confirm()
            batches |= wizard.batch_id
        Batch = type(batches)
        with patch.object(Batch, "_message_log_batch", autospec=True,
                          side_effect=Batch._message_log_batch) as log_batch:
            batches._post_summary()
        self.assertEqual(log_batch.call_count, 1)
        self.assertIn("1 of 1 accounts of old.txt written off", batches[0].message_ids[:1].body)
        self.assertIn("1 of 1 accounts of new.txt written off", batches[1].message_ids[:1].body)

    def test_account_paid_after_the_preview_fails_alone(self):
        wizard = self._preview(self._mixed_file())
        self._pay(self.eligible_old)
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertEqual(batch.write_off_ids.invoice_id, self.eligible_new)
        failure = batch.failure_ids.filtered(lambda f: f.invoice_id == self.eligible_old)
        self.assertRecordValues(failure, [{"stage": "posting", "reason": "Nothing left open"}])
        self.assertEqual(batch.count_failed, 5)

    def test_posting_failure_of_one_account_posts_nothing_of_it_and_not_stop_others(self):
        """The receivable account of one invoice is deprecated between
        preview and confirm: Odoo refuses to post on it."""
        special = self.receivable.copy({"code": "121999", "name": "Receivable (special)"})
        self.customer_b.property_account_receivable_id = special
        odd = self._overdue_invoice(55.0, days_overdue=150, partner=self.customer_b)
        wizard = self._preview(f"{odd.name}\n{self.eligible_old.name}\n", filename="ids.txt")
        special.deprecated = True
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertEqual(batch.write_off_ids.invoice_id, self.eligible_old)
        self.assertEqual(self.env["recon.write.off"].search_count([("invoice_id", "=", odd.id)]), 0)
        self.assertEqual(odd.amount_residual, 55.0)
        self.assertRecordValues(batch.failure_ids, [{"account_ref": odd.name, "stage": "posting"}])
        self.assertIn("deprecated", batch.failure_ids.reason)
        self.assertEqual(self.eligible_old.amount_residual, 0.0)

    def test_locked_period_fails_every_account_with_its_reason(self):
        wizard = self._preview(f"{self.eligible_old.name}\n{self.eligible_new.name}\n", filename="ids.txt")
        self.company.fiscalyear_lock_date = self.today
        wizard.action_confirm()
        batch = wizard.batch_id
        self.assertRecordValues(batch, [{"count_written_off": 0, "count_failed": 2, "amount_total": 0.0}])
        self.assertTrue(all("locked" in reason for reason in batch.failure_ids.mapped("reason")))
        self.assertFalse(batch.write_off_ids)
        self.assertEqual((self.eligible_old + self.eligible_new).mapped("amount_residual"), [300.0, 120.0])

    def test_preview_without_eligible_account_cannot_be_confirmed(self):
        wizard = self._preview(self.paid.name, filename="ids.txt")
        with self.assertRaisesRegex(UserError, "No account of ids.txt can be written off"):
            wizard.action_confirm()
        self.assertFalse(self.env["recon.write.off.batch"].search([]))

    def test_confirm_before_preview_is_refused(self):
        wizard = self._wizard(self.eligible_old.name, filename="ids.txt")
        with self.assertRaisesRegex(UserError, "Preview the file"):
            wizard.action_confirm()

    # 5. failure list -------------------------------------------------------
    def test_failure_list_downloads_as_csv_with_formulas_neutralised(self):
        wizard = self._preview(f"Account\n{self.eligible_old.name}\n=HYPERLINK(\"http://x\")\n@SUM(A1)\n")
        wizard.action_confirm()
        batch = wizard.batch_id
        action = batch.action_download_failures()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"/web/content/recon.write.off.batch/{batch.id}/failure_file/", action["url"])
        rows = list(csv.reader(io.StringIO(base64.b64decode(batch.failure_file).decode("utf-8-sig"))))
        self.assertEqual(rows, [
            ["Account ID", "Customer", "Stage", "Reason"],
            ["'=HYPERLINK(\"http://x\")", "", "Not Eligible", "Account ID doesn't exist"],
            ["'@SUM(A1)", "", "Not Eligible", "Account ID doesn't exist"],
        ])

    def test_batch_without_failures_has_nothing_to_download(self):
        wizard = self._preview(self.eligible_old.name, filename="ids.txt")
        wizard.action_confirm()
        with self.assertRaisesRegex(UserError, "no account left to follow up"):
            wizard.batch_id.action_download_failures()

    # safety ------------------------------------------------------------------
    def test_confirming_twice_writes_nothing_twice(self):
        wizard = self._preview(self._mixed_file())
        wizard.action_confirm()
        moves = self.env["account.move"].search_count([])
        with self.assertRaisesRegex(UserError, rf"already confirmed \(batch {wizard.batch_id.name}\)"):
            wizard.action_confirm()
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        self.assertEqual(self.env["recon.write.off.batch"].search_count([]), 1)

    def test_second_preview_of_the_same_file_finds_the_accounts_terminated(self):
        first = self._preview(self._mixed_file())
        second = self._preview(self._mixed_file())
        first.action_confirm()
        second.action_confirm()
        self.assertEqual(second.batch_id.count_written_off, 0)
        self.assertEqual(
            second.batch_id.failure_ids.filtered(lambda f: f.stage == "posting").mapped("reason"),
            ["Account has already been terminated"] * 2)
        self.assertEqual(self.env["recon.write.off"].search_count([("invoice_id", "=", self.eligible_old.id)]), 1)

    def test_only_managers_run_bulk_write_offs(self):
        with self.assertRaises(AccessError):
            self._wizard(self.eligible_old.name, user=self.clerk)
        wizard = self._preview(self.eligible_old.name, filename="ids.txt", user=self.manager)
        wizard.action_confirm()
        self.assertEqual(wizard.batch_id.user_id, self.manager)
        self.assertEqual(wizard.batch_id.with_user(self.clerk).count_written_off, 1, "clerks read batches")

    def test_bulk_menu_is_for_managers_only(self):
        menu = self.env.ref("recon_addon.recon_menu_bulk_write_off")
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, self.env["ir.ui.menu"].with_user(self.clerk)._visible_menu_ids())
        for xmlid in ("recon_menu_write_offs", "recon_menu_write_off_batches"):
            self.assertIn(self.env.ref(f"recon_addon.{xmlid}").id,
                          self.env["ir.ui.menu"].with_user(self.clerk)._visible_menu_ids())

    def test_other_companys_batches_are_invisible(self):
        wizard = self._preview(self.eligible_old.name, filename="ids.txt")
        wizard.action_confirm()
        other = self.setup_other_company(name="Northern Branch")["company"]
        self.manager.company_ids |= other
        Batch = self.env["recon.write.off.batch"].with_user(self.manager)
        self.assertEqual(Batch.with_context(allowed_company_ids=[self.company.id]).search([]), wizard.batch_id)
        self.assertFalse(Batch.with_context(allowed_company_ids=[other.id]).search([]))
        self.assertFalse(self.env["recon.write.off.failure"].with_user(self.manager).with_context(
            allowed_company_ids=[other.id]).search([]))


@tagged("post_install", "-at_install")
class TestBulkWriteOffInTheBackground(WriteOffCommon):
    """A batch bigger than one chunk: the confirming request posts the first
    chunk, the scheduler the rest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoices = cls.env["account.move"]
        for days in (300, 200, 100):
            cls.invoices |= cls._overdue_invoice(100.0, days_overdue=days)
        cls.cron = cls.env.ref("recon_addon.ir_cron_recon_runs")

    def _confirm(self, user=None):
        Wizard = self.env["recon.bulk.write.off.wizard"].with_user(user or self.env.user)
        wizard = Wizard.create({"file": self._file("\n".join(self.invoices.mapped("name"))),
                                "filename": "big.txt", "reason_id": self.reason.id})
        wizard.action_preview()
        with patch.object(self.env.registry["recon.write.off.batch"], "_run_chunk_size", 2):
            action = wizard.action_confirm()
        return wizard.batch_id, action

    def _run_cron(self):
        with patch.object(self.env.registry["recon.write.off.batch"], "_run_chunk_size", 2), \
                patch.object(self.env.registry["res.users"], "_bus_send") as bus_send:
            self.env["recon.write.off.batch"].with_user(SUPERUSER_ID)._cron_process_runs()
        return bus_send

    def test_first_chunk_posts_at_once_and_the_rest_is_queued(self):
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        batch, action = self._confirm()
        self.assertRecordValues(batch, [{"state": "queued", "count_written_off": 2, "count_pending": 1,
                                         "amount_total": 200.0}])
        self.assertEqual(action["params"]["type"], "info")
        self.assertIn("2 accounts written off so far, 1 to go", action["params"]["message"])
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]), triggers + 1)
        self.assertEqual(self.invoices.mapped("amount_residual"), [100.0, 0.0, 0.0],
                         "posted in preview order: the most recently defaulted first")

    def test_scheduler_posts_the_rest_finishes_and_notifies(self):
        batch, _action = self._confirm(user=self.manager)
        bus_send = self._run_cron()
        self.assertRecordValues(batch, [{"state": "done", "count_written_off": 3, "count_pending": 0,
                                         "amount_total": 300.0}])
        self.assertEqual(self.invoices.mapped("amount_residual"), [0.0, 0.0, 0.0])
        self.assertEqual(batch.write_off_ids.move_id.mapped("create_uid"), self.manager,
                         "entries are posted as the user who confirmed the batch")
        calls = [c for c in bus_send.call_args_list if c.args[1].get("notification")]
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0].args[0], "recon_addon.run_progress")
        self.assertRecordValues(batch, [{"id": calls[0].args[1]["id"]}])
        self.assertIn(batch.name, calls[0].args[1]["notification"]["title"])
        self.assertIn("3 accounts written off", calls[0].args[1]["notification"]["message"])
        self.assertIn("3 of 3 accounts of big.txt written off", batch.message_ids[:1].body)

    def test_second_scheduler_run_changes_nothing(self):
        batch, _action = self._confirm()
        self._run_cron()
        moves = self.env["account.move"].search_count([])
        bus_send = self._run_cron()
        self.assertEqual(self.env["account.move"].search_count([]), moves)
        bus_send.assert_not_called()
        self.assertEqual(batch.count_written_off, 3)

    def test_invoice_waiting_in_a_batch_cannot_be_written_off_alone(self):
        batch, _action = self._confirm()
        waiting = batch.write_off_ids.filtered(lambda w: w.state == "draft").invoice_id
        with self.assertRaisesRegex(UserError, "Account has already been terminated"):
            waiting.action_write_off(reason=self.reason)

    def test_invoice_paid_while_waiting_is_reported_by_the_scheduler(self):
        batch, _action = self._confirm()
        waiting = batch.write_off_ids.filtered(lambda w: w.state == "draft").invoice_id
        self._pay(waiting)
        self._run_cron()
        self.assertRecordValues(batch, [{"state": "done", "count_written_off": 2, "count_failed": 1}])
        self.assertRecordValues(batch.failure_ids, [{"invoice_id": waiting.id, "stage": "posting",
                                                     "reason": "Nothing left open"}])
        self.assertTrue(batch.failure_file)

    def test_unexpected_error_is_pinned_on_its_account_and_never_looped(self):
        batch, _action = self._confirm()
        waiting = batch.write_off_ids.filtered(lambda w: w.state == "draft")
        invoice = waiting.invoice_id
        failing = repr(waiting.filtered(lambda w: w.invoice_id == invoice))
        WriteOff = self.env.registry["recon.write.off"]
        original = WriteOff._get_settlement

        def broken(write_off, open_lines):
            if write_off.invoice_id == invoice:
                raise KeyError("missing translation")
            return original(write_off, open_lines)

        with patch.object(WriteOff, "_get_settlement", broken), self.assertLogs(
                "odoo.addons.recon_addon.models.recon_run_mixin", "ERROR") as logged:
            self._run_cron()
        self.assertIn(f"could not process {failing}", logged.output[0])
        self.assertRecordValues(batch, [{"state": "done", "count_written_off": 2, "count_failed": 1}])
        self.assertRecordValues(batch.failure_ids, [{"invoice_id": invoice.id, "stage": "posting"}])
        self.assertIn("Unexpected error", batch.failure_ids.reason)
        self.assertFalse(waiting.exists())
        self.assertEqual(invoice.amount_residual, 100.0)
