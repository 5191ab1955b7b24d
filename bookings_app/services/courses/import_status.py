"""What an import's page shows — each course's build and how far it got, from the builds' own records
(no Wix call) — and the downloadable template, filled with this business's own names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bookings_app import selectors
from bookings_app.models import CourseBuild, CourseBuildEvent, CourseImport, DeskAction
from bookings_app.selectors.courses import service_place_id
from bookings_app.services.courses.commit import MADE_ELSEWHERE
from bookings_app.services.courses.import_file import template_csv

State = CourseBuildEvent.State
Status = DeskAction.Status


@dataclass
class ImportedCourse:
    build: CourseBuild
    sessions: int
    created: int  # in Wix
    failed: int  # refused by Wix

    @property
    def status(self) -> str:
        return self.build.action.status if self.build.action else ""

    @property
    def running(self) -> bool:
        return self.status in (Status.QUEUED, Status.RUNNING)


@dataclass
class ImportStatus:
    imported: CourseImport
    courses: list[ImportedCourse]

    @property
    def total(self) -> int:
        return sum(c.sessions for c in self.courses)

    @property
    def created(self) -> int:
        return sum(c.created for c in self.courses)

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.courses)

    @property
    def running(self) -> bool:
        return any(c.running for c in self.courses)

    @property
    def needs_attention(self) -> bool:
        return any(c.status == Status.NEEDS_ATTENTION for c in self.courses)

    @property
    def done(self) -> bool:
        return bool(self.courses) and all(c.status == Status.SYNCED for c in self.courses)


def course_import_get(*, import_id: int) -> CourseImport | None:
    return CourseImport.objects.filter(pk=import_id).select_related("created_by").first()


def course_import_status(*, imported: CourseImport) -> ImportStatus:
    """The import's builds, by course name, with their sessions counted by state (two queries)."""
    builds = list(imported.builds.select_related("service", "action").order_by("service__name", "pk"))
    events = CourseBuildEvent.objects.filter(build__in=builds).only("build_id", "state", "sessions", "error_code")
    counts: dict[int, list[int]] = {b.pk: [0, 0, 0] for b in builds}
    for event in events:
        n = len(event.sessions)
        count = counts[event.build_id]
        count[0] += n
        if event.state == State.CREATED or event.error_code == MADE_ELSEWHERE:
            count[1] += n
        elif event.state == State.FAILED:
            count[2] += n
    return ImportStatus(imported, [ImportedCourse(b, *counts[b.pk]) for b in builds])


def course_import_template(*, today: date) -> bytes:
    """The template CSV: the columns and two example rows with a course, an instructor and a place
    this business has (or placeholders when Front Desk knows none yet), next week."""
    course = next(iter(selectors.course_services()), None)
    teaches = set((course.raw or {}).get("staffMemberIds") or []) if course else set()
    staff = [m for m in selectors.course_instructors() if m.resource_id]
    teacher = next((m for m in staff if m.wix_id in teaches), None) or next(iter(staff), None)
    places = selectors.course_places()
    own = service_place_id(course) if course else ""
    place = next((p for p in places if p.id == own and p.name), None)
    if place is not None and sum(1 for p in places if p.name == place.name) > 1:
        place = None  # two places of that name: the example leaves it to the course
    day = today + timedelta(days=7 - today.weekday() + 1)  # Tuesday next week
    course_name = course.name if course else "Learn to Swim"
    teacher_name = teacher.name if teacher else "Lena Fischer"
    capacity = str(course.default_capacity or 10) if course else "10"
    examples = [
        [course_name, f"{day:%d/%m/%Y}", "17:00", "17:45", teacher_name, place.name if place else "", capacity],
        [course_name, f"{day + timedelta(days=2):%d/%m/%Y}", "17:00", "17:45", teacher_name, "", ""],
    ]
    return template_csv(examples=examples)
