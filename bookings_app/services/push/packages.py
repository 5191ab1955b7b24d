"""Phase: ``PACKAGE`` and ``PACKAGE_CANCEL`` — a multi-service package taken to Wix, or cancelled.

A package (``models.Package``, booked by ``services.desk.packages``) goes in these steps, each
result saved on the action before the next call, so a crash or a retry resumes where it stopped:

1. **availability** — List Multi-Service Availability Time Slots for the package's exact services,
   staff and times ("Verify availability first", the Create Multi-Service Booking reference);
   gone → needs attention, nothing created;
2. **Create Multi-Service Booking** — every booking at once (SEQUENTIAL_BOOKINGS, one location,
   back to back, CONFIRMED like a walk-in, paid OFFLINE or by MEMBERSHIP). ``create_sent_at`` is
   saved first; a lost answer is looked for in Wix (Query Extended Bookings of the customer since
   then: bookings of one multi-service booking with the package's services and times) and adopted
   rather than sent again;
3. **money**, ecom mode: one cart with every booking as a line (the multi-service id is not a
   catalog item) → Place Order → Get Order (the line ids, and the order into the mirror) → one
   Add Payments for the total (cash, card, cheque), or Charge Memberships naming every line (a
   plan; its payments settle asynchronously, read back with List Transactions For Single Order),
   or nothing more (pay later: the order shows what is owed). The cart and order steps are
   ``order_place.order_place_for``'s, with their own lost-answer recovery; Add Payments and Charge
   Memberships save a "sent" marker first and look in the order before sending again.
   Booking-only mode: Bulk Confirm Or Decline with every booking's payment status (one call).

A cancelled package stops at the next step (the ``PACKAGE_CANCEL`` action takes over). Cancel
Multi-Service Booking is sent once: after a lost answer the multi-service booking is read (Get
Multi-Service Booking) and ALL_BOOKINGS_ARE_ALREADY_CANCELED means the first one worked.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Booking, Contact, DeskAction, Order, OrderLineItem, Package, PackageItem
from bookings_app.services import mirror, package_slots
from bookings_app.services.mirror.values import Json, decimal_or_zero
from bookings_app.services.push.messages import is_business, message
from bookings_app.services.push.money_ecom import REFUSED, SETTLED, membership_id, offline_payment_add
from bookings_app.services.push.order_place import order_place_for
from bookings_app.services.push.walk_ins import booking_location_type
from bookings_app.services.push.worker import Attention, Later, Push, booking_absorb
from bookings_app.wix import WixError, WixUnavailable, bookings, extended_bookings, order_transactions, orders
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse
from bookings_app.wix.ids import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID

Kind = DeskAction.Kind
Status = DeskAction.Status
Pay = Package.Pay

RECONCILE_SLACK = timedelta(minutes=5)  # Wix's createdDate of a booking we lost the answer of, less clock skew
LOOKUP_PAGES = 5  # of 100 bookings of the customer, since the create was sent
DONE_STATUSES = ("CANCELED", "DECLINED")

MESSAGES = {
    "SLOT_NOT_AVAILABLE": "One of the package's times was taken in Wix meanwhile — cancel the package and book "
    "another start time.",
    "RESOURCE_NOT_FOUND": "A staff member of the package is no longer bookable in Wix — cancel the package and "
    "book it again.",
    "SCHEDULE_NOT_FOUND": "One of the package's services no longer exists in Wix — cancel the package.",
    "NOT_ENOUGH_BALANCE": "Not enough credits left on {plan} for the package — cancel it, or retry once they have "
    "credit.",
    "MEMBERSHIP_NOT_ELIGIBLE": "Wix says {plan} can't pay for this package — cancel it, or retry after checking "
    "the plan in Wix.",
}


def push_packages(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:
        if action.kind == Kind.PACKAGE_CANCEL:
            push.guarded(action, lambda action=action: _cancel(push, action))
        else:
            push.guarded(action, lambda action=action: _book(push, action))


def _refused(code: str, action: DeskAction, err: WixError | None = None) -> Attention:
    template = MESSAGES.get(code)
    if template:
        return Attention(code, template.format(plan=action.params.get("plan_name") or "the plan"))
    return Attention(code, message(code, action, err))


def _items(package: Package) -> list[PackageItem]:
    return list(package.items.select_related("booking", "booking__session", "service").order_by("position"))


def _done(push: Push, action: DeskAction, items: list[PackageItem], **steps: Any) -> None:
    """Synced: the package's bookings stop "waiting for Wix" (unless something else of theirs is)."""
    push.synced(action, **steps)
    DeskAction.refresh_pending_all({item.booking_id for item in items})


