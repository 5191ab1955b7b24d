"""Settle a roster: a suggested resolution per participant (:func:`settle_suggestions`), checked
before staff confirm (:func:`settle_check`), then the whole roster committed in one transaction
(:func:`settle_commit`: validate every row, build each row's changes with the same builders as
the single-row services, write them in bulk). The commit's actions share a ``batch_id``: undone
or reversed as one (``corrections.batch_undo``, ``batch_reverse``).

The owes list settles bookings of many sessions at once the same way (:func:`bookings_settle_check`,
:func:`bookings_settle_commit`): the same read, rules, builders and bulk writes, money only (no
check-ins), its batch undone as one by ``corrections.batch_undo`` without a session."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from bookings_app import money, selectors
from bookings_app.models import Attendance, AuditEntry, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import ledger
from bookings_app.services.audit import audit_entry
from bookings_app.services.desk import attendance as attendance_flow
from bookings_app.services.desk import payments
from bookings_app.services.errors import BookingError

Kind = DeskAction.Kind

RESOLUTIONS = ("plan", "cash", "card", "check", "owes", "skip", "paid")
MONEY_RESOLUTIONS = ("plan", "cash", "card", "check", "owes")
METHOD_RESOLUTIONS = ("cash", "card", "check")


@dataclass
class SettleRow:
    booking: Booking
    resolution: str  # "plan" | "cash" | "card" | "check" | "owes" | "paid"
    balance: BenefitBalance | None
    amount_due: Decimal
    check_in: bool = True
    earlier: str = ""  # what the desk chose before: "later" (pays another day), "part" (part paid)


@dataclass
class SettleChoice:
    booking_id: int
    resolution: str  # "plan" | "cash" | "card" | "check" | "owes" | "skip"
    balance_id: int | None = None
    amount: Decimal | None = None
    check_in: bool | None = None


def settle_suggestions(*, session: Session) -> list[SettleRow]:
    """One row per live booking on the roster with a suggested resolution, respecting what the
    desk chose before: ``paid`` when nothing is due; ``owes`` when staff marked it "Later"; a
    part payment's method for what is left; ``plan`` when an eligible plan has credit; else
    ``cash`` at the price due. A fixed number of queries however many rows."""
    roster = selectors.roster_read(session=session)
    bookings = [b for b in roster.bookings if b.status in Booking.ACTIVE_STATUSES]
    inflight = money.inflight_by_booking([b.pk for b in bookings])
    synced = money.synced_payments([b for b in bookings if not roster.order_balances(b.pk)], inflight)
    balances = _balances_by_contact([b.contact_id for b in bookings])
    latest = _latest_money_actions([b.pk for b in bookings])
    out = []
    for booking in bookings:
        charged_to_plan = roster.charged_to_plan(booking)
        order_balances = roster.order_balances(booking.pk)
        due = money.due_from_roster(
            booking,
            roster_amount=money.roster_due(
                booking=booking,
                order_balances=order_balances,
                settled=charged_to_plan or booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES,
            ),
            due_from_order=bool(order_balances),
            charged_to_plan=charged_to_plan,
            inflight=inflight.get(booking.pk, []),
            synced=synced,
        )
        balance = money.best_balance(booking, balances.get(booking.contact_id, []))
        action = latest.get(booking.pk)
        earlier = _earlier_choice(booking, action)
        if due <= 0:
            resolution = "paid"
        elif earlier == "later":
            resolution = "owes"
        elif earlier == "part":
            method = str((action.params or {}).get("method", "")).lower() if action else ""
            resolution = method if method in METHOD_RESOLUTIONS else "cash"
        elif balance is not None:
            resolution = "plan"
        else:
            resolution = "cash"
        out.append(
            SettleRow(
                booking=booking,
                resolution=resolution,
                balance=balance,
                amount_due=max(due, Decimal("0")),
                check_in=roster.attendance_status(booking.pk) != Attendance.Status.NOT_ATTENDED,
                earlier=earlier if due > 0 else "",
            )
        )
    return out


def _latest_money_actions(booking_ids: list[int]) -> dict[int, DeskAction]:
    """Booking pk → the desk's latest money action on it that still stands (on its way or in
    Wix; not undone or removed). One query."""
    latest: dict[int, DeskAction] = {}
    for action in (
        DeskAction.objects.filter(booking_id__in=booking_ids, kind__in=money.CHAINED_KINDS)
        .exclude(status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED))
        .order_by("pk")
    ):
        latest[action.booking_id] = action
    return latest


def _earlier_choice(booking: Booking, action: DeskAction | None) -> str:
    """What the desk chose for ``booking`` before: "later" when its latest money action is a
    pay-later, "part" when it was part paid; "" otherwise."""
    if action is not None and action.kind == Kind.PAY_LATER:
        return "later"
    if action is not None and action.kind == Kind.PAYMENT and not (action.params or {}).get("full", True):
        return "part"
    if booking.payment_status == Booking.PaymentStatus.PARTIALLY_PAID:
        return "part"
    return ""


def _balances_by_contact(contact_ids: list[int]) -> dict[int, list[BenefitBalance]]:
    out: dict[int, list[BenefitBalance]] = defaultdict(list)
    for balance in (
        BenefitBalance.objects.filter(member__contact_id__in=contact_ids, status__iexact="ACTIVE")
        .select_related("member", "plan_order")
        .order_by("pk")
    ):
        out[balance.member.contact_id].append(balance)
    return out


# --- commit ----------------------------------------------------------------------------------------


@dataclass
class _Locked:
    """What a settle reads, with the bookings and balances row-locked."""

    bookings: dict[int, Booking]
    balances: dict[int, BenefitBalance]
    attendance: dict[int, Attendance]
    inflight: dict[int, list[DeskAction]]
    dues: dict[int, Decimal]
    latest: dict[int, DeskAction]  # the latest money action that still stands


@dataclass
class _Batch:
    """A settle's changes, built in memory, written in bulk."""

    actions: list[DeskAction] = field(default_factory=list)
    audits: list[AuditEntry] = field(default_factory=list)
    money_changed: dict[int, Booking] = field(default_factory=dict)  # payment status and option changed
    attendance_changed: dict[int, Booking] = field(default_factory=dict)  # only pending_sync changes
    new_attendance: list[Attendance] = field(default_factory=list)
    changed_attendance: list[Attendance] = field(default_factory=list)
    credits_used: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def settle_commit(*, user: Any, session: Session, rows: list[SettleChoice], idempotency_key: str) -> list[DeskAction]:
    """Commit a whole roster in one transaction: the money choice and the check-in of every row.

    Every row is validated first; if any is wrong nothing is written and ``BookingError``
    ``settle_invalid`` lists them (``.row_errors``: booking id → message). The actions share
    ``batch_id = idempotency_key``, so committing twice returns the first commit's actions.
    Also raises ``duplicate_request`` (the same rows committed from another screen at once).

    A fixed number of queries however many rows (SQLite's cap on query variables splits the
    bulk inserts into a few more batches): what the rows depend on is read in bulk with the
    bookings and balances locked, the changes are built in memory with the builders of
    :func:`payment_record`, :func:`plan_charge`, :func:`pay_later` and the check-in all, then
    written with bulk inserts and updates.
    """
    return _commit(user=user, session=session, rows=rows, idempotency_key=idempotency_key)


