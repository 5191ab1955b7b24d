"""The course builder: describe a term, preview every session (clashes, excluded days, the Wix calls),
commit it — saved here, sent by the worker — and watch it reach Wix; "Retry" sends what Wix refused.

Admins build (``manage_courses``); managers may look at the builder, its preview and the results
(``view_courses``); the front desk may not.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from bookings_app import roles, selectors
from bookings_app.models import CourseBuild, DeskAction
from bookings_app.services import courses
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, REFUSED
from bookings_app.views.course_form import WEEKDAY_CHOICES, CourseTermForm, valid_key

BUILDER = "courses/builder.html"
RESULT = "courses/build.html"


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    """The terms built so far, newest first, the way to build another, and each course's own page."""
    context = {"builds": selectors.course_builds_recent(), "courses": selectors.course_services()}
    return TemplateResponse(request, "courses/list.html", context)


@roles.require(roles.VIEW_COURSES)
@require_http_methods(["GET", "POST"])
def course_new(request: HttpRequest) -> HttpResponse:
    """GET: the empty builder (``?service=<pk>`` chooses the course). POST: the preview — nothing is
    saved or sent; bad input is answered 422 with the messages next to the fields."""
    if request.method == "GET":
        initial = {"service": request.GET.get("service", "")}
        return _builder(request, CourseTermForm(initial=initial))
    form = CourseTermForm(request.POST)
    term = _term(form)
    if term is None:
        return _builder(request, form, status=INVALID)
    preview = courses.course_preview(term=term)
    if not preview.plan.sessions:
        form.add_error("first_date", "No sessions are left: every date of this term is excluded.")
        return _builder(request, form, status=INVALID)
    return _builder(request, form, preview=preview)


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_commit(request: HttpRequest) -> HttpResponse:
    """Save the previewed term (with the digest of the plan the admin saw) and queue it for the
    worker; then the build's page, which follows its progress. A re-sent form lands there too."""
    key = request.POST.get("idempotency_key", "").strip()
    done = selectors.course_build_by_key(key=key) if valid_key(key) else None
    if done is not None and done.plan_digest == request.POST.get("plan_digest", ""):
        return _to_build(request, done)
    form = CourseTermForm(request.POST)
    term = _term(form)
    if term is None:
        return _builder(request, form, status=INVALID)
    if not valid_key(key):
        error, status = "This form has expired: preview again, then create the sessions.", INVALID
    else:
        try:
            build = courses.course_build_commit(
                user=request.user, term=term, digest=request.POST.get("plan_digest", ""), idempotency_key=key
            )
        except BookingError as exc:
            again = selectors.course_build_by_key(key=key) if exc.code == "duplicate_request" else None
            if again is not None:
                return _to_build(request, again)
            error, status = exc.message, REFUSED
        else:
            messages.success(request, f"Saved — the {build.sessions_planned} sessions are on their way to Wix.")
            return _to_build(request, build)
    preview = courses.course_preview(term=term)
    return _builder(request, form, preview=preview, error=error, status=status)


@roles.require(roles.VIEW_COURSES)
@require_GET
def course_build(request: HttpRequest, build_id: int) -> HttpResponse:
    """A build's page: what it makes and how far it got. htmx polls its status part while the
    worker runs (``#course-build-status``)."""
    build = _build_or_404(build_id)
    partial = request.htmx and not request.htmx.history_restore_request
    template = f"{RESULT}#course-build-status" if partial else RESULT
    response = TemplateResponse(request, template, _build_context(build))
    patch_vary_headers(response, ("HX-Request",))
    return response


@roles.require(roles.MANAGE_COURSES)
@require_POST
def course_retry(request: HttpRequest, build_id: int) -> HttpResponse:
    """Send again only the sessions Wix refused."""
    build = _build_or_404(build_id)
    try:
        courses.course_build_retry(user=request.user, build=build)
    except BookingError as exc:
        if request.htmx:
            context = {**_build_context(_build_or_404(build_id)), "error": exc.message}
            return TemplateResponse(request, f"{RESULT}#course-build-status", context, status=REFUSED)
        messages.error(request, exc.message)
        return redirect("course_build", build_id=build.pk)
    if request.htmx:
        return TemplateResponse(request, f"{RESULT}#course-build-status", _build_context(_build_or_404(build_id)))
    messages.info(request, "Sending the refused sessions to Wix again…")
    return redirect("course_build", build_id=build.pk)


# --- helpers ---------------------------------------------------------------------------------------


def _term(form: CourseTermForm) -> courses.Term | None:
    """The form's term, or None with every message on the form (shape first, then the rules)."""
    if not form.is_valid():
        return None
    service = form.chosen_service()
    try:
        return courses.term_make(
            service=service,
            instructor=form.chosen_instructor(),
            location=form.chosen_location(),
            capacity=form.capacity_or_default(service),
            slots=form.slots,
            first=form.cleaned_data["first_date"],
            last=form.cleaned_data.get("last_date"),
            weeks=form.cleaned_data.get("weeks"),
            exclusions=form.exclusions,
            today=timezone.localdate(),
            tz=settings.TIME_ZONE,
        )
    except courses.TermInvalid as invalid:
        form.add_term_problems(invalid)
        return None


def _builder(
    request: HttpRequest,
    form: CourseTermForm,
    *,
    preview: courses.Preview | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "preview": preview,
        "error": error,
        "weekdays": WEEKDAY_CHOICES,
        "tz": settings.TIME_ZONE,
        "can_build": request.user.has_perm(roles.MANAGE_COURSES),
        "problems": form.messages() if form.is_bound else [],
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = TemplateResponse(request, f"{BUILDER}#course-builder" if partial else BUILDER, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _to_build(request: HttpRequest, build: CourseBuild) -> HttpResponse:
    url = reverse("course_build", args=[build.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _build_or_404(build_id: int) -> CourseBuild:
    build = selectors.course_build_get(build_id=build_id)
    if build is None:
        raise Http404("No such course term.")
    return build


def _build_context(build: CourseBuild) -> dict[str, Any]:
    action = build.action
    rows = courses.course_build_rows(build=build)
    first_day = next((r.day for r in rows if r.state == "CREATED"), None)
    return {
        "created": sum(1 for r in rows if r.state in ("CREATED", "ELSEWHERE")),
        "failed": sum(1 for r in rows if r.state == "FAILED"),
        "build": build,
        "action": action,
        "running": action is not None and action.status in (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING),
        "needs_attention": action is not None and action.status == DeskAction.Status.NEEDS_ATTENTION,
        "rows": rows,
        "events": build.event_list,  # type: ignore[attr-defined]
        "calls": build.steps.get("calls") or {},
        "calls_total": sum((build.steps.get("calls") or {}).values()),
        "first_day": first_day,
    }
