"""The drift watchdog's one-click fixes (the cases are ``selectors.drift``'s):

* :func:`drift_retry` — send a stuck desk action again: one needing attention as the roster's Retry
  does (``desk.action_resolve``), one waiting out a backoff (or whose worker died) at once;
* :func:`booking_resync` — read one booking from Wix again, with its order, payments and
  attendance and the member's plans, and take Wix's word for it (run by a background task,
  ``tasks.booking_resync_task``, never in a request); :func:`booking_resync_requested` records who
  asked;
* :func:`attended_pay` — record the payment of someone who came and did not pay, through the desk's
  own payment action (``desk.payment_record``), so it reaches Wix like any other.

"Open in Wix" is a link (``wix.dashboard``) and needs nothing here. Every fix records an audit
entry and forgets the header's drift count.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import money
from bookings_app.models import BenefitBalance, Booking, DeskAction, Member, Order
from bookings_app.selectors import drift as drift_read
from bookings_app.selectors.drift_cases import OWN_PAGE_KINDS
from bookings_app.services import desk, ledger, mirror
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.wix import WixClient, extended_bookings

logger = logging.getLogger("bookings_app.services.drift")

Status = DeskAction.Status
ACTOR = "drift"  # the mirror writes of a re-sync (and their "changed in Wix" audit entries)


def drift_retry(*, user: Any, action: DeskAction) -> DeskAction:
    """Send ``action`` to Wix again now.

    Raises ``BookingError`` ``not_stuck`` (it reached Wix, or was undone or removed),
    ``being_sent`` (a worker holds it right now), ``choice_invalid`` (a package or a course term:
    their own page retries what Wix refused of them).
    """
    if action.kind in OWN_PAGE_KINDS:
        raise BookingError("Retry this from its own page: it knows which parts Wix refused.", code="choice_invalid")
    if action.status == Status.NEEDS_ATTENTION:
        done = desk.action_resolve(user=user, action=action, choice="retry")
        transaction.on_commit(drift_read.drift_forget)
        return done or action
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if action.status == Status.RUNNING and action.next_attempt_at and action.next_attempt_at > timezone.now():
            raise BookingError("This is being sent to Wix right now; look again in a minute.", code="being_sent")
        if action.status not in (Status.QUEUED, Status.RUNNING, Status.NEEDS_ATTENTION):
            raise BookingError(f"Nothing to retry: this is {action.get_status_display().lower()}.", code="not_stuck")
        if action.status == Status.NEEDS_ATTENTION:  # it was refused meanwhile: decided as above
            return desk.action_resolve(user=user, action=action, choice="retry") or action
        waited = action.next_attempt_at
        before = {"next_try": _local(waited) if waited else "when due", "last_error": action.last_error[:200]}
        action.requeue()
        ledger.schedule_push(action.run_after)
        audit_record(
            user=user,
            action="drift.retry",
            obj_type="booking" if action.booking_id else "desk_action",
            obj_id=action.booking_id or action.pk,
            summary=f"Sent again now: {action.get_kind_display()} for {ledger.who(action)}"
            + (f" ({action.attempts} tr{'y' if action.attempts == 1 else 'ies'} so far)" if action.attempts else ""),
            before=before,
            after={"next_try": "now", "last_error": before["last_error"], "action": action.pk},
        )
        transaction.on_commit(drift_read.drift_forget)
    return action


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def booking_resync_requested(*, user: Any, booking: Booking) -> None:
    """Record that ``user`` asked for ``booking`` to be read from Wix again (the caller queues the
    task). Raises ``BookingError`` ``not_in_wix`` for a booking Wix has not made yet."""
    if not booking.wix_id:
        raise BookingError("This booking is not in Wix yet: there is nothing to read back.", code="not_in_wix")
    audit_record(
        user=user,
        action="drift.resync",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Asked to read {booking.contact}'s booking from Wix again",
        after={"booking": booking.wix_id},
    )


def booking_resync(*, wix: WixClient, booking_id: int) -> dict[str, Any]:
    """Read one booking from Wix (Query Extended Bookings by id, with its order and attendance),
    its orders' payments and the member's plans and credits, and write them as Wix has them.

    The mirror's versions of the booking, its orders and the member's credits are forgotten first, so Wix's answer
    replaces them even at the same revision (a row the mirror holds differently at Wix's version:
    the reason to re-sync); a booking with a desk change on its way is left to the worker, as the
    sync leaves it. Raises ``WixError``; returns what was found and written.
    """
    booking = Booking.objects.select_related("contact").filter(pk=booking_id).first()
    if booking is None or not booking.wix_id:
        return {"found": False, "written": {}}
    Booking.objects.filter(pk=booking.pk, pending_sync=False).update(revision=None, wix_updated_at=None)
    Order.objects.filter(line_items__booking=booking).update(revision=None, wix_updated_at=None)
    run = MirrorRun(wix=wix, actor=ACTOR, full=True)
    answer = run.call(
        extended_bookings.query_extended_bookings,
        query={"filter": {"id": booking.wix_id}, "cursorPaging": {"limit": 1}},
        with_booking_attendance_info=True,
        with_ecom_order=True,
    )
    found = answer.get("extendedBookings") or []
    if found:
        mirror.bookings.extended_apply(run, found, refresh_contacts=True)
    member = Member.objects.filter(contact_id=booking.contact_id).exclude(wix_id=None).first()
    if member is not None:
        BenefitBalance.objects.filter(member=member).update(revision=None, wix_updated_at=None)
        mirror.member_plans_refresh(wix=wix, member_ids=[member.wix_id], actor=ACTOR)
    drift_read.drift_forget()
    written = {model: n for model, n in run.written.items() if n}
    logger.info("drift: re-read booking %s from Wix: %s", booking.wix_id, written or "nothing new")
    return {"found": bool(found), "written": written, "calls": run.calls}


def attended_pay(*, user: Any, booking: Booking, method: str, idempotency_key: str) -> DeskAction:
    """Take what ``booking`` still owes in ``method`` (cash, card, cheque): the desk's payment
    action, pushed to Wix by the worker. Raises ``BookingError`` as ``desk.payment_record`` does
    (``already_paid`` when nothing is due)."""
    due = money.amount_due(booking)
    if due <= 0:
        raise BookingError(ledger.already_paid_message(booking), code="already_paid")
    action = desk.payment_record(user=user, booking=booking, method=method, amount=due, idempotency_key=idempotency_key)
    drift_read.drift_forget()
    return action
