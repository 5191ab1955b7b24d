"""The action ledger: idempotency keys, a new :class:`DeskAction` (and its push), what an
action waits for, and the row locks every desk flow takes.

Every desk flow (``services.desk``: walk-ins, payments, attendance, settle, corrections) and
``services.customers.customer_create`` write their actions through here; it imports none of
them, so any flow that makes desk actions can use it without a cycle.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from bookings_app import money, signals
from bookings_app.models import Booking, Contact, DeskAction, Service, Session
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus

MAX_KEY = 150  # derived keys append a suffix; the column holds 200


# --- idempotency -------------------------------------------------------------------------------


def require_key(key: str) -> None:
    if not key or not isinstance(key, str) or len(key) > MAX_KEY:
        raise BookingError("This form has expired; reload the page and try again.", code="idempotency_missing")


def existing(
    key: str,
    kind: str,
    *,
    booking: Booking | None = None,
    contact: Contact | None = None,
    session: Session | None = None,
    params: dict[str, Any] | None = None,
) -> DeskAction | None:
    """The action this idempotency key already made (a re-sent form is answered with it), or None.

    A key stands for one form as the server rendered it, so what it made must be what is asked
    now: the same ``kind`` (else ``duplicate_request``), and — for each one given — the same
    ``booking``, ``contact``, ``session`` and ``params`` values (else ``key_reused``). A form
    used for something else is refused, never answered as done.
    """
    action = DeskAction.objects.filter(idempotency_key=key).select_related("booking__contact", "contact").first()
    if action is None:
        return None
    if action.kind != kind:
        raise BookingError(reused_message(action), code="duplicate_request")
    differs = (
        (booking is not None and action.booking_id != booking.pk)
        or (contact is not None and action.contact_id != contact.pk)
        or (session is not None and action.session_id != session.pk)
        or any(not _same_value(action.params.get(name), value) for name, value in (params or {}).items())
    )
    if differs:
        raise BookingError(reused_message(action), code="key_reused")
    return action


def reused_message(action: DeskAction) -> str:
    """What staff read when a form comes back with the key of another action."""
    return f"This form was already used for {_what(action)}. Nothing was changed: reload the page and try again."


_DONE = {
    Kind.CONTACT_CREATE: "adding the customer {who}",
    Kind.WALK_IN: "booking {who} in",
    Kind.PAYMENT: "a payment by {who}",
    Kind.PLAN_CHARGE: "charging {who}'s plan",
    Kind.PAY_LATER: "{who} paying later",
    Kind.ATTENDANCE: "{who}'s attendance",
    Kind.CANCEL_BOOKING: "cancelling {who}'s booking",
    Kind.VOID_PLAN_CHARGE: "voiding {who}'s plan charge",
    Kind.REFUND: "refunding {who}",
    Kind.RESCHEDULE: "moving {who}'s booking",
    Kind.WAITLIST_PROMOTE: "moving {who} off the waiting list",
    Kind.COURSE_BUILD: "a course term",
}


def _what(action: DeskAction) -> str:
    return _DONE.get(action.kind, "{who}").format(who=who(action))


def _same_value(stored: Any, wanted: Any) -> bool:
    """``params`` are JSON: an amount is stored as text ("5.00"), a slot as a plain dict."""
    if isinstance(wanted, Decimal):
        try:
            return stored is not None and Decimal(str(stored)) == wanted
        except InvalidOperation:
            return False
    return stored == json.loads(json.dumps(wanted, cls=DjangoJSONEncoder))


def batch_done(batch_id: str, *, session: Session | None = None) -> list[DeskAction]:
    """The actions an earlier commit of the same batch form made (empty: none yet); ``key_reused``
    when they are another session's."""
    done = list(
        DeskAction.objects.filter(batch_id=batch_id).select_related("booking__contact", "contact").order_by("pk")
    )
    if session is not None and any(a.session_id not in (None, session.pk) for a in done):
        raise BookingError(reused_message(done[0]), code="key_reused")
    return done


