"""A spreadsheet an admin uploads (CSV or XLSX), read as a stream of numbered rows of text — or
refused with what is wrong, in plain words. Both imports read their files here: the timetable
(``services.courses.import_file``) and the participants (``services.imports.upload``).

**What is read.** CSV in UTF-8 (with or without a byte-order mark), Windows-1252 (Excel's "CSV" on
a UK/US Windows; Latin-1 text reads the same) or UTF-16 with a mark (Excel's "Unicode text"),
separated by commas, semicolons or tabs — the separator is the one that makes the first row a
header the caller recognises (``aliases``). XLSX: the first worksheet, values as Excel shows them
(``data_only``: a formula's last result). Each row keeps the number the admin sees in their
spreadsheet program; empty rows are skipped, never renumbered.

**A stream, not a list.** ``SheetFile.rows()`` yields one row at a time — CSV through the ``csv``
module over the decoded text, XLSX through openpyxl's streaming reader — and stops at the caller's
row cap, so a 20,000-row file is never held as 20,000 lists, and an XLSX (a zip: a 5 MB file can
unzip to gigabytes of sheet) is refused by its unzipped size before it is parsed. tablib's loaders
are not used: its CSV loader skips empty lines (so "row 12" would no longer be the admin's row 12)
and refuses a row longer than the header; its XLSX loader reads the whole sheet first.

Refusals (``ImportRefused``): empty, too large, not CSV/XLSX (a PDF, an old ``.xls``, an
OpenDocument or Numbers file, an image), a password-protected XLSX, damaged, more rows than the
cap. The words name what the caller imports (``Wording``).

Cells are text: ``cell_text`` writes XLSX dates as ISO, times as HH:MM, whole numbers without
".0"; ``parse_date`` and ``parse_time`` read the dates and times people type.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import tablib

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or an encrypted .xlsx
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
DELIMITERS = (",", ";", "\t")
EXCEL_TIME_ONLY = {date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)}

# Dates as people write them: ISO first, then day first (a date with slashes is day first, always).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%a %d %b %Y",
    "%A %d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d %Y",
    "%B %d %Y",
)
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M")
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M:%S %p", "%I%p")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, where the admin can find it."""

    message: str
    row: int | None = None  # the spreadsheet's row number (the header is usually row 1)
    column: str = ""  # "C “Date”"

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        where = f"Row {self.row}, column {self.column}" if self.column else f"Row {self.row}"
        return f"{where}: {self.message}"


class ImportRefused(Exception):
    """The file can't be imported; ``problems`` say why (nothing was saved or sent)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, message: str) -> ImportRefused:
        return cls([Problem(message)])


@dataclass(frozen=True)
class Column:
    index: int
    header: str  # as written in the file

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def label(self) -> str:
        return f"{self.letter} “{self.header}”"


def column_letter(index: int) -> str:
    """0 → "A", 25 → "Z", 26 → "AA": the column as the spreadsheet names it."""
    n, out = index + 1, ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


@dataclass(frozen=True)
class Limits:
    """How much of a file is read: data rows after the header, bytes, columns, characters a cell."""

    max_rows: int
    max_file_bytes: int = 5 * 1024 * 1024
    max_sheet_xml_bytes: int = 40 * 1024 * 1024  # the worksheets unzipped: a zip bomb stops here
    max_scanned_rows: int = 20_000  # XLSX rows looked at, empty ones included
    max_columns: int = 40
    max_cell: int = 200  # characters of one cell kept


@dataclass(frozen=True)
class Wording:
    """The caller's words in the refusals: "a timetable file can be at most 5 MB"."""

    thing: str  # "the timetable"
    a_file: str  # "a timetable file"
    rows: str  # "sessions"
    one_row: str  # "one session a row"
    split: str  # "Split it into terms."
    split_many: str  # "split the timetable into terms (one file each)"


