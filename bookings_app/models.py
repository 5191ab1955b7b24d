"""The local mirror of Wix, and our own ledger.

Mirror rows (``WixMirror`` subclasses) carry the Wix id, the Wix ``revision`` and
``updatedDate`` and the last payload (``raw``); they are written through
``Model.objects.upsert_from_wix(...)``, which never lets an older update overwrite a newer one.
``wix_id`` is nullable so a row created at the desk can exist before Wix has given it an id
(several NULLs do not collide in a unique column).

Times are aware (UTC in the database); templates show them in the business time zone.
Money is ``Decimal`` with two places, in the row's ``currency``.
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from bookings_app import roles

M = TypeVar("M", bound="WixMirror")

MONEY = {"max_digits": 10, "decimal_places": 2}


class UpsertResult(NamedTuple, Generic[M]):
    instance: M
    created: bool
    written: bool  # False: the incoming data was not newer than what we hold, nothing changed


def parse_revision(value: int | str | None) -> int | None:
    """Wix sends revisions as int64 strings ("12"); some APIs send ints. Blank → None."""
    if value is None or value == "":
        return None
    return int(value)


def is_newer(*, incoming_revision: int | None, incoming_updated_at: datetime | None, current: WixMirror) -> bool:
    """Whether an incoming Wix payload may replace ``current``.

    Revisions decide when both sides have one; otherwise ``updatedDate``. Equal is not newer
    (a replayed webhook or an overlapping poll changes nothing). When the row holds a version
    marker the payload lacks, we cannot prove the payload is newer, so it loses; when neither
    side carries any marker (an entity type without them) the payload wins.
    """
    if incoming_revision is not None and current.revision is not None:
        return incoming_revision > current.revision
    if incoming_updated_at is not None and current.wix_updated_at is not None:
        return incoming_updated_at > current.wix_updated_at
    return current.revision is None and current.wix_updated_at is None


class WixMirrorQuerySet(models.QuerySet[M]):
    def upsert_from_wix(
        self,
        wix_id: str,
        *,
        revision: int | str | None = None,
        updated_at: datetime | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> UpsertResult[M]:
        """Create or update the row for ``wix_id`` unless we already hold a newer version.

        ``defaults`` are field values (``raw`` included, if wanted). Runs in a transaction with
        the row locked (``select_for_update``; SQLite serialises writers instead), so two
        concurrent syncs or a webhook racing a poll cannot interleave.
        """
        if not wix_id:
            raise ValueError("upsert_from_wix needs a Wix id")
        rev = parse_revision(revision)
        values = dict(defaults or {})
        for attempt in (1, 2):
            with transaction.atomic(using=self.db):
                current = self.select_for_update().filter(wix_id=wix_id).first()
                if current is None:
                    obj = self.model(wix_id=wix_id, revision=rev, wix_updated_at=updated_at, **values)
                    obj.synced_at = timezone.now()
                    try:
                        with transaction.atomic(using=self.db):
                            obj.save(force_insert=True, using=self.db)
                    except IntegrityError:
                        if attempt == 2:
                            raise
                        continue  # someone inserted it meanwhile: compare against theirs
                    return UpsertResult(obj, True, True)
                if not is_newer(incoming_revision=rev, incoming_updated_at=updated_at, current=current):
                    return UpsertResult(current, False, False)
                for field, value in values.items():
                    setattr(current, field, value)
                if rev is not None:
                    current.revision = rev
                if updated_at is not None:
                    current.wix_updated_at = updated_at
                current.synced_at = timezone.now()
                current.save(using=self.db)
                return UpsertResult(current, False, True)
        raise AssertionError("unreachable")  # pragma: no cover


class WixMirror(models.Model):
    wix_id = models.CharField("Wix id", max_length=250, unique=True, null=True, blank=True)
    revision = models.BigIntegerField(null=True, blank=True)
    wix_updated_at = models.DateTimeField("updated in Wix", null=True, blank=True)
    raw = models.JSONField("last Wix payload", default=dict, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    objects = WixMirrorQuerySet.as_manager()

    class Meta:
        abstract = True


# --- catalogue -----------------------------------------------------------------------------


class Service(WixMirror):
    class Type(models.TextChoices):
        CLASS = "CLASS", "Class"
        APPOINTMENT = "APPOINTMENT", "Appointment"
        COURSE = "COURSE", "Course"

    type = models.CharField(max_length=16, choices=Type.choices)
    name = models.CharField(max_length=400)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    default_capacity = models.PositiveIntegerField(null=True, blank=True)
    # service.schedule.id: class and course sessions are calendar events on this schedule,
    # and a course booking books the schedule itself.
    schedule_id = models.CharField(max_length=250, blank=True, db_index=True)
    pricing_plan_enabled = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffMember(WixMirror):
    name = models.CharField(max_length=400)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # Booking slots and calendar events name the staff member's resource, not the member.
    resource_id = models.CharField(max_length=250, blank=True, db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Session(WixMirror):
    """A calendar event: a class session, a course session or an appointment."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="sessions")
    title = models.CharField(max_length=400, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    timezone = models.CharField(max_length=64, blank=True)  # the event's IANA zone, as Wix sent it
    capacity = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=32, default="CONFIRMED")  # event status enum UNCONFIRMED in the contract
    staff = models.ForeignKey(StaffMember, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions")
    location_name = models.CharField(max_length=400, blank=True)
    schedule_id = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["start", "pk"]
        indexes = [
            models.Index(fields=["start"], name="session_start"),
            models.Index(fields=["service", "start"], name="session_service_start"),
            models.Index(fields=["staff", "start"], name="session_staff_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.service_id} @ {self.start:%Y-%m-%d %H:%M}"

    @property
    def ref(self) -> str:
        """What the roster URL uses: the Wix event id, or our pk for a not-yet-synced event."""
        return self.wix_id or str(self.pk)

    @property
    def is_cancelled(self) -> bool:
        return self.status.upper() in ("CANCELLED", "CANCELED")


# --- people ----------------------------------------------------------------------------------


def normalise_text(value: str) -> str:
    """Lower case, accents and punctuation dropped, spaces collapsed: "Zoë  O'Neil" → "zoe oneil"."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = re.sub(r"[^\w\s@.+-]", "", plain)
    return re.sub(r"\s+", " ", plain).strip()


def normalise_phone(value: str) -> str:
    """Digits only, so "+44 (0)7700 900123" matches a search for "900123"."""
    return re.sub(r"\D", "", value or "")


class Contact(WixMirror):
    first_name = models.CharField(max_length=200, blank=True)
    last_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=320, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # Kept in step by save(): what the roster filter and the contact search match against.
    search_name = models.CharField(max_length=401, blank=True, editable=False)
    search_email = models.CharField(max_length=320, blank=True, editable=False)
    search_phone = models.CharField(max_length=50, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [
            models.Index(fields=["search_name"], name="contact_search_name"),
            models.Index(fields=["search_email"], name="contact_search_email"),
            models.Index(fields=["search_phone"], name="contact_search_phone"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Contact {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_name = normalise_text(self.full_name)
        self.search_email = (self.email or "").strip().casefold()
        self.search_phone = normalise_phone(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"first_name", "last_name", "email", "phone"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_name", "search_email", "search_phone"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Member(WixMirror):
    """A site member: pricing plans and membership charges are keyed by member id, not contact id."""

    contact = models.OneToOneField(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="member")
    login_email = models.EmailField(max_length=320, blank=True)
    status = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return self.login_email or self.wix_id or f"Member {self.pk}"


class PlanOrder(WixMirror):
    """A pricing-plan order (the member bought a class pass or a membership)."""

    class Status(models.TextChoices):
        UNDEFINED = "UNDEFINED"
        DRAFT = "DRAFT"
        PENDING = "PENDING"
        ACTIVE = "ACTIVE"
        PAUSED = "PAUSED"
        ENDED = "ENDED"
        CANCELED = "CANCELED"

    member = models.ForeignKey(Member, on_delete=models.SET_NULL, null=True, blank=True, related_name="plan_orders")
    plan_id = models.CharField(max_length=250, blank=True)
    plan_name = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNDEFINED)
    last_payment_status = models.CharField(max_length=32, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    end = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.plan_name} ({self.status})"


class BenefitBalance(WixMirror):
    """A Benefit Programs pool and its balance (``wix_id`` is the pool id = the balance id)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="balances")
    plan_order = models.ForeignKey(PlanOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="balances")
    name = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=16, blank=True)
    total_credits = models.DecimalField(**MONEY, null=True, blank=True)
    remaining_credits = models.DecimalField(**MONEY, null=True, blank=True)
    unlimited = models.BooleanField(default=False)
    covered_service_ids = models.JSONField(default=list, blank=True)  # Wix service ids

    def __str__(self) -> str:
        left = "unlimited" if self.unlimited else f"{self.remaining_credits} left"
        return f"{self.name or self.wix_id} ({left})"


# --- bookings and money ----------------------------------------------------------------------


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
            models.Index(fields=["session", "status"], name="booking_session_status"),
            models.Index(fields=["service", "session"], name="booking_service_session"),
            models.Index(fields=["pending_sync"], name="booking_pending", condition=models.Q(pending_sync=True)),
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


# --- our own ledger --------------------------------------------------------------------------


class AuditEntry(models.Model):
    """Who did what to which object, with the state before and after. Append-only."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    actor = models.CharField(max_length=150, help_text="The username, or 'sync', 'worker', 'webhook'.")
    action = models.CharField(max_length=64, db_index=True)  # a stable code, e.g. "payment.cash"
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=250, blank=True)
    summary = models.CharField(max_length=500)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}: {self.summary}"


class WebhookEvent(models.Model):
    """A received Wix webhook, kept for deduplication (event id) and ordering (sequence)."""

    event_id = models.CharField(max_length=250, unique=True)
    event_type = models.CharField(max_length=200)
    entity_id = models.CharField(max_length=250, blank=True, db_index=True)
    entity_fqdn = models.CharField(max_length=200, blank=True)
    sequence = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.entity_id}"


class SyncState(models.Model):
    """Progress and health of syncing one kind of entity from Wix."""

    class Kind(models.TextChoices):
        SERVICES = "services"
        STAFF = "staff"
        SESSIONS = "sessions"
        BOOKINGS = "bookings"
        CONTACTS = "contacts"
        MEMBERS = "members"
        ORDERS = "orders"
        PLAN_ORDERS = "plan_orders"
        BALANCES = "balances"

    kind = models.CharField(max_length=32, unique=True, choices=Kind.choices)
    cursor = models.TextField(blank=True)
    last_full_at = models.DateTimeField(null=True, blank=True)
    last_incremental_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    running = models.BooleanField(default=False)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.kind


class StaffPermissions(models.Model):
    """No table: the anchor for the role permissions in ``roles.PERMISSIONS``."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = roles.PERMISSIONS

    def __str__(self) -> str:
        return "staff permissions"


class DeskAction(models.Model):
    """One front-desk click, stored before anything is sent to Wix (DESIGN.md §4).

    The desk services write the row and change the mirror optimistically; the worker
    (``services.desk_push``) pushes it to Wix step by step, saving each step's result in
    ``steps`` before the next one, so a crash or a retry resumes where it stopped.
    """

    class Kind(models.TextChoices):
        CONTACT_CREATE = "CONTACT_CREATE", "New customer"
        WALK_IN = "WALK_IN", "Walk-in"
        PAYMENT = "PAYMENT", "Payment"  # cash / card / check, params.method
        PLAN_CHARGE = "PLAN_CHARGE", "Charge to plan"
        PAY_LATER = "PAY_LATER", "Pay later"
        ATTENDANCE = "ATTENDANCE", "Attendance"
        CANCEL_BOOKING = "CANCEL_BOOKING", "Cancel booking"
        VOID_PLAN_CHARGE = "VOID_PLAN_CHARGE", "Void plan charge"
        REFUND = "REFUND", "Refund"

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Waiting for Wix"  # in the undo window, or waiting for its turn / a retry
        RUNNING = "RUNNING", "Sending to Wix"
        SYNCED = "SYNCED", "In Wix"
        NEEDS_ATTENTION = "NEEDS_ATTENTION", "Needs attention"  # Wix said no; staff choose what next
        UNDONE = "UNDONE", "Undone"
        REMOVED = "REMOVED", "Removed"

    MAX_BACKOFF_SECONDS = 300  # the longest wait between two tries of a transient failure
    # Still to reach Wix (or to be decided by staff): the booking shows "waiting for Wix".
    LIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.NEEDS_ATTENTION)
    MONEY_KINDS = (Kind.PAYMENT, Kind.PLAN_CHARGE, Kind.PAY_LATER)

    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The end of the undo window: nothing is pushed before it.
    run_after = models.DateTimeField()
    booking = models.ForeignKey(Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    session = models.ForeignKey(Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="desk_actions")
    # Pushed only once this one is SYNCED (a payment on a walk-in waits for the walk-in's booking id).
    depends_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="dependents")
    batch_id = models.CharField(max_length=200, blank=True, db_index=True)  # settle-roster commits share one
    params = models.JSONField(default=dict, blank=True)
    steps = models.JSONField(default=dict, blank=True)
    # The mirror fields this action changed, as they were: what undo / remove put back.
    before = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # QUEUED: not before this (backoff). RUNNING: the worker's lease; past it, the claim is dead.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)  # the plain-language "needs attention" text

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["status", "kind", "run_after"], name="deskaction_due"),
            models.Index(fields=["booking", "status"], name="deskaction_booking_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    def can_undo(self, *, now: datetime | None = None) -> bool:
        return self.status == self.Status.QUEUED and (now or timezone.now()) < self.run_after

    # --- state changes (the worker's outcomes, staff's retry) ---------------------------------

    def mark_synced(self, **steps: Any) -> None:
        """Wix has it: keep the last step results, clear any error, and the booking's
        ``pending_sync`` once nothing else of it is on the way."""
        self.steps = {**self.steps, **steps}
        self.status = self.Status.SYNCED
        self.next_attempt_at = None
        self.message = self.error_code = self.last_error = ""
        self.save(
            update_fields=["steps", "status", "next_attempt_at", "message", "error_code", "last_error", "updated_at"]
        )
        if self.booking_id:
            DeskAction.refresh_pending(self.booking_id)

    def mark_needs_attention(self, *, code: str, message: str, detail: str = "") -> None:
        """Wix said no for a business reason: staff decide (``message`` is what the roster shows)."""
        self.status = self.Status.NEEDS_ATTENTION
        self.next_attempt_at = None
        self.error_code = code[:64]
        self.message = message[:500]
        self.last_error = detail or message
        self.save(
            update_fields=["steps", "status", "next_attempt_at", "message", "error_code", "last_error", "updated_at"]
        )

    def retry_later(self, *, detail: str, count: bool = True) -> None:
        """Back in the queue after a backoff: 2^n seconds plus jitter, capped at
        ``MAX_BACKOFF_SECONDS``; at once when the attempt is not ``count``ed."""
        if count:
            self.attempts += 1
        delay = min(2 ** min(self.attempts, 12) + random.random(), self.MAX_BACKOFF_SECONDS) if count else 0
        self.status = self.Status.QUEUED
        self.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        self.last_error = detail[:2000]
        self.save(update_fields=["steps", "status", "attempts", "next_attempt_at", "last_error", "updated_at"])

    def requeue(self) -> None:
        """Staff chose to send it again (retry, override): due now, the refusal forgotten.
        ``params`` is saved too, for a choice that changed them."""
        self.status = self.Status.QUEUED
        self.next_attempt_at = None
        self.run_after = min(self.run_after, timezone.now())
        self.message = self.error_code = ""
        self.save(
            update_fields=["status", "next_attempt_at", "run_after", "message", "error_code", "params", "updated_at"]
        )

    @staticmethod
    def refresh_pending(booking_id: int) -> None:
        """``Booking.pending_sync`` = some desk action of the booking has not reached Wix yet."""
        live = DeskAction.objects.filter(booking_id=booking_id, status__in=DeskAction.LIVE_STATUSES).exists()
        Booking.objects.filter(pk=booking_id).exclude(pending_sync=live).update(pending_sync=live)
