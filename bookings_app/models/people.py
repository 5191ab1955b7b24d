"""Customers: contacts, site members, their pricing-plan orders and benefit balances (plan credits)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import models

from .mirror import MONEY, WixMirror


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