def header_key(text: str) -> str:
    """A header as compared with the known spellings: lower case, letters and digits, single spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


@dataclass
class SheetFile:
    """An uploaded file that passed the first checks; ``rows()`` reads it (again, each call)."""

    name: str
    sha256: str
    kind: str  # "CSV" | "XLSX"
    limits: Limits
    wording: Wording
    notes: list[str] = field(default_factory=list)  # "Only the first sheet was read …" (once rows() ran)
    data: bytes = field(default=b"", repr=False)
    text: str = field(default="", repr=False)  # CSV: the decoded file
    delimiter: str = ","

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells as text) of every row with something in it, the header first.
        Raises ``ImportRefused`` part-way for a damaged file or one past the row cap."""
        source = self._xlsx_rows() if self.kind == "XLSX" else self._csv_rows()
        filled = 0
        for number, cells in source:
            if not any(cells):
                continue
            filled += 1
            if filled > self.limits.max_rows + 1:  # the header, then one row past the cap
                raise self.too_many()
            yield number, cells

    def too_many(self) -> ImportRefused:
        w, cap = self.wording, self.limits.max_rows
        return ImportRefused.one(
            f"{self.name} has more than {cap:,} {w.rows}. Import at most {cap:,} at a time: {w.split_many}."
        )

    def _cell(self, value: Any) -> str:
        return cell_text(value, self.limits.max_cell)

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.delimiter, strict=False)
        number = 0
        try:
            for cells in reader:
                # One spreadsheet row (a quoted cell may hold a line break: one row, several lines).
                number += 1
                yield number, [self._cell(c) for c in cells[: self.limits.max_columns]]
        except csv.Error as exc:
            raise ImportRefused([Problem(f"the CSV can't be read ({exc}).", row=number + 1)]) from exc

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        from openpyxl import load_workbook  # tablib's XLSX engine

        try:
            book = load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises anything at all on a broken file
            raise ImportRefused.one(
                f"{self.name} can't be read as an Excel workbook ({type(exc).__name__}). Open it in Excel, save "
                "it as .xlsx again (or as CSV) and upload that."
            ) from exc
        try:
            sheets = book.worksheets
            if not sheets:
                raise ImportRefused.one(f"{self.name} has no worksheet.")
            if len(sheets) > 1 and not self.notes:
                others = ", ".join(f"“{s.title}”" for s in sheets[1:6])
                self.notes.append(f"Only the first sheet, “{sheets[0].title}”, was read (not {others}).")
            number = 0
            try:
                values_rows = sheets[0].iter_rows(min_row=1, max_col=self.limits.max_columns, values_only=True)
                for number, values in enumerate(values_rows, 1):
                    if number > self.limits.max_scanned_rows:
                        raise self.too_many()
                    yield number, [self._cell(v) for v in values]
            except ImportRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged sheet fails while it streams
                raise ImportRefused.one(
                    f"{self.name} is damaged near row {number + 1} ({type(exc).__name__}). Save it again from Excel."
                ) from exc
        finally:
            book.close()


