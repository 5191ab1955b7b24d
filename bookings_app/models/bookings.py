"""Bookings and their money (eCommerce orders, line items, payments) and attendance."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models.functions import Coalesce

from .catalogue import Service, Session
from .mirror import MONEY, WixMirror
from .people import Contact


class Booking(WixMirror):
    class Status(models.TextChoices):
        CREATED = "CREATED", "Created"
        CONFIRMED = "CONFIRMED", "Confirmed"
        CANCELED = "CANCELED", "Cancelled"
        PENDING = "PENDING", "Pending approval"
        DECLINED = "DECLINED", "Declined"
        WAITING_LIST = "WAITING_LIST", "Waiting list"

    class PaymentStatus(models.TextChoices):
        UNDEFINED = "UNDEFINED", "No payment yet"
        NOT_PAID = "NOT_PAID", "Not paid"
        PAID = "PAID", "Paid"
        PARTIALLY_PAID = "PARTIALLY_PAID", "Partly paid"
        REFUNDED = "REFUNDED", "Refunded"
        EXEMPT = "EXEMPT", "Free"
        FAILED = "FAILED", "Failed"

    class PaymentOption(models.TextChoices):
        UNDEFINED = "UNDEFINED", "Not chosen"
        OFFLINE = "OFFLINE", "In person"
        ONLINE = "ONLINE", "Online"
        MEMBERSHIP = "MEMBERSHIP", "Plan"
        MEMBERSHIP_OFFLINE = "MEMBERSHIP_OFFLINE", "Plan (redeemed by hand)"

    # Taking a place: these occupy capacity and appear as "booked" on Today.
    ACTIVE_STATUSES = (Status.CONFIRMED, Status.PENDING)
    # Shown on a roster unless "show cancelled" is on.
    ROSTER_STATUSES = (Status.CONFIRMED, Status.PENDING, Status.CREATED, Status.WAITING_LIST)
    SETTLED_PAYMENT_STATUSES = (PaymentStatus.PAID, PaymentStatus.EXEMPT)

    # Class sessions and appointments book an event; a course books the course's schedule,
    # so its bookings have no session and belong to every session of the course service.
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    payment_status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.UNDEFINED)
    selected_payment_option = models.CharField(
        max_length=24, choices=PaymentOption.choices, default=PaymentOption.UNDEFINED
    )
    total_participants = models.PositiveIntegerField(default=1)
    wix_created_at = models.DateTimeField("created in Wix", null=True, blank=True)
    # A desk change made locally that has not reached Wix yet (the desk-action worker clears it).
    pending_sync = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # With the head count in it, summing a session's places (Today, the drift watchdog's
            # over-capacity check) reads the index alone, never the wide booking rows.
            models.Index(fields=["session", "status", "total_participants"], name="booking_session_places"),
            models.Index(fields=["service", "session"], name="booking_service_session"),
            models.Index(fields=["pending_sync"], name="booking_pending", condition=models.Q(pending_sync=True)),
            # Who owes what on a range of sessions (the owes list), answered from the index alone:
            # a month of a season is thousands of bookings, and their rows carry the Wix payload.
            models.Index(
                fields=["session", "status", "payment_status", "contact", "service", "total_participants"],
                name="booking_session_money",
            ),
            # The payment report's rows of a range of sessions (``selectors.reports_facts``) read
            # from the index alone: every column the report asks of a booking, after the session.
            models.Index(
                fields=[
                    "session",
                    "id",
                    "service",
                    "contact",
                    "status",
                    "payment_status",
                    "total_participants",
                    "selected_payment_option",
                ],
                name="booking_session_facts",
            ),
            # The bookings not shown paid (nor being changed by the desk): the drift watchdog's
            # "paid in Wix" looks up each line of a paid order here, never in the wide rows.
            models.Index(
                fields=["id"],
                name="booking_unsettled",
                condition=models.Q(pending_sync=False) & ~models.Q(payment_status__in=("PAID", "EXEMPT")),
            ),
        ]

    def __str__(self) -> str:
        return f"Booking {self.wix_id or self.pk} ({self.status})"


class Order(WixMirror):
    """An eCommerce order: where a booking's money lives."""

    number = models.CharField(max_length=64, blank=True)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    status = models.CharField(max_length=16, blank=True)  # INITIALIZED, APPROVED, CANCELED, …
    payment_status = models.CharField(max_length=24, blank=True)  # NOT_PAID, PAID, PARTIALLY_PAID, …
    total = models.DecimalField(**MONEY, default=Decimal("0"))
    paid = models.DecimalField(**MONEY, default=Decimal("0"))
    balance = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    wix_created_at = models.DateTimeField("created in Wix", null=True, blank=True)

    class Meta:
        # An order's balance and total by its pk without reading its wide row (the Wix payload):
        # the payment report joins thousands of orders at once (``selectors.reports_facts``).
        indexes = [
            models.Index(fields=["id", "balance", "total"], name="order_money"),
            # The paid orders by when Wix last changed them (the drift watchdog's "paid in Wix"):
            # the past week's, read from this index alone, never the wide order rows — hence the
            # columns after the time, which PostgreSQL (both times) and SQLite (the statuses
            # too) need in it to leave the rows alone.
            models.Index(
                Coalesce("wix_updated_at", "synced_at"),
                "wix_updated_at",
                "synced_at",
                "id",
                "payment_status",
                "status",
                name="order_paid_since",
                condition=models.Q(payment_status="PAID") & ~models.Q(status="CANCELED"),
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.number or self.wix_id or self.pk}"


class OrderLineItem(models.Model):
    """One line of an order. Mirrored with its order (written when the order is), so it carries
    no revision of its own; line item ids are only unique within their order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="line_items")
    line_item_id = models.CharField(max_length=250)
    # catalogReference.catalogItemId: the booking id for Bookings line items. Kept even when the
    # booking is not mirrored (yet), so the link can be made later.
    catalog_item_id = models.CharField(max_length=250, blank=True, db_index=True)
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="line_items")
    name = models.CharField(max_length=400, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(**MONEY, default=Decimal("0"))
    payment_option = models.CharField(max_length=48, blank=True)  # FULL_PAYMENT_OFFLINE, MEMBERSHIP, …

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "line_item_id"], name="order_line_item_unique")]
        # A booking's lines with what the payment report needs of them, from the index alone.
        indexes = [
            models.Index(
                fields=["booking", "order", "id", "line_item_id", "price", "quantity"], name="lineitem_booking_money"
            ),
            # An order's lines and their bookings from the index alone (the drift watchdog's
            # "paid in Wix", from the paid orders to their bookings).
            models.Index(fields=["order", "booking", "id"], name="lineitem_order_booking"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.catalog_item_id} × {self.quantity}"


class Payment(WixMirror):
    """A payment on an order (order transactions), or a plan (membership) charge."""

    class Method(models.TextChoices):
        CASH = "CASH", "Cash"
        CARD = "CARD", "Card"
        CHECK = "CHECK", "Cheque"
        PLAN = "PLAN", "Plan"
        ONLINE = "ONLINE", "Online"
        OTHER = "OTHER", "Other"

    class Status(models.TextChoices):
        APPROVED = "APPROVED"
        PENDING = "PENDING"
        PENDING_MERCHANT = "PENDING_MERCHANT"
        CANCELED = "CANCELED"
        DECLINED = "DECLINED"
        REFUNDED = "REFUNDED"
        PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
        AUTHORIZED = "AUTHORIZED"
        VOIDED = "VOIDED"

    # Payments that stand: they say how the booking was (or is being) paid.
    COUNTED_STATUSES = (
        Status.APPROVED,
        Status.PENDING,
        Status.PENDING_MERCHANT,
        Status.AUTHORIZED,
        Status.PARTIALLY_REFUNDED,
    )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.APPROVED)
    line_item_id = models.CharField(max_length=250, blank=True)  # membership payments name their line item
    membership_id = models.CharField(max_length=250, blank=True)  # the plan's pool id, for PLAN payments
    wix_created_at = models.DateTimeField("created in Wix", null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["order", "method"], name="payment_order_method")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} {self.currency} ({self.status})"


class Attendance(WixMirror):
    class Status(models.TextChoices):
        NOT_SET = "NOT_SET", "Not set"
        ATTENDED = "ATTENDED", "Checked in"
        NOT_ATTENDED = "NOT_ATTENDED", "No-show"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="attendances")
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_SET)
    number_of_attendees = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["booking", "session"], name="attendance_booking_session")]
        indexes = [models.Index(fields=["session", "status"], name="attendance_session_status")]

    def __str__(self) -> str:
        return f"{self.booking_id}@{self.session_id}: {self.status}"
