"""Phase 3, booking changes (``services/push/changes.py``) and the desk's cancel (``reversals``):
Reschedule Booking and Confirm Booking sent once, refusals left to staff, lost answers read back
from Wix before anything is sent again."""

from __future__ import annotations

import pytest

from bookings_app.models import Booking, DeskAction, Service, Session
from bookings_app.services import desk, sync
from bookings_app.wix import bookings
from tests.services.conftest import (
    World,
    add_appointments,
    another_session,
    key,
    tomorrow_at,
    waiting_list_booking,
)
from tests.services.push.conftest import Trouble, push_now, recorder, trouble_client

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind
RESCHEDULE = "/reschedule"
CONFIRM = "/confirm"
CANCEL = "/cancel"


def _online(world: World, first: str, *, event: dict | None = None) -> Booking:
    made = world.online_booking(world.customer(first), event=event, order=False)
    world.mirror()
    return world.booking(made)


def _moved(world: World, desk_user) -> tuple[Booking, dict, DeskAction]:
    later = another_session(world)
    jo = _online(world, "Jo")
    action = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(later), idempotency_key=key())
    return jo, later, action


# --- reschedule ---------------------------------------------------------------------------------------


def test_reschedule_is_sent_by_event_id_and_the_booking_stays_on_the_new_roster(world: World, desk_user) -> None:
    jo, later, action = _moved(world, desk_user)
    client, sent = recorder(world)

    push_now(client)

    assert sent.bodies(RESCHEDULE) == [
        {"slot": {"eventId": later["id"]}, "revision": "1", "participantNotification": {"notifyParticipants": False}}
    ]
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    in_wix = world.wix_booking(jo)
    assert in_wix["bookedEntity"]["slot"]["eventId"] == later["id"]
    jo.refresh_from_db()
    assert (jo.pending_sync, jo.revision) == (False, int(in_wix["revision"]))

    sync.sync_full(wix=world.wix)  # the next sync agrees
    jo.refresh_from_db()
    assert jo.session_id == world.session(later).pk


def test_a_full_session_in_wix_needs_attention_and_remove_keeps_the_booking_where_it_was(
    world: World, desk_user
) -> None:
    later = another_session(world, capacity=1)
    jo = _online(world, "Jo")
    action = desk.booking_reschedule(user=desk_user, booking=jo, session=world.session(later), idempotency_key=key())
    world.online_booking(world.customer("Quick"), event=later, order=False)  # online, meanwhile: full

    world.push()

    action.refresh_from_db()
    assert (action.status, action.error_code) == (Status.NEEDS_ATTENTION, "SESSION_CAPACITY_EXCEEDED")
    assert action.message.startswith("The other session filled up in Wix meanwhile")
    desk.action_resolve(user=desk_user, action=action, choice="remove")
    jo.refresh_from_db()
    assert (jo.session_id, jo.pending_sync) == (world.session().pk, False)
    assert world.wix_booking(jo)["bookedEntity"]["slot"]["eventId"] == world.event["id"]


@pytest.mark.parametrize("trouble", ["lost", "crash"])
def test_a_lost_reschedule_answer_is_read_back_not_sent_again(world: World, desk_user, trouble: str) -> None:
    from tests.services.push.conftest import Crash

    jo, later, action = _moved(world, desk_user)
    transport = Trouble(world, RESCHEDULE, trouble)
    client = trouble_client(world, transport)

    try:
        push_now(client)
    except Crash:
        DeskAction.objects.filter(pk=action.pk).update(next_attempt_at=None, status=Status.QUEUED)
    assert DeskAction.objects.get(pk=action.pk).status == Status.QUEUED
    push_now(client, ignore_backoff=True)

    assert len(transport.bodies(RESCHEDULE)) == 1  # Wix did it the first time: read back, not re-sent
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    assert world.wix_booking(jo)["bookedEntity"]["slot"]["eventId"] == later["id"]


def test_a_reschedule_that_timed_out_before_wix_had_it_is_sent_again_after_reading(world: World, desk_user) -> None:
    jo, later, action = _moved(world, desk_user)
    transport = Trouble(world, RESCHEDULE, "timeout")
    client = trouble_client(world, transport)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert len(transport.bodies(RESCHEDULE)) == 2
    assert len(transport.bodies("/extended-bookings/query")) == 1  # looked first
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    assert world.wix_booking(jo)["bookedEntity"]["slot"]["eventId"] == later["id"]


def test_a_booking_changed_in_wix_meanwhile_is_read_again_and_moved(world: World, desk_user) -> None:
    jo, later, action = _moved(world, desk_user)
    bookings.update_number_of_participants(world.wix, booking_id=jo.wix_id, revision="1", total_participants=1)

    world.push()

    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    in_wix = world.wix_booking(jo)
    assert (in_wix["bookedEntity"]["slot"]["eventId"], in_wix["revision"]) == (later["id"], "3")