def lock_unless_done(
    booking: Booking, key: str, kind: str, *, params: dict[str, Any] | None = None
) -> tuple[DeskAction | None, Booking]:
    """The action this idempotency key already made, if any; else the booking, row-locked.

    Looked up before and after taking the lock: the same form posted twice at once waits on the
    lock, then finds what the first request made instead of acting again. The key's action must be
    of this booking (and have these ``params``): else ``key_reused`` (see :func:`existing`).
    """
    found = existing(key, kind, booking=booking, params=params)
    if found is not None:
        return found, booking
    booking = lock_booking(booking)
    return existing(key, kind, booking=booking, params=params), booking


def lock_booking(booking: Booking, *, allow_cancelled: bool = False) -> Booking:
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("contact", "service", "session")
        .get(pk=booking.pk)
    )
    if not allow_cancelled and booking.status not in Booking.ROSTER_STATUSES:
        raise BookingError(
            f"{booking.contact}'s booking is {booking.get_status_display().lower()}.", code="booking_cancelled"
        )
    return booking


# --- new actions ---------------------------------------------------------------------------------


def push_due(now: datetime, *, undo_window: bool = True) -> datetime:
    """When the worker may push an action made ``now``: after the undo window."""
    seconds = getattr(settings, "DESK_UNDO_SECONDS", 8) if undo_window else 0
    return now + timedelta(seconds=seconds)


def build_action(
    *,
    user: Any,
    kind: str,
    key: str,
    now: datetime,
    booking: Booking | None = None,
    session: Session | None = None,
    contact: Contact | None = None,
    contact_id: int | None = None,
    depends_on: DeskAction | None = None,
    params: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
    batch_id: str = "",
    undo_window: bool = True,
) -> DeskAction:
    """An unsaved action (``save_action`` writes one, a batch bulk-inserts many)."""
    action = DeskAction(
        idempotency_key=key,
        kind=kind,
        created_by=person(user),
        created_at=now,
        run_after=push_due(now, undo_window=undo_window),
        booking=booking,
        session=session,
        contact=contact,
        depends_on=depends_on,
        batch_id=batch_id,
        params=params or {},
        before=before or {},
    )
    if contact_id is not None:
        action.contact_id = contact_id
    return action


def save_action(action: DeskAction, *, schedule: bool = True) -> DeskAction:
    """Insert ``action`` and, once the transaction commits, ask for a push. Raises
    ``BookingError`` ``duplicate_request`` when the same form made it a moment ago."""
    try:
        with transaction.atomic():
            action.save(force_insert=True)
    except IntegrityError:
        # The same form posted twice at the same moment: the other request made it.
        raise BookingError("This was just done from another screen.", code="duplicate_request") from None
    action.log_change(was=None)
    if schedule:
        schedule_push(action.run_after)
    return action


def save_actions(actions: list[DeskAction]) -> list[DeskAction]:
    """Bulk-insert a batch's actions (``duplicate_request`` when another request just made them)."""
    try:
        with transaction.atomic():
            saved = DeskAction.objects.bulk_create(actions)
    except IntegrityError:
        # The same rows committed with another form at the same moment: the other request made them.
        raise BookingError("This was just done from another screen.", code="duplicate_request") from None
    for action in saved:
        action.log_change(was=None)
    return saved


def new_action(*, user: Any, kind: str, key: str, schedule: bool = True, **fields: Any) -> DeskAction:
    """Build and save one action (``build_action``'s fields), asking for a push."""
    action = build_action(user=user, kind=kind, key=key, now=timezone.now(), **fields)
    return save_action(action, schedule=schedule)


def schedule_push(run_after: datetime) -> None:
    """Once this transaction commits, ask for a push by ``run_after`` (``tasks`` listens)."""
    transaction.on_commit(lambda: signals.desk_actions_queued.send(sender=DeskAction, run_after=run_after))


