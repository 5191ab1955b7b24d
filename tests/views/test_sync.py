"""The "Sync now" button and its progress widget, and the sync status page."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from bookings_app.models import AuditEntry, Booking, SyncState
from bookings_app.services import sync
from tests.services.conftest import (  # noqa: F401 - fixtures
    SEEDED_AT,
    clock,
    demo,
    demo_template,
    expected_mirror,
    immediate_tasks,
    sandbox_wix,
    wix,
)
from wix_sandbox import Faults


def test_sync_now_needs_login_and_the_run_sync_permission(client, desk_user, manager_user):
    url = reverse("sync_now")
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(desk_user)
    assert client.post(url).status_code == 403
    client.force_login(manager_user)
    assert client.get(url).status_code == 405


def test_sync_now_over_htmx_runs_the_sync_and_answers_the_widget(manager_client, demo, sandbox_wix, immediate_tasks):  # noqa: F811
    response = manager_client.post(reverse("sync_now"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    # immediate backend: done already, so the page refreshes its content at once (static/js/app.js)
    assert json.loads(response.headers["HX-Trigger"]) == {"syncStarted": {}, "syncFinished": {}}
    body = response.content.decode()
    assert 'id="sync-widget"' in body and "<html" not in body
    assert "Synced 09:00" in body and 'hx-trigger="every 1s"' not in body
    assert Booking.objects.count() == expected_mirror(demo, SEEDED_AT)["bookings"]
    assert AuditEntry.objects.filter(action="sync.requested", actor="manager-user").exists()


def test_sync_now_without_js_queues_and_redirects_back_with_a_message(manager_client, sandbox_wix):  # noqa: F811
    from django_tasks_db.models import DBTaskResult

    response = manager_client.post(reverse("sync_now"), {"next": "/today/"}, follow=False)

    assert response.status_code == 302 and response.url == "/today/"
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.sync_full_task", status="READY").count() == 1
    again = manager_client.post(reverse("sync_now"), {"next": "https://evil.example/"})
    assert again.url == reverse("sync_status")  # not an open redirect
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.sync_full_task", status="READY").count() == 1


@pytest.mark.parametrize("target", ["NaN", "today", "sync_status", "", "//evil.example/x", "javascript:alert(1)"])
def test_sync_now_goes_back_only_to_a_page_of_this_site(manager_client, sandbox_wix, target):  # noqa: F811
    """``next`` is a path, never a URL name ("NaN" was looked up as one: a 500)."""
    response = manager_client.post(reverse("sync_now"), {"next": target})

    assert response.status_code == 302 and response.url == reverse("sync_status")


def test_widget_polls_every_second_while_a_sync_runs_and_stops_when_done(desk_client):
    sync.sync_states_ensure()
    from django.utils import timezone

    SyncState.objects.update(running=True, last_full_at=timezone.now())
    SyncState.objects.filter(kind__in=[SyncState.Kind.SERVICES, SyncState.Kind.STAFF]).update(running=False)
    SyncState.objects.filter(kind=SyncState.Kind.SESSIONS).update(progress_done=1, progress_total=2)

    running = desk_client.get(reverse("sync_status"), HTTP_HX_REQUEST="true")

    body = running.content.decode()
    assert running.status_code == 200 and 'hx-trigger="every 1s"' in body
    assert "Syncing with Wix: sessions" in body and "<progress" in body
    assert 'value="' in body and "HX-Trigger" not in running.headers

    SyncState.objects.update(running=False, last_success_at=timezone.now())
    finished = desk_client.get(reverse("sync_status"), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' not in finished.content.decode()
    assert json.loads(finished.headers["HX-Trigger"]) == {"syncFinished": {}}


def test_widget_says_clearly_when_wix_is_unreachable(manager_client, sandbox, sandbox_wix, immediate_tasks):  # noqa: F811
    sandbox.faults = Faults(error_5xx_rate=1.0, seed=1)

    response = manager_client.post(reverse("sync_now"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert "Wix unreachable" in body and "Wix is unreachable" in body and 'role="alert"' in body
    assert "Sync now" in body  # try again


def test_sync_status_page_lists_each_kind(desk_client, demo, wix):  # noqa: F811
    sync.sync_full(wix=wix)

    response = desk_client.get(reverse("sync_status"))

    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "Bookings, orders and payments" in body and "up to date" in body
    assert "Sync now" not in body  # the front desk may look, not start one
