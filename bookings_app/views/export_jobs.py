"""Exports, at once or in the background (``services.export_jobs``): the helper every export view
calls (:func:`export_or_offer`), then — for a big one — starting the job, following its progress
(htmx polls ``#export-job`` every second), and downloading the file. A job is its owner's alone:
anyone else gets a 404."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from bookings_app import roles, tasks
from bookings_app.models import ExportJob
from bookings_app.services import export_jobs, exports
from bookings_app.services.errors import BookingError

OFFER = "exports/offer.html"
JOB = "exports/job.html"
BAD_REQUEST = 400
NOT_READY = 409


def export_or_offer(request: HttpRequest, name: str) -> HttpResponse:
    """The export ``name`` (registered in ``export_jobs.EXPORTS``) of the filters in the query
    string, in ``?format=`` (csv, the default, or xlsx): downloaded at once up to
    ``EXPORT_BACKGROUND_ROWS`` rows, else a page offering to prepare it in the background. Bad
    filters or format: 400 with the reason. The caller's view holds the screen's permission; this
    checks the export's (``export_data`` and the spec's own): 403 without."""
    spec = export_jobs.spec_get(name)
    if not export_jobs.may_export(request.user, spec):
        raise PermissionDenied("Needs the export permission.")
    try:
        fmt = exports.parse_format(request.GET.get("format"))
        source = export_jobs.export_source(spec, request.GET)
    except (exports.ExportFormatError, export_jobs.ExportParamsError) as exc:
        return _refused(request, spec, str(exc))
    if source.rows <= settings.EXPORT_BACKGROUND_ROWS:
        return exports.response(source.table, fmt)
    context = {
        "spec": spec,
        "rows": source.rows,
        "fmt": fmt,
        "query": export_jobs.job_query(request.GET),
        "back": roles.came_from(request) or "/",
    }
    return TemplateResponse(request, OFFER, context)


def _refused(request: HttpRequest, spec: export_jobs.ExportSpec | None, message: str) -> HttpResponse:
    context = {"spec": spec, "error": message, "back": roles.came_from(request) or "/"}
    return TemplateResponse(request, OFFER, context, status=BAD_REQUEST)


@roles.require(roles.EXPORT_DATA)
@require_POST
def export_job_start(request: HttpRequest) -> HttpResponse:
    """Prepare the export in the background, then follow it on its page."""
    try:
        spec = export_jobs.spec_get(request.POST.get("export", ""))
        job = export_jobs.export_job_create(
            user=request.user, spec=spec, fmt=request.POST.get("format", ""), query=request.POST.get("query", "")
        )
    except (exports.ExportFormatError, export_jobs.ExportParamsError) as exc:
        return _refused(request, None, str(exc))
    except BookingError as exc:
        raise PermissionDenied(exc.message) from exc
    tasks.export_job_enqueue(job)
    return redirect("export_job", job_id=job.pk)


@roles.require(roles.EXPORT_DATA)
@require_GET
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's progress, and its file once written."""
    job = export_jobs.export_job_get(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such export of yours.")
    spec = export_jobs.EXPORTS.get(job.name)
    back = reverse(spec.page) + (f"?{job.query}" if job.query else "") if spec and spec.page else ""
    partial = request.htmx and not request.htmx.history_restore_request
    context = {"job": job, "spec": spec, "back": back}
    response = TemplateResponse(request, f"{JOB}#export-job" if partial else JOB, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@roles.require(roles.EXPORT_DATA)
@require_GET
def export_job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    """The written file (its owner only), streamed a chunk at a time; 409 while it is still being
    written."""
    job = export_jobs.export_job_get(user=request.user, job_id=job_id)
    if job is None:
        raise Http404("No such export of yours.")
    if job.status != ExportJob.Status.DONE:
        return TemplateResponse(request, JOB, {"job": job, "not_ready": True}, status=NOT_READY)
    response = StreamingHttpResponse(
        export_jobs.export_file_chunks(job.pk),
        content_type=exports.CSV_TYPE if job.fmt == "csv" else exports.XLSX_TYPE,
    )
    response["Content-Length"] = str(job.size)
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
