"""Editing a running course (``services/courses/edit.py``) against the sandbox: one session added
(a single event through the builder's own commit and worker), the last date moved later (only the
new weeks, from the course's timetable) — each never doubled."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bookings_app.models import CourseBuild, DeskAction, Session
from bookings_app.services import courses
from bookings_app.services.courses import Slot, TermInvalid
from bookings_app.services.errors import BookingError
from tests.services.conftest import key
from tests.services.courses.edit_helpers import running_course
from tests.services.courses.helpers import THU, TUE, CourseWorld, action_of, next_weekday
from tests.services.push.conftest import push_now, recorder
from tests.wix_sandbox.builders import make_event

pytestmark = pytest.mark.django_db

TZ = settings.TIME_ZONE
BULK = "/calendar/v3/bulk/events/create"


def add_term(cw: CourseWorld, day, start=time(9), end=time(9, 45), **changes):
    values = {
        "service": cw.service(),
        "day": day,
        "start": start,
        "end": end,
        "instructor": cw.instructor(),
        "location": None,
        "capacity": None,
        "now": timezone.now(),
        "tz": TZ,
    }
    values.update(changes)
    return courses.course_add_term(**values)


def commit(term, source):
    preview = courses.course_preview(term=term)
    return courses.course_build_commit(
        user=None, term=term, digest=preview.plan.digest, idempotency_key=key("edit"), source=source
    )


# --- one session added -----------------------------------------------------------------------------


def test_one_session_added_is_one_single_event_made_once_in_wix(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    saturday = next_weekday(5)
    term = add_term(cw, saturday)
    preview = courses.course_preview(term=term)

    assert len(preview.plan.sessions) == 1 and len(preview.plan.events) == 1
    (event,) = preview.plan.events
    assert not event.recurring and "recurrenceRule" not in event.payload
    assert event.payload["start"]["localDate"] == f"{saturday.isoformat()}T09:00:00"
    assert event.payload["totalCapacity"] == 12  # the course's own capacity, by default
    assert [c.what for c in preview.calls] == ["Query Events", "Bulk Create Event", "Query Events"]
    assert preview.call_total == 3

    build = commit(term, CourseBuild.Source.ADDED)
    client, transport = recorder(cw.world)
    push_now(client)

    assert action_of(build).status == DeskAction.Status.SYNCED
    (body,) = transport.bodies(BULK)
    assert body == {"events": [{"event": event.payload}]}
    added = [e for e in cw.sessions_in_wix() if e["start"]["localDate"].startswith(saturday.isoformat())]
    assert len(added) == 1 and added[0]["recurrenceType"] == "NONE"
    assert Session.objects.filter(service=cw.service()).count() == len(sessions) + 1
    # The same session asked for again (a second tab, a new form): nothing left to create.
    again = courses.course_preview(term=add_term(cw, saturday))
    assert again.plan.sessions == [] and again.plan.skipped[0].exclusion.reason == "Already in Wix"
    with pytest.raises(BookingError) as excinfo:
        commit(add_term(cw, saturday), CourseBuild.Source.ADDED)
    assert excinfo.value.code == "no_sessions"
    assert len(cw.sessions_in_wix()) == len(sessions) + 1


def test_a_session_added_on_top_of_another_is_flagged_as_a_clash(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    tuesday = timezone.localtime(sessions[0].start).date()

    preview = courses.course_preview(term=add_term(cw, tuesday, time(17, 30), time(18, 15)))

    assert preview.clash_count == 1
    assert "Learn to Swim already has a session" in preview.rows[0].clashes[0].why


def test_a_session_added_in_the_past_or_ending_before_it_starts_is_refused(cw: CourseWorld) -> None:
    today = timezone.localdate()
    with pytest.raises(TermInvalid) as excinfo:
        add_term(cw, today, start=time(0, 0), end=time(0, 30))
    assert "has passed" in excinfo.value.problems["start"][0]
    with pytest.raises(TermInvalid) as excinfo:
        add_term(cw, today - timedelta(days=3))
    assert "start" in excinfo.value.problems
    with pytest.raises(TermInvalid) as excinfo:
        add_term(cw, next_weekday(5), start=time(10), end=time(9))
    assert excinfo.value.problems["start"] == ["Saturday: the session ends before it starts."]
    with pytest.raises(TermInvalid) as excinfo:
        add_term(cw, None, start=None)
    assert set(excinfo.value.problems) == {"day", "start"}
    assert not CourseBuild.objects.exists()


# --- the timetable and the last day ------------------------------------------------------------------


def test_the_timetable_is_the_newest_term_built_here(cw: CourseWorld) -> None:
    build, sessions = running_course(cw, weeks=2)

    timetable = courses.course_timetable(service=cw.service())

    assert timetable.slots == (Slot(TUE, time(17), time(17, 45)), Slot(THU, time(17), time(17, 45)))
    assert timetable.instructor == cw.instructor() and timetable.capacity == 12
    assert timetable.source == f"the term built on {build.created_at:%-d %b %Y}"
    assert courses.course_last_day(service=cw.service(), tz=TZ) == timezone.localtime(sessions[-1].start).date()


def test_a_course_made_in_wix_has_the_timetable_its_sessions_repeat(cw: CourseWorld) -> None:
    saturday = next_weekday(5)
    for week in range(4):
        make_event(cw.sb, cw.course, datetime.combine(saturday + timedelta(weeks=week), time(10)), staff=cw.teacher)
    # One session moved to another time: not the timetable.
    make_event(cw.sb, cw.course, datetime.combine(saturday + timedelta(days=1), time(15)), staff=cw.teacher)
    cw.world.mirror()

    timetable = courses.course_timetable(service=cw.service())

    assert timetable.slots == (Slot(5, time(10), time(11)),)
    assert timetable.instructor == cw.instructor() and timetable.source == "its sessions in Wix"


def test_a_course_with_nothing_to_repeat_has_no_timetable(cw: CourseWorld) -> None:
    assert courses.course_timetable(service=cw.service()) is None
    assert courses.course_last_day(service=cw.service(), tz=TZ) is None
    with pytest.raises(BookingError) as excinfo:
        courses.course_extend_term(
            service=cw.service(), new_last=next_weekday(TUE), first=None, today=timezone.localdate(), tz=TZ
        )
    assert excinfo.value.code == "no_timetable"


# --- the last date moved later -------------------------------------------------------------------------


def test_moving_the_last_date_later_creates_only_the_new_weeks(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    last = timezone.localtime(sessions[-1].start).date()
    new_last = last + timedelta(weeks=2)

    term = courses.course_extend_term(
        service=cw.service(), new_last=new_last, first=None, today=timezone.localdate(), tz=TZ
    )
    preview = courses.course_preview(term=term)

    assert term.first == last + timedelta(days=1)
    assert [s.day for s in preview.plan.sessions] == [
        last + timedelta(days=5),
        last + timedelta(days=7),
        last + timedelta(days=12),
        last + timedelta(days=14),
    ]
    assert preview.plan.skipped == []  # only new weeks: nothing already there to leave out
    build = commit(term, CourseBuild.Source.EXTENDED)
    push_now(cw.world.wix)

    assert action_of(build).status == DeskAction.Status.SYNCED
    assert len(cw.sessions_in_wix()) == 8
    assert courses.course_last_day(service=cw.service(), tz=TZ) == new_last
    # The same last date again: the course runs to it already.
    with pytest.raises(TermInvalid) as excinfo:
        courses.course_extend_term(
            service=cw.service(), new_last=new_last, first=None, today=timezone.localdate(), tz=TZ
        )
    assert excinfo.value.problems["new_last_date"] == [f"The course already runs to {new_last:%a %-d %b %Y}."]


def test_two_tabs_moving_the_last_date_later_make_the_new_weeks_once(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    new_last = timezone.localtime(sessions[-1].start).date() + timedelta(weeks=1)
    today = timezone.localdate()
    one = courses.course_extend_term(service=cw.service(), new_last=new_last, first=None, today=today, tz=TZ)
    two = courses.course_extend_term(service=cw.service(), new_last=new_last, first=None, today=today, tz=TZ)
    digest = courses.course_preview(term=two).plan.digest

    commit(one, CourseBuild.Source.EXTENDED)
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(
            user=None, term=two, digest=digest, idempotency_key=key("tab"), source=CourseBuild.Source.EXTENDED
        )

    assert excinfo.value.code == "plan_changed"
    push_now(cw.world.wix)
    assert len(cw.sessions_in_wix()) == 6


def test_the_new_weeks_keep_the_terms_exclusions_that_fall_in_them(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    off = cw.half_term(first, week=3)
    cw.commit(cw.term(first=first, weeks=2, exclusions=()))
    cw.world.push()
    build = CourseBuild.objects.get()
    build.exclusions = [off.as_json()]
    build.save()

    term = courses.course_extend_term(
        service=cw.service(), new_last=first + timedelta(weeks=4, days=2), first=None, today=timezone.localdate(), tz=TZ
    )
    plan = courses.plan_term(term)

    assert [s.exclusion.reason for s in plan.skipped] == ["Half-term", "Half-term"]
    assert len(plan.sessions) == 4  # weeks 3 and 5 of the course; week 4 is off
