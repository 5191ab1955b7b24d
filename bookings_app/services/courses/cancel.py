"""Cancel sessions of a running course: one session, or every session after a new, earlier last date.

The plan (``CancelPlan``) lists the sessions, the people affected — everyone booked on the course
(a course booking books the course's schedule, so it is on every session's roster) and anyone
booked on those very sessions — and the exact Wix calls. The commit saves a ``CourseCancel`` (one
``CourseCancelSession`` a session) with a ``COURSE_CANCEL`` desk action before anything is sent;
the worker cancels them (``cancel_send``, through ``services.push.course_cancels``).

**Nobody's booking is cancelled.** Cancelling a session removes it from the calendar; the course
bookings stay as they are (their payment too): refunds or credits are the business's decision, made
on each booking.

**One Cancel Event call per session** (``POST /calendar/v3/events/{eventId}/cancel``, CONTRACT.md
§9), not Bulk Cancel Event: the bulk request's body is not documented (UNCONFIRMED: ``eventIds``),
and one call a session saves each session's answer on its own. A session of a weekly series is one
INSTANCE of it: Cancel Event is sent to that instance's id, never to the series (a MASTER's cancel
cancels every session still to come). UNCONFIRMED: the documents do not say how Wix treats a
cancelled instance (an EXCEPTION? still INSTANCE?); the sandbox marks the instance CANCELLED and
leaves the rest of the series as it was, and the worker reads the event back, whatever its type.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings_app.models import (
    Booking,
    CourseBuildEvent,
    CourseCancel,
    CourseCancelSession,
    DeskAction,
    Service,
    Session,
    normalise_text,
)
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.courses.messages import plural
from bookings_app.services.courses.preview import CallLine
from bookings_app.services.errors import BookingError
from bookings_app.services.mirror.sessions import APPOINTMENT_PREFIX

Reason = CourseCancel.Reason
State = CourseCancelSession.State
LIVE = (State.PLANNED, State.SENT)
CANCEL_PATH = "/calendar/v3/events/{}/cancel"


@dataclass
class CancelPlan:
    service: Service
    reason: str  # CourseCancel.Reason
    sessions: list[Session]
    affected: list[Booking]  # with their contacts, by surname
    new_last: date | None = None

    @property
    def digest(self) -> str:
        """What the commit must find unchanged: the sessions (and their Wix events)."""
        text = json.dumps([self.reason, str(self.new_last or ""), [[s.pk, s.wix_id] for s in self.sessions]])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def requests(self) -> list[str]:
        """Each call exactly as the worker sends it (the body is empty)."""
        return [f"POST {CANCEL_PATH.format(s.wix_id)}  {{}}" for s in self.sessions]

    @property
    def calls(self) -> list[CallLine]:
        n = len(self.sessions)
        return [
            CallLine(
                "Cancel Event",
                n,
                f"one call per session ({plural(n, 'session')}); an answer that never comes is checked with "
                "Get Event before the call is sent again",
            )
        ]

    @property
    def call_total(self) -> int:
        return len(self.sessions)


def course_cancel_plan(*, service: Service, sessions: list[Session], now: datetime) -> CancelPlan:
    """One session (or several) of ``service`` to cancel, checked. Raises ``BookingError``:
    ``not_a_course``, ``nothing_to_cancel``, ``not_this_course``, ``already_cancelled``,
    ``already_cancelling``, ``not_in_wix``, ``session_started``."""
    _check(service, sessions, now)
    return CancelPlan(service=service, reason=Reason.SESSION, sessions=sessions, affected=_affected(service, sessions))


def course_shorten_plan(*, service: Service, new_last: date, now: datetime, tz: str) -> CancelPlan:
    """Every session of ``service`` after ``new_last``, to cancel. Raises ``BookingError``:
    ``date_past``, ``still_building`` (sessions after that date are still being created),
    ``nothing_to_cancel`` and the checks of :func:`course_cancel_plan`."""
    zone = ZoneInfo(tz)
    if new_last < now.astimezone(zone).date():
        raise BookingError("The new last date has passed: choose today or a later day.", code="date_past")
    after = datetime.combine(new_last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    on_the_way = [
        day
        for sessions in CourseBuildEvent.objects.filter(build__service=service, session_wix_ids__isnull=True)
        .exclude(state=CourseBuildEvent.State.FAILED)
        .values_list("sessions", flat=True)
        for day in sessions
        if datetime.fromisoformat(day).date() > new_last
    ]
    if on_the_way:
        verb = "is" if len(on_the_way) == 1 else "are"
        raise BookingError(
            f"{plural(len(on_the_way), 'session')} after {new_last:%-d %b %Y} {verb} still being created in Wix: "
            "wait until they are there, then move the last date.",
            code="still_building",
        )
    sessions = list(
        Session.objects.filter(service=service, start__gte=after)
        .exclude(status__in=("CANCELLED", "CANCELED"))
        .exclude(course_cancels__state__in=(*LIVE, State.CANCELLED))
        .order_by("start", "pk")
    )
    if not sessions:
        raise BookingError(
            f"{service.name} has no sessions after {new_last:%a %-d %b %Y}: there is nothing to cancel.",
            code="nothing_to_cancel",
        )
    _check(service, sessions, now)
    return CancelPlan(
        service=service,
        reason=Reason.LAST_DATE,
        sessions=sessions,
        affected=_affected(service, sessions),
        new_last=new_last,
    )


def _check(service: Service, sessions: list[Session], now: datetime) -> None:
    if service.type != Service.Type.COURSE:
        raise BookingError(f"{service.name} is not a course.", code="not_a_course")
    if not sessions:
        raise BookingError("Choose the session to cancel.", code="nothing_to_cancel")
    cancelling = set(
        CourseCancelSession.objects.filter(session__in=sessions, state__in=(*LIVE, State.CANCELLED)).values_list(
            "session_id", flat=True
        )
    )
    for session in sessions:
        when = f"{timezone.localtime(session.start):%a %-d %b %H:%M}"
        if session.service_id != service.pk:
            raise BookingError(f"The session {when} is not one of {service.name}'s.", code="not_this_course")
        if session.is_cancelled:
            raise BookingError(f"The session {when} is cancelled already.", code="already_cancelled")
        if session.pk in cancelling:
            raise BookingError(f"The session {when} is being cancelled already.", code="already_cancelling")
        if (
            not session.wix_id
            or session.wix_id.startswith(APPOINTMENT_PREFIX)
            or (session.raw or {}).get("recurrenceType") == "MASTER"
        ):
            raise BookingError(f"The session {when} is not in Wix yet: sync, then try again.", code="not_in_wix")
        if session.start <= now:
            raise BookingError(f"The session {when} has started or is over: it can't be cancelled.", "session_started")


def _affected(service: Service, sessions: list[Session]) -> list[Booking]:
    """Everyone on these sessions' rosters who still holds a place (or waits for one)."""
    found = list(
        Booking.objects.filter(
            Q(session__in=sessions) | Q(session__isnull=True, service=service),
            status__in=Booking.ROSTER_STATUSES,
        )
        .select_related("contact")
        .order_by("pk")
    )
    found.sort(key=lambda b: (normalise_text(b.contact.last_name), normalise_text(b.contact.first_name), b.pk))
    return found


