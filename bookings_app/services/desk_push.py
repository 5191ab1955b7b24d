"""The worker that pushes desk actions to Wix (DESIGN.md §4, "The worker").

It claims the actions that are due (QUEUED, past the undo window and any backoff, whatever they
wait on already SYNCED — on PostgreSQL with ``SKIP LOCKED`` so several workers share the queue)
and pushes them in phases, with Wix's bulk endpoints where they exist:

1. ``CONTACT_CREATE`` — Create Contact;
2. ``WALK_IN`` — Bulk Create Booking (≤40 a call);
3. money — ecom mode: checkout → order → Bulk Mark Orders As Paid (≤100) / Add Payments /
   Charge Memberships; booking-only mode: Redeem Benefit for plans, then Bulk Confirm Or Decline
   (≤300) with the payment status;
4. ``ATTENDANCE`` — Bulk Set Attendance (≤8);
5. reversals — cancel booking, void a plan charge, refund.

Every step's result (booking id, checkout id, order id, payment ids …) is saved in
``action.steps`` before the next step. Before a call that creates something or moves money, a
"sent" marker is saved too: if the answer is lost (timeout, dropped connection, crash), the next
attempt first looks in Wix for what the call did — the booking in Query Extended Bookings, the
contact by email, the order by checkout id, the payment in the order's transactions — and adopts
it rather than sending again. Nothing is created twice.

Transient failures (``err.transient``: timeouts, 5xx, 429) put the action back in the queue with
exponential backoff; business rejections become NEEDS_ATTENTION with a plain-language message.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from bookings_app.models import (
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    Order,
    OrderLineItem,
    Payment,
    Service,
)
from bookings_app.services import mirror
from bookings_app.services.audit import audit_record
from bookings_app.services.mirror.values import decimal_or_zero
from bookings_app.wix import (
    WixBadRequest,
    WixClient,
    WixConflict,
    WixError,
    WixNotFound,
    WixPreconditionFailed,
    WixUnavailable,
    WixValidationError,
    attendance,
    benefit_programs,
    bookings,
    checkout,
    extended_bookings,
    order_transactions,
    orders,
)
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse
from bookings_app.wix.ids import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID

logger = logging.getLogger(__name__)

Kind = DeskAction.Kind
Status = DeskAction.Status
Json = dict[str, Any]
T = TypeVar("T")

CHANNEL = "BACKOFFICE_MERCHANT"
LINE_NAMESPACE = uuid.UUID("6f1d3c1e-4c1a-4d8e-9a57-d35c0f0e4b11")

BULK_CREATE = bookings.BULK_CREATE_LIMIT  # 40
BULK_CONFIRM = bookings.BULK_CONFIRM_OR_DECLINE_LIMIT  # 300
BULK_MARK_PAID = orders.BULK_MARK_AS_PAID_LIMIT  # 100
BULK_ATTENDANCE = attendance.BULK_SET_LIMIT  # 8

LEASE = timedelta(minutes=10)  # a RUNNING claim older than this belonged to a worker that died
CLAIM_BATCH = 400  # actions per phase per round
# Wix's createdDate of a booking whose answer we lost is after we sent it; allow for clock skew.
RECONCILE_SLACK = timedelta(minutes=5)

MONEY_KINDS = (Kind.PAYMENT, Kind.PLAN_CHARGE, Kind.PAY_LATER)
REVERSAL_KINDS = (Kind.CANCEL_BOOKING, Kind.VOID_PLAN_CHARGE, Kind.REFUND)

# Plain-language messages for the roster, by Wix error code.
MESSAGES = {
    "SESSION_CAPACITY_EXCEEDED": "The class filled up online — override as manager, or remove.",
    "SCHEDULE_CAPACITY_EXCEEDED": "The course filled up online — override as manager, or remove.",
    "SLOT_NOT_AVAILABLE": "That slot was taken in Wix meanwhile — remove this and book another slot.",
    "SESSION_NOT_FOUND": "This session no longer exists in Wix — remove the walk-in.",
    "SCHEDULE_NOT_FOUND": "This course no longer exists in Wix — remove the walk-in.",
    "RESOURCE_NOT_FOUND": "That staff member is no longer bookable in Wix — remove and book another slot.",
    "BOOKING_NOT_FOUND": "The booking no longer exists in Wix — remove this.",
    "INVALID_BOOKING_STATUS": "The booking was cancelled or declined in Wix meanwhile — remove this.",
    "ORDER_ALREADY_PAID": "Wix says this was already paid — check the order in Wix, then remove this payment.",
    "ORDER_CANCELED": "The order was cancelled in Wix — remove this payment.",
    "ORDER_NOT_FOUND": "The order no longer exists in Wix — remove this payment.",
    "POOL_NOT_ACTIVE": "{plan} is no longer active in Wix — take cash instead?",
    "POOL_NOT_FOUND": "{plan} was not found in Wix — take cash instead?",
    "POLICY_EXPRESSION_EVALUATED_TO_FALSE": "{plan} can't pay for this in Wix — take cash instead?",
    "NOT_ENOUGH_BALANCE": "No credits left on {plan} — take cash instead?",
    "PAYMENT_NOT_FOUND": "The plan charge was not found in Wix — check the order in Wix, then remove this.",
}


class _Attention(Exception):
    """A step found a business reason to stop: the action needs staff."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Later(Exception):
    """Not now, try again later (e.g. Wix's search hasn't caught up yet)."""


@dataclass
class PushReport:
    rounds: int = 0
    claimed: int = 0
    synced: int = 0
    needs_attention: int = 0
    retrying: int = 0
    calls: int = 0  # typed Wix calls made (the client's own retries of one call are not counted)
    calls_by_operation: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "claimed": self.claimed,
            "synced": self.synced,
            "needs_attention": self.needs_attention,
            "retrying": self.retrying,
            "calls": self.calls,
            "calls_by_operation": dict(self.calls_by_operation),
        }


# --- entry points ----------------------------------------------------------------------------


def push_desk_actions_now(
    *,
    wix: WixClient,
    limit: int | None = None,
    ignore_undo_window: bool = False,
    ignore_backoff: bool = False,
    max_rounds: int = 100,
) -> PushReport:
    """Push everything due, phase by phase, round after round until nothing is due (or ``limit``
    actions were claimed). ``ignore_undo_window`` / ``ignore_backoff`` push actions whose undo
    window / retry delay has not passed yet (tests, benchmarks). Raises nothing from Wix."""
    report = PushReport()
    push = _Push(wix=wix, report=report, ignore_undo_window=ignore_undo_window, ignore_backoff=ignore_backoff)
    while report.rounds < max_rounds:
        report.rounds += 1
        before = report.claimed
        for kinds, phase in (
            ((Kind.CONTACT_CREATE,), push.contacts),
            ((Kind.WALK_IN,), push.walk_ins),
            (MONEY_KINDS, push.money),
            ((Kind.ATTENDANCE,), push.attendance),
            (REVERSAL_KINDS, push.reversals),
        ):
            room = None if limit is None else limit - report.claimed
            if room is not None and room <= 0:
                break
            actions = push.claim(kinds, limit=min(CLAIM_BATCH, room) if room is not None else CLAIM_BATCH)
            if actions:
                report.claimed += len(actions)
                phase(actions)
        if report.claimed == before or (limit is not None and report.claimed >= limit):
            break
    return report


