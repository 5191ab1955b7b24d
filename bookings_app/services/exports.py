"""Spreadsheet exports: one table (headers + lazy rows) written as CSV or XLSX in constant memory.

Every export (the payment report, the owes list, the audit trail, an import's failed rows) is a
``Table``: a file-name stem, the column headers and an *iterator* of rows, so 50,000 rows are never
held in memory at once — selectors feed it from ``QuerySet.iterator()`` / ``values_list``.

- **CSV** streams: the response is a generator of byte chunks written as the rows are read. UTF-8
  with a byte-order mark so Excel shows accents and "£" right.
- **XLSX** uses openpyxl's write-only workbook (tablib's XLSX engine; rows go to a temporary XML
  file as they come) saved into a spooled temporary file (memory up to a few MB, then disk), which
  is then streamed. tablib itself builds the whole sheet in memory, so it is not used here.

**Formula injection.** A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets (OWASP "CSV injection"); such a
text gets a leading apostrophe, which spreadsheets show as plain text. Numbers stay numbers (a
negative amount is a number, not text), so sums still work in the sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.utils import timezone

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_CHUNK_ROWS = 500  # CSV rows per streamed chunk
_SPOOL_BYTES = 4 * 1024 * 1024  # XLSX kept in memory up to this size, then on disk
_XLSX_MAX_CELL = 32_767  # Excel refuses longer cell text
# XML 1.0 forbids these control characters; openpyxl raises IllegalCharacterError on them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ExportFormatError(ValueError):
    """The asked-for format is not one we write (the view answers 400 with this message)."""


@dataclass(frozen=True)
class Table:
    """One sheet: ``name`` is the file-name stem (no extension), ``rows`` is consumed once."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    sheet_title: str = "Export"


def parse_format(value: str | None) -> str:
    """``csv`` or ``xlsx`` from a query parameter (case-insensitive); anything else is refused."""
    fmt = (value or "csv").strip().lower()
    if fmt not in FORMATS:
        raise ExportFormatError(f"Exports come as CSV or XLSX; “{(value or '')[:20]}” is neither.")
    return fmt


def neutralise(value: Any) -> Any:
    """One cell, safe to open in a spreadsheet: texts that would run as a formula get a leading
    apostrophe; numbers, dates and empty cells pass through."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(_DANGEROUS_START) else value
    return value


def _csv_cell(value: Any, tz: Any = None) -> Any:
    """One CSV cell; ``tz``: the current time zone, when the caller has looked it up once (a file
    is tens of thousands of cells: the common kinds first, each tested once)."""
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(_DANGEROUS_START) else value
    if kind is Decimal or kind is int:
        return value
    if kind is dt.datetime:
        if timezone.is_aware(value):
            value = value.astimezone(tz) if tz is not None else timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if kind is bool:
        return "yes" if value else "no"
    value = neutralise(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _xlsx_cell(value: Any) -> Any:
    value = neutralise(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | int | float | dt.date):
        return value
    text = _ILLEGAL_XML.sub("", str(value))
    return text[:_XLSX_MAX_CELL]


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The CSV file as byte chunks: BOM + header line, then ``_CHUNK_ROWS`` rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in table.headers])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    tz = timezone.get_current_timezone()  # once per file, not per cell (``localtime``'s lookup)
    for row in table.rows:
        writer.writerow([_csv_cell(v, tz) for v in row])
        pending += 1
        if pending >= _CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(table: Table, fh: Any) -> None:
    """Write the workbook into the binary file ``fh`` (openpyxl write-only: constant memory)."""
    from openpyxl import Workbook  # imported here: only exports need it

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(table.sheet_title))
    sheet.append([_xlsx_cell(h) for h in table.headers])
    for row in table.rows:
        sheet.append([_xlsx_cell(v) for v in row])
    workbook.save(fh)


def file_name(table: Table, fmt: str) -> str:
    stem = _UNSAFE_NAME.sub("-", table.name).strip("-.") or "export"
    return f"{stem[:120]}.{fmt}"


def response(table: Table, fmt: str) -> StreamingHttpResponse | FileResponse:
    """The download for ``table`` in ``fmt`` (see ``parse_format``)."""
    name = file_name(table, fmt)
    if fmt == "csv":
        resp = StreamingHttpResponse(csv_chunks(table), content_type=CSV_TYPE)
        resp["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - FileResponse closes it
        write_xlsx(table, spool)
        size = spool.tell()
        spool.seek(0)
        resp = FileResponse(spool, as_attachment=True, filename=name, content_type=XLSX_TYPE)
        resp["Content-Length"] = str(size)
    resp["Cache-Control"] = "no-store"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


def export_links(request: HttpRequest) -> dict[str, str]:
    """The current page's query string with ``format=csv`` / ``format=xlsx``, for the export buttons."""
    out = {}
    for fmt in FORMATS:
        query = request.GET.copy()
        query["format"] = fmt
        out[fmt] = "?" + query.urlencode()
    return out


def _sheet_title(title: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Export"
    return cleaned[:31]
