"""Contacts for the desk's customer search."""

from __future__ import annotations

from bookings_app.models import Contact
from bookings_app.selectors.queries import search_q


def contact_search(*, query: str, limit: int = 20) -> list[Contact]:
    """Contacts matching a name (every word), an email or a phone fragment, by surname."""
    match = search_q(query)
    if match is None:
        return []
    return list(Contact.objects.filter(match).order_by("last_name", "first_name", "pk")[:limit])
