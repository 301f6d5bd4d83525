import codecs
import csv
import io

from odoo.tests import BaseCase, tagged
from odoo.tools.misc import file_open

from odoo.addons.recon_addon.services.upload import (
    MAX_ROWS, neutralise_cell, parse_upload, to_csv,
)


@tagged("post_install", "-at_install")
class TestParseUpload(BaseCase):
    """Reading bulk write-off files: no database, milliseconds per test."""

    def _refs(self, data, filename="accounts.csv"):
        rows, errors = parse_upload(data, filename)
        self.assertFalse([e for e in errors if e.fatal], [str(e.message) for e in errors])
        return [row.ref for row in rows]

    def _fatal(self, data, filename="accounts.csv", **kwargs):
        rows, errors = parse_upload(data, filename, **kwargs)
        self.assertEqual(rows, [])
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].fatal)
        return errors[0].code, str(errors[0].message)

    def test_one_account_per_line_ignores_blank_lines_and_spaces(self):
        data = b"INV/2024/00001\r\n\r\n   INV/2024/00002  \n\t\nINV/2024/00003"
        self.assertEqual(self._refs(data, "ids.txt"),
                         ["INV/2024/00001", "INV/2024/00002", "INV/2024/00003"])

    def test_row_keeps_the_line_it_came_from(self):
        rows, _errors = parse_upload(b"\nA1\n\nA2\n", "ids.txt")
        self.assertEqual([(r.ref, r.line) for r in rows], [("A1", 2), ("A2", 4)])

    def test_header_column_named_account_id_semicolon(self):
        data = b"Customer;Account ID;Amount\nHarbour Foods;INV/1;10,50\nMill;INV/2;3\n"
        self.assertEqual(self._refs(data), ["INV/1", "INV/2"])

    def test_header_column_named_invoice_number_comma_quoted(self):
        data = b'"Amount","Invoice Number"\n"1,200.00","INV/7"\n"5","INV/8"\n'
        self.assertEqual(self._refs(data), ["INV/7", "INV/8"])

    def test_header_names_are_matched_loosely(self):
        for header in (b"account", b"ACCOUNT_ID", b" Invoice ", b"Number", b"invoice no."):
            with self.subTest(header=header):
                self.assertEqual(self._refs(header + b",Note\nINV/9,x\n"), ["INV/9"])

    def test_account_column_preferred_over_number(self):
        self.assertEqual(self._refs(b"Number;Account\n1;INV/3\n"), ["INV/3"])

    def test_single_column_header_is_not_an_account(self):
        self.assertEqual(self._refs(b"Account\nINV/1\n"), ["INV/1"])

    def test_trailing_separator_on_a_one_column_file(self):
        self.assertEqual(self._refs(b"INV/1;\nINV/2;\n"), ["INV/1", "INV/2"])

    def test_utf8_with_bom(self):
        data = codecs.BOM_UTF8 + "Account;Client\nFAC/Ü1;Müller\n".encode()
        self.assertEqual(self._refs(data), ["FAC/Ü1"])

    def test_utf8_without_bom(self):
        self.assertEqual(self._refs("FAC/É1\nFAC/Ø2\n".encode(), "ids.txt"), ["FAC/É1", "FAC/Ø2"])

    def test_latin1(self):
        self.assertEqual(self._refs("Account;Client\nFAC/É1;Crème\n".encode("latin-1")), ["FAC/É1"])

    def test_utf16_with_bom(self):
        self.assertEqual(self._refs("Account\tName\nINV/5\tA\n".encode("utf-16")), ["INV/5"])

    def test_duplicates_listed_once_and_reported(self):
        rows, errors = parse_upload(b"INV/1\nINV/2\nINV/1\n INV/1\n", "ids.txt")
        self.assertEqual([(r.ref, r.line, r.occurrences) for r in rows], [("INV/1", 1, 3), ("INV/2", 2, 1)])
        self.assertEqual([(e.code, e.ref, e.fatal) for e in errors], [("duplicate", "INV/1", False)])
        self.assertIn("listed 3 times (lines 1, 3, 4)", str(errors[0].message))

    def test_too_long_reference_is_skipped_and_reported(self):
        rows, errors = parse_upload(b"INV/1\n" + b"X" * 65 + b"\n", "ids.txt")
        self.assertEqual([r.ref for r in rows], ["INV/1"])
        self.assertEqual([(e.code, e.line) for e in errors], [("too_long", 2)])

    def test_limit_accepts_exactly_the_limit(self):
        data = "\n".join(f"INV/{i:05d}" for i in range(MAX_ROWS)).encode()
        rows, errors = parse_upload(data, "ids.txt")
        self.assertEqual((len(rows), errors), (MAX_ROWS, []))

    def test_limit_refuses_one_more_with_count_and_limit(self):
        data = ("Account\n" + "\n".join(f"INV/{i:05d}" for i in range(MAX_ROWS + 1))).encode()
        code, message = self._fatal(data)
        self.assertEqual(code, "too_many")
        self.assertIn("lists 2001 accounts", message)
        self.assertIn("at most 2000", message)

    def test_empty_file(self):
        self.assertEqual(self._fatal(b"")[0], "empty")

    def test_only_blank_lines(self):
        self.assertEqual(self._fatal(b"\n  \r\n\t\n")[0], "empty")

    def test_header_without_data(self):
        self.assertEqual(self._fatal(b"Account;Customer\n")[0], "empty")

    def test_binary_file_is_not_text(self):
        code, message = self._fatal(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "accounts.csv")
        self.assertEqual(code, "not_text")
        self.assertIn("accounts.csv is not a text file", message)

    def test_control_characters_without_nul_are_not_text(self):
        self.assertEqual(self._fatal(b"%PDF-1.4\n\x01\x02\x03\x1b")[0], "not_text")

    def test_wrong_extension(self):
        code, message = self._fatal(b"INV/1", "accounts.xlsx")
        self.assertEqual(code, "extension")
        self.assertIn("accounts.xlsx is not a .csv or .txt file", message)

    def test_file_too_big(self):
        code, message = self._fatal(b"INV/1\n" * 400, max_bytes=1024)
        self.assertEqual(code, "too_big")
        self.assertIn("is 3 KB; the limit is 1 KB", message)

    def test_several_columns_without_account_header(self):
        code, message = self._fatal(b"Customer;Amount\nHarbour;10\n")
        self.assertEqual(code, "no_column")
        self.assertIn("found: Customer, Amount", message)

    def test_cells_are_never_evaluated(self):
        self.assertEqual(self._refs(b"__import__('os').system('true')\n=1+1\n", "ids.txt"),
                         ["__import__('os').system('true')", "=1+1"])


    def test_shipped_sample_file_reads_as_documented(self):
        with file_open("recon_addon/demo/recon_bulk_write_off_sample.csv", "rb") as sample:
            rows, errors = parse_upload(sample.read(), "recon_bulk_write_off_sample.csv")
        self.assertEqual([row.ref for row in rows], [f"LEG/0000{i}" for i in range(1, 8)] + ["LEG/09999"])
        self.assertEqual([(error.code, error.ref) for error in errors], [("duplicate", "LEG/00002")])

@tagged("post_install", "-at_install")
class TestCsvExport(BaseCase):

    def test_formula_cells_are_neutralised(self):
        for value in ("=SUM(A1)", "+1", "-1+2", "@cmd", "\tx"):
            with self.subTest(value=value):
                self.assertEqual(neutralise_cell(value), "'" + value)

    def test_plain_text_and_numbers_are_kept(self):
        self.assertEqual(neutralise_cell("INV/2024/1"), "INV/2024/1")
        self.assertEqual(neutralise_cell(-5.5), -5.5)

    def test_to_csv_round_trip(self):
        data = to_csv(["Account ID", "Reason"], [["=cmd|' /C calc'!A0", "nothing; left, open"], ["INV/1", None]])
        self.assertTrue(data.startswith(codecs.BOM_UTF8))
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(rows, [["Account ID", "Reason"],
                                ["'=cmd|' /C calc'!A0", "nothing; left, open"],
                                ["INV/1", ""]])