def push_next_due() -> datetime | None:
    """When the next push should run: when the earliest waiting action becomes due (its undo
    window and backoff passed, or a dead worker's lease expired), never before now. An action
    still waiting on another counts through that one (and not at all behind one that needs
    attention: staff decide first). None when nothing waits."""
    queued = (
        DeskAction.objects.filter(status=Status.QUEUED)
        .filter(Q(depends_on__isnull=True) | Q(depends_on__status=Status.SYNCED))
        .aggregate(due=Min(Greatest("run_after", Coalesce("next_attempt_at", "run_after"))))["due"]
    )
    lease = DeskAction.objects.filter(status=Status.RUNNING).aggregate(due=Min("next_attempt_at"))["due"]
    candidates = [d for d in (queued, lease) if d is not None]
    if not candidates:
        return None
    return max(min(candidates), timezone.now())


# --- the run -----------------------------------------------------------------------------------


class _Push:
    def __init__(self, *, wix: WixClient, report: PushReport, ignore_undo_window: bool, ignore_backoff: bool) -> None:
        self.wix = wix
        self.report = report
        self.ignore_undo_window = ignore_undo_window
        self.ignore_backoff = ignore_backoff
        self.mode = getattr(settings.WIX, "payment_mode", "ecom")

    # -- claiming ------------------------------------------------------------------------------

    def claim(self, kinds: Iterable[str], *, limit: int) -> list[DeskAction]:
        now = timezone.now()
        waiting = Q(status=Status.QUEUED)
        if not self.ignore_undo_window:
            waiting &= Q(run_after__lte=now)
        if not self.ignore_backoff:
            waiting &= Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        abandoned = Q(status=Status.RUNNING, next_attempt_at__lte=now)
        ready = Q(depends_on__isnull=True) | Q(depends_on__status=Status.SYNCED)
        with transaction.atomic():
            due = DeskAction.objects.filter(waiting | abandoned, ready, kind__in=list(kinds)).order_by(
                "created_at", "pk"
            )
            if connection.features.has_select_for_update_skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            ids = list(due.values_list("pk", flat=True)[:limit])
            if ids:
                DeskAction.objects.filter(pk__in=ids).update(
                    status=Status.RUNNING, next_attempt_at=now + LEASE, updated_at=now
                )
        if not ids:
            return []
        return list(
            DeskAction.objects.filter(pk__in=ids)
            .select_related("booking__service", "booking__contact", "booking__session", "session", "contact")
            .order_by("created_at", "pk")
        )

    def call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        self.report.calls += 1
        self.report.calls_by_operation[fn.__name__] += 1
        return fn(self.wix, **kwargs)

    # -- outcomes -------------------------------------------------------------------------------

    def synced(self, action: DeskAction, **steps: Any) -> None:
        action.mark_synced(**steps)
        self.report.synced += 1

    def attention(self, action: DeskAction, code: str, message: str, detail: str = "") -> None:
        action.mark_needs_attention(code=code, message=message, detail=detail)
        self.report.needs_attention += 1
        logger.info("desk push: action %s needs attention: %s (%s)", action.pk, message, code)
        audit_record(
            user="worker",
            action="desk.needs_attention",
            obj_type="booking" if action.booking_id else "desk_action",
            obj_id=action.booking_id or action.pk,
            summary=f"Wix refused {action.get_kind_display().lower()}: {message}",
            after={"action": action.pk, "error_code": code},
        )

    def later(self, action: DeskAction, detail: str, *, count: bool = True) -> None:
        action.retry_later(detail=detail, count=count)
        self.report.retrying += 1

    def fail(self, action: DeskAction, err: Exception) -> None:
        """Sort an error into retry-later or needs-attention."""
        if isinstance(err, _Attention):
            self.attention(action, err.code, err.message)
        elif isinstance(err, _Later):
            self.later(action, str(err))
        elif isinstance(err, WixError) and _is_business(err):
            self.attention(action, err.code, _message(err.code, action, err), str(err))
        elif isinstance(err, WixError):
            # Transient (timeout, 5xx, 429) — or auth/config trouble that staff can't fix from the roster.
            self.later(action, str(err))
        else:
            logger.exception("desk push: action %s failed", action.pk, exc_info=err)
            self.attention(action, "internal_error", "Something went wrong sending this to Wix — tap Retry.", repr(err))

    def save_steps(self, action: DeskAction, **steps: Any) -> None:
        action.steps = {**action.steps, **steps}
        DeskAction.objects.filter(pk=action.pk).update(steps=action.steps, updated_at=timezone.now())

    def save_steps_many(self, actions: list[DeskAction], **steps: Any) -> None:
        with transaction.atomic():
            for action in actions:
                self.save_steps(action, **steps)

    def extend_lease(self, actions: Iterable[DeskAction]) -> None:
        DeskAction.objects.filter(pk__in=[a.pk for a in actions], status=Status.RUNNING).update(
            next_attempt_at=timezone.now() + LEASE
        )

    def guarded(self, action: DeskAction, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - every failure is sorted by fail()
            self.fail(action, err)

    # -- phase 1: contacts -------------------------------------------------------------------------

    def contacts(self, actions: list[DeskAction]) -> None:
        for action in actions:
            self.guarded(action, lambda action=action: self._contact(action))

    def _contact(self, action: DeskAction) -> None:
        contact = action.contact
        if contact is None:
            raise _Attention("contact_missing", "The customer was deleted — remove this.")
        if contact.wix_id:
            self.synced(action, contact_id=contact.wix_id)
            return
        if action.steps.get("sent_at"):
            found = self._contact_lookup(contact)
            if found is not None:
                self._adopt_contact(action, contact, found)
                return
        self.save_steps(action, sent_at=wix_timestamp(timezone.now()))
        try:
            answer = self.call(wix_contacts.create_contact, info=_contact_info(contact))
        except WixConflict as err:
            if err.code != "DUPLICATE_CONTACT_EXISTS":
                raise
            # The email is in Wix already (a customer not mirrored yet): that is who this is.
            duplicate = ((err.details.get("applicationError") or {}).get("data") or {}).get("duplicateContactId")
            found = self._contact_get(duplicate) if duplicate else self._contact_lookup(contact)
            if found is None:
                raise _Attention("DUPLICATE_CONTACT_EXISTS", "Wix already has a customer with this email.") from err
            self._adopt_contact(action, contact, found)
            return
        self._adopt_contact(action, contact, answer["contact"])

    def _contact_get(self, contact_id: str) -> Json | None:
        try:
            return self.call(wix_contacts.get_contact, contact_id=contact_id)["contact"]
        except WixNotFound:
            return None

    def _contact_lookup(self, contact: Contact) -> Json | None:
        if contact.email:
            flt: Json = {"info.emails.email": contact.email}
        elif contact.phone:
            flt = {"info.phones.phone": contact.phone}
        else:
            return None
        answer = self.call(wix_contacts.query_contacts, query={"filter": flt, "paging": {"limit": 10}})
        found = answer.get("contacts") or []
        same_name = [
            c for c in found if ((c.get("info") or {}).get("name") or {}).get("first", "") == contact.first_name
        ]
        picked = same_name or found
        return picked[0] if picked else None

    def _adopt_contact(self, action: DeskAction, contact: Contact, found: Json) -> None:
        with transaction.atomic():
            held = mirror.contacts.contact_adopt(contact=contact, found=found)
            if held is not contact:  # merged into the contact the mirror had
                action.contact = held
                action.save(update_fields=["contact", "updated_at"])
            self.synced(action, contact_id=found["id"])

    # -- phase 2: walk-ins -------------------------------------------------------------------------

    def walk_ins(self, actions: list[DeskAction]) -> None:
        ready: list[tuple[DeskAction, Json]] = []
        for action in actions:
            try:
                request = self._walk_in_request(action)
            except Exception as err:  # noqa: BLE001 - sorted by fail()
                self.fail(action, err)
                continue
            if request is not None:
                ready.append((action, request))
        sent_before = [a for a, _ in ready if a.steps.get("create_sent_at")]
        if sent_before:
            try:
                adopted = self._walk_ins_reconcile(sent_before)
            except WixError as err:
                for action in sent_before:
                    self.fail(action, err)
                ready = [(a, r) for a, r in ready if a not in sent_before]
            else:
                ready = [(a, r) for a, r in ready if a.pk not in adopted]
        for chunk in _chunks(ready, BULK_CREATE):
            self._walk_ins_send(chunk)

    def _walk_in_request(self, action: DeskAction) -> Json | None:
        booking = action.booking
        if booking is None:
            raise _Attention("booking_missing", "The walk-in's booking was deleted — remove this.")
        if booking.wix_id:
            self.synced(action, booking_id=booking.wix_id)
            return None
        contact = booking.contact
        if not contact.wix_id:
            raise _Attention("contact_not_in_wix", f"{contact} is not in Wix yet — retry in a moment.")
        service = booking.service
        params = action.params
        kind = params.get("type")
        entity: Json
        if kind == "course":
            if not service.schedule_id:
                raise _Attention("schedule_unknown", "This course has no schedule in Wix — remove the walk-in.")
            entity = {
                "schedule": {
                    "scheduleId": service.schedule_id,
                    "serviceId": service.wix_id,
                    "timezone": settings.TIME_ZONE,
                    "location": {"locationType": "OWNER_BUSINESS"},
                }
            }
        elif kind == "appointment":
            slot = params.get("slot") or {}
            location: Json = {"locationType": _booking_location_type(slot.get("location_type"))}
            if slot.get("location_id"):
                location["id"] = slot["location_id"]
            if slot.get("location_name"):
                location["name"] = slot["location_name"]
            entity = {
                "slot": {
                    "serviceId": service.wix_id,
                    "scheduleId": service.schedule_id,
                    "startDate": _local(slot.get("start")),
                    "endDate": _local(slot.get("end")),
                    "timezone": slot.get("timezone") or settings.TIME_ZONE,
                    "resource": {"id": slot.get("resource_id")},
                    "location": location,
                }
            }
        else:
            session = booking.session or action.session
            if session is None or not session.wix_id:
                raise _Attention("session_unknown", "This session isn't in Wix — remove the walk-in.")
            entity = {"slot": {"serviceId": service.wix_id, "eventId": session.wix_id}}
        info: Json = {
            "booking": {
                "bookedEntity": entity,
                "contactDetails": _contact_details(contact),
                "totalParticipants": booking.total_participants,
                "status": "CONFIRMED",
                "selectedPaymentOption": _payment_option(action),
            },
            "participantNotification": {"notifyParticipants": False},
        }
        if params.get("override_capacity"):
            info["flowControlSettings"] = {"skipAvailabilityValidation": True}
        return info

    def _walk_ins_reconcile(self, actions: list[DeskAction]) -> set[int]:
        """Find in Wix the bookings whose create answer was lost, and adopt them. Returns the
        adopted action pks. One Query Extended Bookings per session / course / customer."""
        groups: dict[tuple[str, str], list[DeskAction]] = defaultdict(list)
        for action in actions:
            groups[_place(action)].append(action)
        adopted: set[int] = set()
        taken: set[str] = set()
        for (field_name, value), group in groups.items():
            cutoff = min(wix_timestamp_parse(a.steps["create_sent_at"]) for a in group) - RECONCILE_SLACK
            candidates = list(self._bookings_since(field_name, value, cutoff))
            # Another walk-in of ours already owns some of them (the same person twice, say).
            taken |= set(
                Booking.objects.filter(
                    wix_id__in=[b["id"] for b in candidates], desk_actions__kind=Kind.WALK_IN
                ).values_list("wix_id", flat=True)
            )
            for action in group:
                booking = action.booking
                assert booking is not None
                match = next(
                    (
                        b
                        for b in candidates
                        if b["id"] not in taken
                        and (b.get("contactDetails") or {}).get("contactId") == booking.contact.wix_id
                        and _participants(b) == booking.total_participants
                        and _same_place(action, b)
                    ),
                    None,
                )
                if match is not None:
                    taken.add(match["id"])
                    self._adopt_booking(action, match)
                    adopted.add(action.pk)
        return adopted

    def _bookings_since(self, field_name: str, value: str, cutoff: datetime) -> Iterator[Json]:
        query: Json = {
            "filter": {field_name: value},
            "sort": [{"fieldName": "createdDate", "order": "DESC"}],
            "cursorPaging": {"limit": 100},
        }
        while True:
            answer = self.call(extended_bookings.query_extended_bookings, query=query)
            page = [item["booking"] for item in answer.get("extendedBookings") or []]
            for booking in page:
                created = wix_timestamp_parse(booking.get("createdDate"))
                if created is not None and created < cutoff:
                    return
                yield booking
            cursor = ((answer.get("pagingMetadata") or {}).get("cursors") or {}).get("next")
            if not cursor or not page:
                return
            query = {"cursorPaging": {"limit": 100, "cursor": cursor}}

    def _walk_ins_send(self, chunk: list[tuple[DeskAction, Json]]) -> None:
        actions = [a for a, _ in chunk]
        self.extend_lease(actions)
        self.save_steps_many(actions, create_sent_at=wix_timestamp(timezone.now()))
        try:
            answer = self.call(
                bookings.bulk_create_booking, create_bookings_info=[r for _, r in chunk], return_full_entity=True
            )
        except WixValidationError as err:
            # The whole call was refused, nothing was created: the items it names need staff,
            # the others go again at once.
            bad = _violated_indexes(err, "createBookingsInfo")
            for index, action in enumerate(actions):
                self.save_steps(action, create_sent_at=None)
                if index in bad or not bad:
                    self.attention(action, err.code, _message(err.code, action, err), str(err))
                else:
                    self.later(action, "sent again without a rejected neighbour", count=False)
            return
        except WixError as err:
            if isinstance(err, WixUnavailable) and not err.maybe_applied:
                for action in actions:
                    self.save_steps(action, create_sent_at=None)
            for action in actions:
                self.fail(action, err)
            return
        results = answer.get("results") or []
        seen: set[int] = set()
        for position, result in enumerate(results):
            meta = result.get("itemMetadata") or {}
            index = meta.get("originalIndex", position)
            if not isinstance(index, int) or not 0 <= index < len(actions):
                continue
            seen.add(index)
            action = actions[index]
            if meta.get("success") and result.get("item"):
                self.guarded(action, lambda action=action, item=result["item"]: self._adopt_booking(action, item))
            else:
                error = meta.get("error") or {}
                code = str(error.get("code") or "REJECTED")
                self.save_steps(action, create_sent_at=None)
                self.attention(action, code, _message(code, action, None, error.get("description")), str(error))
        for index, action in enumerate(actions):
            if index not in seen:
                # No word about this item: look for it in Wix before sending it again.
                self.later(action, "Bulk Create Booking gave no result for this item")

    def _adopt_booking(self, action: DeskAction, found: Json) -> None:
        booking = action.booking
        assert booking is not None
        with transaction.atomic():
            mirror.bookings.booking_adopt(booking=booking, found=found)
            self.synced(action, booking_id=found["id"], create_sent_at=None)

    # -- phase 3: money ----------------------------------------------------------------------------

    def money(self, actions: list[DeskAction]) -> None:
        mark_paid: list[DeskAction] = []
        confirm: list[tuple[DeskAction, str]] = []
        keys = self._benefit_keys([a for a in actions if a.kind == Kind.PLAN_CHARGE and self._mode(a) != "ecom"])
        for position, action in enumerate(actions):
            if position and position % 25 == 0:
                self.extend_lease(actions[position:])  # one call each from here on: keep the claim

            def step(action: DeskAction = action) -> None:
                booking = action.booking
                if booking is None or not booking.wix_id:
                    raise _Attention("booking_missing", "The booking isn't in Wix — remove this.")
                mode = self._mode(action)
                if action.steps.get("mode") != mode:
                    self.save_steps(action, mode=mode)
                if mode == "ecom":
                    self._ecom_money(action, mark_paid)
                else:
                    self._booking_only_money(action, confirm, keys)

            self.guarded(action, step)
        self._flush_mark_paid(mark_paid)
        self._flush_confirm(confirm)

    def _mode(self, action: DeskAction) -> str:
        """ecom, or booking-only — except for a booking Wix already gave an order (made online):
        its payment status follows the order, so only the order can record the money."""
        if action.steps.get("mode"):
            return action.steps["mode"]
        if self.mode == "ecom":
            return "ecom"
        if action.booking_id and (
            OrderLineItem.objects.filter(booking_id=action.booking_id).exclude(order__status="CANCELED").exists()
        ):
            return "ecom"
        return "booking_only"

    def _ecom_money(self, action: DeskAction, mark_paid: list[DeskAction]) -> None:
        order_id, line_id = self._order_of(action)
        if order_id is None:
            order_id, line_id = self._order_create(action)
            if action.kind == Kind.PLAN_CHARGE:
                # The checkout named the membership: creating the order charged it.
                self.synced(action)
                return
        if action.kind == Kind.PAY_LATER:
            self.synced(action)
        elif action.kind == Kind.PLAN_CHARGE:
            self._charge_memberships(action, order_id, line_id)
        elif action.params.get("full"):
            mark_paid.append(action)
        else:
            self._add_payment(action, order_id)

    def _order_of(self, action: DeskAction) -> tuple[str | None, str | None]:
        if action.steps.get("order_id"):
            return action.steps["order_id"], action.steps.get("line_item_id")
        line = (
            OrderLineItem.objects.filter(booking_id=action.booking_id)
            .exclude(order__status="CANCELED")
            .select_related("order")
            .order_by("-order__wix_created_at", "-pk")
            .first()
        )
        if line is None or not line.order.wix_id:
            return None, None
        self.save_steps(action, order_id=line.order.wix_id, line_item_id=line.line_item_id)
        return line.order.wix_id, line.line_item_id

    def _order_create(self, action: DeskAction) -> tuple[str, str]:
        """Checkout (BACKOFFICE_MERCHANT, the booking as its line; for a plan, the membership
        selected) → order. Each id is saved before the next call."""
        booking = action.booking
        assert booking is not None
        if not action.steps.get("checkout_id"):
            line_id = str(uuid.uuid5(LINE_NAMESPACE, action.idempotency_key))
            info: Json | None = None
            if action.kind == Kind.PLAN_CHARGE:
                info = {
                    "membershipOptions": {
                        "selectedMemberships": {
                            "memberships": [
                                {
                                    "id": action.params.get("pool_id"),
                                    "appId": PRICING_PLANS_APP_ID,
                                    "lineItemIds": [line_id],
                                }
                            ]
                        }
                    }
                }
            answer = self.call(
                checkout.create_checkout,
                channel_type=CHANNEL,
                line_items=[
                    {
                        "id": line_id,
                        "quantity": 1,
                        "catalogReference": {"catalogItemId": booking.wix_id, "appId": BOOKINGS_APP_ID},
                    }
                ],
                checkout_info=info,
            )
            found = answer["checkout"]
            line = next((li for li in found.get("lineItems") or [] if li.get("id") == line_id), None)
            if line is None:
                line = (found.get("lineItems") or [{}])[0]
                line_id = line.get("id") or line_id
            self.save_steps(
                action,
                checkout_id=found["id"],
                line_item_id=line_id,
                checkout_total=((found.get("priceSummary") or {}).get("total") or {}).get("amount"),
                checkout_line=_line_summary(line),
            )
            if action.kind == Kind.PLAN_CHARGE and line.get("paymentOption") != "MEMBERSHIP":
                raise _Attention("NOT_ENOUGH_BALANCE", _message("NOT_ENOUGH_BALANCE", action, None))
        checkout_id = action.steps["checkout_id"]
        try:
            order_id = self.call(checkout.create_order_from_checkout, checkout_id=checkout_id)["orderId"]
        except (WixPreconditionFailed, WixBadRequest) as err:
            if err.code == "CHECKOUT_ALREADY_PAID":
                # We made this order before and lost the answer: find it by its checkout.
                order_id = self._order_by_checkout(checkout_id)
            elif (
                err.code in ("VIOLATIONS_WITH_ERROR_SEVERITY", "FULL_OUT_OF_STOCK") and action.kind == Kind.PLAN_CHARGE
            ):
                raise _Attention("NOT_ENOUGH_BALANCE", _message("NOT_ENOUGH_BALANCE", action, None)) from err
            else:
                raise
        self.save_steps(action, order_id=order_id)
        mirror.orders.order_placed(
            booking=booking,
            order_id=order_id,
            line_item_id=action.steps.get("line_item_id") or "",
            checkout_total=action.steps.get("checkout_total"),
            checkout_line=action.steps.get("checkout_line") or {},
        )
        return order_id, action.steps["line_item_id"]

    def _order_by_checkout(self, checkout_id: str) -> str:
        answer = self.call(
            orders.search_orders, search={"filter": {"checkoutId": checkout_id}, "cursorPaging": {"limit": 10}}
        )
        found = answer.get("orders") or []
        if not found:
            raise _Later(f"The order of checkout {checkout_id} is not searchable yet")
        return found[0]["id"]

    def _charge_memberships(self, action: DeskAction, order_id: str, line_id: str | None) -> None:
        booking = action.booking
        assert booking is not None
        if not line_id:
            order = self.call(orders.get_order, order_id=order_id)["order"]
            line_id = next(
                (
                    li["id"]
                    for li in order.get("lineItems") or []
                    if (li.get("catalogReference") or {}).get("catalogItemId") == booking.wix_id
                ),
                None,
            )
            if line_id is None:
                raise _Attention("line_missing", "The booking isn't on its Wix order — check the order in Wix.")
            self.save_steps(action, line_item_id=line_id)
        if action.steps.get("charge_sent"):
            mine = self._membership_payments(order_id, line_id)
            if mine:
                mirror.payments.membership_payments_record(order_id=order_id, payments=mine)
                self.synced(action, charge_payment_ids=[p["id"] for p in mine])
                return
        self.save_steps(action, charge_sent=True)
        try:
            answer = self.call(
                orders.charge_memberships,
                order_id=order_id,
                member_id=action.params.get("member_id"),
                memberships=[
                    {
                        "lineItemId": line_id,
                        "membershipIdentifier": {
                            "existingMembership": {
                                "appId": PRICING_PLANS_APP_ID,
                                "membershipId": action.params.get("pool_id"),
                            }
                        },
                    }
                ],
            )
        except WixUnavailable as err:
            if not err.maybe_applied:
                self.save_steps(action, charge_sent=False)
            raise
        payments = answer.get("payments") or []
        mirror.payments.membership_payments_record(order_id=order_id, payments=payments)
        self.synced(action, charge_payment_ids=[p.get("id") for p in payments])

    def _membership_payments(self, order_id: str, line_id: str) -> list[Json]:
        record = self.call(order_transactions.list_transactions_for_single_order, order_id=order_id)
        return [
            p
            for p in (record.get("orderTransactions") or {}).get("payments") or []
            if (p.get("membershipPaymentDetails") or {}).get("lineItemId") == line_id and p.get("status") == "APPROVED"
        ]

    def _add_payment(self, action: DeskAction, order_id: str) -> None:
        amount = decimal_or_zero(action.params.get("amount"))
        order = Order.objects.filter(wix_id=order_id).first()
        if action.steps.get("add_sent"):
            found = self.call(orders.get_order, order_id=order_id)["order"]
            paid = decimal_or_zero(((found.get("balanceSummary") or {}).get("paid") or {}).get("amount"))
            if paid >= decimal_or_zero(action.steps.get("paid_before")) + amount:
                mirror.orders.order_absorb(found)
                self.synced(action)
                return
        paid_before = order.paid if order is not None else Decimal("0")
        self.save_steps(action, add_sent=True, paid_before=str(paid_before))
        method = action.params.get("method") or "CASH"
        name = {"custom": "Card"} if method == "CARD" else {"predefined": method}
        try:
            answer = self.call(
                order_transactions.add_payments,
                order_id=order_id,
                payments=[
                    {
                        "amount": {"amount": str(amount)},
                        "regularPaymentDetails": {
                            "offlinePayment": True,
                            "paymentMethodName": {"userDefinedName": name},
                        },
                        "status": "APPROVED",
                    }
                ],
            )
        except WixUnavailable as err:
            if not err.maybe_applied:
                self.save_steps(action, add_sent=False)
            raise
        ids = answer.get("paymentsIds") or []
        if order is not None:
            mirror.payments.offline_payments_record(order=order, payment_ids=ids, amount=amount, method=method)
        self.synced(action, payment_ids=ids)

    def _flush_mark_paid(self, actions: list[DeskAction]) -> None:
        for chunk in _chunks(actions, BULK_MARK_PAID):
            self.extend_lease(chunk)
            previously = {a.pk: bool(a.steps.get("mark_sent")) for a in chunk}
            self.save_steps_many(chunk, mark_sent=True)
            if len(chunk) == 1 or _BULK_MARK_PAID_MISSING:
                for action in chunk:
                    self._mark_one_paid(action, previously[action.pk])
                continue
            try:
                answer = self.call(orders.bulk_mark_orders_as_paid, order_ids=[a.steps["order_id"] for a in chunk])
            except WixNotFound as err:
                if err.code not in ("NOT_FOUND", ""):
                    for action in chunk:
                        self.fail(action, err)
                    continue
                # The bulk endpoint's public path is UNCONFIRMED (CONTRACT §12.2): if this Wix
                # doesn't route it, pay the orders one by one from now on.
                _bulk_mark_paid_missing()
                for action in chunk:
                    self._mark_one_paid(action, previously[action.pk])
                continue
            except Exception as err:  # noqa: BLE001 - sorted by fail()
                for action in chunk:
                    self.fail(action, err)
                continue
            by_index: dict[int, Json] = {}
            for position, result in enumerate(answer.get("results") or []):
                index = (result.get("itemMetadata") or {}).get("originalIndex", position)
                by_index[index] = result
            for index, action in enumerate(chunk):
                result = by_index.get(index)
                if result is None:
                    self.later(action, "Bulk Mark Orders As Paid gave no result for this order")
                    continue
                meta = result.get("itemMetadata") or {}
                if meta.get("success"):
                    if result.get("item"):
                        mirror.orders.order_absorb(result["item"])
                    self.synced(action)
                else:
                    error = meta.get("error") or {}
                    code = str(error.get("code") or "REJECTED")
                    self._mark_paid_refused(action, code, previously[action.pk], error.get("description") or code)

    def _mark_one_paid(self, action: DeskAction, sent_before: bool) -> None:
        try:
            order = self.call(orders.mark_order_as_paid, order_id=action.steps["order_id"])["order"]
        except (WixPreconditionFailed, WixBadRequest) as err:
            self._mark_paid_refused(action, err.code, sent_before, str(err))
        except Exception as err:  # noqa: BLE001 - sorted by fail()
            self.fail(action, err)
        else:
            mirror.orders.order_absorb(order)
            self.synced(action)

    def _mark_paid_refused(self, action: DeskAction, code: str, sent_before: bool, detail: str) -> None:
        if code == "ORDER_ALREADY_PAID" and sent_before:
            # Our earlier mark-as-paid went through; its answer was lost.
            Order.objects.filter(wix_id=action.steps.get("order_id")).update(payment_status="PAID", balance=0)
            self.synced(action, mark_reconciled=True)
        elif code in MESSAGES or code.isupper():
            self.attention(action, code, _message(code, action, None, detail), detail)
        else:
            self.later(action, detail)

    def _benefit_keys(self, actions: list[DeskAction]) -> dict[str, str]:
        """Pool id → the benefit key Redeem Benefit needs: from the mirrored pool, else one Query
        Pools for all the pools of this batch."""
        keys: dict[str, str] = {}
        wanted: set[str] = set()
        for action in actions:
            pool_id = action.params.get("pool_id") or ""
            if not pool_id or action.steps.get("redemption_id"):
                continue
            balance = BenefitBalance.objects.filter(wix_id=pool_id).first()
            key = _benefit_key((balance.raw or {}).get("pool") if balance else None)
            if key:
                keys[pool_id] = key
            else:
                wanted.add(pool_id)
        for batch in _chunks(sorted(wanted), 100):
            try:
                answer = self.call(
                    benefit_programs.query_pools,
                    query={"filter": {"id": {"$in": batch}}, "cursorPaging": {"limit": 100}},
                )
            except WixError:
                continue  # the redeem step will say what is missing, and retry
            for pool in answer.get("pools") or []:
                key = _benefit_key(pool)
                if key:
                    keys[pool["id"]] = key
        return keys

    def _booking_only_money(
        self, action: DeskAction, confirm: list[tuple[DeskAction, str]], keys: dict[str, str]
    ) -> None:
        booking = action.booking
        assert booking is not None
        if action.kind == Kind.PLAN_CHARGE and not action.steps.get("redemption_id"):
            pool_id = action.params.get("pool_id") or ""
            key = keys.get(pool_id)
            if not key:
                raise _Later(f"The benefit of pool {pool_id} could not be read from Wix")
            try:
                answer = self.call(
                    benefit_programs.redeem_benefit,
                    pool_id=pool_id,
                    item_reference={"externalId": booking.service.wix_id, "providerAppId": BOOKINGS_APP_ID},
                    benefit_key=key,
                    idempotency_key=action.idempotency_key,
                    beneficiary={"memberId": action.params.get("member_id")},
                )
                redemption = answer.get("transactionId")
            except WixConflict as err:
                if err.code != "BENEFIT_ALREADY_REDEEMED":
                    raise
                redemption = self._redemption_of(action)
            self.save_steps(action, redemption_id=redemption)
        if action.kind == Kind.PAYMENT:
            status = "PAID" if action.params.get("full") else "PARTIALLY_PAID"
        elif action.kind == Kind.PLAN_CHARGE:
            status = "PAID"
        else:
            status = "NOT_PAID"
        confirm.append((action, status))

    def _redemption_of(self, action: DeskAction) -> str | None:
        answer = self.call(
            benefit_programs.query_transactions,
            query={"filter": {"idempotencyKey": action.idempotency_key}, "cursorPaging": {"limit": 10}},
        )
        found = answer.get("transactions") or []
        return found[0]["id"] if found else None

    def _flush_confirm(self, items: list[tuple[DeskAction, str]]) -> None:
        # One detail per booking per call (Wix refuses DUPLICATED_BOOKINGS): extras wait a round.
        seen: set[str] = set()
        batch: list[tuple[DeskAction, str]] = []
        for action, status in items:
            booking_id = action.booking.wix_id if action.booking else ""
            if booking_id in seen:
                self.later(action, "another payment of this booking went first", count=False)
                continue
            seen.add(booking_id)
            batch.append((action, status))
        for chunk in _chunks(batch, BULK_CONFIRM):
            actions = [a for a, _ in chunk]
            self.extend_lease(actions)
            details = [{"bookingId": a.booking.wix_id, "paymentStatus": s} for a, s in chunk]  # type: ignore[union-attr]
            try:
                answer = self.call(bookings.bulk_confirm_or_decline_booking, details=details, return_entity=True)
            except Exception as err:  # noqa: BLE001 - sorted by fail(); repeating it is harmless
                for action in actions:
                    self.fail(action, err)
                continue
            by_index = {
                (r.get("itemMetadata") or {}).get("originalIndex", i): r
                for i, r in enumerate(answer.get("results") or [])
            }
            for index, (action, status) in enumerate(chunk):
                result = by_index.get(index)
                meta = (result or {}).get("itemMetadata") or {}
                if result is None:
                    self.later(action, "Bulk Confirm Or Decline gave no result for this booking")
                elif meta.get("success"):
                    item = result.get("item") or {}
                    if item:
                        _absorb_booking(action.booking, item)
                    if item.get("status") == "DECLINED":
                        # Confirm Or Decline declines an unpaid booking that overbooks its session.
                        self.attention(
                            action,
                            "DECLINED",
                            "Wix declined the booking: the session is over capacity. Book them in again as manager, "
                            "or remove this.",
                        )
                        continue
                    self.synced(action, confirmed_payment_status=status)
                else:
                    error = meta.get("error") or {}
                    code = str(error.get("code") or "REJECTED")
                    self.attention(action, code, _message(code, action, None, error.get("description")), str(error))

    # -- phase 4: attendance -----------------------------------------------------------------------

    def attendance(self, actions: list[DeskAction]) -> None:
        newest: dict[tuple[int | None, int | None], DeskAction] = {}
        for action in actions:
            newest[(action.booking_id, action.session_id)] = action
        # Newer marks of the same people that can no longer be undone replace the older ones.
        later_ones = set(
            DeskAction.objects.filter(kind=Kind.ATTENDANCE, booking_id__in={a.booking_id for a in actions})
            .filter(
                Q(status__in=(Status.RUNNING, Status.SYNCED, Status.NEEDS_ATTENTION))
                | Q(status=Status.QUEUED, run_after__lte=timezone.now())
            )
            .values_list("booking_id", "session_id", "pk")
        )
        send: list[DeskAction] = []
        for action in actions:
            key = (action.booking_id, action.session_id)
            superseded = newest[key] is not action or any(
                b == action.booking_id and s == action.session_id and pk > action.pk for b, s, pk in later_ones
            )
            if superseded:
                # A later check-in / no-show of the same person replaces this one.
                self.synced(action, superseded=True)
                continue
            booking, session = action.booking, action.session
            if booking is None or session is None or not booking.wix_id:
                self.attention(action, "booking_missing", "The booking isn't in Wix — remove this.")
                continue
            if not session.wix_id or session.service.type == Service.Type.APPOINTMENT:
                # An appointment has no calendar event we know the id of: attendance stays local.
                self.synced(action, local_only=True)
                continue
            send.append(action)
        for chunk in _chunks(send, BULK_ATTENDANCE):
            self.extend_lease(chunk)
            details = [
                {
                    "attendance": {
                        "bookingId": a.booking.wix_id,  # type: ignore[union-attr]
                        "eventId": a.session.wix_id,  # type: ignore[union-attr]
                        "status": a.params.get("status"),
                        "numberOfAttendees": int(a.params.get("attendees") or 1),
                    }
                }
                for a in chunk
            ]
            try:
                answer = self.call(attendance.bulk_set_attendance, attendance_details=details, return_full_entity=True)
            except Exception as err:  # noqa: BLE001 - sorted by fail(); an upsert, safe to repeat
                for action in chunk:
                    self.fail(action, err)
                continue
            by_index = {
                (r.get("itemMetadata") or {}).get("originalIndex", i): r
                for i, r in enumerate(answer.get("results") or [])
            }
            for index, action in enumerate(chunk):
                result = by_index.get(index)
                meta = (result or {}).get("itemMetadata") or {}
                if result is None:
                    self.later(action, "Bulk Set Attendance gave no result for this booking")
                elif meta.get("success"):
                    mirror.attendance.attendance_absorb(
                        booking_id=action.booking_id,
                        session_id=action.session_id,
                        item=result.get("item") or {"id": meta.get("id")},
                    )
                    self.synced(action, attendance_id=meta.get("id"))
                else:
                    error = meta.get("error") or {}
                    code = str(error.get("code") or "REJECTED")
                    self.attention(action, code, _message(code, action, None, error.get("description")), str(error))

    # -- phase 5: reversals ------------------------------------------------------------------------

    def reversals(self, actions: list[DeskAction]) -> None:
        confirm: list[tuple[DeskAction, str]] = []
        for action in actions:

            def step(action: DeskAction = action) -> None:
                booking = action.booking
                if booking is None or not booking.wix_id:
                    raise _Attention("booking_missing", "The booking isn't in Wix — remove this.")
                original = DeskAction.objects.filter(pk=action.params.get("reverses")).first()
                if action.kind == Kind.CANCEL_BOOKING:
                    self._cancel(action)
                elif action.kind == Kind.VOID_PLAN_CHARGE:
                    self._void_plan(action, original, confirm)
                else:
                    self._refund(action, original, confirm)

            self.guarded(action, step)
        self._flush_confirm(confirm)

    def _cancel(self, action: DeskAction) -> None:
        booking = action.booking
        assert booking is not None
        current: Json | None = None
        if action.steps.get("cancel_sent") or booking.revision is None:
            current = self._booking_get(booking.wix_id or "")
            if current.get("status") == "CANCELED":
                _absorb_booking(booking, current)
                self.synced(action)
                return
        revision = str((current or {}).get("revision") or booking.revision)
        self.save_steps(action, cancel_sent=True)
        try:
            answer = self.call(bookings.cancel_booking, booking_id=booking.wix_id or "", revision=revision)
        except WixConflict:
            # Someone changed the booking since we last saw it: read its revision and go again.
            current = self._booking_get(booking.wix_id or "")
            if current.get("status") == "CANCELED":
                _absorb_booking(booking, current)
                self.synced(action)
                return
            answer = self.call(
                bookings.cancel_booking, booking_id=booking.wix_id or "", revision=str(current["revision"])
            )
        _absorb_booking(booking, answer["booking"])
        self.synced(action)

    def _booking_get(self, booking_id: str) -> Json:
        answer = self.call(
            extended_bookings.query_extended_bookings,
            query={"filter": {"id": booking_id}, "cursorPaging": {"limit": 1}},
        )
        found = answer.get("extendedBookings") or []
        if not found:
            raise _Attention("BOOKING_NOT_FOUND", MESSAGES["BOOKING_NOT_FOUND"])
        return found[0]["booking"]

    def _void_plan(
        self, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]
    ) -> None:
        mode = (original.steps.get("mode") if original else None) or self._mode(action)
        self.save_steps(action, mode=mode)
        if mode != "ecom":
            transaction_id = (original.steps if original else {}).get("redemption_id")
            if transaction_id and not action.steps.get("redemption_cancelled"):
                try:
                    self.call(benefit_programs.cancel_redemption, transaction_id=transaction_id)
                except WixPreconditionFailed as err:
                    if err.code != "REDEMPTION_ALREADY_CANCELED":
                        raise
                self.save_steps(action, redemption_cancelled=True)
            confirm.append((action, "NOT_PAID"))
            return
        order_id = (original.steps if original else {}).get("order_id") or self._order_of(action)[0]
        line_id = (original.steps if original else {}).get("line_item_id")
        if not order_id:
            raise _Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
        if not line_id:
            order = self.call(orders.get_order, order_id=order_id)["order"]
            booking_id = action.booking.wix_id if action.booking else None
            line_id = next(
                (
                    li["id"]
                    for li in order.get("lineItems") or []
                    if (li.get("catalogReference") or {}).get("catalogItemId") == booking_id
                ),
                None,
            )
        payments = self._membership_payments(order_id, line_id or "")
        if not payments:
            if action.steps.get("void_sent"):
                self._refresh_order(order_id)
                self.synced(action)
                return
            raise _Attention("PAYMENT_NOT_FOUND", MESSAGES["PAYMENT_NOT_FOUND"])
        self.save_steps(action, void_sent=True)
        self.call(orders.void_memberships, order_id=order_id, payment_ids=[p["id"] for p in payments])
        Payment.objects.filter(wix_id__in=[p["id"] for p in payments]).update(status=Payment.Status.VOIDED)
        self._refresh_order(order_id)
        self.synced(action, voided_payment_ids=[p["id"] for p in payments])

    def _refund(self, action: DeskAction, original: DeskAction | None, confirm: list[tuple[DeskAction, str]]) -> None:
        mode = (original.steps.get("mode") if original else None) or self._mode(action)
        self.save_steps(action, mode=mode)
        if mode != "ecom":
            confirm.append((action, "REFUNDED"))
            return
        order_id = (original.steps if original else {}).get("order_id") or self._order_of(action)[0]
        if not order_id:
            raise _Attention("ORDER_NOT_FOUND", MESSAGES["ORDER_NOT_FOUND"])
        order = self.call(orders.get_order, order_id=order_id)["order"]
        status = order.get("paymentStatus")
        if status in ("FULLY_REFUNDED", "PARTIALLY_REFUNDED") or order.get("status") == "CANCELED":
            mirror.orders.order_absorb(order)
            self.synced(action)
            return
        if status == "NOT_PAID":
            answer = self.call(orders.cancel_order, order_id=order_id)
            mirror.orders.order_absorb(answer.get("order") or order)
            self.synced(action, order_cancelled=True)
            return
        # UNCONFIRMED: our contract has no public "record an offline refund" for eCommerce orders.
        raise _Attention(
            "refund_in_dashboard",
            "Give the money back, record the refund on the order in the Wix dashboard, then tap Retry.",
        )

    def _refresh_order(self, order_id: str) -> None:
        order = self.call(orders.get_order, order_id=order_id)["order"]
        mirror.orders.order_absorb(order)


