"""Real Wix client traffic against the standalone sandbox server.

``tests/sdk_conformance/flow.mjs`` drives the sandbox with Wix's official JS SDK (``@wix/sdk`` and
the ``@wix/auto_sdk_*`` modules, versions pinned in its package.json): the SDK builds every path,
query string, header and body exactly as it would for https://www.wixapis.com, and a wrapped
``fetch`` re-sends each request to the sandbox. These tests assert the documented answers
(CONTRACT.md) as the SDK surfaces them, and that the sandbox routes every request the SDK sends.

Skipped, with the reason, when Node.js is missing or the SDK packages cannot be installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.wix_sandbox.builders import (
    STAFF_RESOURCE_TYPE_ID,
    make_contact,
    make_event,
    make_member,
    make_service,
    make_staff,
    make_working_hours,
)
from tests.wix_sandbox.plan_builders import make_plan, sell_plan
from wix_sandbox import Sandbox, SandboxState
from wix_sandbox.server import make_server

SDK_DIR = Path(__file__).resolve().parent / "sdk_conformance"
PLAN_CREDITS = 5
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _ensure_sdk_installed() -> str:
    """The path of ``node``, with the pinned SDK packages installed (``npm ci``); or skip."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the official Wix JS SDK cannot run")
    wanted = json.loads((SDK_DIR / "package.json").read_text())["dependencies"]

    def installed(name: str) -> str | None:
        found = SDK_DIR / "node_modules" / name / "package.json"
        return json.loads(found.read_text()).get("version") if found.is_file() else None

    if any(installed(name) != version for name, version in wanted.items()):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed and tests/sdk_conformance/node_modules is missing")
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=SDK_DIR,
                capture_output=True,
                text=True,
                timeout=90,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm ci timed out (no npm registry?): the Wix SDK packages are not installed")
        if done.returncode != 0:
            pytest.skip(f"npm ci failed, the Wix SDK packages are not installed: {done.stderr.strip()[-400:]}")
    return node


def _arrange(sb: Sandbox) -> dict[str, Any]:
    """A class with three sessions tomorrow, a massage with a therapist working 9-17 tomorrow,
    a walk-in contact and a member with a class pass."""
    service = make_service(sb, name="Open Water Swim", price="12", capacity=100)
    therapist = make_staff(sb, "Sam Therapist")
    massage = make_service(sb, type="APPOINTMENT", name="Sports Massage", price="45", capacity=1, staff=[therapist])
    make_working_hours(sb, therapist, datetime(2026, 11, 22, 9, 0), hours=8)
    morning = make_event(sb, service, datetime(2026, 11, 22, 7, 0))
    evening = make_event(sb, service, datetime(2026, 11, 22, 18, 0))
    tiny = make_event(sb, service, datetime(2026, 11, 22, 12, 0), capacity=1)
    walk_in = make_contact(sb, "Jo", "Walkin")
    member_contact = make_contact(sb, "Mia", "Member")
    member = make_member(sb, member_contact)
    plan = make_plan(sb, "5 Swim Pass", PLAN_CREDITS, [service["id"]], "50")
    sold = sell_plan(sb, member, plan)
    return {
        "apiKey": sb.api_key,
        "siteId": sb.site_id,
        "serviceId": service["id"],
        "eventId": morning["id"],
        "secondEventId": evening["id"],
        "tinyEventId": tiny["id"],
        "appointmentServiceId": massage["id"],
        "staffResourceId": therapist["resourceId"],
        "staffResourceTypeId": STAFF_RESOURCE_TYPE_ID,
        "fromLocalDate": "2026-11-22T00:00:00",
        "toLocalDate": "2026-11-23T00:00:00",
        "contactId": walk_in["id"],
        "walkInEmail": walk_in["primaryInfo"]["email"],
        "memberId": member["id"],
        "memberContactId": member_contact["id"],
        "planId": plan["id"],
        "planOrderId": sold["order"]["id"],
        "poolId": sold["pool"]["id"],
        "newContactEmail": "sdk.walkin@example.com",
        "unknownOrderId": str(uuid.UUID(int=7)),
    }