def test_an_appointment_is_rescheduled_to_its_new_time_and_a_sync_meanwhile_keeps_it(world: World, desk_user) -> None:
    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = Service.objects.get(wix_id=massage["id"])
    day = tomorrow_at(9).date()
    slots = desk.appointment_slots(wix=world.wix, service=service, day=day)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(kim), service=service, slot=slots[0], idempotency_key=key()
    )
    world.push()
    new = desk.appointment_slots(wix=world.wix, service=service, day=day)[4]
    booking.refresh_from_db()
    action = desk.booking_reschedule(user=desk_user, booking=booking, slot=new, idempotency_key=key())
    moved_to = Session.objects.get(pk=booking.session_id).start

    sync.sync_full(wix=world.wix)  # Wix still has the old time: the desk's change is on its way
    assert Session.objects.get(pk=booking.session_id).start == moved_to
    client, sent = recorder(world)
    push_now(client)

    (body,) = sent.bodies(RESCHEDULE)
    assert body["slot"]["startDate"] == new["start"][:19]
    assert body["slot"]["resource"] == {"id": new["resource_id"]}
    assert body["slot"]["location"]["locationType"] == "OWNER_BUSINESS"
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["bookedEntity"]["slot"]["startDate"].startswith(new["start"][:16])
    sync.sync_full(wix=world.wix)
    booking.refresh_from_db()
    assert booking.session.start == moved_to
    assert Session.objects.filter(service=service).count() == 1


# --- the waiting list ----------------------------------------------------------------------------------


def test_promote_confirms_with_the_availability_check(world: World, desk_user) -> None:
    waiting = waiting_list_booking(world, world.customer("Wes"))
    world.mirror()
    booking = world.booking(waiting)
    action = desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())
    client, sent = recorder(world)

    push_now(client)

    assert sent.bodies(CONFIRM) == [
        {
            "revision": waiting["revision"],
            "participantNotification": {"notifyParticipants": False},
            "flowControlSettings": {"checkAvailabilityValidation": True},
        }
    ]
    assert world.wix_booking(booking)["status"] == "CONFIRMED"
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    booking.refresh_from_db()
    assert (booking.status, booking.pending_sync) == (Booking.Status.CONFIRMED, False)


def test_promote_into_a_class_full_in_wix_needs_attention_and_remove_puts_them_back(world: World, desk_user) -> None:
    later = another_session(world, capacity=1)
    waiting = waiting_list_booking(world, world.customer("Wes"), event=later)
    world.mirror()
    booking = world.booking(waiting)
    action = desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())
    world.online_booking(world.customer("Quick"), event=later, order=False)  # the place went online

    world.push()

    action.refresh_from_db()
    assert (action.status, action.error_code) == (Status.NEEDS_ATTENTION, "NO_OPEN_SPOTS")
    assert "put them back on the waiting list" in action.message
    assert world.wix_booking(booking)["status"] == "WAITING_LIST"
    desk.action_resolve(user=desk_user, action=action, choice="remove")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.WAITING_LIST


def test_a_lost_promote_answer_is_read_back_not_sent_again(world: World, desk_user) -> None:
    waiting = waiting_list_booking(world, world.customer("Wes"))
    world.mirror()
    booking = world.booking(waiting)
    action = desk.waitlist_promote(user=desk_user, booking=booking, idempotency_key=key())
    transport = Trouble(world, CONFIRM, "lost")
    client = trouble_client(world, transport)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert len(transport.bodies(CONFIRM)) == 1
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    assert world.wix_booking(booking)["status"] == "CONFIRMED"


# --- cancel --------------------------------------------------------------------------------------------


def test_the_desks_cancel_reaches_wix_once_even_when_its_answer_is_lost(world: World, manager_user) -> None:
    jo = _online(world, "Jo")
    action = desk.booking_cancel(user=manager_user, booking=jo, idempotency_key=key())
    transport = Trouble(world, CANCEL, "lost")
    client = trouble_client(world, transport)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert transport.bodies(CANCEL) == [{"revision": "1", "flowControlSettings": {"ignoreCancellationPolicy": True}}]
    assert DeskAction.objects.get(pk=action.pk).status == Status.SYNCED
    assert world.wix_booking(jo)["status"] == "CANCELED"


def test_a_walk_in_cancelled_before_wix_had_it_is_created_then_cancelled_in_order(world: World, desk_user) -> None:
    person = world.customer("Walk")
    world.mirror(person)
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(person), session=world.session(), idempotency_key=key()
    )
    desk.booking_cancel(user=desk_user, booking=booking, idempotency_key=key())

    world.push()

    booking.refresh_from_db()
    assert world.wix_booking(booking)["status"] == "CANCELED"
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.SYNCED}
    assert booking.status == Booking.Status.CANCELED and not booking.pending_sync
