"""Sync with Wix: the "Sync now" button and its progress, and the sync status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from bookings_app import roles, selectors, tasks
from bookings_app.models import SyncState
from bookings_app.services import sync

# htmx event: the sync the widget showed is done; the page fetches its content again (app.js).
SYNC_FINISHED = "syncFinished"


@dataclass(frozen=True)
class SyncWidget:
    """What the header widget shows (the base layout's ``sync_status`` has the idle subset)."""

    running: bool
    queued: bool  # asked for, but the background worker has not started it yet
    percent: int
    phase: str
    last_success_at: datetime | None
    last_error: str
    failing: bool

    @property
    def never(self) -> bool:
        return self.last_success_at is None

    @property
    def busy(self) -> bool:
        return self.running or self.queued


def _widget() -> SyncWidget:
    progress = sync.sync_progress_get()
    not_answering = selectors.wix_not_answering()
    return SyncWidget(
        running=progress.running,
        queued=not progress.running and tasks.sync_full_queued(),
        percent=progress.percent,
        phase=progress.phase,
        last_success_at=progress.last_success_at,
        last_error=progress.last_error if not_answering is None else not_answering,
        failing=progress.failing or not_answering is not None,
    )


def _widget_response(request: HttpRequest, widget: SyncWidget) -> HttpResponse:
    response = TemplateResponse(request, "sync/widget.html#sync-widget", {"sync": widget})
    patch_vary_headers(response, ("HX-Request",))
    return response


@roles.require(roles.RUN_SYNC)
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    """Queue a full sync with Wix; htmx gets the progress widget, which polls until done."""
    queued = tasks.sync_request(user=request.user)
    if request.htmx:
        widget = _widget()
        response = trigger_client_event(_widget_response(request, widget), "syncStarted")
        # Done already (a task backend that runs at once): nothing will poll to say so later.
        return response if widget.busy else trigger_client_event(response, SYNC_FINISHED)
    if queued:
        messages.info(request, "Sync with Wix started. The page shows the new data once it has finished.")
    else:
        messages.info(request, "A sync with Wix is already running.")
    # Back to the page the button was on: a path of this site only (a bare word such as "NaN" would
    # be taken for a URL name by redirect()).
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("sync_status")
    return HttpResponseRedirect(target)


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def sync_status(request: HttpRequest) -> HttpResponse:
    """The progress widget (htmx polls it every second while a sync runs), or the status page."""
    widget = _widget()
    if request.htmx and not request.htmx.history_restore_request:
        response = _widget_response(request, widget)
        if not widget.busy:
            response = trigger_client_event(response, SYNC_FINISHED)
        return response
    order = {kind: i for i, kind in enumerate(sync.ALL_KINDS)}
    states = sorted(SyncState.objects.filter(kind__in=sync.ALL_KINDS), key=lambda s: order.get(s.kind, len(order)))
    rows = [
        {
            "label": sync.LABELS.get(s.kind, s.kind),
            "state": s,
            "failing": bool(s.last_error_at and (s.last_success_at is None or s.last_error_at > s.last_success_at)),
        }
        for s in states
    ]
    response = TemplateResponse(request, "sync/status.html", {"sync": widget, "rows": rows})
    patch_vary_headers(response, ("HX-Request",))
    return response
