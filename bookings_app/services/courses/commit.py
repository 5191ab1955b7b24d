"""Commit and retry: the term saved as a ``CourseBuild`` before anything is sent, and pushed by the
worker through a ``COURSE_BUILD`` desk action (``services.push.course_builds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from bookings_app.models import CourseBuild, CourseBuildEvent, DeskAction, Service
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.courses.existing import term_existing
from bookings_app.services.courses.plan import Plan, plan_term
from bookings_app.services.courses.term import Term
from bookings_app.services.errors import BookingError

State = CourseBuildEvent.State
MADE_ELSEWHERE = CourseBuildEvent.MADE_ELSEWHERE  # a refused event whose sessions another build made since
_SOURCE_NOTES = {
    CourseBuild.Source.ADDED: " (one session added to the running course)",
    CourseBuild.Source.EXTENDED: " (the last date moved later)",
}


def course_build_commit(
    *,
    user: Any,
    term: Term,
    digest: str,
    idempotency_key: str,
    plan: Plan | None = None,
    source: str = CourseBuild.Source.WEEKLY,
) -> CourseBuild:
    """Save ``term``'s plan as a build and queue it for the worker. The same form sent again
    (a double click, a retried POST) answers with the build it made. ``plan``: sessions that no
    weekly rule describes (a term read from a spreadsheet: single events), planned by the caller.

    Raises ``BookingError``: ``idempotency_missing``; ``plan_changed`` when the plan is no longer
    the one previewed (``digest``); ``no_sessions``; ``key_reused`` when the form's key made
    another build; ``duplicate_request`` when the same form is being saved at this very moment.
    """
    ledger.require_key(idempotency_key)
    done = _done(idempotency_key, digest)
    if done is not None:
        return done
    with transaction.atomic():
        # Two commits of one term (two tabs, two admins) one after the other: the second plans
        # after the first is saved, finds its sessions already on their way and leaves them out.
        list(Service.objects.select_for_update().filter(pk=term.service.pk).values_list("pk"))
        done = _done(idempotency_key, digest)  # the same form, saved while this one waited for the lock
        if done is not None:
            return done
        if plan is None:
            existing = term_existing(service=term.service, first=term.first, last=term.last, tz=term.tz)
            plan = plan_term(term, existing)
        if plan.digest != digest:
            raise BookingError(
                "The sessions differ from the preview you saw (the form changed, or some were created since). "
                "Check the new preview, then create them.",
                code="plan_changed",
            )
        if not plan.sessions:
            raise BookingError(
                "This term has no sessions left to create: every one is excluded, already in Wix or on its way.",
                code="no_sessions",
            )
        action = ledger.new_action(
            user=user,
            kind=DeskAction.Kind.COURSE_BUILD,
            key=f"course:{idempotency_key}",
            undo_window=False,
            params={"course": term.service.name, "sessions": len(plan.sessions), "events": len(plan.events)},
        )
        build = _save(user, term, plan, digest, idempotency_key, action, source)
        audit_record(
            user=user,
            action="course.build",
            obj_type="course_build",
            obj_id=build.pk,
            summary=(
                f"Built {term.service.name}: {len(plan.sessions)} sessions "
                f"{term.first:%-d %b %Y} – {term.last:%-d %b %Y} "
                + (f"with {term.instructor.name}" if source != CourseBuild.Source.IMPORT else "from a spreadsheet")
                + _SOURCE_NOTES.get(source, "")
            ),
            after={
                "service": term.service.wix_id,
                "instructor": term.instructor.wix_id,
                "slots": build.slots,
                "exclusions": build.exclusions,
                "sessions": len(plan.sessions),
                "events": len(plan.events),
            },
        )
    return build


def _done(key: str, digest: str) -> CourseBuild | None:
    """The build this form's key made already (a double click, a retried POST), or None."""
    done = CourseBuild.objects.filter(idempotency_key=key).first()
    if done is not None and done.plan_digest != digest:
        raise BookingError(
            "This form was already used for another course term. Nothing was changed: reload the page.",
            code="key_reused",
        )
    return done


