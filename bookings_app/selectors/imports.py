"""Reads for the participant import screens: the history, one import, its rows a page at a time by
what became of them (with each released row's parts done and missing), and a sample of the file
under each column for the mapping screen. A fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from bookings_app.models import ImportRow, ParticipantImport
from bookings_app.services.imports.results import Outcome, rows_outcomes
from bookings_app.services.imports.sheet import column_letter

State = ImportRow.State
PER_PAGE = 50
SAMPLE_ROWS = 3

# The row lists of an import's page: name → (label, filter).
VIEWS: dict[str, tuple[str, Q]] = {
    "errors": ("Errors", Q(state=State.INVALID, batch__isnull=True)),
    "planned": ("To import", Q(state=State.PLANNED)),
    "skip": ("Already done", Q(state=State.SKIP, batch__isnull=True)),
    "failed": ("Failed", Q(state=State.FAILED) | Q(state=State.INVALID, batch__isnull=False)),
    "done": ("Done", Q(state=State.DONE) | Q(state=State.SKIP, batch__isnull=False)),
    "waiting": ("Waiting for Wix", Q(state=State.WAITING)),
    "all": ("All rows", Q()),
}
BEFORE_COMMIT = ("errors", "planned", "skip", "all")
AFTER_COMMIT = ("failed", "done", "waiting", "planned", "errors", "skip", "all")


def imports_recent(*, limit: int = 50) -> list[ParticipantImport]:
    return list(ParticipantImport.objects.select_related("created_by", "committed_by").order_by("-created_at")[:limit])


def import_get(*, import_id: int) -> ParticipantImport | None:
    return ParticipantImport.objects.filter(pk=import_id).select_related("created_by", "committed_by").first()


def imports_of_file(*, imported: ParticipantImport) -> list[ParticipantImport]:
    """Earlier imports of this very file (the same bytes) that were committed."""
    return list(
        ParticipantImport.objects.filter(file_sha256=imported.file_sha256, committed_at__isnull=False)
        .exclude(pk=imported.pk)
        .select_related("committed_by")
        .order_by("-committed_at")[:5]
    )


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    count: int
    current: bool


@dataclass
class RowsPage:
    view: str
    tabs: list[Tab]
    rows: list[ImportRow]
    outcomes: dict[int, Outcome]
    page: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        return (self.page - 1) * PER_PAGE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PER_PAGE, self.total)


def import_rows_page(*, imported: ParticipantImport, view: str, page: int) -> RowsPage:
    """One page of the import's rows in ``view`` (unknown views: the first that has rows), the tabs
    with their counts. Three queries, four with released rows on the page."""
    names = AFTER_COMMIT if imported.committed else BEFORE_COMMIT
    counts = imported.rows.aggregate(**{name: Count("pk", filter=VIEWS[name][1]) for name in names})
    if view not in names or (not counts[view] and view != "all"):  # an emptied tab: the first with rows
        view = next((n for n in names if counts[n] and n != "all"), "all")
    total = counts[view]
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(max(page, 1), pages)
    rows = list(_rows(imported, view)[(page - 1) * PER_PAGE : page * PER_PAGE])
    outcomes = rows_outcomes([r for r in rows if r.actions])
    for row in rows:
        row.outcome = outcomes.get(row.pk)  # type: ignore[attr-defined]
    label = {"planned": "Not started"} if imported.committed else {}
    tabs = [
        Tab(n, label.get(n, VIEWS[n][0]), counts[n], n == view) for n in names if counts[n] or n == view or n == "all"
    ]
    return RowsPage(view=view, tabs=tabs, rows=rows, outcomes=outcomes, page=page, pages=pages, total=total)


def _rows(imported: ParticipantImport, view: str) -> QuerySet[ImportRow]:
    return imported.rows.filter(VIEWS[view][1]).order_by("number")


@dataclass(frozen=True)
class SampleColumn:
    index: int
    letter: str
    header: str
    values: list[str]
    field: str  # the field it is mapped to ("" = not imported)


def import_sample(*, imported: ParticipantImport, mapping: dict[str, Any] | None = None) -> list[SampleColumn]:
    """Each column of the file with its first few values and the field it is mapped to."""
    mapping = imported.mapping if mapping is None else mapping
    by_index = {index: name for name, index in mapping.items()}
    first = list(imported.rows.order_by("number").values_list("values", flat=True)[:SAMPLE_ROWS])
    return [
        SampleColumn(
            index=i,
            letter=column_letter(i),
            header=str(header),
            values=[str(v[i]) for v in first if i < len(v) and v[i]],
            field=by_index.get(i, ""),
        )
        for i, header in enumerate(imported.headers)
    ]
