"""Helpers of the course builder tests: a course in the sandbox, mirrored, and terms of it."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from bookings_app.models import CourseBuild, DeskAction, Service, StaffMember
from bookings_app.services import courses
from bookings_app.services.courses import Exclusion, Slot, Term
from tests.services.conftest import World, key
from tests.wix_sandbox.builders import make_event, make_service, make_staff

TUE, THU = 1, 3


def next_weekday(weekday: int, *, after: date | None = None, weeks: int = 1) -> date:
    """The first ``weekday`` at least ``weeks`` weeks from ``after`` (today): far enough that
    nothing about the term is in the past, near enough to sit in the sync window."""
    start = (after or timezone.localdate()) + timedelta(weeks=weeks)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


@dataclasses.dataclass
class CourseWorld:
    world: World
    course: dict[str, Any]  # the COURSE service in Wix
    teacher: dict[str, Any]  # the staff member who teaches it

    @property
    def sb(self):  # noqa: ANN201 - the sandbox
        return self.world.sb

    def service(self) -> Service:
        return Service.objects.get(wix_id=self.course["id"])

    def instructor(self) -> StaffMember:
        return StaffMember.objects.get(wix_id=self.teacher["id"])

    def term(
        self,
        *,
        first: date | None = None,
        weeks: int = 10,
        slots: tuple[Slot, ...] = (Slot(TUE, time(17), time(17, 45)), Slot(THU, time(17), time(17, 45))),
        exclusions: tuple[Exclusion, ...] = (),
        capacity: int = 12,
        location: dict[str, Any] | None = None,
    ) -> Term:
        first = first or next_weekday(TUE)
        return courses.term_make(
            service=self.service(),
            instructor=self.instructor(),
            location=location,
            capacity=capacity,
            slots=list(enumerate(slots)),
            first=first,
            last=None,
            weeks=weeks,
            exclusions=list(enumerate(exclusions)),
            today=timezone.localdate(),
            tz=settings.TIME_ZONE,
        )

    def half_term(self, term_first: date, week: int = 4) -> Exclusion:
        """The ``week``-th week of the term (0-based), Monday to Sunday, off."""
        monday = term_first - timedelta(days=term_first.weekday()) + timedelta(weeks=week)
        return Exclusion(monday, monday + timedelta(days=6), "Half-term")

    def commit(self, term: Term, user: Any = None) -> CourseBuild:
        plan = courses.plan_term(term)
        return courses.course_build_commit(user=user, term=term, digest=plan.digest, idempotency_key=key("course"))

    def sessions_in_wix(self) -> list[dict[str, Any]]:
        """The course's sessions in the sandbox (instances and single events), by start."""
        found = [
            e
            for e in self.sb.state.all("events")
            if e["scheduleId"] == self.course["schedule"]["id"]
            and e.get("recurrenceType") != "MASTER"
            and e.get("status") != "CANCELLED"
        ]
        return sorted(found, key=lambda e: e["start"]["localDate"])

    def starts_in_wix(self) -> list[str]:
        return [e["start"]["localDate"] for e in self.sessions_in_wix()]


def build_course_world(world: World) -> CourseWorld:
    teacher = make_staff(world.sb, "Lena Fischer")
    course = make_service(
        world.sb, type="COURSE", name="Learn to Swim", price="96", capacity=12, staff=[teacher], duration_minutes=45
    )
    world.mirror()
    return CourseWorld(world=world, course=course, teacher=teacher)


def planned_starts(term: Term) -> list[str]:
    return sorted(s.local_start for s in courses.plan_term(term).sessions)


def action_of(build: CourseBuild) -> DeskAction:
    return DeskAction.objects.get(pk=build.action_id)


def make_clashing_class(cw: CourseWorld) -> dict[str, Any]:
    """A class the course's teacher teaches on the term's third Tuesday, 17:30–18:30, mirrored."""
    day = next_weekday(TUE) + timedelta(weeks=2)
    event = make_event(cw.sb, cw.world.service, datetime.combine(day, time(17, 30)), staff=cw.teacher)
    cw.world.mirror()
    return event