def _save(user: Any, term: Term, plan: Plan, digest: str, key: str, action: DeskAction, source: str) -> CourseBuild:
    build = CourseBuild.objects.create(
        idempotency_key=key,
        source=source,
        created_by=ledger.person(user),
        service=term.service,
        instructor=term.instructor,
        resource_id=term.instructor.resource_id,
        location=term.location or {},
        capacity=term.capacity,
        timezone=term.tz,
        first_date=term.first,
        last_date=term.last,
        slots=[s.as_json() for s in term.slots],
        exclusions=[e.as_json() for e in term.exclusions],
        sessions_planned=len(plan.sessions),
        plan_digest=digest,
        action=action,
    )
    CourseBuildEvent.objects.bulk_create(
        CourseBuildEvent(build=build, position=i, payload=e.payload, sessions=e.sessions)
        for i, e in enumerate(plan.events)
    )
    action.params = {**action.params, "course_build": build.pk}
    DeskAction.objects.filter(pk=action.pk).update(params=action.params)
    return build


def course_build_retry(*, user: Any, build: CourseBuild) -> CourseBuild:
    """Send again only what Wix refused: the refused events go back to "not sent", the build back
    in the worker's queue. Raises ``BookingError`` ``not_retryable`` unless the build needs
    attention (it is on its way, or done).

    A refused event whose sessions another build has made since (a timetable uploaded again after
    the refusal) is not sent again, so they are not doubled: all of them made there → it is
    marked ``MADE_ELSEWHERE`` (counted as in Wix); only some → it stays refused, and says why.
    """
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().filter(course_build=build).first()
        if action is None or action.status != DeskAction.Status.NEEDS_ATTENTION:
            running = action is not None and action.is_live
            raise BookingError(
                "This term is still being sent to Wix." if running else "Every session of this term is in Wix.",
                code="not_retryable",
            )
        refused = list(build.events.filter(state=State.FAILED).exclude(error_code=MADE_ELSEWHERE))
        elsewhere = made_elsewhere(build, refused)
        again = [e for e in refused if e.pk not in elsewhere]
        for event in refused:
            if event.pk in elsewhere:
                done, where = elsewhere[event.pk]
                code = MADE_ELSEWHERE if done == len(event.sessions) else "PARTLY_ELSEWHERE"
                message = (
                    f"Made since by {where}: not sent again."
                    if code == MADE_ELSEWHERE
                    else f"{done} of its {len(event.sessions)} sessions were made since by {where}: not sent again, "
                    "so none is doubled. Build the others again."
                )
                event.error_code, event.message = code, message[:500]
                event.save(update_fields=["error_code", "message"])
        count = sum(len(e.sessions) for e in again)
        build.events.filter(pk__in=[e.pk for e in again]).update(
            state=State.PLANNED, error_code="", message="", sent_at=None
        )
        action.requeue()
        ledger.schedule_push(action.run_after)
        audit_record(
            user=user,
            action="course.retry",
            obj_type="course_build",
            obj_id=build.pk,
            summary=f"Sent {count} refused sessions of {build.service.name} to Wix again",
        )
    return build


def made_elsewhere(build: CourseBuild, refused: list[CourseBuildEvent]) -> dict[int, tuple[int, str]]:
    """Refused events of ``build`` some of whose sessions another build of the course has made (or
    is making) since: event id → (how many, which build)."""
    if not refused:
        return {}
    others = (
        CourseBuildEvent.objects.filter(
            build__service_id=build.service_id,
            build__first_date__lte=build.last_date,
            build__last_date__gte=build.first_date,
        )
        .exclude(build=build)
        .exclude(state=State.FAILED)
        .select_related("build", "build__course_import")
    )
    made: dict[tuple[str, str], str] = {}
    for other in others:
        where = (
            f"the import of {other.build.course_import.file_name}"
            if other.build.course_import is not None
            else f"the term built on {other.build.created_at:%-d %b %Y}"
        )
        for start, end in _spans(other):
            made[(start, end)] = where
    out = {}
    for event in refused:
        found = [made[span] for span in _spans(event) if span in made]
        if found:
            out[event.pk] = (len(found), found[0])
    return out


def _spans(event: CourseBuildEvent) -> list[tuple[str, str]]:
    """The local start and end of each session of ``event``."""
    first = datetime.fromisoformat(event.payload["start"]["localDate"])
    length = datetime.fromisoformat(event.payload["end"]["localDate"]) - first
    out = []
    for local in event.sessions:
        moment = datetime.fromisoformat(local)
        out.append((moment.isoformat(timespec="minutes"), (moment + length).isoformat(timespec="minutes")))
    return out