# --- PACKAGE ---------------------------------------------------------------------------------------


def _book(push: Push, action: DeskAction) -> None:
    package = Package.objects.select_related("contact", "balance__member").filter(action=action).first()
    if package is None:
        raise Attention("package_missing", "This package's bookings are missing — book it again.")
    items = _items(package)
    if not package.wix_id:
        if _stopped(action, package):
            return
        _create(push, action, package, items)
    if _stopped(action, package):
        return
    mode = action.steps.get("mode") or push.mode
    if action.steps.get("mode") != mode:
        push.save_steps(action, mode=mode)
    if mode == "ecom":
        _pay_ecom(push, action, package, items)
    else:
        _pay_booking_only(push, action, package, items)


def _stopped(action: DeskAction, package: Package) -> bool:
    """Cancelled at the desk while the worker had it: stop here (``PACKAGE_CANCEL`` goes on)."""
    package.refresh_from_db(fields=["cancelled_at", "wix_id"])
    if not package.is_cancelled:
        return False
    was, action.status = action.status, Status.REMOVED
    action.message = "The package was cancelled."
    action.next_attempt_at = None
    action.save(update_fields=["steps", "status", "message", "next_attempt_at", "updated_at"])
    action.log_change(was=was, reason="the package was cancelled")
    return True


def _local(package: Package, moment: Any) -> str:
    return moment.astimezone(ZoneInfo(package.timezone)).strftime("%Y-%m-%dT%H:%M:%S")


def _booking_request(package: Package, item: PackageItem, contact: Contact) -> Json:
    # Create Multi-Service Booking, bookings[] (bookings_bookings Booking; @requiredField
    # bookedEntity.slot.{scheduleId, startDate, endDate, location.locationType}): one appointment
    # slot each, the same location, back to back; CONFIRMED as a walk-in is, paid in person or by plan.
    location: Json = {"locationType": booking_location_type(package.location_type)}
    if package.location_id:
        location["id"] = package.location_id
    if package.location_name:
        location["name"] = package.location_name
    slot: Json = {
        "serviceId": item.service.wix_id,
        "scheduleId": item.schedule_id or item.service.schedule_id,
        "startDate": _local(package, item.start),
        "endDate": _local(package, item.end),
        "timezone": package.timezone,
        "location": location,
    }
    if item.resource_id:
        slot["resource"] = {"id": item.resource_id}
    details = {
        "contactId": contact.wix_id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
    }
    return {
        "bookedEntity": {"slot": slot},
        "contactDetails": {k: v for k, v in details.items() if v},
        "totalParticipants": 1,
        "status": "CONFIRMED",
        "selectedPaymentOption": "MEMBERSHIP" if package.pay == Pay.PLAN else "OFFLINE",
    }


def _create(push: Push, action: DeskAction, package: Package, items: list[PackageItem]) -> None:
    contact = package.contact
    if not contact.wix_id:
        raise Attention("contact_not_in_wix", f"{contact} is not in Wix yet — retry in a moment.")
    if action.steps.get("create_sent_at"):
        found = _reconcile(push, action, package, items)
        if found is not None:
            _adopt(push, action, package, items, found)
            return
    chain = action.params.get("chain") or {}
    if not package_slots.chain_offered(push.call(package_slots.chain_slots, chain=chain), chain):
        raise _refused("SLOT_NOT_AVAILABLE", action)
    push.save_steps(action, create_sent_at=wix_timestamp(timezone.now()))
    try:
        answer = push.call(
            bookings.create_multi_service_booking,
            bookings=[_booking_request(package, item, contact) for item in items],
            participant_notification={"notifyParticipants": False},
            return_full_entity=True,
            multi_service_booking_type="SEQUENTIAL_BOOKINGS",
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, create_sent_at=None)
        raise
    except WixError as err:
        if is_business(err):
            push.save_steps(action, create_sent_at=None)  # refused: nothing was created
            raise _refused(err.code, action, err) from err
        raise
    _adopt(push, action, package, items, answer.get("multiServiceBooking") or {})


def _slot_key(found: Json) -> tuple[str, str]:
    slot = (found.get("bookedEntity") or {}).get("slot") or {}
    return str(slot.get("serviceId") or ""), str(slot.get("startDate") or "")[:16]


