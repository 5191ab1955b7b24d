"""Helpers of the timetable import tests: files as an admin's spreadsheet program writes them."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookings_app.services import courses
from bookings_app.services.courses import Sheet
from tests.services.courses.helpers import TUE, CourseWorld, next_weekday

HEADERS = ["Course", "Date", "Start", "End", "Instructor", "Location", "Capacity"]


def csv_bytes(
    rows: list[list[Any]], *, headers: list[str] | None = None, delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADERS if headers is None else headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, headers: list[str] | None = None, title: str = "Term") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(HEADERS if headers is None else headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def uk(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def swim_rows(cw: CourseWorld, *, weeks: int = 3, first: date | None = None) -> list[list[str]]:
    """Learn to Swim on Tuesdays 17:00–17:45 and one Saturday 10:00–11:00 a fortnight: irregular."""
    first = first or next_weekday(TUE)
    rows = []
    for week in range(weeks):
        day = first + timedelta(weeks=week)
        rows.append(["Learn to Swim", uk(day), "17:00", "17:45", "Lena Fischer", "", "12"])
        if week % 2 == 0:
            rows.append(
                ["learn to swim", (day + timedelta(days=4)).isoformat(), "10:00", "11:00", "lena fischer", "", ""]
            )
    return rows


def read(data: bytes, name: str = "term.csv") -> Sheet:
    return courses.sheet_read(name=name, data=data)


def preview_of(data: bytes, name: str = "term.csv") -> courses.ImportPreview:
    return courses.course_import_preview(sheet=read(data, name), today=timezone.localdate(), tz=settings.TIME_ZONE)


def commit(data: bytes, key: str, name: str = "term.csv", user: Any = None) -> Any:
    sheet = read(data, name)
    preview = courses.course_import_preview(sheet=sheet, today=timezone.localdate(), tz=settings.TIME_ZONE)
    return courses.course_import_commit(
        user=user,
        sheet=sheet,
        digest=preview.digest,
        idempotency_key=key,
        today=timezone.localdate(),
        tz=settings.TIME_ZONE,
    )


def problems(excinfo: Any) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


SEVENTEEN = time(17)


def add_aqua_fit(cw: CourseWorld) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A second course, Aqua Fit, at The Boathouse, taught by Sam Okafor (mirrored)."""
    from tests.wix_sandbox.builders import make_location, make_service, make_staff

    sam = make_staff(cw.sb, "Sam Okafor")
    boathouse = make_location(cw.sb, "The Boathouse")
    course = make_service(
        cw.sb, type="COURSE", name="Aqua Fit", price="80", capacity=8, staff=[sam], location=boathouse
    )
    cw.world.mirror()
    return course, sam, boathouse
