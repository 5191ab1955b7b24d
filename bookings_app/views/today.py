from datetime import date

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from bookings_app import forms as desk_forms
from bookings_app import roles, selectors
from bookings_app.models import Service, StaffMember


class TodayFilterForm(forms.Form):
    date = desk_forms.DayField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(hidden=False), required=False, empty_label="All services"
    )
    staff = forms.ModelChoiceField(queryset=StaffMember.objects.all(), required=False, empty_label="All staff")


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    """The day's sessions with their roster numbers; ?date=YYYY-MM-DD&service=<pk>&staff=<pk>."""
    form = TodayFilterForm(request.GET or None)
    day: date = timezone.localdate()
    service = staff = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            day = form.cleaned_data["date"] or day
            service, staff = form.cleaned_data["service"], form.cleaned_data["staff"]
        else:
            status = 422  # show today, unfiltered, with the message next to the field
    sessions = selectors.session_day_list(
        day=day,
        service_id=service.pk if service else None,
        staff_id=staff.pk if staff else None,
    )
    prev_day, next_day = desk_forms.day_neighbours(day)
    filters = {k: v for k, v in (("service", service and service.pk), ("staff", staff and staff.pk)) if v}
    context = {
        "form": form,
        "day": day,
        "is_today": day == timezone.localdate(),
        "prev_day": prev_day,
        "next_day": next_day,
        "filters": filters,
        "sessions": sessions,
        # Appointment sessions of a multi-service package (a "Package" marker): one query for the day.
        "package_sessions": selectors.package_session_ids(session_ids=[s.pk for s in sessions]),
        # The filter's options as plain pairs: Django's select widget renders a template per
        # option, a third of this page's time.
        "service_choices": list(form.fields["service"].queryset.values_list("pk", "name")),
        "staff_choices": list(form.fields["staff"].queryset.values_list("pk", "name")),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "today/today.html#session-list" if partial else "today/today.html"
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