def _adopt(push: Push, action: DeskAction, package: Package, items: list[PackageItem], msb: Json) -> None:
    """The multi-service booking Wix made: each desk booking takes its Wix booking's id."""
    entries = msb.get("bookings") or []
    if not msb.get("id") or len(entries) != len(items):
        raise Later("Create Multi-Service Booking answered without the package's bookings")
    if any(not e.get("booking") for e in entries):
        msb = push.call(bookings.get_multi_service_booking, multi_service_booking_id=msb["id"])["multiServiceBooking"]
        entries = msb.get("bookings") or []
    by_slot = {_slot_key(e["booking"]): e["booking"] for e in entries if e.get("booking")}
    pairs = []
    for index, item in enumerate(items):
        wanted = (item.service.wix_id or "", _local(package, item.start)[:16])
        pairs.append((item, by_slot.get(wanted) or entries[index].get("booking") or {}))
    with transaction.atomic():
        for item, found in pairs:
            mirror.bookings.booking_adopt(booking=item.booking, found=found)
        package.wix_id = msb["id"]
        package.save(update_fields=["wix_id"])
        push.save_steps(action, create_sent_at=None, msb_id=msb["id"], booking_ids=[found["id"] for _, found in pairs])


def _reconcile(push: Push, action: DeskAction, package: Package, items: list[PackageItem]) -> Json | None:
    """The multi-service booking an unanswered create made, if Wix has one: the customer's bookings
    since it was sent (Query Extended Bookings by ``contactDetails.contactId``, newest first),
    grouped by ``multiServiceBookingInfo.id``, whose services and start times are the package's —
    and not another package's already."""
    sent = wix_timestamp_parse(action.steps.get("create_sent_at")) or timezone.now()
    cutoff = sent - RECONCILE_SLACK
    query: Json = {
        "filter": {"contactDetails.contactId": package.contact.wix_id},
        "sort": [{"fieldName": "createdDate", "order": "DESC"}],
        "cursorPaging": {"limit": 100},
    }
    groups: dict[str, list[Json]] = defaultdict(list)
    for _ in range(LOOKUP_PAGES):
        answer = push.call(extended_bookings.query_extended_bookings, query=query)
        page = [entry["booking"] for entry in answer.get("extendedBookings") or []]
        old = False
        for found in page:
            created = wix_timestamp_parse(found.get("createdDate"))
            if created is not None and created < cutoff:
                old = True
                break
            msb_id = (found.get("multiServiceBookingInfo") or {}).get("id")
            if msb_id:
                groups[msb_id].append(found)
        cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
        if old or not cursor or not page:
            break
        query = {"cursorPaging": {"limit": 100, "cursor": cursor}}
    used = set(Package.objects.filter(wix_id__in=list(groups)).values_list("wix_id", flat=True))
    wanted = sorted((item.service.wix_id or "", _local(package, item.start)[:16]) for item in items)
    for msb_id, found in groups.items():
        if msb_id not in used and sorted(_slot_key(b) for b in found) == wanted:
            ordered = sorted(found, key=lambda b: _slot_key(b)[1])
            return {"id": msb_id, "bookings": [{"bookingId": b["id"], "booking": b} for b in ordered]}
    return None


# --- money ------------------------------------------------------------------------------------------


def _pay_ecom(push: Push, action: DeskAction, package: Package, items: list[PackageItem]) -> None:
    if package.pay == Pay.NONE:
        _done(push, action, items)
        return
    order_id = action.steps.get("order_id") or order_place_for(
        push, action, booking_ids=[item.booking.wix_id or "" for item in items], contact=package.contact
    )
    lines = action.steps.get("lines") or _order_read(push, action, package, items, order_id)
    if package.pay == Pay.LATER:
        _done(push, action, items)
    elif package.pay == Pay.PLAN:
        _charge_plan(push, action, items, order_id, lines)
    else:
        _add_payment(push, action, package, items, order_id)


