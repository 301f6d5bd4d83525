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
column, no account that can be looked up) comes back alone and with no rows::

    >>> parse_upload(b"", "ids.csv")[1][0].code
    'empty'
"""
import codecs
import csv
import io
import re
from dataclasses import dataclass

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
#: header names (normalised) of the optional column giving each account's
#: write-off reason (its code or name)
REASON_HEADER_NAMES = ("reason", "reason code", "write off reason", "write off reason code")
DELIMITERS = (";", ",", "\t")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: C0 and C1 control characters (tab, line feed, form feed and carriage
#: return excepted) and DEL: no text file holds them
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
#: a line ends with LF, CRLF or CR, and with nothing else (not with the
#: form feed or the Unicode separators ``str.splitlines`` also splits on)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BLANK_ENDS = re.compile(r"^[\s\ufeff\u200b-\u200d\u2060]+|[\s\ufeff\u200b-\u200d\u2060]+$")
#: the "separator" of a file of one column: a control character, refused in
#: any file, so a line is never split
_WHOLE_LINE = "\x1f"


@dataclass(frozen=True)
class UploadRow:
    """One account of the file: its reference, the line where it first
    appears, how many times the file lists it, and the write-off reason its
    first line gives (empty when the file has no reason column)."""

    ref: str
    line: int
    occurrences: int = 1
    reason: str = ""


@dataclass(frozen=True, eq=False)
class UploadError:
    """Something the user should know about the file.

    ``message`` is a lazily translated text: ``env._(error.message)`` gives
    it in the user's language (``str(error.message)`` in a method that has an
    ``env``, too). A ``fatal`` error means the file was refused and no row
    was kept.
    """

    code: str
    message: object
    line: int | None = None
    ref: str | None = None
    fatal: bool = False


def parse_upload(data, filename, max_rows=MAX_ROWS, max_bytes=MAX_BYTES):
    """Read the accounts listed in an uploaded file.

    :param bytes data: the file's content
    :param str filename: its name; the extension must be ``.csv`` or ``.txt``
    :param int max_rows: most entries (non-blank data lines) accepted
    :param int max_bytes: biggest file accepted
    :return: ``(rows, errors)``: the distinct accounts in file order
        (:class:`UploadRow`) and the :class:`UploadError` list. When an error
        is fatal, it is the only one and ``rows`` is empty; otherwise there
        is at least one row.

    Whatever the bytes, the answer is one of these, never an exception.
    """
    fatal = _check_file(data, filename, max_bytes)
    if fatal:
        return [], [fatal]
    text, fatal = _decode_text(data, filename)
    if fatal:
        return [], [fatal]
    lines = [(number, line) for number, line in enumerate(_LINE_BREAK.split(text), start=1) if _clean(line)]
    if not lines:
        return [], [_empty(filename)]
    header_delimiter, column = _find_header(lines[0][1])
    reason_column = None
    if column is not None:
        reason_column = _find_reason_column(lines[0][1], header_delimiter)
        delimiter, lines = header_delimiter, lines[1:]
    else:
        delimiter = _sniff_delimiter(lines[:50])
    entries = []
    skipped = []
    for number, line in lines:
        try:
            cells = _split(line, delimiter, strict=True)
        except csv.Error as error:
            skipped.append(UploadError("unreadable", _lt(
                "Line %(line)s cannot be read (%(error)s); skipped. Keep only the account column, "
                "or shorten that line.", line=number, error=str(error)), line=number))
            continue
        if column is None:
            filled = [cell for cell in map(_clean, cells) if cell]
            if len(filled) > 1:
                return [], [_no_column(filename, number, lines[0][1], delimiter)]
            ref = filled[0] if filled else ""
        else:
            ref = _clean(cells[column]) if column < len(cells) else ""
        reason = ""
        if reason_column is not None and reason_column < len(cells):
            reason = _clean(cells[reason_column])[:MAX_REF_LENGTH]
        if ref:
            entries.append((number, ref, reason))
    if len(entries) > max_rows:
        return [], [UploadError("too_many", _lt(
            "%(file)s lists %(count)s accounts; one file may list at most %(limit)s. "
            "Split it into several files.", file=filename, count=len(entries), limit=max_rows),
            fatal=True)]
    rows, errors = _distinct_rows(entries)
    errors = sorted(skipped + errors, key=lambda error: error.line)
    if not rows:
        if not errors:
            return [], [_empty(filename)]
        first = errors[0]
        return [], [UploadError(first.code, _lt(
            "%(file)s lists no account that can be looked up. %(problem)s Put one account ID per "
            "line, or a column named \"Account\" in a CSV file.", file=filename, problem=first.message),
            line=first.line, ref=first.ref, fatal=True)]
    return rows, errors


def _check_file(data, filename, max_bytes):
    name = (filename or "").strip()
    if not name.lower().endswith(ALLOWED_EXTENSIONS):
        return UploadError("extension", _lt(
            "%(file)s is not a .csv or .txt file. Export the list of accounts as CSV "
            "or plain text and upload it again.", file=name or _lt("The file")), fatal=True)
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


def _not_text(filename, line=None, char=None):
    if line is None:
        return UploadError("not_text", _lt(
            "%(file)s is not a text file. Save the list as CSV or plain text (UTF-8, UTF-16 "
            "or Latin-1) and upload it again.", file=filename), fatal=True)
    return UploadError("not_text", _lt(
        "%(file)s is not a text file: line %(line)s holds a control character (%(char)s). Save "
        "the list as CSV or plain text (UTF-8, UTF-16 or Latin-1) and upload it again.",
        file=filename, line=line, char=char), line=line, fatal=True)


def _decode_text(data, filename):
    """``(text, fatal error)``: the file's text, or why it is not text
    (naming the line of the first control character when it decodes)."""
    text = _decode(data)
    if text is None:
        return None, _not_text(filename)
    control = _CONTROL.search(text)
    if control:
        line = len(_LINE_BREAK.findall(text, 0, control.start())) + 1
        return None, _not_text(filename, line, f"U+{ord(control.group()):04X}")
    return text, None


def _decode(data):
    """UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one when
    most characters are Latin), else Windows-1252, else Latin-1; None when
    the bytes are no text in the encoding they announce."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _bomless_utf16(data)
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _bomless_utf16(data):
    """``utf-16-le`` / ``utf-16-be`` when ``data`` looks like UTF-16 without
    a BOM: even length, and a NUL as the high byte of at least half the
    characters (Latin text) and almost never as the low byte."""
    if len(data) < 2 or len(data) % 2:
        return None
    pairs = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd * 2 >= pairs and even * 10 <= odd:
        return "utf-16-le"
    if even * 2 >= pairs and odd * 10 <= even:
        return "utf-16-be"
    return None