def course_cancel_commit(
    *,
    user: Any,
    service: Service,
    digest: str,
    idempotency_key: str,
    now: datetime,
    tz: str,
    session_id: int | None = None,
    new_last: date | None = None,
) -> CourseCancel:
    """Save the cancel of one session (``session_id``) or of the sessions after ``new_last`` and queue
    it for the worker; the same form sent again answers with what it saved.

    Raises ``BookingError``: ``idempotency_missing``; ``key_reused``; ``plan_changed`` (the sessions
    are no longer the ones previewed); ``session_not_found``; the plan's own refusals."""
    ledger.require_key(idempotency_key)
    done = _done(idempotency_key, digest)
    if done is not None:
        return done
    with transaction.atomic():
        # Two tabs cancelling the same session: the second plans after the first is saved and is refused.
        list(Service.objects.select_for_update().filter(pk=service.pk).values_list("pk"))
        done = _done(idempotency_key, digest)
        if done is not None:
            return done
        if new_last is not None:
            plan = course_shorten_plan(service=service, new_last=new_last, now=now, tz=tz)
        else:
            session = Session.objects.filter(pk=session_id or 0, service=service).first()
            if session is None:
                raise BookingError(f"No such session of {service.name}.", code="session_not_found")
            plan = course_cancel_plan(service=service, sessions=[session], now=now)
        if plan.digest != digest:
            raise BookingError(
                "The sessions to cancel differ from the preview you saw (the course changed since). "
                "Check the new preview, then cancel.",
                code="plan_changed",
            )
        action = ledger.new_action(
            user=user,
            kind=DeskAction.Kind.COURSE_CANCEL,
            key=f"course-cancel:{idempotency_key}",
            undo_window=False,
            params={"course": service.name, "sessions": len(plan.sessions), "service": service.pk},
        )
        cancel = CourseCancel.objects.create(
            idempotency_key=idempotency_key,
            created_by=ledger.person(user),
            service=service,
            reason=plan.reason,
            new_last_date=plan.new_last,
            affected=len(plan.affected),
            plan_digest=digest,
            action=action,
        )
        CourseCancelSession.objects.bulk_create(
            CourseCancelSession(cancel=cancel, session=s, event_id=s.wix_id or "") for s in plan.sessions
        )
        action.params = {**action.params, "course_cancel": cancel.pk}
        DeskAction.objects.filter(pk=action.pk).update(params=action.params)
        audit_record(
            user=user,
            action="course.cancel_sessions",
            obj_type="course_cancel",
            obj_id=cancel.pk,
            summary=_summary(plan, tz),
            after={
                "service": service.wix_id,
                "events": [s.wix_id for s in plan.sessions],
                "new_last_date": str(plan.new_last or ""),
                "affected": len(plan.affected),
            },
        )
    return cancel