def _order_read(
    push: Push, action: DeskAction, package: Package, items: list[PackageItem], order_id: str
) -> dict[str, str]:
    """Get Order: the line of each booking (what Charge Memberships names), and the order with its
    lines into the mirror — so a payment taken later for one of its bookings finds the order."""
    found = push.call(orders.get_order, order_id=order_id)["order"]
    by_wix_id = {item.booking.wix_id: item.booking for item in items}
    lines: dict[str, str] = {}
    with transaction.atomic():
        mirror.orders.order_absorb(found)
        order = Order.objects.get(wix_id=order_id)
        if order.contact_id is None or order.wix_created_at is None:
            order.contact_id = order.contact_id or package.contact_id
            order.wix_created_at = (
                order.wix_created_at or wix_timestamp_parse(found.get("createdDate")) or timezone.now()
            )
            order.save(update_fields=["contact", "wix_created_at"])
        OrderLineItem.objects.filter(order=order).delete()
        rows = []
        for line in found.get("lineItems") or []:
            ref = line.get("catalogReference") or {}
            booking: Booking | None = None
            if (ref.get("appId") or BOOKINGS_APP_ID) == BOOKINGS_APP_ID:
                booking = by_wix_id.get(ref.get("catalogItemId"))
            if booking is not None and line.get("id"):
                lines[booking.wix_id or ""] = line["id"]
            rows.append(
                OrderLineItem(
                    order=order,
                    line_item_id=str(line.get("id") or "")[:250],
                    catalog_item_id=str(ref.get("catalogItemId") or "")[:250],
                    booking=booking,
                    name=str((line.get("productName") or {}).get("original") or "")[:400],
                    quantity=int(line.get("quantity") or 1),
                    price=decimal_or_zero((line.get("price") or {}).get("amount")),
                    payment_option=str(line.get("paymentOption") or "")[:48],
                )
            )
        OrderLineItem.objects.bulk_create(rows)
    if len(lines) != len(items):
        raise Attention(
            "line_missing", "Not every booking of the package is on its Wix order — check the order in Wix."
        )
    push.save_steps(action, lines=lines)
    return lines


def _add_payment(push: Push, action: DeskAction, package: Package, items: list[PackageItem], order_id: str) -> None:
    """One APPROVED offline payment of the package's total (Add Payments, public)."""
    amount = package.total
    if action.steps.get("add_sent"):
        # Our Add Payments may have landed without its answer: the order's paid amount tells.
        found = push.call(orders.get_order, order_id=order_id)["order"]
        paid = decimal_or_zero(((found.get("balanceSummary") or {}).get("paid") or {}).get("amount"))
        if paid >= decimal_or_zero(action.steps.get("paid_before")) + amount:
            mirror.orders.order_absorb(found)
            _done(push, action, items)
            return
    order = Order.objects.filter(wix_id=order_id).first()
    ids = offline_payment_add(push, action, order=order, order_id=order_id, amount=amount, method=package.pay)
    if order is not None:
        mirror.payments.offline_payments_record(order=order, payment_ids=ids, amount=amount, method=package.pay)
    _done(push, action, items, payment_ids=ids)


def _charge_plan(
    push: Push, action: DeskAction, items: list[PackageItem], order_id: str, lines: dict[str, str]
) -> None:
    """Charge Memberships naming every line (one call), then its payments' status."""
    line_ids = [lines[item.booking.wix_id or ""] for item in items]
    if not action.steps.get("charge_payment_ids"):
        if action.steps.get("charge_sent"):
            mine = [p for p in _plan_payments(push, order_id, line_ids) if p.get("status") not in REFUSED]
            if mine:
                push.save_steps(action, charge_payment_ids=[p["id"] for p in mine])
        if not action.steps.get("charge_payment_ids"):
            push.save_steps(action, charge_sent=True)
            identifier = {"existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": membership_id(action)}}
            try:
                answer = push.call(
                    orders.charge_memberships,
                    order_id=order_id,
                    member_id=action.params.get("member_id") or "",
                    memberships=[{"lineItemId": line_id, "membershipIdentifier": identifier} for line_id in line_ids],
                )
            except WixUnavailable as err:
                if not err.maybe_applied:
                    push.save_steps(action, charge_sent=False)
                raise
            except WixError as err:
                if err.code == "MEMBERSHIP_NOT_ELIGIBLE":
                    push.save_steps(action, charge_sent=False)
                    code = "NOT_ENOUGH_BALANCE" if (err.data or {}).get("reason") == "INSUFFICIENT_FUNDS" else err.code
                    raise _refused(code, action, err) from err
                raise
            push.save_steps(action, charge_payment_ids=[p["id"] for p in answer.get("payments") or [] if p.get("id")])
    wanted = set(action.steps.get("charge_payment_ids") or [])
    mine = [p for p in _plan_payments(push, order_id, line_ids) if p.get("id") in wanted]
    statuses = {str(p.get("status") or "") for p in mine}
    if mine and statuses <= {SETTLED}:
        mirror.payments.membership_payments_record(order_id=order_id, payments=mine)
        _done(push, action, items)
    elif statuses & REFUSED:
        # Declined by the plan (no credit left, ended …): staff decide; a retry charges afresh.
        push.save_steps(action, charge_payment_ids=None, charge_sent=False)
        raise _refused("NOT_ENOUGH_BALANCE", action)
    else:
        raise Later("Wix is still processing the package's plan charge")


