"""A timetable spreadsheet (CSV or XLSX) read into rows of text, each with the row number the admin
sees in their spreadsheet program — or refused with what is wrong, in plain words.

The file itself is read by ``services.imports.sheet`` (encodings, separators, XLSX streaming, the
refusals of files that are not spreadsheets), which the participant import shares. Here: the
timetable's columns. The first row that is not empty names them; headers are matched
case-insensitively with the common spellings (``HEADERS``); columns we don't know are ignored and
said so. Refusals (``ImportRefused``) beyond the reader's: no header row, a required column missing
or named twice, more than ``MAX_ROWS`` sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bookings_app.services.imports.sheet import (
    CFB_MAGIC,
    ENCRYPTED_PACKAGE,
    Column,
    ImportRefused,
    Limits,
    Problem,
    Wording,
    cell_text,
    header_key,
    sheet_open,
    template_bytes,
)

__all__ = [
    "CFB_MAGIC",
    "ENCRYPTED_PACKAGE",
    "FIELDS",
    "HEADERS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "Column",
    "ImportRefused",
    "Problem",
    "Sheet",
    "SheetRow",
    "cell_text",
    "header_key",
    "sheet_read",
    "template_csv",
]

MAX_ROWS = 2000  # sessions in one file: a year of a busy timetable; more is several files
MAX_FILE_BYTES = 5 * 1024 * 1024
LIMITS = Limits(max_rows=MAX_ROWS, max_file_bytes=MAX_FILE_BYTES)
WORDING = Wording(
    thing="the timetable",
    a_file="a timetable file",
    rows="sessions",
    one_row="one session a row",
    split="Split it into terms.",
    split_many="split the timetable into terms (one file each)",
)

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


def sheet_read(*, name: str, data: bytes) -> Sheet:
    """The rows of an uploaded CSV or XLSX file. Raises ``ImportRefused``."""
    file = sheet_open(name=name, data=data, limits=LIMITS, wording=WORDING, aliases=_ALIASES)
    columns, ignored, rows = _table(file.name, file.rows())
    if len(rows) > MAX_ROWS:
        raise file.too_many()
    return Sheet(
        name=file.name,
        sha256=file.sha256,
        kind=file.kind,
        columns=columns,
        rows=rows,
        ignored=ignored,
        notes=file.notes,
    )


def _table(name: str, filled: Iterator[tuple[int, list[str]]]) -> tuple[dict[str, Column], list[str], list[SheetRow]]:
    first = next(filled, None)
    if first is None:
        raise ImportRefused.one(f"{name} is empty. Download the template, fill in one session a row, and upload it.")
    header_row, headers = first
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
        for number, cells in filled
    ]
    rows = [r for r in rows if any(r.cells.values())]  # only an ignored column filled in: a note, not a session
    if not rows:
        raise ImportRefused.one(f"{name} has the column names but no sessions under them.")
    return columns, ignored, rows


def _label(field_name: str) -> str:
    return LABELS.get(field_name) or {"location": "the location", "capacity": "the capacity"}[field_name]


def template_csv(*, examples: list[list[str]]) -> bytes:
    """The template's bytes: the headers and ``examples``, UTF-8 with a byte-order mark (so Excel
    shows accents right), dates as dd/mm/yyyy."""
    return template_bytes(headers=TEMPLATE_HEADERS, examples=examples)