def update_in_groups(model: type[Any], objs: list[Any], fields: tuple[str, ...]) -> None:
    """Save ``fields`` of ``objs``: one UPDATE per distinct combination of their values."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for obj in objs:
        groups[tuple(getattr(obj, name) for name in fields)].append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))


# --- what an action waits for --------------------------------------------------------------------


def contact_dependency(*, user: Any, contact: Contact) -> DeskAction | None:
    """The action that creates ``contact`` in Wix, when it isn't there yet (made anew if the
    first one was undone or removed)."""
    if contact.wix_id:
        return None
    found = (
        DeskAction.objects.filter(contact=contact, kind=Kind.CONTACT_CREATE)
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("-pk")
        .first()
    )
    if found is not None:
        return found
    return new_action(
        user=user,
        kind=Kind.CONTACT_CREATE,
        key=f"contact:{contact.pk}:{uuid.uuid4().hex}",
        contact=contact,
        params={
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
        },
    )


def walk_in_dependency(booking: Booking) -> DeskAction | None:
    """The action that creates ``booking`` in Wix, when it isn't there yet: its walk-in, or the
    ``PACKAGE`` action of the package it is part of (which names no booking of its own)."""
    if booking.wix_id:
        return None
    return (
        DeskAction.objects.filter(
            Q(booking=booking, kind=Kind.WALK_IN) | Q(kind=Kind.PACKAGE, package__items__booking=booking)
        )
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .order_by("-pk")
        .first()
    )


def money_dependency(booking: Booking) -> DeskAction | None:
    """The latest money action or booking change (a reschedule, a move off the waiting list, a
    cancel) of the booking still on its way, else its walk-in: Wix hears of them in the order
    staff made them (a payment after a move off the waiting list must not reach a booking Wix
    still holds on its waiting list)."""
    latest = (
        DeskAction.objects.filter(
            booking=booking,
            kind__in=(*money.CHAINED_KINDS, *DeskAction.CHANGE_KINDS),
            status__in=DeskAction.LIVE_STATUSES,
        )
        .order_by("-pk")
        .first()
    )
    return latest or walk_in_dependency(booking)


def walk_ins_by_booking(bookings: Iterable[Booking]) -> dict[int, DeskAction]:
    """:func:`walk_in_dependency` for many bookings in one query (none when all are in Wix; a
    second one for those that are not walk-ins — a package's bookings)."""
    unsynced = [b.pk for b in bookings if not b.wix_id]
    walk_ins: dict[int, DeskAction] = {}
    if unsynced:
        for walk_in in (
            DeskAction.objects.filter(booking_id__in=unsynced, kind=Kind.WALK_IN)
            .exclude(status__in=(Status.UNDONE, Status.REMOVED))
            .order_by("pk")
        ):
            walk_ins[walk_in.booking_id] = walk_in  # the latest one wins, as in walk_in_dependency
        # Bookings of a package: its PACKAGE action creates them (one more query, only for those).
        rest = [pk for pk in unsynced if pk not in walk_ins]
        if rest:
            for booking_id, action in _package_actions(rest).items():
                walk_ins[booking_id] = action
    return walk_ins


def _package_actions(booking_ids: list[int]) -> dict[int, DeskAction]:
    found: dict[int, DeskAction] = {}
    actions = (
        DeskAction.objects.filter(kind=Kind.PACKAGE, package__items__booking_id__in=booking_ids)
        .exclude(status__in=(Status.UNDONE, Status.REMOVED))
        .annotate(item_booking_id=F("package__items__booking_id"))
        .order_by("pk")
    )
    for action in actions:
        found[action.item_booking_id] = action
    return found


# --- small shared helpers ------------------------------------------------------------------------


def person(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


def has_perm(user: Any, permission: str) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.has_perm(permission))


def who(action: DeskAction) -> str:
    contact = action.contact or (action.booking.contact if action.booking else None)
    return str(contact) if contact else f"action {action.pk}"


def roster_q(session: Session) -> Q:
    q = Q(session=session)
    if session.service.type == Service.Type.COURSE:
        q |= Q(session__isnull=True, service_id=session.service_id)
    return q


def booking_money_state(booking: Booking) -> dict[str, Any]:
    return {"payment_status": booking.payment_status, "selected_payment_option": booking.selected_payment_option}


def offline_option(booking: Booking) -> None:
    """Paid (or owed) at the desk: whatever they meant to pay with (online, their plan), it's
    offline now — so a cash payment is never counted as a plan charge."""
    booking.selected_payment_option = Booking.PaymentOption.OFFLINE


def already_paid_message(booking: Booking) -> str:
    if DeskAction.objects.filter(
        booking=booking, kind__in=DeskAction.MONEY_KINDS, status__in=DeskAction.LIVE_STATUSES
    ).exists():
        return f"{booking.contact} has just paid — it's on its way to Wix. Nothing more is due."
    return f"{booking.contact} has nothing left to pay."


def str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