def _plan_payments(push: Push, order_id: str, line_ids: list[str]) -> list[Json]:
    record = push.call(order_transactions.list_transactions_for_single_order, order_id=order_id)
    return [
        p
        for p in (record.get("orderTransactions") or {}).get("payments") or []
        if (p.get("membershipPaymentDetails") or {}).get("lineItemId") in line_ids
    ]


def _pay_booking_only(push: Push, action: DeskAction, package: Package, items: list[PackageItem]) -> None:
    """No order: every booking's payment status in one Bulk Confirm Or Decline (repeating it is harmless)."""
    if package.pay == Pay.NONE:
        _done(push, action, items)
        return
    if package.pay == Pay.PLAN:
        raise Attention("plan_not_eligible", "A package is paid with a plan only in the eCommerce payment mode.")
    status = "NOT_PAID" if package.pay == Pay.LATER else "PAID"
    answer = push.call(
        bookings.bulk_confirm_or_decline_booking,
        details=[{"bookingId": item.booking.wix_id, "paymentStatus": status} for item in items],
        return_entity=True,
    )
    results = answer.get("results") or []
    for index, item in enumerate(items):
        result = next(
            (r for i, r in enumerate(results) if (r.get("itemMetadata") or {}).get("originalIndex", i) == index), None
        )
        meta = (result or {}).get("itemMetadata") or {}
        if result is None or not meta.get("success"):
            error = meta.get("error") or {}
            code = str(error.get("code") or "REJECTED")
            raise Attention(code, message(code, action, None, error.get("description")))
        if result.get("item"):
            booking_absorb(item.booking, result["item"])
    _done(push, action, items, confirmed_payment_status=status)


# --- PACKAGE_CANCEL ---------------------------------------------------------------------------------


def _cancel(push: Push, action: DeskAction) -> None:
    package = Package.objects.select_related("contact", "action").filter(pk=action.params.get("package")).first()
    if package is None:
        raise Attention("package_missing", "This package no longer exists here — remove this.")
    items = _items(package)
    booked = package.action
    if booked is not None:
        booked.refresh_from_db()
        if booked.status == Status.RUNNING:
            raise Later("The package itself is being sent to Wix right now")
    if not package.wix_id and booked is not None and booked.steps.get("create_sent_at"):
        found = _reconcile(push, booked, package, items)
        if found is not None:
            _adopt(push, booked, package, items, found)
    if not package.wix_id:
        _done(push, action, items, nothing_sent=True)  # Wix never had it
        return
    if action.steps.get("cancel_sent") and _all_cancelled(push, package, items):
        _done(push, action, items)
        return
    push.save_steps(action, cancel_sent=True)
    try:
        answer = push.call(
            bookings.cancel_multi_service_booking,
            multi_service_booking_id=package.wix_id,
            participant_notification={"notifyParticipants": False},
            return_full_entity=True,
        )
    except WixUnavailable as err:
        if not err.maybe_applied:
            push.save_steps(action, cancel_sent=False)
        raise
    except WixError as err:
        if err.code == "ALL_BOOKINGS_ARE_ALREADY_CANCELED" and _all_cancelled(push, package, items):
            _done(push, action, items)
            return
        if err.code == "MULTI_SERVICE_BOOKING_NOT_FOUND":
            _done(push, action, items, note="Wix no longer has this package")
            return
        raise
    _absorb(items, (answer.get("multiServiceBooking") or {}).get("bookings") or [])
    _done(push, action, items)


def _all_cancelled(push: Push, package: Package, items: list[PackageItem]) -> bool:
    """Get Multi-Service Booking: whether every booking of it is cancelled (or declined) in Wix."""
    msb = push.call(bookings.get_multi_service_booking, multi_service_booking_id=package.wix_id or "")
    entries = (msb.get("multiServiceBooking") or {}).get("bookings") or []
    _absorb(items, entries)
    return bool(entries) and all((e.get("booking") or {}).get("status") in DONE_STATUSES for e in entries)


def _absorb(items: list[PackageItem], entries: list[Json]) -> None:
    by_id = {item.booking.wix_id: item.booking for item in items}
    for entry in entries:
        found = entry.get("booking") or {}
        booking = by_id.get(found.get("id"))
        if booking is not None:
            booking_absorb(booking, found)
