"""Cancelling sessions of a running course (``services/courses/cancel.py`` and ``cancel_send.py``
through the push phase ``services/push/course_cancels.py``) against the sandbox: who is affected,
the exact Calendar V3 calls, the mirror after the push, lost answers and crashes, refusals and
Retry, and the last date moved earlier."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import AuditEntry, Booking, CourseCancel, CourseCancelSession, DeskAction, Session
from bookings_app.services import courses, push
from bookings_app.services.errors import BookingError
from tests.services.conftest import key
from tests.services.courses.edit_helpers import booked_online, event_in_wix, running_course
from tests.services.courses.helpers import CourseWorld
from tests.services.push.conftest import Crash, Recorder, Trouble, push_now, recorder, trouble_client
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db

State = CourseCancelSession.State
Status = DeskAction.Status
TZ = settings.TIME_ZONE


def cancel_one(cw: CourseWorld, session: Session, *, form_key: str | None = None) -> CourseCancel:
    plan = courses.course_cancel_plan(service=cw.service(), sessions=[session], now=timezone.now())
    return courses.course_cancel_commit(
        user=None,
        service=cw.service(),
        session_id=session.pk,
        digest=plan.digest,
        idempotency_key=form_key or key("cancel"),
        now=timezone.now(),
        tz=TZ,
    )


def action_of(cancel: CourseCancel) -> DeskAction:
    return DeskAction.objects.get(pk=cancel.action_id)


def cancel_paths(transport) -> list[str]:
    sent = getattr(transport, "sent", None) or transport.requests
    return [r.url.path for r in sent if r.method == "POST" and r.url.path.endswith("/cancel")]


# --- one session ---------------------------------------------------------------------------------------


def test_the_plan_shows_who_is_booked_on_the_course_and_the_exact_call(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    booked_online(cw, "Ann")
    booked_online(cw, "Ben", order=False)
    cw.world.mirror()

    plan = courses.course_cancel_plan(service=cw.service(), sessions=[sessions[1]], now=timezone.now())

    assert [b.contact.first_name for b in plan.affected] == ["Ann", "Ben"]
    assert all(b.contact.email for b in plan.affected)
    assert plan.requests == [f"POST /calendar/v3/events/{sessions[1].wix_id}/cancel  {{}}"]
    assert [(c.what, c.count) for c in plan.calls] == [("Cancel Event", 1)]
    assert event_in_wix(cw, sessions[1])["recurrenceType"] == "INSTANCE"  # one session of a weekly series


def test_cancelling_one_session_of_a_series_cancels_that_instance_only_and_no_booking(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    ann = booked_online(cw, "Ann")
    cw.world.mirror()
    target = sessions[2]

    cancel = cancel_one(cw, target)
    assert action_of(cancel).status == Status.QUEUED and cancel.affected == 1
    assert AuditEntry.objects.filter(action="course.cancel_sessions", object_id=str(cancel.pk)).exists()
    client, transport = recorder(cw.world)
    push_now(client)

    assert action_of(cancel).status == Status.SYNCED
    assert action_of(cancel).steps["message"] == "The session is cancelled in Wix."
    assert cancel_paths(transport) == [f"/calendar/v3/events/{target.wix_id}/cancel"]
    assert [r.content for r in transport.sent if r.url.path.endswith("/cancel")] == [b"{}"]
    assert event_in_wix(cw, target)["status"] == "CANCELLED"
    assert len(cw.sessions_in_wix()) == 3  # the rest of the series as it was
    masters = [e for e in cw.sb.state.all("events") if e.get("recurrenceType") == "MASTER"]
    assert {m["status"] for m in masters} == {"CONFIRMED"}
    # The mirror, as the sync writes it: Today and the roster show it cancelled at once.
    target.refresh_from_db()
    assert target.is_cancelled
    day = timezone.localtime(target.start).date()
    assert [s.is_cancelled for s in selectors.session_day_list(day=day, service_id=cw.service().pk)] == [True]
    assert selectors.session_get(ref=target.wix_id).is_cancelled
    # Nobody's booking was cancelled.
    assert cw.world.wix_booking(ann["id"])["status"] == "CONFIRMED"
    assert Booking.objects.get(wix_id=ann["id"]).status == "CONFIRMED"
    # A sync afterwards keeps it cancelled.
    cw.world.mirror()
    target.refresh_from_db()
    assert target.is_cancelled


def test_the_same_form_twice_saves_one_cancel_and_another_form_is_refused(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    form = key("form")

    first = cancel_one(cw, sessions[0], form_key=form)
    again = courses.course_cancel_commit(
        user=None,
        service=cw.service(),
        session_id=sessions[0].pk,
        digest=first.plan_digest,
        idempotency_key=form,
        now=timezone.now(),
        tz=TZ,
    )
    assert again.pk == first.pk
    with pytest.raises(BookingError) as excinfo:  # a second tab, while it is on its way
        cancel_one(cw, sessions[0])
    assert excinfo.value.code == "already_cancelling"
    push_now(cw.world.wix)
    with pytest.raises(BookingError) as excinfo:  # and after
        cancel_one(cw, Session.objects.get(pk=sessions[0].pk))
    assert excinfo.value.code == "already_cancelled"
    assert CourseCancel.objects.count() == 1 and DeskAction.objects.filter(kind="COURSE_CANCEL").count() == 1


def test_a_session_that_started_or_is_another_courses_is_refused(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    other = cw.world.session()  # tomorrow's class: not this course's

    with pytest.raises(BookingError) as excinfo:
        courses.course_cancel_plan(service=cw.service(), sessions=[other], now=timezone.now())
    assert excinfo.value.code == "not_this_course"
    with pytest.raises(BookingError) as excinfo:
        courses.course_cancel_plan(service=cw.service(), sessions=[sessions[0]], now=sessions[0].start)
    assert excinfo.value.code == "session_started"
    with pytest.raises(BookingError) as excinfo:
        courses.course_cancel_commit(
            user=None,
            service=cw.service(),
            session_id=other.pk,
            digest="x",
            idempotency_key=key(),
            now=timezone.now(),
            tz=TZ,
        )
    assert excinfo.value.code == "session_not_found"
    with pytest.raises(BookingError) as excinfo:  # the digest of another preview
        courses.course_cancel_commit(
            user=None,
            service=cw.service(),
            session_id=sessions[0].pk,
            digest="not-the-preview",
            idempotency_key=key(),
            now=timezone.now(),
            tz=TZ,
        )
    assert excinfo.value.code == "plan_changed"
    assert not CourseCancel.objects.exists() and not DeskAction.objects.filter(kind="COURSE_CANCEL").exists()


# --- lost answers, crashes, refusals -----------------------------------------------------------------


def test_a_lost_answer_is_read_with_get_event_and_not_sent_again(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel = cancel_one(cw, sessions[0])
    transport = Trouble(cw.world, "/cancel", "lost")
    client = trouble_client(cw.world, transport)

    first = push_now(client)

    assert first.retrying == 1 and action_of(cancel).status == Status.QUEUED
    assert cancel.sessions.get().state == State.SENT
    assert event_in_wix(cw, sessions[0])["status"] == "CANCELLED"  # Wix did it; nobody heard
    push_now(client, ignore_backoff=True)

    assert action_of(cancel).status == Status.SYNCED
    assert len(cancel_paths(transport)) == 1  # read, not sent again
    assert [r.url.path for r in transport.sent if r.method == "GET"] == [f"/calendar/v3/events/{sessions[0].wix_id}"]
    assert Session.objects.get(pk=sessions[0].pk).is_cancelled


def test_a_crash_after_the_request_is_picked_up_and_read_before_anything_is_sent(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel = cancel_one(cw, sessions[1])

    with pytest.raises(Crash):
        push_now(trouble_client(cw.world, Trouble(cw.world, "/cancel", "crash")))

    action = action_of(cancel)
    assert action.status == Status.RUNNING and cancel.sessions.get().state == State.SENT
    DeskAction.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    recording = Recorder(SandboxTransport(cw.sb))
    push_now(trouble_client(cw.world, recording))

    assert action_of(cancel).status == Status.SYNCED
    assert cancel_paths(recording) == []
    assert Session.objects.get(pk=sessions[1].pk).is_cancelled


def test_a_503_that_cancelled_nothing_is_read_then_sent(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel = cancel_one(cw, sessions[0])
    transport = Trouble(cw.world, "/cancel", "503")
    client = trouble_client(cw.world, transport)

    push_now(client)
    assert action_of(cancel).status == Status.QUEUED and event_in_wix(cw, sessions[0])["status"] != "CANCELLED"
    push_now(client, ignore_backoff=True)

    assert action_of(cancel).status == Status.SYNCED
    assert len(cancel_paths(transport)) == 2
    assert event_in_wix(cw, sessions[0])["status"] == "CANCELLED"


class RefuseFirstCancel(httpx.BaseTransport):
    """The sandbox, but Wix refuses the first Cancel Event with 428 (FAILED_PRECONDITION)."""

    def __init__(self, cw: CourseWorld) -> None:
        self.inner = SandboxTransport(cw.sb)
        self.refused = False
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("/cancel") and not self.refused:
            self.refused = True
            body = {"message": "cannot cancel", "details": {"applicationError": {"code": "CANNOT_CANCEL"}}}
            return httpx.Response(428, json=body, request=request)
        return self.inner.handle_request(request)


def test_a_refused_cancel_says_which_sessions_are_cancelled_and_retry_sends_only_the_rest(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=2)
    last = timezone.localtime(sessions[1].start).date()  # the first Thursday: two weeks' sessions after it
    plan = courses.course_shorten_plan(service=cw.service(), new_last=last, now=timezone.now(), tz=TZ)
    cancel = courses.course_cancel_commit(
        user=None,
        service=cw.service(),
        new_last=last,
        digest=plan.digest,
        idempotency_key=key(),
        now=timezone.now(),
        tz=TZ,
    )
    transport = RefuseFirstCancel(cw)
    client = trouble_client(cw.world, transport)
    with pytest.raises(BookingError) as excinfo:  # not while it is on its way
        courses.course_cancel_retry(user=None, cancel=cancel)
    assert excinfo.value.code == "not_retryable"

    push_now(client)

    action = action_of(cancel)
    assert action.status == Status.NEEDS_ATTENTION
    assert action.message.startswith("1 of 2 sessions cancelled in Wix. 1 session was not (Wix refused to cancel it")
    assert "Retry sends only those." in action.message
    refused = cancel.sessions.get(state=State.FAILED)
    assert refused.session == sessions[2] and refused.error_code == "CANNOT_CANCEL"
    courses.course_cancel_retry(user=None, cancel=cancel)
    push_now(client)

    assert action_of(cancel).status == Status.SYNCED
    assert cancel_paths(transport) == [
        f"/calendar/v3/events/{s.wix_id}/cancel" for s in (sessions[2], sessions[3], sessions[2])
    ]
    assert [e["start"]["localDate"][:10] for e in cw.sessions_in_wix()] == [
        timezone.localtime(s.start).date().isoformat() for s in sessions[:2]
    ]
    with pytest.raises(BookingError) as excinfo:
        courses.course_cancel_retry(user=None, cancel=cancel)
    assert excinfo.value.code == "not_retryable"


def test_a_session_deleted_in_wix_meanwhile_needs_attention_in_plain_words(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel = cancel_one(cw, sessions[0])
    cw.sb.state.delete("events", sessions[0].wix_id)

    push_now(cw.world.wix)

    action = action_of(cancel)
    assert action.status == Status.NEEDS_ATTENTION
    assert "This session is no longer in Wix" in action.message


# --- the last date moved earlier ----------------------------------------------------------------------


def test_moving_the_last_date_earlier_cancels_the_sessions_after_it_in_one_action(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=3)
    booked_online(cw, "Ann")
    cw.world.mirror()
    new_last = timezone.localtime(sessions[1].start).date()

    plan = courses.course_shorten_plan(service=cw.service(), new_last=new_last, now=timezone.now(), tz=TZ)
    assert [s.pk for s in plan.sessions] == [s.pk for s in sessions[2:]]
    assert [b.contact.first_name for b in plan.affected] == ["Ann"]
    assert plan.call_total == 4
    cancel = courses.course_cancel_commit(
        user=None,
        service=cw.service(),
        new_last=new_last,
        digest=plan.digest,
        idempotency_key=key(),
        now=timezone.now(),
        tz=TZ,
    )
    assert DeskAction.objects.filter(kind="COURSE_CANCEL").count() == 1
    push_now(cw.world.wix)

    assert action_of(cancel).status == Status.SYNCED
    assert action_of(cancel).steps["message"] == "All 4 sessions are cancelled in Wix."
    assert len(cw.sessions_in_wix()) == 2
    assert courses.course_last_day(service=cw.service(), tz=TZ) == new_last
    with pytest.raises(BookingError) as excinfo:  # again: nothing left after that date
        courses.course_shorten_plan(service=cw.service(), new_last=new_last, now=timezone.now(), tz=TZ)
    assert excinfo.value.code == "nothing_to_cancel"


def test_the_last_date_is_not_moved_earlier_while_later_sessions_are_being_created(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cw.commit(cw.term(first=timezone.localtime(sessions[-1].start).date() + timedelta(days=1), weeks=2))

    with pytest.raises(BookingError) as excinfo:
        courses.course_shorten_plan(
            service=cw.service(), new_last=timezone.localtime(sessions[0].start).date(), now=timezone.now(), tz=TZ
        )
    assert excinfo.value.code == "still_building"
    with pytest.raises(BookingError) as excinfo:
        courses.course_shorten_plan(
            service=cw.service(), new_last=timezone.localdate() - timedelta(days=1), now=timezone.now(), tz=TZ
        )
    assert excinfo.value.code == "date_past"


def test_the_cancel_push_runs_after_the_builds_in_one_round(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel_one(cw, sessions[0])

    report = push.push_desk_actions_now(wix=cw.world.wix, ignore_undo_window=True)

    assert report.synced == 1 and report.calls_by_operation == {"cancel_event": 1}


class AnswerWithoutEvent(httpx.BaseTransport):
    """The sandbox, but Cancel Event answers ``{}`` (what Wix answers with is not documented)."""

    def __init__(self, cw: CourseWorld) -> None:
        self.inner = SandboxTransport(cw.sb)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.inner.handle_request(request)
        if request.url.path.endswith("/cancel") and response.status_code == 200:
            return httpx.Response(200, json={}, request=request)
        return response


def test_an_answer_without_the_event_is_read_back_for_the_mirror(cw: CourseWorld) -> None:
    _, sessions = running_course(cw, weeks=1)
    cancel = cancel_one(cw, sessions[0])
    transport = AnswerWithoutEvent(cw)

    push_now(trouble_client(cw.world, transport))

    assert action_of(cancel).status == Status.SYNCED
    assert [r.method for r in transport.requests] == ["POST", "GET"]
    assert Session.objects.get(pk=sessions[0].pk).is_cancelled
