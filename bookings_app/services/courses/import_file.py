"""A timetable spreadsheet (CSV or XLSX) read into rows of text, each with the row number the admin
sees in their spreadsheet program — or refused with what is wrong, in plain words.

**What is read.** CSV in UTF-8 (with or without a byte-order mark), Windows-1252 (Excel's "CSV" on
a UK/US Windows) or UTF-16 with a mark (Excel's "Unicode text"), separated by commas, semicolons or
tabs — the separator is the one that makes the first row a header we recognise. XLSX: the first
worksheet, values as Excel shows them (``data_only``: a formula's last result). The first row
that is not empty names the columns; headers are matched case-insensitively with the common
spellings (``HEADERS``); columns we don't know are ignored and said so.

**Why not tablib's loaders.** tablib's CSV loader skips empty lines (so "row 12" would no longer
be the admin's row 12) and refuses a row longer than the header outright; its XLSX loader reads
the whole sheet before we could stop at the row cap (an XLSX is a zip: a 5 MB file can hold
gigabytes of sheet). So CSV goes through the ``csv`` module tablib itself uses, XLSX through
openpyxl's streaming reader (tablib's own XLSX engine), both stopping at the cap; tablib writes
the downloadable template (``template_csv``).

Refusals (``ImportRefused``): empty, too large, not CSV/XLSX (a PDF, an old ``.xls``, an
OpenDocument or Numbers file, an image), a password-protected XLSX, no header row, a required
column missing or named twice, more than ``MAX_ROWS`` sessions.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import tablib

MAX_ROWS = 2000  # sessions in one file: a year of a busy timetable; more is several files
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_SHEET_XML_BYTES = 40 * 1024 * 1024  # the worksheet unzipped: a zip bomb stops here
MAX_SCANNED_ROWS = 20_000  # empty rows included
MAX_COLUMNS = 40
MAX_CELL = 200  # characters of one cell kept (names and times are short)

FIELDS = ("service", "date", "start", "end", "instructor", "location", "capacity")
REQUIRED = ("service", "date", "start", "end", "instructor")
TEMPLATE_HEADERS = ("Course", "Date", "Start", "End", "Instructor", "Location", "Capacity")
# Header → field, compared after ``header_key`` (lower case, letters and digits, single spaces).
HEADERS: dict[str, tuple[str, ...]] = {
    "service": ("course", "service", "course name", "service name", "class", "course title"),
    "date": ("date", "session date", "day date", "dates"),
    "start": ("start", "start time", "starts", "starts at", "begin", "begins", "from", "time from"),
    "end": ("end", "end time", "ends", "ends at", "finish", "finish time", "finishes", "to", "until", "time to"),
    "instructor": ("instructor", "teacher", "coach", "staff", "staff member", "tutor", "trainer", "instructor name"),
    "location": ("location", "venue", "place", "where", "site", "location name"),
    "capacity": ("capacity", "places", "spaces", "max", "max participants", "size", "spots"),
}
LABELS = {
    "service": "the course (“Course”)",
    "date": "the date (“Date”)",
    "start": "the start time (“Start”)",
    "end": "the end time (“End” or “Finish”)",
    "instructor": "the instructor (“Instructor” or “Teacher”)",
}
_ALIASES = {alias: name for name, aliases in HEADERS.items() for alias in aliases}
_DELIMITERS = (",", ";", "\t")
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or an encrypted .xlsx
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


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
        n, out = self.index + 1, ""
        while n:
            n, rest = divmod(n - 1, 26)
            out = chr(65 + rest) + out
        return out

    @property
    def label(self) -> str:
        return f"{self.letter} “{self.header}”"


@dataclass(frozen=True)
class SheetRow:
    number: int
    cells: dict[str, str]  # field → the cell's text ("" when empty or the column is absent)


@dataclass
class Sheet:
    """The file as rows of text: what the preview shows and the commit reads again (``as_json``)."""

    name: str
    sha256: str
    kind: str  # "CSV" | "XLSX"
    columns: dict[str, Column]
    rows: list[SheetRow]
    ignored: list[str] = field(default_factory=list)  # headers we did not use
    notes: list[str] = field(default_factory=list)  # "Only the first sheet was read …"

    def column(self, name: str) -> str:
        col = self.columns.get(name)
        return col.label if col else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "kind": self.kind,
            "columns": {k: [c.index, c.header] for k, c in self.columns.items()},
            "rows": [[r.number, *(r.cells.get(f, "") for f in FIELDS)] for r in self.rows],
            "ignored": self.ignored,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sheet:
        """The sheet the preview rendered (signed by the view, so only ever our own output)."""
        return cls(
            name=str(data["name"]),
            sha256=str(data["sha256"]),
            kind=str(data["kind"]),
            columns={k: Column(int(v[0]), str(v[1])) for k, v in data["columns"].items()},
            rows=[SheetRow(int(r[0]), dict(zip(FIELDS, map(str, r[1:]), strict=True))) for r in data["rows"]],
            ignored=[str(x) for x in data.get("ignored") or []],
            notes=[str(x) for x in data.get("notes") or []],
        )


def header_key(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def sheet_read(*, name: str, data: bytes) -> Sheet:
    """The rows of an uploaded CSV or XLSX file. Raises ``ImportRefused``."""
    name = (name or "the file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
    if not data or not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportRefused.one(f"{name} is empty. Download the template, fill in one session a row, and upload it.")
    if len(data) > MAX_FILE_BYTES:
        raise ImportRefused.one(
            f"{name} is {len(data) / 1024 / 1024:.1f} MB; a timetable file can be at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB. Split it into terms."
        )
    sha = hashlib.sha256(data).hexdigest()
    if data.startswith(b"PK\x03\x04"):
        grid, notes = _xlsx_grid(name, data)
        kind = "XLSX"
    else:
        _refuse_binary(name, data)
        grid, notes = _csv_grid(name, data), []
        kind = "CSV"
    columns, ignored, rows = _table(name, grid)
    return Sheet(name=name, sha256=sha, kind=kind, columns=columns, rows=rows, ignored=ignored, notes=notes)


# --- CSV ---------------------------------------------------------------------------------------------


def _refuse_binary(name: str, data: bytes) -> None:
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
        raise ImportRefused.one(f"{name} is a PDF. Upload the timetable as a CSV or XLSX spreadsheet.")
    if not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in head:
        raise ImportRefused.one(f"{name} is not a CSV or XLSX spreadsheet. Save the timetable as .xlsx or CSV.")


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


def _csv_grid(name: str, data: bytes) -> list[tuple[int, list[Any]]]:
    text = _decode(name, data)
    if "\x00" in text:
        raise ImportRefused.one(f"{name} is not a CSV or XLSX spreadsheet. Save the timetable as .xlsx or CSV.")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = max(_DELIMITERS, key=lambda d: _delimiter_score(first, d))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    grid: list[tuple[int, list[Any]]] = []
    data_rows = 0
    try:
        for cells in reader:
            # A spreadsheet row (a quoted cell may hold a line break: one row, several lines).
            grid.append((len(grid) + 1, cells[:MAX_COLUMNS]))
            if any(c.strip() for c in cells):
                data_rows += 1
                if data_rows > MAX_ROWS + 1:  # the header, then one row past the cap
                    raise _too_many(name)
    except csv.Error as exc:
        raise ImportRefused([Problem(f"the CSV can't be read ({exc}).", row=len(grid) + 1)]) from exc
    return grid


def _delimiter_score(line: str, delimiter: str) -> tuple[int, int]:
    """How well ``delimiter`` splits the header line: headers recognised, then cells."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return (0, 0)
    return (sum(1 for c in cells if header_key(c) in _ALIASES), len(cells))


