"""Confirm, decline, cancel and mark as pending (``handlers/bookings/status.py``)."""

from __future__ import annotations

import pytest

from tests.wix_sandbox.booking_builders import SESSION_START, act, class_request, code, create, stored, violated_fields
from tests.wix_sandbox.builders import call, make_event, make_service
from wix_sandbox import Sandbox

BULK_CANCEL = "/bookings/v2/bulk/bookings/cancel"


def test_confirm_booking_confirms_and_sets_the_payment_status(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], "confirm", revision="1", paymentStatus="EXEMPT")

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "EXEMPT"
    assert answer["booking"]["revision"] == "2"


def test_confirm_booking_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", f"/bookings/v2/bookings/{booking['id']}/confirm", {"revision": "1"})

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_without_revision_is_rejected(sandbox: Sandbox, swim: dict, action: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], action)

    assert status == 400
    assert violated_fields(answer) == ["revision"]
    assert stored(sandbox, booking["id"]) == booking


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_at_a_stale_revision_is_a_conflict(sandbox: Sandbox, swim: dict, action: str) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], action, revision="7")

    assert status == 409
    assert code(answer) == "INVALID_REVISION"
    assert stored(sandbox, booking["id"]) == booking


@pytest.mark.parametrize("action", ["confirm", "decline", "cancel", "mark_booking_as_pending"])
def test_status_change_of_unknown_booking_is_not_found(sandbox: Sandbox, action: str) -> None:
    status, answer = act(sandbox, "no-such-booking", action, revision="1")

    assert status == 404
    assert code(answer) == "BOOKING_NOT_FOUND"


def test_confirm_booking_that_is_already_confirmed_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "confirm", revision="1")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"


def test_confirm_booking_ignores_capacity_unless_asked(sandbox: Sandbox, swim: dict) -> None:
    waiting = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    other = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    checked, answer = act(
        sandbox, waiting["id"], "confirm", revision="1", flowControlSettings={"checkAvailabilityValidation": True}
    )
    forced, _ = act(sandbox, other["id"], "confirm", revision="1")

    assert checked == 428
    assert code(answer) == "NO_OPEN_SPOTS"
    assert stored(sandbox, waiting["id"])["status"] == "CREATED"
    assert forced == 200


def test_decline_booking_declines_a_pending_booking(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="PENDING"))

    status, answer = act(sandbox, booking["id"], "decline", revision="1")

    assert status == 200
    assert answer["booking"]["status"] == "DECLINED"
    assert answer["booking"]["revision"] == "2"


def test_decline_booking_that_is_confirmed_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "decline", revision="1")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"])["status"] == "CONFIRMED"


def test_cancel_booking_cancels_it_once(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "cancel", revision="1")
    again, repeat = act(sandbox, booking["id"], "cancel", revision="2")

    assert status == 200
    assert answer["booking"]["status"] == "CANCELED"
    assert answer["booking"]["revision"] == "2"
    assert again == 428
    assert code(repeat) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"])["revision"] == "2"


def test_cancel_booking_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", f"/bookings/v2/bookings/{booking['id']}/cancel", {"revision": "1"})

    assert status == 200
    assert answer["booking"]["status"] == "CANCELED"


def test_bulk_cancel_reports_each_booking(sandbox: Sandbox, swim: dict) -> None:
    live = create(sandbox, class_request(swim["service"], swim["event"]))
    stale = create(sandbox, class_request(swim["service"], swim["event"]))
    items = [{"bookingId": live["id"], "revision": "1"}, {"bookingId": stale["id"], "revision": "5"}]

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": {"bookingsInfo": items}, "returnFullEntity": True})

    assert status == 200
    first, second = answer["results"]
    assert first["item"]["status"] == "CANCELED"
    assert second["itemMetadata"]["error"]["code"] == "INVALID_REVISION"
    assert stored(sandbox, stale["id"])["status"] == "CREATED"


def test_bulk_cancel_with_a_repeated_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    items = [{"bookingId": booking["id"], "revision": "1"}] * 2

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": {"bookingsInfo": items}})

    assert status == 400
    assert code(answer) == "DUPLICATE_BOOKING_IDS"
    assert stored(sandbox, booking["id"])["status"] == "CREATED"


