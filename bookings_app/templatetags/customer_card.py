"""Template helpers of the customer card and of what it adds to the sign-in sheet."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import template

from bookings_app import selectors

register = template.Library()


@register.filter
def tel_href(phone: str) -> str:
    """A phone number as a ``tel:`` link wants it: "+44 (0)7700 900123" → "+447700900123" (the
    "(0)" is dialled only from inside the country, never after its code)."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone.replace("(0)", "") if phone.startswith("+") else phone)
    return f"+{digits}" if phone.startswith("+") else digits


@dataclass
class SheetEntry:
    number: int  # the participant's line on the sheet
    contact: Any
    notes: selectors.SheetNotes


@dataclass
class SheetExtras:
    entries: list[SheetEntry]  # those with an emergency contact or an alert, in sheet order
    without_emergency: list[Any]  # contacts with no emergency contact on file, in sheet order


@register.simple_tag
def sign_in_sheet_extras(rows: Iterable[Any]) -> SheetExtras:
    """For the sign-in sheet's rows (anything with a ``contact``): each participant's emergency
    contact and current alerts, and who has no emergency contact. One query for the whole sheet
    (``selectors.sign_in_sheet_notes``); a template tag so the sheet's view stays as it is."""
    rows = list(rows)
    notes = selectors.sign_in_sheet_notes(contact_ids={row.contact.pk for row in rows})
    entries, without = [], []
    for number, row in enumerate(rows, start=1):
        found = notes.get(row.contact.pk)
        if found is not None:
            entries.append(SheetEntry(number=number, contact=row.contact, notes=found))
        if found is None or found.emergency is None:
            without.append(row.contact)
    return SheetExtras(entries=entries, without_emergency=without)
