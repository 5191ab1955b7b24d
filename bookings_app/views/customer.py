"""The customer card: who they are, what staff should know at check-in (alerts and notes), their
emergency contact, membership and plans with credits left, visits, payments and what they owe —
read from the mirror, never from Wix. A page (``customer_card``, by contact pk), and the same
card as an htmx panel (``?panel=1``) opened from a customer search hit.

Notes, alerts and the emergency contact are kept in Front Desk, not in Wix (``models/notes.py``
says why); staff with the front desk permission read and change them, and every change is
audited (``services.customer_notes``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from bookings_app import forms, money, roles, selectors
from bookings_app.models import Booking, Contact, CustomerNote, Payment
from bookings_app.services import customer_notes
from bookings_app.services.errors import BookingError
from bookings_app.views.common import INVALID, REFUSED

MAX_PK = 2**63 - 1  # a larger id is no row of ours (and SQLite could not even compare it)


@dataclass
class Owing:
    """A booking that still owes something by the desk's rule (``money.amounts_due``)."""

    booking: Booking
    amount: Decimal
    upcoming: bool  # its session is after today: to pay then, not owed yet

    @property
    def currency(self) -> str:
        return self.booking.service.currency


@roles.require(roles.USE_FRONT_DESK)
@require_GET
def customer_card(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The card as a page, or (htmx) as the card fragment; ``?panel=1`` draws it as a panel with
    a Close button."""
    card = _card_or_404(contact_id)
    return _render(request, card, panel=request.GET.get("panel") == "1")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def customer_note_add(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(contact_id)
    form = forms.CustomerNoteForm(request.POST)
    if not form.is_valid():
        return _refused(request, contact, status=INVALID, note_form=form)
    try:
        customer_notes.customer_note_add(
            user=request.user,
            contact=contact,
            text=form.cleaned_data["text"],
            alert=form.cleaned_data["alert"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except BookingError as exc:
        form.add_error(None, exc.message)
        return _refused(request, contact, status=REFUSED, note_form=form)
    return _done(request, contact, "Note added.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def customer_note_edit(request: HttpRequest, contact_id: int, note_id: int) -> HttpResponse:
    note = _note_or_404(contact_id, note_id)
    form = forms.CustomerNoteEditForm(request.POST)
    if not form.is_valid():
        return _refused(request, note.contact, status=INVALID, edit_note=note.pk, edit_form=form)
    try:
        customer_notes.customer_note_edit(
            user=request.user, note=note, text=form.cleaned_data["text"], alert=form.cleaned_data["alert"]
        )
    except BookingError as exc:  # archived meanwhile: its form is gone, so the card says why
        return _refused(request, note.contact, status=REFUSED, card_error=exc.message)
    return _done(request, note.contact, "Note saved.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def customer_note_archive(request: HttpRequest, contact_id: int, note_id: int) -> HttpResponse:
    note = _note_or_404(contact_id, note_id)
    customer_notes.customer_note_archive(user=request.user, note=note)
    return _done(request, note.contact, "Note archived: it no longer shows at check-in.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def customer_note_restore(request: HttpRequest, contact_id: int, note_id: int) -> HttpResponse:
    note = _note_or_404(contact_id, note_id)
    customer_notes.customer_note_archive(user=request.user, note=note, archived=False)
    return _done(request, note.contact, "Note restored.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def customer_emergency(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact_or_404(contact_id)
    form = forms.EmergencyContactForm(request.POST)
    if not form.is_valid():
        return _refused(request, contact, status=INVALID, emergency_form=form)
    try:
        saved = customer_notes.emergency_contact_set(user=request.user, contact=contact, **form.cleaned_data)
    except BookingError as exc:
        form.add_error(None, exc.message)
        return _refused(request, contact, status=REFUSED, emergency_form=form)
    return _done(request, contact, "Emergency contact saved." if saved else "Emergency contact removed.")


# --- helpers -------------------------------------------------------------------------------------


def _card_or_404(contact_id: int) -> selectors.CustomerCardRead:
    card = selectors.customer_card_read(contact_id=contact_id) if contact_id <= MAX_PK else None
    if card is None:
        raise Http404("No such customer.")
    return card


def _contact_or_404(contact_id: int) -> Contact:
    contact = selectors.customer_contact_get(contact_id=contact_id) if contact_id <= MAX_PK else None
    if contact is None:
        raise Http404("No such customer.")
    return contact


def _note_or_404(contact_id: int, note_id: int) -> CustomerNote:
    note = None
    if contact_id <= MAX_PK and note_id <= MAX_PK:
        note = selectors.customer_note_get(contact_id=contact_id, note_id=note_id)
    if note is None:
        raise Http404("No such note for this customer.")
    return note


def _in_panel(request: HttpRequest) -> bool:
    return bool(request.htmx) and request.POST.get("panel") == "1"


def _done(request: HttpRequest, contact: Contact, message: str) -> HttpResponse:
    """Changed: htmx gets the card again (with a line saying what changed), a plain form post a
    redirect to the card page."""
    if not request.htmx:
        messages.success(request, message)
        return redirect("customer_card", contact_id=contact.pk)
    return _render(request, _card_or_404(contact.pk), panel=_in_panel(request), card_message=message)


def _refused(request: HttpRequest, contact: Contact, *, status: int, **forms_: Any) -> HttpResponse:
    """Bad input: the card again with the form and its errors, nothing changed."""
    return _render(request, _card_or_404(contact.pk), panel=_in_panel(request), status=status, **forms_)


def _render(
    request: HttpRequest, card: selectors.CustomerCardRead, *, panel: bool, status: int = 200, **extra: Any
) -> HttpResponse:
    owing = _owing(card)
    context = {
        "card": card,
        "contact": card.contact,
        "panel": panel and bool(request.htmx),
        "owing_now": [o for o in owing if not o.upcoming],
        "owing_upcoming": [o for o in owing if o.upcoming],
        "owes_now": _totals(o for o in owing if not o.upcoming),
        "owes_upcoming": _totals(o for o in owing if o.upcoming),
        "alert_choices": CustomerNote.Alert.choices,
        "counted_statuses": Payment.COUNTED_STATUSES,
        "note_form": None,
        "edit_note": None,
        "edit_form": None,
        "emergency_form": None,
        **extra,
    }
    template = "desk/customer.html#customer-card" if request.htmx else "desk/customer.html"
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _owing(card: selectors.CustomerCardRead) -> list[Owing]:
    """The customer's bookings that still owe something, by the desk's rule: owed now (the
    session was today or before, or a course), or to pay at a visit after today."""
    due = money.amounts_due(card.open_bookings)
    _, end_of_today = selectors.day_bounds(timezone.localdate())
    return [
        Owing(booking=b, amount=due[b.pk], upcoming=b.session is not None and b.session.start >= end_of_today)
        for b in card.open_bookings
        if due[b.pk] > 0
    ]


def _totals(owing: Any) -> list[tuple[Decimal, str]]:
    """The amounts by currency (one, nearly always), as (amount, currency)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for o in owing:
        sums[o.currency] += o.amount
    return [(amount, currency) for currency, amount in sums.items()]
