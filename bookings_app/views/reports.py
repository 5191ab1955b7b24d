"""The manager's payment report (``reports``), the rows behind any of its numbers
(``report_rows``) and those rows as a spreadsheet (``report_rows_export``). Read-only: every
figure comes from the mirror and the desk's own actions, never from Wix. A query the form cannot
read is answered 400 with what is wrong, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from bookings_app import report_chart, report_tables, roles, selectors
from bookings_app.selectors import reports_facts
from bookings_app.services import exports
from bookings_app.views.reports_forms import RANGES, DrillForm, ReportForm, ReportQuery

_MARKER = "__ref__"
SELECT_FIELDS = ("service_type", "status", "payment_status", "method", "attendance")


@roles.require(roles.VIEW_REPORTS)
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """The payment report: ?range=this_week|last_week|this_month|custom&start=&end= and the filters."""
    form = ReportForm(request.GET)
    if not form.is_valid():
        return _refused(request, form, "reports/report.html")
    query = form.query()
    data = selectors.report_read(scope=query.scope, filters=query.filters)
    rows_url = _relative(reverse("report_rows"), to=reverse("reports"))
    link = f"{rows_url}?{query.query_string()}&show="
    totals = report_tables.cells_by_name(data.total, link=link, currency=data.currency)
    context = {
        **_filter_context(form, query),
        "report": data,
        "totals": totals,
        "summary": report_tables.summary(totals),
        "column_groups": [(heading, len(names)) for heading, names in report_tables.COLUMN_GROUPS],
        "columns": report_tables.columns(),
        "total_cells": report_tables.cells(data.total, link=link, currency=data.currency),
        "session_rows": report_tables.session_rows_html(
            report=data,
            rows_url=rows_url,
            query=query.query_string(drop=("start", "end")),
            roster_url=reverse("roster", args=[_MARKER]),
        ),
        "chart_html": report_chart.chart_html(
            days=data.days,
            currency=data.currency,
            link=_joined(rows_url, query.query_string(drop=("start", "end"))),
            methods=reports_facts.METHODS,
        ),
    }
    return TemplateResponse(request, "reports/report.html", context)


@roles.require(roles.VIEW_REPORTS)
@require_GET
def report_rows(request: HttpRequest) -> HttpResponse:
    """The rows behind one number (?show=<metric>, and the report's query), a page at a time."""
    form = DrillForm(request.GET)
    if not form.is_valid():
        return _refused(request, form, "reports/rows.html")
    query = form.query()
    metric = form.metric()
    page = selectors.drill_page(
        scope=query.scope, filters=query.filters, metric=metric, page=form.cleaned_data.get("page") or 1
    )
    rows_url = reverse("report_rows")
    show = {"show": metric.name}
    roster_url = reverse("roster", args=[_MARKER])
    context = {
        "query": query,
        "page": page,
        "metric": metric,
        "shown_filters": _shown_filters(form),
        "currency": selectors.report_currency(),
        "roster_url": roster_url,
        "back": f"{reverse('reports')}?{query.query_string()}",
        "page_link": f"{rows_url}?{query.query_string(**show)}&page=",
        "can_export": request.user.has_perm(roles.EXPORT_DATA),
        "export_csv": f"{reverse('report_rows_export')}?{query.query_string(**show, format='csv')}",
        "export_xlsx": f"{reverse('report_rows_export')}?{query.query_string(**show, format='xlsx')}",
        "rows": [(row, roster_url.replace(_MARKER, quote(row.session_ref, safe=""))) for row in page.rows],
    }
    return TemplateResponse(request, "reports/rows.html", context)


@roles.require(roles.EXPORT_DATA)
@require_GET
def report_rows_export(request: HttpRequest) -> HttpResponse:
    """The drill-down's rows, all of them, as CSV or XLSX (?format=csv|xlsx), streamed."""
    try:
        fmt = exports.parse_format(request.GET.get("format"))
    except exports.ExportFormatError as err:
        return HttpResponse(str(err), status=400, content_type="text/plain; charset=utf-8")
    form = DrillForm(request.GET)
    if not form.is_valid():
        return HttpResponse("\n".join(form.messages()), status=400, content_type="text/plain; charset=utf-8")
    query = form.query()
    metric = form.metric()
    rows = selectors.drill_rows_all(scope=query.scope, filters=query.filters, metric=metric)
    table = report_tables.export_table(rows=rows, metric=metric, first_day=query.first_day, last_day=query.last_day)
    return exports.response(table, fmt)


def _refused(request: HttpRequest, form: ReportForm, template: str) -> HttpResponse:
    """The page with the form and what is wrong with it, answered 400; nothing is read."""
    context = {
        "form": form,
        "problems": form.messages(),
        "ranges": RANGES,
        "refused": True,
        **_filter_options(form),
    }
    return TemplateResponse(request, template, context, status=400)


def _filter_context(form: ReportForm, query: ReportQuery) -> dict[str, object]:
    """What the report's filter form needs (``templates/reports/filters.html``)."""
    return {
        "form": form,
        "query": query,
        "ranges": RANGES,
        # A preset means the days around today (whatever days are shown now), with the filters kept.
        "preset_links": [
            (value, label, f"{_joined(reverse('reports'), query.query_string(drop=('start', 'end')))}range={value}")
            for value, label in RANGES
            if value != "custom"
        ],
        "all_sessions_link": f"{reverse('reports')}?{query.query_string(drop=('session',))}",
        **_filter_options(form),
    }


def _filter_options(form: ReportForm) -> dict[str, object]:
    """The filter form's ``<option>``s, written here (Django's select widget renders a template
    per option, and the template language a lookup and a comparison per option): the services
    and the staff by pk, and every other filter with its options (``select_fields``: (bound
    field, its options)), each selected as the query says."""
    services = form.fields["service"].queryset.values_list("pk", "name")
    staff = form.fields["staff"].queryset.values_list("pk", "name")
    return {
        "service_options": _options_html(services, form.data.get("service")),
        "staff_options": _options_html(staff, form.data.get("staff")),
        "select_fields": [
            (field, _options_html(field.field.choices, field.data)) for field in (form[n] for n in SELECT_FIELDS)
        ],
    }


def _options_html(choices: Iterable[tuple[object, object]], selected: str | None) -> SafeString:
    """``<option>`` elements of (value, label) ``choices``; the one whose value, as text, is
    ``selected`` (the query's) is selected."""
    return mark_safe(  # noqa: S308 - escaped here
        "".join(
            f'<option value="{escape(value)}"{" selected" if str(value) == selected else ""}>{escape(label)}</option>'
            for value, label in choices
        )
    )


def _shown_filters(form: ReportForm) -> list[tuple[str, str]]:
    """The filters set, as (label, value) in words: what the rows are limited to."""
    data = form.cleaned_data
    shown = []
    for name in ("service", "staff"):
        if data.get(name):
            shown.append((form.fields[name].label or name.capitalize(), str(data[name])))
    for name in SELECT_FIELDS:
        if data.get(name):
            shown.append((str(form.fields[name].label), dict(form.fields[name].choices)[data[name]]))
    return shown


def _relative(url: str, *, to: str) -> str:
    """``url`` relative to the page at ``to`` when it lies under it ("rows/" from "/reports/")."""
    return url[len(to) :] if url.startswith(to) and to.endswith("/") else url


def _joined(url: str, query: str) -> str:
    """``url?query&``, ready for more parameters (``url?`` when there is no query)."""
    return f"{url}?{query}&" if query else f"{url}?"