def _clean(cell):
    """The cell without surrounding blanks (zero-width ones and BOMs too)."""
    return _BLANK_ENDS.sub("", cell)


def _split(line, delimiter, strict=False):
    """The cells of one line (quotes honoured); ``delimiter`` None: the
    line is one cell. A line the csv module refuses (a cell longer than it
    allows) raises ``csv.Error`` when ``strict``, else is one cell."""
    try:
        return next(csv.reader([line], delimiter=delimiter or _WHOLE_LINE, skipinitialspace=True))
    except csv.Error:
        if strict:
            raise
        return [line]
    except StopIteration:
        return [""]


def _normalise_header(cell):
    return " ".join(re.sub(r"[^0-9a-z]+", " ", cell.strip().lower()).split())


def _find_header(line):
    """``(delimiter, column)`` when ``line`` is a header naming the account
    column, else ``(None, None)``. The separator is the one that splits
    the header into most cells with an account column among them; a header
    of one cell has none (its lines are read whole)."""
    best = None
    for delimiter in (None, *DELIMITERS):
        cells = _split(line, delimiter)
        names = [_normalise_header(cell) for cell in cells]
        matches = [(HEADER_NAMES.index(name), column) for column, name in enumerate(names)
                   if name in HEADER_NAMES]
        if matches and (best is None or len(cells) > best[0]):
            best = (len(cells), delimiter, min(matches)[1])
    return (best[1], best[2]) if best else (None, None)


def _find_reason_column(line, delimiter):
    """The column of the header ``line`` naming the write-off reason, or None.

    >>> _find_reason_column("Account;Reason", ";")
    1
    >>> _find_reason_column("Account;Note", ";") is None
    True
    """
    names = [_normalise_header(cell) for cell in _split(line, delimiter)]
    return next((column for column, name in enumerate(names) if name in REASON_HEADER_NAMES), None)


def _sniff_delimiter(lines):
    """The separator of a file without header: the one found most often
    outside quotes, or None (one account per line)."""
    counts = {delimiter: sum(len(_split(line, delimiter)) - 1 for _number, line in lines)
              for delimiter in DELIMITERS}
    delimiter = max(DELIMITERS, key=counts.get)
    return delimiter if counts[delimiter] else None


def _no_column(filename, line, header, delimiter):
    found = ", ".join(cell for cell in map(_clean, _split(header, delimiter)) if cell)
    return UploadError("no_column", _lt(
        "%(file)s has several columns (line %(line)s) but none is named like an account. Name "
        "the column holding the invoice numbers \"Account\", \"Account ID\", \"Invoice\" or "
        "\"Number\" in a first line (found: %(found)s).", file=filename, line=line, found=found[:200]),
        line=line, fatal=True)


def _distinct_rows(entries):
    first_line = {}
    lines = {}
    reasons = {}
    errors = []
    for number, ref, reason in entries:
        if len(ref) > MAX_REF_LENGTH:
            errors.append(UploadError("too_long", _lt(
                "Line %(line)s: \"%(ref)s…\" is too long to be an account ID (at most "
                "%(limit)s characters); skipped.", line=number, ref=ref[:20], limit=MAX_REF_LENGTH),
                line=number, ref=ref[:MAX_REF_LENGTH]))
            continue
        first_line.setdefault(ref, number)
        reasons.setdefault(ref, reason)
        lines.setdefault(ref, []).append(number)
    rows = [UploadRow(ref=ref, line=first_line[ref], occurrences=len(lines[ref]), reason=reasons[ref])
            for ref in first_line]
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