@pytest.fixture(scope="module")
def sdk_run() -> Iterator[dict[str, Any]]:
    """Runs the SDK flow once against a fresh sandbox server; yields the arranged ids and results."""
    node = _ensure_sdk_installed()
    # The sandbox's "now" is fixed, like the sandbox fixture's: the sessions are tomorrow.
    sb = Sandbox(state=SandboxState(clock=lambda: NOW, seed=4321))
    arranged = _arrange(sb)
    server = make_server(sb, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        payload = {**arranged, "port": server.server_address[1]}
        done = subprocess.run(
            [node, "flow.mjs", json.dumps(payload)],
            cwd=SDK_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr[-3000:]
    output = json.loads(done.stdout.strip().splitlines()[-1])
    # shapeGaps: fields the SDK typings promise are never null but the sandbox left out (not asserted).
    yield {**output, "arranged": arranged, "stderr": done.stderr}


def _ok(results: dict[str, Any], name: str) -> dict[str, Any]:
    step = results[name]
    assert step["ok"], f"{name}: {step}"
    return step


def test_every_request_the_sdk_sends_reaches_a_routed_endpoint(sdk_run: dict[str, Any]) -> None:
    requests = sdk_run["requests"]
    assert len(requests) > 30
    assert not [r for r in requests if r.get("refused")]
    unrouted = [
        (r["method"], r["path"])
        for r in requests
        if r["status"] == 404 and "No such endpoint" in (r.get("errorMessage") or "")
    ]
    assert not unrouted
    # The SDK's ApiKeyStrategy: the raw key (no "Bearer") and the site id on every call.
    assert {(r["auth"]["authorization"], r["auth"]["siteId"]) for r in requests} == {
        (sdk_run["arranged"]["apiKey"], sdk_run["arranged"]["siteId"])
    }


def test_the_sdk_calls_the_primary_paths_of_the_contract(sdk_run: dict[str, Any]) -> None:
    sent = {(r["method"], r["path"].split("?")[0]) for r in sdk_run["requests"]}
    a = sdk_run["arranged"]
    for expected in [
        ("POST", "/_api/bookings/v2/services/query"),
        ("POST", "/_api/service-availability/v2/time-slots/event"),
        ("POST", "/_api/bookings-service/v2/bookings"),
        ("POST", "/ecom/v1/checkouts"),
        ("GET", f"/ecom/v1/orders/{a['unknownOrderId']}"),
        ("POST", "/_api/bookings-reader/v2/extended-bookings/query"),
        ("POST", "/bookings/bookings-attendance/set"),
        ("POST", "/contacts/v4/contacts"),
        ("POST", "/contacts/v4/contacts/query"),
        ("GET", "/pricing-plans/v2/orders"),
        ("POST", "/benefit-programs/v1/pools/query"),
        ("POST", "/benefit-programs/v1/pools/eligible-pools"),
        ("GET", f"/benefit-programs/v1/balances/{a['poolId']}"),
        ("POST", "/ecom/v1/order-billing/charge-memberships"),
        ("POST", "/ecom/v1/order-billing/refund-payments"),
        ("POST", "/ecom/v2/carts"),
        ("POST", f"/ecom/v2/carts/{sdk_run['results']['createCart']['cartId']}/place-order"),
        ("GET", f"/ecom/v2/carts/{sdk_run['results']['createCart']['cartId']}"),
    ]:
        assert expected in sent, expected
    assert any(m == "POST" and p.endswith("/create-order") for m, p in sent)
    assert any(m == "PATCH" and p.startswith("/ecom/v1/checkouts/") for m, p in sent)
    assert any(m == "POST" and p.endswith("/mark-as-paid") and "payments-collector" in p for m, p in sent)
    assert any(m == "POST" and p.endswith("/add-payment") for m, p in sent)


def test_services_and_class_sessions_come_back_in_sdk_shape(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    services = _ok(r, "queryServices")
    assert services["found"] and services["type"] == "CLASS" and services["price"] == "12"
    slots = _ok(r, "listEventTimeSlots")
    assert {a["eventId"], a["secondEventId"], a["tinyEventId"]} <= set(slots["eventIds"])
    assert slots["eventId"] == a["eventId"]
    assert slots["totalCapacity"] == 100 and slots["remainingCapacity"] == 100
    assert slots["bookable"] is True
    assert slots["tinyRemainingCapacity"] == 1
    assert slots["locationType"] == "BUSINESS"  # time slots say BUSINESS; bookings say OWNER_BUSINESS


def test_a_class_booking_is_created_unpaid_and_paid_through_an_offline_ecom_order(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    booking = _ok(r, "createBooking")
    assert booking["status"] == "CREATED"
    assert booking["paymentStatus"] == "UNDEFINED"
    assert booking["selectedPaymentOption"] == "OFFLINE"
    assert booking["eventId"] == a["eventId"] and booking["contactId"] == a["contactId"]

    checkout = _ok(r, "createCheckout")
    assert checkout["channelType"] == "BACKOFFICE_MERCHANT"
    line = checkout["lineItem"]
    assert line["catalogItemId"] == booking["bookingId"]
    assert line["rootCatalogItemId"] == a["serviceId"]
    assert Decimal(line["price"]) == Decimal("12")
    assert line["paymentOption"] == "FULL_PAYMENT_OFFLINE"
    assert line["numberOfParticipants"] == 1 and line["scheduledDate"]

    assert _ok(r, "createOrder")["orderId"]
    order = _ok(r, "getOrder")
    assert order["status"] == "APPROVED" and order["paymentStatus"] == "NOT_PAID"
    assert order["channelType"] == "BACKOFFICE_MERCHANT"
    assert Decimal(order["total"]) == Decimal("12")
    assert order["lineItems"][0]["catalogItemId"] == booking["bookingId"]

    after_order = _ok(r, "extendedBookingAfterOrder")
    assert after_order["status"] == "CONFIRMED" and after_order["paymentStatus"] == "NOT_PAID"

    paid = _ok(r, "markOrderAsPaid")
    assert paid["paymentStatus"] == "PAID"
    assert _ok(r, "getOrderAfterPaid")["paymentStatus"] == "PAID"
    view = _ok(r, "extendedBookingAfterPaid")
    assert view["found"] and view["matched"] == 1
    assert view["status"] == "CONFIRMED" and view["paymentStatus"] == "PAID"
    assert view["orderId"] == r["createOrder"]["orderId"] and view["orderPaymentStatus"] == "PAID"


def test_cart_v2_places_a_back_office_order_for_a_booking(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    booking = _ok(r, "cartBooking")
    cart = _ok(r, "createCart")
    assert cart["channelType"] == "BACKOFFICE_MERCHANT" and cart["orderPlaced"] is False
    assert cart["catalogItemId"] == booking["bookingId"] and cart["rootCatalogItemId"] == a["serviceId"]
    assert (cart["paymentOption"], Decimal(cart["unitPrice"]), Decimal(cart["subtotal"])) == (
        "FULL_PAYMENT_OFFLINE",
        Decimal("12"),
        Decimal("12"),
    )
    placed = _ok(r, "placeOrder")
    assert placed["orderId"] and placed["completed"] is False and placed["paymentGatewayOrderId"] is None
    assert (placed["order_status"], placed["order_paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert placed["order_channelType"] == "BACKOFFICE_MERCHANT"
    assert placed["buyerContactId"] == a["contactId"] and placed["buyerMemberId"] is None
    assert (placed["bookingStatus"], placed["bookingPaymentStatus"]) == ("CONFIRMED", "NOT_PAID")
    assert _ok(r, "getCart") == {"ok": True, "orderPlaced": True, "orderId": placed["orderId"]}
    again = _ok(r, "placeOrderAgain")
    assert (again["status"], again["code"]) == (409, "CART_ALREADY_ORDERED")


def test_the_reader_view_carries_the_order_summary_the_sdk_types(sdk_run: dict[str, Any]) -> None:
    # ExtendedBooking.order (withEcomOrder) is the reader's order summary, not the eCom Order:
    # {id, number, status, paymentStatus, totalPrice, bookingPrice, bookingPriceDescription, balance, currency}.
    view = _ok(sdk_run["results"], "extendedBookingAfterPaid")
    assert view["orderTotal"] == "12" and view["orderBalance"] == "0"


def test_the_sdk_pages_the_reader_view_with_cursors(sdk_run: dict[str, Any]) -> None:
    r = sdk_run["results"]
    paged = _ok(r, "pageExtendedBookings")
    made = {
        r["createBooking"]["bookingId"],
        r["cartBooking"]["bookingId"],
        r["addPaymentsFlow"]["bookingId"],
        r["membershipBooking"]["bookingId"],
        r["chargeMembershipsFlow"]["bookingId"],
        r["fillTinySession"]["bookingId"],
        r["appointmentBooking"]["bookingId"],
    }
    assert paged["sizes"] == [2, 2, 2, 1]
    assert paged["distinct"] == len(paged["ids"]) == 7 and set(paged["ids"]) == made


def test_attendance_is_set_and_shows_in_the_reader_view(sdk_run: dict[str, Any]) -> None:
    r = sdk_run["results"]
    attendance = _ok(r, "setAttendance")
    assert attendance["status"] == "ATTENDED" and attendance["numberOfAttendees"] == 1
    assert attendance["attendanceId"]
    view = _ok(r, "extendedBookingAfterAttendance")
    assert view["attendanceStatus"] == "ATTENDED" and view["attendees"] == 1


def test_contacts_are_created_found_and_duplicates_rejected(sdk_run: dict[str, Any]) -> None:
    r = sdk_run["results"]
    created = _ok(r, "createContact")
    assert created["contactId"] and created["primaryEmail"] == "sdk.walkin@example.com"
    assert _ok(r, "queryContacts")["ids"] == [created["contactId"]]
    duplicate = _ok(r, "createContactDuplicate")
    assert duplicate["code"] == "DUPLICATE_CONTACT_EXISTS"


def test_an_offline_payment_record_pays_the_order_and_the_booking(sdk_run: dict[str, Any]) -> None:
    flow = _ok(sdk_run["results"], "addPaymentsFlow")
    assert flow["orderPaymentStatusBefore"] == "NOT_PAID"
    assert len(flow["paymentsIds"]) == 1
    assert flow["orderPaymentStatusAfter"] == "PAID"
    assert flow["bookingStatusAfter"] == "CONFIRMED" and flow["bookingPaymentStatusAfter"] == "PAID"


def test_money_given_back_at_the_desk_is_an_external_refund(sdk_run: dict[str, Any]) -> None:
    r = sdk_run["results"]
    refused = _ok(r, "refundOfflineWithoutExternal")
    assert (refused["status"], refused["code"]) == (400, "EXTERNAL_REFUND_EXPECTED")
    refund = _ok(r, "refundOfflinePayment")
    assert refund["refundId"]
    [transaction] = refund["transactions"]
    assert transaction["paymentId"] == r["addPaymentsFlow"]["paymentsIds"][0]
    assert (Decimal(transaction["amount"]), transaction["refundStatus"], transaction["externalRefund"]) == (
        Decimal("12"),
        "SUCCEEDED",
        True,
    )
    assert refund["orderPaymentStatusAfter"] == "FULLY_REFUNDED"
    assert refund["bookingPaymentStatusAfter"] == "REFUNDED"


def test_a_member_pays_a_class_with_their_plan_and_loses_one_credit(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    plan_orders = _ok(r, "planOrders")
    assert [o["orderId"] for o in plan_orders["orders"]] == [a["planOrderId"]]
    assert plan_orders["orders"][0]["status"] == "ACTIVE"
    assert _ok(r, "queryPools")["poolIds"] == [a["poolId"]]
    assert _ok(r, "getEligibleBenefits")["poolIds"] == [a["poolId"]]
    before = _ok(r, "balanceBefore")
    assert Decimal(before["available"]) == PLAN_CREDITS and before["balanceId"] == a["poolId"]

    booking = _ok(r, "membershipBooking")
    assert booking["selectedPaymentOption"] == "MEMBERSHIP" and booking["paymentStatus"] == "UNDEFINED"
    # Checkout V1 with an API key: no buyer inferred, no eligible membership, and a chosen one blocks the order.
    checkout = _ok(r, "membershipCheckout")
    assert checkout["buyerMemberId"] is None and checkout["eligible"] == []
    selected = _ok(r, "selectMembership")
    assert selected["selected"] == selected["invalid"] == [a["poolId"]]
    refused = _ok(r, "membershipCheckoutOrder")
    assert (refused["status"], refused["code"]) == (428, "VIOLATIONS_WITH_ERROR_SEVERITY")

    # Cart V2 order, then Order Billing Charge Memberships (asynchronous: PENDING first).
    order = _ok(r, "membershipOrder")
    assert (order["paymentOptionBeforeCharge"], order["paymentStatusBeforeCharge"]) == ("MEMBERSHIP", "NOT_PAID")
    assert order["chargedStatuses"] == ["PENDING"]
    assert order["paymentStatus"] == "PAID"
    assert order["lineItems"][0]["paymentOption"] == "MEMBERSHIP"
    assert [(p["membershipId"], p["status"]) for p in order["membershipPayments"]] == [(a["poolId"], "APPROVED")]
    assert Decimal(_ok(r, "balanceAfterCheckout")["available"]) == PLAN_CREDITS - 1
    view = _ok(r, "membershipBookingAfterOrder")
    assert view["status"] == "CONFIRMED" and view["paymentStatus"] == "PAID"


def test_order_billing_charges_the_plan_on_an_existing_order(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    flow = _ok(r, "chargeMembershipsFlow")
    assert flow["orderPaymentStatusBefore"] == "NOT_PAID"
    assert [(p["membershipId"], p["status"]) for p in flow["payments"]] == [(a["poolId"], "PENDING")]
    assert flow["orderPaymentStatusAfter"] == "PAID"  # settled by the next call on the order
    assert flow["bookingPaymentStatusAfter"] == "PAID"
    assert Decimal(_ok(r, "balanceAfterCharge")["available"]) == PLAN_CREDITS - 2
    refund = _ok(r, "refundMembershipPayment")
    assert (refund["paymentStatus"], refund["orderPaymentStatusAfter"]) == ("VOIDED", "NOT_PAID")
    assert Decimal(refund["available"]) == PLAN_CREDITS - 1


def test_appointment_slots_come_from_working_hours_and_book_with_the_full_slot(sdk_run: dict[str, Any]) -> None:
    r, a = sdk_run["results"], sdk_run["arranged"]
    slots = _ok(r, "appointmentSlots")
    assert slots["hasCursorPagingMetadata"]  # appointments page with cursorPagingMetadata, not pagingMetadata
    assert slots["count"] >= 1 and all(slots["bookable"])
    assert slots["starts"][0] == "2026-11-22T09:00:00" and slots["ends"][0] == "2026-11-22T10:00:00"
    assert max(slots["ends"]) <= "2026-11-22T17:00:00"
    assert slots["resourceIds"] == [a["staffResourceId"]]
    assert slots["locationType"] == "BUSINESS"
    booking = _ok(r, "appointmentBooking")
    assert booking["status"] == "CREATED" and booking["paymentStatus"] == "UNDEFINED"
    assert booking["resourceId"] == a["staffResourceId"]


def test_rejections_surface_through_the_sdk_with_documented_codes(sdk_run: dict[str, Any]) -> None:
    r = sdk_run["results"]
    assert _ok(r, "fillTinySession")["statusAfterOrder"] == "CONFIRMED"
    over = _ok(r, "overCapacity")
    assert (over["status"], over["code"]) == (428, "SESSION_CAPACITY_EXCEEDED")
    unknown = _ok(r, "getOrderUnknown")
    assert (unknown["status"], unknown["code"]) == (404, "ORDER_NOT_FOUND")
    again = _ok(r, "markOrderAsPaidAgain")
    assert (again["status"], again["code"]) == (428, "ORDER_ALREADY_PAID")
    no_session = _ok(r, "setAttendanceWithoutSession")
    assert (no_session["status"], no_session["code"]) == (400, "SESSION_ID_NOT_PROVIDED")
    slots = _ok(r, "slotsAfter")
    assert slots["tinyRemainingCapacity"] == 0
    # Two confirmed bookings on the morning session: the paid walk-in and the Add Payments walk-in,
    # plus the member's plan booking.
    assert slots["remainingCapacity"] == 97
