"""Cash-up: the person closing counts the till (:func:`cashup_count`), a manager signs the count
off (:func:`cashup_sign_off`), after which it is read-only.

A count is cash (by denomination, or one total), the card total and the cheque total, with a
note. The expected figures (``selectors.cashup_takings``: what the desk's actions say was
taken) are kept with it as they were at that moment, with the actions they were made of, so
the over/short of a count never moves under it. Counting again before the sign-off replaces the
count (each count audited, before → after). A manager signs off only what was counted against
the takings as they stand: if a desk action came, went or was undone since, the count is
refused until someone counts again. Nothing here reaches Wix.

Raises ``BookingError``: ``amount_invalid``, ``signed_off`` (read-only), ``forbidden``,
``cashup_changed``, ``duplicate_request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings_app import money, roles, selectors
from bookings_app.models import CashUp
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError

ZERO = Decimal("0")
MAX_AMOUNT = Decimal("1e8")  # the money columns hold 10 figures, 2 after the point
MAX_PIECES = 100_000

# Notes, then coins, largest first: the count form's rows for the site's currency. A currency
# not listed here is counted as one cash total.
DENOMINATIONS: dict[str, list[str]] = {
    "GBP": ["50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"],
    "EUR": ["200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"],
    "USD": ["100", "50", "20", "10", "5", "2", "1", "0.25", "0.10", "0.05", "0.01"],
    "AUD": ["100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05"],
    "CAD": ["100", "50", "20", "10", "5", "2", "1", "0.25", "0.10", "0.05"],
    "NZD": ["100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10"],
}


# How a coin below the unit is written: 50p, 20c, 25¢.
_SUBUNIT = {"GBP": "{}p", "EUR": "{}c", "USD": "{}¢", "AUD": "{}c", "CAD": "{}¢", "NZD": "{}c"}


def denominations(currency: str) -> list[Decimal]:
    return [Decimal(d) for d in DENOMINATIONS.get((currency or "").upper(), [])]


def denomination_label(value: Decimal, currency: str) -> str:
    """A note or coin as it is called: "£20", "£2", "50p"; "€5", "20c"."""
    currency = (currency or "").upper()
    if value < 1 and currency in _SUBUNIT:
        return _SUBUNIT[currency].format(int(value * 100))
    whole = money.format_money(value, currency)
    return whole[:-3] if whole.endswith(".00") else whole


@dataclass
class Count:
    """What the person closing entered: ``pieces`` (denomination → how many) or ``cash`` as one
    total; the card and cheque totals."""

    cash: Decimal | None = None
    pieces: dict[Decimal, int] | None = None
    card: Decimal = ZERO
    check: Decimal = ZERO
    note: str = ""


def _cash(count: Count, currency: str) -> tuple[Decimal, dict[str, int]]:
    if count.pieces:
        known = set(denominations(currency))
        unknown = [d for d in count.pieces if d not in known]
        if unknown:
            raise BookingError(
                f"{unknown[0]} is not a note or coin of {currency or 'this currency'}.", code="amount_invalid"
            )
        if any(n < 0 or n > MAX_PIECES for n in count.pieces.values()):
            raise BookingError(f"Count between 0 and {MAX_PIECES:,} of each note and coin.", code="amount_invalid")
        pieces = {str(d): n for d, n in sorted(count.pieces.items(), reverse=True) if n}
        return sum((d * n for d, n in count.pieces.items()), ZERO), pieces
    if count.cash is None:
        raise BookingError("Enter the cash counted (0 if there is none).", code="amount_invalid")
    return count.cash, {}


def cashup_count(*, user: Any, scope: selectors.CashupScope, count: Count) -> CashUp:
    """Save the count for ``scope`` (made, or replaced until it is signed off), with the expected
    figures as they are now. Raises ``amount_invalid``, ``signed_off``."""
    takings = selectors.cashup_takings(scope=scope)
    cash, pieces = _cash(count, takings.currency)
    for label, amount in (("cash", cash), ("card", count.card), ("cheque", count.check)):
        if amount is None or amount < 0 or amount >= MAX_AMOUNT or amount != amount.quantize(money.CENT):
            raise BookingError(f"Enter the {label} counted as an amount of 0 or more.", code="amount_invalid")
    note = " ".join((count.note or "").split())[:1000]
    with transaction.atomic():
        cashup = scope.cashups().select_for_update().first()
        if cashup is None:
            cashup = CashUp(scope=scope.kind, day=scope.day, session=scope.session, staff=scope.staff)
            before = None
        else:
            _refuse_signed_off(cashup)
            before = _counted(cashup)
        cashup.currency = takings.currency
        cashup.counted_cash, cashup.counted_card, cashup.counted_check = cash, count.card, count.check
        cashup.denominations = pieces
        cashup.expected_cash, cashup.expected_card, cashup.expected_check = takings.cash, takings.card, takings.check
        cashup.expected_actions = takings.snapshot()
        cashup.note = note
        cashup.counted_at = timezone.now()
        cashup.counted_by = ledger.person(user)
        try:
            with transaction.atomic():
                cashup.save()
        except IntegrityError:  # two people saved the first count of the same till at once
            raise BookingError(
                "Someone else just saved a count of this: reload to see it.", code="duplicate_request"
            ) from None
        over = money.format_money(cashup.over_short, cashup.currency)
        audit_record(
            user=user,
            action="cashup.count",
            obj_type="cashup",
            obj_id=cashup.pk,
            summary=f"{'Counted' if before is None else 'Counted again'}: {scope.label} "
            f"({'over' if cashup.over_short > 0 else 'short' if cashup.over_short < 0 else 'exact'} {over})",
            before=before,
            after=_counted(cashup),
        )
    return cashup


def cashup_sign_off(*, user: Any, cashup: CashUp, scope: selectors.CashupScope) -> CashUp:
    """A manager signs the count off: read-only from now on. Raises ``forbidden``, ``signed_off``
    (already), ``cashup_changed`` (the takings moved since the count)."""
    if not ledger.has_perm(user, roles.SIGN_OFF_CASHUPS):
        raise BookingError("Only a manager can sign off a cash-up.", code="forbidden")
    takings = selectors.cashup_takings(scope=scope)
    with transaction.atomic():
        cashup = CashUp.objects.select_for_update().get(pk=cashup.pk)
        _refuse_signed_off(cashup)
        if cashup.expected_actions != takings.snapshot():
            raise BookingError(
                "The desk's takings changed since this was counted (a payment added, undone or refunded): "
                "count again, then sign off.",
                code="cashup_changed",
            )
        cashup.signed_off_at = timezone.now()
        cashup.signed_off_by = ledger.person(user)
        cashup.save(update_fields=["signed_off_at", "signed_off_by"])
        audit_record(
            user=user,
            action="cashup.sign_off",
            obj_type="cashup",
            obj_id=cashup.pk,
            summary=f"Signed off the cash-up: {scope.label} "
            f"(over/short {money.format_money(cashup.over_short, cashup.currency)})",
            before={"signed_off": False},
            after={**_counted(cashup), "signed_off": True},
        )
    return cashup


def _refuse_signed_off(cashup: CashUp) -> None:
    if cashup.is_signed_off:
        raise BookingError("This cash-up is signed off: it can no longer be changed.", code="signed_off")


def _counted(cashup: CashUp) -> dict[str, Any]:
    return {
        "cash": str(cashup.counted_cash),
        "card": str(cashup.counted_card),
        "check": str(cashup.counted_check),
        "denominations": cashup.denominations,
        "expected": {
            "cash": str(cashup.expected_cash),
            "card": str(cashup.expected_card),
            "check": str(cashup.expected_check),
        },
        "over_short": str(cashup.over_short),
        "note": cashup.note,
    }