def test_bulk_cancel_refuses_a_bare_list_of_bookings(sandbox: Sandbox, swim: dict) -> None:
    # BulkCancelBookingRequest.bookings is BookingsCancelList{bookingsInfo}, not a list.
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": [{"bookingId": booking["id"], "revision": "1"}]})

    assert status == 400
    assert violated_fields(answer) == ["bookings"]
    assert stored(sandbox, booking["id"])["status"] == "CREATED"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "MISSING_CANCELLATION_INFO"),
        ({"bookings": {"bookingsInfo": []}}, 400, None),
        ({"bookings": {"bookingsInfo": [{"bookingId": "b", "revision": "1"}] * 101}}, 400, None),
        (
            {"recurringCancellation": {"recurringGroupId": "g", "cancellationStartDate": "2026-12-01T00:00:00"}},
            400,
            "MISSING_TIME_ZONE",
        ),
        ({"recurringCancellation": {"recurringGroupId": "g"}}, 404, "RECURRING_GROUP_NOT_FOUND"),
        (
            {
                "bookings": {"bookingsInfo": [{"bookingId": "b", "revision": "1"}]},
                "recurringCancellation": {"recurringGroupId": "g"},
            },
            400,
            None,
        ),
    ],
)
def test_bulk_cancel_refuses_what_the_request_type_does_not_allow(
    sandbox: Sandbox, body: dict, status: int, error: str | None
) -> None:
    answered, answer = call(sandbox, "POST", BULK_CANCEL, body)

    assert answered == status
    if error:
        assert code(answer) == error
    else:
        assert answer["details"]["validationError"]["fieldViolations"]


def test_bulk_cancel_names_the_item_missing_a_revision(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(sandbox, "POST", BULK_CANCEL, {"bookings": {"bookingsInfo": [{"bookingId": booking["id"]}]}})

    assert status == 400
    assert violated_fields(answer) == ["bookings.bookingsInfo[0].revision"]


def test_mark_booking_as_pending_on_a_service_needing_approval(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1", paymentStatus="NOT_PAID")

    assert status == 200
    assert answer["booking"]["status"] == "PENDING"
    assert answer["booking"]["paymentStatus"] == "NOT_PAID"


def test_mark_booking_as_pending_on_a_service_without_approval_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1")
    skipped, _ = act(
        sandbox,
        booking["id"],
        "mark_booking_as_pending",
        revision="1",
        flowControlSettings={"skipPendingApprovalServiceValidation": True},
    )

    assert status == 428
    assert code(answer) == "NOT_PENDING_APPROVAL_SERVICE"
    assert skipped == 200


def test_mark_booking_as_pending_only_from_created(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event, status="CONFIRMED"))

    status, answer = act(sandbox, booking["id"], "mark_booking_as_pending", revision="1")

    assert status == 428
    assert code(answer) == "BOOKING_MARK_BOOKING_AS_PENDING"


def _on_the_waiting_list(sandbox: Sandbox, booking: dict) -> dict:
    """Wix puts a booking on the waiting list from its booking widget (no API makes one)."""
    with sandbox.state.transaction():
        stored_booking = sandbox.state.edit("bookings", booking["id"])
        stored_booking["status"] = "WAITING_LIST"
        sandbox.state.put("bookings", stored_booking)
    return stored_booking


def test_confirm_moves_a_waiting_list_booking_into_a_free_place_when_asked_to_check(
    sandbox: Sandbox, swim: dict
) -> None:
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))
    waiting = _on_the_waiting_list(sandbox, create(sandbox, class_request(swim["service"], swim["event"])))

    status, answer = act(
        sandbox,
        waiting["id"],
        "confirm",
        revision=waiting["revision"],
        flowControlSettings={"checkAvailabilityValidation": True},
    )

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"


def test_confirm_of_a_waiting_list_booking_into_a_full_session_is_refused_when_checked(
    sandbox: Sandbox, swim: dict
) -> None:
    waiting = _on_the_waiting_list(sandbox, create(sandbox, class_request(swim["service"], swim["event"])))
    create(sandbox, class_request(swim["service"], swim["event"], participants=3, status="CONFIRMED"))

    status, answer = act(
        sandbox,
        waiting["id"],
        "confirm",
        revision=waiting["revision"],
        flowControlSettings={"checkAvailabilityValidation": True},
    )
    stale, conflict = act(sandbox, waiting["id"], "confirm", revision="7")

    assert status == 428
    assert code(answer) == "NO_OPEN_SPOTS"
    assert stored(sandbox, waiting["id"])["status"] == "WAITING_LIST"
    assert (stale, code(conflict)) == (409, "INVALID_REVISION")


def test_cancel_of_a_waiting_list_booking_takes_it_off_the_list(sandbox: Sandbox, swim: dict) -> None:
    waiting = _on_the_waiting_list(sandbox, create(sandbox, class_request(swim["service"], swim["event"])))

    status, answer = act(sandbox, waiting["id"], "cancel", revision=waiting["revision"])

    assert status == 200
    assert answer["booking"]["status"] == "CANCELED"
