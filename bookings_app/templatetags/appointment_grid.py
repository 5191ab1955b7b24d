"""The appointment week grid's links: a free slot's book step (its slot signed into the URL)."""

from __future__ import annotations

from django import template

from bookings_app.models import Service
from bookings_app.selectors import FreeSlot
from bookings_app.views.appointment_week import book_url

register = template.Library()


@register.simple_tag
def appointment_book_url(service: Service, free: FreeSlot) -> str:
    """``{% appointment_book_url service free %}``: the customer → pay step with this slot."""
    return book_url(service=service, slot=free.slot, day=free.start.date())
