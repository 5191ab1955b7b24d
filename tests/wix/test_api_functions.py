"""Every Wix API function: the method, the path (the SDK's primary path in endpoints.json) and
the body keys or query parameters it sends, plus whether it is retried. No network."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from bookings_app.wix import (
    attendance,
    benefit_programs,
    bookings,
    calendar,
    cart,
    checkout,
    contacts,
    extended_bookings,
    members,
    order_transactions,
    orders,
    pricing_plans,
    services,
    staff,
    time_slots,
)
from bookings_app.wix.client import ApiKeyAuth, WixClient
from bookings_app.wix.errors import WixUnavailable

API_MODULES: list[ModuleType] = [
    attendance,
    benefit_programs,
    bookings,
    calendar,
    cart,
    checkout,
    contacts,
    extended_bookings,
    members,
    order_transactions,
    orders,
    pricing_plans,
    services,
    staff,
    time_slots,
]

ENDPOINTS_FILE = Path(__file__).resolve().parents[2] / "wix_sandbox" / "endpoints.json"
PRIMARY_PATHS = {f"{op['http_method']} {op['path']}" for op in json.loads(ENDPOINTS_FILE.read_text())}
# Calendar V3 has no SDK package, so it is not in endpoints.json (CONTRACT.md §9).
CALENDAR_V3 = {
    "POST /calendar/v3/events",
    "GET /calendar/v3/events",
    "GET /calendar/v3/events/{eventId}",
    "POST /calendar/v3/events/query",
    "POST /calendar/v3/events/{eventId}/cancel",
    "POST /calendar/v3/bulk/events/create",
    "POST /calendar/v3/bulk/events/cancel",
}

BOOKING = {"bookedEntity": {"slot": {"serviceId": "svc", "eventId": "evt"}}, "totalParticipants": 1}
NOTIFY = {"notifyParticipants": False}
QUERY = {"filter": {"status": "CONFIRMED"}, "cursorPaging": {"limit": 10}}
ITEM_REF = {"externalId": "svc", "providerAppId": "13d21c63-b5ec-5912-8397-c3a5ddb27a97"}


@dataclass
class Case:
    fn: Callable[..., dict[str, Any]]
    kwargs: dict[str, Any]
    template: str  # "METHOD /path/{param}" as endpoints.json (or CONTRACT §9) spells it
    path: str  # the concrete path sent
    idempotent: bool
    body: set[str] | None = None  # body keys sent (POST/PATCH)
    params: list[tuple[str, str]] = field(default_factory=list)  # query sent (GET)

    @property
    def id(self) -> str:
        return f"{self.fn.__module__.rsplit('.', 1)[-1]}.{self.fn.__name__}"


CASES = [
    # -- bookings --
    Case(
        bookings.create_booking,
        dict(
            booking=BOOKING,
            flow_control_settings={"skipAvailabilityValidation": True},
            participant_notification=NOTIFY,
            send_sms_reminder=False,
            form_submission={"email": "a@b.c"},
        ),
        "POST /_api/bookings-service/v2/bookings",
        "/_api/bookings-service/v2/bookings",
        False,
        body={"booking", "flowControlSettings", "participantNotification", "sendSmsReminder", "formSubmission"},
    ),
    Case(
        bookings.bulk_create_booking,
        dict(create_bookings_info=[{"booking": BOOKING}], return_full_entity=True),
        "POST /bookings/v2/bulk/bookings/create",
        "/bookings/v2/bulk/bookings/create",
        False,
        body={"createBookingsInfo", "returnFullEntity"},
    ),
    Case(
        bookings.confirm_or_decline_booking,
        dict(booking_id="BK", payment_status="PAID"),
        "POST /bookings/v2/confirmation/{bookingId}:confirmOrDecline",
        "/bookings/v2/confirmation/BK:confirmOrDecline",
        False,
        body={"paymentStatus"},
    ),
    Case(
        bookings.bulk_confirm_or_decline_booking,
        dict(details=[{"bookingId": "BK", "paymentStatus": "PAID"}], return_entity=True),
        "POST /bookings/v2/bulk/bookings/confirmOrDecline",
        "/bookings/v2/bulk/bookings/confirmOrDecline",
        False,
        body={"details", "returnEntity"},
    ),
    Case(
        bookings.confirm_booking,
        dict(
            booking_id="BK",
            revision="3",
            participant_notification=NOTIFY,
            send_sms_reminder=False,
            payment_status="EXEMPT",
            double_booked=False,
            flow_control_settings={"checkAvailabilityValidation": True},
        ),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/confirm",
        "/_api/bookings-service/v2/bookings/BK/confirm",
        False,
        body={
            "revision",
            "participantNotification",
            "sendSmsReminder",
            "paymentStatus",
            "doubleBooked",
            "flowControlSettings",
        },
    ),
    Case(
        bookings.decline_booking,
        dict(
            booking_id="BK",
            revision="3",
            participant_notification=NOTIFY,
            payment_status="NOT_PAID",
            double_booked=True,
            flow_control_settings={"withRefund": False},
        ),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/decline",
        "/_api/bookings-service/v2/bookings/BK/decline",
        False,
        body={"revision", "participantNotification", "paymentStatus", "doubleBooked", "flowControlSettings"},
    ),
    Case(
        bookings.cancel_booking,
        dict(
            booking_id="BK",
            revision="3",
            participant_notification=NOTIFY,
            flow_control_settings={"ignoreCancellationPolicy": True},
            waive_charges=True,
        ),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/cancel",
        "/_api/bookings-service/v2/bookings/BK/cancel",
        False,
        body={"revision", "participantNotification", "flowControlSettings", "waiveCharges"},
    ),
    Case(
        bookings.bulk_cancel_booking,
        dict(bookings_info=[{"bookingId": "BK", "revision": "3"}], return_full_entity=False),
        "POST /bookings/v2/bulk/bookings/cancel",
        "/bookings/v2/bulk/bookings/cancel",
        False,
        body={"bookings", "returnFullEntity"},
    ),
    Case(
        bookings.mark_booking_as_pending,
        dict(
            booking_id="BK",
            revision="1",
            participant_notification=NOTIFY,
            send_sms_reminder=True,
            payment_status="NOT_PAID",
            double_booked=False,
            flow_control_settings={"skipPendingApprovalServiceValidation": True},
        ),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/mark_booking_as_pending",
        "/_api/bookings-service/v2/bookings/BK/mark_booking_as_pending",
        False,
        body={
            "revision",
            "participantNotification",
            "sendSmsReminder",
            "paymentStatus",
            "doubleBooked",
            "flowControlSettings",
        },
    ),
    Case(
        bookings.update_number_of_participants,
        dict(booking_id="BK", revision="2", total_participants=3),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/update_number_of_participants",
        "/_api/bookings-service/v2/bookings/BK/update_number_of_participants",
        False,
        body={"revision", "totalParticipants"},
    ),
    Case(
        bookings.reschedule_booking,
        dict(
            booking_id="BK",
            slot={"eventId": "evt2"},
            revision="2",
            total_participants=1,
            participant_notification=NOTIFY,
            flow_control_settings={"ignoreReschedulePolicy": True},
            booked_add_ons=[],
        ),
        "POST /_api/bookings-service/v2/bookings/{bookingId}/reschedule",
        "/_api/bookings-service/v2/bookings/BK/reschedule",
        False,
        body={
            "slot",
            "revision",
            "totalParticipants",
            "participantNotification",
            "flowControlSettings",
            "bookedAddOns",
        },
    ),
    Case(
        bookings.create_multi_service_booking,
        dict(
            bookings=[BOOKING, BOOKING],
            participant_notification=NOTIFY,
            send_sms_reminder=False,
            flow_control_settings={},
            return_full_entity=True,
            multi_service_booking_type="SEQUENTIAL_BOOKINGS",
            form_submission={},
        ),
        "POST /_api/bookings-service/v2/multi_service_bookings",
        "/_api/bookings-service/v2/multi_service_bookings",
        False,
        body={
            "bookings",
            "participantNotification",
            "sendSmsReminder",
            "flowControlSettings",
            "returnFullEntity",
            "multiServiceBookingType",
            "formSubmission",
        },
    ),
    Case(
        bookings.get_multi_service_booking,
        dict(multi_service_booking_id="MSB"),
        "GET /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}",
        "/_api/bookings-service/v2/multi_service_bookings/MSB",
        True,
    ),
    Case(
        bookings.cancel_multi_service_booking,
        dict(
            multi_service_booking_id="MSB",
            participant_notification=NOTIFY,
            flow_control_settings={},
            return_full_entity=True,
            waive_charges=False,
        ),
        "POST /_api/bookings-service/v2/multi_service_bookings/{multiServiceBookingId}/cancel",
        "/_api/bookings-service/v2/multi_service_bookings/MSB/cancel",
        False,
        body={"participantNotification", "flowControlSettings", "returnFullEntity", "waiveCharges"},
    ),
    # -- extended bookings --
    Case(
        extended_bookings.query_extended_bookings,
        dict(
            query=QUERY,
            with_booking_allowed_actions=True,
            with_booking_attendance_info=True,
            with_booking_conferencing_details=False,
            with_booking_policy_settings=False,
            with_booking_fee_details=False,
            with_ecom_order=True,
            with_ecom_transactions=True,
        ),
        "POST /_api/bookings-reader/v2/extended-bookings/query",
        "/_api/bookings-reader/v2/extended-bookings/query",
        True,
        body={
            "query",
            "withBookingAllowedActions",
            "withBookingAttendanceInfo",
            "withBookingConferencingDetails",
            "withBookingPolicySettings",
            "withBookingFeeDetails",
            "withEcomOrder",
            "withEcomTransactions",
        },
    ),
    Case(
        extended_bookings.count_extended_bookings,
        dict(filter={"status": "CONFIRMED"}),
        "POST /_api/bookings-reader/v2/extended-bookings/count",
        "/_api/bookings-reader/v2/extended-bookings/count",
        True,
        body={"filter"},
    ),
    # -- attendance --
    Case(
        attendance.set_attendance,
        dict(attendance={"bookingId": "BK", "eventId": "evt", "status": "ATTENDED"}, participant_notification=NOTIFY),
        "POST /bookings/bookings-attendance/set",
        "/bookings/bookings-attendance/set",
        True,
        body={"attendance", "participantNotification"},
    ),
    Case(
        attendance.bulk_set_attendance,
        dict(attendance_details=[{"attendance": {"bookingId": "BK"}}], return_full_entity=True),
        "POST /bookings/v2/bulk/attendance/set",
        "/bookings/v2/bulk/attendance/set",
        True,
        body={"attendanceDetails", "returnFullEntity"},
    ),
    Case(
        attendance.query_attendance,
        dict(query=QUERY),
        "POST /bookings/bookings-attendance/query",
        "/bookings/bookings-attendance/query",
        True,
        body={"query"},
    ),
    Case(
        attendance.get_attendance,
        dict(attendance_id="ATT"),
        "GET /bookings/bookings-attendance/{attendanceId}",
        "/bookings/bookings-attendance/ATT",
        True,
    ),
    Case(
        attendance.count_attendances,
        dict(filter={"status": "ATTENDED"}),
        "POST /bookings/bookings-attendance/count",
        "/bookings/bookings-attendance/count",
        True,
        body={"filter"},
    ),
    # -- services --
    Case(
        services.query_services,
        dict(query={"filter": {"type": "CLASS"}}, conditional_fields=["STAFF_MEMBER_DETAILS"]),
        "POST /_api/bookings/v2/services/query",
        "/_api/bookings/v2/services/query",
        True,
        body={"query", "conditionalFields"},
    ),
    Case(
        services.get_service,
        dict(service_id="SVC", conditional_fields=["STAFF_MEMBER_DETAILS", "RESOURCE_DETAILS"]),
        "GET /_api/bookings/v2/services/{serviceId}",
        "/_api/bookings/v2/services/SVC",
        True,
        params=[("conditionalFields", "STAFF_MEMBER_DETAILS"), ("conditionalFields", "RESOURCE_DETAILS")],
    ),
    Case(
        services.search_services,
        dict(search={"filter": {}}, conditional_fields=["DISCOUNT_INFO_DETAILS"]),
        "POST /_api/bookings/v2/services/search",
        "/_api/bookings/v2/services/search",
        True,
        body={"search", "conditionalFields"},
    ),
    # -- time slots --
    Case(
        time_slots.list_event_time_slots,
        dict(
            from_local_date="2026-11-21T00:00:00",
            to_local_date="2026-11-22T00:00:00",
            time_zone="Europe/London",
            service_ids=["svc"],
            include_non_bookable=True,
            min_bookable_capacity=1,
            event_filter={"resources.id": "r"},
            max_slots_per_day=10,
            cursor_paging={"limit": 50},
            booking_policy_violations={"tooLateToBook": False},
        ),
        "POST /_api/service-availability/v2/time-slots/event",
        "/_api/service-availability/v2/time-slots/event",
        True,
        body={
            "fromLocalDate",
            "toLocalDate",
            "timeZone",
            "serviceIds",
            "includeNonBookable",
            "minBookableCapacity",
            "eventFilter",
            "maxSlotsPerDay",
            "cursorPaging",
            "bookingPolicyViolations",
        },
    ),
    Case(
        time_slots.get_event_time_slot,
        dict(event_id="EVT", time_zone="Europe/London"),
        "GET /_api/service-availability/v2/time-slots/event/{eventId}",
        "/_api/service-availability/v2/time-slots/event/EVT",
        True,
        params=[("timeZone", "Europe/London")],
    ),
    Case(
        time_slots.list_availability_time_slots,
        dict(
            service_id="svc",
            from_local_date="2026-11-21T00:00:00",
            to_local_date="2026-11-22T00:00:00",
            time_zone="Europe/London",
            locations=[{"id": "loc"}],
            include_resource_type_ids=["t"],
            bookable=True,
            booking_policy_violations={},
            time_slots_per_day=5,
            cursor_paging={"limit": 10},
            customer_choices={"durationInMinutes": 60},
            resource_types=[{"resourceTypeId": "t", "resourceIds": ["r"]}],
        ),
        "POST /_api/service-availability/v2/time-slots",
        "/_api/service-availability/v2/time-slots",
        True,
        body={
            "serviceId",
            "fromLocalDate",
            "toLocalDate",
            "timeZone",
            "locations",
            "includeResourceTypeIds",
            "bookable",
            "bookingPolicyViolations",
            "timeSlotsPerDay",
            "cursorPaging",
            "customerChoices",
            "resourceTypes",
        },
    ),
    Case(
        time_slots.get_availability_time_slot,
        dict(
            service_id="svc",
            local_start_date="2026-11-21T10:00:00",
            local_end_date="2026-11-21T11:00:00",
            time_zone="Europe/London",
            location={"locationType": "BUSINESS"},
            resource_ids=["r"],
            include_resource_type_ids=["t"],
        ),
        "POST /_api/service-availability/v2/time-slots/get",
        "/_api/service-availability/v2/time-slots/get",
        True,
        body={
            "serviceId",
            "localStartDate",
            "localEndDate",
            "timeZone",
            "location",
            "resourceIds",
            "includeResourceTypeIds",
        },
    ),
    Case(
        time_slots.list_multi_service_availability_time_slots,
        dict(
            services=[{"serviceId": "a"}, {"serviceId": "b"}],
            from_local_date="2026-11-21T00:00:00",
            to_local_date="2026-11-22T00:00:00",
            time_zone="Europe/London",
            location={"locationType": "BUSINESS"},
            bookable=True,
            booking_policy_violations={},
            time_slots_per_day=3,
            cursor_paging={"limit": 5},
        ),
        "POST /_api/service-availability/v2/multi-service-time-slots",
        "/_api/service-availability/v2/multi-service-time-slots",
        True,
        body={
            "services",
            "fromLocalDate",
            "toLocalDate",
            "timeZone",
            "location",
            "bookable",
            "bookingPolicyViolations",
            "timeSlotsPerDay",
            "cursorPaging",
        },
    ),
    # -- calendar v3 --
    Case(
        calendar.query_events,
        dict(
            query={"filter": {"scheduleId": "sch"}},
            from_local_date="2026-11-21T00:00:00",
            to_local_date="2026-12-21T00:00:00",
            recurrence_type=["MASTER"],
            time_zone="Europe/London",
            fields=["PI_FIELDS"],
        ),
        "POST /calendar/v3/events/query",
        "/calendar/v3/events/query",
        True,
        body={"query", "fromLocalDate", "toLocalDate", "recurrenceType", "timeZone", "fields"},
    ),
    Case(
        calendar.list_events,
        dict(event_ids=["e1", "e2"]),
        "GET /calendar/v3/events",
        "/calendar/v3/events",
        True,
        params=[("eventIds", "e1"), ("eventIds", "e2")],
    ),
    Case(
        calendar.create_event,
        dict(event={"scheduleId": "sch", "type": "COURSE"}, participant_notification=NOTIFY),
        "POST /calendar/v3/events",
        "/calendar/v3/events",
        False,
        body={"event", "participantNotification"},
    ),
    Case(
        calendar.bulk_create_events,
        dict(events=[{"scheduleId": "sch"}], return_entity=True, time_zone="Europe/London"),
        "POST /calendar/v3/bulk/events/create",
        "/calendar/v3/bulk/events/create",
        False,
        body={"events", "returnEntity", "timeZone"},
    ),
    Case(
        calendar.get_event,
        dict(event_id="EVT"),
        "GET /calendar/v3/events/{eventId}",
        "/calendar/v3/events/EVT",
        True,
    ),
    Case(
        calendar.cancel_event,
        dict(event_id="EVT", participant_notification=NOTIFY),
        "POST /calendar/v3/events/{eventId}/cancel",
        "/calendar/v3/events/EVT/cancel",
        False,
        body={"participantNotification"},
    ),
    Case(
        calendar.bulk_cancel_events,
        dict(event_ids=["e1", "e2"], participant_notification=NOTIFY),
        "POST /calendar/v3/bulk/events/cancel",
        "/calendar/v3/bulk/events/cancel",
        False,
        body={"eventIds", "participantNotification"},
    ),
    # -- staff and resources --
    Case(
        staff.query_staff_members,
        dict(query=QUERY, fields=["RESOURCE_DETAILS"]),
        "POST /bookings/v1/staff-members/query",
        "/bookings/v1/staff-members/query",
        True,
        body={"query", "fields"},
    ),
    Case(
        staff.get_staff_member,
        dict(staff_member_id="STF", fields=["RESOURCE_DETAILS"]),
        "GET /bookings/v1/staff-members/{staffMemberId}",
        "/bookings/v1/staff-members/STF",
        True,
        params=[("fields", "RESOURCE_DETAILS")],
    ),
    Case(
        staff.query_resources,
        dict(query=QUERY),
        "POST /bookings/v2/resources/query",
        "/bookings/v2/resources/query",
        True,
        body={"query"},
    ),
    Case(
        staff.get_resource,
        dict(resource_id="RES"),
        "GET /bookings/v2/resources/{resourceId}",
        "/bookings/v2/resources/RES",
        True,
    ),
    # -- contacts and members --
    Case(
        contacts.create_contact,
        dict(info={"name": {"first": "Ada"}}, allow_duplicates=False),
        "POST /contacts/v4/contacts",
        "/contacts/v4/contacts",
        False,
        body={"info", "allowDuplicates"},
    ),
    Case(
        contacts.query_contacts,
        dict(query={"filter": {"info.emails.email": "a@b.c"}}),
        "POST /contacts/v4/contacts/query",
        "/contacts/v4/contacts/query",
        True,
        body={"query"},
    ),
    Case(
        contacts.get_contact,
        dict(contact_id="CON", fieldsets=["FULL"]),
        "GET /contacts/v4/contacts/{id}",
        "/contacts/v4/contacts/CON",
        True,
        params=[("fieldsets", "FULL")],
    ),
    Case(
        members.query_members,
        dict(query={"filter": {"contactId": "CON"}}, fieldsets=["FULL"]),
        "POST /members/v1/members/query",
        "/members/v1/members/query",
        True,
        body={"query", "fieldsets"},
    ),
    Case(
        members.get_member,
        dict(member_id="MEM", fieldsets=["FULL"]),
        "GET /members/v1/members/{id}",
        "/members/v1/members/MEM",
        True,
        params=[("fieldsets", "FULL")],
    ),
    # -- checkout --
    Case(
        checkout.create_checkout,
        dict(
            channel_type="BACKOFFICE_MERCHANT",
            line_items=[{"quantity": 1, "catalogReference": {"catalogItemId": "BK"}}],
            custom_line_items=[],
            checkout_info={"buyerInfo": {"email": "a@b.c"}},
            coupon_code="C",
            gift_card_code="G",
            gift_card_redeem_amount="1.00",
            override_checkout_url="https://x",
        ),
        "POST /ecom/v1/checkouts",
        "/ecom/v1/checkouts",
        False,
        body={
            "channelType",
            "lineItems",
            "customLineItems",
            "checkoutInfo",
            "couponCode",
            "giftCardCode",
            "giftCardRedeemAmount",
            "overrideCheckoutUrl",
        },
    ),
    Case(
        checkout.get_checkout,
        dict(checkout_id="CHK"),
        "GET /ecom/v1/checkouts/{id}",
        "/ecom/v1/checkouts/CHK",
        True,
    ),
    Case(
        checkout.update_checkout,
        dict(checkout={"id": "CHK", "membershipOptions": {}}, coupon_code="C"),
        "PATCH /ecom/v1/checkouts/{checkout.id}",
        "/ecom/v1/checkouts/CHK",
        True,
        body={"checkout", "couponCode"},
    ),
    Case(
        checkout.create_order_from_checkout,
        dict(checkout_id="CHK", save_payment_method=False, delay_capture=False),
        "POST /ecom/v1/checkouts/{id}/create-order",
        "/ecom/v1/checkouts/CHK/create-order",
        False,
        body={"savePaymentMethod", "delayCapture"},
    ),
    Case(
        checkout.get_checkout_url,
        dict(checkout_id="CHK"),
        "GET /ecom/v1/checkouts/{id}/checkout-url",
        "/ecom/v1/checkouts/CHK/checkout-url",
        True,
    ),
    # -- orders, payments collector, order billing --
    Case(orders.get_order, dict(order_id="ORD"), "GET /ecom/v1/orders/{id}", "/ecom/v1/orders/ORD", True),
    Case(
        orders.search_orders,
        dict(search={"filter": {"paymentStatus": "NOT_PAID"}}),
        "POST /ecom/v1/orders/search",
        "/ecom/v1/orders/search",
        True,
        body={"search"},
    ),
    Case(
        orders.create_order,
        dict(order={"channelInfo": {"type": "BACKOFFICE_MERCHANT"}}, settings={}),
        "POST /ecom/v1/orders",
        "/ecom/v1/orders",
        False,
        body={"order", "settings"},
    ),
    Case(
        orders.cancel_order,
        dict(order_id="ORD", send_order_canceled_email=False, custom_message="m", restock_all_items=False),
        "POST /ecom/v1/orders/{id}/cancel",
        "/ecom/v1/orders/ORD/cancel",
        False,
        body={"sendOrderCanceledEmail", "customMessage", "restockAllItems"},
    ),
    Case(
        orders.mark_order_as_paid,
        dict(order_id="ORD"),
        "POST /ecom/v1/payments-collector/orders/{ecomOrderId}/mark-as-paid",
        "/ecom/v1/payments-collector/orders/ORD/mark-as-paid",
        False,
        body=set(),
    ),
    Case(
        orders.record_manually_collected_payment,
        dict(order_id="ORD", amount="12.50"),
        "POST /ecom/v1/payments-collector/orders/{orderId}/manual-payment",
        "/ecom/v1/payments-collector/orders/ORD/manual-payment",
        False,
        body={"amount"},
    ),
    Case(
        orders.get_payment_collectability_status,
        dict(order_id="ORD"),
        "GET /ecom/v1/payments-collector/orders/{ecomOrderId}/payment-collectability-status",
        "/ecom/v1/payments-collector/orders/ORD/payment-collectability-status",
        True,
    ),
    Case(
        orders.charge_memberships,
        dict(
            order_id="ORD",
            member_id="MEM",
            memberships=[{"lineItemId": "li", "membershipIdentifier": {"existingMembership": {"membershipId": "p"}}}],
        ),
        "POST /ecom/v1/order-billing/charge-memberships",
        "/ecom/v1/order-billing/charge-memberships",
        False,
        body={"orderId", "memberId", "memberships"},
    ),
    Case(
        orders.refund_payments,
        dict(order_id="ORD", payment_refunds=[{"paymentId": "pay"}], customer_reason="undo"),
        "POST /ecom/v1/order-billing/refund-payments",
        "/ecom/v1/order-billing/refund-payments",
        False,
        body={"orderId", "paymentRefunds", "customerReason"},
    ),
    # -- cart v2 --
    Case(
        cart.create_cart,
        dict(
            channel_type="BACKOFFICE_MERCHANT",
            catalog_items=[{"catalogReference": {"catalogItemId": "b", "appId": "a"}, "quantity": 1}],
            customer_info={"firstName": "Ann", "email": "ann@example.com", "phone": ""},
        ),
        "POST /ecom/v2/carts",
        "/ecom/v2/carts",
        False,
        body={"cart", "catalogItems"},
    ),
    Case(cart.get_cart, dict(cart_id="CART"), "GET /ecom/v2/carts/{cartId}", "/ecom/v2/carts/CART", True),
    Case(
        cart.place_order,
        dict(cart_id="CART"),
        "POST /ecom/v2/carts/{cartId}/place-order",
        "/ecom/v2/carts/CART/place-order",
        False,
        body=set(),
    ),
    # -- order transactions --
    Case(
        order_transactions.add_payments,
        dict(order_id="ORD", payments=[{"amount": {"amount": "5.00"}, "status": "APPROVED"}]),
        "POST /ecom/v1/payments/orders/{orderId}/add-payment",
        "/ecom/v1/payments/orders/ORD/add-payment",
        False,
        body={"payments"},
    ),
    Case(
        order_transactions.update_payment_status,
        dict(order_id="ORD", payment_id="PAY", status="APPROVED"),
        "POST /ecom/v1/payments/{paymentId}/orders/{orderId}/update-payment-transaction-status",
        "/ecom/v1/payments/PAY/orders/ORD/update-payment-transaction-status",
        False,
        body={"status"},
    ),
    Case(
        order_transactions.bulk_update_payment_statuses,
        dict(
            payment_and_order_ids=[{"orderId": "ORD", "paymentId": "PAY"}], status="APPROVED", return_full_entity=True
        ),
        "POST /ecom/v1/bulk/payments/update-payment-transaction-status",
        "/ecom/v1/bulk/payments/update-payment-transaction-status",
        False,
        body={"paymentAndOrderIds", "status", "returnFullEntity"},
    ),
    Case(
        order_transactions.list_transactions_for_single_order,
        dict(order_id="ORD"),
        "GET /ecom/v1/payments/orders/{orderId}",
        "/ecom/v1/payments/orders/ORD",
        True,
    ),
    Case(
        order_transactions.list_transactions_for_multiple_orders,
        dict(order_ids=["o1", "o2"]),
        "POST /ecom/v1/payments/list-by-ids",
        "/ecom/v1/payments/list-by-ids",
        True,
        body={"orderIds"},
    ),
    # -- pricing plans --
    Case(
        pricing_plans.list_plan_orders,
        dict(
            buyer_ids=["m1", "m2"],
            plan_ids=["p1"],
            auto_renew_canceled=False,
            order_statuses=["ACTIVE", "PENDING"],
            payment_statuses=["PAID"],
            limit=50,
            offset=0,
            sorting={"fieldName": "endDate", "order": "ASC"},
            field_set="FULL",
        ),
        "GET /pricing-plans/v2/orders",
        "/pricing-plans/v2/orders",
        True,
        params=[
            ("buyerIds", "m1"),
            ("buyerIds", "m2"),
            ("planIds", "p1"),
            ("autoRenewCanceled", "false"),
            ("orderStatuses", "ACTIVE"),
            ("orderStatuses", "PENDING"),
            ("paymentStatuses", "PAID"),
            ("limit", "50"),
            ("offset", "0"),
            ("sorting.fieldName", "endDate"),
            ("sorting.order", "ASC"),
            ("fieldSet", "FULL"),
        ],
    ),
    Case(
        pricing_plans.get_plan_order,
        dict(order_id="PPO", field_set="FULL"),
        "GET /pricing-plans/v2/orders/{id}",
        "/pricing-plans/v2/orders/PPO",
        True,
        params=[("fieldSet", "FULL")],
    ),
    Case(
        pricing_plans.create_offline_plan_order,
        dict(
            plan_id="PLN",
            member_id="MEM",
            start_date="2026-11-21T09:00:00Z",
            paid=True,
            coupon_code="C",
            submission_id="S",
        ),
        "POST /pricing-plans/v2/checkout/orders/offline",
        "/pricing-plans/v2/checkout/orders/offline",
        False,
        body={"planId", "memberId", "startDate", "paid", "couponCode", "submissionId"},
    ),
    Case(
        pricing_plans.mark_plan_order_as_paid,
        dict(order_id="PPO"),
        "POST /pricing-plans/v2/orders/{id}/mark-as-paid",
        "/pricing-plans/v2/orders/PPO/mark-as-paid",
        False,
        body=set(),
    ),
    Case(
        pricing_plans.list_plans,
        dict(plan_ids=["p1", "p2"], archived="ACTIVE", public="PUBLIC_AND_HIDDEN", limit=10, offset=5),
        "GET /pricing-plans/v2/plans",
        "/pricing-plans/v2/plans",
        True,
        params=[
            ("planIds", "p1"),
            ("planIds", "p2"),
            ("archived", "ACTIVE"),
            ("public", "PUBLIC_AND_HIDDEN"),
            ("limit", "10"),
            ("offset", "5"),
        ],
    ),
    Case(
        pricing_plans.query_plans,
        dict(query={"cursorPaging": {"limit": 100}, "filter": {"visibility": "PUBLIC"}}),
        "GET /pricing-plans/v3/plans/query",
        "/pricing-plans/v3/plans/query",
        True,
        params=[("query.cursorPaging.limit", "100"), ("query.filter.visibility", "PUBLIC")],
    ),
    Case(
        pricing_plans.get_plan,
        dict(plan_id="PLN"),
        "GET /pricing-plans/v2/plans/{id}",
        "/pricing-plans/v2/plans/PLN",
        True,
    ),
    # -- benefit programs --
    Case(
        benefit_programs.query_pools,
        dict(query={"filter": {"beneficiary.memberId": "MEM"}}),
        "POST /benefit-programs/v1/pools/query",
        "/benefit-programs/v1/pools/query",
        True,
        body={"query"},
    ),
    Case(
        benefit_programs.get_eligible_benefits,
        dict(item_reference=ITEM_REF, count=1, target_date="2026-11-21T09:00:00Z", beneficiary={"memberId": "MEM"}),
        "POST /benefit-programs/v1/pools/eligible-pools",
        "/benefit-programs/v1/pools/eligible-pools",
        True,
        body={"itemReference", "count", "targetDate", "beneficiary", "namespace"},
    ),
    Case(
        benefit_programs.check_benefit_eligibility,
        dict(
            pool_id="POOL",
            item_reference=ITEM_REF,
            benefit_key="k",
            count=1,
            target_date="2026-11-21T09:00:00Z",
            beneficiary={"memberId": "MEM"},
        ),
        "POST /benefit-programs/v1/pools/check-eligibility",
        "/benefit-programs/v1/pools/check-eligibility",
        True,
        body={"poolId", "itemReference", "benefitKey", "count", "targetDate", "beneficiary", "namespace"},
    ),
    Case(
        benefit_programs.redeem_benefit,
        dict(
            pool_id="POOL",
            item_reference=ITEM_REF,
            idempotency_key="desk-action-7",
            benefit_key="k",
            count=1,
            target_date="2026-11-21T09:00:00Z",
            beneficiary={"memberId": "MEM"},
        ),
        "POST /benefit-programs/v1/benefits/redeem",
        "/benefit-programs/v1/benefits/redeem",
        False,  # a lost answer is looked up (Query Transactions) before the redeem is sent again
        body={
            "poolId",
            "itemReference",
            "benefitKey",
            "count",
            "targetDate",
            "idempotencyKey",
            "beneficiary",
            "namespace",
        },
    ),
    Case(
        benefit_programs.cancel_redemption,
        dict(transaction_id="TX", idempotency_key="k"),
        "POST /benefit-programs/v1/benefits/cancel-redemption",
        "/benefit-programs/v1/benefits/cancel-redemption",
        False,
        body={"transactionId", "idempotencyKey"},
    ),
    Case(
        benefit_programs.get_balance,
        dict(pool_id="POOL"),
        "GET /benefit-programs/v1/balances/{poolId}",
        "/benefit-programs/v1/balances/POOL",
        True,
    ),
    Case(
        benefit_programs.list_balances,
        dict(pool_ids=["p1", "p2"], cursor_paging={"limit": 10}),
        "GET /benefit-programs/v1/balances",
        "/benefit-programs/v1/balances",
        True,
        params=[("poolIds", "p1"), ("poolIds", "p2"), ("cursorPaging.limit", "10")],
    ),
    Case(
        benefit_programs.query_balances,
        dict(query=QUERY),
        "POST /benefit-programs/v1/balances/query",
        "/benefit-programs/v1/balances/query",
        True,
        body={"query"},
    ),
    Case(
        benefit_programs.change_balance,
        dict(
            pool_id="POOL",
            idempotency_key="void-7",
            adjust_by="2",
            instructing_party={"wixUserId": "U"},
            transaction_details={"itemCount": 2},
        ),
        "POST /benefit-programs/v1/balances/{poolId}/change",
        "/benefit-programs/v1/balances/POOL/change",
        False,
        body={"poolId", "idempotencyKey", "type", "adjustOptions", "instructingParty", "transactionDetails"},
    ),
    Case(
        benefit_programs.query_programs,
        dict(query=QUERY),
        "POST /benefit-programs/v1/programs/query",
        "/benefit-programs/v1/programs/query",
        True,
        body={"query"},
    ),
    Case(
        benefit_programs.query_transactions,
        dict(query=QUERY),
        "POST /benefit-programs/v1/transactions/query",
        "/benefit-programs/v1/transactions/query",
        True,
        body={"query"},
    ),
]


class Recorder:
    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status, json={"echo": request.url.path} if status == 200 else {"message": "down"})


def client_for(recorder: Recorder) -> WixClient:
    return WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth("key", "site"),
        transport=httpx.MockTransport(recorder),
        max_retries=2,
        sleep=lambda seconds: None,
    )


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        pattern += "[^/:]+" if part.startswith("{") else re.escape(part)
    return re.compile(f"^{pattern}$")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_function_sends_documented_method_path_and_body(case: Case) -> None:
    recorder = Recorder()

    result = case.fn(client_for(recorder), **case.kwargs)

    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    method, template = case.template.split(" ", 1)
    assert request.method == method
    assert request.url.raw_path.decode().split("?")[0] == case.path
    assert _template_regex(template).match(case.path)
    assert case.template in PRIMARY_PATHS | CALENDAR_V3
    if method == "GET":
        assert request.content == b""
        assert request.url.params.multi_items() == case.params
    else:
        assert case.body is not None, "say which body keys a POST/PATCH sends"
        assert set(json.loads(request.content)) == case.body
        assert not request.url.params
    assert result == {"echo": case.path}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_function_is_retried_only_when_marked_idempotent(case: Case) -> None:
    recorder = Recorder(503, 200)
    wix = client_for(recorder)

    if case.idempotent:
        assert case.fn(wix, **case.kwargs) == {"echo": case.path}
        assert len(recorder.requests) == 2
    else:
        with pytest.raises(WixUnavailable):
            case.fn(wix, **case.kwargs)
        assert len(recorder.requests) == 1


def test_every_public_api_function_has_a_case() -> None:
    defined = {
        f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
        for module in API_MODULES
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__ and not name.startswith("_")
    }
    assert defined == {case.id for case in CASES}


def test_every_api_function_takes_the_client_then_keyword_only_arguments() -> None:
    for case in CASES:
        params = list(inspect.signature(case.fn).parameters.values())
        assert params[0].name == "wix", case.id
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:]), case.id


# -- details beyond method/path/keys ---------------------------------------------------------------


def sent(fn: Callable[..., Any], **kwargs: Any) -> httpx.Request:
    recorder = Recorder()
    fn(client_for(recorder), **kwargs)
    return recorder.requests[0]


def test_none_arguments_are_left_out_of_the_body() -> None:
    request = sent(bookings.create_booking, booking=BOOKING)
    assert json.loads(request.content) == {"booking": BOOKING}


def test_false_flags_are_sent() -> None:
    request = sent(extended_bookings.query_extended_bookings, query=QUERY, with_ecom_order=False)
    assert json.loads(request.content) == {"query": QUERY, "withEcomOrder": False}


def test_path_ids_are_url_quoted() -> None:
    request = sent(bookings.confirm_or_decline_booking, booking_id="a/b c")
    assert request.url.raw_path == b"/bookings/v2/confirmation/a%2Fb%20c:confirmOrDecline"


def test_empty_path_id_is_refused_before_sending() -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="booking_id"):
        bookings.cancel_booking(client_for(recorder), booking_id="", revision="1")
    with pytest.raises(ValueError, match="checkout.id"):
        checkout.update_checkout(client_for(recorder), checkout={"couponCode": "x"})
    assert recorder.requests == []


def test_calendar_bulk_create_wraps_each_event() -> None:
    events = [{"scheduleId": "s", "type": "COURSE"}, {"scheduleId": "s", "type": "CLASS"}]
    request = sent(calendar.bulk_create_events, events=events)
    assert json.loads(request.content) == {"events": [{"event": events[0]}, {"event": events[1]}]}


def test_bulk_cancel_booking_wraps_its_items_in_a_bookings_cancel_list() -> None:
    # bookings_bookings BulkCancelBookingRequest.bookings is BookingsCancelList{bookingsInfo[≤100]}.
    item = {"bookingId": "BK", "revision": "3", "waiveCharges": True}
    request = sent(bookings.bulk_cancel_booking, bookings_info=[item], return_full_entity=True)
    assert json.loads(request.content) == {"bookings": {"bookingsInfo": [item]}, "returnFullEntity": True}

    series = {"recurringGroupId": "g", "cancellationStartDate": "2026-12-01T00:00:00", "timeZone": "Europe/London"}
    request = sent(bookings.bulk_cancel_booking, recurring_cancellation=series)
    assert json.loads(request.content) == {"recurringCancellation": series}


def test_manual_payment_amount_is_a_price_object() -> None:
    request = sent(orders.record_manually_collected_payment, order_id="o", amount="25.00")
    assert json.loads(request.content) == {"amount": {"amount": "25.00"}}


def test_create_cart_sends_the_booking_as_a_catalog_item_and_the_buyer_by_name_only() -> None:
    # CreateCartRequest{cart{source{channelType}, customerInfo{firstName, lastName, email, phone}},
    # catalogItems[{catalogReference, quantity}]}: customerInfo's ids and lineItems[].id are read-only.
    item = {
        "catalogReference": {"catalogItemId": "booking-1", "appId": "13d21c63-b5ec-5912-8397-c3a5ddb27a97"},
        "quantity": 1,
    }
    request = sent(
        cart.create_cart,
        channel_type="BACKOFFICE_MERCHANT",
        catalog_items=[item],
        customer_info={"firstName": "Ann", "lastName": "", "email": "ann@example.com", "phone": None},
    )
    assert json.loads(request.content) == {
        "cart": {
            "source": {"channelType": "BACKOFFICE_MERCHANT"},
            "customerInfo": {"firstName": "Ann", "email": "ann@example.com"},
        },
        "catalogItems": [item],
    }


def test_create_cart_refuses_a_line_id_and_empty_or_oversized_carts_before_sending() -> None:
    recorder = Recorder()
    wix = client_for(recorder)
    ref = {"catalogReference": {"catalogItemId": "b", "appId": "a"}, "quantity": 1}
    with pytest.raises(ValueError, match="read-only"):
        cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[{**ref, "id": "mine"}])
    with pytest.raises(ValueError, match="1 to 300"):
        cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[])
    with pytest.raises(ValueError, match="1 to 300"):
        cart.create_cart(wix, channel_type="BACKOFFICE_MERCHANT", catalog_items=[ref] * 301)
    assert recorder.requests == []


def test_refund_payments_sends_the_payment_refunds() -> None:
    request = sent(orders.refund_payments, order_id="o", payment_refunds=[{"paymentId": "p"}])
    assert json.loads(request.content) == {"orderId": "o", "paymentRefunds": [{"paymentId": "p"}]}


def test_benefit_calls_default_to_the_pricing_plans_namespace() -> None:
    request = sent(benefit_programs.get_eligible_benefits, item_reference=ITEM_REF)
    assert json.loads(request.content) == {"itemReference": ITEM_REF, "namespace": "@wix/pricing-plans"}


def test_queries_send_an_empty_query_when_none_is_given() -> None:
    request = sent(services.query_services)
    assert json.loads(request.content) == {"query": {}}


@pytest.mark.parametrize(
    ("fn", "kwargs_for", "limit"),
    [
        (bookings.bulk_create_booking, lambda n: {"create_bookings_info": [{"booking": BOOKING}] * n}, 40),
        (
            bookings.bulk_confirm_or_decline_booking,
            lambda n: {"details": [{"bookingId": f"b{i}"} for i in range(n)]},
            300,
        ),
        (attendance.bulk_set_attendance, lambda n: {"attendance_details": [{"attendance": {}}] * n}, 8),
        (calendar.bulk_create_events, lambda n: {"events": [{"scheduleId": "s"}] * n}, 50),
        (orders.refund_payments, lambda n: {"order_id": "o", "payment_refunds": [{"paymentId": "p"}] * n}, 50),
        (orders.charge_memberships, lambda n: {"order_id": "o", "member_id": "m", "memberships": [{}] * n}, 100),
        (order_transactions.add_payments, lambda n: {"order_id": "o", "payments": [{}] * n}, 50),
        (
            order_transactions.bulk_update_payment_statuses,
            lambda n: {"payment_and_order_ids": [{}] * n, "status": "APPROVED"},
            300,
        ),
    ],
    ids=lambda v: (
        v.__name__ if inspect.isfunction(v) and v.__name__ != "<lambda>" else str(v) if isinstance(v, int) else ""
    ),
)
def test_bulk_limits_are_enforced_before_sending(fn: Callable[..., Any], kwargs_for: Any, limit: int) -> None:
    recorder = Recorder()
    wix = client_for(recorder)

    fn(wix, **kwargs_for(limit))
    assert len(recorder.requests) == 1

    with pytest.raises(ValueError, match=f"at most {limit}"):
        fn(wix, **kwargs_for(limit + 1))
    with pytest.raises(ValueError, match="at least one"):
        fn(wix, **kwargs_for(0))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        (bookings.update_number_of_participants, {"booking_id": "b", "revision": "1"}),
        (
            bookings.update_number_of_participants,
            {"booking_id": "b", "revision": "1", "total_participants": 2, "participants_choices": {}},
        ),
        (bookings.bulk_cancel_booking, {}),
        (
            bookings.bulk_cancel_booking,
            {"bookings_info": [{"bookingId": "b"}], "recurring_cancellation": {"recurringGroupId": "g"}},
        ),
        (bookings.bulk_cancel_booking, {"bookings_info": [{"bookingId": "b"}] * 101}),
        (calendar.bulk_cancel_events, {"event_ids": []}),
        (calendar.list_events, {"event_ids": []}),
        (order_transactions.list_transactions_for_multiple_orders, {"order_ids": []}),
        (
            benefit_programs.redeem_benefit,
            {"pool_id": "p", "item_reference": ITEM_REF, "benefit_key": "k", "idempotency_key": ""},
        ),
    ],
)
def test_incomplete_requests_are_refused_before_sending(fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    recorder = Recorder()
    with pytest.raises(ValueError):
        fn(client_for(recorder), **kwargs)
    assert recorder.requests == []


def test_services_round_trip_through_the_sandbox() -> None:
    from bookings_app.wix.errors import WixNotFound
    from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox
    from wix_sandbox.transport import SandboxTransport

    sandbox = Sandbox()
    wix = WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
        transport=SandboxTransport(sandbox),
    )

    assert services.query_services(wix, query={"paging": {"limit": 5}})["services"] == []
    with pytest.raises(WixNotFound) as excinfo:
        services.get_service(wix, service_id="missing")
    assert excinfo.value.code == "SERVICE_NOT_FOUND"
    assert excinfo.value.request_id
