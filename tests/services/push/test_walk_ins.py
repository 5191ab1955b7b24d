"""Phase 2, walk-ins: a booking whose create answer was lost is adopted, not made twice."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from bookings_app.models import Booking, DeskAction
from bookings_app.services import desk
from tests.services.conftest import World, add_appointments, add_course, key, tomorrow_at, walk_in_with_cash
from tests.services.push.conftest import Recorder, Trouble, push_now, trouble_client
from wix_sandbox import Faults, Sandbox
from wix_sandbox.transport import SandboxTransport

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


QUERY_EXTENDED = "/extended-bookings/query"


@pytest.mark.parametrize("kind", ["class", "course"])
def test_a_lost_create_is_looked_for_with_the_documented_extended_bookings_filter(
    world: World, desk_user, kind: str
) -> None:
    # Query Extended Bookings "Supported Filters": bookedEntity.item.slot.eventId /
    # bookedEntity.item.schedule.scheduleId (the booking JSON's bookedEntity.slot… is not one).
    lee = world.customer("Lee")
    if kind == "course":
        course, events = add_course(world)
    world.mirror(lee)
    where = {"session": world.session(events[0] if kind == "course" else None)}
    booking = desk.walk_in_create(user=desk_user, contact=world.contact(lee), idempotency_key=key(), **where)
    push_now(trouble_client(world, Trouble(world, "/bulk/bookings/create", "lost")))
    recorder = Recorder(SandboxTransport(world.sb))

    push_now(trouble_client(world, recorder), ignore_backoff=True)

    field, value = (
        ("bookedEntity.item.slot.eventId", world.event["id"])
        if kind == "class"
        else ("bookedEntity.item.schedule.scheduleId", course["schedule"]["id"])
    )
    assert recorder.bodies(QUERY_EXTENDED) == [
        {
            "query": {
                "filter": {field: value},
                "sort": [{"fieldName": "createdDate", "order": "DESC"}],
                "cursorPaging": {"limit": 100},
            }
        }
    ]
    assert recorder.bodies("/bulk/bookings/create") == []  # found, not sent again
    booking.refresh_from_db()
    assert booking.wix_id and len(world.sb.state.all("bookings")) == 1


def test_a_bulk_create_applied_in_part_then_500_adopts_what_was_made_and_sends_only_the_rest(
    world: World, desk_user
) -> None:
    people = [world.customer(f"Part{i}") for i in range(5)]
    world.mirror(*people)
    for person in people:
        desk.walk_in_create(
            user=desk_user, contact=world.contact(person), session=world.session(), idempotency_key=key()
        )
    broken = Sandbox(state=world.sb.state, faults=Faults(partial_bulk_rate=1.0))

    first = push_now(trouble_client(world, SandboxTransport(broken)))

    made = world.sb.state.all("bookings")
    assert len(made) == 2  # the first half of the 5 was created, then Wix answered 500
    walk_ins = DeskAction.objects.filter(kind="WALK_IN")
    assert first.retrying == 5 and all(a.status == Status.QUEUED for a in walk_ins)
    assert all(a.steps.get("create_sent_at") for a in walk_ins)  # maybe applied: look before sending

    recorder = Recorder(SandboxTransport(world.sb))
    push_now(trouble_client(world, recorder), ignore_backoff=True)

    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
    (sent,) = recorder.bodies("/bulk/bookings/create")
    assert len(sent["createBookingsInfo"]) == 3  # only the missing ones
    in_wix = world.sb.state.all("bookings")
    per_contact = Counter(b["contactDetails"]["contactId"] for b in in_wix)
    assert len(in_wix) == 5 and set(per_contact.values()) == {1}  # nobody twice
    adopted = {b["id"] for b in made}
    assert adopted <= set(Booking.objects.values_list("wix_id", flat=True))
    assert Booking.objects.filter(wix_id__isnull=False).count() == 5


def _sent_entities(recorder: Recorder) -> list[dict]:
    return [
        i["booking"]["bookedEntity"] for b in recorder.bodies("/bulk/bookings/create") for i in b["createBookingsInfo"]
    ]


def _appointment_walk_in(world: World, desk_user) -> tuple[Booking, dict]:
    from bookings_app.models import Service

    massage = add_appointments(world)
    kim = world.customer("Kim")
    world.mirror(kim)
    service = Service.objects.get(wix_id=massage["id"])
    slot = desk.appointment_slots(wix=world.wix, service=service, day=tomorrow_at(9).date())[0]
    booking = desk.walk_in_create(
        user=desk_user, contact=world.contact(kim), service=service, slot=slot, idempotency_key=key()
    )
    return booking, massage


def test_an_appointment_is_booked_with_the_time_slots_schedule_id(world: World, desk_user) -> None:
    booking, massage = _appointment_walk_in(world, desk_user)
    action = DeskAction.objects.get(kind="WALK_IN")
    assert action.params["slot"]["schedule_id"] == massage["schedule"]["id"]  # from TimeSlot.scheduleId
    # The mirror's copy of the service schedule is not what is sent: the slot's own is.
    type(booking.service).objects.filter(pk=booking.service_id).update(schedule_id="stale-schedule")
    recorder = Recorder(SandboxTransport(world.sb))

    push_now(trouble_client(world, recorder))

    (entity,) = _sent_entities(recorder)
    slot = action.params["slot"]
    assert entity == {
        "slot": {
            "serviceId": massage["id"],
            "scheduleId": massage["schedule"]["id"],
            "startDate": slot["start"][:19],
            "endDate": slot["end"][:19],
            "timezone": slot["timezone"],
            "resource": {"id": world.coach["resourceId"]},
            "location": {"locationType": "OWNER_BUSINESS", "id": slot["location_id"], "name": slot["location_name"]},
        }
    }
    booking.refresh_from_db()
    assert booking.wix_id and DeskAction.objects.exclude(status=Status.SYNCED).count() == 0


def test_an_appointment_saved_before_slots_carried_a_schedule_falls_back_to_the_services(
    world: World, desk_user
) -> None:
    booking, massage = _appointment_walk_in(world, desk_user)
    action = DeskAction.objects.get(kind="WALK_IN")
    action.params["slot"].pop("schedule_id")
    action.save(update_fields=["params"])
    recorder = Recorder(SandboxTransport(world.sb))

    push_now(trouble_client(world, recorder))

    (entity,) = _sent_entities(recorder)
    assert entity["slot"]["scheduleId"] == massage["schedule"]["id"] == booking.service.schedule_id
    booking.refresh_from_db()
    assert booking.wix_id


def test_class_and_course_walk_ins_send_no_read_only_field(world: World, desk_user) -> None:
    # bookings_bookings: BookedSchedule.location / firstSessionStart / lastSessionEnd, BookedEntity.title
    # are @readonly; a class names its service and event only.
    course, events = add_course(world)
    ann, bo = world.customer("Ann"), world.customer("Bo")
    world.mirror(ann, bo)
    desk.walk_in_create(user=desk_user, contact=world.contact(ann), session=world.session(), idempotency_key=key())
    desk.walk_in_create(
        user=desk_user, contact=world.contact(bo), session=world.session(events[0]), idempotency_key=key()
    )
    recorder = Recorder(SandboxTransport(world.sb))

    push_now(trouble_client(world, recorder))

    assert sorted(_sent_entities(recorder), key=str) == sorted(
        [
            {"slot": {"serviceId": world.service["id"], "eventId": world.event["id"]}},
            {
                "schedule": {
                    "scheduleId": course["schedule"]["id"],
                    "serviceId": course["id"],
                    "timezone": "Europe/London",
                }
            },
        ],
        key=str,
    )
    (info,) = {
        json.dumps(sorted(i["booking"]))
        for b in recorder.bodies("/bulk/bookings/create")
        for i in b["createBookingsInfo"]
    }
    assert json.loads(info) == [
        "bookedEntity",
        "contactDetails",
        "selectedPaymentOption",
        "status",
        "totalParticipants",
    ]
    assert DeskAction.objects.exclude(status=Status.SYNCED).count() == 0
