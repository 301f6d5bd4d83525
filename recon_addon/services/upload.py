"""Reading a bulk write-off upload, and writing a CSV a spreadsheet can open
safely.

An upload is a ``.csv`` or ``.txt`` file that lists accounts (invoice
numbers): one per line, or a CSV whose header names the column that holds
them ("Account", "Account ID", "Invoice", "Invoice Number", "Number" …).
Nothing in the file is ever evaluated: every cell is a plain string.

>>> rows, errors = parse_upload(b"INV/2024/00001\\n\\n INV/2024/00002 \\nINV/2024/00001\\n", "ids.txt")
>>> [row.ref for row in rows]
['INV/2024/00001', 'INV/2024/00002']
>>> [error.code for error in errors]
['duplicate']

A fatal error (empty file, not text, too big, too many entries, no account
column) comes back alone and with no rows::

    >>> parse_upload(b"", "ids.csv")[1][0].code
    'empty'
"""
import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__, default_lang="en_US")

#: most accounts one file may list
MAX_ROWS = 2000
#: biggest file accepted, in bytes (2,000 lines of a wide export fit easily)
MAX_BYTES = 2 * 1024 * 1024
#: longest account reference kept; longer cells are reported, not looked up
MAX_REF_LENGTH = 64
ALLOWED_EXTENSIONS = (".csv", ".txt")
#: header names (normalised) that mark the account column, best first
HEADER_NAMES = (
    "account id", "account", "account number", "account no", "account ref",
    "invoice", "invoice number", "invoice no", "invoice id", "invoice ref",
    "number", "no", "ref", "reference",
)
DELIMITERS = (";", ",", "\t")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class UploadRow:
    """One account of the file: its reference, the line where it first
    appears, and how many times the file lists it."""

    ref: str
    line: int
    occurrences: int = 1


@dataclass(frozen=True, eq=False)
class UploadError:
    """Something the user should know about the file.

    ``message`` is a lazily translated text: ``str(error.message)`` in a
    method that has an ``env`` gives it in the user's language. A ``fatal``
    error means the file was refused and no row was kept.
    """

    code: str
    message: object
    line: int | None = None
    ref: str | None = None
    fatal: bool = False


@dataclass
class _Table:
    lines: list = field(default_factory=list)  # (line number, cells)


def parse_upload(data, filename, max_rows=MAX_ROWS, max_bytes=MAX_BYTES):
    """Read the accounts listed in an uploaded file.

    :param bytes data: the file's content
    :param str filename: its name; the extension must be ``.csv`` or ``.txt``
    :param int max_rows: most entries (non-blank data lines) accepted
    :param int max_bytes: biggest file accepted
    :return: ``(rows, errors)``: the distinct accounts in file order
        (:class:`UploadRow`) and the :class:`UploadError` list. When an error
        is fatal, it is the only one and ``rows`` is empty.
    """
    fatal = _check_file(data, filename, max_bytes)
    if fatal:
        return [], [fatal]
    text = _decode(data)
    if text is None or _CONTROL.search(text):
        return [], [UploadError("not_text", _lt(
            "%(file)s is not a text file. Save the list as CSV or plain text "
            "(UTF-8 or Latin-1) and upload it again.", file=filename), fatal=True)]
    table = _read_table(text)
    if not table.lines:
        return [], [_empty(filename)]
    column, start, fatal = _find_account_column(table, filename)
    if fatal:
        return [], [fatal]
    entries = [(number, cells[column].strip() if column < len(cells) else "")
               for number, cells in table.lines[start:]]
    entries = [(number, ref) for number, ref in entries if ref]
    if len(entries) > max_rows:
        return [], [UploadError("too_many", _lt(
            "%(file)s lists %(count)s accounts; one file may list at most %(limit)s. "
            "Split it into several files.", file=filename, count=len(entries), limit=max_rows),
            fatal=True)]
    if not entries:
        return [], [_empty(filename)]
    return _distinct_rows(entries)


