"""Every Wix operation the app uses, and how the check reaches it without side effects.

Reads are sent with a limit of 1; lookups name a made-up id (an answer or a refusal both prove
the route); writes are sent deliberately invalid — a required field missing, quantity 0, a
made-up id, the same booking twice — so that Wix must refuse them. Each carries the API-key
permission it needs (from the SDK packages' ``@permissionId``; Calendar's are not published).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bookings_app.wix import (
    WixClient,
    attendance,
    benefit_programs,
    bookings,
    calendar,
    cart,
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
from bookings_app.wix.ids import BOOKINGS_APP_ID

# An id no Wix entity has (not a GUID, so Wix may refuse its format: a 400 is as good as a 404).
PROBE_ID = "front-desk-wix-check-probe"


@dataclass
class ProbeContext:
    time_zone: str
    today: date
    appointment_service_id: str | None = None

    def local(self, days: int) -> str:
        return f"{(self.today + timedelta(days=days)).isoformat()}T00:00:00"


@dataclass(frozen=True)
class Probe:
    name: str
    area: str  # the Wix app / API family, as the API Keys page groups permissions
    permission: str
    send: Callable[[WixClient, ProbeContext], dict[str, Any]]
    # "read": must answer; "lookup" (a made-up id): an answer or a refusal both prove the route;
    # "write": sent invalid so that Wix must refuse it — an answer means it may have made something.
    kind: str = "read"


def _limit1(cursor: bool = False) -> dict[str, Any]:
    return {"cursorPaging": {"limit": 1}} if cursor else {"paging": {"limit": 1}}


_FAKE_BOOKING = {"catalogReference": {"catalogItemId": PROBE_ID, "appId": BOOKINGS_APP_ID}, "quantity": 0}

PROBES: tuple[Probe, ...] = (
    # -- reads, limit 1 --
    Probe("Query Contacts", "Contacts", "CONTACTS.VIEW", lambda w, c: contacts.query_contacts(w, query=_limit1())),
    Probe("Query Members", "Members", "MEMBERS.MEMBER_READ", lambda w, c: members.query_members(w, query=_limit1())),
    Probe(
        "Query Services",
        "Wix Bookings",
        "BOOKINGS.SERVICES_READ",
        lambda w, c: services.query_services(w, query=_limit1()),
    ),
    Probe(
        "Query Staff Members",
        "Wix Bookings",
        "BOOKINGS.STAFF_MEMBER_READ",
        lambda w, c: staff.query_staff_members(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "List Event Time Slots",
        "Wix Bookings",
        "BOOKINGS.AVAILABILITY_READ",
        lambda w, c: time_slots.list_event_time_slots(
            w, from_local_date=c.local(0), to_local_date=c.local(1), time_zone=c.time_zone, cursor_paging={"limit": 1}
        ),
    ),
    Probe(
        "List Availability Time Slots",
        "Wix Bookings",
        "BOOKINGS.AVAILABILITY_READ_TIME_SLOTS",
        lambda w, c: time_slots.list_availability_time_slots(
            w,
            service_id=c.appointment_service_id or PROBE_ID,
            from_local_date=c.local(0),
            to_local_date=c.local(1),
            time_zone=c.time_zone,
            cursor_paging={"limit": 1},
        ),
        kind="lookup",
    ),
    Probe(
        "Query Extended Bookings",
        "Wix Bookings",
        "BOOKINGS.BOOKING_READ",
        lambda w, c: extended_bookings.query_extended_bookings(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "Query Attendance",
        "Wix Bookings",
        "BOOKINGS.ATTENDANCE_READ",
        lambda w, c: attendance.query_attendance(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "Get Cart (Cart V2)",
        "Wix eCommerce",
        "ecom:v2:cart:get_cart",
        lambda w, c: cart.get_cart(w, cart_id=PROBE_ID),
        kind="lookup",
    ),
    Probe(
        "Get Order",
        "Wix eCommerce",
        "ECOM.READ_ORDERS",
        lambda w, c: orders.get_order(w, order_id=PROBE_ID),
        kind="lookup",
    ),
    Probe(
        "Search Orders",
        "Wix eCommerce",
        "ECOM.READ_ORDERS",
        lambda w, c: orders.search_orders(w, search=_limit1(cursor=True)),
    ),
    Probe(
        "List Transactions (one order)",
        "Wix eCommerce",
        "ECOM.READ_TRANSACTIONS",
        lambda w, c: order_transactions.list_transactions_for_single_order(w, order_id=PROBE_ID),
        kind="lookup",
    ),
    Probe(
        "List Transactions (several orders)",
        "Wix eCommerce",
        "ECOM.READ_TRANSACTIONS",
        lambda w, c: order_transactions.list_transactions_for_multiple_orders(w, order_ids=[PROBE_ID]),
        kind="lookup",
    ),
    Probe(
        "List Pricing Plan Orders",
        "Wix Pricing Plans",
        "PRICING_PLANS.READ_ORDERS",
        lambda w, c: pricing_plans.list_plan_orders(w, limit=1),
    ),
    Probe(
        "Get Pricing Plan Order",
        "Wix Pricing Plans",
        "PRICING_PLANS.READ_ORDERS",
        lambda w, c: pricing_plans.get_plan_order(w, order_id=PROBE_ID),
        kind="lookup",
    ),
    Probe(
        "Query Pricing Plans (V3)",
        "Wix Pricing Plans",
        "PRICING_PLANS.PLAN_READ",
        lambda w, c: pricing_plans.query_plans(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "Query Benefit Pools",
        "Benefit Programs",
        "BENEFIT_PROGRAMS.POOL_READ",
        lambda w, c: benefit_programs.query_pools(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "Eligible Benefit Pools",
        "Benefit Programs",
        "BENEFIT_PROGRAMS.POOL_READ",
        lambda w, c: benefit_programs.get_eligible_benefits(
            w,
            item_reference={"externalId": PROBE_ID, "providerAppId": BOOKINGS_APP_ID},
            beneficiary={"memberId": PROBE_ID},
        ),
        kind="lookup",
    ),
    Probe(
        "Get Balance",
        "Benefit Programs",
        "BENEFIT_PROGRAMS.BALANCE_READ",
        lambda w, c: benefit_programs.get_balance(w, pool_id=PROBE_ID),
        kind="lookup",
    ),
    Probe(
        "Query Balances",
        "Benefit Programs",
        "BENEFIT_PROGRAMS.BALANCE_READ",
        lambda w, c: benefit_programs.query_balances(w, query=_limit1(cursor=True)),
    ),
    Probe(
        "Query Calendar Events",
        "Calendar",
        "CALENDAR.EVENT_READ (name unconfirmed)",
        lambda w, c: calendar.query_events(
            w, query=_limit1(cursor=True), from_local_date=c.local(0), to_local_date=c.local(1), time_zone=c.time_zone
        ),
    ),
    # -- writes Wix must refuse --
    Probe(
        "Create Contact",
        "Contacts",
        "CONTACTS.MODIFY",
        lambda w, c: contacts.create_contact(w, info={}),  # no name, phone or email
        kind="write",
    ),
    Probe(
        "Create Booking",
        "Wix Bookings",
        "BOOKINGS.BOOKING_CREATE",
        lambda w, c: bookings.create_booking(w, booking={"totalParticipants": 1}),  # no bookedEntity
        kind="write",
    ),
    Probe(
        "Bulk Create Booking",
        "Wix Bookings",
        "BOOKINGS.BOOKING_CREATE",
        lambda w, c: bookings.bulk_create_booking(w, create_bookings_info=[{"booking": {"totalParticipants": 1}}]),
        kind="write",
    ),
    Probe(
        "Confirm Or Decline Booking",
        "Wix Bookings",
        "BOOKINGS.BOOKING_CONFIRM_OR_DECLINE",
        lambda w, c: bookings.confirm_or_decline_booking(w, booking_id=PROBE_ID),
        kind="write",
    ),
    Probe(
        "Bulk Confirm Or Decline Booking",
        "Wix Bookings",
        "BOOKINGS.BOOKING_CONFIRM_OR_DECLINE",
        lambda w, c: bookings.bulk_confirm_or_decline_booking(  # the same booking twice: DUPLICATED_BOOKINGS
            w, details=[{"bookingId": PROBE_ID}, {"bookingId": PROBE_ID}]
        ),
        kind="write",
    ),
    Probe(
        "Cancel Booking",
        "Wix Bookings",
        "BOOKINGS.BOOKING_CANCEL",
        lambda w, c: bookings.cancel_booking(w, booking_id=PROBE_ID, revision=""),  # no revision
        kind="write",
    ),
    Probe(
        "Set Attendance",
        "Wix Bookings",
        "BOOKINGS.ATTENDANCE_SET",
        lambda w, c: attendance.set_attendance(w, attendance={"bookingId": PROBE_ID}),  # no status
        kind="write",
    ),
    Probe(
        "Bulk Set Attendance",
        "Wix Bookings",
        "BOOKINGS.ATTENDANCE_SET",
        lambda w, c: attendance.bulk_set_attendance(w, attendance_details=[{"attendance": {"bookingId": PROBE_ID}}]),
        kind="write",
    ),
    Probe(
        "Create Cart (Cart V2)",
        "Wix eCommerce",
        "ecom:v2:cart:create_cart",
        lambda w, c: cart.create_cart(w, channel_type="BACKOFFICE_MERCHANT", catalog_items=[dict(_FAKE_BOOKING)]),
        kind="write",
    ),
    Probe(
        "Place Order (Cart V2)",
        "Wix eCommerce",
        "ecom:v2:cart:place_order",
        lambda w, c: cart.place_order(w, cart_id=PROBE_ID),
        kind="write",
    ),
    Probe(
        "Add Payments",
        "Wix eCommerce",
        "ECOM.MODIFY_TRANSACTIONS",
        lambda w, c: order_transactions.add_payments(w, order_id=PROBE_ID, payments=[{}]),
        kind="write",
    ),
    Probe(
        "Charge Memberships",
        "Wix eCommerce",
        "ECOM.ORDER_BILLING_CHARGE_MEMBERSHIPS",
        lambda w, c: orders.charge_memberships(w, order_id=PROBE_ID, member_id=PROBE_ID, memberships=[{}]),
        kind="write",
    ),
    Probe(
        "Refund Payments",
        "Wix eCommerce",
        "ECOM.ORDER_BILLING_REFUND_PAYMENTS",
        lambda w, c: orders.refund_payments(w, order_id=PROBE_ID, payment_refunds=[{}]),  # no paymentId
        kind="write",
    ),
    Probe(
        "Create Offline Plan Order",
        "Wix Pricing Plans",
        "PRICING_PLANS.REGISTER_OFFLINE_ORDERS",
        # A made-up plan and member (not GUIDs): refused, nothing sold.
        lambda w, c: pricing_plans.create_offline_plan_order(w, plan_id=PROBE_ID, member_id=PROBE_ID, paid=False),
        kind="write",
    ),
    Probe(
        "Mark Plan Order As Paid",
        "Wix Pricing Plans",
        "PRICING_PLANS.MANAGE_ORDERS",
        lambda w, c: pricing_plans.mark_plan_order_as_paid(w, order_id=PROBE_ID),
        kind="write",
    ),
    Probe(
        "Redeem Benefit",
        "Benefit Programs",
        "BENEFIT_PROGRAMS.POOL_REDEEM",
        lambda w, c: benefit_programs.redeem_benefit(
            w, pool_id=PROBE_ID, item_reference={}, benefit_key="", idempotency_key=f"{PROBE_ID}-redeem"
        ),
        kind="write",
    ),
    Probe(
        "Bulk Create Calendar Events",
        "Calendar",
        "CALENDAR.EVENT_CREATE (name unconfirmed)",
        lambda w, c: calendar.bulk_create_events(w, events=[{}]),  # no schedule, no times
        kind="write",
    ),
)
