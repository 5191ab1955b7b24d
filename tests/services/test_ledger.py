"""The action ledger (``services/ledger.py``): an idempotency key acts once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import Booking, DeskAction
from bookings_app.services import desk
from tests.services.conftest import World, key

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_the_same_idempotency_key_twice_makes_one_action(world: World, desk_user) -> None:
    jo = world.customer("Jo")
    world.mirror(jo)
    k = key()
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    again = desk.walk_in_create(user=desk_user, contact=world.contact(jo), session=world.session(), idempotency_key=k)
    assert again.pk == booking.pk
    pk = key()
    first = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    second = desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=pk
    )
    assert first.pk == second.pk
    assert DeskAction.objects.count() == 2
    assert Booking.objects.filter(contact__wix_id=jo["contact"]["id"]).count() == 1
    with pytest.raises(desk.BookingError) as excinfo:  # a new key: nothing left to pay
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())
    assert excinfo.value.code == "already_paid"
    with pytest.raises(desk.BookingError) as excinfo:  # the key of a walk-in, reused for a payment
        desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("1"), idempotency_key=k)
    assert excinfo.value.code == "duplicate_request"
