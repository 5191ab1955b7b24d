"""Helpers of the participant import tests: files as an admin's spreadsheet program writes them, and
the whole flow (upload → dry run → commit → the runner) driven through the services."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookings_app.models import ParticipantImport
from bookings_app.services.imports import commit, dry_run, run, upload
from tests.services.conftest import World, key

HEADERS = ["First name", "Surname", "Email", "Phone", "Class", "Date", "Time", "Paid", "Amount", "Plan", "Attended"]


def csv_bytes(
    rows: list[list[Any]], *, headers: list[str] | None = None, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS if headers is None else headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, headers: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS if headers is None else headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def class_day(w: World) -> str:
    """The day of the world's class (tomorrow), as the UK writes it."""
    return f"{w.session().start.astimezone(timezone.get_current_timezone()):%d/%m/%Y}"


def person_row(person: dict[str, Any], w: World, *, paid: str = "", amount: str = "", attended: str = "") -> list[str]:
    contact = person["contact"]
    name = contact["info"]["name"]
    return [
        name["first"],
        name.get("last", ""),
        contact["primaryInfo"]["email"],
        "",
        "Open Water Swim",
        class_day(w),
        "07:00",
        paid,
        amount,
        "",
        attended,
    ]


def uploaded(user: Any, data: bytes, name: str = "sheet.csv") -> ParticipantImport:
    return upload.import_upload(user=user, name=name, data=data)


def checked(user: Any, data: bytes, *, allow_new: bool = False, name: str = "sheet.csv") -> ParticipantImport:
    imported = uploaded(user, data, name)
    return dry_run.import_check(user=user, imported=imported, mapping=imported.mapping, allow_new_contacts=allow_new)


def committed(user: Any, imported: ParticipantImport) -> ParticipantImport:
    return commit.import_commit(user=user, imported=imported, idempotency_key=key("imp"), digest=imported.plan_digest)


def run_all(w: World, imported: ParticipantImport, *, rounds: int = 20) -> ParticipantImport:
    """The runner until the import is finished (backoffs skipped: the next run is forced due)."""
    for _ in range(rounds):
        ParticipantImport.objects.filter(pk=imported.pk).update(next_run_at=timezone.now() - timedelta(seconds=1))
        run.imports_run_due(wix=w.wix)
        imported.refresh_from_db()
        if imported.status in (ParticipantImport.Status.DONE, ParticipantImport.Status.CANCELLED):
            break
    return imported


def tz_name() -> str:
    return settings.TIME_ZONE


# --- a world with a class yesterday (check-ins), tomorrow's class and a course ---------------------------


class ImportWorld:
    """The desk tests' world (``World``: tomorrow's class, a 10-swim pass) with yesterday's session of
    the class — a sign-in sheet is about a class that has happened — and a course."""

    def __init__(self, w: World) -> None:
        from tests.services.conftest import add_course, another_session

        self.w = w
        self.yesterday = another_session(w, days=-2, capacity=40)  # tomorrow's date minus two days
        self.course, self.course_events = add_course(w, capacity=3)

    def row(
        self,
        person: dict[str, Any] | None = None,
        *,
        first: str = "",
        last: str = "",
        email: str | None = None,
        phone: str = "",
        service: str = "Open Water Swim",
        event: dict[str, Any] | None | str = "yesterday",
        paid: str = "",
        amount: str = "",
        plan: str = "",
        attended: str = "",
    ) -> list[str]:
        """One row of the standard columns (``HEADERS``) for ``person`` (a ``World.customer``)."""
        if person is not None:
            contact = person["contact"]
            name = contact["info"]["name"]
            first, last = first or name["first"], last or name.get("last", "")
            email = contact["primaryInfo"]["email"] if email is None else email
        chosen = self.yesterday if event == "yesterday" else event
        day, at = "", ""
        if chosen:
            start = datetime.fromisoformat(chosen["start"]["localDate"])
            day, at = f"{start:%d/%m/%Y}", f"{start:%H:%M}"
        return [first, last, email or "", phone, service, day, at, paid, amount, plan, attended]
