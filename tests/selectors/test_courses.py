"""The course builder's reads (``selectors/courses.py``): choices, clashes and builds, each in a
fixed number of queries whatever the number of rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import CourseBuildEvent, Service
from tests import factories

pytestmark = pytest.mark.django_db


def _place(pk: str, name: str) -> dict:
    return {
        "id": pk,
        "type": "BUSINESS",
        "business": {"id": pk, "name": name, "address": {"formattedAddress": "1 Lake Rd"}},
    }


def test_places_are_every_business_location_once_by_name(django_assert_num_queries) -> None:
    factories.ServiceFactory(raw={"locations": [_place("b", "The Boathouse"), _place("l", "Lakeside Centre")]})
    factories.ServiceFactory(raw={"locations": [_place("l", "Lakeside Centre"), {"id": "c", "type": "CUSTOMER"}]})
    factories.ServiceFactory(raw={})

    with django_assert_num_queries(1):
        places = selectors.course_places()

    assert [(p.id, p.name) for p in places] == [("l", "Lakeside Centre"), ("b", "The Boathouse")]
    assert places[1].as_event_location() == {
        "id": "b",
        "type": "BUSINESS",
        "name": "The Boathouse",
        "formattedAddress": "1 Lake Rd",
    }


def test_only_courses_with_a_schedule_are_offered() -> None:
    course = factories.ServiceFactory(type=Service.Type.COURSE, schedule_id="sched-1", name="Learn to Swim")
    factories.ServiceFactory(type=Service.Type.COURSE, schedule_id="", name="No calendar yet")
    factories.ServiceFactory(type=Service.Type.CLASS, schedule_id="sched-2")

    assert selectors.course_services() == [course]


def test_clash_candidates_are_the_courses_and_the_instructors_live_sessions_in_one_query(
    django_assert_num_queries,
) -> None:
    course = factories.ServiceFactory(type=Service.Type.COURSE)
    teacher = factories.StaffMemberFactory()
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    mine = [
        factories.SessionFactory(service=course, start=start, end=start + timedelta(hours=1)),
        factories.SessionFactory(
            staff=teacher, start=start + timedelta(days=1), end=start + timedelta(days=1, hours=1)
        ),
    ]
    factories.SessionFactory(staff=teacher, start=start, end=start + timedelta(hours=1), status="CANCELLED")
    factories.SessionFactory(start=start, end=start + timedelta(hours=1))  # someone else's class
    factories.SessionFactory(service=course, start=start + timedelta(days=30), end=start + timedelta(days=30, hours=1))

    with django_assert_num_queries(1):
        found = selectors.course_clash_sessions(
            service=course, staff=teacher, start=start, end=start + timedelta(days=2)
        )
        names = [(s.service.name, s.staff_id) for s in found]

    assert [s.pk for s in found] == [s.pk for s in mine] and len(names) == 2


def test_builds_with_their_counts_in_one_query_however_many(django_assert_num_queries) -> None:
    for _ in range(3):
        build = factories.CourseBuildFactory(
            action=factories.DeskActionFactory(kind="COURSE_BUILD", booking=None, session=None, contact=None)
        )
        factories.CourseBuildEventFactory(build=build, state=CourseBuildEvent.State.CREATED)
        factories.CourseBuildEventFactory(build=build, state=CourseBuildEvent.State.FAILED)

    with django_assert_num_queries(1):
        builds = selectors.course_builds_recent()
        seen = [(b.service.name, b.instructor.name, b.action.status, b.events_created, b.events_failed) for b in builds]

    assert len(seen) == 3 and all(s[3:] == (1, 1) for s in seen)


def test_a_build_with_its_events_in_two_queries(django_assert_num_queries) -> None:
    build = factories.CourseBuildFactory()
    factories.CourseBuildEventFactory.create_batch(4, build=build)

    with django_assert_num_queries(2):
        found = selectors.course_build_get(build_id=build.pk)
        assert len(found.event_list) == 4

    assert selectors.course_build_get(build_id=build.pk + 1) is None


def test_a_refused_event_another_build_made_since_counts_as_in_wix_not_as_refused() -> None:
    build = factories.CourseBuildFactory()
    State = CourseBuildEvent.State
    factories.CourseBuildEventFactory(build=build, state=State.CREATED)
    factories.CourseBuildEventFactory(build=build, state=State.FAILED, error_code="VALIDATION_FAILURE")
    factories.CourseBuildEventFactory(build=build, state=State.FAILED, error_code=CourseBuildEvent.MADE_ELSEWHERE)

    for read in (selectors.course_build_get(build_id=build.pk), selectors.course_builds_recent()[0]):
        assert (read.events_total, read.events_created, read.events_failed) == (3, 2, 1)
