"""A running course's page: its sessions still to come (from the mirror, with their booked counts),
and three changes, each previewed before anything is sent — add one session, cancel one session
(who is affected, the exact Wix call), move the last date (later: the new weeks; earlier: the
sessions after it are cancelled). Adding goes through the builder's commit and worker; cancelling is
a ``COURSE_CANCEL`` desk action the worker pushes. Nobody's course booking is cancelled.

Admins change (``manage_courses``); managers may look and preview (``view_courses``); the front desk
may not.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from bookings_app import roles, selectors
from bookings_app.models import CourseBuild, DeskAction, Service
from bookings_app.services import courses
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, MAX_PK, REFUSED
from bookings_app.views.course_edit_forms import AddSessionForm, LastDateForm
from bookings_app.views.course_form import valid_key

PAGE = "courses/course.html"
TOOLS = "course-tools"
EXPIRED = "This form has expired: preview again, then confirm."


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_page(request: HttpRequest, service_id: int) -> HttpResponse:
    """The course's sessions and the forms that change them. htmx polls the sessions' part while a
    change is on its way to Wix (``?part=sessions``)."""
    service = _course_or_404(service_id)
    partial = "course-sessions" if request.GET.get("part") == "sessions" else None
    return _page(request, service, partial=partial)


@roles.require(roles.VIEW_COURSES)
@require_POST
def course_add(request: HttpRequest, service_id: int) -> HttpResponse:
    """Preview one session: the session, its clashes, the exact call. Nothing is saved or sent."""
    service = _course_or_404(service_id)
    form = AddSessionForm(request.POST, service=service, timetable=courses.course_timetable(service=service))
    preview = _add_preview(form, service)
    if preview is None:
        return _page(request, service, add_form=form, status=INVALID, partial=TOOLS)
    return _page(request, service, add_form=form, add_preview=preview, partial=TOOLS)


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_add_commit(request: HttpRequest, service_id: int) -> HttpResponse:
    """Save the previewed session as a build of one event, sent by the worker; then the build's page.
    The same form sent again lands there too, and the same session asked for again is refused."""
    service = _course_or_404(service_id)
    key, digest = request.POST.get("idempotency_key", "").strip(), request.POST.get("plan_digest", "")
    done = selectors.course_build_by_key(key=key) if valid_key(key) else None
    if done is not None and done.plan_digest == digest and done.service_id == service.pk:
        return _to(request, reverse("course_build", args=[done.pk]))
    form = AddSessionForm(request.POST, service=service, timetable=courses.course_timetable(service=service))
    preview = _add_preview(form, service)
    if preview is None:
        return _page(request, service, add_form=form, status=INVALID, partial=TOOLS)
    if not valid_key(key):
        return _page(request, service, add_form=form, add_preview=preview, error=EXPIRED, status=INVALID, partial=TOOLS)
    try:
        build = courses.course_build_commit(
            user=request.user, term=preview.term, digest=digest, idempotency_key=key, source=CourseBuild.Source.ADDED
        )
    except BookingError as exc:
        return _page(
            request, service, add_form=form, add_preview=preview, error=exc.message, status=REFUSED, partial=TOOLS
        )
    messages.success(request, f"Saved — the new session of {service.name} is on its way to Wix.")
    return _to(request, reverse("course_build", args=[build.pk]))


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_cancel(request: HttpRequest, service_id: int, session_id: int) -> HttpResponse:
    """Preview cancelling one session: the people affected and the exact call. Nothing is sent."""
    service = _course_or_404(service_id)
    session = _session_or_404(service, session_id)
    try:
        plan = courses.course_cancel_plan(service=service, sessions=[session], now=timezone.now())
    except BookingError as exc:
        return _page(request, service, cancel_error=exc.message, status=REFUSED, partial=TOOLS)
    return _page(request, service, cancel=plan, partial=TOOLS)


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_cancel_commit(request: HttpRequest, service_id: int, session_id: int) -> HttpResponse:
    """Save the cancel of the previewed session; the worker cancels it in Wix. Back to the page."""
    service = _course_or_404(service_id)
    session = _session_or_404(service, session_id)
    key, digest = request.POST.get("idempotency_key", "").strip(), request.POST.get("plan_digest", "")
    done = selectors.course_cancel_by_key(key=key) if valid_key(key) else None
    if done is not None and done.plan_digest == digest and done.service_id == service.pk:
        return _to(request, _page_url(service))
    try:
        if not valid_key(key):
            raise BookingError(EXPIRED, code="idempotency_missing")
        cancel = courses.course_cancel_commit(
            user=request.user,
            service=service,
            session_id=session.pk,
            digest=digest,
            idempotency_key=key,
            now=timezone.now(),
            tz=settings.TIME_ZONE,
        )
    except BookingError as exc:
        return _cancel_refused(request, service, [session], exc)
    messages.success(request, f"Saved — {_count(cancel)} of {service.name} is being cancelled in Wix.")
    return _to(request, _page_url(service))


@roles.require(roles.VIEW_COURSES)
@require_POST
def course_last_date(request: HttpRequest, service_id: int) -> HttpResponse:
    """Preview a new last date: later, the new weeks to create; earlier, the sessions to cancel."""
    service = _course_or_404(service_id)
    form = LastDateForm(request.POST)
    if not form.is_valid():
        return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
    return _last_date(request, service, form)


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_last_date_commit(request: HttpRequest, service_id: int) -> HttpResponse:
    """Save what the preview showed: the new weeks (a build: its page follows them), or the cancel of
    the sessions after the new last date (one desk action: back to the course's page)."""
    service = _course_or_404(service_id)
    key, digest = request.POST.get("idempotency_key", "").strip(), request.POST.get("plan_digest", "")
    later = request.POST.get("direction") == "later"
    if valid_key(key):
        built = selectors.course_build_by_key(key=key) if later else None
        if built is not None and built.plan_digest == digest and built.service_id == service.pk:
            return _to(request, reverse("course_build", args=[built.pk]))
        cancelled = None if later else selectors.course_cancel_by_key(key=key)
        if cancelled is not None and cancelled.plan_digest == digest and cancelled.service_id == service.pk:
            return _to(request, _page_url(service))
    form = LastDateForm(request.POST)
    if not form.is_valid():
        return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
    if not valid_key(key):
        return _last_date(request, service, form, error=EXPIRED)
    new_last = form.cleaned_data["new_last_date"]
    try:
        if later:
            term = courses.course_extend_term(
                service=service,
                new_last=new_last,
                first=form.cleaned_data.get("first"),
                today=timezone.localdate(),
                tz=settings.TIME_ZONE,
            )
            build = courses.course_build_commit(
                user=request.user, term=term, digest=digest, idempotency_key=key, source=CourseBuild.Source.EXTENDED
            )
            messages.success(request, f"Saved — the {build.sessions_planned} new sessions are on their way to Wix.")
            return _to(request, reverse("course_build", args=[build.pk]))
        cancel = courses.course_cancel_commit(
            user=request.user,
            service=service,
            new_last=new_last,
            digest=digest,
            idempotency_key=key,
            now=timezone.now(),
            tz=settings.TIME_ZONE,
        )
    except courses.TermInvalid as invalid:
        form.add_problems(invalid)
        return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
    except BookingError as exc:
        return _last_date(request, service, form, error=exc.message)
    messages.success(request, f"Saved — {_count(cancel)} after {new_last:%-d %b %Y} are being cancelled in Wix.")
    return _to(request, _page_url(service))


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_cancel_retry(request: HttpRequest, service_id: int, cancel_id: int) -> HttpResponse:
    """Send again only the cancels Wix refused."""
    service = _course_or_404(service_id)
    cancel = selectors.course_cancel_get(service=service, cancel_id=cancel_id) if cancel_id <= MAX_PK else None
    if cancel is None:
        raise Http404("No such cancel of this course.")
    try:
        courses.course_cancel_retry(user=request.user, cancel=cancel)
    except BookingError as exc:
        if request.htmx:
            return _page(request, service, sessions_error=exc.message, status=REFUSED, partial="course-sessions")
        messages.error(request, exc.message)
        return redirect(_page_url(service))
    if request.htmx:
        return _page(request, service, partial="course-sessions")
    messages.info(request, "Sending the refused cancels to Wix again…")
    return redirect(_page_url(service))


# --- helpers ---------------------------------------------------------------------------------------


def _course_or_404(service_id: int) -> Service:
    service = selectors.course_page_service(service_id=service_id) if service_id <= MAX_PK else None
    if service is None:
        raise Http404("No such course.")
    return service


def _session_or_404(service: Service, session_id: int) -> Any:
    session = selectors.course_session_get(service=service, session_id=session_id) if session_id <= MAX_PK else None
    if session is None:
        raise Http404("No such session of this course.")
    return session


def _page_url(service: Service) -> str:
    return reverse("course_page", args=[service.pk])


def _to(request: HttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _count(cancel: Any) -> str:
    n = cancel.sessions.count()
    return "1 session" if n == 1 else f"{n} sessions"


def _add_preview(form: AddSessionForm, service: Service) -> courses.Preview | None:
    """The previewed session, or None with every message on the form."""
    if not form.is_valid():
        return None
    try:
        term = courses.course_add_term(
            service=service,
            day=form.cleaned_data["day"],
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            instructor=form.chosen_instructor(),
            location=form.chosen_location(),
            capacity=form.cleaned_data.get("capacity"),
            now=timezone.now(),
            tz=settings.TIME_ZONE,
        )
    except courses.TermInvalid as invalid:
        form.add_problems(invalid)
        return None
    preview = courses.course_preview(term=term)
    if not preview.plan.sessions:
        why = preview.plan.skipped[0].exclusion.reason if preview.plan.skipped else "Already in Wix"
        form.add_error("start", f"{service.name} has this session already ({why.lower()}): nothing to add.")
        return None
    return preview


def _last_date(request: HttpRequest, service: Service, form: LastDateForm, *, error: str = "") -> HttpResponse:
    """The preview of a new last date: the new weeks when it is later than the course's last day,
    the sessions to cancel when it is earlier."""
    new_last: date = form.cleaned_data["new_last_date"]
    tz = settings.TIME_ZONE
    last = courses.course_last_day(service=service, tz=tz)
    if last is not None and new_last == last:
        form.add_error("new_last_date", f"{service.name}'s last session is on {last:%a %-d %b %Y} already.")
        return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
    status = REFUSED if error else 200
    try:
        if last is None or new_last > last:
            term = courses.course_extend_term(
                service=service, new_last=new_last, first=None, today=timezone.localdate(), tz=tz
            )
            preview = courses.course_preview(term=term)
            if not preview.plan.sessions:
                form.add_error(
                    "new_last_date",
                    f"No session of the timetable falls between {term.first:%-d %b} and {new_last:%-d %b %Y}.",
                )
                return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
            return _page(
                request, service, last_form=form, last_preview=preview, error=error, status=status, partial=TOOLS
            )
        plan = courses.course_shorten_plan(service=service, new_last=new_last, now=timezone.now(), tz=tz)
    except courses.TermInvalid as invalid:
        form.add_problems(invalid)
        return _page(request, service, last_form=form, status=INVALID, partial=TOOLS)
    except BookingError as exc:
        form.add_error("new_last_date", exc.message)
        return _page(request, service, last_form=form, status=REFUSED if error else INVALID, partial=TOOLS)
    return _page(request, service, last_form=form, shorten=plan, error=error, status=status, partial=TOOLS)


def _cancel_refused(request: HttpRequest, service: Service, sessions: list[Any], exc: BookingError) -> HttpResponse:
    """A cancel the commit refused: the page with why, and the preview as it stands now (if any)."""
    try:
        plan = courses.course_cancel_plan(service=service, sessions=sessions, now=timezone.now())
    except BookingError:
        plan = None
    return _page(request, service, cancel=plan, cancel_error=exc.message, status=REFUSED, partial=TOOLS)


def _page(
    request: HttpRequest,
    service: Service,
    *,
    add_form: AddSessionForm | None = None,
    add_preview: courses.Preview | None = None,
    last_form: LastDateForm | None = None,
    last_preview: courses.Preview | None = None,
    shorten: courses.CancelPlan | None = None,
    cancel: courses.CancelPlan | None = None,
    cancel_error: str = "",
    sessions_error: str = "",
    error: str = "",
    status: int = 200,
    partial: str | None = None,
) -> HttpResponse:
    tz = settings.TIME_ZONE
    timetable = courses.course_timetable(service=service)
    last = courses.course_last_day(service=service, tz=tz)
    read = selectors.course_page_read(service=service, now=timezone.now())
    live = [*read.builds, *read.cancels]
    context: dict[str, Any] = {
        "service": service,
        "page": read,
        "timetable": timetable,
        "last_day": last,
        "sending": any(
            x.action and x.action.status in (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING) for x in live
        ),
        "can_edit": request.user.has_perm(roles.MANAGE_COURSES),
        "add_form": add_form or AddSessionForm(service=service, timetable=timetable),
        "add_preview": add_preview,
        "last_form": last_form or LastDateForm(initial={"new_last_date": last}),
        "last_preview": last_preview,
        "shorten": shorten,
        "cancel": cancel,
        "cancel_error": cancel_error,
        "sessions_error": sessions_error,
        "error": error,
        "tz": tz,
    }
    use_partial = partial and request.htmx and not request.htmx.history_restore_request
    template = f"{PAGE}#{partial}" if use_partial else PAGE
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