def sheet_open(*, name: str, data: bytes, limits: Limits, wording: Wording, aliases: Collection[str]) -> SheetFile:
    """The file, checked enough to be read: not empty, not too big, CSV (decoded, its separator
    chosen: the one under which the first row names most ``aliases``) or an XLSX workbook.
    Raises ``ImportRefused``."""
    name = (name or "the file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportRefused.one(f"{name} is empty. Download the template, fill in {wording.one_row}, and upload it.")
    if len(data) > limits.max_file_bytes:
        raise ImportRefused.one(
            f"{name} is {len(data) / 1024 / 1024:.1f} MB; {wording.a_file} can be at most "
            f"{limits.max_file_bytes // 1024 // 1024} MB. {wording.split}"
        )
    sha = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        sheet = SheetFile(name=name, sha256=sha, kind="XLSX", limits=limits, wording=wording, data=data)
        _check_xlsx(sheet)
        return sheet
    _refuse_binary(name, data, wording)
    text = _decode(name, data)
    if "\x00" in text:
        raise ImportRefused.one(f"{name} is not a CSV or XLSX spreadsheet. Save {wording.thing} as .xlsx or CSV.")
    first = next((line for line in text.splitlines() if line.strip(" ,;\t")), "")
    known = set(aliases)
    delimiter = max(DELIMITERS, key=lambda d: _delimiter_score(first, d, known))
    return SheetFile(name=name, sha256=sha, kind="CSV", limits=limits, wording=wording, text=text, delimiter=delimiter)


def _refuse_binary(name: str, data: bytes, wording: Wording) -> None:
    head = data[:2048]
    if data.startswith(CFB_MAGIC):
        if ENCRYPTED_PACKAGE in data:
            raise ImportRefused.one(
                f"{name} is protected with a password, so it can't be read. Open it in Excel, remove the "
                "password (File › Info › Protect Workbook), save it, and upload it again."
            )
        raise ImportRefused.one(
            f"{name} is an old Excel file (.xls). Open it in Excel and save it as .xlsx or CSV, then upload that."
        )
    if head.startswith(b"%PDF"):
        raise ImportRefused.one(f"{name} is a PDF. Upload {wording.thing} as a CSV or XLSX spreadsheet.")
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in head:
        raise ImportRefused.one(f"{name} is not a CSV or XLSX spreadsheet. Save {wording.thing} as .xlsx or CSV.")


def _decode(name: str, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1252"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused.one(
        f"{name} is not a text file we can read (not UTF-8 or Windows-1252). Save it as “CSV UTF-8” and upload "
        "it again."
    )


def _delimiter_score(line: str, delimiter: str, known: set[str]) -> tuple[int, int]:
    """How well ``delimiter`` splits the header line: headers recognised, then cells."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return (0, 0)
    return (sum(1 for c in cells if header_key(c) in known), len(cells))


def _check_xlsx(sheet: SheetFile) -> None:
    name = sheet.name
    try:
        with zipfile.ZipFile(io.BytesIO(sheet.data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                raise ImportRefused.one(_not_excel(name, archive, names, sheet.wording))
            sheet_bytes = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    except zipfile.BadZipFile as exc:
        raise ImportRefused.one(f"{name} looks like an Excel file but is damaged. Save it again from Excel.") from exc
    if sheet_bytes > sheet.limits.max_sheet_xml_bytes:
        raise sheet.too_many()


def _not_excel(name: str, archive: zipfile.ZipFile, names: set[str], wording: Wording) -> str:
    mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    if b"opendocument" in mimetype:
        return f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and upload that."
    if any(n.startswith("Index/") for n in names):
        return f"{name} is a Numbers file. Export it as Excel (.xlsx) or CSV and upload that."
    if "word/document.xml" in names:
        return f"{name} is a Word document. Upload {wording.thing} as a CSV or XLSX spreadsheet."
    return f"{name} is a zip file, not an Excel workbook (.xlsx). Upload {wording.thing} as .xlsx or CSV."


def template_bytes(*, headers: tuple[str, ...] | list[str], examples: list[list[str]]) -> bytes:
    """A template's bytes: ``headers`` and ``examples`` as CSV, UTF-8 with a byte-order mark (so Excel
    shows accents and "£" right)."""
    table = tablib.Dataset(*[tuple(row) for row in examples], headers=list(headers))
    return codecs.BOM_UTF8 + table.export("csv").encode("utf-8")


# --- cells -------------------------------------------------------------------------------------------


def cell_text(value: Any, max_cell: int = 200) -> str:
    """A cell as text: dates as ISO, times as HH:MM, whole numbers without ".0", at most ``max_cell``
    characters."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.date() in EXCEL_TIME_ONLY:
            return _clock(value.time())
        if value.time() == time(0):
            return value.date().isoformat()
        return f"{value.date().isoformat()} {_clock(value.time())}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _clock(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:max_cell]


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}" if not moment.second else f"{moment:%H:%M:%S}"


_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@functools.lru_cache(maxsize=4096)  # a file repeats its few dates thousands of times
def parse_date(text: str) -> date | None:
    """A date as people write it (ISO, or day first: 02/03/2027, 2/3/27, 2 Mar 2027), or None."""
    text = " ".join(text.strip().replace(",", " ").split())
    quick = _DAY_FIRST.fullmatch(text)
    if quick:
        try:
            return date(int(quick[3]), int(quick[2]), int(quick[1]))
        except ValueError:
            return None
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    moment = parse_datetime(text)
    return moment.date() if moment else None


@functools.lru_cache(maxsize=4096)
def parse_datetime(text: str) -> datetime | None:
    """A date with a time in one cell ("2027-03-02 07:00", as XLSX date-times are read), or None."""
    text = " ".join(text.strip().split())
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


@functools.lru_cache(maxsize=1024)
def parse_time(text: str) -> time | None:
    """A clock time: 17:00, 9:30, 17:00:00, 17.00, "5:00 PM", "5pm"; or None."""
    text = " ".join(text.strip().upper().replace(".", ":").split())
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    return None
