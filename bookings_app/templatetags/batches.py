"""A batch of desk actions in words (a settle, a check in all): what a settle will record, what
one did, what reversing it takes back — and the roster's bar that undoes one while it can."""

from __future__ import annotations

from typing import Any

from django import template

from bookings_app import selectors
from bookings_app.models import Session
from bookings_app.money import format_money
from bookings_app.selectors import BatchTotals

register = template.Library()

METHOD_WORDS = (("cash", "cash"), ("card", "by card"), ("check", "by cheque"))


def people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _money_taken(totals: BatchTotals, currency: str, preposition: str) -> list[str]:
    """ "£720.00 cash from 60 people", "£24.00 by card from 2 people", … ("to" for a refund)."""
    parts = []
    for kind, words in METHOD_WORDS:
        count = getattr(totals, f"{kind}_count")
        if count:
            parts.append(f"{format_money(getattr(totals, kind), currency)} {words} {preposition} {people(count)}")
    return parts


def _owe(totals: BatchTotals, currency: str) -> str:
    n = totals.owes_count
    return f"{n} {'owes' if n == 1 else 'owe'} {format_money(totals.owes, currency)}"


def _sentence(parts: list[str]) -> str:
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


@register.filter
def settle_summary(totals: BatchTotals, currency: str = "") -> str:
    """What "Confirm" will record: "Record £720.00 cash from 60 people, charge 30 plans, 10 owe
    £120.00, check in 98 of 100." """
    parts = _money_taken(totals, currency, "from")
    if parts:
        parts[0] = f"record {parts[0]}"
    if totals.plan_count:
        parts.append(f"charge {_plural(totals.plan_count, 'plan')}")
    if totals.owes_count:
        parts.append(_owe(totals, currency))
    parts.append(f"check in {totals.check_ins} of {totals.people}")
    return _sentence(parts) + "."


@register.filter
def batch_summary(totals: BatchTotals, currency: str = "") -> str:
    """What a batch did: "£720.00 cash from 60 people, 30 plan charges, 10 owe £120.00, 98
    checked in, 2 no-shows" (no full stop: it sits inside a sentence)."""
    parts = _money_taken(totals, currency, "from")
    if totals.plan_count:
        parts.append(_plural(totals.plan_count, "plan charge"))
    if totals.owes_count:
        parts.append(_owe(totals, currency))
    if totals.check_ins:
        parts.append(f"{totals.check_ins} checked in")
    if totals.no_shows:
        parts.append(_plural(totals.no_shows, "no-show"))
    return ", ".join(parts) or "nothing"


@register.filter
def reverse_summary(totals: BatchTotals, currency: str = "") -> str:
    """What reversing takes back: "Refund £720.00 cash to 60 people and void 30 plan charges
    (the credit goes back)." """
    parts = _money_taken(totals, currency, "to")
    if parts:
        parts[0] = f"refund {parts[0]}"
    if totals.plan_count:
        parts.append(f"void {_plural(totals.plan_count, 'plan charge')} (the credit goes back)")
    if not parts:
        return "Nothing of it is in Wix to take back."
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return _sentence([text]) + "."


@register.filter
def batch_label(batch: selectors.Batch, currency: str = "") -> str:
    """A batch in a few words: "settle — £12.00 cash from 1 person, 1 checked in" or
    "check-in of 3 people"."""
    if batch.is_settle:
        return f"settle — {batch_summary(batch.totals, currency)}"
    return f"check-in of {people(batch.totals.check_ins + batch.totals.no_shows)}"


@register.inclusion_tag("desk/batch_undo.html", takes_context=True)
def batch_undo_bar(context: Any, session: Session) -> dict[str, Any]:
    """The roster's one Undo for each batch still in its undo window (a settle, a check in all).
    A batch in its window keeps its bookings waiting for Wix: with none waiting (the session's
    ``pending_count``, read with it) there is nothing to look for."""
    waiting = getattr(session, "pending_count", None) != 0
    return {
        "batches": selectors.session_batches_undoable(session=session) if waiting else [],
        "session": session,
        "currency": session.service.currency,
        "csrf_token": context.get("csrf_token"),
    }
