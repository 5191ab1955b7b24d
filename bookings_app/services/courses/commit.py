"""Commit and retry: the term saved as a ``CourseBuild`` before anything is sent, and pushed by the
worker through a ``COURSE_BUILD`` desk action (``services.push.course_builds``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from bookings_app.models import CourseBuild, CourseBuildEvent, DeskAction
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.courses.plan import Plan, plan_term
from bookings_app.services.courses.term import Term
from bookings_app.services.errors import BookingError

State = CourseBuildEvent.State


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
    plan = plan or plan_term(term)
    done = CourseBuild.objects.filter(idempotency_key=idempotency_key).first()
    if done is not None:
        if done.plan_digest != digest:
            raise BookingError(
                "This form was already used for another course term. Nothing was changed: reload the page.",
                code="key_reused",
            )
        return done
    if plan.digest != digest:
        raise BookingError(
            "The sessions differ from the preview you saw (the form changed since). Check the new preview, "
            "then create them.",
            code="plan_changed",
        )
    if not plan.sessions:
        raise BookingError("This term has no sessions left to create.", code="no_sessions")
    with transaction.atomic():
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
                f"{term.first:%-d %b %Y} – {term.last:%-d %b %Y} with {term.instructor.name}"
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
    attention (it is on its way, or done)."""
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().filter(course_build=build).first()
        if action is None or action.status != DeskAction.Status.NEEDS_ATTENTION:
            running = action is not None and action.is_live
            raise BookingError(
                "This term is still being sent to Wix." if running else "Every session of this term is in Wix.",
                code="not_retryable",
            )
        refused = build.events.filter(state=State.FAILED)
        count = sum(len(e.sessions) for e in refused)
        refused.update(state=State.PLANNED, error_code="", message="", sent_at=None)
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
