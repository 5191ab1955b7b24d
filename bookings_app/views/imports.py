"""Participants imported from a spreadsheet (Admin): upload → check the columns → the dry run's diff →
import in the background with a live progress bar, Cancel and Resume → each row's result, the failed
rows to download, fix and upload again; and the history of past imports.

Views are thin: ``services.imports`` reads, checks, commits and runs; ``selectors.imports`` reads
the pages. The page of one import is one template whose parts are inline partials, each named after
the DOM id it replaces: ``import-mapping`` (a refused mapping, 422), ``import-progress`` (polled
while the import runs), ``import-rows`` (a tab or page of the rows, polled while it runs).
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
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from bookings_app import roles
from bookings_app.models import ParticipantImport
from bookings_app.selectors import imports as reads
from bookings_app.services import exports
from bookings_app.services.errors import BookingError
from bookings_app.services.imports import commit, dry_run, results, run, sample, upload
from bookings_app.services.imports.sheet import ImportRefused
from bookings_app.views.common import INVALID, MAX_PK, REFUSED
from bookings_app.views.import_forms import CommitForm, MappingForm

HOME = "imports/home.html"
PAGE = "imports/import.html"
PARTS = ("import-progress", "import-rows", "import-mapping")
ROWS_CHANGED = "importRowsChanged"  # htmx event: the rows part reads itself again


@roles.require(roles.IMPORT_DATA)
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """GET: upload a file, and the past imports. POST (the file): read it (nothing else changes) and
    go on to its columns; a file that can't be read is answered 422 with why."""
    if request.method == "GET":
        return _home(request)
    file = request.FILES.get("file")
    if file is None or not file.name:
        return _home(request, problems=["Choose the participants' file (CSV or XLSX) first."], status=INVALID)
    if file.size is not None and file.size > upload.MAX_FILE_BYTES:
        data = b"x" * (upload.MAX_FILE_BYTES + 1)  # refused by size, without reading it
    else:
        data = file.read(upload.MAX_FILE_BYTES + 1)
    try:
        imported = upload.import_upload(user=request.user, name=file.name, data=data)
    except ImportRefused as refused:
        problems = [str(p) for p in refused.problems]
        return _home(request, problems=problems, file_name=file.name, status=INVALID)
    return _to(request, imported)


