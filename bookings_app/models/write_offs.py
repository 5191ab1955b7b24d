"""Write-offs: a manager's recorded decision that what a booking still owes will not be collected.

A write-off is the desk's own record, never sent to Wix. Wix has no "written off": the honest
state there is the one the booking already has (NOT_PAID, PARTIALLY_PAID) — no money came in.
Marking the order paid, or adding a payment of zero, would tell the Wix dashboard and every
report read from it that the customer paid when they did not. So the booking and its order stay
as they are in the mirror and in Wix; the standing write-off takes the booking off the owes
list and out of the desk's "unpaid" counts (``selectors.queries.written_off_q``).

A write-off is reversed by a manager (``reversed_at``): the row stays, for the audit trail, and
the booking is owed again. At most one standing write-off per booking.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from .bookings import Booking
from .mirror import MONEY
from .people import Contact


class WriteOff(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="write_offs")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="write_offs")
    amount = models.DecimalField(**MONEY, default=Decimal("0"))  # what was owed when it was written off
    currency = models.CharField(max_length=3, blank=True)
    reason = models.CharField(max_length=500)
    # The form's token (one per booking of a form that wrote off several): a re-sent form acts once.
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reverse_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"], condition=models.Q(reversed_at__isnull=True), name="write_off_one_standing"
            )
        ]

    def __str__(self) -> str:
        state = "reversed" if self.reversed_at else "standing"
        return f"Write-off of booking {self.booking_id}: {self.amount} {self.currency} ({state})"

    @property
    def is_standing(self) -> bool:
        return self.reversed_at is None
