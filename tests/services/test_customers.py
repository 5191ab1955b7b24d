"""Customers at the desk: created (bookable at once, created in Wix before their booking) and found
(the mirror, then Wix)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import DeskAction
from bookings_app.services import customers, desk
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_new_customer_is_bookable_at_once_and_created_in_wix_before_their_booking(world: World, desk_user) -> None:
    contact = customers.customer_create(
        user=desk_user, first_name="Nia", last_name="New", email="nia@example.com", idempotency_key=key()
    )
    assert contact.wix_id is None
    booking = desk.walk_in_create(
        user=desk_user, contact=contact, session=_mirrored_session(world), idempotency_key=key()
    )
    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("12"), idempotency_key=key())

    world.push()

    assert_all_synced()
    contact.refresh_from_db()
    booking.refresh_from_db()
    in_wix = world.sb.state.get("contacts", contact.wix_id)
    assert in_wix["primaryInfo"]["email"] == "nia@example.com"
    assert world.wix_booking(booking)["contactDetails"]["contactId"] == contact.wix_id
    assert world.wix_booking(booking)["paymentStatus"] == "PAID"


def _mirrored_session(world: World):
    world.mirror()
    return world.session()


def test_new_customer_needs_a_name_and_a_way_to_reach_them(world: World, desk_user) -> None:
    for kwargs in (
        {"first_name": "", "email": "a@example.com"},
        {"first_name": "Al"},
        {"first_name": "Al", "email": "x"},
    ):
        with pytest.raises(desk.BookingError) as excinfo:
            customers.customer_create(user=desk_user, idempotency_key=key(), **kwargs)
        assert excinfo.value.code == "contact_invalid"
    jo = world.customer("Jo")
    world.mirror(jo)
    with pytest.raises(desk.BookingError) as excinfo:
        customers.customer_create(
            user=desk_user, first_name="Jo", email=jo["contact"]["primaryInfo"]["email"].upper(), idempotency_key=key()
        )
    assert excinfo.value.code == "contact_duplicate"


def test_new_customer_whose_email_wix_already_has_is_adopted_not_duplicated(world: World, desk_user) -> None:
    world.customer("Old", "Timer")  # in Wix, not in the mirror
    email = [c for c in world.sb.state.all("contacts")][0]["primaryInfo"]["email"]
    contact = customers.customer_create(user=desk_user, first_name="Old", email=email, idempotency_key=key())
    world.push()
    contact.refresh_from_db()
    assert contact.wix_id == world.sb.state.all("contacts")[0]["id"]
    assert len(world.sb.state.all("contacts")) == 1


def test_customer_search_finds_mirror_then_wix_and_shows_plans_and_what_they_owe(world: World, desk_user) -> None:
    sam = world.customer("Samantha", "Lake", credits=4)
    world.online_booking(sam)
    world.customer("Samuel", "Pond")  # only in Wix
    world.mirror(sam)

    local_only = customers.customer_search(query="sam")
    assert [h.contact.first_name for h in local_only] == ["Samantha"]
    hit = local_only[0]
    assert hit.is_member and [b.remaining_credits for b in hit.balances] == [4]
    assert hit.owes == Decimal("12.00")

    both = customers.customer_search(query="sam", wix=world.wix)
    assert sorted(h.contact.first_name for h in both) == ["Samantha", "Samuel"]
    assert [h.from_wix for h in both if h.contact.first_name == "Samuel"] == [True]
    assert both.wix_unreachable is False
    assert customers.customer_search(query="samuel")[0].contact.wix_id  # now in the mirror


def test_customer_search_does_not_show_money_the_desk_just_took_as_owed(world: World, desk_user) -> None:
    """The search's "Owes" follows the desk's rule: cash taken here counts at once, before Wix
    has it (and before the next sync), as on the roster and the customer card."""
    from bookings_app.models import Booking

    sam = world.customer("Samantha", "Lake")
    world.online_booking(sam)
    world.mirror(sam)
    booking = Booking.objects.get(contact__wix_id=sam["contact"]["id"])
    assert customers.customer_search(query="sam")[0].owes == Decimal("12.00")

    desk.payment_record(user=desk_user, booking=booking, method="CASH", amount=Decimal("5.00"), idempotency_key=key())
    assert customers.customer_search(query="sam")[0].owes == Decimal("7.00")  # not in Wix yet
    desk.payment_record(user=desk_user, booking=booking, method="CARD", amount=Decimal("7.00"), idempotency_key=key())
    assert customers.customer_search(query="sam")[0].owes == Decimal("0")
    world.push()
    world.mirror(sam)
    assert customers.customer_search(query="sam")[0].owes == Decimal("0")  # and after Wix has it


def test_customer_search_survives_wix_being_down(world: World) -> None:
    from bookings_app.wix import WixClient
    from bookings_app.wix.client import ApiKeyAuth
    from wix_sandbox import Faults, Sandbox
    from wix_sandbox.transport import SandboxTransport

    jo = world.customer("Jonah")
    world.mirror(jo)
    down = Sandbox(faults=Faults(error_5xx_rate=1.0, seed=1))
    client = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(down.api_key, down.site_id),
        transport=SandboxTransport(down),
        sleep=lambda _s: None,
        max_retries=0,
    )
    hits = customers.customer_search(query="jon", wix=client)
    assert [h.contact.first_name for h in hits] == ["Jonah"] and hits.wix_unreachable
    assert not hits.wix_busy and hits.wix_note.startswith("Wix did not answer")


def test_customer_search_with_the_wix_budget_used_up_answers_from_the_mirror_and_says_wix_is_busy(
    world: World, tmp_path
) -> None:
    from bookings_app.wix import WixClient
    from bookings_app.wix.client import ApiKeyAuth
    from bookings_app.wix.ratelimit import FileRateLimiter
    from wix_sandbox.transport import SandboxTransport

    jo = world.customer("Jonah")
    world.mirror(jo)
    spent = FileRateLimiter(tmp_path / "w", per_minute=1, max_wait=1.5, clock=lambda: 100.0, sleep=lambda s: None)
    spent.acquire()
    client = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(world.sb.api_key, world.sb.site_id),
        transport=SandboxTransport(world.sb),
        rate_limiter=spent,
    )
    before = world.calls()

    hits = customers.customer_search(query="jon", wix=client)

    assert [h.contact.first_name for h in hits] == ["Jonah"] and hits.wix_unreachable and hits.wix_busy
    assert hits.wix_note.startswith("Wix is busy right now") and world.calls() == before
