"""Bookings written into the mirror: newer wins, and a booking the desk is changing is left alone."""

from __future__ import annotations

import pytest

from bookings_app.models import Booking
from bookings_app.services import mirror, sync


@pytest.mark.django_db
def test_an_older_payload_never_overwrites_a_newer_one(demo, wix):
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    held = dict(booking.raw)
    older = {**held, "status": "CANCELED", "revision": str(booking.revision - 1)}
    same = {**held, "status": "DECLINED"}  # same revision: a replay, not news

    assert mirror.mirror_bookings(wix=wix, bookings=[older]) == 0
    assert mirror.mirror_bookings(wix=wix, bookings=[same]) == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.raw == held

    newer = {**held, "status": "CANCELED", "revision": str(booking.revision + 1)}
    assert mirror.mirror_bookings(wix=wix, bookings=[newer]) == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELED


@pytest.mark.django_db
def test_a_booking_with_a_desk_change_in_flight_is_left_to_the_desk(demo, wix):
    sync.sync_full(wix=wix)
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    Booking.objects.filter(pk=booking.pk).update(pending_sync=True, payment_status=Booking.PaymentStatus.PAID)
    newer = {**booking.raw, "status": "CANCELED", "revision": str(booking.revision + 1)}

    mirror.mirror_bookings(wix=wix, bookings=[newer])

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.payment_status == Booking.PaymentStatus.PAID
