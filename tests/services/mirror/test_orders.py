"""Orders: one mapping of Wix's order JSON, written in bulk by the sync and one by one for the desk."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bookings_app.models import AuditEntry, Contact, Order, OrderLineItem
from bookings_app.services import mirror
from bookings_app.services.mirror.run import MirrorRun

pytestmark = pytest.mark.django_db

CREATED = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def order_json(order_id: str, *, revision: str, payment_status: str, paid: str, buyer: str = "") -> dict[str, Any]:
    return {
        "id": order_id,
        "number": "10042",
        "revision": revision,
        "updatedDate": "2026-11-21T09:00:00.000Z",
        "createdDate": "2026-11-21T08:00:00.000Z",
        "status": "APPROVED",
        "paymentStatus": payment_status,
        "currency": "GBP",
        "buyerInfo": {"contactId": buyer},
        "priceSummary": {"total": {"amount": "12"}},
        "balanceSummary": {"paid": {"amount": paid}, "balance": {"amount": str(12 - int(paid))}},
        "lineItems": [
            {
                "id": "line-1",
                "quantity": 1,
                "productName": {"original": "Open Water Swim"},
                "price": {"amount": "12"},
                "catalogReference": {"catalogItemId": "booking-1"},
            }
        ],
    }


def order_fields(order: Order) -> dict[str, Any]:
    fields = ("number", "status", "payment_status", "total", "paid", "balance", "currency", "revision", "raw")
    return {f: getattr(order, f) for f in fields}


def test_an_order_the_desk_hears_of_takes_the_same_fields_as_one_the_sync_reads() -> None:
    run = MirrorRun(wix=None, actor="test")
    mirror.orders.orders_write(run, [order_json("order-sync", revision="3", payment_status="PAID", paid="12")], None)
    mirror.orders.order_absorb(order_json("order-desk", revision="3", payment_status="PAID", paid="12"))

    read, heard = Order.objects.get(wix_id="order-sync"), Order.objects.get(wix_id="order-desk")

    assert order_fields(read) == {**order_fields(heard), "raw": {**heard.raw, "id": "order-sync"}}
    assert (read.total, read.paid, read.balance) == (Decimal("12.00"), Decimal("12.00"), Decimal("0.00"))


def test_an_order_the_desk_hears_of_leaves_its_buyer_lines_and_creation_to_the_sync() -> None:
    jo = Contact.objects.create(first_name="Jo", last_name="Swimmer")
    order = Order.objects.create(
        wix_id="order-1", contact=jo, status="APPROVED", payment_status="NOT_PAID", total=12, balance=12,
        revision=2, wix_created_at=CREATED,
    )  # fmt: skip
    OrderLineItem.objects.create(order=order, line_item_id="desk-line", catalog_item_id="booking-1", price=12)

    mirror.orders.order_absorb(order_json("order-1", revision="3", payment_status="PAID", paid="12", buyer="other"))
    mirror.orders.order_absorb(order_json("order-1", revision="2", payment_status="NOT_PAID", paid="0"))  # older

    order.refresh_from_db()
    assert (order.payment_status, order.paid, order.balance, order.revision) == ("PAID", Decimal("12"), 0, 3)
    assert order.contact == jo and order.wix_created_at == CREATED
    assert list(order.line_items.values_list("line_item_id", flat=True)) == ["desk-line"]
    assert not AuditEntry.objects.exists()  # the desk's own change, not one made in Wix