# --- the desk's rule for Wix's answers ---------------------------------------------------------------


def _absorb_booking(booking: Booking | None, found: Json) -> None:
    """Wix's answer about a booking: keep its revision; take its statuses when the desk has no
    other change of it on the way."""
    if booking is None:
        return
    others = DeskAction.objects.filter(
        booking=booking, status__in=(Status.QUEUED, Status.NEEDS_ATTENTION), kind__in=(*MONEY_KINDS, *REVERSAL_KINDS)
    ).exists()
    mirror.bookings.booking_absorb(booking=booking, found=found, statuses=not others)


# --- small helpers ---------------------------------------------------------------------------------


def _is_business(err: WixError) -> bool:
    return isinstance(err, WixPreconditionFailed | WixValidationError | WixNotFound | WixConflict | WixBadRequest)


def _message(code: str, action: DeskAction, err: WixError | None, description: str | None = None) -> str:
    plan = action.params.get("plan_name") or "the plan"
    template = MESSAGES.get(code)
    if template:
        return template.format(plan=plan)
    said = description or (err.message if err is not None else "") or code
    return f"Wix refused this ({code}): {said}"[:500]


def _violated_indexes(err: WixValidationError, prefix: str) -> set[int]:
    found: set[int] = set()
    for violation in err.violations:
        text = str(violation.get("field") or "")
        if text.startswith(prefix + "["):
            try:
                found.add(int(text[len(prefix) + 1 : text.index("]")]))
            except ValueError:
                continue
    return found