def _too_many(name: str) -> ImportRefused:
    return ImportRefused.one(
        f"{name} has more than {MAX_ROWS:,} sessions. Import at most {MAX_ROWS:,} at a time: split the "
        "timetable into terms (one file each)."
    )


# --- XLSX --------------------------------------------------------------------------------------------


def _xlsx_grid(name: str, data: bytes) -> tuple[list[tuple[int, list[Any]]], list[str]]:
    from openpyxl import load_workbook  # tablib's XLSX engine

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                raise ImportRefused.one(_not_excel(name, archive, names))
            sheet_bytes = sum(i.file_size for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    except zipfile.BadZipFile as exc:
        raise ImportRefused.one(f"{name} looks like an Excel file but is damaged. Save it again from Excel.") from exc
    if sheet_bytes > MAX_SHEET_XML_BYTES:
        raise _too_many(name)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything at all on a broken file
        raise ImportRefused.one(
            f"{name} can't be read as an Excel workbook ({type(exc).__name__}). Open it in Excel, save it as "
            ".xlsx again (or as CSV) and upload that."
        ) from exc
    try:
        sheets = book.worksheets
        if not sheets:
            raise ImportRefused.one(f"{name} has no worksheet.")
        notes = []
        if len(sheets) > 1:
            others = ", ".join(f"“{s.title}”" for s in sheets[1:6])
            notes.append(f"Only the first sheet, “{sheets[0].title}”, was read (not {others}).")
        grid: list[tuple[int, list[Any]]] = []
        data_rows = 0
        try:
            for number, values in enumerate(sheets[0].iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True), 1):
                if number > MAX_SCANNED_ROWS:
                    raise _too_many(name)
                cells = [cell_text(v) for v in values]
                grid.append((number, cells))
                if any(cells):
                    data_rows += 1
                    if data_rows > MAX_ROWS + 1:
                        raise _too_many(name)
        except ImportRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged sheet fails while it streams
            raise ImportRefused.one(
                f"{name} is damaged near row {len(grid) + 1} ({type(exc).__name__}). Save it again from Excel."
            ) from exc
        return grid, notes
    finally:
        book.close()


