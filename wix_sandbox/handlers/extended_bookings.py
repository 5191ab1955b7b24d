"""Bookings Reader V2 — Query / Count Extended Bookings (CONTRACT.md §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wix_sandbox.app import Sandbox, SandboxRequest
from wix_sandbox.common import dec, money_str, now_iso
from wix_sandbox.errors import ValidationFailed, violation
from wix_sandbox.query import match_filter, require_filterable, require_sortable, run_query
from wix_sandbox.routing import route
from wix_sandbox.rules.booking_orders import orders_by_booking

Json = dict[str, Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
DEFAULT_SORT = [{"fieldName": "createdDate", "order": "DESC"}]
LIVE_STATUSES = ("CREATED", "CONFIRMED", "PENDING", "WAITING_LIST")


# The filterable fields and their operators, as Wix's "Supported Filters" page lists them for
# Query and Count Extended Bookings (the SDK typings point there: ExtendedBookingQuerySpec names
# none; https://dev.wix.com/docs/rest/business-solutions/bookings/bookings/bookings-reader-v2/supported-filters).
# Note ``bookedEntity.item.slot…``: the booked slot or schedule as the proto's ``item`` one-of,
# where the booking's JSON says ``bookedEntity.slot…``.
_EQ = ("$eq", "$ne", "$in")
_RANGE = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin")
_SOME = ("$hasSome", "$hasAll")
FILTERS: dict[str, tuple[str, ...]] = {
    "id": _EQ,
    **{
        f"bookedEntity.item.slot.{name}": _EQ
        for name in (
            "sessionId",
            "eventId",
            "serviceId",
            "scheduleId",
            "resource.id",
            "location.id",
            "location.locationType",
        )
    },
    **{
        f"bookedEntity.item.schedule.{name}": _EQ
        for name in ("scheduleId", "serviceId", "location.id", "location.locationType")
    },
    "bookedEntity.tags": _SOME,
    "contactDetails.contactId": _EQ,
    "contactDetails.email": _EQ,
    "status": _EQ,
    "paymentStatus": _EQ,
    "selectedPaymentOption": _EQ,
    "createdDate": _RANGE,
    "externalUserId": _EQ,
    "createdBy.contactId": _EQ,
    "createdBy.id.appId": _EQ,
    "createdBy.id.wixUserId": _EQ,
    "createdBy.id.memberId": _EQ,
    "createdBy.id.anonymousVisitorId": _EQ,
    "startDate": _RANGE,
    "endDate": _RANGE,
    "updatedDate": _RANGE,
    "doubleBooked": ("$eq", "$ne"),
    "participantsInfo.type.totalParticipants.value": _RANGE,
    "participantsInfo.type.participantsChoices.serviceChoices.choices.optionId": _SOME,
    "participantsInfo.type.participantsChoices.serviceChoices.choices.choice.custom.value": _SOME,
}
API = "Query Extended Bookings"


def _check(flt: Json | None, *, sort: Any = None) -> None:
    """The documented filter fields and operators only, each field once per query ("You can
    specify a filter only once per query": Wix then applies only the first; the sandbox refuses
    it, UNCONFIRMED). "All fields listed are sortable" (the doc's sorting table): other sort
    fields are refused too (UNCONFIRMED)."""
    require_filterable(flt, FILTERS, API, once=True)
    require_sortable(sort, FILTERS, API)


def _view(booking: Json) -> Json:
    """The booking as the documented filter paths see it (filters run on this; the booking is returned)."""
    entity = booking.get("bookedEntity") or {}
    item = {k: entity[k] for k in ("slot", "schedule") if k in entity}
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    picked = [c for sc in choices for c in sc.get("choices") or []]
    created_by = booking.get("createdBy") or {}
    identity = {k: created_by[k] for k in ("appId", "wixUserId", "memberId", "anonymousVisitorId") if k in created_by}
    participants: Json = {}
    if booking.get("totalParticipants") is not None:
        participants["totalParticipants"] = {"value": booking["totalParticipants"]}
    if choices:
        participants["participantsChoices"] = {
            "serviceChoices": {
                "choices": {
                    "optionId": [c.get("optionId") for c in picked if c.get("optionId")],
                    "choice": {"custom": {"value": [c["custom"] for c in picked if c.get("custom") is not None]}},
                }
            }
        }
    return {
        **booking,
        "bookedEntity": {**entity, "item": item},
        "createdBy": {**created_by, "id": identity},
        "participantsInfo": {"type": participants},
    }


def _attendance_of(sb: Sandbox, booking_id: str) -> Json | None:
    found = sb.state.lookup("attendances", "booking", lambda a: [a["bookingId"]], booking_id)
    return found[-1] if found else None


def _order_summary(sb: Sandbox, order: Json, booking_id: str) -> Json:
    """The reader's ``Order`` summary (SDK ExtendedBooking.order), not the full eCommerce order."""
    line = next(
        (
            li
            for li in order.get("lineItems") or []
            if (li.get("catalogReference") or {}).get("catalogItemId") == booking_id
        ),
        None,
    )
    balance = (order.get("balanceSummary") or {}).get("balance") or {}
    total = (order.get("priceSummary") or {}).get("total") or {}
    summary: Json = {
        "id": order["id"],
        "number": order.get("number"),
        "status": order.get("status"),
        "paymentStatus": order.get("paymentStatus"),
        "totalPrice": {"amount": total.get("amount", "0"), "formattedAmount": total.get("formattedAmount", "")},
        "balance": {"amount": balance.get("amount", "0"), "formattedAmount": balance.get("formattedAmount", "")},
        "currency": order.get("currency"),
    }
    if line is not None:
        line_total = line.get("totalPriceAfterTax") or line.get("price") or {}
        summary["bookingPrice"] = {
            "amount": line_total.get("amount", "0"),
            "formattedAmount": line_total.get("formattedAmount", ""),
        }
        summary["bookingPriceDescription"] = {"original": (line.get("productName") or {}).get("original", "")}
    return summary


def _transactions(sb: Sandbox, order: Json, booking_id: str) -> Json:
    """``withEcomTransactions``: the plan charged for this booking (name, credits) and refunds."""
    record = sb.state.get("order_transactions", order["id"]) or {"payments": [], "refunds": []}
    line_ids = {
        li["id"]
        for li in order.get("lineItems") or []
        if (li.get("catalogReference") or {}).get("catalogItemId") == booking_id
    }
    result: Json = {
        "refundSumAmounts": money_str(
            sum((dec((r.get("amount") or {}).get("amount")) for r in record.get("refunds") or []), Decimal(0))
        )
    }
    for payment in record.get("payments") or []:
        details = payment.get("membershipPaymentDetails")
        if details and details.get("lineItemId") in line_ids and payment.get("status") == "APPROVED":
            charged: Json = {"name": details.get("name") or {"original": ""}}
            pool = sb.state.get("balances", details.get("membershipId") or "")
            if pool is not None:
                info = pool.get("poolInfo") or {}
                if info.get("creditAmount") is not None:
                    charged["credits"] = {
                        "total": int(dec(info.get("creditAmount"))),
                        "remaining": int(dec((pool.get("amount") or {}).get("available"))),
                    }
            result["chargedMembershipPaymentDetails"] = charged
    return result


def _allowed_actions(booking: Json, now: str) -> Json:
    # UNCONFIRMED: for the business (API key) no booking policy applies; a live booking can be
    # canceled, and rescheduled while its session is still ahead (courses can't be rescheduled).
    live = booking.get("status") in LIVE_STATUSES
    slot = (booking.get("bookedEntity") or {}).get("slot")
    upcoming = bool(booking.get("startDate")) and booking["startDate"] > now
    return {"cancel": live, "reschedule": live and bool(slot) and upcoming}


@route("POST /_api/bookings-reader/v2/extended-bookings/query")
def query_extended_bookings(sb: Sandbox, req: SandboxRequest) -> Json:
    body = req.body
    if not isinstance(body.get("query"), dict):
        raise ValidationFailed([violation("query", "query is required", "REQUIRED_FIELD")])
    query = dict(body["query"])
    _check(query.get("filter"), sort=query.get("sort"))
    if not query.get("paging") and not query.get("cursorPaging"):
        query["cursorPaging"] = {"limit": DEFAULT_LIMIT}
    bookings = {b["id"]: b for b in sb.state.all("bookings")}
    views, meta = run_query(
        [_view(b) for b in bookings.values()],
        query,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
        default_sort=DEFAULT_SORT,
    )
    page = [bookings[v["id"]] for v in views]
    want_orders = body.get("withEcomOrder") or body.get("withEcomTransactions")
    orders = orders_by_booking(sb, [b["id"] for b in page]) if want_orders else {}
    now = now_iso(sb)
    extended: list[Json] = []
    for booking in page:
        item: Json = {"booking": booking}
        attendance = _attendance_of(sb, booking["id"]) if body.get("withBookingAttendanceInfo") else None
        if attendance is not None:
            item["attendance"] = {
                "id": attendance["id"],
                "status": attendance["status"],
                "numberOfAttendees": attendance.get("numberOfAttendees", 1),
            }
        order = orders.get(booking["id"])
        if order is not None and body.get("withEcomOrder"):
            item["order"] = _order_summary(sb, order, booking["id"])
        if order is not None and body.get("withEcomTransactions"):
            item["transactions"] = _transactions(sb, order, booking["id"])
        if body.get("withBookingAllowedActions"):
            item["allowedActions"] = _allowed_actions(booking, now)
        extended.append(item)
    return {"extendedBookings": extended, "pagingMetadata": meta}


@route("POST /_api/bookings-reader/v2/extended-bookings/count")
def count_extended_bookings(sb: Sandbox, req: SandboxRequest) -> Json:
    flt = req.body.get("filter")
    _check(flt)
    return {"count": sum(1 for b in sb.state.all("bookings") if match_filter(_view(b), flt))}
