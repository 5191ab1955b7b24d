"""What the desk's view modules share: the status codes of a refusal, finding the session,
booking or desk action of a URL (404 otherwise), a re-sent form, and the customer search of
the walk-in and appointment screens."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.http import Http404, HttpRequest
from django.urls import get_script_prefix, reverse

from bookings_app import converters, money, selectors, wix
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Service, Session
from bookings_app.services import customers, desk

INVALID = 422  # the form is wrong: fix the field
REFUSED = 409  # a business rule said no (BookingError): the message says why
ROSTER_CHANGED = "rosterChanged"  # htmx event: the header and head count refresh
MAX_SEARCH_LENGTH = 100
MAX_PK = 2**63 - 1


def session_or_404(ref: str, numbers: selectors.SessionNumbers = "all") -> Session:
    session = selectors.session_get(ref=ref, numbers=numbers)
    if session is None:
        raise Http404("No such session.")
    return session


def booking_or_404(session: Session, booking_id: int) -> Booking:
    if booking_id > MAX_PK:  # no row of ours (and SQLite could not even compare it)
        raise Http404("No such booking on this roster.")
    booking = selectors.roster_booking_get(session=session, booking_id=booking_id)
    if booking is None:
        raise Http404("No such booking on this roster.")
    return booking


def action_or_404(session: Session, action_id: int) -> DeskAction:
    action = selectors.desk_action_get(session=session, action_id=action_id)
    if action is None or action.booking_id is None:
        raise Http404("No such desk action on this roster.")
    return action


_STAND_IN = "987654321"  # what every converter here takes: the one argument, while the URL is reversed
_PATH_SAFE = "!$&'()*+,;=/~:@"  # what ``reverse`` leaves unquoted in a path (RFC 3986's sub-delims, pchar)


def url_filler(name: str, converter: type[Any] = converters.RefConverter) -> Callable[[Any], str]:
    """``reverse(name, args=[value])`` for a page's many values — a row's roster, a case's fixes:
    the URL reversed once around a stand-in, then completed per value as ``reverse`` completes it
    (the converter's ``to_url``, quoted as a path is). A value the converter would not take goes
    through ``reverse`` itself, which refuses it. A URL reversed costs ~0.1 ms; a page has dozens."""
    head, tail = reverse(name, args=[_STAND_IN]).split(_STAND_IN)
    takes = re.compile(converter.regex).fullmatch
    to_url = converter().to_url

    def fill(value: Any) -> str:
        text = to_url(value)
        if takes(text):
            return f"{head}{quote(text, safe=_PATH_SAFE)}{tail}"
        return reverse(name, args=[value])

    return fill


def roster_url(session: Session, booking_id: int | None = None) -> str:
    url = reverse("roster", args=[session.ref])
    return f"{url}#booking-{booking_id}" if booking_id else url


def already_done(request: HttpRequest, key_suffix: str = "") -> bool:
    """A re-sent form (double tap, a retried POST): its token already made this very action — on
    the URL's booking, with the fields sent now. A token that made something else is not "done":
    the service refuses it (``key_reused``) with a message."""
    key = request.POST.get("idempotency_key", "").strip()
    action = selectors.desk_action_by_key(key=key + key_suffix) if key else None
    return action is not None and _same_form(request, action)


# Form fields and the ``params`` of the action the form made that must match for "sent again".
_SAME_PARAMS = {
    "method": "method",
    "status": "status",
    "balance": "balance_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
}


def _same_form(request: HttpRequest, action: DeskAction) -> bool:
    booking_id = request.resolver_match.kwargs.get("booking_id") if request.resolver_match else None
    if booking_id is not None and action.booking_id != booking_id:
        return False
    post = request.POST
    if "contact" in post and str(action.contact_id) != post["contact"].strip():
        return False
    if post.get("amount", "").strip() and money.parse_amount(post["amount"]) != money.parse_amount(
        action.params.get("amount")
    ):
        return False
    for field, param in _SAME_PARAMS.items():
        if field in post and param in action.params and str(action.params[param]) != post[field].strip():
            return False
    return True


def who(booking: Booking | Contact) -> str:
    contact = booking.contact if isinstance(booking, Booking) else booking
    return contact.full_name or contact.email or contact.phone or "the customer"


def int_or_none(value: str | None) -> int | None:
    """An id from a form or query string: ASCII digits that fit a key, else None (converters.py)."""
    return converters.id_or_none(value)


# --- finding the customer (walk-in, appointment) ---------------------------------------------------


@dataclass
class HitChoice:
    """A customer search hit with what the desk can offer them for this service."""

    hit: customers.CustomerHit
    plans: list[BenefitBalance]
    booked: bool = False  # already on this session's roster
    error: str = ""
    offer_override: bool = False
    pay: str = ""  # the pay choice that was refused, to offer it again with "override"
    participants: str = ""  # the group size that was refused, as typed

    @property
    def card_url(self) -> str:
        """The customer card's URL, without a ``reverse()`` per hit (twenty hits, as you type)."""
        head, tail = _card_url_parts(get_script_prefix())
        return f"{head}{self.hit.contact.pk}{tail}"


_ANY_CONTACT = 4_611_686_018_427_387_904  # a contact id no real URL contains (2**62)


@functools.lru_cache(maxsize=8)
def _card_url_parts(script_prefix: str) -> tuple[str, str]:
    head, _, tail = reverse("customer_card", args=[_ANY_CONTACT]).rpartition(str(_ANY_CONTACT))
    return head, tail


def hit_choices(hits: list[customers.CustomerHit], service: Service, session: Session | None = None) -> list[HitChoice]:
    booked = (
        selectors.roster_contact_ids(session=session, contact_ids=[h.contact.pk for h in hits])
        if session is not None and hits
        else set()
    )
    return [
        HitChoice(
            hit=h,
            plans=[b for b in h.balances if money.balance_covers(b, service)],
            booked=h.contact.pk in booked,
        )
        for h in hits
    ]


def customer_hits(query: str, *, ask_wix: bool) -> tuple[list[customers.CustomerHit], str]:
    """Customer hits and, when Wix could not be asked (a mirror-only result), the note that says
    why ("" otherwise). The Wix lookup is bounded: the interactive client's read timeout and its
    wait for the rate budget."""
    if not query:
        return [], ""
    if not ask_wix:
        hits = customers.customer_search(query=query)
    else:
        with wix.get_wix_client(interactive=True) as client:
            hits = customers.customer_search(query=query, wix=client)
    return list(hits), hits.wix_note


PAY_DONE = {
    "CASH": "paid cash",
    "CARD": "paid by card",
    "CHECK": "paid by cheque",
    "PLAN": "charged to plan",
    "LATER": "pays later",
}


def booked_message(booking: Booking, data: dict[str, Any]) -> str:
    paid = PAY_DONE.get(data.get("pay") or "")
    group = f" ({booking.total_participants} people)" if booking.total_participants > 1 else ""
    return f"Added {who(booking)}{group}{f' — {paid}' if paid else ''}."


def book(
    request: HttpRequest,
    data: dict[str, Any],
    *,
    session: Session | None = None,
    service: Service | None = None,
    slot: dict[str, Any] | None = None,
    new: bool = False,
) -> Booking:
    """Book the walk-in or appointment form's customer — the chosen one, or with ``new`` the one
    the form describes — paid as chosen: ``desk.walk_in_book``. Raises ``BookingError``."""
    customer = None
    if new:
        customer = customers.NewCustomer(
            first_name=data["first_name"], last_name=data["last_name"], email=data["email"], phone=data["phone"]
        )
    return desk.walk_in_book(
        user=request.user,
        contact=None if new else data["contact"],
        new_customer=customer,
        session=session,
        service=service,
        slot=slot,
        participants=data.get("participants") or 1,
        override_capacity=bool(data.get("override_capacity")),
        pay=data.get("pay") or "",
        balance=data.get("balance"),
        idempotency_key=data["idempotency_key"],
    )
