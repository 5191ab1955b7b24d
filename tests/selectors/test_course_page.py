"""A running course's page reads (``selectors/course_page.py``): the sessions with their booked
counts and state, the changes on their way — a fixed number of queries however many sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import CourseCancel, CourseCancelSession, DeskAction, Service
from tests import factories

pytestmark = pytest.mark.django_db


def course_with(n: int, *, enrolled: int = 2) -> tuple[Service, list]:
    course = factories.ServiceFactory(type=Service.Type.COURSE, name=f"Course {n}", default_capacity=10)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    sessions = [factories.SessionFactory(service=course, start=start + timedelta(weeks=i)) for i in range(n)]
    for _ in range(enrolled):
        factories.BookingFactory(session=None, service=course)
    return course, sessions


def cancel(course: Service, session, *, state: str, status: str) -> CourseCancelSession:
    action = DeskAction.objects.create(
        idempotency_key=f"k-{session.pk}-{state}", kind="COURSE_CANCEL", status=status, run_after=timezone.now()
    )
    made = CourseCancel.objects.create(
        idempotency_key=f"c-{session.pk}-{state}", service=course, reason="SESSION", plan_digest="d", action=action
    )
    return CourseCancelSession.objects.create(cancel=made, session=session, event_id=session.wix_id, state=state)


def test_each_session_has_its_booked_count_and_state() -> None:
    course, sessions = course_with(4)
    past = factories.SessionFactory(service=course, start=timezone.now() - timedelta(days=2))
    sessions[1].status = "CANCELLED"
    sessions[1].save()
    cancel(course, sessions[2], state="SENT", status="RUNNING")
    cancel(course, sessions[3], state="FAILED", status="NEEDS_ATTENTION")

    page = selectors.course_page_read(service=course, now=timezone.now())

    assert [r.session.pk for r in page.rows] == [s.pk for s in sessions]  # not the one already over
    assert past.pk not in [r.session.pk for r in page.rows]
    assert [r.state for r in page.rows] == ["SCHEDULED", "CANCELLED", "CANCELLING", "REFUSED"]
    assert [r.can_cancel for r in page.rows] == [True, False, False, False]
    assert [r.session.booked for r in page.rows] == [2, 2, 2, 2]  # the course bookings, on every session
    assert page.enrolled == 2 and len(page.scheduled) == 3
    assert len(page.cancels) == 2


def test_the_page_costs_the_same_queries_for_4_or_40_sessions() -> None:
    counts = []
    for n in (4, 40):
        course, sessions = course_with(n, enrolled=5)
        cancel(course, sessions[0], state="PLANNED", status="QUEUED")
        with CaptureQueriesContext(connection) as ctx:
            page = selectors.course_page_read(service=course, now=timezone.now())
            states = [r.state for r in page.rows]
            _ = [c.sessions.all()[0].session.start for c in page.cancels]
        assert len(states) == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_only_a_course_with_a_calendar_has_a_page() -> None:
    course, _ = course_with(1)
    klass = factories.ServiceFactory(type=Service.Type.CLASS)
    no_calendar = factories.ServiceFactory(type=Service.Type.COURSE, schedule_id="")

    assert selectors.course_page_service(service_id=course.pk) == course
    assert selectors.course_page_service(service_id=klass.pk) is None
    assert selectors.course_page_service(service_id=no_calendar.pk) is None