@roles.require(roles.IMPORT_DATA)
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The template CSV: the columns, and example rows with this business's own classes."""
    response = HttpResponse(sample.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="participants-template.csv"'
    return response


@roles.require(roles.IMPORT_DATA)
@require_GET
def import_practice(request: HttpRequest) -> HttpResponse:
    """The sandbox only: a practice file of a few hundred rows from the demo club, with mistakes."""
    if not settings.WIX.is_sandbox:
        raise Http404("The practice file is for the sandbox only.")
    data = sample.practice_csv(today=timezone.localdate(), now=timezone.now())
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="participants-practice.csv"'
    return response


@roles.require(roles.IMPORT_DATA)
@require_GET
def import_page(request: HttpRequest, import_id: int) -> HttpResponse:
    """One import: its columns and dry run before the commit; its progress and rows after. htmx asks
    for one part (``HX-Target``): the progress bar, or the rows (``?rows=<tab>&page=<n>``)."""
    imported = _import_or_404(import_id)
    return _page(request, imported)


@roles.require(roles.IMPORT_DATA)
@require_POST
def import_check(request: HttpRequest, import_id: int) -> HttpResponse:
    """The dry run with the columns chosen: every row checked, nothing changed."""
    imported = _import_or_404(import_id)
    form = MappingForm(request.POST, headers=[str(h) for h in imported.headers], mapping=imported.mapping)
    if not form.is_valid():
        return _page(request, imported, form=form, status=INVALID, part="import-mapping")
    try:
        dry_run.import_check(
            user=request.user,
            imported=imported,
            mapping=form.cleaned_data["mapping"],
            allow_new_contacts=form.cleaned_data["allow_new_contacts"],
        )
    except ImportRefused as refused:
        problems = [str(p) for p in refused.problems]
        return _page(request, imported, form=form, problems=problems, status=INVALID, part="import-mapping")
    except BookingError as exc:
        return _page(request, imported, error=exc.message, status=REFUSED, part="import-mapping")
    return _to(request, imported, anchor="dry-run")


@roles.require(roles.IMPORT_DATA)
@require_POST
def import_commit(request: HttpRequest, import_id: int) -> HttpResponse:
    """Import the rows the dry run planned: saved here, released and sent by the worker."""
    imported = _import_or_404(import_id)
    form = CommitForm(request.POST)
    if not form.is_valid():
        return _page(request, imported, error="This form has expired: reload the page.", status=INVALID)
    try:
        imported = commit.import_commit(
            user=request.user,
            imported=imported,
            idempotency_key=form.cleaned_data["idempotency_key"],
            digest=form.cleaned_data["plan_digest"],
        )
    except BookingError as exc:
        imported.refresh_from_db()
        return _page(request, imported, error=exc.message, status=REFUSED)
    messages.success(request, f"Importing {imported.rows_planned} rows: they go to Wix in batches, in the background.")
    return _to(request, imported)


@roles.require(roles.IMPORT_DATA)
@require_POST
def import_cancel(request: HttpRequest, import_id: int) -> HttpResponse:
    """Stop after the current batch."""
    return _control(request, import_id, run.import_cancel, "Stopping after the batch on its way to Wix.")


@roles.require(roles.IMPORT_DATA)
@require_POST
def import_resume(request: HttpRequest, import_id: int) -> HttpResponse:
    """Go on with the rows not started."""
    return _control(request, import_id, run.import_resume, "Going on with the rows not started yet.")


@roles.require(roles.IMPORT_DATA)
@require_POST
def import_retry(request: HttpRequest, import_id: int) -> HttpResponse:
    """Send again what Wix refused."""
    return _control(request, import_id, run.import_retry, "Sending the refused rows to Wix again.")


@roles.require(roles.IMPORT_DATA)
@require_GET
def import_failed(request: HttpRequest, import_id: int) -> HttpResponse:
    """The rows not imported, with their own columns and an "Error" column: fix, then upload again."""
    imported = _import_or_404(import_id)
    try:
        fmt = exports.parse_format(request.GET.get("format"))
    except exports.ExportFormatError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    return exports.response(results.failed_rows_table(imported), fmt)


# --- helpers ---------------------------------------------------------------------------------------


def _control(request: HttpRequest, import_id: int, action: Any, done: str) -> HttpResponse:
    imported = _import_or_404(import_id)
    try:
        action(user=request.user, imported=imported)
    except BookingError as exc:
        imported.refresh_from_db()
        if request.htmx:
            return _page(request, imported, error=exc.message, status=REFUSED, part="import-progress")
        messages.error(request, exc.message)
        return redirect("import_page", import_id=imported.pk)
    imported.refresh_from_db()
    if request.htmx:
        return _page(request, imported, part="import-progress")
    messages.info(request, done)
    return redirect("import_page", import_id=imported.pk)


def _import_or_404(import_id: int) -> ParticipantImport:
    imported = reads.import_get(import_id=import_id) if import_id <= MAX_PK else None
    if imported is None:
        raise Http404("No such import.")
    return imported


def _to(request: HttpRequest, imported: ParticipantImport, anchor: str = "") -> HttpResponse:
    url = reverse("import_page", args=[imported.pk])
    if request.htmx:
        # No fragment: a location that differs from the page's only by its hash would not load it again
        # (the dry run's heading takes the focus instead).
        return HttpResponseClientRedirect(url)
    return redirect(url + (f"#{anchor}" if anchor else ""))


def _home(request: HttpRequest, *, problems: list[str] | None = None, file_name: str = "", status: int = 200) -> Any:
    context = {
        "problems": problems or [],
        "file_name": file_name,
        "history": reads.imports_recent(),
        "max_rows": upload.MAX_ROWS,
        "max_mb": upload.MAX_FILE_BYTES // 1024 // 1024,
        "practice": settings.WIX.is_sandbox,
    }
    return TemplateResponse(request, HOME, context, status=status)


def _page(
    request: HttpRequest,
    imported: ParticipantImport,
    *,
    form: MappingForm | None = None,
    problems: list[str] | None = None,
    error: str = "",
    status: int = 200,
    part: str = "",
) -> HttpResponse:
    headers = [str(h) for h in imported.headers]
    if form is None and not imported.committed:
        form = MappingForm(headers=headers, mapping=imported.mapping, initial=_initial(imported))
    try:
        page_number = int(request.GET.get("page") or 1)
    except ValueError:
        page_number = 1
    mapping = form.cleaned_data.get("mapping") if form is not None and form.is_bound and form.is_valid() else None
    view = request.GET.get("rows", "")
    # Lazy: the progress bar, polled every second, reads none of these.
    context: dict[str, Any] = {
        "imported": imported,
        "form": form,
        "problems": problems or [],
        "error": error,
        "sample": SimpleLazyObject(lambda: reads.import_sample(imported=imported, mapping=mapping)),
        "diff": imported.diff or {},
        "earlier": SimpleLazyObject(lambda: reads.imports_of_file(imported=imported)),
        "rows": SimpleLazyObject(lambda: reads.import_rows_page(imported=imported, view=view, page=page_number)),
        "seconds_left": results.seconds_left(imported),
        "stalled": run.import_stalled(imported),
        "per_minute": getattr(settings.WIX, "rate_limit_per_minute", 200),
        "tz": settings.TIME_ZONE,
    }
    if not part and request.htmx and not request.htmx.history_restore_request and request.htmx.target in PARTS:
        part = request.htmx.target
    template = f"{PAGE}#{part}" if part and request.htmx else PAGE
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    if part == "import-progress" and request.htmx and (not imported.is_active or request.method == "POST"):
        # The import stopped, finished or was resumed: the rows below follow at once.
        trigger_client_event(response, ROWS_CHANGED)
    return response


def _initial(imported: ParticipantImport) -> dict[str, Any]:
    return {"allow_new_contacts": imported.allow_new_contacts}
