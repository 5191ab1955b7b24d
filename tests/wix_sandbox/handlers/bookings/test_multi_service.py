"""Multi-service bookings (``handlers/bookings/multi_service.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.booking_builders import act, code, stored, violated_fields
from tests.wix_sandbox.builders import call, make_location, make_service, make_staff, make_working_hours
from wix_sandbox import Sandbox

MULTI = "/_api/bookings-service/v2/multi_service_bookings"


@pytest.fixture
def spa(sandbox: Sandbox) -> dict[str, Any]:
    """Two 60-minute spa services given by Lee, who works 08:00–18:00 on 2 December 2026."""
    location = make_location(sandbox, "Spa")
    staff = make_staff(sandbox, "Lee Therapist")
    services = [
        make_service(sandbox, type="APPOINTMENT", name=name, location=location, staff=[staff])
        for name in ("Sauna", "Massage")
    ]
    make_working_hours(sandbox, staff, datetime(2026, 12, 2, 8), hours=10)
    return {"location": location, "staff": staff, "services": services}


def spa_booking(spa: dict, index: int, start: str, end: str, **slot: Any) -> dict[str, Any]:
    service = spa["services"][index]
    return {
        "bookedEntity": {
            "slot": {
                "serviceId": service["id"],
                "scheduleId": service["schedule"]["id"],
                "startDate": start,
                "endDate": end,
                "timezone": "Europe/London",
                "resource": {"id": spa["staff"]["resourceId"]},
                "location": {"id": spa["location"]["id"], "locationType": "OWNER_BUSINESS"},
                **slot,
            }
        },
        "contactDetails": {"firstName": "Ash"},
        "totalParticipants": 1,
    }


def spa_request(spa: dict, **body: Any) -> dict[str, Any]:
    return {
        "bookings": [
            spa_booking(spa, 0, "2026-12-02T10:00:00", "2026-12-02T11:00:00"),
            spa_booking(spa, 1, "2026-12-02T11:00:00", "2026-12-02T12:00:00"),
        ],
        "multiServiceBookingType": "SEQUENTIAL_BOOKINGS",
        **body,
    }


def test_create_multi_service_booking_books_each_service_back_to_back(sandbox: Sandbox, spa: dict) -> None:
    status, answer = call(sandbox, "POST", MULTI, spa_request(spa, returnFullEntity=True))

    assert status == 200
    msb = answer["multiServiceBooking"]
    assert [entry["booking"]["bookedEntity"]["title"] for entry in msb["bookings"]] == ["Sauna", "Massage"]
    for entry in msb["bookings"]:
        assert entry["booking"]["multiServiceBookingInfo"] == {"id": msb["id"], "type": "SEQUENTIAL_BOOKINGS"}
        assert entry["bookingId"] == entry["booking"]["id"]
        assert entry["booking"]["status"] == "CREATED"
    assert sandbox.state.count("bookings") == 2


def test_create_multi_service_booking_returns_ids_only_by_default(sandbox: Sandbox, spa: dict) -> None:
    status, answer = call(sandbox, "POST", "/bookings/multiServiceBookings/v2/multi_service_bookings", spa_request(spa))

    assert status == 200
    assert all(set(entry) == {"bookingId"} for entry in answer["multiServiceBooking"]["bookings"])


def test_create_multi_service_booking_with_a_gap_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"][1] = spa_booking(spa, 1, "2026-12-02T11:15:00", "2026-12-02T12:15:00")

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == sandbox.state.count("multi_service_bookings") == 0


def test_create_multi_service_booking_at_two_locations_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"][1]["bookedEntity"]["slot"]["location"] = {"locationType": "CUSTOM"}

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_needs_two_to_eight_bookings(sandbox: Sandbox, spa: dict) -> None:
    one = spa_request(spa)
    one["bookings"] = one["bookings"][:1]
    nine = spa_request(spa)
    nine["bookings"] = [
        spa_booking(spa, i % 2, f"2026-12-02T{8 + i:02d}:00:00", f"2026-12-02T{9 + i:02d}:00:00") for i in range(9)
    ]

    assert call(sandbox, "POST", MULTI, one)[0] == 400
    assert call(sandbox, "POST", MULTI, nine)[0] == 400
    assert sandbox.state.count("bookings") == 0


@pytest.mark.parametrize("kind", ["SEPARATE_BOOKINGS", "PARALLEL_BOOKINGS"])
def test_create_multi_service_booking_supports_only_sequential_bookings(sandbox: Sandbox, spa: dict, kind: str) -> None:
    status, answer = call(sandbox, "POST", MULTI, spa_request(spa, multiServiceBookingType=kind))

    assert status == 400
    assert code(answer) == "VALIDATION_FAILURE"


def test_create_multi_service_booking_lists_missing_slot_fields(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    del body["bookings"][1]["bookedEntity"]["slot"]["scheduleId"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert violated_fields(answer) == ["bookings[1].bookedEntity.slot.scheduleId"]


def test_get_multi_service_booking_returns_its_bookings(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb_id = created["multiServiceBooking"]["id"]

    status, answer = call(sandbox, "GET", f"{MULTI}/{msb_id}")
    missing, not_found = call(sandbox, "GET", f"{MULTI}/nope")

    assert status == 200
    assert [e["booking"]["id"] for e in answer["multiServiceBooking"]["bookings"]] == [
        e["bookingId"] for e in created["multiServiceBooking"]["bookings"]
    ]
    assert missing == 404
    assert code(not_found) == "MULTI_SERVICE_BOOKING_NOT_FOUND"


def test_confirm_multi_service_booking_confirms_every_booking(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    infos = [{"bookingId": e["bookingId"], "revision": "1", "paymentStatus": "PAID"} for e in msb["bookings"]]

    status, answer = call(
        sandbox, "POST", f"{MULTI}/{msb['id']}/confirm", {"confirmBookingsInfo": infos, "returnFullEntity": True}
    )

    assert status == 200
    assert [
        (e["booking"]["status"], e["booking"]["paymentStatus"]) for e in answer["multiServiceBooking"]["bookings"]
    ] == [("CONFIRMED", "PAID")] * 2


def test_confirm_multi_service_booking_needs_every_current_revision(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    first, second = (e["bookingId"] for e in msb["bookings"])
    path = f"{MULTI}/{msb['id']}/confirm"

    partial, partial_answer = call(
        sandbox, "POST", path, {"confirmBookingsInfo": [{"bookingId": first, "revision": "1"}]}
    )
    stale, stale_answer = call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": first, "revision": "1"}, {"bookingId": second, "revision": "3"}]},
    )

    assert (partial, code(partial_answer)) == (400, "NOT_ALL_BOOKINGS_WERE_SENT")
    assert (stale, code(stale_answer)) == (409, "BOOKING_REVISION_MISMATCH")
    assert {stored(sandbox, b)["status"] for b in (first, second)} == {"CREATED"}


def test_cancel_multi_service_booking_cancels_every_booking_once(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb_id = created["multiServiceBooking"]["id"]

    status, _ = call(sandbox, "POST", f"{MULTI}/{msb_id}/cancel", {})
    again, answer = call(sandbox, "POST", f"{MULTI}/{msb_id}/cancel", {})

    assert status == 200
    assert {stored(sandbox, e["bookingId"])["status"] for e in created["multiServiceBooking"]["bookings"]} == {
        "CANCELED"
    }
    assert again == 428
    assert code(answer) == "ALL_BOOKINGS_ARE_ALREADY_CANCELED"


def test_cancel_one_booking_of_a_multi_service_booking_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    booking_id = created["multiServiceBooking"]["bookings"][0]["bookingId"]

    status, answer = act(sandbox, booking_id, "cancel", revision="1")

    assert status == 428
    assert code(answer) == "NOT_ALLOWED_TO_UPDATE_BOOKING_IN_MULTI_SERVICE_BOOKING"


def test_multi_service_booking_cannot_skip_availability_without_resources(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa, flowControlSettings={"skipAvailabilityValidation": True})
    del body["bookings"][0]["bookedEntity"]["slot"]["resource"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 400
    assert code(answer) == "CAN_NOT_SKIP_AVAILABILITY_VALIDATION_IF_RESOURCE_NOT_PROVIDED"
    assert sandbox.state.count("bookings") == 0


def test_confirm_multi_service_booking_twice_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    path = f"{MULTI}/{msb['id']}/confirm"
    call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": e["bookingId"], "revision": "1"} for e in msb["bookings"]]},
    )

    status, answer = call(
        sandbox,
        "POST",
        path,
        {"confirmBookingsInfo": [{"bookingId": e["bookingId"], "revision": "2"} for e in msb["bookings"]]},
    )

    assert status == 428
    assert code(answer) == "ALL_BOOKINGS_ARE_ALREADY_CONFIRMED"


# --- the package's shape and its staff, checked before anything is booked -----------------------------


def test_create_multi_service_booking_with_an_overlap_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"][1] = spa_booking(spa, 1, "2026-12-02T10:30:00", "2026-12-02T11:30:00")

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (400, "VALIDATION_FAILURE")
    assert "overlap" in answer["message"]
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_of_another_length_than_the_service_is_rejected(
    sandbox: Sandbox, spa: dict
) -> None:
    body = spa_request(spa)
    body["bookings"] = [
        spa_booking(spa, 0, "2026-12-02T10:00:00", "2026-12-02T10:30:00"),
        spa_booking(spa, 1, "2026-12-02T10:30:00", "2026-12-02T11:30:00"),
    ]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (400, "VALIDATION_FAILURE")
    assert "60-minute" in answer["message"]
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_at_a_location_the_service_is_not_given_is_rejected(
    sandbox: Sandbox, spa: dict
) -> None:
    elsewhere = make_location(sandbox, "Boathouse")
    body = spa_request(spa)
    for item in body["bookings"]:
        item["bookedEntity"]["slot"]["location"] = {"id": elsewhere["id"], "locationType": "OWNER_BUSINESS"}

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (400, "VALIDATION_FAILURE")
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_outside_working_hours_is_not_available(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    body["bookings"] = [
        spa_booking(spa, 0, "2026-12-02T17:00:00", "2026-12-02T18:00:00"),
        spa_booking(spa, 1, "2026-12-02T18:00:00", "2026-12-02T19:00:00"),  # Lee stops at 18:00
    ]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (428, "SLOT_NOT_AVAILABLE")
    assert answer["details"]["applicationError"]["data"]["index"] == 1
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_when_a_slot_was_taken_meanwhile_books_nothing(
    sandbox: Sandbox, spa: dict
) -> None:
    taken = {"bookings": [spa_booking(spa, 1, "2026-12-02T11:00:00", "2026-12-02T12:00:00")]}
    taken["bookings"].append(spa_booking(spa, 0, "2026-12-02T12:00:00", "2026-12-02T13:00:00"))
    for item in taken["bookings"]:
        item["status"] = "CONFIRMED"
    assert call(sandbox, "POST", MULTI, taken)[0] == 200
    before = sandbox.state.count("bookings")

    status, answer = call(sandbox, "POST", MULTI, spa_request(spa))  # 10:00 sauna, 11:00 massage

    assert (status, code(answer)) == (428, "SLOT_NOT_AVAILABLE")
    assert sandbox.state.count("bookings") == before
    assert sandbox.state.count("multi_service_bookings") == 1


def test_create_multi_service_booking_without_a_resource_gets_a_free_staff_member(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa, returnFullEntity=True)
    for item in body["bookings"]:
        del item["bookedEntity"]["slot"]["resource"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert status == 200
    resources = {
        e["booking"]["bookedEntity"]["slot"]["resource"]["id"] for e in answer["multiServiceBooking"]["bookings"]
    }
    assert resources == {spa["staff"]["resourceId"]}


def test_create_multi_service_booking_without_a_resource_when_nobody_works_is_not_available(
    sandbox: Sandbox, spa: dict
) -> None:
    body = spa_request(spa)
    body["bookings"] = [
        spa_booking(spa, 0, "2026-12-03T10:00:00", "2026-12-03T11:00:00"),  # Lee works on the 2nd only
        spa_booking(spa, 1, "2026-12-03T11:00:00", "2026-12-03T12:00:00"),
    ]
    for item in body["bookings"]:
        del item["bookedEntity"]["slot"]["resource"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (428, "SLOT_NOT_AVAILABLE")
    assert sandbox.state.count("bookings") == 0


def test_create_multi_service_booking_of_a_class_is_rejected(sandbox: Sandbox, spa: dict) -> None:
    swim = make_service(sandbox, type="CLASS", name="Swim", location=spa["location"], staff=[spa["staff"]])
    body = spa_request(spa)
    body["bookings"][1]["bookedEntity"]["slot"]["serviceId"] = swim["id"]
    body["bookings"][1]["bookedEntity"]["slot"]["scheduleId"] = swim["schedule"]["id"]

    status, answer = call(sandbox, "POST", MULTI, body)

    assert (status, code(answer)) == (400, "VALIDATION_FAILURE")
    assert sandbox.state.count("bookings") == 0


def test_cancel_multi_service_booking_takes_no_booking_list(sandbox: Sandbox, spa: dict) -> None:
    _, created = call(sandbox, "POST", MULTI, spa_request(spa))
    msb = created["multiServiceBooking"]
    infos = [{"bookingId": e["bookingId"], "revision": "1"} for e in msb["bookings"]]

    status, answer = call(sandbox, "POST", f"{MULTI}/{msb['id']}/cancel", {"cancelBookingsInfo": infos})

    assert status == 400
    assert violated_fields(answer) == ["cancelBookingsInfo"]
    assert {stored(sandbox, e["bookingId"])["status"] for e in msb["bookings"]} == {"CREATED"}


def test_get_multi_service_booking_counts_its_scheduled_bookings(sandbox: Sandbox, spa: dict) -> None:
    body = spa_request(spa)
    for item in body["bookings"]:
        item["status"] = "CONFIRMED"
    _, created = call(sandbox, "POST", MULTI, body)
    msb_id = created["multiServiceBooking"]["id"]

    _, before = call(sandbox, "GET", f"{MULTI}/{msb_id}")
    call(sandbox, "POST", f"{MULTI}/{msb_id}/cancel", {"participantNotification": {"notifyParticipants": False}})
    _, after = call(sandbox, "GET", f"{MULTI}/{msb_id}")

    assert before["metadata"] == {"totalNumberOfScheduledBookings": 2}
    assert after["metadata"] == {"totalNumberOfScheduledBookings": 0}
