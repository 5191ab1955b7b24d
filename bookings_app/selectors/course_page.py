"""A running course's page: its sessions still to come, each with its roster numbers and whether it is
cancelled (or being cancelled here), and what of the course is still on its way to Wix — a fixed
number of queries however many sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch

from bookings_app.models import CourseBuild, CourseCancel, CourseCancelSession, DeskAction, Service, Session
from bookings_app.selectors.sessions import _sessions_with_stats, _with_unpaid

MAX_SESSIONS = 200  # a year of a twice-weekly course, and then some
CancelState = CourseCancelSession.State


@dataclass
class CourseSessionRow:
    session: Session  # with ``booked``, ``places``, ``checked_in`` (``session_day_list``'s numbers)
    cancel: CourseCancelSession | None = None  # the newest cancel of it made here, if any

    @property
    def state(self) -> str:
        """CANCELLED, CANCELLING (saved here, on its way), REFUSED (Wix said no) or SCHEDULED."""
        if self.session.is_cancelled:
            return "CANCELLED"
        if self.cancel is not None and self.cancel.state in (CancelState.PLANNED, CancelState.SENT):
            return "CANCELLING"
        if self.cancel is not None and self.cancel.state == CancelState.FAILED and self._cancel_live:
            return "REFUSED"
        return "SCHEDULED"

    @property
    def _cancel_live(self) -> bool:
        action = self.cancel.cancel.action if self.cancel is not None else None
        return action is not None and action.is_live

    @property
    def can_cancel(self) -> bool:
        return self.state == "SCHEDULED" and bool(self.session.wix_id)


@dataclass
class CoursePage:
    service: Service
    rows: list[CourseSessionRow]
    builds: list[CourseBuild] = field(default_factory=list)  # on their way to Wix, or needing attention
    cancels: list[CourseCancel] = field(default_factory=list)  # on their way, or needing attention

    @property
    def scheduled(self) -> list[CourseSessionRow]:
        return [r for r in self.rows if r.state != "CANCELLED"]

    @property
    def enrolled(self) -> int:
        """People booked on the course: on every session's roster (the first session's count)."""
        return self.scheduled[0].session.booked if self.scheduled else 0


def course_page_service(*, service_id: int) -> Service | None:
    """The COURSE service ``service_id`` (with a calendar in Wix), or None."""
    return Service.objects.filter(pk=service_id, type=Service.Type.COURSE).exclude(schedule_id="").first()


def course_page_read(*, service: Service, now: datetime) -> CoursePage:
    """The course's sessions not over yet (cancelled ones too, marked), in start order, at most
    ``MAX_SESSIONS``; the builds and cancels of it still on their way. Four queries."""
    sessions = _with_unpaid(
        list(_sessions_with_stats().filter(service=service, end__gt=now).order_by("start", "pk")[:MAX_SESSIONS])
    )
    newest: dict[int, CourseCancelSession] = {}
    for row in (
        CourseCancelSession.objects.filter(session__in=[s.pk for s in sessions])
        .select_related("cancel__action")
        .order_by("pk")
    ):
        newest[row.session_id] = row
    live = DeskAction.LIVE_STATUSES
    builds = list(
        CourseBuild.objects.filter(service=service, action__status__in=live)
        .select_related("action")
        .order_by("created_at", "pk")
    )
    cancels = list(
        CourseCancel.objects.filter(service=service, action__status__in=live)
        .select_related("action")
        .prefetch_related(Prefetch("sessions", queryset=CourseCancelSession.objects.select_related("session")))
        .order_by("created_at", "pk")
    )
    return CoursePage(
        service=service,
        rows=[CourseSessionRow(s, newest.get(s.pk)) for s in sessions],
        builds=builds,
        cancels=cancels,
    )


def course_cancel_get(*, service: Service, cancel_id: int) -> CourseCancel | None:
    return CourseCancel.objects.filter(pk=cancel_id, service=service).select_related("action").first()


def course_session_get(*, service: Service, session_id: int) -> Session | None:
    return Session.objects.filter(pk=session_id, service=service).first()


def course_cancel_by_key(*, key: str) -> CourseCancel | None:
    return CourseCancel.objects.filter(idempotency_key=key).first()
