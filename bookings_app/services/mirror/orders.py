"""eCommerce orders: Wix JSON -> ``Order`` rows with their line items (and, through
``mirror.payments``, their payments); the reader's order summaries; the order the desk just made."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Booking, Contact, Order, OrderLineItem
from bookings_app.services.mirror.payments import payments_write
from bookings_app.services.mirror.run import PAGE, MirrorRun, batches, write
from bookings_app.services.mirror.upsert import Row, Upserted, changes_audit, upsert
from bookings_app.services.mirror.values import Json, booking_contact_id, decimal_or_zero, integer, money, text
from bookings_app.wix import WixClient, order_transactions
from bookings_app.wix import orders as wix_orders
from bookings_app.wix.dates import wix_timestamp_parse
from bookings_app.wix.ids import BOOKINGS_APP_ID


def order_values(order: Json) -> Json:
    """The ``Order`` fields a full eCommerce order decides by itself (its buyer and creation time
    are added by ``orders_write``)."""
    summary = order.get("priceSummary") or {}
    balance = order.get("balanceSummary") or {}
    return {
        "number": text(order.get("number"), 64),
        "status": text(order.get("status"), 16),
        "payment_status": text(order.get("paymentStatus"), 24),
        "total": money((summary.get("total") or {}).get("amount")) or Decimal("0"),
        "paid": money((balance.get("paid") or {}).get("amount")) or Decimal("0"),
        "balance": money((balance.get("balance") or {}).get("amount")) or Decimal("0"),
        "currency": text(order.get("currency"), 3),
        "raw": order,
    }


def orders_fetch(run: MirrorRun, order_ids: list[str]) -> list[Json]:
    """Full eCommerce orders by id (Search Orders, ≤100 a call). INITIALIZED ones never come back."""
    found: list[Json] = []
    for batch in batches(order_ids):
        search = {"filter": {"id": {"$in": batch}}, "cursorPaging": {"limit": PAGE}}
        while True:
            answer = run.call(wix_orders.search_orders, search=search)
            found.extend(answer.get("orders") or [])
            cursor = ((answer.get("metadata") or {}).get("cursors") or {}).get("next")
            if not cursor:
                break
            search = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}
    return found


def transactions_fetch(run: MirrorRun, order_ids: list[str]) -> dict[str, list[Json]]:
    """Order id -> its payments, from List Transactions For Multiple Orders in batches."""
    payments: dict[str, list[Json]] = {}
    for batch in batches(order_ids):
        answer = run.call(order_transactions.list_transactions_for_multiple_orders, order_ids=batch)
        for record in answer.get("orderTransactions") or []:
            payments[record.get("orderId") or ""] = list(record.get("payments") or [])
    return payments


def orders_write(run: MirrorRun, orders: list[Json], payments: dict[str, list[Json]] | None) -> Upserted:
    contacts = dict(
        Contact.objects.filter(wix_id__in={(o.get("buyerInfo") or {}).get("contactId") for o in orders}).values_list(
            "wix_id", "pk"
        )
    )
    rows = []
    for order in orders:
        rows.append(
            Row(
                order["id"],
                order.get("revision"),
                wix_timestamp_parse(order.get("updatedDate")),
                {
                    **order_values(order),
                    "contact_id": contacts.get((order.get("buyerInfo") or {}).get("contactId") or ""),
                    "wix_created_at": wix_timestamp_parse(order.get("createdDate")),
                },
            )
        )
    result = upsert(run, Order, rows)
    line_items_write(run, [o for o in orders if o["id"] in result.written], result.objects)
    changes_audit(run, result, "order", ("payment_status",))
    if payments is not None:
        payments_write(run, orders, payments, result.objects)
    return result


def line_items_write(run: MirrorRun, orders: list[Json], held: dict[str, Order]) -> None:
    """Line items are written with their order (they carry no version of their own)."""
    if not orders:
        return
    order_pks = [held[o["id"]].pk for o in orders if o["id"] in held]
    catalog_ids = {
        (line.get("catalogReference") or {}).get("catalogItemId") for o in orders for line in o.get("lineItems") or []
    }
    bookings = dict(Booking.objects.filter(wix_id__in=catalog_ids - {None}).values_list("wix_id", "pk"))
    OrderLineItem.objects.filter(order_id__in=order_pks).delete()
    lines = []
    for order in orders:
        if order["id"] not in held:
            continue
        for line in order.get("lineItems") or []:
            ref = line.get("catalogReference") or {}
            catalog_id = ref.get("catalogItemId") or ""
            is_booking = (ref.get("appId") or BOOKINGS_APP_ID) == BOOKINGS_APP_ID
            lines.append(
                OrderLineItem(
                    order_id=held[order["id"]].pk,
                    line_item_id=text(line.get("id"), 250),
                    catalog_item_id=text(catalog_id, 250),
                    booking_id=bookings.get(catalog_id) if is_booking else None,
                    name=text((line.get("productName") or {}).get("original"), 400),
                    quantity=integer(line.get("quantity")) or 1,
                    price=money((line.get("price") or {}).get("amount")) or Decimal("0"),
                    payment_option=text(line.get("paymentOption"), 48),
                )
            )
    OrderLineItem.objects.bulk_create(lines, batch_size=500)
    run.written["OrderLineItem"] += len(lines)


def order_summaries_write(run: MirrorRun, summaries: list[tuple[Json, Json]], payments: dict[str, list[Json]]) -> None:
    """Orders known only by the reader's summary: the buyer is the booking's contact, the one
    line is the booking. No version markers, so a full order read later always replaces it."""
    contacts = dict(
        Contact.objects.filter(wix_id__in={booking_contact_id(b) for _, b in summaries}).values_list("wix_id", "pk")
    )
    rows = []
    for summary, booking in summaries:
        total = money((summary.get("totalPrice") or {}).get("amount")) or Decimal("0")
        balance = money((summary.get("balance") or {}).get("amount")) or Decimal("0")
        rows.append(
            Row(
                summary["id"],
                None,
                None,
                {
                    "number": text(summary.get("number"), 64),
                    "contact_id": contacts.get(booking_contact_id(booking)),
                    "status": text(summary.get("status"), 16),
                    "payment_status": text(summary.get("paymentStatus"), 24),
                    "total": total,
                    "paid": max(total - balance, Decimal("0")),
                    "balance": balance,
                    "currency": text(summary.get("currency"), 3),
                    "raw": {"summary": summary},
                },
            )
        )
    result = upsert(run, Order, rows)
    bookings = dict(Booking.objects.filter(wix_id__in=[b["id"] for _, b in summaries]).values_list("wix_id", "pk"))
    written = [(s, b) for s, b in summaries if s["id"] in result.written]
    OrderLineItem.objects.filter(order_id__in=[result.objects[s["id"]].pk for s, _ in written]).delete()
    lines = [
        OrderLineItem(
            order_id=result.objects[summary["id"]].pk,
            line_item_id="",  # unknown until the full order is read
            catalog_item_id=text(booking["id"], 250),
            booking_id=bookings.get(booking["id"]),
            name=text((summary.get("bookingPriceDescription") or {}).get("original"), 400),
            quantity=1,
            price=money((summary.get("bookingPrice") or {}).get("amount")) or Decimal("0"),
        )
        for summary, booking in written
    ]
    OrderLineItem.objects.bulk_create(lines)
    run.written["OrderLineItem"] += len(lines)
    changes_audit(run, result, "order", ("payment_status",))
    payments_write(
        run,
        [{"id": s["id"], "currency": s.get("currency")} for s, _ in summaries],
        payments,
        result.objects,
    )


def orders_apply(run: MirrorRun, orders: list[Json]) -> None:
    """Write the orders that concern mirrored bookings (or are mirrored already), with their payments."""
    if not orders:
        return
    catalog_ids = {
        (line.get("catalogReference") or {}).get("catalogItemId") for o in orders for line in o.get("lineItems") or []
    }
    ours_by_booking = set(Booking.objects.filter(wix_id__in=catalog_ids - {None}).values_list("wix_id", flat=True))
    held = set(Order.objects.filter(wix_id__in=[o["id"] for o in orders]).values_list("wix_id", flat=True))
    ours = [
        o
        for o in orders
        if o["id"] in held
        or any(
            (line.get("catalogReference") or {}).get("catalogItemId") in ours_by_booking
            for line in o.get("lineItems") or []
        )
    ]
    if not ours:
        return
    payments = transactions_fetch(run, [o["id"] for o in ours])
    write(run, lambda: orders_write(run, ours, payments))


def mirror_orders(*, wix: WixClient, orders: list[Json], actor: str = "webhook") -> int:
    """Write eCommerce orders that concern mirrored bookings, with their payments (one Wix call
    per 100 orders). Returns how many were ours. Raises ``WixError``."""
    run = MirrorRun(wix=wix, actor=actor)
    before = run.written["Order"]
    orders_apply(run, orders)
    return run.written["Order"] - before


# --- orders as the desk's calls answer them ------------------------------------------------------


def order_absorb(order: Json) -> None:
    """A full order as Wix answered a desk call (mark as paid, get, cancel): newer-wins, one by one.

    Only the order's own fields (``order_values``): its buyer, creation time, line items and
    payments stay as the mirror holds them until the sync reads the order again, and no audit
    entry is written — the change is the desk's own.
    """
    Order.objects.upsert_from_wix(
        order["id"],
        revision=order.get("revision"),
        updated_at=wix_timestamp_parse(order.get("updatedDate")),
        defaults=order_values(order),
    )


def order_placed(
    *, booking: Booking, order_id: str, line_item_id: str, checkout_total: str | None, checkout_line: Json
) -> None:
    """The order the desk just placed from a cart (or checkout), as far as the cart told us (the sync fills
    in the rest): unpaid unless free, the booking's contact as buyer, the booking as its line."""
    total = decimal_or_zero(checkout_total)
    line = checkout_line
    with transaction.atomic():
        order, created = Order.objects.get_or_create(
            wix_id=order_id,
            defaults={
                "contact": booking.contact,
                "status": "APPROVED",
                "payment_status": "PAID" if total <= 0 else "NOT_PAID",
                "total": total,
                "paid": Decimal("0"),
                "balance": total,
                "currency": booking.service.currency,
                "wix_created_at": timezone.now(),
            },
        )
        if created or not order.line_items.exists():
            OrderLineItem.objects.get_or_create(
                order=order,
                line_item_id=line_item_id,
                defaults={
                    "catalog_item_id": booking.wix_id or "",
                    "booking": booking,
                    "name": (line.get("name") or booking.service.name)[:400],
                    "quantity": int(line.get("quantity") or 1),
                    "price": decimal_or_zero(line.get("price")),
                    "payment_option": line.get("paymentOption") or "",
                },
            )
