"""Cash-ups: the money counted at the end of a session, of a staff member's day or of the whole
day, set against what the desk's actions say was taken (``selectors.cashup``).

One row per scope (a session on its day, a staff member on a day, a day). The person closing
enters the count — cash by denomination or as one total, the card and cheque totals — and the
expected figures at that moment are kept beside it, with the desk actions they were made of, so
the over/short stays what it was when counted even if the desk's actions change later (an undo,
a refund). Once a manager signs it off it is read-only.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from .catalogue import Session
from .mirror import MONEY

ZERO = Decimal("0")


class CashUp(models.Model):
    class Scope(models.TextChoices):
        SESSION = "SESSION", "Session"
        STAFF = "STAFF", "Staff member"
        DAY = "DAY", "Day"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    day = models.DateField()  # the business's local day
    session = models.ForeignKey(Session, on_delete=models.PROTECT, null=True, blank=True, related_name="cashups")
    # The staff member whose takings these are: the user who recorded the desk actions.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, blank=True)
    counted_cash = models.DecimalField(**MONEY, default=ZERO)
    counted_card = models.DecimalField(**MONEY, default=ZERO)
    counted_check = models.DecimalField(**MONEY, default=ZERO)
    # Cash by denomination as counted: {"20.00": 3, "0.50": 4}; empty when only the total was given.
    denominations = models.JSONField(default=dict, blank=True)
    expected_cash = models.DecimalField(**MONEY, default=ZERO)
    expected_card = models.DecimalField(**MONEY, default=ZERO)
    expected_check = models.DecimalField(**MONEY, default=ZERO)
    # The desk actions the expected figures were made of when counted (pk → signed amount).
    expected_actions = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    counted_at = models.DateTimeField(default=timezone.now)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-day", "scope", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "session"], condition=models.Q(scope="SESSION"), name="cashup_one_per_session"
            ),
            models.UniqueConstraint(
                fields=["day", "staff"], condition=models.Q(scope="STAFF"), name="cashup_one_per_staff_day"
            ),
            models.UniqueConstraint(fields=["day"], condition=models.Q(scope="DAY"), name="cashup_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"Cash-up {self.get_scope_display().lower()} {self.day:%Y-%m-%d} #{self.pk}"

    @property
    def is_signed_off(self) -> bool:
        return self.signed_off_at is not None

    @property
    def counted_total(self) -> Decimal:
        return self.counted_cash + self.counted_card + self.counted_check

    @property
    def expected_total(self) -> Decimal:
        return self.expected_cash + self.expected_card + self.expected_check

    @property
    def over_short(self) -> Decimal:
        """Counted less expected: above 0 over, below 0 short."""
        return self.counted_total - self.expected_total
