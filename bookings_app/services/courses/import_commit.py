"""Commit a previewed timetable file: one ``CourseImport`` and, per course with new sessions, a
``CourseBuild`` of single events (``source = IMPORT``) saved with its ``COURSE_BUILD`` desk action
by ``course_build_commit`` — the worker then sends each build exactly as it sends a weekly term.

Two imports of the same file at once cannot both create its sessions: the commit plans again
inside one transaction that first locks the course services (PostgreSQL; SQLite's IMMEDIATE
transactions serialise writers anyway), so the second one finds the first one's sessions "already
on their way", its plan no longer matches the preview, and it is refused (``plan_changed``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from bookings_app.models import CourseBuild, CourseImport, DeskAction, Service
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.courses.commit import course_build_commit, course_build_retry
from bookings_app.services.courses.import_file import Sheet
from bookings_app.services.courses.import_plan import ImportPreview, course_import_preview
from bookings_app.services.errors import BookingError


def _done(key: str, digest: str) -> CourseImport | None:
    done = CourseImport.objects.filter(idempotency_key=key).first()
    if done is not None and done.plan_digest != digest:
        raise BookingError(
            "This form was already used for another timetable. Nothing was changed: upload the file again.",
            code="key_reused",
        )
    return done


def course_import_commit(
    *, user: Any, sheet: Sheet, digest: str, idempotency_key: str, today: date, tz: str
) -> CourseImport:
    """Save the file's new sessions as builds (one per course) and queue them for the worker. The
    same form sent again answers with the import it made.

    Raises ``BookingError``: ``idempotency_missing``; ``key_reused``; ``plan_changed`` when the
    sessions to create are no longer the previewed ones (some were created meanwhile, a course or
    instructor changed); ``nothing_new`` when every session already exists. Raises
    ``ImportRefused`` when a row is no longer valid (a date that has passed since the preview).
    """
    ledger.require_key(idempotency_key)
    done = _done(idempotency_key, digest)
    if done is not None:
        return done
    with transaction.atomic():
        list(Service.objects.select_for_update().filter(type=Service.Type.COURSE).order_by("pk").values_list("pk"))
        done = _done(idempotency_key, digest)  # the same form, saved while this one waited for the lock
        if done is not None:
            return done
        preview = course_import_preview(sheet=sheet, today=today, tz=tz)
        if not preview.building:
            raise BookingError(
                "Every session in this file is already in Wix or on its way there: there is nothing to create.",
                code="nothing_new",
            )
        if preview.digest != digest:
            raise BookingError(
                "The sessions to create differ from the preview you saw (some were created since, or a course or "
                "instructor changed). Check the new preview, then create them.",
                code="plan_changed",
            )
        imported = CourseImport.objects.create(
            idempotency_key=idempotency_key,
            created_by=ledger.person(user),
            file_name=sheet.name,
            file_sha256=sheet.sha256,
            file_kind=sheet.kind,
            rows=len(sheet.rows),
            sessions_new=preview.new_count,
            sessions_existing=preview.existing_count,
            plan_digest=digest,
        )
        for number, part in enumerate(preview.building, 1):
            assert part.term is not None and part.plan is not None
            build = course_build_commit(
                user=user,
                term=part.term,
                digest=part.plan.digest,
                idempotency_key=f"{idempotency_key}-{number}",
                plan=part.plan,
                source=CourseBuild.Source.IMPORT,
            )
            CourseBuild.objects.filter(pk=build.pk).update(course_import=imported)
        audit_record(
            user=user,
            action="course.import",
            obj_type="course_import",
            obj_id=imported.pk,
            summary=_summary(sheet, preview),
            after={
                "file": sheet.name,
                "sha256": sheet.sha256,
                "rows": len(sheet.rows),
                "new": preview.new_count,
                "existing": preview.existing_count,
                "courses": [p.service.wix_id for p in preview.building],
            },
        )
    return imported


def _summary(sheet: Sheet, preview: ImportPreview) -> str:
    courses = len(preview.building)
    text = (
        f"Imported {sheet.name}: {preview.new_count} sessions of {courses} course{'s' if courses != 1 else ''} "
        "to create in Wix"
    )
    if preview.existing_count:
        text += f", {preview.existing_count} already there"
    return text


def course_import_retry(*, user: Any, imported: CourseImport) -> list[CourseBuild]:
    """Retry every build of the import that needs attention (each sends only what Wix refused).
    Raises ``BookingError`` ``not_retryable`` when none does."""
    waiting = list(imported.builds.filter(action__status=DeskAction.Status.NEEDS_ATTENTION).select_related("service"))
    if not waiting:
        raise BookingError("Nothing of this timetable is waiting for a retry.", code="not_retryable")
    retried = []
    for build in waiting:
        try:
            retried.append(course_build_retry(user=user, build=build))
        except BookingError as exc:
            if exc.code != "not_retryable":  # another click retried it meanwhile: fine
                raise
    return retried
