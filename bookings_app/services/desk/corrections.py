"""Taking desk actions back: undo one still in its undo window (:func:`action_undo`), decide
about one Wix refused (:func:`action_resolve`: retry, override, cash instead, remove), reverse
one Wix already has as a new action (:func:`action_reverse`: cancel, void, refund).

A batch — the actions of one settle or one check in all, sharing a ``batch_id`` — is taken back
as one: undone while its undo window lasts (:func:`batch_undo`), reversed by a manager once
Wix has it (:func:`batch_reverse`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app import money, roles, selectors
from bookings_app.models import Attendance, BenefitBalance, Booking, DeskAction, PlanOrder, Service, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.desk.payments import METHOD_LABELS
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus

# What is taken back when a synced action is reversed, and the permission that needs.
REVERSALS = {
    Kind.WALK_IN: (Kind.CANCEL_BOOKING, None),
    Kind.PLAN_CHARGE: (Kind.VOID_PLAN_CHARGE, roles.VOID_PAYMENTS),
    Kind.PAYMENT: (Kind.REFUND, roles.VOID_PAYMENTS),
}


def action_undo(*, user: Any, action: DeskAction) -> None:
    """Take back an action still in its undo window: the mirror is put back as it was, nothing
    reaches Wix; what waited on it (a payment on an undone walk-in) goes too.

    Raises ``BookingError`` ``too_late_to_undo`` once the window has passed or the worker has it.
    """
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if not action.can_undo():
            raise BookingError(
                "Too late to undo: this has gone to Wix (or is on its way). Use reverse instead.",
                code="too_late_to_undo",
            )
        _drop(user=user, action=action, status=Status.UNDONE, verb="undo")


def action_resolve(*, user: Any, action: DeskAction, choice: str) -> DeskAction | None:
    """What staff decided about an action Wix refused (NEEDS_ATTENTION):

    * ``retry`` — send it again (after fixing things in Wix, say);
    * ``override`` — a manager books the walk-in into the full class anyway;
    * ``cash_instead`` — the plan had no credit: take cash at the price (returns the new action);
    * ``remove`` — drop the walk-in / payment and put the mirror back (returns None).

    Raises ``BookingError`` ``not_needing_attention``, ``choice_invalid``, ``forbidden``,
    ``already_paid`` (cash instead, when nothing is due any more).
    """
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if action.status != Status.NEEDS_ATTENTION:
            raise BookingError("This doesn't need attention any more.", code="not_needing_attention")
        if choice == "retry":
            _requeue(action)
            audit_record(
                user=user,
                action="desk.retry",
                obj_type="desk_action",
                obj_id=action.pk,
                summary=f"Retry: {action.get_kind_display()} for {ledger.who(action)}",
                before={"error": action.error_code},
            )
            return action
        if choice == "override":
            if action.kind != Kind.WALK_IN:
                raise BookingError("Only a walk-in can be booked in over capacity.", code="choice_invalid")
            if not ledger.has_perm(user, roles.OVERRIDE_CAPACITY):
                raise BookingError("Only a manager can book someone into a full class.", code="forbidden")
            action.params = {**action.params, "override_capacity": True}
            _requeue(action)
            audit_record(
                user=user,
                action="booking.override_capacity",
                obj_type="booking",
                obj_id=action.booking_id,
                summary=f"Override: {ledger.who(action)} booked into a full session",
                before={"error": action.error_code},
                after={"override_capacity": True},
            )
            return action
        if choice == "cash_instead":
            if action.kind != Kind.PLAN_CHARGE:
                raise BookingError("Cash instead is for a plan charge that failed.", code="choice_invalid")
            return _cash_instead(user=user, action=action)
        if choice == "remove":
            if action.kind == Kind.PLAN_SALE and action.steps.get("order_id"):
                raise BookingError(
                    "Wix has this plan order already: cancel it in the Wix dashboard, or retry.",
                    code="choice_invalid",
                )
            _drop(user=user, action=action, status=Status.REMOVED, verb="remove")
            return None
    raise BookingError("Choose retry, override, cash instead or remove.", code="choice_invalid")


def action_reverse(*, user: Any, action: DeskAction, idempotency_key: str) -> DeskAction:
    """Take back an action Wix already has, the way Wix allows, as a new action: a walk-in is
    cancelled, a plan charge voided (the credit comes back), a payment refunded.

    Raises ``BookingError`` ``not_reversible`` (not synced, or nothing Wix can take back),
    ``already_reversed``, ``forbidden`` (voids and refunds need the void-payments permission).
    """
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        action = DeskAction.objects.select_for_update().get(pk=action.pk)
        if action.kind not in REVERSALS:
            raise BookingError("This can't be taken back.", code="not_reversible")
        reverse_kind, permission = REVERSALS[action.kind]
        done = ledger.existing(idempotency_key, reverse_kind, params={"reverses": action.pk})
        if done is not None:
            return done
        if action.status != Status.SYNCED:
            raise BookingError(
                "Only what Wix already has can be reversed; undo or remove it instead.", code="not_reversible"
            )
        if permission and not ledger.has_perm(user, permission):
            raise BookingError("Only a manager can void or refund a payment.", code="forbidden")
        if DeskAction.objects.filter(
            params__reverses=action.pk, status__in=(*DeskAction.LIVE_STATUSES, Status.SYNCED)
        ).exists():
            raise BookingError("This was already reversed.", code="already_reversed")
        if action.booking is None:
            raise BookingError("The booking is gone.", code="not_reversible")
        booking = ledger.lock_booking(action.booking, allow_cancelled=reverse_kind != Kind.CANCEL_BOOKING)
        before = ledger.booking_money_state(booking) | {"status": booking.status}
        extra: dict[str, Any] = {}
        params: dict[str, Any] = {"reverses": action.pk}
        if reverse_kind == Kind.CANCEL_BOOKING:
            booking.status = Booking.Status.CANCELED
            summary = f"Cancelled {booking.contact}'s booking"
            audit_action = "booking.cancel"
        elif reverse_kind == Kind.VOID_PLAN_CHARGE:
            balance = BenefitBalance.objects.select_for_update().filter(pk=action.params.get("balance_id")).first()
            if balance is not None and not balance.unlimited:
                extra["credits"] = ledger.str_or_none(balance.remaining_credits)
                balance.remaining_credits = (balance.remaining_credits or Decimal("0")) + money.credits_needed(booking)
                balance.save(update_fields=["remaining_credits"])
            booking.payment_status = PS.NOT_PAID
            booking.selected_payment_option = Booking.PaymentOption.OFFLINE
            params.update({k: action.params.get(k) for k in ("balance_id", "pool_id", "member_id", "plan_name")})
            summary = f"Voided the plan charge for {booking.contact} (credit back)"
            audit_action = "payment.void_plan"
        else:
            booking.payment_status = PS.REFUNDED
            params.update({"amount": action.params.get("amount"), "method": action.params.get("method")})
            method_label = METHOD_LABELS.get(action.params.get("method"), "")
            taken = money.parse_amount(action.params.get("amount"))
            amount = money.format_money(taken, booking.service.currency) if taken is not None else "the payment"
            summary = f"Refunded {amount} {method_label.lower()} to {booking.contact}"
            audit_action = "payment.refund"
        booking.pending_sync = True
        booking.save(update_fields=["status", "payment_status", "selected_payment_option", "pending_sync"])
        reverse = ledger.new_action(
            user=user,
            kind=reverse_kind,
            key=idempotency_key,
            booking=booking,
            session=booking.session,
            contact=booking.contact,
            depends_on=ledger.money_dependency(booking),
            params=params,
            before={"booking": before, **extra},
            undo_window=False,
        )
        audit_record(
            user=user,
            action=audit_action,
            obj_type="booking",
            obj_id=booking.pk,
            summary=summary,
            before={**before, **extra},
            after={**ledger.booking_money_state(booking), "status": booking.status, "action": reverse.pk},
        )
    return reverse


def batch_undo(*, user: Any, session: Session | None, batch_id: str) -> list[DeskAction]:
    """Take back a whole batch — a settle, a check in all — while its undo window lasts: every
    action of it, and what was built on them (what waits on them, a later check-in or no-show of
    the same person), is dropped and the mirror put back, with one audit entry. All or nothing;
    returns the batch's actions undone (empty when it was undone already). ``session`` None: a
    batch of many sessions (a settle from the owes list), all of it.

    Raises ``BookingError`` ``batch_not_found`` (no such batch on this session),
    ``too_late_to_undo`` (some of it has gone to Wix, or its window has passed).
    """
    with transaction.atomic():
        found = DeskAction.objects.select_for_update().filter(batch_id=batch_id)
        if session is not None:
            found = found.filter(session=session)
        actions = list(found.order_by("pk"))
        if not batch_id or not actions:
            where = "on this session" if session is not None else "to undo"
            raise BookingError(f"There is no such batch of changes {where}.", code="batch_not_found")
        standing = [a for a in actions if a.status not in (Status.UNDONE, Status.REMOVED)]
        if not standing:
            return []
        now = timezone.now()
        if not all(a.can_undo(now=now) for a in standing):
            raise BookingError(
                "Too late to undo: this has gone to Wix (or is on its way). A manager can reverse it.",
                code="too_late_to_undo",
            )
        built_on = [*_waiting_on(standing), *_later_attendance(standing)]
        chain = [*standing, *{a.pk: a for a in built_on}.values()]
        _unwind(chain, status=Status.UNDONE)
        where = f"to {session.title or session}" if session is not None else "from the owes list"
        audit_record(
            user=user,
            action="desk.undo_batch",
            obj_type="session" if session is not None else "batch",
            obj_id=session.pk if session is not None else batch_id,
            summary=f"Undo: {len(standing)} changes {where} made at once",
            before={"actions": [a.pk for a in chain]},
            after={"batch": batch_id, "undone": len(standing)},
        )
    return standing


def batch_reverse(*, user: Any, session: Session, batch_id: str, idempotency_key: str) -> list[DeskAction]:
    """A manager takes back a batch Wix already has: each of its payments is refunded and each
    plan charge voided (credit back), one :func:`action_reverse` each, in one transaction, with
    one more audit entry for the batch. Check-ins and "owes" stay; what is not in Wix yet is left
    as it is (undo, remove or reverse it once it is there). Returns the reversals.

    Raises ``BookingError`` ``forbidden``, ``batch_not_found``, ``not_reversible`` (nothing of
    it in Wix to take back), ``already_reversed``, or any :func:`action_reverse` raises.
    """
    ledger.require_key(idempotency_key)
    if not ledger.has_perm(user, roles.VOID_PAYMENTS):
        raise BookingError("Only a manager can reverse a settle.", code="forbidden")
    with transaction.atomic():
        done = list(DeskAction.objects.filter(idempotency_key__startswith=f"{idempotency_key}:").order_by("pk"))
        if done:
            return done
        actions = list(DeskAction.objects.filter(session=session, batch_id=batch_id).order_by("pk"))
        if not batch_id or not actions:
            raise BookingError("There is no such batch of changes on this session.", code="batch_not_found")
        money_actions = [a for a in actions if a.kind in (Kind.PAYMENT, Kind.PLAN_CHARGE)]
        reversed_ids = selectors.reversed_action_ids(booking_ids={a.booking_id for a in money_actions})
        to_reverse = [a for a in money_actions if a.status == Status.SYNCED and a.pk not in reversed_ids]
        if not to_reverse:
            if money_actions and all(a.pk in reversed_ids for a in money_actions):
                raise BookingError("This was already reversed.", code="already_reversed")
            raise BookingError("Nothing of this is in Wix to take back yet.", code="not_reversible")
        reversals = [
            action_reverse(user=user, action=a, idempotency_key=f"{idempotency_key}:{a.pk}") for a in to_reverse
        ]
        audit_record(
            user=user,
            action="desk.reverse_batch",
            obj_type="session",
            obj_id=session.pk,
            summary=f"Reversed {len(reversals)} payments and plan charges made at once in {session.title or session}",
            after={"batch": batch_id, "reversals": [a.pk for a in reversals]},
        )
    return reversals


def _requeue(action: DeskAction) -> None:
    action.requeue()
    ledger.schedule_push(action.run_after)


def _cash_instead(*, user: Any, action: DeskAction) -> DeskAction:
    booking = action.booking
    assert booking is not None
    _drop(user=user, action=action, status=Status.REMOVED, verb="cash_instead", cascade=False)
    booking = ledger.lock_booking(booking)
    due = money.amount_due(booking)
    if due <= 0:
        raise BookingError(ledger.already_paid_message(booking), code="already_paid")
    before = ledger.booking_money_state(booking)
    booking.payment_status = PS.PAID
    ledger.offline_option(booking)
    booking.pending_sync = True
    booking.save(update_fields=["payment_status", "selected_payment_option", "pending_sync"])
    cash = ledger.new_action(
        user=user,
        kind=Kind.PAYMENT,
        key=f"{action.idempotency_key}:cash",
        booking=booking,
        session=booking.session,
        contact=booking.contact,
        depends_on=ledger.money_dependency(booking),
        params={"method": "CASH", "amount": str(due), "full": True, "due": str(due), "instead_of": action.pk},
        before={"booking": before},
        undo_window=False,
    )
    # Whatever waited on the plan charge now waits on the cash.
    DeskAction.objects.filter(depends_on=action, status__in=DeskAction.LIVE_STATUSES).update(depends_on=cash)
    audit_record(
        user=user,
        action="payment.cash",
        obj_type="booking",
        obj_id=booking.pk,
        summary=f"Cash instead of the plan: took {money.format_money(due, booking.service.currency)} "
        f"from {booking.contact}",
        before=before,
        after={**ledger.booking_money_state(booking), "amount": str(due), "action": cash.pk},
    )
    return cash


def _drop(*, user: Any, action: DeskAction, status: str, verb: str, cascade: bool = True) -> None:
    """Mark ``action`` (and, with ``cascade``, what waits on it) UNDONE/REMOVED and put back what it
    changed in the mirror, with an audit entry for each."""
    chain = [action, *_waiting_on([action])] if cascade else [action]
    was = {item.pk: item.status for item in chain}
    _unwind(chain, status=status)
    for item in sorted(chain, key=lambda a: a.pk, reverse=True):
        audit_record(
            user=user,
            action=f"desk.{verb}",
            obj_type="booking" if item.booking_id else "contact",
            obj_id=item.booking_id or item.contact_id,
            summary=f"{verb.replace('_', ' ').capitalize()}: {item.get_kind_display()} for {ledger.who(item)}",
            before={"status": was[item.pk], "action": item.pk},
            after={"status": status},
        )


def _waiting_on(actions: list[DeskAction]) -> list[DeskAction]:
    """The live actions that wait on ``actions``, and on those, row-locked: one query per link."""
    found: list[DeskAction] = []
    seen = {a.pk for a in actions}
    frontier = list(seen)
    while frontier:
        nxt = [
            a
            for a in DeskAction.objects.select_for_update()
            .filter(depends_on_id__in=frontier, status__in=DeskAction.LIVE_STATUSES)
            .order_by("pk")
            if a.pk not in seen
        ]
        found.extend(nxt)
        seen.update(a.pk for a in nxt)
        frontier = [a.pk for a in nxt]
    return found


def _later_attendance(actions: list[DeskAction]) -> list[DeskAction]:
    """Live attendance changes made after ``actions`` to the same people at the same sessions,
    row-locked: they built on what ``actions`` set (their ``before`` is it), as a payment waits
    on the one before it, so they go with it. One query."""
    marks = {(a.booking_id, a.session_id) for a in actions if a.kind == Kind.ATTENDANCE}
    if not marks:
        return []
    pks = {a.pk for a in actions}
    return [
        a
        for a in DeskAction.objects.select_for_update()
        .filter(
            kind=Kind.ATTENDANCE,
            status__in=DeskAction.LIVE_STATUSES,
            pk__gt=min(pks),
            booking_id__in={booking_id for booking_id, _ in marks},
        )
        .order_by("pk")
        if a.pk not in pks and (a.booking_id, a.session_id) in marks
    ]


# What an action's ``before["booking"]`` may hold: the booking's state before it (a reschedule
# keeps the session it moved from).
_BOOKING_STATE = ("payment_status", "selected_payment_option", "status", "session_id")
_SESSION_STATE = ("status", "timezone", "staff_id", "location_name", "schedule_id", "raw")


def _session_fields(saved: dict[str, Any]) -> dict[str, Any]:
    """A session's saved state (``before["session"]``) as model field values."""
    fields = {name: saved[name] for name in _SESSION_STATE if name in saved}
    for name in ("start", "end"):
        if saved.get(name):
            fields[name] = datetime.fromisoformat(saved[name])
    return fields