def _check_file(data, filename, max_bytes):
    name = (filename or "").strip()
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        return UploadError("extension", _lt(
            "%(file)s is not a .csv or .txt file. Export the list of accounts as CSV "
            "or plain text and upload it again.", file=name or "The file"), fatal=True)
    if not data:
        return _empty(name)
    if len(data) > max_bytes:
        return UploadError("too_big", _lt(
            "%(file)s is %(size)s KB; the limit is %(limit)s KB. Keep only the account "
            "column, or split the file.", file=name, size=-(-len(data) // 1024),
            limit=max_bytes // 1024), fatal=True)
    return None


def _empty(filename):
    return UploadError("empty", _lt(
        "%(file)s lists no account. Put one account per line, or a column named "
        "\"Account\" in a CSV file.", file=filename), fatal=True)


def _decode(data):
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_table(text):
    """Split the text into non-blank lines of cells, with their line numbers."""
    raw_lines = text.splitlines()
    sample = [line for line in raw_lines[:50] if line.strip()]
    delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in sample))
    if not any(delimiter in line for line in sample):
        delimiter = ";"  # one account per line: no separator to find
    table = _Table()
    for number, line in enumerate(raw_lines, start=1):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
        except (csv.Error, StopIteration):
            cells = [line]
        if any(cell.strip() for cell in cells):
            table.lines.append((number, cells))
    return table


def _normalise_header(cell):
    return " ".join(re.sub(r"[^0-9a-z]+", " ", cell.strip().lower()).split())


def _find_account_column(table, filename):
    """Return ``(column, first data index, fatal error)``."""
    header = [_normalise_header(cell) for cell in table.lines[0][1]]
    matches = [(HEADER_NAMES.index(name), column) for column, name in enumerate(header)
               if name in HEADER_NAMES]
    if matches:
        return min(matches)[1], 1, None
    if all(sum(1 for cell in cells if cell.strip()) <= 1 for _number, cells in table.lines):
        # one account per line (a stray separator at the end is harmless)
        return 0, 0, None
    return None, None, UploadError("no_column", _lt(
        "%(file)s has several columns but none is named like an account. Name the column "
        "holding the invoice numbers \"Account\", \"Account ID\", \"Invoice\" or \"Number\" "
        "(found: %(found)s).", file=filename,
        found=", ".join(cell.strip() for cell in table.lines[0][1] if cell.strip())[:200]),
        fatal=True)


def _distinct_rows(entries):
    first_line = {}
    lines = {}
    errors = []
    for number, ref in entries:
        if len(ref) > MAX_REF_LENGTH:
            errors.append(UploadError("too_long", _lt(
                "Line %(line)s: \"%(ref)s…\" is too long to be an account ID (at most "
                "%(limit)s characters); skipped.", line=number, ref=ref[:20], limit=MAX_REF_LENGTH),
                line=number, ref=ref[:MAX_REF_LENGTH]))
            continue
        first_line.setdefault(ref, number)
        lines.setdefault(ref, []).append(number)
    rows = [UploadRow(ref=ref, line=first_line[ref], occurrences=len(lines[ref])) for ref in first_line]
    for row in rows:
        if row.occurrences > 1:
            errors.append(UploadError("duplicate", _lt(
                "%(ref)s is listed %(count)s times (lines %(lines)s); it is written off once.",
                ref=row.ref, count=row.occurrences, lines=", ".join(map(str, lines[row.ref][:10]))),
                line=row.line, ref=row.ref))
    return rows, errors


def neutralise_cell(value):
    """A cell value a spreadsheet shows as text, never runs as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return)
    gets a leading apostrophe; numbers are kept as they are.

    >>> neutralise_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell(-12.5)
    -12.5
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(header, rows):
    """CSV bytes (UTF-8 with BOM, so spreadsheets pick the encoding) whose
    cells are all neutralised with :func:`neutralise_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise_cell(cell) for cell in header])
    for row in rows:
        writer.writerow(["" if cell is None or cell is False else neutralise_cell(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")
