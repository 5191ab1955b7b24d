"""Multi-service packages booked at the front desk (``services.desk.packages``).

A :class:`Package` is 2–8 appointments booked back to back at one location for one customer and
paid once (massage → facial → manicure). It is saved with its bookings before anything is sent
(each a normal :class:`Booking` on its own appointment session, "waiting for Wix"); a
``DeskAction`` of kind ``PACKAGE`` takes it to Wix — Create Multi-Service Booking, then one cart
with every booking as a line, one order, one payment (``services.push.packages``). Cancelling is
a ``PACKAGE_CANCEL`` action (Cancel Multi-Service Booking). :class:`PackageItem` is one of its
bookings, in order.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from .bookings import Booking
from .catalogue import Service
from .ledger import DeskAction
from .mirror import MONEY
from .people import BenefitBalance, Contact


class Package(models.Model):
    class Pay(models.TextChoices):
        CASH = "CASH", "Cash"
        CARD = "CARD", "Card"
        CHECK = "CHECK", "Cheque"
        PLAN = "PLAN", "Plan"
        LATER = "LATER", "Pay later"
        NONE = "", "Nothing to pay"

    MIN_SERVICES, MAX_SERVICES = 2, 8  # Create Multi-Service Booking: 2–8 appointment bookings

    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="packages")
    # Where every booking of it is (one location, as Wix requires), as the time slots named it.
    location_id = models.CharField(max_length=250, blank=True)
    location_name = models.CharField(max_length=400, blank=True)
    location_type = models.CharField(max_length=16, blank=True)  # BUSINESS | CUSTOM | CUSTOMER
    timezone = models.CharField(max_length=64)
    start = models.DateTimeField()
    end = models.DateTimeField()
    total = models.DecimalField(**MONEY, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    pay = models.CharField(max_length=8, choices=Pay.choices, blank=True)
    balance = models.ForeignKey(BenefitBalance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The multi-service booking's id in Wix, once it exists.
    wix_id = models.CharField("Wix multi-service booking id", max_length=250, unique=True, null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.OneToOneField(DeskAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="package")
    cancel_action = models.OneToOneField(
        DeskAction, on_delete=models.SET_NULL, null=True, blank=True, related_name="package_cancelled"
    )

    class Meta:
        ordering = ["-start", "-pk"]
        indexes = [models.Index(fields=["contact", "start"], name="package_contact_start")]

    def __str__(self) -> str:
        return f"Package #{self.pk} for {self.contact} at {self.start:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class PackageItem(models.Model):
    """One booking of a package, in the order it is given (``position`` 1, 2, …)."""

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="package_item")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # What the slot named: the staff member's resource (sent to Wix) and their name.
    resource_id = models.CharField(max_length=250, blank=True)
    staff_name = models.CharField(max_length=400, blank=True)
    schedule_id = models.CharField(max_length=250, blank=True)
    price = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["package", "position"]
        constraints = [models.UniqueConstraint(fields=["package", "position"], name="package_item_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.service} {self.start:%H:%M}"
