"""What the desk keeps about a customer that Wix does not hold: notes with their check-in alerts
(medical, waiver, "ask about payment"), and an emergency contact for the sign-in sheet.

Kept here, not in Wix, on purpose. Contacts v4 as the app uses it (CONTRACT.md §10) creates,
queries and gets contacts; it has no update call the app could write a note with, ``labelKeys``
are set at creation only, and ``extendedFields`` need a custom field defined by hand in the Wix
dashboard first. So these rows are our own (not ``WixMirror``): no sync ever overwrites them,
and the customer card says they live in Front Desk only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .people import Contact


class CustomerNote(models.Model):
    """A note staff wrote about a customer; with an ``alert`` it shows at check-in (the customer
    card, the search hit, the sign-in sheet) until it is archived."""

    class Alert(models.TextChoices):
        NONE = "", "Just a note"
        MEDICAL = "MEDICAL", "Medical"
        WAIVER = "WAIVER", "Waiver"
        PAYMENT = "PAYMENT", "Ask about payment"
        OTHER = "OTHER", "Other alert"

    MAX_LENGTH = 1000

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="desk_notes")
    text = models.TextField(max_length=MAX_LENGTH)
    alert = models.CharField(max_length=16, choices=Alert.choices, default=Alert.NONE, blank=True)
    # The add form's token: a double tap or a re-sent form adds the note once.
    form_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Archived notes are kept (the card lists them under "Earlier notes") but alert nobody.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        indexes = [models.Index(fields=["contact", "archived_at"], name="customernote_contact")]

    def __str__(self) -> str:
        return f"{self.get_alert_display() if self.alert else 'Note'}: {self.text[:40]}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class EmergencyContact(models.Model):
    """Who to call if something happens to the customer (open-water swimming): printed on the
    sign-in sheet."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="emergency_contact")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=50)
    relationship = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"