def _contact_info(contact: Contact) -> Json:
    info: Json = {"name": {k: v for k, v in (("first", contact.first_name), ("last", contact.last_name)) if v}}
    if contact.email:
        info["emails"] = {"items": [{"tag": "MAIN", "email": contact.email, "primary": True}]}
    if contact.phone:
        info["phones"] = {"items": [{"tag": "MOBILE", "phone": contact.phone, "primary": True}]}
    return info


def _contact_details(contact: Contact) -> Json:
    details = {
        "contactId": contact.wix_id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "email": contact.email,
        "phone": contact.phone,
    }
    return {k: v for k, v in details.items() if v}


def _payment_option(action: DeskAction) -> str:
    """OFFLINE, or MEMBERSHIP when a plan charge waits on this walk-in."""
    plan = DeskAction.objects.filter(
        depends_on=action, kind=Kind.PLAN_CHARGE, status__in=DeskAction.LIVE_STATUSES
    ).exists() or (action.booking is not None and action.booking.selected_payment_option == "MEMBERSHIP")
    return "MEMBERSHIP" if plan else "OFFLINE"


def _booking_location_type(time_slot_type: str | None) -> str:
    # Time slots say BUSINESS / CUSTOM / CUSTOMER; Create Booking wants OWNER_BUSINESS / … (CONTRACT.md §7.3).
    return {"BUSINESS": "OWNER_BUSINESS", "CUSTOM": "OWNER_CUSTOM", "CUSTOMER": "CUSTOM"}.get(
        time_slot_type or "BUSINESS", "OWNER_BUSINESS"
    )


