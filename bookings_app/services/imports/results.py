"""What became of an import's rows: each released row's result read from its desk actions, the
counts the progress bar shows (and the time left at the Wix rate budget), and the failed rows as a
spreadsheet to fix and upload again.

A released row is **done** when every one of its actions is in Wix; **refused** when one needs
attention (Wix said no), was removed or undone at the desk, or waits on another action that did —
its message says what Wix refused and what is missing (what is done stays done: the row never
half-writes *locally*, and in Wix it is reported part by part); else it is **waiting for Wix**.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Q

from bookings_app.models import DeskAction, ImportRow, ParticipantImport
from bookings_app.services.exports import Table

State = ImportRow.State
Status = DeskAction.Status
Kind = DeskAction.Kind
GONE = (Status.NEEDS_ATTENTION, Status.REMOVED, Status.UNDONE)
STEP = {
    Kind.CONTACT_CREATE: "the new customer",
    Kind.WALK_IN: "the booking",
    Kind.PAYMENT: "the payment",
    Kind.PLAN_CHARGE: "the plan charge",
    Kind.PAY_LATER: "marking it owed",
    Kind.ATTENDANCE: "the check-in",
}


@dataclass(frozen=True)
class Outcome:
    state: str
    message: str = ""
    done: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def row_outcome(row: ImportRow, actions: dict[int, DeskAction], gone_elsewhere: set[int]) -> Outcome:
    """A released row's result from its actions (``gone_elsewhere``: pks of actions outside the row
    that it waits on and that will not reach Wix)."""
    mine = [actions[pk] for pk in row.actions if pk in actions]
    done = tuple(STEP.get(a.kind, a.get_kind_display()) for a in mine if a.status == Status.SYNCED)
    missing = tuple(STEP.get(a.kind, a.get_kind_display()) for a in mine if a.status != Status.SYNCED)
    if len(mine) < len(row.actions):
        return Outcome(State.FAILED, "Some of this row's desk actions were deleted.", done, missing)
    if all(a.status == Status.SYNCED for a in mine):
        return Outcome(State.DONE, "", done, ())
    refused = next((a for a in mine if a.status in GONE), None)
    blocked = next((a for a in mine if a.depends_on_id in gone_elsewhere), None)
    if refused is None and blocked is None:
        return Outcome(State.WAITING, "", done, missing)
    if refused is not None:
        what = STEP.get(refused.kind, refused.get_kind_display())
        if refused.status == Status.NEEDS_ATTENTION:
            why = f"Wix refused {what}: {refused.message or refused.error_code or 'no reason given'}"
        else:
            why = f"{what[0].upper()}{what[1:]} was {refused.get_status_display().lower()} at the desk"
    else:
        why = "It waits on a booking Wix refused (see its roster)"
    text = why if why.endswith((".", "?", "!")) else why + "."
    if done:
        text += f" Done: {', '.join(done)}."
    text += f" Not done: {', '.join(missing)}."
    return Outcome(State.FAILED, text[:1000], done, missing)


def rows_outcomes(rows: list[ImportRow]) -> dict[int, Outcome]:
    """Row pk → outcome, for released rows: two queries however many rows."""
    ids = {pk for r in rows for pk in r.actions}
    actions = {
        a.pk: a
        for a in DeskAction.objects.filter(pk__in=ids).only(
            "pk", "kind", "status", "message", "error_code", "depends_on_id"
        )
    }
    outside = {a.depends_on_id for a in actions.values() if a.depends_on_id and a.depends_on_id not in actions}
    gone = set(DeskAction.objects.filter(pk__in=outside, status__in=GONE).values_list("pk", flat=True))
    return {r.pk: row_outcome(r, actions, gone) for r in rows if r.actions}


def rows_refresh(imported: ParticipantImport, *, states: tuple[str, ...] = (State.WAITING,)) -> int:
    """Read the results of the released rows in ``states`` from their actions; returns how many
    changed."""
    changed: list[ImportRow] = []
    rows = list(imported.rows.filter(state__in=states).only("pk", "state", "message", "actions"))
    for start in range(0, len(rows), 500):
        part = rows[start : start + 500]
        outcomes = rows_outcomes(part)
        for row in part:
            outcome = outcomes.get(row.pk)
            if outcome is not None and (outcome.state, outcome.message) != (row.state, row.message):
                row.state, row.message = outcome.state, outcome.message
                changed.append(row)
    if changed:
        ImportRow.objects.bulk_update(changed, ["state", "message"], batch_size=500)
    return len(changed)


@dataclass(frozen=True)
class Counts:
    done: int  # in Wix, or found already done when released
    failed: int  # refused by Wix, or no longer valid when released
    waiting: int  # released, on their way
    planned: int  # not released yet
    errors: int  # refused by the dry run: never imported

    @property
    def to_import(self) -> int:
        return self.done + self.failed + self.waiting + self.planned

    @property
    def finished(self) -> int:
        return self.done + self.failed


def counts_update(imported: ParticipantImport) -> Counts:
    """Count the rows by result (one query) and keep the counts on the import for the progress bar."""
    released = Q(batch__isnull=False)
    found = imported.rows.aggregate(
        done=Count("pk", filter=Q(state=State.DONE) | (Q(state=State.SKIP) & released)),
        failed=Count("pk", filter=Q(state=State.FAILED) | (Q(state=State.INVALID) & released)),
        waiting=Count("pk", filter=Q(state=State.WAITING)),
        planned=Count("pk", filter=Q(state=State.PLANNED)),
        errors=Count("pk", filter=Q(state=State.INVALID, batch__isnull=True)),
    )
    counts = Counts(**found)
    total_calls = int((imported.diff or {}).get("calls") or 0)
    to_import = counts.to_import or 1
    calls_left = round(total_calls * (counts.waiting + counts.planned) / to_import)
    ParticipantImport.objects.filter(pk=imported.pk).update(
        rows_done=counts.done,
        rows_failed=counts.failed,
        rows_waiting=counts.waiting,
        rows_planned=counts.planned,
        calls_left=calls_left,
    )
    imported.rows_done, imported.rows_failed = counts.done, counts.failed
    imported.rows_waiting, imported.rows_planned, imported.calls_left = counts.waiting, counts.planned, calls_left
    return counts


def seconds_left(imported: ParticipantImport) -> int:
    """The time the rows still to send should take at the Wix rate budget (calls a minute)."""
    per_minute = max(int(getattr(settings.WIX, "rate_limit_per_minute", 200) or 200), 1)
    return round(imported.calls_left * 60 / per_minute)


# --- the failed rows, to fix and upload again -----------------------------------------------------------


ERROR_HEADER = "Error"


def failed_rows_table(imported: ParticipantImport) -> Table:
    """The rows that were not imported — errors of the dry run, rows Wix refused — with the file's own
    columns (so it reads back with the same mapping) and an "Error" column last."""
    headers = [str(h) for h in imported.headers]
    width = len(headers)
    stem = imported.file_name.rsplit(".", 1)[0] or "import"
    return Table(
        name=f"{stem}-failed-rows",
        headers=[*headers, ERROR_HEADER],
        rows=_failed_rows(imported, width),
        sheet_title="Failed rows",
    )


def _failed_rows(imported: ParticipantImport, width: int) -> Iterator[list[Any]]:
    rows = (
        imported.rows.filter(state__in=ImportRow.PROBLEM)
        .order_by("number")
        .values_list("number", "values", "column", "message")
        .iterator(chunk_size=1000)
    )
    for number, values, column, message in rows:
        cells = [*(str(v) for v in values[:width]), *([""] * max(width - len(values), 0))]
        where = f"Row {number}, column {column}" if column else f"Row {number}"
        yield [*cells, f"{where}: {message}"]