def bookings_settle_commit(*, user: Any, rows: list[SettleChoice], idempotency_key: str) -> list[DeskAction]:
    """:func:`settle_commit` for bookings of any sessions (the owes list): the money choice of
    every row (``cash``, ``card``, ``check``, ``plan``; no check-ins), all or nothing, one batch
    (``batch_id = idempotency_key``) that ``corrections.batch_undo`` takes back as one.

    Raises ``BookingError`` ``settle_invalid`` (``.row_errors``), ``key_reused``,
    ``duplicate_request``, as :func:`settle_commit` does.
    """
    _money_only(rows)
    return _commit(user=user, session=None, rows=rows, idempotency_key=idempotency_key)


def bookings_settle_check(*, rows: list[SettleChoice]) -> None:
    """What :func:`bookings_settle_commit` would refuse, found before staff confirm (reads only)."""
    _money_only(rows)
    bookings = {
        b.pk: b
        for b in Booking.objects.filter(pk__in=[r.booking_id for r in rows]).select_related(
            "contact", "service", "session"
        )
    }
    _validate(rows, _read(None, rows, bookings, lock=False))


def _money_only(rows: list[SettleChoice]) -> None:
    errors = {
        r.booking_id: "Choose cash, card, cheque or their plan."
        for r in rows
        if (r.resolution or "").lower() not in (*METHOD_RESOLUTIONS, "plan") or r.check_in is not None
    }
    if not rows:
        raise BookingError("Choose at least one booking to settle.", code="settle_invalid")
    if errors:
        exc = BookingError(
            "Nothing was saved — only cash, card, cheque or a plan can be taken here.", code="settle_invalid"
        )
        exc.row_errors = errors  # type: ignore[attr-defined]
        raise exc


