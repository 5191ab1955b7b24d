"""A term imported from a spreadsheet: upload a CSV/XLSX of sessions, preview every one (what already
exists, clashes, the exact Wix calls), commit — one build per course, sent by the worker — and follow
it on the import's page; "Retry" sends what Wix refused.

Nothing is kept between the preview and the commit: the preview carries the file's rows, signed
(``signing``), and the commit checks and plans them again, refusing a plan that changed since.
Admins import (``manage_courses``); managers may preview and look (``view_courses``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from bookings_app import roles
from bookings_app.models import CourseImport
from bookings_app.services import courses
from bookings_app.services.courses.import_file import MAX_FILE_BYTES
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, MAX_PK, REFUSED
from bookings_app.views.course_form import valid_key

PAGE = "courses/import.html"
RESULT = "courses/import_result.html"
SALT = "course-import-sheet"
SHEET_MAX_AGE = 24 * 3600  # a preview left open overnight is uploaded again
EXPIRED = "This preview has expired or was changed: upload the file again."


@roles.require(roles.VIEW_COURSES)
@require_http_methods(["GET", "POST"])
def course_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST (the file): the preview — nothing is saved or sent; a file that
    can't be imported is answered 422 with every problem, by row and column."""
    if request.method == "GET":
        return _page(request)
    upload = request.FILES.get("file")
    if upload is None or not upload.name:
        return _page(request, problems=["Choose the timetable file (CSV or XLSX) first."], status=INVALID)
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        data = b"x" * (MAX_FILE_BYTES + 1)  # refused by size below, without reading it
    else:
        data = upload.read(MAX_FILE_BYTES + 1)
    try:
        sheet = courses.sheet_read(name=upload.name, data=data)
        preview = courses.course_import_preview(sheet=sheet, today=timezone.localdate(), tz=settings.TIME_ZONE)
    except courses.ImportRefused as refused:
        return _page(request, problems=[str(p) for p in refused.problems], file_name=upload.name, status=INVALID)
    return _page(request, preview=preview)


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_import_template(request: HttpRequest) -> HttpResponse:
    """The template CSV: the columns, and two example rows with this business's names."""
    response = HttpResponse(
        courses.course_import_template(today=timezone.localdate()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="course-sessions-template.csv"'
    return response


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_import_commit(request: HttpRequest) -> HttpResponse:
    """Create the previewed file's new sessions: saved here, then sent by the worker; the import's
    page follows them. The same form sent again lands on that page too."""
    key = request.POST.get("idempotency_key", "").strip()
    digest = request.POST.get("plan_digest", "")
    done = CourseImport.objects.filter(idempotency_key=key).first() if valid_key(key) else None
    if done is not None and done.plan_digest == digest:
        return _to_import(request, done)
    try:
        sheet = courses.Sheet.from_json(signing.loads(request.POST.get("sheet", ""), salt=SALT, max_age=SHEET_MAX_AGE))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return _page(request, problems=[EXPIRED], status=INVALID)
    today, tz = timezone.localdate(), settings.TIME_ZONE
    if not valid_key(key):
        error, status = "This form has expired: preview the file again, then create the sessions.", INVALID
    else:
        try:
            imported = courses.course_import_commit(
                user=request.user, sheet=sheet, digest=digest, idempotency_key=key, today=today, tz=tz
            )
        except courses.ImportRefused as refused:
            return _page(request, problems=[str(p) for p in refused.problems], file_name=sheet.name, status=INVALID)
        except BookingError as exc:
            error, status = exc.message, REFUSED
        else:
            messages.success(request, f"Saved — {imported.sessions_new} sessions are on their way to Wix.")
            return _to_import(request, imported)
    try:
        preview = courses.course_import_preview(sheet=sheet, today=today, tz=tz)
    except courses.ImportRefused as refused:
        return _page(request, problems=[str(p) for p in refused.problems], file_name=sheet.name, status=INVALID)
    return _page(request, preview=preview, error=error, status=status)


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_import_page(request: HttpRequest, import_id: int) -> HttpResponse:
    """An import's page: each course's sessions and how far they got. htmx polls its status part
    while the worker runs (``#course-import-status``)."""
    imported = _import_or_404(import_id)
    partial = request.htmx and not request.htmx.history_restore_request
    template = f"{RESULT}#course-import-status" if partial else RESULT
    response = TemplateResponse(request, template, _status_context(imported))
    patch_vary_headers(response, ("HX-Request",))
    return response


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_import_retry(request: HttpRequest, import_id: int) -> HttpResponse:
    """Send again only the sessions Wix refused, in every course of the import."""
    imported = _import_or_404(import_id)
    try:
        courses.course_import_retry(user=request.user, imported=imported)
    except BookingError as exc:
        if request.htmx:
            context = {**_status_context(imported), "error": exc.message}
            return TemplateResponse(request, f"{RESULT}#course-import-status", context, status=REFUSED)
        messages.error(request, exc.message)
        return redirect("course_import_page", import_id=imported.pk)
    if request.htmx:
        return TemplateResponse(request, f"{RESULT}#course-import-status", _status_context(imported))
    messages.info(request, "Sending the refused sessions to Wix again…")
    return redirect("course_import_page", import_id=imported.pk)


# --- helpers ---------------------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    *,
    preview: courses.ImportPreview | None = None,
    problems: list[str] | None = None,
    file_name: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "preview": preview,
        "problems": problems or [],
        "file_name": file_name,
        "error": error,
        "tz": settings.TIME_ZONE,
        "max_rows": courses.MAX_ROWS,
        "can_build": request.user.has_perm(roles.MANAGE_COURSES),
        "sheet_token": signing.dumps(preview.sheet.as_json(), salt=SALT, compress=True) if preview else "",
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = TemplateResponse(request, f"{PAGE}#course-import" if partial else PAGE, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _to_import(request: HttpRequest, imported: CourseImport) -> HttpResponse:
    url = reverse("course_import_page", args=[imported.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _import_or_404(import_id: int) -> CourseImport:
    imported = courses.course_import_get(import_id=import_id) if import_id <= MAX_PK else None
    if imported is None:
        raise Http404("No such timetable import.")
    return imported


def _status_context(imported: CourseImport) -> dict[str, Any]:
    status = courses.course_import_status(imported=imported)
    return {"imported": imported, "status": status, "first_day": _first_day(status)}


def _first_day(status: courses.ImportStatus) -> Any:
    days = [c.build.first_date for c in status.courses if c.created]
    return min(days) if days else None
