"""The timetable ``course_builder.py`` builds: twelve courses and four instructors in the sandbox's
state file, mirrored; the builder's fields for every course and term; the same sessions as
spreadsheet rows; an irregular term. Split from the bench to keep each file readable."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from settle_roster import use_sandbox_file

INSTRUCTORS = ("Lena Fischer", "Sam Rivers", "Maya Thompson", "Ravi Patel")


@dataclass
class Course:
    index: int
    wix: dict[str, Any]
    teacher: str
    weekdays: tuple[int, int]
    hour: int

    @property
    def name(self) -> str:
        return self.wix["name"]


@dataclass
class World:
    courses: list[Course]
    staff: dict[str, dict[str, Any]]


# --- arranging ---------------------------------------------------------------------------------------


def arrange(state_path: Path, n_courses: int) -> World:
    from bookings_app.wix import get_sandbox
    from tests.wix_sandbox.builders import make_location, make_service, make_staff

    use_sandbox_file(state_path)
    sb = get_sandbox()
    staff = {name: make_staff(sb, name) for name in INSTRUCTORS}
    lake = make_location(sb, "Lakeside Centre")
    courses = []
    for i in range(n_courses):
        teacher = INSTRUCTORS[i % len(INSTRUCTORS)]
        service = make_service(
            sb,
            type="COURSE",
            name=f"Course {i + 1:02d}",
            price="96",
            capacity=10 + i % 5,
            staff=[staff[teacher]],
            location=lake,
            duration_minutes=45,
        )
        # A teacher's courses never overlap: another hour each, two weekdays two days apart.
        courses.append(Course(i, service, teacher, (i % 5, (i % 5 + 2) % 5), 16 + i // len(INSTRUCTORS)))
    return World(courses=courses, staff=staff)


def mirror() -> None:
    from bookings_app.services import sync
    from bookings_app.wix import get_wix_client

    with get_wix_client() as client:
        report = sync.sync_full(wix=client)
    if report.error:
        raise SystemExit(f"sync_full failed: {report.error}")


def reset_database(sqlite_path: Path) -> Any:
    """The bench's own database, fresh and migrated, with an Admin; returns the user."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from bookings_app import roles

    connections.close_all()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    call_command("setup_roles", stdout=io.StringIO())
    user = get_user_model().objects.create_user("bench-admin", password=None)
    user.groups.set([Group.objects.get(name=roles.ADMIN)])
    return user


def term_forms(world: World, first_monday: date, terms: int, weeks: int) -> list[dict[str, str]]:
    """The builder's fields for every course and term: 12 weeks, half-term off, a bank holiday."""
    from bookings_app.models import Service, StaffMember

    services = {s.wix_id: s.pk for s in Service.objects.all()}
    staff = {m.name: m.pk for m in StaffMember.objects.all()}
    forms = []
    for term in range(terms):
        first = first_monday + timedelta(weeks=term * (weeks + 1))
        for course in world.courses:
            data = {
                "service": str(services[course.wix["id"]]),
                "instructor": str(staff[course.teacher]),
                "location": "",
                "capacity": "",
                "first_date": first.isoformat(),
                "last_date": "",
                "weeks": str(weeks),
            }
            for row, weekday in enumerate(course.weekdays):
                data |= {
                    f"slot-{row}-weekday": str(weekday),
                    f"slot-{row}-start": f"{course.hour:02d}:00",
                    f"slot-{row}-end": f"{course.hour:02d}:45",
                }
            excluded = []
            if weeks >= 8 and term != 2:
                half = first + timedelta(weeks=weeks // 2)
                excluded.append((half, half + timedelta(days=4), "Half-term"))
            if weeks >= 4 and term == 1:
                bank = first + timedelta(weeks=2)
                excluded.append((bank, bank, "Bank holiday"))
            for row, (start, end, reason) in enumerate(excluded):
                data |= {
                    f"exclusion-{row}-first": start.isoformat(),
                    f"exclusion-{row}-last": end.isoformat(),
                    f"exclusion-{row}-reason": reason,
                }
            forms.append(data)
    return forms


def timetable_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Course", "Date", "Start", "End", "Instructor", "Location", "Capacity"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def rows_of_builds() -> list[list[str]]:
    """Every session our builds made, as a spreadsheet row (what an admin's export would hold)."""
    from datetime import datetime

    from bookings_app.models import CourseBuildEvent, StaffMember

    by_resource = {m.resource_id: m.name for m in StaffMember.objects.all()}
    rows = []
    for event in CourseBuildEvent.objects.select_related("build__service").order_by("build", "position"):
        start = datetime.fromisoformat(event.payload["start"]["localDate"])
        length = datetime.fromisoformat(event.payload["end"]["localDate"]) - start
        teacher = by_resource[event.payload["resources"][0]["id"]]
        for local in event.sessions:
            moment = datetime.fromisoformat(local)
            rows.append(
                [
                    event.build.service.name,
                    f"{moment:%d/%m/%Y}",
                    f"{moment:%H:%M}",
                    f"{moment + length:%H:%M}",
                    teacher,
                    "",
                    str(event.payload["totalCapacity"]),
                ]
            )
    return rows


def irregular_rows(world: World, first_monday: date, per_course: int, seed: int = 11) -> list[list[str]]:
    """A term that is the same no two weeks: ``per_course`` dates each, early in the morning."""
    rng = random.Random(seed)
    rows = []
    for course in world.courses:
        days = sorted(rng.sample(range(0, 8 * 7), per_course))
        for n, offset in enumerate(days):
            teacher = course.teacher if n % 4 else INSTRUCTORS[(course.index + 1) % len(INSTRUCTORS)]
            hour = 6 + course.index % 3
            minute = 15 * (course.index // 3 % 4)
            rows.append(
                [
                    course.name,
                    f"{first_monday + timedelta(days=offset):%d/%m/%Y}",
                    f"{hour:02d}:{minute:02d}",
                    f"{hour:02d}:{minute + 14:02d}",
                    teacher,
                    "",
                    "",
                ]
            )
    return rows
