"""Two desks booking the same appointment time at the same moment: exactly one booking is made,
the other desk gets the 409 "just booked at another desk" with the week to pick again, and no
desk action of it. Both POSTs run in threads, each with its own database connection: on
PostgreSQL the second waits on the staff member's row lock; on SQLite on the write lock its
transaction takes when it begins (``transaction_mode: IMMEDIATE``), in a database file as the
app runs it — the test run's in-memory database fails a second writer at once instead."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from bookings_app import forms, selectors, wix
from bookings_app.models import Booking, DeskAction, Service
from bookings_app.services import sync
from bookings_app.services.desk import walk_ins
from tests import factories
from tests.selectors.appointment_world import NEXT_MONDAY, Spa, build_spa, free_at, local
from tests.views.desk_helpers import NOW
from tests.wix_sandbox.builders import make_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_availability():
    selectors.appointment_availability_forget()
    yield
    selectors.appointment_availability_forget()


@pytest.fixture
def database_file(tmp_path: Path) -> Iterator[None]:
    """On SQLite: this test's connections (the threads' too) use a copy of the test database in
    a file, with the app's own settings (a 20 s busy timeout, BEGIN IMMEDIATE). Elsewhere: as is."""
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "desks.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None  # kept open below: closing it would drop the in-memory database
    connections.settings["default"]["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connections.settings["default"]["NAME"] = name
        connection.connection = memory


@pytest.fixture
def spa(database_file: None, time_machine) -> Spa:
    time_machine.move_to(NOW, tick=False)
    return build_spa()


def _race(*posts: Any) -> list[Any]:
    """Run ``posts`` in threads started together; what each returned (or raised)."""
    results: list[Any] = [None] * len(posts)
    start = threading.Barrier(len(posts))

    def run(index: int, post: Any) -> None:
        try:
            start.wait()
            results[index] = post()
        except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _slowly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the race: hold the transaction a moment between the clash check and the new
    appointment, so without the lock both desks would find the time free."""
    original = walk_ins.Session.objects.create

    def slow(**kwargs: Any) -> Any:
        time.sleep(0.3)
        return original(**kwargs)

    monkeypatch.setattr(walk_ins.Session.objects, "create", slow)


def test_two_desks_posting_the_same_time_one_books_it_the_other_gets_409(spa: Spa, desk_user, monkeypatch) -> None:
    free = free_at(spa.grid(NEXT_MONDAY), spa.maya, local(NEXT_MONDAY, 10))
    ann, ben = factories.ContactFactory(first_name="Ann"), factories.ContactFactory(first_name="Ben")
    desks = [Client(), Client()]
    for client in desks:
        client.force_login(desk_user)
    token = forms.slot_sign(free.slot)
    _slowly(monkeypatch)

    def post(client: Client, contact_pk: int) -> Any:
        return client.post(
            reverse("desk_appointment"),
            {
                "service": spa.massage.pk,
                "slot": token,
                "contact": contact_pk,
                "pay": "CASH",
                "idempotency_key": str(uuid.uuid4()),
            },
        )

    results = _race(lambda: post(desks[0], ann.pk), lambda: post(desks[1], ben.pk))

    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert statuses == [302, 409], statuses
    refused = next(r for r in results if r.status_code == 409).content.decode()
    assert "Just booked at another desk — pick another time." in refused
    assert "Maya Thompson is already booked at 10:00." in refused
    assert Booking.objects.filter(service=spa.massage, status="CONFIRMED").count() == 1
    assert DeskAction.objects.filter(kind="WALK_IN").count() == 1
    assert DeskAction.objects.filter(kind="PAYMENT").count() == 1


def test_two_desks_booking_one_person_for_two_services_at_once_one_gets_409(spa: Spa, desk_user, monkeypatch) -> None:
    """Maya gives massages and facials: a massage at one desk and a facial at the other, both at
    Monday 10:00, cannot both be hers (the service's row lock alone would let both through)."""
    facial_wix = make_service(
        spa.sb, type="APPOINTMENT", name="Facial", price="30", capacity=1, staff=[spa.wix_maya], duration_minutes=60
    )
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    facial = Service.objects.get(wix_id=facial_wix["id"])
    massage_slot = free_at(spa.grid(NEXT_MONDAY), spa.maya, local(NEXT_MONDAY, 10)).slot
    with wix.get_wix_client() as client:
        facial_grid = selectors.appointment_week_read(wix=client, service=facial, week=selectors.Week.of(NEXT_MONDAY))
    facial_slot = free_at(facial_grid, spa.maya, local(NEXT_MONDAY, 10)).slot
    desks = [Client(), Client()]
    for client in desks:
        client.force_login(desk_user)
    _slowly(monkeypatch)

    def post(client: Client, service: Service, slot: dict[str, Any]) -> Any:
        return client.post(
            reverse("desk_appointment"),
            {
                "service": service.pk,
                "slot": forms.slot_sign(slot),
                "contact": factories.ContactFactory().pk,
                "pay": "",
                "idempotency_key": str(uuid.uuid4()),
            },
        )

    results = _race(lambda: post(desks[0], spa.massage, massage_slot), lambda: post(desks[1], facial, facial_slot))

    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(r.status_code for r in results) == [302, 409]
    assert Booking.objects.filter(session__staff=spa.maya, status="CONFIRMED").count() == 1
    assert DeskAction.objects.filter(kind="WALK_IN").count() == 1