def _unwind(actions: list[DeskAction], *, status: str) -> None:
    """Mark ``actions`` UNDONE/REMOVED and put back what they changed in the mirror — latest first,
    so chained changes unwind in order — in a fixed number of queries however many there are:
    the bookings, attendance and plan balances are read (row-locked) at once, changed in memory,
    and written with one UPDATE per distinct new state."""
    latest_first = sorted(actions, key=lambda a: a.pk, reverse=True)
    was = {a.pk: a.status for a in actions}
    booking_ids = {a.booking_id for a in actions if a.booking_id}
    bookings = {
        b.pk: b for b in Booking.objects.select_for_update(of=("self",)).filter(pk__in=booking_ids).order_by("pk")
    }
    marks = [a for a in actions if a.kind == Kind.ATTENDANCE and a.booking_id and a.session_id]
    rows = {
        (row.booking_id, row.session_id): row
        for row in Attendance.objects.filter(
            booking_id__in={a.booking_id for a in marks}, session_id__in={a.session_id for a in marks}
        )
    }
    charges = [a for a in actions if a.kind in (Kind.PLAN_CHARGE, Kind.VOID_PLAN_CHARGE)]
    balances = {
        b.pk: b
        for b in BenefitBalance.objects.select_for_update()
        .filter(pk__in={a.params.get("balance_id") for a in charges} - {None})
        .order_by("pk")
    }
    changed_bookings: dict[int, Booking] = {}
    changed_rows: dict[int, Attendance] = {}
    gone_rows: set[int] = set()
    changed_balances: dict[int, BenefitBalance] = {}
    cancelled_sessions: set[int] = set()
    sold: list[dict] = []  # PLAN_SALE: the desk's own plan order and balance, never in Wix
    sessions_back: list[dict] = []  # sessions a change moved or cancelled, as they were
    for action in latest_first:
        booking = bookings.get(action.booking_id or 0)
        before = action.before or {}
        if action.kind == Kind.WALK_IN and booking is not None:
            booking.status = Booking.Status.CANCELED
            changed_bookings[booking.pk] = booking
            if (
                booking.session_id
                and booking.session.service.type == Service.Type.APPOINTMENT
                and not booking.session.wix_id
            ):
                cancelled_sessions.add(booking.session_id)
        elif action.kind == Kind.ATTENDANCE and booking is not None and action.session_id:
            previous = before.get("attendance") or {}
            row = rows.get((booking.pk, action.session_id))
            if row is not None:
                if previous.get("existed"):
                    row.status = previous.get("status") or Attendance.Status.NOT_SET
                    changed_rows[row.pk] = row
                elif row.wix_id is None:
                    gone_rows.add(row.pk)
                    changed_rows.pop(row.pk, None)
                    del rows[(booking.pk, action.session_id)]
                else:
                    row.status = Attendance.Status.NOT_SET
                    changed_rows[row.pk] = row
        elif action.kind == Kind.PLAN_SALE:
            sold.append(before)
        elif action.kind in (Kind.PLAN_CHARGE, Kind.VOID_PLAN_CHARGE):
            balance = balances.get(action.params.get("balance_id"))
            if balance is not None and not balance.unlimited:
                credits = money.credits_needed(booking) if booking is not None else 1
                step = credits if action.kind == Kind.PLAN_CHARGE else -credits
                balance.remaining_credits = (balance.remaining_credits or Decimal("0")) + step
                changed_balances[balance.pk] = balance
        if booking is not None and "booking" in before:
            state = before["booking"]
            for name in _BOOKING_STATE:
                if name in state:
                    setattr(booking, name, state[name])
            changed_bookings[booking.pk] = booking
        if before.get("session"):
            # A cancelled appointment's time, or a rescheduled appointment's session as it was.
            sessions_back.append(before["session"])
        action.status, action.next_attempt_at = status, None
    ledger.update_in_groups(Booking, list(changed_bookings.values()), _BOOKING_STATE)
    for saved in reversed(sessions_back):  # the earliest change's state last: it wins
        Session.objects.filter(pk=saved["pk"]).update(**_session_fields(saved))
    Session.objects.filter(pk__in=cancelled_sessions).update(status="CANCELLED")
    Attendance.objects.filter(pk__in=gone_rows).delete()
    ledger.update_in_groups(Attendance, list(changed_rows.values()), ("status",))
    ledger.update_in_groups(BenefitBalance, list(changed_balances.values()), ("remaining_credits",))
    if sold:
        # The plan never reached Wix: the desk's own order and balance of it go.
        BenefitBalance.objects.filter(pk__in={b.get("balance") for b in sold} - {None}, wix_id=None).delete()
        PlanOrder.objects.filter(pk__in={b.get("plan_order") for b in sold} - {None}, wix_id=None).delete()
    DeskAction.objects.filter(pk__in=[a.pk for a in actions]).update(
        status=status, next_attempt_at=None, updated_at=timezone.now()
    )
    for action in latest_first:
        action.log_change(was=was[action.pk])
    DeskAction.refresh_pending_all(booking_ids)
