"""The audit trail (managers): every staff action, newest first, filtered by person, customer,
booking, session, kind and date; read-only; exported as CSV or XLSX (in the background when big).

The filters are one GET form (:class:`AuditFilterForm`), which the export reads too
(:func:`audit_export_source`, registered in ``services.export_jobs.EXPORTS``), so the file holds
exactly the rows the screen shows. Filters that cannot be read are answered 400 with the reason.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from bookings_app import roles
from bookings_app.models import Booking, Session
from bookings_app.selectors import audit as audit_read
from bookings_app.services import export_jobs, exports
from bookings_app.views.common import MAX_PK
from bookings_app.views.export_jobs import export_or_offer

PAGE = "audit/audit.html"
BAD_REQUEST = 400


class AuditFilterForm(forms.Form):
    who = forms.ChoiceField(required=False, label="Who")
    q = forms.CharField(required=False, max_length=100, label="Customer", strip=True)
    customer = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    booking = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    session = forms.IntegerField(required=False, min_value=1, max_value=MAX_PK, widget=forms.HiddenInput)
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "Every kind"), *((k, label) for k, (label, _) in audit_read.KINDS.items())],
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["who"].choices = [("", "Anyone"), *audit_read.audit_people()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", "The last day comes before the first.")
        return data

    def filters(self) -> audit_read.AuditFilters:
        d = self.cleaned_data
        return audit_read.AuditFilters(
            who=d.get("who") or "",
            customer=d.get("customer"),
            customer_text=d.get("q") or "",
            booking=d.get("booking"),
            session=d.get("session"),
            kind=d.get("kind") or "",
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
        )


@roles.require(roles.VIEW_AUDIT)
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """A page of the trail (``?after=`` the next, older one), with the filters that made it."""
    form = AuditFilterForm(request.GET)
    after_raw = request.GET.get("after")
    after = audit_read.cursor_parse(after_raw) if after_raw else None
    context: dict[str, Any] = {"form": form, "page": None}
    if not form.is_valid():
        return TemplateResponse(request, PAGE, context, status=BAD_REQUEST)
    if after_raw and after is None:
        context["error"] = "That page of the trail cannot be read; start again from the newest entries."
        return TemplateResponse(request, PAGE, context, status=BAD_REQUEST)
    filters = form.filters()
    try:
        page = audit_read.audit_page(filters=filters, after=after)
    except audit_read.AuditFilterError as exc:
        form.add_error("q", str(exc))
        return TemplateResponse(request, PAGE, context, status=BAD_REQUEST)
    context.update(
        page=page,
        filters=filters,
        subject=_subject(filters),
        newer=bool(after),
        next_query=_with(request.GET, after=page.more) if page.more else "",
        first_query=_with(request.GET, after=None),
        export={fmt: "?" + _with(request.GET, after=None, format=fmt) for fmt in exports.FORMATS},
        can_export=request.user.has_perm(roles.EXPORT_DATA),
    )
    return TemplateResponse(request, PAGE, context)


@roles.require(roles.VIEW_AUDIT)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponse:
    """The filtered trail as CSV or XLSX (``?format=``): at once, or prepared in the background."""
    return export_or_offer(request, "audit")


def audit_export_source(query: QueryDict) -> export_jobs.ExportSource:
    """The export's rows for the filters in ``query`` (registered as the "audit" export).
    Raises ``ExportParamsError``."""
    form = AuditFilterForm(query)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = form.fields[field].label if field in form.fields else ""
        raise export_jobs.ExportParamsError(f"{label or 'Filters'}: {errors[0]}")
    filters = form.filters()
    try:
        rows = audit_read.audit_export_count(filters)
    except audit_read.AuditFilterError as exc:
        raise export_jobs.ExportParamsError(str(exc)) from exc
    table = exports.Table(
        name=f"audit-{timezone.localdate():%Y-%m-%d}",
        headers=audit_read.EXPORT_HEADERS,
        rows=audit_read.audit_export_rows(filters),
        sheet_title="Audit trail",
    )
    return export_jobs.ExportSource(table=table, rows=rows)


def _subject(filters: audit_read.AuditFilters) -> dict[str, Any]:
    """The booking and the session the trail is narrowed to, to name them on the page."""
    out: dict[str, Any] = {}
    if filters.booking:
        out["booking"] = Booking.objects.select_related("contact", "session").filter(pk=filters.booking).first()
    if filters.session:
        out["session"] = Session.objects.select_related("service").filter(pk=filters.session).first()
    return out


def _with(query: QueryDict, *, after: str | None, **values: str) -> str:
    """``query`` with the page cursor ``after`` (none: the newest page) and ``values`` set."""
    changed = query.copy()
    changed.pop("after", None)
    if after:
        changed["after"] = after
    for name, value in values.items():
        changed[name] = value
    return changed.urlencode()
