"""Settle what people owe, from the owes list: cash, card or cheque for one booking, for all of a
person's, or for many people's bookings at once — or each booking on its person's plan.

However many bookings (of however many sessions), it is one commit of the roster's Settle
(``settle.bookings_settle_commit``): the same rules, the same desk actions pushed by the worker,
one batch that ``corrections.batch_undo`` takes back as one while its window lasts. The full
amount due is taken (a part payment is the roster's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bookings_app import selectors
from bookings_app.models import BenefitBalance, Booking, DeskAction
from bookings_app.services.desk import settle
from bookings_app.services.errors import BookingError

METHODS = ("cash", "card", "check", "plan")
MAX_BOOKINGS = 500  # one commit; a longer list is settled in pages


def owes_choices(*, booking_ids: list[int], method: str) -> list[settle.SettleChoice]:
    """The settle rows for ``booking_ids`` (each once) paid by ``method``; with ``plan`` each
    booking gets the plan of its person that ``money.best_balance`` suggests, the credits the
    earlier bookings (by session start) take counted — none when no plan fits (the commit then
    says so for that row).

    Raises ``BookingError`` ``method_invalid``, ``settle_invalid`` (no bookings, or too many).
    """
    method = (method or "").lower()
    if method not in METHODS:
        raise BookingError("Choose cash, card, cheque or their plan.", code="method_invalid")
    ids = list(dict.fromkeys(booking_ids))
    if not ids:
        raise BookingError("Choose at least one booking to settle.", code="settle_invalid")
    if len(ids) > MAX_BOOKINGS:
        raise BookingError(f"Settle at most {MAX_BOOKINGS} bookings at once.", code="settle_invalid")
    if method != "plan":
        return [settle.SettleChoice(booking_id=pk, resolution=method) for pk in ids]
    bookings = list(
        Booking.objects.filter(pk__in=ids).select_related("service", "session").order_by("session__start", "pk")
    )
    balances = selectors.owes_plan_balances(contact_ids=list({b.contact_id for b in bookings}))
    used: dict[int, int] = defaultdict(int)
    plans = {b.pk: selectors.owes_plan_for(b, balances.get(b.contact_id, []), used) for b in bookings}
    return [
        settle.SettleChoice(booking_id=pk, resolution="plan", balance_id=plan.pk if (plan := plans.get(pk)) else None)
        for pk in ids
    ]


@dataclass
class PreviewRow:
    booking: Booking  # contact, service and session loaded
    due: Decimal  # what the commit takes (the desk's amount due)
    balance: BenefitBalance | None  # the plan charged, for ``plan``


@dataclass
class Preview:
    method: str
    rows: list[PreviewRow]

    @property
    def total(self) -> Decimal:
        return sum((r.due for r in self.rows), Decimal("0"))

    @property
    def people(self) -> int:
        return len({r.booking.contact_id for r in self.rows})

    @property
    def currency(self) -> str:
        return self.rows[0].booking.service.currency if self.rows else ""


def owes_settle_check(*, booking_ids: list[int], method: str) -> Preview:
    """What :func:`owes_settle` would commit, checked (reads only): each booking with what it
    owes and the plan it goes on. Raises as :func:`owes_settle` does."""
    choices = owes_choices(booking_ids=booking_ids, method=method)
    settle.bookings_settle_check(rows=choices)
    balance_of = {c.booking_id: c.balance_id for c in choices}
    balances = BenefitBalance.objects.in_bulk([pk for pk in balance_of.values() if pk])
    rows = [
        PreviewRow(booking=booking, due=due, balance=balances.get(balance_of.get(booking.pk) or 0))
        for booking, due in selectors.owes_bookings_due(booking_ids=list(balance_of))
    ]
    return Preview(method=method, rows=rows)


def owes_settle(*, user: Any, booking_ids: list[int], method: str, idempotency_key: str) -> list[DeskAction]:
    """Take ``method`` for every booking of ``booking_ids`` — what each owes — in one commit, all
    or nothing. Raises ``BookingError`` ``method_invalid``, ``settle_invalid`` (``.row_errors``:
    booking pk → why), ``key_reused``, ``duplicate_request``."""
    choices = owes_choices(booking_ids=booking_ids, method=method)
    return settle.bookings_settle_commit(user=user, rows=choices, idempotency_key=idempotency_key)