def _place(action: DeskAction) -> tuple[str, str]:
    """The Query Extended Bookings filter that finds this walk-in's booking among few others."""
    booking = action.booking
    assert booking is not None
    kind = action.params.get("type")
    if kind == "class" and booking.session and booking.session.wix_id:
        return "bookedEntity.slot.eventId", booking.session.wix_id
    if kind == "course" and booking.service.schedule_id:
        return "bookedEntity.schedule.scheduleId", booking.service.schedule_id
    return "contactDetails.contactId", booking.contact.wix_id or ""


def _same_place(action: DeskAction, found: Json) -> bool:
    booking = action.booking
    assert booking is not None
    entity = found.get("bookedEntity") or {}
    kind = action.params.get("type")
    if kind == "class":
        return (entity.get("slot") or {}).get("eventId") == (booking.session.wix_id if booking.session else None)
    if kind == "course":
        return (entity.get("schedule") or {}).get("scheduleId") == booking.service.schedule_id
    slot = entity.get("slot") or {}
    wanted = action.params.get("slot") or {}
    return (
        not slot.get("eventId")
        and slot.get("serviceId") == booking.service.wix_id
        and (slot.get("resource") or {}).get("id") == wanted.get("resource_id")
        and str(slot.get("startDate") or "")[:16] == str(wanted.get("start") or "")[:16]
    )


