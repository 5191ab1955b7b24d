"""Template helpers for the desk screens."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from bookings_app.money import format_money

register = template.Library()


@register.simple_tag
def idempotency_key() -> SafeString:
    """A fresh token for one action form: a double tap or a re-sent POST carries the same token,
    so the desk service acts once (DeskAction.idempotency_key is unique)."""
    return format_html('<input type="hidden" name="idempotency_key" value="{}">', uuid.uuid4())


@register.filter
def money(amount: Decimal | None, currency: str = "") -> str:
    """``{{ amount|money:currency }}``: the app's one money format (``money.format_money``),
    "£1,234.00", "1,234.00 CHF"; "" for None."""
    return format_money(amount, currency)


@register.filter
def credits(balance: object) -> str:
    """How much is left on a plan balance: "7 left", "unlimited"."""
    if getattr(balance, "unlimited", False):
        return "unlimited"
    left = getattr(balance, "remaining_credits", None)
    if left is None:
        return ""
    left = Decimal(left)
    return f"{left.normalize():f} left" if left == left.to_integral_value() else f"{left} left"