def _summary(plan: CancelPlan, tz: str) -> str:
    zone = ZoneInfo(tz)
    days = ", ".join(f"{s.start.astimezone(zone):%a %-d %b %H:%M}" for s in plan.sessions[:6])
    more = f" and {len(plan.sessions) - 6} more" if len(plan.sessions) > 6 else ""
    why = f" (last date moved to {plan.new_last:%-d %b %Y})" if plan.new_last else ""
    text = f"Cancelling {plural(len(plan.sessions), 'session')} of {plan.service.name}{why}: {days}{more}"
    return text[:500]


def _done(key: str, digest: str) -> CourseCancel | None:
    done = CourseCancel.objects.filter(idempotency_key=key).first()
    if done is not None and done.plan_digest != digest:
        raise BookingError(
            "This form was already used to cancel other sessions. Nothing was changed: reload the page.",
            code="key_reused",
        )
    return done


def course_cancel_retry(*, user: Any, cancel: CourseCancel) -> CourseCancel:
    """Send again only the cancels Wix refused (a session cancelled meanwhile counts as done).
    Raises ``BookingError`` ``not_retryable`` unless the cancel needs attention."""
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().filter(course_cancel=cancel).first()
        if action is None or action.status != DeskAction.Status.NEEDS_ATTENTION:
            running = action is not None and action.is_live
            raise BookingError(
                "These sessions are still being cancelled in Wix." if running else "Every session is cancelled.",
                code="not_retryable",
            )
        refused = list(cancel.sessions.filter(state=State.FAILED).select_related("session"))
        for row in refused:
            if row.session.is_cancelled:
                row.state, row.message = State.CANCELLED, "Cancelled in Wix meanwhile."
            else:
                row.state, row.error_code, row.message, row.sent_at = State.PLANNED, "", "", None
            row.save(update_fields=["state", "error_code", "message", "sent_at"])
        action.requeue()
        ledger.schedule_push(action.run_after)
        audit_record(
            user=user,
            action="course.cancel_retry",
            obj_type="course_cancel",
            obj_id=cancel.pk,
            summary=f"Sent {plural(len(refused), 'refused cancel')} of {cancel.service.name} to Wix again",
        )
    return cancel
