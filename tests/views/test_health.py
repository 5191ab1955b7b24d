"""``/healthz/``: 200 with ``ok`` or ``degraded`` and what is wrong while the database answers, 503
when it does not; no sign-in, no secret."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from bookings_app.models import DeskAction
from tests import factories

URL = "/healthz/"


def test_the_health_check_has_its_url():
    assert reverse("healthz") == URL


@pytest.mark.django_db
def test_all_well_is_ok_with_every_check(client):
    factories.WorkerHeartbeatFactory()
    factories.SyncStateFactory(kind="bookings", last_success_at=timezone.now() - timedelta(minutes=1))

    response = client.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert set(body["checks"]) == {"database", "worker", "desk_actions", "wix", "sync"}
    assert body["checks"]["worker"]["alive"] == 1
    assert body["checks"]["sync"]["last_success_age_s"] >= 60


@pytest.mark.django_db
def test_no_worker_and_a_late_desk_action_and_wix_down_are_degraded_but_still_200(client):
    factories.SyncStateFactory(kind="bookings", last_success_at=timezone.now() - timedelta(minutes=1))
    factories.DeskActionFactory(run_after=timezone.now() - timedelta(minutes=9))
    factories.DeskActionFactory(run_after=timezone.now() + timedelta(seconds=5))  # in its undo window: not waiting
    factories.DeskActionFactory(status=DeskAction.Status.NEEDS_ATTENTION)
    factories.SyncStateFactory(
        kind="wix_calls",
        last_success_at=timezone.now() - timedelta(minutes=3),
        last_error="the connection was refused",
        last_error_at=timezone.now() - timedelta(seconds=10),
    )

    body = client.get(URL).json()

    assert body["status"] == "degraded"
    assert set(body["problems"]) == {"worker", "desk_actions", "wix"}
    actions = body["checks"]["desk_actions"]
    assert actions["waiting"] == 1 and actions["oldest_waiting_age_s"] >= 540 and actions["needs_attention"] == 1
    assert body["checks"]["wix"]["not_answering"] == "the connection was refused"


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_503(client, monkeypatch):
    from bookings_app.views import health

    def broken(now):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "_checks", broken)
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["status"] == "down"


@pytest.mark.django_db
def test_no_secret_and_no_name_in_the_answer(client, settings):
    from bookings_app.wix.config import Secret

    canary = "CANARY-healthz-0123456789"
    settings.WIX = dataclasses.replace(settings.WIX, api_key=Secret(canary))
    factories.SyncStateFactory(
        kind="wix_calls",
        last_success_at=timezone.now() - timedelta(minutes=3),
        last_error=f"refused for key {canary}",
        last_error_at=timezone.now(),
    )
    contact = factories.ContactFactory(first_name="Zelda", last_name="Secretperson")
    factories.DeskActionFactory(run_after=timezone.now() - timedelta(minutes=9), contact=contact)

    text = client.get(URL).content.decode()

    assert canary not in text and "Secretperson" not in text


def test_only_get(client):
    assert client.post(URL).status_code == 405
