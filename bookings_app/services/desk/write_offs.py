"""Write off what a booking owes (:func:`write_off`), and take a write-off back
(:func:`write_off_reverse`). A manager's decision, with a reason, audited.

**What reaches Wix: nothing.** A write-off is not a desk action: the worker has no step for it
because Wix has nothing that means it. Wix's payment states say whether money came in, and none
did: "paid" (Mark Order As Paid, a payment of 0, Confirm Booking with ``paymentStatus: PAID``)
would put a lie in the Wix dashboard, in the customer's order history and in every report read
from them, and ``EXEMPT`` means the booking was free, which it was not (and Wix only takes it
while confirming a booking). So the booking and its order keep what Wix says (NOT_PAID,
PARTIALLY_PAID), the mirror is not touched, and the write-off — its own row
(``models.WriteOff``) — takes the booking off the owes list and out of the desk's "unpaid"
counts. A later sync cannot undo it (it changes nothing sync writes), and a reversal puts the
booking back on the list. If the customer pays after all, the desk takes the money as usual.

Raises ``BookingError``: ``forbidden`` (needs the write-off permission), ``reason_required``,
``booking_cancelled``, ``already_paid``, ``already_written_off``, ``not_written_off``,
``idempotency_missing``, ``key_reused``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings_app import money, roles
from bookings_app.models import AuditEntry, Booking, WriteOff
from bookings_app.services import ledger
from bookings_app.services.audit import audit_entry, audit_record
from bookings_app.services.errors import BookingError

REASON_MIN = 3
REASON_MAX = 500
MAX_BOOKINGS = 200


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise BookingError("Say why it is written off (a few words).", code="reason_required")
    if len(reason) > REASON_MAX:
        raise BookingError(f"Keep the reason under {REASON_MAX} characters.", code="reason_required")
    return reason


def write_off(*, user: Any, bookings: list[Booking], reason: str, idempotency_key: str) -> list[WriteOff]:
    """Write off what each of ``bookings`` owes now (the desk's amount due), all or nothing, one
    audit entry per booking. A re-sent form returns what it wrote off the first time."""
    ledger.require_key(idempotency_key)
    if not ledger.has_perm(user, roles.WRITE_OFF):
        raise BookingError("Only a manager can write off what someone owes.", code="forbidden")
    reason = _reason(reason)
    ids = sorted({b.pk for b in bookings})
    if not ids or len(ids) > MAX_BOOKINGS:
        raise BookingError(f"Choose between 1 and {MAX_BOOKINGS} bookings to write off.", code="settle_invalid")
    keys = {pk: f"{idempotency_key}:{pk}" for pk in ids}
    with transaction.atomic():
        done = _done(idempotency_key, ids)
        if done:
            return done
        locked = list(
            Booking.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .select_related("contact", "service")
            .order_by("pk")
        )
        done = _done(idempotency_key, ids)
        if done:  # the same form, sent twice at once: the other request wrote it
            return done
        dues = money.amounts_due(locked)
        standing = set(
            WriteOff.objects.filter(booking_id__in=ids, reversed_at__isnull=True).values_list("booking_id", flat=True)
        )
        errors: list[tuple[str, str]] = []  # (code, what is wrong)
        for booking in locked:
            if booking.status not in Booking.ACTIVE_STATUSES:
                status = booking.get_status_display().lower()
                errors.append(("booking_cancelled", f"{booking.contact}'s booking is {status}"))
            elif booking.pk in standing:
                errors.append(("already_written_off", f"{booking.contact}'s booking is written off already"))
            elif dues[booking.pk] <= 0:
                errors.append(("already_paid", f"{booking.contact} has nothing left to pay"))
        if len(locked) != len(ids):
            errors.append(("booking_cancelled", "a booking is no longer there"))
        if errors:
            message = "Nothing was written off: " + "; ".join(what for _, what in errors) + "."
            raise BookingError(message, code=errors[0][0])
        now = timezone.now()
        rows = [
            WriteOff(
                booking=booking,
                contact=booking.contact,
                amount=dues[booking.pk],
                currency=booking.service.currency,
                reason=reason,
                idempotency_key=keys[booking.pk],
                created_at=now,
                created_by=ledger.person(user),
            )
            for booking in locked
        ]
        try:
            with transaction.atomic():
                rows = WriteOff.objects.bulk_create(rows)
        except IntegrityError:
            raise BookingError("This was just done from another screen.", code="duplicate_request") from None
        AuditEntry.objects.bulk_create(
            audit_entry(
                user=user,
                action="payment.write_off",
                obj_type="booking",
                obj_id=row.booking_id,
                summary=f"Wrote off {money.format_money(row.amount, row.currency)} owed by {row.contact}: {reason}",
                before={"payment_status": row.booking.payment_status, "due": str(row.amount)},
                after={"written_off": str(row.amount), "reason": reason, "write_off": row.pk},
            )
            for row in rows
        )
    return rows


def _done(key: str, ids: list[int]) -> list[WriteOff]:
    """What an earlier send of this form wrote off; ``key_reused`` when it was for other bookings."""
    done = list(WriteOff.objects.filter(idempotency_key__startswith=f"{key}:").order_by("booking_id"))
    if done and sorted(w.booking_id for w in done) != ids:
        raise BookingError(
            "This form was already used for other bookings. Nothing was changed: reload the page and try again.",
            code="key_reused",
        )
    return done


def write_off_reverse(*, user: Any, write_off: WriteOff, reason: str = "") -> WriteOff:
    """Take a write-off back: the booking owes again (and is back on the owes list if it still
    owes). Raises ``forbidden``, ``not_written_off`` (reversed already)."""
    if not ledger.has_perm(user, roles.WRITE_OFF):
        raise BookingError("Only a manager can take back a write-off.", code="forbidden")
    reason = " ".join((reason or "").split())[:REASON_MAX]
    with transaction.atomic():
        row = WriteOff.objects.select_for_update().select_related("contact").get(pk=write_off.pk)
        if row.reversed_at is not None:
            raise BookingError("This write-off was already taken back.", code="not_written_off")
        row.reversed_at = timezone.now()
        row.reversed_by = ledger.person(user)
        row.reverse_reason = reason
        row.save(update_fields=["reversed_at", "reversed_by", "reverse_reason"])
        audit_record(
            user=user,
            action="payment.write_off_reverse",
            obj_type="booking",
            obj_id=row.booking_id,
            summary=f"Took back the write-off of {money.format_money(row.amount, row.currency)} "
            f"owed by {row.contact}" + (f": {reason}" if reason else ""),
            before={"written_off": str(row.amount), "write_off": row.pk},
            after={"written_off": None, "reason": reason},
        )
    return row