def _commit(*, user: Any, session: Session | None, rows: list[SettleChoice], idempotency_key: str) -> list[DeskAction]:
    ledger.require_key(idempotency_key)
    digest = _choices_digest(rows)
    with transaction.atomic():
        done = _done_unless_changed(idempotency_key, session, digest)
        if done:
            return done
        where = ledger.roster_q(session) if session is not None else Q()
        bookings = {
            b.pk: b
            for b in Booking.objects.select_for_update(of=("self",))
            .filter(where, pk__in=[r.booking_id for r in rows])
            .select_related("contact", "service", "session")
            .order_by("pk")  # one lock order everywhere: no deadlock between two settles
        }
        done = _done_unless_changed(idempotency_key, session, digest)
        if done:  # the same form, committed from another screen while we waited for the rows
            return done
        locked = _read(session, rows, bookings)
        _validate(rows, locked, on_roster=session is not None)
        batch = _build(user=user, session=session, rows=rows, locked=locked, batch_id=idempotency_key)
        if not batch.actions:
            return []
        for action in batch.actions:
            action.params = {**(action.params or {}), "settle_choices": digest}
        _write(user=user, session=session, rows=rows, batch=batch, locked=locked, batch_id=idempotency_key)
    return batch.actions


def _choices_digest(rows: list[SettleChoice]) -> str:
    """A short digest of what the form chose, row by row: the same form sent again has the same."""
    text = "|".join(
        f"{r.booking_id}:{r.resolution}:{r.balance_id or ''}:{'' if r.amount is None else r.amount}:{r.check_in}"
        for r in sorted(rows, key=lambda r: r.booking_id)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _done_unless_changed(key: str, session: Session | None, digest: str) -> list[DeskAction]:
    """What an earlier commit of this form made; refused (``key_reused``) when the form now chooses
    otherwise — a repeated key with other content is never answered as done."""
    done = ledger.batch_done(key, session=session)
    if any((a.params or {}).get("settle_choices") not in (None, digest) for a in done):
        raise BookingError(
            "This settle was already committed with other choices. Nothing was changed: reload the page "
            "to see what was recorded, then settle what is left.",
            code="key_reused",
        )
    return done


def settle_check(*, session: Session, rows: list[SettleChoice]) -> None:
    """What :func:`settle_commit` would refuse, found before staff confirm: reads only, locks
    nothing. Raises ``BookingError`` ``settle_invalid`` (``.row_errors``) as the commit would."""
    bookings = {
        b.pk: b
        for b in Booking.objects.filter(ledger.roster_q(session), pk__in=[r.booking_id for r in rows]).select_related(
            "contact", "service", "session"
        )
    }
    _validate(rows, _read(session, rows, bookings, lock=False))


def _read(
    session: Session | None, rows: list[SettleChoice], bookings: dict[int, Booking], *, lock: bool = True
) -> _Locked:
    """What a settle reads: the plan balances the rows name (row-locked with ``lock``), the
    attendance at ``session`` (none without one), what is due and what the desk chose before."""
    balances_qs = BenefitBalance.objects.filter(pk__in={r.balance_id for r in rows if r.balance_id})
    if lock:
        balances_qs = balances_qs.select_for_update(of=("self",))
    balances = {b.pk: b for b in balances_qs.select_related("member").order_by("pk")}
    attendance = (
        {
            a.booking_id: a
            for a in Attendance.objects.filter(session=session, booking_id__in=[r.booking_id for r in rows])
        }
        if session is not None
        else {}
    )
    inflight = money.inflight_by_booking(list(bookings))
    dues = money.amounts_due(list(bookings.values()), inflight=inflight)
    return _Locked(
        bookings=bookings,
        balances=balances,
        attendance=attendance,
        inflight=inflight,
        dues=dues,
        latest=_latest_money_actions(list(bookings)),
    )


def _validate(rows: list[SettleChoice], locked: _Locked, *, on_roster: bool = True) -> None:
    """Every row's choice against the locked rows; ``settle_invalid`` listing those that are wrong."""
    errors: dict[int, str] = {}
    credits_used: dict[int, int] = defaultdict(int)
    seen: set[int] = set()
    for choice in rows:
        booking = locked.bookings.get(choice.booking_id)
        if booking is None or choice.booking_id in seen:
            errors[choice.booking_id] = (
                "Not on this roster (or listed twice)." if on_roster else "No such booking (or listed twice)."
            )
            continue
        seen.add(choice.booking_id)
        who = str(booking.contact)
        resolution = (choice.resolution or "").lower()
        due = locked.dues.get(booking.pk, Decimal("0"))
        if resolution not in RESOLUTIONS:
            errors[booking.pk] = f"{who}: choose plan, cash, card, cheque, owes or skip."
        elif booking.status not in Booking.ACTIVE_STATUSES and resolution != "skip":
            errors[booking.pk] = f"{who}: the booking is {booking.get_status_display().lower()}."
        elif resolution in MONEY_RESOLUTIONS and due <= 0:
            errors[booking.pk] = f"{who}: nothing is due."
        elif resolution == "plan":
            balance = locked.balances.get(choice.balance_id or 0)
            problem = (
                ("plan_not_eligible", "Choose one of their plans.")
                if balance is None
                else money.plan_problem(booking, balance, balance.member, already_used=credits_used[balance.pk])
            )
            if problem is not None:
                errors[booking.pk] = f"{who}: {problem[1]}"
            else:
                credits_used[balance.pk] += money.credits_needed(booking)
        elif resolution in METHOD_RESOLUTIONS:
            amount = due if choice.amount is None else money.parse_amount(choice.amount)
            if amount is None or amount <= 0 or amount > due:
                limit = money.format_money(due, booking.service.currency)
                errors[booking.pk] = f"{who}: enter an amount above 0 and at most {limit}."
    if errors:
        exc = BookingError(
            f"Nothing was saved — fix {len(errors)} row{'s' if len(errors) != 1 else ''}: "
            + "; ".join(errors.values()),
            code="settle_invalid",
        )
        exc.row_errors = errors  # type: ignore[attr-defined]
        raise exc


def _build(*, user: Any, session: Session | None, rows: list[SettleChoice], locked: _Locked, batch_id: str) -> _Batch:
    """Every row's changes, in memory: a money change (the single-row services' builders) and
    the check-in; what each action waits for as ``ledger.money_dependency`` /
    ``ledger.walk_in_dependency`` would say."""
    walk_ins = ledger.walk_ins_by_booking(locked.bookings.values())
    now = timezone.now()
    batch = _Batch()
    for choice in rows:
        booking = locked.bookings[choice.booking_id]
        resolution = choice.resolution.lower()
        key = f"{batch_id}:{booking.pk}"
        live = locked.inflight.get(booking.pk)
        common = {
            "user": user,
            "booking": booking,
            "due": locked.dues.get(booking.pk, Decimal("0")),
            "session": booking.session or session,
            "depends_on": live[-1] if live else walk_ins.get(booking.pk),
            "now": now,
            "batch_id": batch_id,
        }
        change: payments.MoneyChange | None = None
        if resolution in METHOD_RESOLUTIONS:
            amount = common["due"] if choice.amount is None else money.parse_amount(choice.amount)
            assert amount is not None
            change = payments.payment_change(method=resolution.upper(), amount=amount, key=f"{key}:pay", **common)
        elif resolution == "plan":
            balance = locked.balances[choice.balance_id or 0]
            change = payments.plan_charge_change(balance=balance, key=f"{key}:plan", **common)
            batch.credits_used[balance.pk] += money.credits_needed(common["booking"])
        elif resolution == "owes" and _earlier_choice(booking, locked.latest.get(booking.pk)) != "later":
            # Marked "Later" already: it stands; a second one would only say it twice.
            change = payments.pay_later_change(key=f"{key}:later", **common)
        if change is not None:
            batch.actions.append(change.action)
            batch.audits.append(change.audit)
            batch.money_changed[booking.pk] = booking
        if session is not None and choice.check_in is not None and booking.status in Booking.ACTIVE_STATUSES:
            checked = attendance_flow.attendance_change(
                user=user,
                booking=booking,
                session=session,
                status=Attendance.Status.ATTENDED if choice.check_in else Attendance.Status.NOT_ATTENDED,
                current=locked.attendance.get(booking.pk),
                key=f"{key}:attendance",
                depends_on=walk_ins.get(booking.pk),
                now=now,
                batch_id=batch_id,
            )
            if checked is not None:
                (batch.new_attendance if checked.is_new else batch.changed_attendance).append(checked.row)
                batch.actions.append(checked.action)
                batch.attendance_changed[booking.pk] = booking
    return batch


def _write(
    *, user: Any, session: Session | None, rows: list[SettleChoice], batch: _Batch, locked: _Locked, batch_id: str
) -> None:
    """The batch in bulk: one UPDATE per distinct new state (a handful, however many rows) —
    cheaper than bulk_update's CASE per row, and the rows are locked, so nothing else changed them."""
    ledger.save_actions(batch.actions)
    Attendance.objects.bulk_create(batch.new_attendance)
    ledger.update_in_groups(Attendance, batch.changed_attendance, ("status", "number_of_attendees"))
    changed = {**batch.attendance_changed, **batch.money_changed}
    for booking in changed.values():
        booking.pending_sync = True
    ledger.update_in_groups(
        Booking, list(batch.money_changed.values()), ("payment_status", "selected_payment_option", "pending_sync")
    )
    ledger.update_in_groups(
        Booking, [b for pk, b in changed.items() if pk not in batch.money_changed], ("pending_sync",)
    )
    by_credits_used: dict[int, list[int]] = defaultdict(list)
    for balance in locked.balances.values():
        if batch.credits_used.get(balance.pk) and not balance.unlimited:
            by_credits_used[batch.credits_used[balance.pk]].append(balance.pk)
    for used, pks in by_credits_used.items():
        BenefitBalance.objects.filter(pk__in=pks).update(remaining_credits=F("remaining_credits") - used)
    if session is not None:
        what, obj_type, obj_id = f"Settled {session.title or session}", "session", session.pk
    else:
        what, obj_type, obj_id = "Settled from the owes list", "batch", batch_id
    batch.audits.append(
        audit_entry(
            user=user,
            action="settle.commit",
            obj_type=obj_type,
            obj_id=obj_id,
            summary=f"{what}: {_count(len(rows), 'row')}, {_count(len(batch.actions), 'action')}",
            after={"batch": batch_id, "actions": len(batch.actions)},
        )
    )
    AuditEntry.objects.bulk_create(batch.audits)
    ledger.schedule_push(batch.actions[0].run_after)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
