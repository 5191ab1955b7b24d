"""Two desks at once, on PostgreSQL (row locks are what keep them apart; SQLite serialises
writers anyway). CI runs the suite on PostgreSQL; locally:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest tests/services/desk``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from django.db import connection

from bookings_app import money
from bookings_app.models import Booking, DeskAction
from bookings_app.services import desk
from bookings_app.services.desk import walk_ins
from tests.services.conftest import World, key

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL=postgres://…)"
    ),
    pytest.mark.django_db(transaction=True),
]


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads (one database connection each), started together. Returns what
    each returned or raised."""
    results: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _slowly(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> None:
    """Widen the race: hold the transaction a moment after reading what is left, so without the
    row lock both desks would read the same numbers."""
    original = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(module, name, slow)


def test_two_desks_taking_the_last_place_one_gets_it_the_other_a_clear_no(
    world: World, desk_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.sb.state.transaction():
        event = world.sb.state.edit("events", world.event["id"])
        event["totalCapacity"] = 3
        world.sb.state.put("events", event)
    booked, ann, ben = world.customer("Early"), world.customer("Ann"), world.customer("Ben")
    world.online_booking(booked)
    world.online_booking(world.customer("Earlier"))
    world.mirror(ann, ben)
    session = world.session()
    _slowly(monkeypatch, walk_ins, "_places_taken")

    results = _race(
        lambda: desk.walk_in_create(user=desk_user, contact=world.contact(ann), session=session, idempotency_key=key()),
        lambda: desk.walk_in_create(user=desk_user, contact=world.contact(ben), session=session, idempotency_key=key()),
    )

    made = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, desk.BookingError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "session_full"
    assert "full" in refused[0].message and "3 of 3" in refused[0].message
    assert Booking.objects.filter(session=session, status__in=Booking.ACTIVE_STATUSES).count() == 3
    assert DeskAction.objects.filter(kind="WALK_IN").count() == 1


def test_two_desks_paying_the_same_booking_one_records_it_the_other_is_told_already_paid(
    world: World, desk_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    jo = world.customer("Jo")
    online = world.online_booking(jo)
    world.mirror()
    booking = world.booking(online)
    _slowly(monkeypatch, money, "amount_due")

    results = _race(
        lambda: desk.payment_record(
            user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key()
        ),
        lambda: desk.payment_record(
            user=desk_user, booking=booking, method="CARD", amount=Decimal("12"), idempotency_key=key()
        ),
    )

    made = [r for r in results if isinstance(r, DeskAction)]
    refused = [r for r in results if isinstance(r, desk.BookingError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "already_paid"
    assert "just paid" in refused[0].message
    assert DeskAction.objects.filter(kind="PAYMENT").count() == 1


def test_two_desks_committing_the_same_settle_form_make_one_set_of_actions(world: World, desk_user) -> None:
    people = [world.customer(f"P{i}") for i in range(3)]
    for person in people:
        world.online_booking(person)
    world.mirror()
    session = world.session()
    rows = [
        desk.SettleChoice(booking_id=r.booking.pk, resolution="cash", check_in=True)
        for r in desk.settle_suggestions(session=session)
    ]
    k = key("settle")

    results = _race(
        lambda: desk.settle_commit(user=desk_user, session=session, rows=rows, idempotency_key=k),
        lambda: desk.settle_commit(user=desk_user, session=session, rows=rows, idempotency_key=k),
    )

    assert DeskAction.objects.filter(kind="PAYMENT").count() == 3
    assert all(isinstance(r, list) for r in results), results
    assert [a.pk for a in results[0]] == [a.pk for a in results[1]]


def test_a_move_off_the_waiting_list_and_a_reschedule_racing_for_the_last_place_one_gets_it(
    world: World, desk_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services.conftest import another_session, waiting_list_booking

    later = another_session(world, capacity=2)
    waiting = waiting_list_booking(world, world.customer("Wes"), event=later)
    world.online_booking(world.customer("Ann"), event=later)
    mover = world.online_booking(world.customer("Mo"))
    world.mirror()
    target = world.session(later)
    _slowly(monkeypatch, walk_ins, "_places_taken")

    results = _race(
        lambda: desk.waitlist_promote(user=desk_user, booking=world.booking(waiting), idempotency_key=key()),
        lambda: desk.booking_reschedule(
            user=desk_user, booking=world.booking(mover), session=target, idempotency_key=key()
        ),
    )

    made = [r for r in results if isinstance(r, DeskAction)]
    refused = [r for r in results if isinstance(r, desk.BookingError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "session_full" and "2 of 2" in refused[0].message
    assert Booking.objects.filter(session=target, status__in=Booking.ACTIVE_STATUSES).count() == 2
