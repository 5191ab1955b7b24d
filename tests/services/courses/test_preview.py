"""The preview (``services/courses/preview.py``): clashes from the mirror — flagged, never dropped —,
excluded days, and the Wix calls a commit makes."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bookings_app.models import Session
from bookings_app.services import courses
from tests.services.courses.helpers import TUE, CourseWorld, make_clashing_class, next_weekday
from tests.wix_sandbox.builders import make_event

pytestmark = pytest.mark.django_db


def test_a_session_overlapping_the_instructors_class_is_flagged_and_still_planned(cw: CourseWorld) -> None:
    make_clashing_class(cw)
    preview = courses.course_preview(term=cw.term())

    flagged = [r for r in preview.rows if r.clashes]
    assert len(preview.plan.sessions) == 20
    assert len(flagged) == 1 and flagged[0].session is not None
    assert flagged[0].session.day == next_weekday(TUE) + timedelta(weeks=2)
    assert flagged[0].clashes[0].why.startswith("Lena Fischer teaches Open Water Swim")
    assert preview.clash_count == 1


def test_an_existing_session_of_the_same_course_is_flagged(cw: CourseWorld) -> None:
    day = next_weekday(TUE) + timedelta(weeks=1)
    make_event(cw.sb, cw.course, datetime.combine(day, time(17, 15)), minutes=45, staff=cw.world.coach)
    cw.world.mirror()

    preview = courses.course_preview(term=cw.term())

    (row,) = [r for r in preview.rows if r.clashes]
    assert row.clashes[0].why.startswith("Learn to Swim already has a session")
    assert preview.existing_sessions == 1


def test_back_to_back_and_cancelled_sessions_are_not_clashes(cw: CourseWorld) -> None:
    day = next_weekday(TUE)
    make_event(cw.sb, cw.world.service, datetime.combine(day, time(16)), staff=cw.teacher)  # ends at 17:00
    cancelled = make_event(cw.sb, cw.world.service, datetime.combine(day, time(17)), staff=cw.teacher)
    cw.world.mirror()
    Session.objects.filter(wix_id=cancelled["id"]).update(status="CANCELLED")

    assert courses.course_preview(term=cw.term()).clash_count == 0


def test_excluded_days_are_rows_of_their_own_in_date_order(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    preview = courses.course_preview(term=cw.term(first=first, exclusions=(cw.half_term(first),)))

    kinds = ["skip" if r.skipped else "session" for r in preview.rows]
    assert kinds.count("skip") == 2 and kinds.count("session") == 18
    assert kinds[8:10] == ["skip", "skip"]  # week 5: after four Tuesdays and four Thursdays
    assert [r.sort_key for r in preview.rows] == sorted(r.sort_key for r in preview.rows)


def test_the_calls_are_one_check_the_bulk_requests_and_the_read_back(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    preview = courses.course_preview(term=cw.term(first=first, exclusions=(cw.half_term(first),)))

    assert [(c.what, c.count) for c in preview.calls] == [
        ("Query Events", 1),
        ("Bulk Create Event", 1),
        ("Query Events", 1),
    ]
    assert preview.call_total == 3
    assert "4 events (4 weekly series) making 18 sessions" in preview.calls[1].detail
    assert len(preview.request_bodies) == 1


def test_a_term_past_the_mirrors_calendar_says_how_far_the_check_reached(cw: CourseWorld) -> None:
    short = courses.course_preview(term=cw.term(weeks=2))
    long = courses.course_preview(term=cw.term(weeks=20))

    assert short.checked_all
    assert not long.checked_all
    assert long.plan.sessions[-1].end > long.checked_until