def _not_excel(name: str, archive: zipfile.ZipFile, names: set[str]) -> str:
    mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    if b"opendocument" in mimetype:
        return f"{name} is an OpenDocument spreadsheet (.ods). Save it as .xlsx or CSV and upload that."
    if any(n.startswith("Index/") for n in names):
        return f"{name} is a Numbers file. Export it as Excel (.xlsx) or CSV and upload that."
    if "word/document.xml" in names:
        return f"{name} is a Word document. Upload the timetable as a CSV or XLSX spreadsheet."
    return f"{name} is a zip file, not an Excel workbook (.xlsx). Upload the timetable as .xlsx or CSV."


EXCEL_TIME_ONLY = {date(1899, 12, 30), date(1899, 12, 31), date(1900, 1, 1)}


def cell_text(value: Any) -> str:
    """A cell as text: dates as ISO, times as HH:MM, whole numbers without ".0"."""
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
    return str(value).strip()[:MAX_CELL]


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}" if not moment.second else f"{moment:%H:%M:%S}"


# --- the table ---------------------------------------------------------------------------------------


def _table(name: str, grid: list[tuple[int, list[Any]]]) -> tuple[dict[str, Column], list[str], list[SheetRow]]:
    filled = [
        (n, [str(c).strip()[:MAX_CELL] for c in cells]) for n, cells in grid if any(str(c).strip() for c in cells)
    ]
    if not filled:
        raise ImportRefused.one(f"{name} is empty. Download the template, fill in one session a row, and upload it.")
    header_row, headers = filled[0]
    columns: dict[str, Column] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for index, header in enumerate(headers):
        if not header:
            continue
        field_name = _ALIASES.get(header_key(header))
        if field_name is None:
            ignored.append(header)
        elif field_name in columns:
            other = columns[field_name]
            problems.append(
                Problem(
                    f"columns {other.label} and {Column(index, header).label} both look like {_label(field_name)}: "
                    "rename or delete one of them.",
                    row=header_row,
                )
            )
        else:
            columns[field_name] = Column(index, header)
    if not columns:
        shown = ", ".join(f"“{h}”" for h in headers if h)[:200]
        raise ImportRefused(
            [
                Problem(
                    f"the first row should name the columns — {', '.join(TEMPLATE_HEADERS)} — but it has {shown}. "
                    "Download the template to see the layout.",
                    row=header_row,
                )
            ]
        )
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        problems.append(
            Problem(
                f"no column for {', '.join(LABELS[f] for f in missing)}. The columns are "
                f"{', '.join(TEMPLATE_HEADERS)} (Location and Capacity may be left out).",
                row=header_row,
            )
        )
    if problems:
        raise ImportRefused(problems)
    rows = [
        SheetRow(number, {f: (cells[c.index] if c.index < len(cells) else "") for f, c in columns.items()})
        for number, cells in filled[1:]
    ]
    rows = [r for r in rows if any(r.cells.values())]  # only an ignored column filled in: a note, not a session
    if not rows:
        raise ImportRefused.one(f"{name} has the column names but no sessions under them.")
    if len(rows) > MAX_ROWS:
        raise _too_many(name)
    return columns, ignored, rows


def _label(field_name: str) -> str:
    return LABELS.get(field_name) or {"location": "the location", "capacity": "the capacity"}[field_name]


def template_csv(*, examples: list[list[str]]) -> bytes:
    """The template's bytes: the headers and ``examples``, UTF-8 with a byte-order mark (so Excel
    shows accents right), dates as dd/mm/yyyy."""
    table = tablib.Dataset(*[tuple(row) for row in examples], headers=list(TEMPLATE_HEADERS))
    return codecs.BOM_UTF8 + table.export("csv").encode("utf-8")
