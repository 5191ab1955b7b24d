"""Confirm Or Decline Booking, one and in bulk (``handlers/bookings/confirm_or_decline.py``)."""

from __future__ import annotations

from typing import Any

from tests.wix_sandbox.booking_builders import BOOKINGS, SESSION_START, class_request, code, create, stored
from tests.wix_sandbox.builders import call, make_event, make_service
from wix_sandbox import BOOKINGS_APP_ID, Sandbox

BULK_CONFIRM_OR_DECLINE = "/bookings/v2/bulk/bookings/confirmOrDecline"


def confirm_or_decline(sb: Sandbox, booking_id: str, **body: Any) -> tuple[int, dict]:
    return call(sb, "POST", f"/bookings/v2/confirmation/{booking_id}:confirmOrDecline", body)


def put_order(sb: Sandbox, booking_id: str, payment_status: str = "NOT_PAID") -> dict[str, Any]:
    order = {
        "id": sb.state.new_id(),
        "status": "APPROVED",
        "paymentStatus": payment_status,
        "createdDate": "2026-11-21T09:00:00.000Z",
        "lineItems": [{"catalogReference": {"catalogItemId": booking_id, "appId": BOOKINGS_APP_ID}}],
    }
    with sb.state.transaction():
        sb.state.put("orders", order)
    return order


def test_confirm_or_decline_confirms_and_records_the_payment(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="NOT_PAID")

    assert status == 200
    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "NOT_PAID"
    assert answer["booking"]["revision"] == "2"
    assert answer["booking"]["updatedDate"] == "2026-11-21T09:00:00.000Z"


def test_confirm_or_decline_leaves_a_booking_needing_approval_pending(sandbox: Sandbox) -> None:
    service = make_service(sandbox, require_manual_approval=True)
    event = make_event(sandbox, service, SESSION_START)
    booking = create(sandbox, class_request(service, event))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "PENDING"
    assert answer["booking"]["paymentStatus"] == "PAID"


def test_confirm_or_decline_declines_an_unpaid_booking_that_no_longer_fits(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="NOT_PAID")

    assert answer["booking"]["status"] == "DECLINED"


def test_confirm_or_decline_keeps_a_paid_booking_that_no_longer_fits(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"], participants=2))
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["doubleBooked"] is True


def test_confirm_or_decline_never_declines_a_booking_created_without_availability_check(
    sandbox: Sandbox, swim: dict
) -> None:
    body = {
        **class_request(swim["service"], swim["event"], participants=2),
        "flowControlSettings": {"skipAvailabilityValidation": True},
    }
    booking = create(sandbox, body)
    create(sandbox, class_request(swim["service"], swim["event"], participants=2, status="CONFIRMED"))

    _, answer = confirm_or_decline(sandbox, booking["id"])

    assert answer["booking"]["status"] == "CONFIRMED"


def test_confirm_or_decline_leaves_payment_to_the_ecom_order(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    put_order(sandbox, booking["id"])

    _, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert answer["booking"]["status"] == "CONFIRMED"
    assert answer["booking"]["paymentStatus"] == "UNDEFINED"


def test_confirm_or_decline_of_unknown_booking_is_not_found(sandbox: Sandbox) -> None:
    status, answer = confirm_or_decline(sandbox, "no-such-booking")

    assert status == 404
    assert code(answer) == "BOOKING_NOT_FOUND"


def test_confirm_or_decline_of_a_canceled_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    _, canceled = call(sandbox, "POST", f"{BOOKINGS}/{booking['id']}/cancel", {"revision": "1"})

    status, answer = confirm_or_decline(sandbox, booking["id"], paymentStatus="PAID")

    assert status == 428
    assert code(answer) == "INVALID_BOOKING_STATUS"
    assert stored(sandbox, booking["id"]) == canceled["booking"]


def test_confirm_or_decline_with_unknown_payment_status_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, _ = confirm_or_decline(sandbox, booking["id"], paymentStatus="SORTED")

    assert status == 400
    assert stored(sandbox, booking["id"])["revision"] == "1"


def test_bulk_confirm_or_decline_reports_each_booking(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    details = [{"bookingId": booking["id"], "paymentStatus": "PAID"}, {"bookingId": "missing"}]

    status, answer = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details, "returnEntity": True})

    assert status == 200
    first, second = answer["results"]
    assert first["item"]["status"] == "CONFIRMED"
    assert first["item"]["paymentStatus"] == "PAID"
    assert second["itemMetadata"]["success"] is False
    assert second["itemMetadata"]["error"]["code"] == "BOOKING_NOT_FOUND"
    assert answer["bulkActionMetadata"] == {"totalSuccesses": 1, "totalFailures": 1, "undetailedFailures": 0}


def test_bulk_confirm_or_decline_answers_on_its_alias(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))

    status, answer = call(
        sandbox,
        "POST",
        "/_api/bookings-confirmator/v2/bulk/bookings/confirmOrDecline",
        {"details": [{"bookingId": booking["id"]}]},
    )

    assert status == 200
    assert "item" not in answer["results"][0]


def test_bulk_confirm_or_decline_with_a_repeated_booking_is_rejected(sandbox: Sandbox, swim: dict) -> None:
    booking = create(sandbox, class_request(swim["service"], swim["event"]))
    details = [{"bookingId": booking["id"]}, {"bookingId": booking["id"], "paymentStatus": "PAID"}]

    status, answer = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details})

    assert status == 400
    assert code(answer) == "DUPLICATED_BOOKINGS"
    assert stored(sandbox, booking["id"])["status"] == "CREATED"


def test_bulk_confirm_or_decline_takes_at_most_300_bookings(sandbox: Sandbox) -> None:
    details = [{"bookingId": f"b{i}"} for i in range(301)]

    status, _ = call(sandbox, "POST", BULK_CONFIRM_OR_DECLINE, {"details": details})

    assert status == 400
