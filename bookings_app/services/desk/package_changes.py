"""A package changed at the front desk: cancelled as a whole (:func:`package_cancel`, with the
rule for cancelling one booking: :func:`package_cancel_refusal`), or sent again after Wix refused
it (:func:`package_retry`). Booked by ``services.desk.packages``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import roles
from bookings_app.models import BenefitBalance, Booking, DeskAction, Package, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.desk.changes import UNPAID, desk_money_taken
from bookings_app.services.desk.packages import PAY_METHODS
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus
Pay = Package.Pay

# --- cancelling it --------------------------------------------------------------------------------

NOT_CANCELLABLE_BY_DESK = (
    "Only a manager can cancel this package: the front desk may cancel only packages booked here today "
    "with nothing paid"
)


def package_cancel_refusal(*, user: Any, package: Package) -> str | None:
    """Why ``user`` may not cancel ``package`` (a sentence), or None — the rule for one booking
    (``changes.cancel_refusal``): with ``cancel_bookings`` any package; the front desk only one
    booked here today with nothing paid."""
    if ledger.has_perm(user, roles.CANCEL_BOOKINGS):
        return None
    if not ledger.has_perm(user, roles.USE_FRONT_DESK):
        return "You may not cancel bookings."
    day = timezone.localdate(package.created_at)
    if day != timezone.localdate():
        return f"{NOT_CANCELLABLE_BY_DESK}, and this one was booked on {day.day} {day:%b}."
    booking_ids = list(package.items.values_list("booking_id", flat=True))
    paid = (
        package.pay in (*PAY_METHODS, Pay.PLAN)
        or Booking.objects.filter(pk__in=booking_ids).exclude(payment_status__in=UNPAID).exists()
        or desk_money_taken(booking_ids)
    )
    if paid:
        return f"{NOT_CANCELLABLE_BY_DESK}, and this one has been paid."
    return None


def package_cancel(*, user: Any, package: Package, idempotency_key: str) -> DeskAction:
    """Cancel the whole package: its bookings are cancelled and their times free at once. When Wix
    never had it (its action still waiting, or refused before anything was created) nothing is
    sent and plan credits taken for it come back; else a ``PACKAGE_CANCEL`` action sends Cancel
    Multi-Service Booking (after the package's own action, if the worker has it right now).
    Cancelling takes no money back.

    Raises ``forbidden`` (:func:`package_cancel_refusal`), ``booking_cancelled`` (cancelled
    already), ``key_reused``, ``duplicate_request``.
    """
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        package = Package.objects.select_for_update(of=("self",)).select_related("contact", "action").get(pk=package.pk)
        done = ledger.existing(
            idempotency_key, Kind.PACKAGE_CANCEL, contact=package.contact, params={"package": package.pk}
        )
        if done is not None:
            return done
        if package.is_cancelled:
            raise BookingError("This package is cancelled already.", code="booking_cancelled")
        refusal = package_cancel_refusal(user=user, package=package)
        if refusal:
            raise BookingError(refusal, code="forbidden")
        booked = package.action
        local_only = not package.wix_id and (
            booked is None
            or (booked.status in (Status.QUEUED, Status.NEEDS_ATTENTION) and not booked.steps.get("create_sent_at"))
        )
        if booked is not None and booked.status in (Status.QUEUED, Status.NEEDS_ATTENTION):
            _stop(booked)
        credits_back = _credits_back(package, booked)
        items = list(package.items.select_related("booking", "booking__session"))
        bookings = [item.booking for item in items]
        Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
            status=Booking.Status.CANCELED, pending_sync=not local_only
        )
        # Wix removes a cancelled appointment's calendar event: its times are free again.
        Session.objects.filter(pk__in=[b.session_id for b in bookings if b.session_id]).update(status="CANCELLED")
        package.cancelled_at = timezone.now()
        package.cancelled_by = ledger.person(user)
        action = ledger.new_action(
            user=user,
            kind=Kind.PACKAGE_CANCEL,
            key=idempotency_key,
            contact=package.contact,
            params={"package": package.pk, "local_only": local_only},
            before={"statuses": {str(b.pk): b.status for b in bookings}},
            undo_window=False,
            schedule=not local_only,
        )
        if local_only:
            action.mark_synced(nothing_sent=True)
        package.cancel_action = action
        package.save(update_fields=["cancelled_at", "cancelled_by", "cancel_action"])
        audit_record(
            user=user,
            action="package.cancel",
            obj_type="package",
            obj_id=package.pk,
            summary=f"Cancelled {package.contact}'s package of {len(items)} "
            f"({timezone.localtime(package.start):%d %b %H:%M})"
            + (f"; {credits_back} plan credits back" if credits_back else "")
            + ("" if not local_only else " — Wix never had it"),
            before={"bookings": {str(b.pk): b.status for b in bookings}},
            after={"status": Booking.Status.CANCELED, "action": action.pk, "local_only": local_only},
        )
    return action


def _stop(booked: DeskAction) -> None:
    """The package's own action won't go on (and what waits on it, payments of its bookings)."""
    chain = [booked]
    frontier = [booked.pk]
    while frontier:
        waiting = list(
            DeskAction.objects.select_for_update().filter(
                depends_on_id__in=frontier, status__in=DeskAction.LIVE_STATUSES
            )
        )
        chain += waiting
        frontier = [a.pk for a in waiting]
    DeskAction.objects.filter(pk__in=[a.pk for a in chain]).update(
        status=Status.REMOVED, next_attempt_at=None, message="The package was cancelled.", updated_at=timezone.now()
    )
    for action in chain:
        was, action.status = action.status, Status.REMOVED
        action.log_change(was=was, reason="the package was cancelled")


def _credits_back(package: Package, booked: DeskAction | None) -> int:
    """Plan credits the desk took for the package that Wix never charged: put back."""
    if package.pay != Pay.PLAN or package.balance_id is None or booked is None:
        return 0
    if booked.status == Status.SYNCED or booked.steps.get("charge_sent") or booked.steps.get("charge_payment_ids"):
        return 0
    balance = BenefitBalance.objects.select_for_update().get(pk=package.balance_id)
    if balance.unlimited:
        return 0
    count = package.items.count()
    balance.remaining_credits = (balance.remaining_credits or Decimal("0")) + count
    balance.save(update_fields=["remaining_credits"])
    return count


def package_retry(*, user: Any, package: Package) -> DeskAction:
    """Send a package Wix refused again (after fixing things in Wix). Raises ``not_needing_attention``."""
    with transaction.atomic():
        action = DeskAction.objects.select_for_update(of=("self",)).filter(package=package).first()
        if action is None or action.status != Status.NEEDS_ATTENTION or package.is_cancelled:
            raise BookingError("This package doesn't need attention any more.", code="not_needing_attention")
        before = action.error_code
        action.requeue()
        ledger.schedule_push(action.run_after)
        audit_record(
            user=user,
            action="desk.retry",
            obj_type="package",
            obj_id=package.pk,
            summary=f"Retry: package for {package.contact}",
            before={"error": before},
        )
    return action
