"""Step 1 of a participant import: the uploaded file read (``sheet``) into a ``ParticipantImport`` and
one ``ImportRow`` per row with something in it — nothing else changes. The rows are written in
chunks as the file streams, so a 20,000-row file never sits in memory as 20,000 lists.

The header row is the first of the first few filled rows that names at least two columns we know
(a title line above it — "Sign-in sheet, March" — is skipped and said so), else the first filled
row. The mapping is guessed at once (``mapping.mapping_guess``): the admin checks it next.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.db import transaction

from bookings_app.models import ImportRow, ParticipantImport
from bookings_app.services.imports import mapping as mapping_
from bookings_app.services.imports.sheet import ImportRefused, Limits, Wording, header_key, sheet_open

MAX_ROWS = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CELL = 1000  # characters kept of one cell; the row check says when a field is longer than it may be
LIMITS = Limits(
    max_rows=MAX_ROWS, max_file_bytes=MAX_FILE_BYTES, max_scanned_rows=2 * MAX_ROWS, max_cell=MAX_CELL, max_columns=40
)
WORDING = Wording(
    thing="the participants",
    a_file="a participants file",
    rows="participant rows",
    one_row="one participant a row",
    split="Split it into smaller files.",
    split_many="split the file (one class or one week a file, say)",
)
HEADER_SEARCH = 10  # filled rows looked at for the header
CHUNK = 1000  # rows written at a time


def import_upload(*, user: Any, name: str, data: bytes) -> ParticipantImport:
    """Read an uploaded CSV or XLSX of participants into a new import (status UPLOADED), its
    mapping guessed. Raises ``ImportRefused`` (nothing is saved): not a spreadsheet, empty, too big,
    more than ``MAX_ROWS`` rows, no rows under the headers."""
    file = sheet_open(name=name, data=data, limits=LIMITS, wording=WORDING, aliases=mapping_.ALIASES)
    rows = file.rows()
    head = list(islice(rows, HEADER_SEARCH))
    if not head:
        raise ImportRefused.one(f"{file.name} is empty. Download the template, fill in one participant a row.")
    at = _header_index(head)
    header_row, headers = head[at]
    notes = list(file.notes)
    if at:
        skipped = ", ".join(str(n) for n, _ in head[:at])
        notes.append(
            f"Row{'s' if at > 1 else ''} {skipped} above the column names {'were' if at > 1 else 'was'} not read."
        )
    headers = _trim(headers)
    guess, remembered = mapping_.mapping_guess(headers)
    if remembered:
        notes.append("The columns are chosen as for your last file with these column names.")
    with transaction.atomic():
        imported = ParticipantImport.objects.create(
            created_by=user if getattr(user, "is_authenticated", False) else None,
            file_name=file.name,
            file_sha256=file.sha256,
            file_kind=file.kind,
            headers=headers,
            header_row=header_row,
            mapping=guess,
            notes=notes,
        )
        total = _write_rows(imported, head[at + 1 :], rows)
        if not total:
            raise ImportRefused.one(f"{file.name} has the column names but no participants under them.")
        imported.rows_total = total
        imported.notes = notes + [n for n in file.notes if n not in notes]  # the XLSX note comes while reading
        imported.save(update_fields=["rows_total", "notes"])
    return imported


def _header_index(head: list[tuple[int, list[str]]]) -> int:
    for index, (_, cells) in enumerate(head):
        if sum(1 for c in cells if header_key(c) in mapping_.ALIASES) >= 2:
            return index
    return 0


def _trim(cells: list[str]) -> list[str]:
    out = list(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _write_rows(imported: ParticipantImport, first: list[tuple[int, list[str]]], rest: Any) -> int:
    """Every row after the header, in chunks; returns how many."""
    total = 0
    batch: list[ImportRow] = []
    source = _chain(first, rest)
    for number, cells in source:
        batch.append(ImportRow(participant_import=imported, number=number, values=_trim(cells)))
        if len(batch) >= CHUNK:
            ImportRow.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        ImportRow.objects.bulk_create(batch)
        total += len(batch)
    return total


def _chain(first: list[tuple[int, list[str]]], rest: Any) -> Any:
    yield from first
    yield from rest
