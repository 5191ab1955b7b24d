"""The worker's steps for a course term (``services/courses/send.py`` through the push phase
``services/push/course_builds.py``) against the sandbox: the exact Calendar V3 requests, what Wix
ends up with (the preview's numbers), the mirror, lost answers and crashes, refusals and Retry."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import CourseBuildEvent, DeskAction, Session
from bookings_app.services import courses, push
from bookings_app.services.courses import Exclusion, Slot
from tests.services.courses.helpers import THU, TUE, CourseWorld, action_of, next_weekday, planned_starts
from tests.services.push.conftest import Crash, Recorder, Trouble, push_now, recorder, trouble_client
from tests.wix_sandbox.builders import call
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db

State = CourseBuildEvent.State
Status = DeskAction.Status
BULK = "/calendar/v3/bulk/events/create"
QUERY = "/calendar/v3/events/query"


def swim_term(cw: CourseWorld):
    """Learn to Swim — Tue/Thu 17:00–17:45, 10 weeks, the fifth week off."""
    first = cw.term().first
    return cw.term(first=first, exclusions=(cw.half_term(first),))


def test_a_ten_week_tue_thu_term_with_a_week_off_makes_exactly_the_previewed_18_sessions(cw: CourseWorld) -> None:
    term = swim_term(cw)
    preview = courses.course_preview(term=term)
    build = cw.commit(term)
    client, transport = recorder(cw.world)

    report = push_now(client)

    assert report.synced == 1 and action_of(build).status == Status.SYNCED
    assert cw.starts_in_wix() == planned_starts(term)
    assert len(cw.starts_in_wix()) == len(preview.plan.sessions) == 18
    skipped = {s.day.isoformat() for s in preview.plan.skipped}
    assert not {s[:10] for s in cw.starts_in_wix()} & skipped  # the excluded week is not there at all
    # The calls the preview announced, in that order: the check, one bulk create, the read back.
    paths = [r.url.path for r in transport.sent]
    assert paths == [QUERY, BULK, QUERY]
    assert len(paths) == preview.call_total
    assert build.__class__.objects.get(pk=build.pk).steps["calls"] == {"query_events": 2, "bulk_create_events": 1}


def test_the_bulk_request_is_the_recipes_shape_exactly_as_previewed(cw: CourseWorld) -> None:
    term = swim_term(cw)
    preview = courses.course_preview(term=term)
    cw.commit(term)
    client, transport = recorder(cw.world)

    push_now(client)

    (body,) = transport.bodies(BULK)
    assert body == json.loads(preview.request_bodies[0])
    assert set(body) == {"events"}
    for item in body["events"]:
        assert set(item) == {"event"}  # each element wrapped as {"event": {...}}
        event = item["event"]
        assert event["type"] == "COURSE"
        assert event["scheduleId"] == cw.course["schedule"]["id"]
        assert event["externalScheduleId"] == cw.course["id"]
        assert event["resources"] == [{"id": cw.teacher["resourceId"], "permissionRole": "WRITER"}]
        assert event["resources"][0]["id"] != cw.teacher["id"]  # the resource, not the staff member
        assert event["start"]["localDate"].endswith("T17:00:00") and event["end"]["localDate"].endswith("T17:45:00")
        assert "Z" not in event["start"]["localDate"] and "+" not in event["start"]["localDate"]
        rule = event["recurrenceRule"]
        assert rule["frequency"] == "WEEKLY" and rule["interval"] == 1 and len(rule["days"]) == 1
        assert rule["until"]["localDate"].endswith("T23:59:59")
    days = [item["event"]["recurrenceRule"]["days"][0] for item in body["events"]]
    assert sorted(days) == ["THURSDAY", "THURSDAY", "TUESDAY", "TUESDAY"]


def test_the_new_sessions_are_in_the_mirror_and_on_today_at_once(cw: CourseWorld) -> None:
    build = cw.commit(swim_term(cw))
    cw.world.push()

    sessions = Session.objects.filter(service=cw.service()).order_by("start")
    assert sessions.count() == 18
    first = sessions.first()
    assert first.staff == cw.instructor() and first.capacity == 12 and first.location_name == "Lakeside Centre"
    on_day = selectors.session_day_list(day=first.start.astimezone(timezone.get_current_timezone()).date())
    assert first in list(on_day)
    made = selectors.course_build_sessions(build=build)
    assert [s.pk for s in made] == [s.pk for s in sessions]
    assert all(e.sessions_found == len(e.sessions) for e in build.events.all())


def test_the_chosen_place_is_on_every_session_in_wix_and_in_the_mirror(cw: CourseWorld) -> None:
    from tests.wix_sandbox.builders import make_location

    boathouse = make_location(cw.sb, "The Boathouse")
    cw.world.mirror()
    place = {"id": boathouse["id"], "type": "BUSINESS", "name": "The Boathouse"}
    cw.commit(cw.term(weeks=2, location=place))

    cw.world.push()

    assert {e["location"]["id"] for e in cw.sessions_in_wix()} == {boathouse["id"]}
    assert set(Session.objects.filter(service=cw.service()).values_list("location_name", flat=True)) == {
        "The Boathouse"
    }


def test_a_term_across_the_clocks_going_back_keeps_17_00_in_wix(cw: CourseWorld, clock) -> None:
    clock(datetime(2027, 10, 1, 9, tzinfo=UTC))
    cw.world.mirror()
    term = cw.term(first=date(2027, 10, 12), weeks=4)  # BST ends on Sunday 31 October 2027
    cw.commit(term)

    cw.world.push()

    assert cw.starts_in_wix() == planned_starts(term)
    assert {s[11:] for s in cw.starts_in_wix()} == {"17:00:00"}
    starts = [s.start.astimezone(UTC) for s in Session.objects.filter(service=cw.service()).order_by("start")]
    assert [s.hour for s in starts] == [16, 16, 16, 16, 16, 16, 17, 17]


def test_single_week_runs_are_single_events_and_wix_has_exactly_those_sessions(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    gala = Exclusion(first + timedelta(weeks=1), first + timedelta(weeks=1), "Gala")
    closed = Exclusion(first + timedelta(weeks=3), first + timedelta(weeks=3, days=2), "Pool closed")
    slots = (Slot(TUE, time(9), time(10)), Slot(THU, time(17), time(17, 45)))
    term = cw.term(first=first, weeks=5, slots=slots, exclusions=(gala, closed))
    build = cw.commit(term)

    cw.world.push()

    assert cw.starts_in_wix() == planned_starts(term)
    singles = [e for e in build.events.all() if not e.recurring]
    assert singles and all(e.state == State.CREATED and e.sessions_found == 1 for e in singles)


def test_a_second_course_right_after_the_first_is_made_as_well(cw: CourseWorld) -> None:
    one = cw.commit(swim_term(cw))
    cw.world.push()
    later = cw.term(slots=(Slot(TUE, time(18), time(18, 45)),), weeks=6)
    two = cw.commit(later)
    cw.world.push()

    assert action_of(one).status == action_of(two).status == Status.SYNCED
    assert len(cw.starts_in_wix()) == 18 + 6
    assert Session.objects.filter(service=cw.service()).count() == 24


# --- lost answers, crashes, backoff --------------------------------------------------------------------


def test_a_crash_after_the_request_and_before_the_answer_is_saved_creates_nothing_twice(cw: CourseWorld) -> None:
    term = swim_term(cw)
    build = cw.commit(term)
    client = trouble_client(cw.world, Trouble(cw.world, BULK, "crash"))

    with pytest.raises(Crash):
        push_now(client)

    action = action_of(build)
    assert action.status == Status.RUNNING  # the dead worker's claim
    assert set(build.events.values_list("state", flat=True)) == {State.SENT}
    assert len(cw.starts_in_wix()) == 18  # Wix made them; nobody heard
    due = push.push_next_due()
    assert due is not None and due >= action.next_attempt_at - timedelta(seconds=1)  # picked up with no click
    assert push_now(client).claimed == 0  # its lease still holds

    DeskAction.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    recording = Recorder(SandboxTransport(cw.sb))
    push_now(trouble_client(cw.world, recording))

    assert action_of(build).status == Status.SYNCED
    assert recording.bodies(BULK) == []  # found in Wix, not sent again
    assert cw.starts_in_wix() == planned_starts(term)
    masters = [e for e in cw.sb.state.all("events") if e.get("recurrenceType") == "MASTER"]
    assert sorted(e.wix_id for e in build.events.all()) == sorted(m["id"] for m in masters)


def test_a_lost_answer_backs_off_then_is_looked_up_not_sent_again(cw: CourseWorld) -> None:
    build = cw.commit(swim_term(cw))
    transport = Trouble(cw.world, BULK, "lost")
    client = trouble_client(cw.world, transport)

    first = push_now(client)

    assert first.retrying == 1
    action = action_of(build)
    assert action.status == Status.QUEUED and action.attempts == 1 and action.next_attempt_at > timezone.now()
    assert push_now(client).claimed == 0  # backing off
    push_now(client, ignore_backoff=True)

    assert action_of(build).status == Status.SYNCED
    assert len(transport.bodies(BULK)) == 1
    assert len(cw.starts_in_wix()) == 18


def test_a_503_that_made_nothing_is_looked_up_and_then_sent(cw: CourseWorld) -> None:
    build = cw.commit(swim_term(cw))
    transport = Trouble(cw.world, BULK, "503")
    client = trouble_client(cw.world, transport)

    push_now(client)
    assert action_of(build).status == Status.QUEUED and not cw.starts_in_wix()
    push_now(client, ignore_backoff=True)

    assert action_of(build).status == Status.SYNCED
    assert len(transport.bodies(BULK)) == 2
    assert len(cw.starts_in_wix()) == 18


def test_an_identical_event_that_was_there_before_is_never_taken_for_ours(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    term = cw.term(first=first, weeks=1, slots=(Slot(TUE, time(17), time(17, 45)),))
    (event,) = courses.plan_term(term).events
    # Someone made the very same session by hand in the Wix dashboard before.
    status, answer = call(cw.sb, "POST", "/calendar/v3/events", {"event": event.payload})
    assert status == 200
    theirs = answer["event"]["id"]
    build = cw.commit(term)
    client = trouble_client(cw.world, Trouble(cw.world, BULK, "lost"))

    push_now(client)
    push_now(client, ignore_backoff=True)

    (ours,) = build.events.all()
    assert ours.state == State.CREATED and ours.wix_id and ours.wix_id != theirs
    assert build.__class__.objects.get(pk=build.pk).steps["baseline"] == [theirs]
    assert len(cw.starts_in_wix()) == 2  # theirs and ours, nothing more


# --- refusals and Retry --------------------------------------------------------------------------------


def test_a_partial_failure_says_which_sessions_exist_and_retry_creates_only_the_rest(cw: CourseWorld) -> None:
    term = swim_term(cw)
    build = cw.commit(term)
    refused = build.events.get(position=3)
    refused.payload = {**refused.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    refused.save()
    client, transport = recorder(cw.world)

    push_now(client)

    action = action_of(build)
    assert action.status == Status.NEEDS_ATTENTION
    refused.refresh_from_db()
    assert refused.state == State.FAILED and refused.error_code == "RESOURCE_NOT_FOUND"
    missing = len(refused.sessions)
    assert len(cw.starts_in_wix()) == 18 - missing
    assert action.message.startswith(f"{18 - missing} of 18 sessions are in Wix. {missing} sessions were not created")
    assert "the instructor's calendar resource no longer exists in Wix" in action.message
    assert "Retry creates only those." in action.message
    rows = courses.course_build_rows(build=build)
    assert sum(1 for r in rows if r.state == State.FAILED) == missing
    assert sum(1 for r in rows if r.state == State.CREATED) == 18 - missing

    # The resource is back in Wix: Retry sends the refused series, and only it.
    cw.sb.state.put("resources", {"id": "gone-resource", "name": "Lena Fischer", "revision": "1"})
    courses.course_build_retry(user=None, build=build)
    push_now(client)

    assert action_of(build).status == Status.SYNCED
    bodies = transport.bodies(BULK)
    assert [len(b["events"]) for b in bodies] == [4, 1]
    assert bodies[1]["events"][0]["event"]["start"] == refused.payload["start"]
    assert cw.starts_in_wix() == planned_starts(term)


def test_a_whole_request_refused_fails_every_event_of_it_and_changes_nothing_in_wix(cw: CourseWorld) -> None:
    build = cw.commit(swim_term(cw))
    broken = build.events.get(position=0)
    broken.payload = {k: v for k, v in broken.payload.items() if k != "resources"}
    broken.save()

    push_now(cw.world.wix)

    action = action_of(build)
    assert action.status == Status.NEEDS_ATTENTION
    assert set(build.events.values_list("state", flat=True)) == {State.FAILED}
    assert all(build.events.values_list("error_code", flat=True))
    assert "Wix refused the whole request — an event was sent without its instructor" in action.message
    assert action.message.startswith("0 of 18 sessions are in Wix. 18 sessions were not created")
    assert cw.starts_in_wix() == []