def _participants(booking: Json) -> int:
    if booking.get("totalParticipants") is not None:
        return int(booking["totalParticipants"])
    choices = (booking.get("participantsChoices") or {}).get("serviceChoices") or []
    return sum(int(c.get("numberOfParticipants") or 0) for c in choices)


def _benefit_key(pool: Json | None) -> str | None:
    for benefit in ((pool or {}).get("details") or {}).get("benefits") or []:
        if benefit.get("benefitKey") and benefit.get("providerAppId", BOOKINGS_APP_ID) == BOOKINGS_APP_ID:
            return benefit["benefitKey"]
    return None


def _line_summary(line: Json) -> Json:
    name = line.get("productName")
    return {
        "name": name.get("original") if isinstance(name, dict) else (name or ""),
        "quantity": line.get("quantity") or 1,
        "price": ((line.get("totalPriceAfterTax") or line.get("price") or {}).get("amount")),
        "paymentOption": line.get("paymentOption") or "",
    }


def _local(value: Any) -> str:
    """A slot time as Create Booking wants it: local ``YYYY-MM-DDThh:mm:ss``."""
    text = str(value or "")
    return text[:19]


# Set when Wix answered the bulk mark-as-paid path with a plain 404 (no such route).
_BULK_MARK_PAID_MISSING = False


def _bulk_mark_paid_missing() -> None:
    global _BULK_MARK_PAID_MISSING
    logger.warning("Bulk Mark Orders As Paid is not routed by this Wix; paying orders one by one")
    _BULK_MARK_PAID_MISSING = True


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
