"""Phase 2, walk-ins: a booking whose create answer was lost is adopted, not made twice."""

from __future__ import annotations

import pytest

from bookings_app.models import Booking, DeskAction
from tests.services.conftest import World, walk_in_with_cash
from tests.services.push.conftest import Trouble, push_now, trouble_client

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


def test_a_booking_the_sync_mirrored_before_its_lost_answer_was_reconciled_is_merged_into_ours(
    world: World, desk_user
) -> None:
    booking = walk_in_with_cash(world, desk_user)
    client = trouble_client(world, Trouble(world, "/bulk/bookings/create", "lost"))
    push_now(client)
    world.mirror()  # the sync finds the new Wix booking first, as a booking of its own
    (wix_booking,) = world.sb.state.all("bookings")
    assert Booking.objects.filter(wix_id=wix_booking["id"]).exclude(pk=booking.pk).exists()

    push_now(client, ignore_backoff=True)

    booking.refresh_from_db()
    assert booking.wix_id == wix_booking["id"]
    assert Booking.objects.filter(wix_id=wix_booking["id"]).count() == 1
    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    assert len(world.sb.state.all("bookings")) == 1 and len(world.sb.state.all("orders")) == 1
