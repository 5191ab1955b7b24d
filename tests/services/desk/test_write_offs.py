"""Write-offs (``services.desk.write_offs``): a manager's decision with a reason, audited, never
sent to Wix; the booking leaves the owes list and the unpaid counts, and comes back when a
manager takes the write-off back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings_app import selectors
from bookings_app.models import AuditEntry, Booking, DeskAction, WriteOff
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World, key

pytestmark = pytest.mark.django_db


def _owing(**kwargs) -> Booking:
    session = factories.SessionFactory(start=timezone.now() - timedelta(days=1), service__price=Decimal("12.00"))
    return factories.BookingFactory(session=session, **kwargs)


def _owes_ids() -> set[int]:
    now = timezone.now()
    read = selectors.owes_read(start=now - timedelta(days=7), end=now, page=None)
    return {item.booking.pk for person in read.people for item in person.bookings}


def test_a_manager_writes_off_what_is_owed_with_a_reason_audited_and_nothing_else_changes(manager_user) -> None:
    booking = _owing(payment_status="PARTIALLY_PAID")
    factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("7.00"))
    assert booking.pk in _owes_ids()
    session = selectors.session_get(ref=booking.session.ref)
    assert (session.unpaid_count, session.written_off_count) == (1, 0)

    [row] = desk.write_off(
        user=manager_user, bookings=[booking], reason="  Hardship,\n agreed  ", idempotency_key=key()
    )

    assert (row.amount, row.currency, row.reason, row.created_by) == (
        Decimal("7.00"),
        "GBP",
        "Hardship, agreed",
        manager_user,
    )
    entry = AuditEntry.objects.get(action="payment.write_off")
    assert entry.object_id == str(booking.pk) and entry.user == manager_user
    assert entry.before == {"payment_status": "PARTIALLY_PAID", "due": "7.00"}
    assert entry.after["written_off"] == "7.00" and entry.after["reason"] == "Hardship, agreed"
    booking.refresh_from_db()
    assert (booking.payment_status, booking.pending_sync) == ("PARTIALLY_PAID", False)  # Wix still says so
    assert not DeskAction.objects.exists()  # nothing for the worker to send
    assert booking.pk not in _owes_ids()
    session = selectors.session_get(ref=booking.session.ref)
    assert (session.unpaid_count, session.written_off_count) == (0, 1)


def test_the_front_desk_may_not_write_off(desk_user) -> None:
    booking = _owing()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.write_off(user=desk_user, bookings=[booking], reason="Goodwill", idempotency_key=key())
    assert excinfo.value.code == "forbidden"
    assert not WriteOff.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "ok", "x" * 501])
def test_a_reason_is_required(reason: str, manager_user) -> None:
    booking = _owing()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.write_off(user=manager_user, bookings=[booking], reason=reason, idempotency_key=key())
    assert excinfo.value.code == "reason_required"
    assert not WriteOff.objects.exists() and not AuditEntry.objects.exists()


def test_paid_cancelled_or_written_off_bookings_refuse_the_lot(manager_user) -> None:
    owing, paid = _owing(), _owing(payment_status="PAID")
    cancelled = _owing(status=Booking.Status.CANCELED)
    written = _owing()
    factories.WriteOffFactory(booking=written)

    for other, code in ((paid, "already_paid"), (cancelled, "booking_cancelled"), (written, "already_written_off")):
        with pytest.raises(desk.BookingError) as excinfo:
            desk.write_off(user=manager_user, bookings=[owing, other], reason="Goodwill", idempotency_key=key())
        assert excinfo.value.code == code
    assert WriteOff.objects.count() == 1


def test_the_same_form_sent_again_writes_off_once_and_other_bookings_with_it_are_refused(manager_user) -> None:
    a, b, c = _owing(), _owing(), _owing()
    k = key()
    first = desk.write_off(user=manager_user, bookings=[a, b], reason="Goodwill", idempotency_key=k)
    again = desk.write_off(user=manager_user, bookings=[b, a], reason="Goodwill", idempotency_key=k)

    assert [w.pk for w in again] == sorted(w.pk for w in first) and WriteOff.objects.count() == 2
    with pytest.raises(desk.BookingError) as excinfo:
        desk.write_off(user=manager_user, bookings=[c], reason="Goodwill", idempotency_key=k)
    assert excinfo.value.code == "key_reused"
    assert AuditEntry.objects.filter(action="payment.write_off").count() == 2


def test_a_manager_takes_a_write_off_back_and_the_booking_owes_again(manager_user, desk_user) -> None:
    booking = _owing()
    [row] = desk.write_off(user=manager_user, bookings=[booking], reason="Goodwill", idempotency_key=key())

    with pytest.raises(desk.BookingError) as excinfo:
        desk.write_off_reverse(user=desk_user, write_off=row)
    assert excinfo.value.code == "forbidden"
    desk.write_off_reverse(user=manager_user, write_off=row, reason="They paid online after all? No: mistake")

    row.refresh_from_db()
    assert row.reversed_by == manager_user and row.reverse_reason.startswith("They paid")
    assert booking.pk in _owes_ids()
    assert AuditEntry.objects.filter(action="payment.write_off_reverse", object_id=str(booking.pk)).exists()
    with pytest.raises(desk.BookingError) as excinfo:
        desk.write_off_reverse(user=manager_user, write_off=row)
    assert excinfo.value.code == "not_written_off"
    # … and it can be written off again.
    desk.write_off(user=manager_user, bookings=[booking], reason="Uncollectable", idempotency_key=key())
    assert WriteOff.objects.filter(booking=booking, reversed_at__isnull=True).count() == 1


def test_nothing_is_sent_to_wix_and_a_sync_after_leaves_it_standing(world: World, manager_user) -> None:
    person = world.customer("Ola")
    made = world.online_booking(person)
    world.mirror()
    booking = world.booking(made)
    calls = world.calls()

    desk.write_off(user=manager_user, bookings=[booking], reason="Goodwill", idempotency_key=key())
    world.push()

    assert world.calls() == calls  # nothing to send: the worker made no call to Wix
    world.mirror()
    assert world.wix_order(booking)["paymentStatus"] == "NOT_PAID"  # Wix still says not paid
    assert WriteOff.objects.get(booking=booking).is_standing
    assert Booking.objects.get(pk=booking.pk).payment_status == "NOT_PAID"
